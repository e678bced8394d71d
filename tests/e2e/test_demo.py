"""The README's first command: the demo, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def run_demo(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "crossborder", "demo", "--dir", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


def test_demo_prints_both_audit_trails_in_chinese_and_vietnamese(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "南宁海关" in out and "Hải quan Nam Ninh" in out
    assert "(+08:00)" in out and "(+07:00)" in out  # each side in its own time zone
    # Two cases, the Form E and the alert, each as both sides recorded it.
    assert out.count("CN-NNCUS审计记录") == 2 and out.count("VN-CUSKV6审计记录") == 2
    # The information notice was acknowledged by Vietnam's node, by rule.
    assert out.count("预警，状态：已确认") == 2 and "已确认南宁海关的预警" in out
    assert out.count("cảnh báo — trạng thái: đã xác nhận") == 2
    databases = sorted(path.name for path in tmp_path.glob("*/*/node.db"))
    assert databases == ["node.db", "node.db"]  # left for inspection, one per node
