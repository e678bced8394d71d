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
    # The truck of dragon fruit was released on both sides through the green lane, on
    # documents Nanning holds: the Form E Lạng Sơn shared, which it accepted, and the
    # quarantine result of Vietnam's plant protection, which its own rule recognised.
    assert out.count("鲜活农产品绿色通道，状态：已放行") == 2
    assert out.count("luồng xanh nông sản — trạng thái: đã thông quan") == 2
    assert "已接受越南第六区域海关分局共享的该批火龙果原产地证书（FORM E）VN-CN26/00123" in out
    assert "依本方规则VN-PPD-081090-DOCUMENTARY互认越南种植与植物保护局" in out
    assert "Hải quan Nam Ninh đã chấp nhận C/O mẫu E số VN-CN26/00123" in out
    assert "一车火龙果经鲜活农产品绿色通道" in out and "，绿色（仅审单）。" in out
    assert ", mức xanh (chỉ kiểm tra hồ sơ)." in out
    rules = [line for line in out.splitlines() if line.startswith("  · ")]
    assert rules == [
        "  · 全部商品列入绿色通道目录",
        "  · 原产地证书已接受",
        "  · 检疫结果已互认（仅审单）",
        "  · mọi mặt hàng đều thuộc danh mục luồng xanh nông sản",
        "  · C/O đã được chấp nhận",
        "  · kết quả kiểm dịch được công nhận (chỉ kiểm tra hồ sơ)",
    ]
    assert "黄色" not in out and "mức vàng" not in out
    databases = sorted(path.name for path in tmp_path.glob("*/*/node.db"))
    assert databases == ["node.db"] * 3  # left for inspection, one per node
