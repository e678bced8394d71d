"""What the benchmarks share: output, ports, CPU accounting from /proc, and the figures.

Each benchmark is a script (``python bench/<name>.py``), so this module is found
next to it on the import path.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Protocol

POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
#: A process this busy (in cores) is taken to be CPU-bound.
SATURATED = 0.85
#: Other processes this busy (in cores) make the figures a shared machine's, not ours.
NOISY = 0.25


class BenchFailed(RuntimeError):
    """The run could not measure what it claims to (a message not delivered, a node down)."""


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminated(_signum: int, _frame: FrameType | None) -> None:
    """A SIGTERM stops the run as a Ctrl-C does, so the same cleanup runs."""
    raise KeyboardInterrupt


# --- CPU accounting (from /proc on Linux; elsewhere only this process's own time) --------------


def _stat_cpu(stat: Path) -> tuple[str, float] | None:
    """A process's name and its user + system CPU seconds, from its ``/proc/<pid>/stat``."""
    try:
        text = stat.read_text()
    except OSError:
        return None
    name, _, rest = text.partition("(")[2].rpartition(")")
    fields = rest.split()
    # utime and stime, fields 14 and 15 of proc(5): the 12th and 13th after the name.
    return name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    found = _stat_cpu(Path(f"/proc/{pid}/stat"))
    return None if found is None else found[1]


def postgres_cpu_seconds() -> float | None:
    """CPU seconds of the PostgreSQL server processes on this machine, whoever they serve."""
    if not Path("/proc/self/stat").exists():
        return None
    readings = (_stat_cpu(stat) for stat in Path("/proc").glob("[0-9]*/stat"))
    return sum(found[1] for found in readings if found is not None and found[0] == "postgres")


def machine_cpu_seconds() -> float | None:
    """Busy CPU seconds of the whole machine so far: every process, every CPU."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def minus(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else end - start


def cpus() -> int:
    return os.cpu_count() or 1


# --- the figures ---------------------------------------------------------------------------------


def quantile_ms(seconds: Iterable[float], percent: int) -> float:
    """The ``percent``-th percentile of durations in seconds, in milliseconds."""
    return statistics.quantiles(list(seconds), n=100, method="inclusive")[percent - 1] * 1000


class Rated(Protocol):
    @property
    def rate(self) -> float: ...


def median_rate(rounds: Iterable[Rated]) -> float:
    """The median of the rounds' rates: one slow round on a shared machine does not move it."""
    return statistics.median(r.rate for r in rounds)
