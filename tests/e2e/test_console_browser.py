"""The console in a real browser, two nodes: a Form E shared in Chinese, decided in Vietnamese.

Debian's Chromium is driven headless (never a downloaded browser); each page is
checked with axe-core (vendored in ``tests/browser/``) and saved as a
screenshot under ``test-artifacts/console/``. The storage layer is covered on
both databases by ``tests/integration/test_console.py``; here the browser is
what is tested, on SQLite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crossborder.services.node import Node
from crossborder.services.officers import set_password
from tests.conftest import Clock
from tests.factories import EXAMPLES, connect, make_node, register_staff, serving

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
    from playwright.sync_api import Browser, Page, sync_playwright


@pytest.fixture
def nodes(tmp_path: Path, clock: Clock) -> Iterator[tuple[Node, Node]]:
    def node(side: str, **overrides: Any) -> Node:
        made = make_node(
            side,
            f"sqlite:///{tmp_path / side}.db",
            tmp_path,
            clock,
            console_secure_cookie=False,
            **overrides,
        )
        for officer in register_staff(made).values():
            set_password(made, officer, PASSWORD, by="operator")
        return made

    cn, vn = node("cn"), node("vn", auto_accept_certificates=False)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    with serving(cn), serving(vn):
        yield cn, vn
    cn.close()
    vn.close()


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


def signed_in(browser: Browser, node: Node, locale: str) -> Page:
    context = browser.new_context(locale=locale, base_url=node.settings.base_url)
    page = context.new_page()
    page.goto("/console/cases")
    page.fill("#officer", "officer")
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


def test_a_form_e_shared_in_chinese_is_decided_in_vietnamese(
    nodes: tuple[Node, Node], browser: Browser
) -> None:
    cn, vn = nodes
    chinese = signed_in(browser, cn, "zh-CN")
    accessible(chinese, "cn-cases")
    chinese.click("text=发送原产地证书（FORM E）")
    chinese.set_input_files("#form-e", str(EXAMPLES / "payloads" / "form-e.json"))
    accessible(chinese, "cn-share")
    chinese.click("button[type=submit] >> text=发送")
    chinese.wait_for_url("**/console/cases/CN-NNCUS-*")
    assert "已发送，节点正在投递。" in chinese.content()
    accessible(chinese, "cn-case-shared")
    case_url = chinese.url.split("?")[0]
    case_id = case_url.rsplit("/", 1)[1]

    vietnamese = signed_in(browser, vn, "vi-VN")
    until_shown(vietnamese, "/console/cases", case_id)
    accessible(vietnamese, "vn-cases")
    vietnamese.click(f"text={case_id}")
    assert "C/O mẫu E (ACFTA)" in vietnamese.content()
    vietnamese.check("#decision-accepted")
    accessible(vietnamese, "vn-case-to-decide")
    vietnamese.click("text=Gửi quyết định")
    vietnamese.wait_for_url("**?done=decided")
    assert "Đã ghi nhận quyết định" in vietnamese.content()
    accessible(vietnamese, "vn-case-decided")

    until_shown(chinese, f"/console/cases/{case_id}", "状态：已接受")
    accessible(chinese, "cn-case-accepted")


def test_refusals_are_pages_in_the_officers_language(
    nodes: tuple[Node, Node], browser: Browser, tmp_path: Path
) -> None:
    cn, _ = nodes
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
