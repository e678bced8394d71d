"""How long a liaison officer waits for a command: ``crossborder`` run whole, as a person runs it.

Two real nodes (Nanning Customs and Regional Customs Branch VI, each ``node
serve`` in a process of its own, SQLite) are connected with the command line
itself, as the README does it. Then each command below runs ``--runs`` times,
interleaved round by round so that a busy moment of a shared machine hits them
all alike, next to ``python -c pass`` — the floor of starting any Python
program on this machine, measured in the same rounds:

- ``--help``, ``case list``, ``case show``: reading;
- ``co send``: a Form E shared and delivered to the other node (receipt back);
- ``co decide``: the importing side queries it, delivered back.

Printed: median and maximum wall time and CPU time of each, and the median's
ratio to the floor's. Usage: ``python bench/cli.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from measuring import BenchFailed, free_port, out

ROOT = Path(__file__).resolve().parents[1]
FORM_E = ROOT / "contracts" / "examples" / "payloads" / "form-e.json"
CROSSBORDER = [sys.executable, "-m", "crossborder"]
SIDES = {
    "cn": {
        "agency": "CN-NNCUS",
        "country": "CN",
        "timezone": "Asia/Shanghai",
        "officer": "li.wei",
        "officer_name": "李伟",
    },
    "vn": {
        "agency": "VN-CUSKV6",
        "country": "VN",
        "timezone": "Asia/Ho_Chi_Minh",
        "officer": "nguyen.lan",
        "officer_name": "Nguyễn Thị Lan",
        # The importing side decides by hand, as `co decide` is measured.
        "auto_accept_certificates": "false",
    },
}
SCOPES = "co:write sps:write alert:write audit:write"
CASE_ID = re.compile(r"CN-NNCUS-\d{8}-[0-9A-F]{6}")


def environment(config: Path | None = None, officer: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSBORDER_")}
    env["CROSSBORDER_LANG"] = "en"
    if config is not None:
        env["CROSSBORDER_SETTINGS_FILE"] = str(config)
    if officer is not None:
        env["CROSSBORDER_OFFICER"] = officer
    return env


def crossborder(*args: str, config: Path, officer: str | None = None) -> str:
    done = subprocess.run(
        [*CROSSBORDER, *args],
        env=environment(config, officer),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchFailed(f"crossborder {' '.join(args)}: {done.returncode}\n{done.stderr}")
    return done.stdout


def write_settings(folder: Path, side: dict[str, str], port: int) -> Path:
    values = {k: v for k, v in side.items() if not k.startswith("officer")}
    values |= {"base_url": f"http://127.0.0.1:{port}", "data_dir": str(folder)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "node.env"
    path.write_text("".join(f"CROSSBORDER_{k.upper()}={v}\n" for k, v in values.items()), "utf-8")
    return path


def connect(configs: dict[str, Path], folder: Path) -> None:
    """What each side's operator does once, with the commands the README gives."""
    for name, config in configs.items():
        side = SIDES[name]
        operator = f"operator.{name}"
        crossborder("officer", "add", operator, "--name", operator, "--role", "operator",
                    config=config)  # fmt: skip
        crossborder(
            "officer", "add", side["officer"], "--name", side["officer_name"],
            "--role", "officer", config=config, officer=operator,
        )  # fmt: skip
        (folder / f"{name}-jwks.json").write_text(crossborder("node", "jwks", config=config))
    for name, other in (("cn", "vn"), ("vn", "cn")):
        jwks = str(folder / f"{other}-jwks.json")
        agency, other_agency = SIDES[name]["agency"], SIDES[other]["agency"]
        url = f"http://127.0.0.1:{port_of(configs[other])}"
        operator = f"operator.{name}"
        crossborder(
            "counterpart", "add", other_agency, "--url", url, "--jwks", jwks,
            "--client-id", agency, "--scope", SCOPES, config=configs[name], officer=operator,
        )  # fmt: skip
        crossborder(
            "client", "add", other_agency, "--agency", other_agency, "--jwks", jwks,
            "--scopes", SCOPES, config=configs[name], officer=operator,
        )  # fmt: skip


def port_of(config: Path) -> int:
    for line in config.read_text("utf-8").splitlines():
        if line.startswith("CROSSBORDER_BASE_URL="):
            return int(line.rsplit(":", 1)[1])
    raise BenchFailed(f"no base URL in {config}")


@contextmanager
def serving(config: Path, log: Path) -> Iterator[None]:
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*CROSSBORDER, "node", "serve"],
            env=environment(config),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port_of(config)}/v1/health"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise BenchFailed(log.read_text("utf-8", errors="replace")[-2000:])
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise BenchFailed(f"{url} did not answer within 60 s")
            yield
        finally:
            process.terminate()
            process.wait(timeout=15)


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def timed(command: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one whole command (the child's own CPU, from rusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchFailed(f"{' '.join(command)}: {done.returncode}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def form_e_file(folder: Path, serial: int) -> Path:
    data = json.loads(FORM_E.read_text("utf-8"))
    path = folder / f"form-e-{serial}.json"
    path.write_text(json.dumps({**data, "certificate_number": f"E2645-CLI-{serial:07d}"}))
    return path


def measure(folder: Path, configs: dict[str, Path], runs: int) -> dict[str, Timings]:
    cn = environment(configs["cn"], SIDES["cn"]["officer"])
    vn = environment(configs["vn"], SIDES["vn"]["officer"])
    results = {name: Timings() for name in ("python -c pass", "--help", "case list", "case show")}
    results |= {"co send": Timings(), "co decide": Timings()}

    def run(name: str, command: Sequence[str], env: dict[str, str]) -> str:
        wall, cpu, stdout = timed(command, env)
        results[name].wall.append(wall)
        results[name].cpu.append(cpu)
        return stdout

    for serial in range(1, runs + 1):
        run("python -c pass", [sys.executable, "-c", "pass"], cn)
        run("--help", [*CROSSBORDER, "--help"], cn)
        sent = run("co send", [*CROSSBORDER, "co", "send", str(form_e_file(folder, serial))], cn)
        case_id = CASE_ID.findall(sent)[0]
        if "delivered" not in sent:
            raise BenchFailed(f"co send was not delivered: {sent}")
        run("case list", [*CROSSBORDER, "case", "list"], cn)
        run("case show", [*CROSSBORDER, "case", "show", case_id], cn)
        decide = ["co", "decide", case_id, "--decision", "queried", "--reason", "INVOICE_MISMATCH"]
        decided = run("co decide", [*CROSSBORDER, *decide], vn)
        if "delivered" not in decided:
            raise BenchFailed(f"co decide was not delivered: {decided}")
    return results


def report(results: dict[str, Timings], runs: int) -> None:
    floor = statistics.median(results["python -c pass"].wall)
    out(f"{runs} runs of each command, interleaved; two nodes on SQLite over loopback HTTP")
    out(f"{'command':<16}{'median':>9}{'max':>9}{'cpu med':>9}{'× floor':>9}")
    for name, timings in results.items():
        median = statistics.median(timings.wall)
        out(
            f"{name:<16}{median * 1000:>7.0f}ms{max(timings.wall) * 1000:>7.0f}ms"
            f"{statistics.median(timings.cpu) * 1000:>7.0f}ms{median / floor:>8.1f}×"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args(argv)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cli-")))
        configs = {
            name: write_settings(folder / name, side, free_port()) for name, side in SIDES.items()
        }
        connect(configs, folder)
        for name, config in configs.items():
            stack.enter_context(serving(config, folder / f"{name}.log"))
        report(measure(folder, configs, options.runs), options.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
