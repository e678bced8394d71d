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
    # Three cases, the Form E, the alert and the truck, each as both sides recorded it.
    assert out.count("CN-NNCUS审计记录") == 3 and out.count("VN-CUSKV6审计记录") == 3
    # The information notice was acknowledged by Vietnam's node, by rule.
    assert out.count("预警，状态：已确认") == 2 and "已确认南宁海关的预警" in out
    assert out.count("cảnh báo — trạng thái: đã xác nhận") == 2
    # The truck of dragon fruit was released on both sides, its lane and rules shown in both
    # languages: Nanning holds no Form E or quarantine result it names, so it is yellow.
    assert out.count("鲜活农产品绿色通道，状态：已放行") == 2
    assert out.count("luồng xanh nông sản — trạng thái: đã thông quan") == 2
    assert "一车火龙果经鲜活农产品绿色通道" in out and "黄色" in out
    assert "  · 本方未收到原产地证书" in out and "  · chưa nhận được C/O" in out
    databases = sorted(path.name for path in tmp_path.glob("*/*/node.db"))
    assert databases == ["node.db", "node.db"]  # left for inspection, one per node
