"""``crossborder demo``: real nodes on loopback exchange a Form E, an alert and a truck.

The Chinese node (Nanning Customs, Youyiguan) shares an ACFTA Form E with the
Vietnamese node (Regional Customs Branch VI, Lạng Sơn); the Vietnamese node
verifies and accepts it. The Chinese node then sends a food-safety information
notice, which the Vietnamese node acknowledges by rule. Then a truck of dragon
fruit goes through the green lane for fresh farm produce, on documents Nanning
really holds: Lạng Sơn shares the fruit's Form E, which Nanning accepts;
Vietnam's plant-protection node (a third node) sends its quarantine result,
which Nanning's recognition rules, loaded by its supervisor, recognise for a
documentary check. Lạng Sơn notifies the truck; Nanning decides its lane from
those documents, records the arrival and releases the truck (after one joint
inspection unless it is green). The demo prints the Form E's, the alert's and
the truck's audit trails as each customs side recorded them, in each side's
time zone, and what the truck's lane rests on.
Each node is its own process with its own database, keys and authorization
server; they meet only over HTTP.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer

from crossborder.adapters.oauth.keys import public_jwks
from crossborder.bootstrap import bootstrap
from crossborder.cli.case import print_case
from crossborder.cli.co import read_form_e
from crossborder.cli.common import load_settings, read_json, reader_locale, say, user_errors
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.domain.errors import CrossborderError
from crossborder.domain.lane import LaneNotice
from crossborder.domain.officers import Permission, Role, new_officer
from crossborder.domain.phytosanitary import PhytosanitaryCertificate
from crossborder.domain.quarantine import QuarantineResult
from crossborder.domain.recognition import RecognitionDecision, RecognitionOutcome, RecognitionRule
from crossborder.domain.validation import schema_checked
from crossborder.i18n import N_, normalize_locale, translate
from crossborder.reference.agencies import agency_name
from crossborder.reference.recognition_rules import shipped_rule_set
from crossborder.services import alerts, certificate_of_origin, lane, quarantine, recognition
from crossborder.services.audit_log import b64, checkpoint, verify_log, witnesses
from crossborder.services.cases import case_view
from crossborder.services.delivery import deliver_now
from crossborder.services.node import Node
from crossborder.services.officers import acting_officer, add_officer, set_password
from crossborder.services.registry import connect_peer

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"
EXAMPLE = EXAMPLES / "payloads" / "form-e.json"
ALERT_EXAMPLE = EXAMPLES / "alerts" / "food-safety-information.json"
LANE_NOTICE = EXAMPLES / "officer" / "lane-notice.json"
#: The documents the truck's notice names: its Form E, its phytosanitary certificate and the
#: quarantine result resting on that certificate.
FRUIT_FORM_E = EXAMPLES / "payloads" / "form-e-dragon-fruit.json"
#: The certificate as ``quarantine import --dry-run`` reads it from its ePhyto XML: reading
#: the XML checks it against the UN/CEFACT schema, seconds a demo need not spend.
FRUIT_CERTIFICATE = EXAMPLES / "officer" / "dragon-fruit-certificate.json"
FRUIT_RESULT = EXAMPLES / "officer" / "quarantine-result.json"
#: Nanning's arrangement for Vietnam's dragon fruit: its documents are enough. It is longer
#: than the shipped rule for all of heading 08.10 (reduced sampling), so it wins over it.
FRUIT_RECOGNISED = RecognitionRule(
    id="VN-PPD-081090-DOCUMENTARY",
    hs_prefix="081090",
    exporting_agency="VN-PPD",
    valid_from=date(2026, 1, 1),
    outcome=RecognitionOutcome.DOCUMENTARY_CHECK,
)
SIDES = {
    "cn": {
        "agency": "CN-NNCUS",
        "country": "CN",
        "timezone": "Asia/Shanghai",
        "gate": "CNYYG",
        # No truck drawn at random for a joint inspection: the demo's lane follows from
        # the documents alone, the same on every run.
        "lane_random_selection_percent": "0",
    },
    "vn": {
        "agency": "VN-CUSKV6",
        "country": "VN",
        "timezone": "Asia/Ho_Chi_Minh",
        "gate": "VN-HUUNGHI",
    },
    "ppd": {"agency": "VN-PPD", "country": "VN", "timezone": "Asia/Ho_Chi_Minh"},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_settings(folder: Path, side: dict[str, str], port: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        **side,
        "base_url": f"http://127.0.0.1:{port}",
        "port": str(port),
        "data_dir": str(folder),
        # Plain http on loopback: a Secure cookie would not come back to the console.
        "console_secure_cookie": "false",
    }
    path = folder / "node.env"
    path.write_text("".join(f"CROSSBORDER_{k.upper()}={v}\n" for k, v in values.items()), "utf-8")
    return path


#: Each node's people: the operator who connects the node, the officer who works on it,
#: and at Nanning the supervisor who puts recognition rules in force.
STAFF = {
    "CN-NNCUS": (
        ("wang.fang", "王芳", Role.OPERATOR),
        ("li.wei", "李伟", Role.OFFICER),
        ("zhang.hua", "张华", Role.SUPERVISOR),
    ),
    "VN-CUSKV6": (
        ("tran.hung", "Trần Văn Hùng", Role.OPERATOR),
        ("nguyen.lan", "Nguyễn Thị Lan", Role.OFFICER),
    ),
    "VN-PPD": (
        ("do.thu", "Đỗ Thị Thu", Role.OPERATOR),
        ("pham.minh", "Phạm Văn Minh", Role.OFFICER),
    ),
}
#: What the demo has each role do.
PERMISSION_OF = {
    Role.OPERATOR: Permission.CONNECT,
    Role.OFFICER: Permission.ACT,
    Role.SUPERVISOR: Permission.MANAGE_RULES,
}


def _register_staff(node: Node) -> None:
    """The operator registers themselves first, then the officer."""
    people = STAFF[node.agency]
    operator = people[0][0]
    for officer_id, name, role in people:
        person = new_officer(id=officer_id, full_name=name, role=role, agency=node.agency)
        add_officer(node, person, by=None if role is Role.OPERATOR else operator)


def _console_password(nodes: dict[str, Node]) -> str:
    """One password, new at each run, for each customs side's officer to sign in with."""
    password = secrets.token_urlsafe(12)
    for node in (nodes["cn"], nodes["vn"]):
        officer_id = next(person for person, _, held in STAFF[node.agency] if held is Role.OFFICER)
        set_password(node, officer_id, password, by=officer_id)
    return password


def _serve_until_stopped(nodes: dict[str, Node], password: str, lang: str) -> None:
    """Leave both nodes running for a person to open their consoles, until Ctrl-C."""
    say(
        "cli.demo.console",
        lang,
        cn=f"{nodes['cn'].settings.base_url}/console/",
        vn=f"{nodes['vn'].settings.base_url}/console/",
        cn_officer="li.wei",
        vn_officer="nguyen.lan",
        password=password,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def _as(node: Node, role: Role) -> Actor:
    officer_id = next(person for person, _, held in STAFF[node.agency] if held is role)
    return acting_officer(node, PERMISSION_OF[role], officer_id)


def _connect(node: Node, other: Node, jwks_file: Path) -> None:
    """What two operators do once: each registers the other as counterpart and as client."""
    connect_peer(
        node,
        agency=other.agency,
        base_url=other.settings.base_url,
        jwks_source=str(jwks_file),
        actor=_as(node, Role.OPERATOR),
    )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node at {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"node at {url} did not start")


def _wait_status(node: Node, case_id: str, wanted: set[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = case_view(node, case_id).case.status
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def _exchange_checkpoints(cn: Node, vn: Node, lang: str) -> None:
    """Each side signs its audit log's head and the other keeps it as a witness."""
    for node in (cn, vn):
        checkpoint(node)
    deadline = time.monotonic() + 30
    while not (witnesses(vn, cn.agency) and witnesses(cn, vn.agency)):
        if time.monotonic() > deadline:
            raise CrossborderError("DEMO_NOT_ACCEPTED", status="checkpoint")
        time.sleep(0.2)
    for node in (cn, vn):
        report = verify_log(node)
        say(
            "cli.audit.verified" if report.ok else "cli.audit.tampered",
            lang,
            entries=report.entries,
            checkpoints=report.checkpoints_checked,
            root=b64(report.root),
        )


def _form_e_accepted(cn: Node, vn: Node) -> str:
    """Nanning shares a Form E; Vietnam's node verifies it and accepts it by rule."""
    shared = certificate_of_origin.share(cn, read_form_e(EXAMPLE), vn.agency, _as(cn, Role.OFFICER))
    deliver_now(cn, shared.message_id)
    status = _wait_status(cn, shared.case_id, {"accepted", "queried", "rejected"})
    if status != "accepted":
        raise CrossborderError("DEMO_NOT_ACCEPTED", status=status)
    return shared.case_id


def _alert_acknowledged(cn: Node, vn: Node) -> str:
    """China informs Vietnam of a residue near its limit; Vietnam's node notes it by rule."""
    content = AlertContent.model_validate(read_json(ALERT_EXAMPLE))
    sent = alerts.raise_alert(cn, content, vn.agency, _as(cn, Role.OFFICER))
    deliver_now(cn, sent.message_id)
    status = _wait_status(cn, sent.case_id, {"acknowledged"})
    if status != "acknowledged":
        raise CrossborderError("DEMO_NOT_ACCEPTED", status=status)
    return sent.case_id


def _deliver(node: Node, *message_ids: str) -> None:
    for message_id in message_ids:
        deliver_now(node, message_id)


@dataclass(frozen=True)
class Documents:
    """The cases on which Nanning came to hold the documents the truck's notice names."""

    form_e_case: str
    form_e_number: str
    consignment_case: str
    certificate_number: str


def _documents_held(cn: Node, vn: Node, ppd: Node) -> Documents:
    """Before the truck leaves, Nanning accepts its Form E and recognises its quarantine result.

    Nanning's supervisor first puts in force the shipped recognition rules with
    one more, for Vietnam's dragon fruit; Lạng Sơn shares the Form E, which
    Nanning's node accepts by rule; the plant-protection node opens the
    consignment on its phytosanitary certificate and sends its result, which
    Nanning's node decides by the rules in force.
    """
    rules = [rule.model_dump(mode="json") for rule in shipped_rule_set().rules]
    rules.append(FRUIT_RECOGNISED.model_dump(mode="json"))
    recognition.load_rules(cn, json.dumps({"rules": rules}).encode(), _as(cn, Role.SUPERVISOR))
    form_e = read_form_e(FRUIT_FORM_E)
    shared = certificate_of_origin.share(vn, form_e, cn.agency, _as(vn, Role.OFFICER))
    deliver_now(vn, shared.message_id)
    with schema_checked():
        certificate = PhytosanitaryCertificate.model_validate(read_json(FRUIT_CERTIFICATE))
        result = QuarantineResult.model_validate(read_json(FRUIT_RESULT))
    officer = _as(ppd, Role.OFFICER)
    attached = quarantine.attach_certificate(ppd, certificate, officer, recipient=cn.agency)
    deliver_now(ppd, quarantine.share_result(ppd, result, officer).message_id)
    for node, case_id, wanted in (
        (vn, shared.case_id, "accepted"),
        (ppd, attached.case_id, RecognitionOutcome.DOCUMENTARY_CHECK.value),
    ):
        status = _wait_status(node, case_id, {wanted})
        if status != wanted:
            raise CrossborderError("DEMO_NOT_ACCEPTED", status=status)
    return Documents(
        form_e_case=shared.case_id,
        form_e_number=form_e.certificate_number,
        consignment_case=attached.case_id,
        certificate_number=attached.certificate_number,
    )


def _truck_released(cn: Node, vn: Node) -> str:
    """Lạng Sơn notifies a truck of dragon fruit; Nanning decides its lane, green on the
    documents it holds, and releases the truck on arrival."""
    data = read_json(LANE_NOTICE)
    # The example's expected arrival is a fixed day: this truck is expected within the hour.
    expected = cn.now() + timedelta(hours=1)
    notice = LaneNotice.model_validate({**data, "expected_arrival": expected.isoformat()})
    sent = lane.notify(vn, notice, cn.agency, _as(vn, Role.OFFICER))
    _deliver(vn, sent.message_id)
    status = _wait_status(vn, sent.case_id, {"decided"})
    if status != "decided":
        raise CrossborderError("DEMO_NOT_ACCEPTED", status=status)
    arrived = lane.arrive(cn, sent.case_id, _as(cn, Role.OFFICER))
    if not arrived.released:
        raise CrossborderError("DEMO_NOT_ACCEPTED", status=case_view(cn, sent.case_id).case.status)
    _deliver(cn, *arrived.message_ids)
    status = _wait_status(vn, sent.case_id, {"released"})
    if status != "released":
        raise CrossborderError("DEMO_NOT_ACCEPTED", status=status)
    return sent.case_id


def _say_documents(cn: Node, documents: Documents, lang: str) -> None:
    """What the truck's lane rests on: the Form E accepted and the result recognised at Nanning."""
    locale = normalize_locale(lang)
    say(
        "cli.demo.form_e_accepted",
        lang,
        importer=agency_name(cn.agency, locale),
        issuer=agency_name(SIDES["vn"]["agency"], locale),
        number=documents.form_e_number,
        case_id=documents.form_e_case,
    )
    with cn.sessions() as session:
        held = quarantine.result_of(session, documents.consignment_case)
        decision = RecognitionDecision.model_validate(held.decision)
    say(
        "cli.demo.result_recognised",
        lang,
        importer=agency_name(cn.agency, locale),
        exporter=agency_name(SIDES["ppd"]["agency"], locale),
        number=documents.certificate_number,
        rule=decision.rule_id,
        case_id=documents.consignment_case,
    )


def _say_lane(node: Node, case_id: str, lang: str) -> None:
    """The truck's lane and every rule that fired, as the importing side decided them."""
    decided = lane.decision_of(node, case_id)
    say(
        "cli.demo.lane",
        lang,
        case_id=case_id,
        lane=translate(f"lane.{decided.lane.value}", lang),
    )
    for rule in decided.rules:
        say("cli.demo.lane_rule", lang, rule=translate(f"lane_rule.{rule.code.value}", lang))


app = typer.Typer()


@app.command("demo", help=N_("cli.help.demo"))
def demo(
    lang: Annotated[str, typer.Option("--lang", help=N_("cli.help.demo.lang"))] = "",
    folder: Annotated[Path, typer.Option("--dir", help=N_("cli.help.demo.dir"))] = Path(
        "demo-data"
    ),
    keep_serving: Annotated[
        bool, typer.Option("--keep-serving", help=N_("cli.help.demo.keep_serving"))
    ] = False,
) -> None:
    """Start two nodes, share a Form E from China to Vietnam, print both audit trails."""
    # Both sides' languages unless one is asked for: the demo shows the bilingual trail.
    languages = [reader_locale(lang)] if lang else ["zh_Hans", "vi"]
    with user_errors(languages[0]):
        run_demo(folder, languages, keep_serving=keep_serving)


def run_demo(folder: Path, languages: list[str], *, keep_serving: bool = False) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = folder / stamp
    settings_files = {
        name: _write_settings(base / name, side, _free_port()) for name, side in SIDES.items()
    }
    nodes = {name: bootstrap(load_settings(path)) for name, path in settings_files.items()}
    jwks_files = {}
    for name, node in nodes.items():
        jwks_files[name] = base / name / "public-jwks.json"
        jwks_files[name].write_text(
            json.dumps(public_jwks([node.signing_key, node.token_key])), "utf-8"
        )
    for node in nodes.values():
        _register_staff(node)
    password = _console_password(nodes)
    for one, other in (("cn", "vn"), ("vn", "cn"), ("cn", "ppd"), ("ppd", "cn")):
        _connect(nodes[one], nodes[other], jwks_files[other])

    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "crossborder", "node", "serve", "--config", str(path)],
        )
        for name, path in settings_files.items()
    }
    try:
        for name, process in processes.items():
            _wait_healthy(nodes[name].settings.base_url, process)
        say(
            "cli.demo.started",
            languages[0],
            cn=nodes["cn"].settings.base_url,
            vn=nodes["vn"].settings.base_url,
            ppd=nodes["ppd"].settings.base_url,
        )
        cn, vn, ppd = nodes["cn"], nodes["vn"], nodes["ppd"]
        form_e_case = _form_e_accepted(cn, vn)
        alert_case = _alert_acknowledged(cn, vn)
        documents = _documents_held(cn, vn, ppd)
        truck_case = _truck_released(cn, vn)
        for language in languages:
            for case_id in (form_e_case, alert_case, truck_case):
                print_case(cn, case_id, language)
                print_case(vn, case_id, language)
            _say_documents(cn, documents, language)
            _say_lane(cn, truck_case, language)
        _exchange_checkpoints(cn, vn, languages[0])
        say("cli.demo.done", languages[0], folder=str(base))
        if keep_serving:
            _serve_until_stopped(nodes, password, languages[0])
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=15)
