"""The command line's help, in the reader's language, every text of it from the catalogs.

An officer at Hữu Nghị reads ``crossborder co send --help`` in Vietnamese, one at
Youyiguan in Chinese. Help texts are declared as catalog keys and replaced when the
command runs; these tests show the replacement happening for a group, a command, an
argument and an option, and walk the whole command tree so that a help text written
as an English literal, or a key without a text in some language, fails the build.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from crossborder.cli.help import PANEL_TITLES, help_key, help_locale, parameters, walk
from crossborder.cli.main import LAZY, app, load
from crossborder.i18n import LOCALES, catalog, translate

#: No locale variable at all, so that the developer's own environment cannot leak in.
NO_LOCALE: dict[str, str | None] = {
    "CROSSBORDER_LANG": None,
    "LC_ALL": None,
    "LC_MESSAGES": None,
    "LANG": None,
}

runner = CliRunner()


def flat(text: str) -> str:
    """Help output without its layout: the panels wrap long texts over several lines."""
    return "".join(char for char in text if not char.isspace() and char not in "│╭╮╰╯─")


def help_screen(args: list[str], **environ: str | None) -> str:
    result = runner.invoke(app, [*args, "--help"], env={**NO_LOCALE, **environ})
    assert result.exit_code == 0, result.output
    return flat(result.output)


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        ([], ["cli.help.main", "cli.help.co", "cli.help.help", "cli.help.panel.commands"]),
        (["co"], ["cli.help.co", "cli.help.co.send", "cli.help.co.verify_request"]),
        (
            ["co", "send"],
            [
                "cli.help.co.send",
                "cli.help.co.send.form_e",
                "cli.help.co.send.to",
                "cli.help.lang",
                "cli.help.panel.arguments",
                "cli.help.panel.options",
            ],
        ),
        (
            ["quarantine", "rules", "load"],
            [
                "cli.help.quarantine.rules.load",
                "cli.help.quarantine.rules.load.rules_file",
                "cli.help.config",
            ],
        ),
        (
            ["alert", "reconcile"],
            [
                "cli.help.alert.reconcile",
                "cli.help.case_id",
                "cli.help.alert.reconcile.channel",
                "cli.help.alert.reconcile.reference",
            ],
        ),
    ],
    ids=["crossborder", "co", "co send", "quarantine rules load", "alert reconcile"],
)
def test_help_is_shown_in_the_language_crossborder_lang_names(
    args: list[str], keys: list[str]
) -> None:
    shown = help_screen(args, CROSSBORDER_LANG="vi", LANG="zh_CN.UTF-8")
    for key in keys:
        assert flat(translate(key, "vi")) in shown, key
        assert flat(translate(key, "en")) not in shown, key


def test_the_posix_locale_chooses_the_language_when_crossborder_lang_is_not_set() -> None:
    shown = help_screen(["co", "send"], LC_MESSAGES="zh_CN.UTF-8")
    assert flat(translate("cli.help.co.send.to", "zh_Hans")) in shown
    assert flat(translate("cli.help.help", "zh_Hans")) in shown


def test_the_entry_point_itself_shows_translated_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``crossborder`` calls the Typer app directly, not through the test runner."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the app installs its own
    for name in NO_LOCALE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    with pytest.raises(SystemExit) as exited:
        app(["co", "--help"], prog_name="crossborder")
    assert exited.value.code == 0
    shown = flat(capsys.readouterr().out)
    assert flat(translate("cli.help.co.send", "vi")) in shown
    assert flat(translate("cli.help.panel.commands", "vi")) in shown


def test_help_is_english_without_any_locale() -> None:
    shown = help_screen(["co", "send"])
    assert flat(translate("cli.help.co.send.to", "en")) in shown
    assert "cli.help." not in shown


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "vi_VN.UTF-8"}, "vi"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_Hans"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "vi_VN.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh_Hans"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LC_ALL": "vi_VN.UTF-8"}, "vi"),
        ({"LC_ALL": "zh_CN.UTF-8", "CROSSBORDER_LANG": "vi"}, "vi"),
        ({"LC_ALL": "", "LANG": "vi_VN.UTF-8", "CROSSBORDER_LANG": ""}, "vi"),
    ],
)
def test_help_locale_takes_ours_then_the_posix_variables(
    environ: dict[str, str], expected: str
) -> None:
    assert help_locale(environ) == expected


def _untranslated(command: Any) -> list[str]:
    """What in one command has help that is not a catalog key (or no help at all)."""
    missing = [] if help_key(command) else ["the command itself"]
    for param in parameters(command):
        if not help_key(param):
            missing.append(param.opts[0] if param.opts else str(param.name))
    return missing


def _tree() -> list[tuple[tuple[str, ...], Any]]:
    """The whole tree, every group loaded (the command line loads only the one it runs)."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    for name in LAZY:
        root.commands[name] = load(name)
    return list(walk(root))


def test_the_tree_holds_every_group_and_command() -> None:
    paths = {path for path, _ in _tree()}
    assert {path[0] for path in paths if path} == set(LAZY)
    for expected in [("counterpart", "add"), ("client", "add"), ("co", "send"), ("demo",)]:
        assert expected in paths


def test_every_group_command_argument_and_option_has_help_from_the_catalog() -> None:
    problems = []
    for path, command in _tree():
        where = " ".join(("crossborder", *path))
        problems += [f"{where}: {item} has no help key" for item in _untranslated(command)]
        keys = [help_key(command), *(help_key(param) for param in parameters(command))]
        for key in filter(None, keys):
            for locale in LOCALES:
                if key not in catalog(locale):
                    problems.append(f"{where}: {key} has no {locale} text")
    assert not problems, "\n".join(problems)


def test_panel_titles_have_every_language() -> None:
    for key in PANEL_TITLES.values():
        assert all(key in catalog(locale) for locale in LOCALES), key
