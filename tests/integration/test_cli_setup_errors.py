"""The command line as an operator meets it: wrong settings, a taken port, an unknown language.

Each is run as a process of its own, as a person runs it: one line with a
stable code in the reader's language, exit code 2, and never a traceback
unless ``--debug`` asks for one. Nothing an officer waits for loads Prefect.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import staff_node

CROSSBORDER = [sys.executable, "-m", "crossborder"]


def run(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSBORDER_", "LC_"))}
    env.pop("LANG", None)
    env |= {"COLUMNS": "200", **environ}
    return subprocess.run(
        [*CROSSBORDER, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def settings(tmp_path: Path, **values: str) -> Path:
    defaults = {
        "AGENCY": "VN-CUSKV6",
        "COUNTRY": "VN",
        "TIMEZONE": "Asia/Ho_Chi_Minh",
        "BASE_URL": "http://127.0.0.1:9",
        "DATA_DIR": str(tmp_path / "vn"),
    }
    path = tmp_path / "vn.env"
    lines = (f"CROSSBORDER_{k}={v}\n" for k, v in {**defaults, **values}.items() if v)
    path.write_text("".join(lines), "utf-8")
    return path


def one_coded_line(done: subprocess.CompletedProcess[str], code: str, exit_code: int = 2) -> None:
    assert done.returncode == exit_code, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith(f"{code}: "), done.stderr


@pytest.mark.parametrize(
    ("values", "code", "violation"),
    [
        ({"TIMEZONE": "Asia/Hanoi"}, "SETTINGS_INVALID", "TIMEZONE_SETTING_UNKNOWN"),
        ({"AGENCY": ""}, "SETTINGS_INVALID", "FIELD_MISSING CROSSBORDER_AGENCY"),
        ({"DATABASE_URL": "postgresql://crossborder@db.invalid/x"}, "DATABASE_UNREACHABLE", ""),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL_INVALID", ""),
        ({"DATABASE_URL": "mysql://root:secret@127.0.0.1/x"}, "DATABASE_URL_INVALID", ""),
    ],
)
def test_a_wrong_setting_is_one_line_in_the_readers_language(
    tmp_path: Path, values: dict[str, str], code: str, violation: str
) -> None:
    done = run("case", "list", "--config", str(settings(tmp_path, **values)), CROSSBORDER_LANG="vi")
    one_coded_line(done, code)
    assert violation in done.stderr
    assert "secret" not in done.stderr  # a password never reaches the screen


def test_debug_shows_the_traceback_behind_the_line(tmp_path: Path) -> None:
    config = settings(tmp_path, DATABASE_URL="not a url")
    done = run("--debug", "case", "list", "--config", str(config))
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "DATABASE_URL_INVALID" in done.stderr


def test_an_unreadable_key_and_a_missing_settings_file(tmp_path: Path) -> None:
    config = settings(tmp_path)
    staff_node(config)
    (tmp_path / "vn" / "keys" / "signing.jwk.json").write_text("not a key", "utf-8")
    one_coded_line(run("case", "list", "--config", str(config)), "KEY_UNREADABLE")
    missing = run("case", "list", "--config", str(tmp_path / "nowhere.env"))
    one_coded_line(missing, "CONFIG_FILE_UNREADABLE")


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = settings(tmp_path, BASE_URL=f"http://127.0.0.1:{port}")
        done = run("node", "serve", "--config", str(config), CROSSBORDER_LANG="zh_Hans")
    one_coded_line(done, "PORT_IN_USE")
    assert str(port) in done.stderr and "端口" in done.stderr


def test_an_unknown_language_lists_the_choices() -> None:
    done = run("case", "list", "--lang", "vn")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "vn" in done.stderr and "zh_Hans, vi, en" in done.stderr


def test_output_follows_crossborder_lang_like_help(tmp_path: Path) -> None:
    config = settings(tmp_path)
    staff_node(config)
    done = run(
        "case", "list", "--config", str(config), CROSSBORDER_OFFICER="officer", LANG="vi_VN.UTF-8"
    )
    assert done.returncode == 0, done.stderr
    assert "Mã vụ việc" in done.stdout or "vụ việc" in done.stdout.lower()


def test_no_officer_command_loads_prefect_or_more_than_it_needs() -> None:
    """``--help`` loads no service at all; a case list loads no web stack, XML schema or Prefect."""
    probe = (
        "import sys\n"
        "from crossborder.cli.main import app\n"
        "try:\n"
        "    app(sys.argv[1:], prog_name='crossborder')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSBORDER_")}
    shown = subprocess.run(
        [sys.executable, "-c", probe, "--help"], env=env, capture_output=True, text=True, check=True
    )
    loaded = set(shown.stdout.split())
    assert not loaded & {"prefect", "sqlalchemy", "fastapi", "uvicorn", "xmlschema", "httpx"}
    listed = subprocess.run(
        [sys.executable, "-c", probe, "case", "list", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert not set(listed.stdout.split()) & {"prefect", "fastapi", "uvicorn", "xmlschema"}
