"""Help texts in the reader's language.

Typer takes help texts when the command tree is declared, long before anyone knows
who will read them. So the commands declare catalog keys
(``help=N_("cli.help.co.send.to")``) and, each time the ``crossborder`` command
runs, :class:`LocalizedGroup` walks the click tree Typer built and puts the
reader's text in place of every key — for groups, commands, arguments and options,
the options click and Typer add on their own, and the titles of the help panels.

The reader's language is ``CROSSBORDER_LANG``, else the POSIX locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``, first one set), else English. A command's ``--lang``
cannot choose it: help is shown before any option is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from crossborder.i18n import DEFAULT_LOCALE, N_, normalize_locale, translate

HELP_KEY_PREFIX = "cli.help."

#: Options click and Typer add to the tree themselves, with English help of their own.
BUILT_IN_OPTIONS = {
    "--help": N_("cli.help.help"),
    "--install-completion": N_("cli.help.install_completion"),
    "--show-completion": N_("cli.help.show_completion"),
}
#: Titles of the panels the help screen groups things in (Typer's default ones are English).
PANEL_TITLES = {
    "arguments": N_("cli.help.panel.arguments"),
    "options": N_("cli.help.panel.options"),
    "commands": N_("cli.help.panel.commands"),
}

#: Where a locale is read from, strongest first: ours, then the POSIX precedence.
LOCALE_VARIABLES = ("CROSSBORDER_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


def help_locale(environ: Mapping[str, str] | None = None) -> str:
    """The language help is shown in: the first locale variable that is set and not empty."""
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return normalize_locale(value)
    return DEFAULT_LOCALE


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree, groups included, with the names that lead to it."""
    yield path, command
    if isinstance(command, TyperGroup):
        for name, subcommand in command.commands.items():
            yield from walk(subcommand, (*path, name))


def parameters(command: Any) -> list[Any]:
    """The command's arguments and options, the ``--help`` option click adds included."""
    return list(command.get_params(typer.Context(command)))


def help_key(item: Any) -> str | None:
    """The catalog key an item's help comes from; ``None`` when its help is a literal."""
    text = getattr(item, "help", None)
    if isinstance(text, str) and text.startswith(HELP_KEY_PREFIX):
        return text
    if isinstance(item, TyperOption):
        for name in item.opts:
            if name in BUILT_IN_OPTIONS:
                return BUILT_IN_OPTIONS[name]
    return None


def localize(root: Any, locale: str) -> None:
    """Replace every help key in the tree under ``root`` by its text in ``locale``.

    Texts that are not keys are left as they are, so a command still declared with
    a literal keeps showing it rather than nothing.
    """
    titles = {kind: translate(key, locale) for kind, key in PANEL_TITLES.items()}
    for _, command in walk(root):
        _localize_item(command, locale)
        if command.short_help and command.short_help.startswith(HELP_KEY_PREFIX):
            command.short_help = translate(command.short_help, locale)
        if isinstance(command, TyperGroup):
            for subcommand in command.commands.values():
                if isinstance(subcommand, TyperCommand | TyperGroup):
                    subcommand.rich_help_panel = subcommand.rich_help_panel or titles["commands"]
        for param in parameters(command):
            _localize_item(param, locale)
            kind = "arguments" if isinstance(param, TyperArgument) else "options"
            param.rich_help_panel = param.rich_help_panel or titles[kind]


def _localize_item(item: Any, locale: str) -> None:
    key = help_key(item)
    if key is not None:
        item.help = translate(key, locale)


class LocalizedGroup(TyperGroup):
    """The root ``crossborder`` group: shows every help text in the reader's language."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        localize(self, help_locale())
        return super().main(*args, **kwargs)
