"""The README's own examples, run word for word as a person runs them: two real nodes, every
command a process of its own, exit codes checked and no traceback ever shown.

A block of the README marked ``<!-- run: NAME -->`` is split into commands (a
heredoc or a ``\\`` continuation is one command) and each runs in ``bash`` in a
folder of its own, where ``contracts/`` is the repository's. Only what cannot
be the same on every machine is changed: the nodes' ports (8401 to 8403 in the
README) become free ones, and the example ids the README shows (a case id, a
message id) become the ones the commands before it printed. A command ending in
``&`` is a node: it is started, and the next command waits until it answers.
A command followed by ``# exits N`` must exit with ``N``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from crossborder.i18n import translate
from tests.factories import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_PORTS = ("8401", "8402", "8403")
CASE_ID = re.compile(r"\b(?:CN|VN)-[A-Z0-9]+-\d{8}-[0-9A-F]{6}\b")
MESSAGE_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\b")
EXPECTED_EXIT = re.compile(r"#\s*exits (\d+)")


def block(name: str) -> str:
    """The ``sh`` block after the marker ``<!-- run: name -->``."""
    text = README.read_text("utf-8")
    found = re.search(rf"<!-- run: {re.escape(name)} -->\s*```sh\n(.*?)```", text, re.DOTALL)
    assert found, f"README has no block marked run: {name}"
    return found.group(1)


def commands(text: str) -> Iterator[str]:
    """One command at a time: heredocs and ``\\`` continuations joined, comments left out."""
    lines = iter(text.splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command = line
        heredoc = re.search(r"<<-?'?(\w+)'?", line)
        if heredoc:
            for body in lines:
                command += "\n" + body
                if body.strip() == heredoc.group(1):
                    break
        while command.rstrip().endswith("\\"):
            command += "\n" + next(lines)
        yield command


@dataclass
class Session:
    """A shell user's folder, their nodes, and the ids the commands have printed so far."""

    folder: Path
    ports: dict[str, str]
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    case_ids: dict[str, str] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CROSSBORDER_", "PREFECT_", "LC_")) and k != "LANG"
        }
        # The README's `crossborder` is the one installed with this interpreter.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["COLUMNS"] = "200"
        return env

    def as_written_here(self, command: str) -> str:
        for readme_port, port in self.ports.items():
            command = command.replace(readme_port, port)
        command = CASE_ID.sub(lambda found: self.case_ids.get(_prefix(found[0]), found[0]), command)
        if self.message_ids:
            command = MESSAGE_ID.sub(self.message_ids[-1], command)
        return command

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        expected = EXPECTED_EXIT.search(command)
        shell = self.as_written_here(command)
        if shell.rstrip().endswith("&"):
            self.start(shell.rstrip().removesuffix("&"))
            return subprocess.CompletedProcess(shell, 0, "", "")
        done = subprocess.run(
            ["bash", "-c", shell],
            cwd=self.folder,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in done.stderr + done.stdout, (command, done.stderr)
        assert done.returncode == (int(expected[1]) if expected else 0), (
            command,
            done.stdout,
            done.stderr,
        )
        # The README's example case of an agency is the first one the commands open.
        for found in CASE_ID.findall(done.stdout):
            self.case_ids.setdefault(_prefix(found), found)
        self.message_ids += MESSAGE_ID.findall(done.stdout + done.stderr)
        return done

    def start(self, shell: str) -> None:
        log = self.folder / f"node-{len(self.nodes)}.log"
        with log.open("wb") as output:  # the node writes to its own copy of the file
            node = subprocess.Popen(
                ["bash", "-c", f"exec {shell}"],
                cwd=self.folder,
                env=self.environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.nodes.append(node)
        # The README starts its nodes in the order of its ports.
        port = self.ports[README_PORTS[len(self.nodes) - 1]]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert node.poll() is None, log.read_text("utf-8")
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"{shell} did not answer within 60 s")

    def stop(self) -> None:
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.wait(timeout=15)


def _prefix(case_id: str) -> str:
    return case_id.rsplit("-", 2)[0]


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Session]:
    (tmp_path / "contracts").symlink_to(ROOT / "contracts")
    session = Session(tmp_path, {port: str(free_port()) for port in README_PORTS})
    try:
        yield session
    finally:
        session.stop()


def test_the_readme_two_nodes_and_the_officers_commands(shell: Session) -> None:
    shown = [
        shell.run(command).stdout
        for name in ("settings", "officers", "connect", "serve", "certificate")
        + ("certificate-later", "quarantine", "lane")
        for command in commands(block(name))
    ]
    sent = [out for out in shown if translate("cli.delivery.delivered", "en") in out]
    # Form E, decision, alert; amendment, acceptance, verification request and reply,
    # revocation; quarantine result, notice, acknowledgement; the truck's notice, arrival,
    # inspection, countersignature and release
    assert len(sent) == 16
    # The Form E the truck's notice names is not held at Nanning: yellow, and shown so.
    assert "判定为黄色通道" in shown[-2]
    assert not [out for out in shown if translate("cli.delivery.pending", "en") in out]
    exported = (shell.folder / "审计记录.csv").read_bytes()
    assert exported.startswith(b"\xef\xbb\xbf") and "李伟".encode() in exported
    banner = (shell.folder / "node-0.log").read_text("utf-8")
    assert "CN-NNCUS" in banner and f"127.0.0.1:{shell.ports['8401']}" in banner


def test_the_readme_refusal_and_resend(shell: Session) -> None:
    shown = [
        shell.run(command)
        for name in ("settings", "officers", "connect", "serve", "refused")
        for command in commands(block(name))
    ]
    refused, *_, resent, outbox = shown[-6:][1:]
    assert "SCOPE_MISSING" in refused.stderr and "outbox resend" in refused.stderr
    # The counterpart's own words, never our sentence with a hole where its parameter was.
    assert "alert:write" in refused.stderr and "{scope}" not in refused.stderr
    assert translate("cli.delivery.delivered", "en") in resent.stdout
    assert outbox.stdout.strip() == translate("cli.outbox.none", "en")  # nothing waits


def test_the_readme_ephyto_at_a_desk(shell: Session) -> None:
    for command in commands(block("ephyto")):
        shell.run(command)
    written = (shell.folder / "certificate.xml").read_text("utf-8")
    assert "SPSCertificate" in written and "VNPPD2026LS004512" in written
