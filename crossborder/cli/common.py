"""What every command shares: settings, the node, printing in the user's language."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from crossborder.bootstrap import Node, bootstrap
from crossborder.domain.errors import CrossborderError, InvalidInput, Violation
from crossborder.domain.free_text import FreeText, LanguageTag
from crossborder.domain.validation import schema_checked
from crossborder.i18n import N_, error_message, normalize_locale, translate
from crossborder.settings import Settings

console = Console()
err_console = Console(stderr=True)

LangOption = Annotated[str, typer.Option("--lang", help=N_("cli.help.lang"))]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="CROSSBORDER_SETTINGS_FILE", help=N_("cli.help.config")),
]
#: Options and arguments many commands take, with one help text each.
CaseIdArgument = Annotated[str, typer.Argument(help=N_("cli.help.case_id"))]
TzOption = Annotated[str | None, typer.Option("--tz", help=N_("cli.help.tz"))]
NoteLangOption = Annotated[str, typer.Option("--note-lang", help=N_("cli.help.note_lang"))]
ReasonLangOption = Annotated[str, typer.Option("--reason-lang", help=N_("cli.help.reason_lang"))]


def load_settings(config: Path | None) -> Settings:
    if config is not None:
        return Settings(_env_file=config)
    return Settings()


def open_node(config: Path | None) -> Node:
    return bootstrap(load_settings(config))


def officer() -> str:
    return getpass.getuser()


def say(key: str, lang: str, **params: Any) -> None:
    """Print a catalog text as it is: an officer's words may hold brackets, never console markup."""
    console.print(translate(key, normalize_locale(lang), **params), highlight=False, markup=False)


@contextmanager
def user_errors(lang: str) -> Iterator[None]:
    """Show a coded error in the user's language, with every violation, and exit 2."""
    try:
        yield
    except CrossborderError as error:
        locale = normalize_locale(lang)
        message = error_message(error.code, locale, **error.params)
        err_console.print(f"[bold red]{error.code}[/]: {message}", highlight=False)
        print_violations(error.violations, locale)
        sys.exit(2)


def print_violations(violations: Iterable[Violation], lang: str) -> None:
    """Each broken rule on a line of its own: code, field path, text in the user's language.

    Paths like ``items[0].hs_code`` or ``ram:Item[2]`` are not console markup, and
    stay on one line to be copied.
    """
    locale = normalize_locale(lang)
    for violation in violations:
        params = violation.params
        message = translate(f"error.{violation.code}", locale, field=violation.field, **params)
        line = f"  - {violation.code} {violation.field}: {message}"
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)


#: How far delivery got when the command returned, as an officer reads it.
DELIVERY_KEYS = {
    "delivered": "cli.delivery.delivered",
    "pending": "cli.delivery.pending",
    "failed": "cli.delivery.failed",
}


def delivery_text(status: str, lang: str) -> str:
    return translate(DELIVERY_KEYS[status], normalize_locale(lang))


def print_sent(key: str, lang: str, case_id: str, delivery_status: str) -> None:
    say(key, lang, case_id=case_id, delivery=delivery_text(delivery_status, lang))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file an officer names; the codes say what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("FILE_UNREADABLE", path=str(path)) from exc
    except ValueError as exc:
        raise InvalidInput("JSON_MALFORMED") from exc
    if not isinstance(data, dict):
        raise InvalidInput("JSON_MALFORMED")
    return data


_LANGUAGE_TAGS: dict[str, LanguageTag] = {
    "zh": "zh-Hans",
    "zh-hans": "zh-Hans",
    "vi": "vi",
    "en": "en",
}


def free_text(text: str, lang: str) -> FreeText:
    """An officer's words with the language they say they wrote in (``--note-lang vi``)."""
    tag = _LANGUAGE_TAGS.get(lang.lower().replace("_", "-"))
    if tag is None:
        raise InvalidInput("LANGUAGE_UNKNOWN", lang=lang)
    with schema_checked():
        return FreeText(lang=tag, text=text)
