"""What every command shares: settings, the node, printing in the user's language."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from crossborder.bootstrap import Node, bootstrap
from crossborder.domain.errors import CrossborderError
from crossborder.i18n import N_, error_message, normalize_locale, translate
from crossborder.settings import Settings

console = Console()
err_console = Console(stderr=True)

LangOption = Annotated[str, typer.Option("--lang", help=N_("cli.help.lang"))]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="CROSSBORDER_SETTINGS_FILE", help=N_("cli.help.config")),
]


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
        for violation in error.violations:
            message = translate(
                f"error.{violation.code}", locale, field=violation.field, **violation.params
            )
            err_console.print(f"  - {violation.code} {violation.field}: {message}", highlight=False)
        sys.exit(2)
