"""What every command shares: settings, the node, printing in the user's language.

A command's body is ``with node_command(lang, config) as node``: read its input,
name the officer (``acting``), call one service, then ``report_sent`` (when it
sends a message) or print. Everything a
person can get wrong — their file, a rule the node applies, the node's settings,
the counterpart's answer — arrives here as a coded error and leaves as one line
in their language. Exit codes: 0 done, 1 refused, 2 usage or configuration.
"""

from __future__ import annotations

import string
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from crossborder.domain.delivery import OutboxStatus
from crossborder.domain.errors import (
    ConfigurationError,
    CrossborderError,
    InvalidInput,
    NotFound,
    Violation,
)
from crossborder.domain.free_text import FreeText
from crossborder.domain.officer_files import officer_json, officer_text
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.i18n import (
    LOCALES,
    N_,
    catalog,
    error_message,
    normalize_locale,
    parse_locale,
    translate,
    zone,
)

if TYPE_CHECKING:
    from crossborder.domain.actors import Actor
    from crossborder.services.node import Node
    from crossborder.settings import Settings

console = Console()
err_console = Console(stderr=True)
#: What a file an officer names is read as (:func:`read_model`).
Model = TypeVar("Model", bound=BaseModel)

#: Exit codes, as a shell script or a person reads them.
REFUSED = 1
USAGE = 2

#: ``crossborder --debug …`` shows the traceback behind an error; off, one line says it all.
debug = False


def reader_locale(value: str | None) -> str:
    """``--lang``, else the reader's environment as help uses it; an unknown one is refused."""
    from crossborder.cli.help import help_locale

    if not value:
        return help_locale()
    locale = parse_locale(value)
    if locale is None:
        raise typer.BadParameter(
            translate("cli.lang_unknown", help_locale(), lang=value, choices=", ".join(LOCALES))
        )
    return locale


LangOption = Annotated[
    str, typer.Option("--lang", help=N_("cli.help.lang"), callback=reader_locale)
]
#: Who is at the keyboard; without it, the officer registered with the workstation's login.
OfficerOption = Annotated[
    str | None,
    typer.Option("--officer", envvar="CROSSBORDER_OFFICER", help=N_("cli.help.acting_officer")),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="CROSSBORDER_SETTINGS_FILE", help=N_("cli.help.config")),
]
#: Options and arguments many commands take, with one help text each.
CaseIdArgument = Annotated[str, typer.Argument(help=N_("cli.help.case_id"))]


def reader_zone(value: str | None) -> str | None:
    """``--tz``: an IANA zone, or a usage error that says so (exit 2)."""
    if value is not None:
        try:
            zone(value)
        except CrossborderError as error:
            from crossborder.cli.help import help_locale

            text = error_message(error.code, help_locale(), **error.params)
            raise typer.BadParameter(f"{error.code}: {text}") from None
    return value


TzOption = Annotated[str | None, typer.Option("--tz", help=N_("cli.help.tz"), callback=reader_zone)]
NoteLangOption = Annotated[str, typer.Option("--note-lang", help=N_("cli.help.note_lang"))]
ReasonLangOption = Annotated[str, typer.Option("--reason-lang", help=N_("cli.help.reason_lang"))]


def load_settings(config: Path | None) -> Settings:
    """The node's settings; a mistake in them is a coded error naming every bad field."""
    from pydantic import ValidationError

    from crossborder.domain.validation import violations_from
    from crossborder.settings import Settings

    if config is not None and not config.is_file():
        raise ConfigurationError("CONFIG_FILE_UNREADABLE", path=str(config))
    try:
        return Settings(_env_file=config) if config is not None else Settings()
    except ValidationError as exc:
        violations = [
            Violation(v.code, "CROSSBORDER_" + v.field.upper(), v.params)
            for v in violations_from(exc)
        ]
        raise ConfigurationError("SETTINGS_INVALID", violations=violations) from exc


def open_node(config: Path | None) -> Node:
    from crossborder.bootstrap import bootstrap

    return bootstrap(load_settings(config))


@contextmanager
def node_command(lang: str, config: Path | None) -> Iterator[Node]:
    """The body of every command that works on the node.

    The node is opened for the command and closed after it; a refusal is told
    in the user's language (exit 1), never as a traceback. Inside, the command
    names the officer (:func:`acting`), calls one service and prints.
    """
    with user_errors(lang):
        node = open_node(config)
        try:
            yield node
        finally:
            node.close()


def acting(node: Node, officer: str | None, permission: Permission = Permission.ACT) -> Actor:
    """The registered officer at the keyboard, allowed by their role to do this."""
    from crossborder.services.officers import acting_officer

    return acting_officer(node, permission, officer)


def agency_shown(code: str, locale: str) -> str:
    """An agency's code and, when the reference data knows it, its name."""
    from crossborder.reference.agencies import agency_name

    try:
        return f"{code}\n{agency_name(code, locale)}"
    except NotFound:
        return code


def say(key: str, lang: str, **params: Any) -> None:
    """Print a catalog text as it is: an officer's words may hold brackets, never console markup."""
    console.print(translate(key, normalize_locale(lang), **params), highlight=False, markup=False)


@contextmanager
def user_errors(lang: str) -> Iterator[None]:
    """Show a coded error in the user's language, with every violation; never a traceback."""
    try:
        yield
    except CrossborderError as error:
        fail(error, lang)


def fail(error: CrossborderError, lang: str) -> NoReturn:
    locale = normalize_locale(lang)
    if debug:
        traceback.print_exc()
    message = error_message(error.code, locale, **error.params)
    err_console.print(f"[bold red]{error.code}[/]: ", end="", highlight=False)
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)
    print_violations(error.violations, locale)
    sys.exit(USAGE if isinstance(error, ConfigurationError) else REFUSED)


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


def report_sent(
    node: Node, key: str, lang: str, case_id: str, message_id: str, **params: Any
) -> None:
    """Try the delivery now and tell the officer how it went.

    A refusal by the counterpart exits non-zero with its answer in the officer's
    language and the command that sends the message again once the cause is fixed.
    """
    from crossborder.services.delivery import deliver_now
    from crossborder.services.outbox_review import answer_text, outbox_entry

    delivery = deliver_now(node, message_id)
    shown = delivery_text(delivery.status, lang)
    say(key, lang, case_id=case_id, message_id=message_id, delivery=shown, **params)
    if delivery.status == OutboxStatus.FAILED:
        # The counterpart's answer as the outbox keeps it: its code, told in the
        # officer's language, then its own words and every rule it named.
        entry = outbox_entry(node, message_id)
        answer = entry.answer if entry else None
        locale = normalize_locale(lang)
        code = answer.code if answer else "NO_ERROR_BODY"
        refused = translate(
            "cli.delivery.refused",
            locale,
            code=code,
            answer=_meaning(code, answer.params if answer else {}, locale),
            message_id=message_id,
        )
        for text in (refused, answer_text(answer, locale)):
            err_console.print(text, markup=False, highlight=False, soft_wrap=True)
        sys.exit(REFUSED)


def _meaning(code: str, params: dict[str, Any], locale: str) -> str:
    """Our text for a counterpart's code, when we can say it whole.

    A counterpart sends its code and its own words, not the parameters our text
    of that code would need (``{scope}``): rather than a sentence with a hole,
    the officer then reads the counterpart's words, printed next.
    """
    template = catalog(locale).get(f"error.{code}", "")
    needed = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return error_message(code, locale, **params) if template and needed <= params.keys() else ""


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file an officer names; the codes say what is wrong with it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("FILE_UNREADABLE", path=str(path)) from exc
    return officer_json(raw, str(path))


def read_model(path: Path, model: type[Model]) -> Model:
    """A file an officer names, read as ``model``: each problem told with its code and place."""
    data = read_json(path)
    with schema_checked():
        return model.model_validate(data)


def free_text(text: str, lang: str) -> FreeText:
    """An officer's words with the language they say they wrote in (``--note-lang vi``)."""
    return officer_text(text, lang)
