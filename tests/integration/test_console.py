"""The officer's console on one real node: signing in, what each bad input gets, and what changes.

Every refusal is a page in the officer's language with its stable code, and
leaves the node as it was: no case, no outbox row, no audit entry beyond the
record of a wrong password.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import AuditEntry, Case, OutboxMessage
from crossborder.console.app import CONTENT_SECURITY_POLICY
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.i18n import format_datetime
from crossborder.services.alerts import raise_alert
from crossborder.services.node import Node
from crossborder.services.officers import set_password
from crossborder.services.outbox_review import list_outbox
from tests.conftest import Clock
from tests.factories import connect, form_e_data, make_node, register_staff, serving
from tests.integration.test_outbox_review import SCOPE_REFUSAL, answered, attempt, queue

PASSWORD = "correct horse battery staple"


@pytest.fixture
def node(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node(
        "cn",
        make_db_url("cn"),
        tmp_path,
        clock,
        console_secure_cookie=False,
        console_sign_in_failures=3,
    )
    for officer in register_staff(node).values():
        set_password(node, officer, PASSWORD, by="operator")
    with serving(node, run_workers=False):
        yield node
    node.close()


def browser(node: Node, lang: str = "en") -> httpx.Client:
    return httpx.Client(
        base_url=node.settings.base_url, headers={"Accept-Language": lang}, timeout=10
    )


def token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: httpx.Client, officer: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/console/sign-in")
    return client.post(
        "/console/sign-in",
        data={"officer": officer, "password": password, "csrf_token": token(form)},
    )


def counts(node: Node) -> tuple[int, int, int]:
    with node.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Case)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def codes(page: httpx.Response) -> list[str]:
    return re.findall(r"<code>([A-Z_]+)</code>", page.text)


def share(client: httpx.Client, content: bytes, csrf: str | None) -> httpx.Response:
    data = {"recipient": "VN-CUSKV6"} | ({"csrf_token": csrf} if csrf else {})
    return client.post(
        "/console/certificates/share",
        data=data,
        files={"form_e": ("form-e.json", content, "application/json")},
    )


def test_a_page_needs_a_signed_in_officer(node: Node) -> None:
    with browser(node) as client:
        answer = client.get("/console/cases")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=/console/cases"


def test_signing_in_sets_a_strict_http_only_cookie_and_pages_forbid_inline_scripts(
    node: Node,
) -> None:
    with browser(node, "vi") as client:
        answer = sign_in(client, "officer")
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
        page = client.get("/console/cases")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "<script" not in page.text
    assert '<html lang="vi">' in page.text and "Vụ việc" in page.text


def test_a_wrong_password_is_audited_then_throttled_and_changes_nothing_else(node: Node) -> None:
    before = counts(node)
    with browser(node, "zh-CN") as client:
        refusals = [sign_in(client, "officer", "not the password at all") for _ in range(3)]
        throttled = sign_in(client, "officer")  # even the right password, for now
    assert [r.status_code for r in refusals] == [401, 401, 401]
    assert codes(refusals[0]) == ["SIGN_IN_FAILED"]
    assert "人员编号或密码错误" in refusals[0].text
    assert throttled.status_code == 429 and codes(throttled) == ["SIGN_IN_THROTTLED"]
    assert int(throttled.headers["retry-after"]) > 0
    cases, outbox, entries = counts(node)
    assert (cases, outbox, entries) == (before[0], before[1], before[2] + 3)
    with node.sessions() as session:
        events = session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq.desc()).limit(3))
        assert list(events) == ["officer.sign_in_failed"] * 3


def test_a_form_without_its_token_is_refused_and_changes_nothing(node: Node) -> None:
    with browser(node) as client:
        sign_in(client, "officer")
        before = counts(node)
        answer = share(client, json.dumps(form_e_data()).encode(), csrf=None)
    assert answer.status_code == 403 and codes(answer) == ["CSRF_TOKEN_INVALID"]
    assert counts(node) == before


def test_a_role_that_takes_no_step_is_refused_on_the_server(node: Node) -> None:
    with browser(node) as client:
        sign_in(client, "auditor")
        csrf = token(client.get("/console/audit"))
        before = counts(node)
        answer = share(client, json.dumps(form_e_data()).encode(), csrf)
    assert answer.status_code == 403 and codes(answer) == ["ROLE_NOT_ALLOWED"]
    assert counts(node)[:2] == before[:2]


def test_a_file_that_is_not_a_form_e_is_refused_beside_the_field(node: Node) -> None:
    with browser(node, "vi") as client:
        sign_in(client, "officer")
        csrf = token(client.get("/console/certificates/share"))
        before = counts(node)
        not_json = share(client, b"\xff not json", csrf)
        not_form_e = share(client, b'{"hello": "world"}', csrf)
    assert not_json.status_code == 422 and codes(not_json) == ["FILE_UNREADABLE"]
    assert not_form_e.status_code == 422
    assert codes(not_form_e)[:2] == ["SCHEMA_INVALID", "FIELD_MISSING"]
    assert "FIELD_UNKNOWN" in codes(not_form_e)
    assert counts(node) == before


def test_sharing_a_form_e_opens_the_case_and_its_page_offers_only_allowed_steps(
    node: Node,
) -> None:
    with browser(node) as client:
        sign_in(client, "officer")
        csrf = token(client.get("/console/certificates/share"))
        shared = share(client, json.dumps(form_e_data()).encode(), csrf)
        assert shared.status_code == 303
        page = client.get(shared.headers["location"])
    assert page.status_code == 200
    assert "Shared: the node is delivering it now." in page.text
    assert "E264510000102345" in page.text
    # The issuing side may amend or revoke its certificate, never decide on it.
    assert "/revoke" in page.text and "/amend" in page.text and "/decide" not in page.text


def test_an_unknown_case_and_an_ended_session_each_get_their_page(node: Node) -> None:
    with browser(node) as client:
        sign_in(client, "officer")
        unknown = client.get("/console/cases/CN-NNCUS-20261127-000000")
        client.cookies.set("cb_session", "no-such-session", path="/console")
        ended = client.get("/console/cases")
    assert unknown.status_code == 404 and codes(unknown) == ["CASE_UNKNOWN"]
    assert ended.status_code == 401 and codes(ended) == ["SESSION_EXPIRED"]


def test_the_counterparts_page_shows_refused_deferred_and_queued_apart(
    node: Node, make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(node, vn, tmp_path)
    refused, deferred, queued = (queue(node, vn.agency, n) for n in range(3))
    attempt(node, refused, answered(403, **SCOPE_REFUSAL))
    attempt(node, deferred, answered(503, json={"error": {"code": "INTERNAL_ERROR"}}))
    (due,) = (e.next_attempt_at for e in list_outbox(node) if e.message_id == deferred)
    assert due is not None
    vn.close()
    with browser(node, "vi") as client:
        assert sign_in(client, "operator").status_code == 303
        page = client.get("/console/counterparts").text

    sections = {
        name: page.split(f'<h2 id="{name}">')[1].split("</section>")[0]
        for name in ("refused", "deferred", "queued")
    }
    assert refused in sections["refused"] and "HTTP 403 SCOPE_MISSING" in sections["refused"]
    assert f"/console/outbox/{refused}/resend" in sections["refused"]
    assert deferred in sections["deferred"] and "HTTP 503 INTERNAL_ERROR" in sections["deferred"]
    # The next attempt in the officer's language and zone, as ``outbox list`` tells it.
    assert format_datetime(due, "vi", node.timezone) in sections["deferred"]
    assert "/resend" not in sections["deferred"] + sections["queued"]
    assert queued in sections["queued"] and refused not in sections["queued"]


def test_the_alerts_board_list_is_served_alone_for_the_page_to_update_in_place(
    node: Node, make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(node, vn, tmp_path)
    vn.close()
    with browser(node, "vi") as client:
        assert (
            client.get("/console/alerts/board").headers["location"].startswith("/console/sign-in?")
        )
        sign_in(client, "officer")
        empty = client.get("/console/alerts/board")
        for category, severity in (("smuggling", "extreme"), ("maritime_sar", "minor")):
            content = AlertContent.model_validate(
                {
                    "category": category,
                    "severity": severity,
                    "description": {"lang": "vi", "text": "Tàu cá gặp nạn gần đảo Bạch Long Vĩ."},
                    "position": {"lat": 20.13, "lon": 107.72},
                    "handling": {"audience": "all"},
                }
            )
            raise_alert(node, content, vn.agency, Actor.officer("officer", node.agency))
        board = client.get("/console/alerts/board")
        page = client.get("/console/alerts")

    assert (
        empty.status_code == 200
        and empty.text.strip() == "<p>Không có cảnh báo nào đang xử lý.</p>"
    )
    assert board.status_code == 200
    assert board.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert board.headers["cache-control"] == "no-store"
    # Only the list: no page around it, no navigation, no script.
    assert "<html" not in board.text and "<nav" not in board.text and "<script" not in board.text
    rows = re.findall(r"<tr( class=\"[^\"]*\")?>\s*<td><a", board.text)
    assert rows == [' class="on-top"', ""]  # the distress alert on top, whatever its severity
    assert "tìm kiếm, cứu nạn trên biển" in board.text.split("</tr>")[1]
    # The page shows the same list in its live region, and the script that updates it.
    live = page.text.split('<div id="board" aria-live="polite"')[1].split("</div>")[0]
    assert board.text.strip() in live
    assert '<script src="/console/static/board.js" defer></script>' in page.text
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in page.text
    script = httpx.get(f"{node.settings.base_url}/console/static/board.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def filled(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A Form E's content as the fill-in form's inputs, named by their paths in the model."""
    fields: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            fields |= filled(value, name)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                fields |= filled(item, f"{name}[{index}]")
        elif isinstance(value, bool):
            fields |= {name: "true"} if value else {}
        elif value is not None and key not in ("item_number", "issuing_country"):
            fields[name] = str(value)
    return fields


def fill(client: httpx.Client, data: dict[str, Any], **extra: str) -> httpx.Response:
    csrf = token(client.get("/console/certificates/new"))
    fields = filled(data) | {"rows": str(len(data["items"])), "recipient": "VN-CUSKV6"}
    fields.pop("issuing_authority", None)
    return client.post("/console/certificates/new", data=fields | extra | {"csrf_token": csrf})


def test_a_form_e_filled_in_field_by_field_is_shared_like_an_uploaded_one(node: Node) -> None:
    with browser(node) as client:
        sign_in(client, "officer")
        page = client.get("/console/certificates/new")
        assert page.status_code == 200 and "<script" not in page.text
        assert 'name="items[0].hs_code"' in page.text and 'list="hs-0"' in page.text
        shared = fill(client, form_e_data())
        assert shared.status_code == 303, shared.text
        case = client.get(shared.headers["location"])
    assert "E264510000102345" in case.text and "/amend" in case.text


def options(page: httpx.Response, name: str) -> list[tuple[str, str]]:
    """The options of the list ``name``, each as its value and the text an officer reads."""
    select = page.text.split(f'<select id="{name}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)"(?: selected)?>([^<]*)</option>', select)


def chosen(page: httpx.Response, name: str) -> list[str]:
    select = page.text.split(f'<select id="{name}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)" selected>', select)


#: What the fill-in form's lists say in each language: countries by CLDR's names, the
#: origin criteria and registers after the code officers know them by, transport modes
#: by their names alone, the recipient by its code and its name.
LABELS = {
    "zh-CN": {
        "exporter.country": [("CN", "CN — 中国"), ("VN", "VN — 越南")],
        "consignee.identifier_scheme": [
            ("CN_USCC", "CN_USCC — 统一社会信用代码（中国）"),
            ("VN_MST", "VN_MST — 企业税号（越南）"),
        ],
        "transport.mode": [
            ("road", "公路运输"),
            ("rail", "铁路运输"),
            ("sea", "海上运输"),
            ("air", "航空运输"),
            ("inland_waterway", "内河运输"),
        ],
        "items[0].origin_criterion.code": [
            ("WO", "WO — 完全获得或者生产"),
            ("PE", "PE — 全部使用原产材料生产"),
            ("RVC", "RVC — 区域价值成分"),
            ("CTH", "CTH — 税目改变"),
            ("PSR", "PSR — 产品特定原产地规则"),
        ],
        "recipient": [("VN-CUSKV6", "VN-CUSKV6 — 越南第六区域海关分局")],
    },
    "vi": {
        "declaration.importing_country": [("CN", "CN — Trung Quốc"), ("VN", "VN — Việt Nam")],
        "exporter.identifier_scheme": [
            ("CN_USCC", "CN_USCC — Mã số tín dụng xã hội thống nhất (Trung Quốc)"),
            ("VN_MST", "VN_MST — Mã số thuế doanh nghiệp (Việt Nam)"),
        ],
        "transport.mode": [
            ("road", "Đường bộ"),
            ("rail", "Đường sắt"),
            ("sea", "Đường biển"),
            ("air", "Đường hàng không"),
            ("inland_waterway", "Đường thủy nội địa"),
        ],
        "items[0].origin_criterion.code": [
            ("WO", "WO — Xuất xứ thuần túy hoặc được sản xuất toàn bộ"),
            ("PE", "PE — Được sản xuất chỉ từ nguyên liệu có xuất xứ"),
            ("RVC", "RVC — Hàm lượng giá trị khu vực"),
            ("CTH", "CTH — Chuyển đổi mã số hàng hóa ở cấp 4 số"),
            ("PSR", "PSR — Quy tắc cụ thể mặt hàng"),
        ],
        "recipient": [("VN-CUSKV6", "VN-CUSKV6 — Chi cục Hải quan khu vực VI")],
    },
    "en": {
        "declaration.country_of_origin": [("CN", "CN — China"), ("VN", "VN — Vietnam")],
        "consignee.identifier_scheme": [
            ("CN_USCC", "CN_USCC — Unified social credit code (China)"),
            ("VN_MST", "VN_MST — Enterprise tax code (Vietnam)"),
        ],
        "transport.mode": [
            ("road", "Road"),
            ("rail", "Rail"),
            ("sea", "Sea"),
            ("air", "Air"),
            ("inland_waterway", "Inland waterway"),
        ],
        "items[0].origin_criterion.code": [
            ("WO", "WO — Wholly obtained or produced"),
            ("PE", "PE — Produced exclusively from originating materials"),
            ("RVC", "RVC — Regional value content"),
            ("CTH", "CTH — Change in tariff heading"),
            ("PSR", "PSR — Product-specific rule"),
        ],
        "recipient": [("VN-CUSKV6", "VN-CUSKV6 — Regional Customs Branch VI")],
    },
}


@pytest.mark.parametrize("lang", list(LABELS))
def test_the_fill_in_forms_lists_show_labels_in_the_officers_language(
    node: Node, make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock, lang: str
) -> None:
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(node, vn, tmp_path)
    vn.close()
    with browser(node, lang) as client:
        sign_in(client, "officer")
        page = client.get("/console/certificates/new")
    assert {name: options(page, name) for name in LABELS[lang]} == LABELS[lang]
    # A Chinese node's certificate: its exporter in China, in China's register, goods for Vietnam.
    assert {
        name: chosen(page, name)
        for name in (
            "exporter.country",
            "exporter.identifier_scheme",
            "consignee.country",
            "consignee.identifier_scheme",
            "declaration.country_of_origin",
            "declaration.importing_country",
        )
    } == {
        "exporter.country": ["CN"],
        "exporter.identifier_scheme": ["CN_USCC"],
        "consignee.country": ["VN"],
        "consignee.identifier_scheme": ["VN_MST"],
        "declaration.country_of_origin": ["CN"],
        "declaration.importing_country": ["VN"],
    }


def beside(page: httpx.Response, name: str) -> list[str]:
    """The codes shown between the input ``name`` and the next input."""
    start = page.text.index(f'name="{name}"')
    return re.findall(
        r"<code>([A-Z_]+)</code>", page.text[start : page.text.index("<input", start)]
    )


def test_a_bad_hs_code_is_refused_beside_its_field_in_the_officers_language(node: Node) -> None:
    data = form_e_data()
    data["items"][0]["hs_code"] = "999999"
    with browser(node, "vi") as client:
        sign_in(client, "officer")
        before = counts(node)
        unknown = fill(client, data)
        missing = fill(client, form_e_data(), **{"transport.conveyance": ""})
    assert unknown.status_code == 422 and '<html lang="vi">' in unknown.text
    assert beside(unknown, "items[0].hs_code") == ["FORM_E_HS_CODE_UNKNOWN"]
    assert beside(unknown, "items[0].description") == []
    assert 'value="999999"' in unknown.text
    assert missing.status_code == 422 and codes(missing)[0] == "SCHEMA_INVALID"
    assert beside(missing, "transport.conveyance") == ["FIELD_MISSING"]
    assert counts(node) == before


def test_add_another_row_and_look_up_re_render_the_form_and_share_nothing(node: Node) -> None:
    with browser(node) as client:
        sign_in(client, "officer")
        before = counts(node)
        csrf = token(client.get("/console/certificates/new"))
        more = client.post(
            "/console/certificates/new",
            data={"csrf_token": csrf, "rows": "1", "action": "add_row", "exporter.name": "HF"},
        )
        looked = client.post(
            "/console/certificates/new",
            data={"csrf_token": csrf, "rows": "2", "action": "lookup", "items[1].hs_code": "0810"},
        )
    assert more.status_code == 200 and 'name="items[1].hs_code"' in more.text
    assert 'value="HF"' in more.text
    assert '<datalist id="hs-1"><option value="081010">' in looked.text
    assert counts(node) == before


def test_hs_codes_are_looked_up_by_code_prefix_or_by_words_of_their_description(
    node: Node,
) -> None:
    with browser(node) as client:
        sign_in(client, "officer")
        by_code = client.get("/console/hs", params={"q": "0810"})
        by_words = client.get("/console/hs", params={"q": "strawberries fresh"})
        broad = client.get("/console/hs", params={"q": "fruit"})
        nothing = client.get("/console/hs", params={"q": "zzzqqq"})
        # Case and diacritics aside ("purée" is written "puree" there), full-width digits too.
        folded = client.get("/console/hs", params={"q": "PURÉE"})
        wide = client.get("/console/hs", params={"q": "０８１０"})
    assert by_code.status_code == 200
    assert "<code>081010</code>" in by_code.text and "<code>081090</code>" in by_code.text
    assert "<code>080810</code>" not in by_code.text
    assert "<code>081010</code>" in by_words.text
    assert broad.text.count("<tr><td><code>") == 20
    assert "No HS code matches “zzzqqq”." in nothing.text
    assert "<code>200710</code>" in folded.text
    assert "<code>081010</code>" in wide.text


#: Each language's note beside the HS box, and its answer to words the English cannot hold.
ENGLISH_ONLY = {
    "zh-CN": (
        "火龙果",
        "HS编码的商品描述只有英文：请按编码开头（如 0810）或英文词语（如 durian）查找。",
        "没有与“火龙果”匹配的HS编码。描述只有英文：请试用编码开头或英文词语。",
    ),
    "vi": (
        "thanh long",
        "Phần mô tả hàng hóa của mã HS chỉ có bằng tiếng Anh",
        "Không có mã HS nào phù hợp với “thanh long”. Phần mô tả chỉ có bằng tiếng Anh",
    ),
    "en": (
        "pitahaya",
        "HS descriptions are held in English only",
        "No HS code matches “pitahaya”. The descriptions are in English only",
    ),
}


@pytest.mark.parametrize("lang", list(ENGLISH_ONLY))
def test_the_hs_lookup_says_in_the_officers_language_that_it_reads_english_only(
    node: Node, lang: str
) -> None:
    query, note, none = ENGLISH_ONLY[lang]
    with browser(node, lang) as client:
        sign_in(client, "officer")
        page = client.get("/console/hs", params={"q": query})
        csrf = token(client.get("/console/certificates/new"))
        looked = client.post(
            "/console/certificates/new",
            data={"csrf_token": csrf, "rows": "1", "action": "lookup", "items[0].hs_code": query},
        )
    assert '<p id="q-hint" class="hint">' + note in page.text
    assert 'aria-describedby="q-hint"' in page.text
    assert none in page.text and "<table" not in page.text
    assert '<p id="hs-hint-0" class="hint">' + note in looked.text
    assert 'aria-describedby="hs-hint-0"' in looked.text
    assert none in looked.text
