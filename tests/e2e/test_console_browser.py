"""The console in a real browser, on real nodes: each language, each kind of form.

A Form E is shared on the Chinese console and decided on the Vietnamese one,
in Chinese, Vietnamese and English; an ePhyto certificate, its quarantine
result and the recognition decision, a lane notice and an alert's follow-up
go through their forms; a distress alert comes onto the open alerts board,
on top, without a reload; in each language, the importing side refuses a
truck entry and notifies a non-compliance, and an operator reads the delivery
to a counterpart that is down; the Form E fill-in form says beside its HS box
that the descriptions are English. The nodes serve the whole module: each run
opens cases of its own. Debian's Chromium is driven headless (never a downloaded
browser); each page is checked with axe-core (vendored in ``tests/browser/``)
and saved as a screenshot under ``test-artifacts/console/``. The storage layer
is covered on both databases by ``tests/integration/test_console.py``; here
the browser is what is tested, on SQLite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from crossborder.adapters.ephyto import read_certificate
from crossborder.adapters.oauth.keys import public_jwks
from crossborder.console.reading import Reader
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.domain.lane import LaneNotice
from crossborder.domain.quarantine import QuarantineResult
from crossborder.services import lane, quarantine
from crossborder.services.alerts import raise_alert
from crossborder.services.node import Node
from crossborder.services.officers import set_password
from crossborder.services.outbox_review import list_outbox
from crossborder.services.registry import connect_peer
from tests.conftest import Clock
from tests.factories import (
    EXAMPLES,
    connect,
    free_port,
    make_node,
    register_staff,
    serving,
    wait_for,
)

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[1] / "browser" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect, sync_playwright


class Nodes(NamedTuple):
    cn: Node
    vn: Node
    #: Vietnam's plant protection: the exporting side of a consignment's quarantine.
    ppd: Node


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    """Three nodes serving for every test of the module: their cases never meet."""
    folder = tmp_path_factory.mktemp("console")
    clock = Clock()

    def node(name: str, side: str, **overrides: Any) -> Node:
        made = make_node(
            side,
            f"sqlite:///{folder / name}.db",
            folder / name,
            clock,
            console_secure_cookie=False,
            **overrides,
        )
        for officer in register_staff(made).values():
            set_password(made, officer, PASSWORD, by="operator")
        return made

    cn, vn = node("cn", "cn"), node("vn", "vn", auto_accept_certificates=False)
    ppd = node("ppd", "vn", agency="VN-PPD")
    for other in (vn, ppd):
        connect(cn, other, folder)
        connect(other, cn, folder)
    with serving(cn), serving(vn), serving(ppd):
        yield Nodes(cn, vn, ppd)
    for made in (cn, vn, ppd):
        made.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--disable-background-networking",
                "--disable-sync",
                "--disable-component-update",
            ],
        )
        yield chromium
        chromium.close()


def accessible(page: Page, name: str) -> None:
    """axe-core finds nothing on the page; a screenshot of it is kept either way."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.evaluate(AXE.read_text("utf-8"))
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    assert violations == [], name


def signed_in(browser: Browser, node: Node, locale: str, officer: str = "officer") -> Page:
    context = browser.new_context(locale=locale, base_url=node.settings.base_url)
    page = context.new_page()
    page.goto("/console/cases")
    page.fill("#officer", officer)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/cases")
    return page


def until_shown(page: Page, url: str, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if text in page.content():
            return
        assert time.monotonic() < deadline, f"{text!r} not shown at {url}"
        time.sleep(0.2)


def submit(page: Page, action: str) -> None:
    """Send the form that posts to a URL ending in ``action``, whatever its button says."""
    page.click(f'form[action$="{action}"] button[type=submit]')


def shown_case(page: Page) -> str:
    """The case a page links to first after an action (or is about)."""
    page.wait_for_url("**/console/cases/*")
    return page.url.split("?")[0].rsplit("/", 1)[1]


def a_file(folder: Path, name: str, content: dict[str, Any]) -> str:
    path = folder / name
    path.write_text(json.dumps(content, ensure_ascii=False), "utf-8")
    return str(path)


#: Each language of the console, as a browser asks for it.
BROWSER_LOCALES = {"zh_Hans": "zh-CN", "vi": "vi-VN", "en": "en-GB"}


@pytest.mark.parametrize("lang", list(BROWSER_LOCALES))
def test_a_form_e_shared_on_one_console_is_decided_on_the_other(
    nodes: Nodes, browser: Browser, tmp_path: Path, lang: str
) -> None:
    cn, vn = nodes.cn, nodes.vn
    r = Reader(lang, cn.timezone)
    form_e = json.loads((EXAMPLES / "payloads" / "form-e.json").read_text("utf-8"))
    # One certificate per language: the nodes are shared by the runs.
    number = form_e["certificate_number"]
    form_e["certificate_number"] = number[:-1] + str(list(BROWSER_LOCALES).index(lang))
    chinese = signed_in(browser, cn, BROWSER_LOCALES[lang])
    accessible(chinese, f"{lang}-cn-cases")
    chinese.click('a[href="/console/certificates/share"]')
    chinese.set_input_files("#form-e", a_file(tmp_path, "form-e.json", form_e))
    chinese.select_option("#recipient", vn.agency)
    accessible(chinese, f"{lang}-cn-share")
    submit(chinese, "/certificates/share")
    case_id = shown_case(chinese)
    assert r.t("console.done.shared") in chinese.content()
    accessible(chinese, f"{lang}-cn-case-shared")

    vietnamese = signed_in(browser, vn, BROWSER_LOCALES[lang])
    until_shown(vietnamese, "/console/cases", case_id)
    accessible(vietnamese, f"{lang}-vn-cases")
    vietnamese.click(f"text={case_id}")
    assert r.label("workflow", "certificate_of_origin") in vietnamese.content()
    vietnamese.check("#decision-accepted")
    accessible(vietnamese, f"{lang}-vn-case-to-decide")
    submit(vietnamese, "/decide")
    vietnamese.wait_for_url("**?done=decided")
    assert r.t("console.done.decided") in vietnamese.content()
    accessible(vietnamese, f"{lang}-vn-case-decided")

    accepted = r.t(
        "cli.case.status",
        workflow=r.label("workflow", "certificate_of_origin"),
        status=r.label("status", "accepted"),
    )
    until_shown(chinese, f"/console/cases/{case_id}", accepted)
    accessible(chinese, f"{lang}-cn-case-accepted")


def test_the_quarantine_lane_and_alert_forms_in_a_browser(
    nodes: Nodes, browser: Browser, tmp_path: Path
) -> None:
    cn, vn, ppd = nodes
    # An ePhyto certificate with a unit left out: attached, its problem listed with its place.
    exporter = signed_in(browser, ppd, "vi-VN")
    exporter.goto("/console/quarantine/import")
    xml = (EXAMPLES / "officer" / "dragon-fruit-certificate.xml").read_text("utf-8")
    certificate = tmp_path / "certificate.xml"
    certificate.write_text(xml.replace(' unitCode="KGM">18000', ">18000"), "utf-8")
    exporter.set_input_files("#certificate", str(certificate))
    accessible(exporter, "vi-ephyto-import")
    submit(exporter, "/quarantine/import")
    assert "SPS_QUANTITY_WITHOUT_UNIT" in exporter.content()
    assert "ram:NetWeightMeasure" in exporter.content()
    accessible(exporter, "vi-ephyto-imported-with-problems")
    exporter.click('[role=status] a[href^="/console/cases/"]')
    case_id = shown_case(exporter)

    # Its quarantine result, for a commodity no rule covers: the importing side decides.
    result = json.loads((EXAMPLES / "officer" / "quarantine-result.json").read_text("utf-8"))
    result["consignment"]["hs_code"] = "070999"
    exporter.set_input_files("#result-file", a_file(tmp_path, "result.json", result))
    accessible(exporter, "vi-quarantine-result-to-send")
    submit(exporter, "/quarantine/result")
    exporter.wait_for_url("**?done=result_shared")
    accessible(exporter, "vi-quarantine-result-sent")

    importer = signed_in(browser, cn, "zh-CN")
    until_shown(importer, f"/console/cases/{case_id}", "/quarantine/decide")
    importer.check("#outcome-reduced_sampling")
    submit(importer, "/quarantine/decide")
    # Reduced sampling without its rate: refused, the problem beside the field.
    assert "RECOGNITION_SAMPLING_RATE_MISMATCH" in importer.content()
    accessible(importer, "zh_Hans-recognition-refused")
    importer.check("#outcome-reduced_sampling")
    importer.fill("#sampling-rate", "20")
    submit(importer, "/quarantine/decide")
    importer.wait_for_url("**?done=recognition_decided")
    accessible(importer, "zh_Hans-recognition-decided")

    # A truck announced in English from the Vietnamese customs node.
    lane_officer = signed_in(browser, vn, "en-GB")
    lane_officer.goto("/console/lane/notify")
    lane_officer.set_input_files("#lane-notice", str(EXAMPLES / "officer" / "lane-notice.json"))
    accessible(lane_officer, "en-lane-notice")
    submit(lane_officer, "/lane/notify")
    lane_officer.wait_for_url("**?done=lane_notified")
    accessible(lane_officer, "en-lane-notified")

    # An alert raised in Chinese, followed up in Vietnamese by its recipient.
    alert = json.loads((EXAMPLES / "officer" / "alert-smuggling.json").read_text("utf-8"))
    alert["handling"]["audience"] = "all"
    importer.goto("/console/alerts/raise")
    importer.set_input_files("#alert-file", a_file(tmp_path, "alert.json", alert))
    importer.select_option("#recipient", vn.agency)
    accessible(importer, "zh_Hans-alert-raise")
    submit(importer, "/alerts/raise")
    alert_id = shown_case(importer)
    recipient = signed_in(browser, vn, "vi-VN")
    until_shown(recipient, f"/console/cases/{alert_id}", "/alert/follow-up")
    accessible(recipient, "vi-alert-to-follow-up")
    recipient.fill("#follow-up-text", "Đã kiểm tra xe, không phát hiện hàng lậu.")
    submit(recipient, "/alert/follow-up")
    recipient.wait_for_url("**?done=alert_followed_up")
    accessible(recipient, "vi-alert-followed-up")


def test_a_distress_alert_comes_onto_the_open_board_on_top_without_a_reload(
    nodes: Nodes, browser: Browser, tmp_path: Path
) -> None:
    cn, vn = nodes.cn, nodes.vn
    r = Reader("zh_Hans", cn.timezone)
    board = signed_in(browser, cn, "zh-CN")
    board.goto("/console/alerts")
    accessible(board, "zh_Hans-alerts-board")
    # Set by the test on the page: a reload or a navigation would lose it.
    board.evaluate("window.boardNeverReloaded = true")
    opened_at = board.url

    # A vessel in distress, of the least severity: on top all the same.
    alert = json.loads((EXAMPLES / "officer" / "alert-smuggling.json").read_text("utf-8"))
    alert |= {"category": "maritime_sar", "severity": "minor"}
    alert["handling"]["audience"] = "all"
    sender = signed_in(browser, vn, "vi-VN")
    sender.goto("/console/alerts/raise")
    sender.set_input_files("#alert-file", a_file(tmp_path, "distress.json", alert))
    sender.select_option("#recipient", cn.agency)
    submit(sender, "/alerts/raise")
    case_id = shown_case(sender)

    top = board.locator("#board tbody tr").first
    expect(top.get_by_role("link", name=case_id, exact=True)).to_be_visible(timeout=15_000)
    expect(top).to_contain_text(r.label("alert_category", "maritime_sar"))
    assert board.url == opened_at
    assert board.evaluate("window.boardNeverReloaded") is True
    assert board.get_attribute("#board", "aria-live") == "polite"
    accessible(board, "zh_Hans-alerts-board-updated")


def test_refusals_are_pages_in_the_officers_language(
    nodes: Nodes, browser: Browser, tmp_path: Path
) -> None:
    cn = nodes.cn
    page = browser.new_context(locale="vi-VN", base_url=cn.settings.base_url).new_page()
    page.goto("/console/sign-in")
    page.fill("#officer", "officer")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "SIGN_IN_FAILED" in page.content() and "Sai mã cán bộ" in page.content()
    accessible(page, "vn-sign-in-refused")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/cases")
    not_form_e = tmp_path / "message.json"
    message = json.loads((EXAMPLES / "messages" / "co.share.json").read_text("utf-8"))
    not_form_e.write_text(json.dumps(message), "utf-8")
    page.goto("/console/certificates/share")
    page.set_input_files("#form-e", str(not_form_e))
    page.click("button[type=submit] >> text=Gửi")
    assert "FILE_IS_A_MESSAGE" in page.content()
    accessible(page, "vn-share-refused")
    page.goto("/console/cases/CN-NNCUS-20261127-000000")
    assert "CASE_UNKNOWN" in page.content()
    accessible(page, "vn-case-unknown")


def test_the_form_e_fill_in_form_and_its_hs_lookup_in_a_browser(
    nodes: Nodes, browser: Browser
) -> None:
    page = signed_in(browser, nodes.cn, "zh-CN")
    page.goto("/console/certificates/new")
    criteria = page.locator('[id="items[0].origin_criterion.code"] option')
    expect(criteria.first).to_have_text("WO — 完全获得或者生产")
    # Words the English descriptions cannot hold: the form says so beside the box.
    page.fill('[id="items[0].hs_code"]', "火龙果")
    page.click("button[value=lookup]")
    expect(page.get_by_role("status")).to_contain_text("“火龙果”")
    accessible(page, "zh_Hans-fill-looked-up")
    page.goto("/console/hs?q=durian")
    expect(page.locator("table.hs")).to_contain_text("081060")
    accessible(page, "zh_Hans-hs-lookup")


#: The agency the Chinese node registers as a counterpart that is down.
DOWN = "VN-CUSKV8"
#: The number of the example ePhyto certificate; each run gives its consignment another.
PHYTO = "VNPPD2026LS004512"


def officer_of(node: Node) -> Actor:
    return Actor.officer("officer", node.agency)


@pytest.fixture(scope="module")
def counterpart_down(nodes: Nodes, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A counterpart of the Chinese node that does not answer, and an alert waiting for it."""
    cn, vn = nodes.cn, nodes.vn
    jwks = tmp_path_factory.mktemp("down") / "jwks.json"
    jwks.write_text(json.dumps(public_jwks([vn.signing_key, vn.token_key])), "utf-8")
    operator = Actor.officer("operator", cn.agency)
    down = f"http://127.0.0.1:{free_port()}"
    connect_peer(cn, agency=DOWN, base_url=down, jwks_source=str(jwks), actor=operator)
    content = json.loads((EXAMPLES / "officer" / "alert-smuggling.json").read_text("utf-8"))
    content["handling"]["audience"] = "all"
    alert = AlertContent.model_validate(content)
    sent = raise_alert(cn, alert, DOWN, officer_of(cn))
    # The node's loop tries, finds no one and waits: the node's clock stands still in tests.
    wait_for(lambda: any(e.attempts for e in list_outbox(cn) if e.recipient == DOWN))
    return sent.case_id


def awaiting_entry(vn: Node, cn: Node, run: int) -> str:
    """A truck of dragon fruit announced by Vietnam's customs (each run its own notice)."""
    notice = json.loads((EXAMPLES / "officer" / "lane-notice.json").read_text("utf-8"))
    notice["reference"] = f"VN-CUSKV6-PAN-2026-1127-02{run}"
    notice["truck"]["plate"] = f"12C-124.5{run}"
    sent = lane.notify(vn, LaneNotice.model_validate(notice), cn.agency, officer_of(vn))
    return sent.case_id


def with_its_result(ppd: Node, cn: Node, number: str) -> str:
    """A consignment whose ePhyto certificate and quarantine result Vietnam's plant protection
    sent: the importing side holds the result."""
    xml = (EXAMPLES / "officer" / "dragon-fruit-certificate.xml").read_text("utf-8")
    read = read_certificate(xml.replace(PHYTO, number).encode(), strict=False)
    attached = quarantine.attach_certificate(
        ppd, read.certificate, officer_of(ppd), recipient=cn.agency
    )
    result = json.loads((EXAMPLES / "officer" / "quarantine-result.json").read_text("utf-8"))
    result |= {"reference": f"QR-{number}", "certificate_number": number}
    content = QuarantineResult.model_validate(result)
    quarantine.share_result(ppd, content, officer_of(ppd), attached.case_id)
    return attached.case_id


@pytest.mark.parametrize("lang", list(BROWSER_LOCALES))
def test_entry_refused_a_non_compliance_notified_and_a_counterpart_down_in_each_language(
    nodes: Nodes, browser: Browser, tmp_path: Path, counterpart_down: str, lang: str
) -> None:
    cn, vn, ppd = nodes
    r = Reader(lang, cn.timezone)
    run = list(BROWSER_LOCALES).index(lang)
    truck = awaiting_entry(vn, cn, run)
    number = f"VNPPD2026LS00460{run}"
    consignment = with_its_result(ppd, cn, number)
    importer = signed_in(browser, cn, BROWSER_LOCALES[lang])

    # Entry refused: first with no reason ticked (refused beside the reasons), then with one.
    until_shown(importer, f"/console/cases/{truck}", "/lane/refuse")
    accessible(importer, f"{lang}-lane-refuse-entry")
    submit(importer, "/lane/refuse")
    assert "FIELD_MISSING" in importer.content()
    accessible(importer, f"{lang}-lane-refuse-entry-refused")
    importer.check("#refuse-SEAL_BROKEN")
    importer.fill("#refuse-note", "封识 VNHQ-LS-0047811 已破损。")
    importer.select_option("#refuse-note-lang", "zh-Hans")
    submit(importer, "/lane/refuse")
    importer.wait_for_url("**?done=lane_refused")
    assert r.t("console.done.lane_refused") in importer.content()

    # A non-compliance found on the consignment, its notice uploaded.
    until_shown(importer, f"/console/cases/{consignment}", "/quarantine/notify")
    accessible(importer, f"{lang}-quarantine-non-compliance")
    found = json.loads((EXAMPLES / "officer" / "non-compliance-notice.json").read_text("utf-8"))
    found |= {"reference": f"NNCUS-NC-2026-004{run}", "certificate_number": number}
    importer.set_input_files("#notice-file", a_file(tmp_path, "notice.json", found))
    submit(importer, "/quarantine/notify")
    importer.wait_for_url("**?done=non_compliance_notified")
    assert r.t("console.done.non_compliance_notified") in importer.content()
    accessible(importer, f"{lang}-quarantine-non-compliance-notified")

    # The operator's page: the counterpart that is down, and what waits for it.
    operator = signed_in(browser, cn, BROWSER_LOCALES[lang], "operator")
    operator.goto("/console/counterparts")
    deferred = operator.locator("section", has=operator.locator("#deferred"))
    expect(deferred).to_contain_text(counterpart_down)
    expect(operator.locator("h1")).to_have_text(r.t("console.counterparts.title"))
    accessible(operator, f"{lang}-counterparts")
