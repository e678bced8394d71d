"""A liaison officer's bad input: a coded error in their language, exit code 1, nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from crossborder.adapters.db.tables import Case
from crossborder.cli.main import app
from tests.factories import form_e_data, staff_node

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "node.env"
    path.write_text(
        "CROSSBORDER_AGENCY=CN-NNCUS\nCROSSBORDER_COUNTRY=CN\nCROSSBORDER_TIMEZONE=Asia/Shanghai\n"
        f"CROSSBORDER_BASE_URL=http://127.0.0.1:9\nCROSSBORDER_DATA_DIR={tmp_path / 'cn'}\n",
        "utf-8",
    )
    return path


def cases(tmp_path: Path) -> int:
    from crossborder.adapters.db.engine import make_engine

    database = tmp_path / "cn" / "node.db"
    if not database.exists():  # the file was refused before the node was opened
        return 0
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        count = int(connection.scalar(select(func.count()).select_from(Case)) or 0)
    engine.dispose()
    return count


@pytest.mark.parametrize(
    ("content", "lang", "code", "expected_text"),
    [
        ("{not json", "vi", "JSON_MALFORMED", "JSON"),
        (
            json.dumps({**form_e_data(), "colour": "red"}),
            "zh_Hans",
            "SCHEMA_INVALID",
            "FIELD_UNKNOWN",
        ),
        (
            json.dumps(
                {
                    **form_e_data(),
                    "items": [{**form_e_data()["items"][0], "hs_code": "010000"}],
                }
            ),
            "vi",
            "FORM_E_INVALID",
            "FORM_E_HS_CODE_UNKNOWN",
        ),
    ],
)
def test_co_send_refuses_bad_files_in_the_officers_language(
    tmp_path: Path, config: Path, content: str, lang: str, code: str, expected_text: str
) -> None:
    staff_node(config)
    form = tmp_path / "form-e.json"
    form.write_text(content, "utf-8")
    result = runner.invoke(
        app, ["co", "send", str(form), "--to", "VN-CUSKV6", "--lang", lang, "--config", str(config)]
    )
    assert result.exit_code == 1
    assert code in result.stderr and expected_text in result.stderr
    assert f"error.{code}" not in result.stderr  # a real sentence, not the bare key
    assert cases(tmp_path) == 0


def test_case_show_of_an_unknown_case(config: Path) -> None:
    staff_node(config)
    arguments = ["case", "show", "CN-NNCUS-20261127-ABCDEF", "--lang", "zh_Hans"]
    result = runner.invoke(app, [*arguments, "--config", str(config)])
    assert result.exit_code == 1
    assert "CASE_UNKNOWN" in result.stderr
