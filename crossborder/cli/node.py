"""``crossborder node``, ``counterpart`` and ``client``: running a node and connecting it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from crossborder.adapters.oauth.keys import public_jwks
from crossborder.bootstrap import shown_url
from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    TzOption,
    acting,
    agency_shown,
    console,
    node_command,
    say,
)
from crossborder.domain.errors import ConfigurationError
from crossborder.domain.officers import Permission
from crossborder.i18n import N_, format_datetime, normalize_locale, translate
from crossborder.reference.agencies import agency_name
from crossborder.services.registry import (
    add_client,
    add_counterpart,
    list_clients,
    list_counterparts,
    remove_client,
    remove_counterpart,
)

node_app = typer.Typer(help=N_("cli.help.node"), no_args_is_help=True)
counterpart_app = typer.Typer(help=N_("cli.help.counterpart"), no_args_is_help=True)
client_app = typer.Typer(help=N_("cli.help.client"), no_args_is_help=True)


@node_app.command("serve", help=N_("cli.help.node.serve"))
def serve(lang: LangOption = "", config: ConfigOption = None) -> None:
    """Serve the API and run the delivery and dispatch loops until stopped."""
    # The web stack is loaded here only: the officer's commands never need it.
    import uvicorn

    from crossborder.api.app import create_app
    from crossborder.reference.lane import lane_targets

    with node_command(lang, config) as node:
        settings = node.settings
        # A targets file that cannot be read stops the node now, not an officer's request
        # for release times later.
        lane_targets(settings.lane_targets_file)
        listener = _listen(settings.host, settings.port)
        say(
            "cli.node.listening",
            lang,
            agency=node.agency,
            name=agency_name(node.agency, lang),
            host=settings.host,
            port=settings.port,
            url=settings.base_url,
            database=shown_url(settings.db_url),
        )
        app = create_app(node)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        with _prefect_flows(settings.prefect_api_url, config, lang):
            server.run(sockets=[listener])


@contextmanager
def _prefect_flows(api_url: str | None, config: Path | None, lang: str) -> Iterator[None]:
    """This node's flows, served to the long-lived Prefect server while the node runs.

    A process of its own: Prefect's import and its API calls stay off the node's
    message path, and a Prefect server that is down never stops the node.
    """
    if api_url is None:
        yield
        return
    environ = {**os.environ, "PREFECT_API_URL": api_url}
    if config is not None:
        environ["CROSSBORDER_SETTINGS_FILE"] = str(config.resolve())
    flows = subprocess.Popen([sys.executable, "-m", "flows.serve"], env=environ)
    say("cli.node.prefect", lang, url=api_url)
    try:
        yield
    finally:
        flows.terminate()
        try:
            flows.wait(timeout=15)
        except subprocess.TimeoutExpired:
            flows.kill()


def _listen(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a port taken by another node is one coded line."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by every accepted connection: without it a receipt written in two
    # parts waits for the delayed ACK of the first, 40 ms a message on an idle link.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ConfigurationError("PORT_IN_USE", host=host, port=port) from exc
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


@node_app.command("jwks", help=N_("cli.help.node.jwks"))
def jwks(config: ConfigOption = None) -> None:
    """Print this node's public JWKS, to hand to a counterpart's operator."""
    with node_command("", config) as node:
        console.print_json(json.dumps(public_jwks(node.published_keys())))


@node_app.command("rotate-keys", help=N_("cli.help.node.rotate_keys"))
def rotate_keys(
    activate: Annotated[
        bool, typer.Option("--activate", help=N_("cli.help.node.rotate_keys.activate"))
    ] = False,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """Publish the next keys (signing with them later), or sign with published ones now."""
    from crossborder.services.key_rotation import activate_next_keys, publish_next_keys

    with node_command(lang, config) as node:
        actor = acting(node, officer, Permission.CONNECT)
        if activate:
            signing_kid, token_kid = activate_next_keys(node, actor)
            say("cli.node.keys_activated", lang, signing_kid=signing_kid, token_kid=token_kid)
            return
        published = publish_next_keys(node, actor)
        say(
            "cli.node.keys_published",
            lang,
            signing_kid=published.signing_kid,
            token_kid=published.token_kid,
            activates_at=format_datetime(
                published.activates_at, normalize_locale(lang), tz or node.timezone
            ),
        )


@counterpart_app.command("add", help=N_("cli.help.counterpart.add"))
def counterpart_add(
    agency: Annotated[str, typer.Argument(help=N_("cli.help.counterpart.add.agency"))],
    url: Annotated[str, typer.Option(help=N_("cli.help.counterpart.add.url"))],
    jwks: Annotated[str, typer.Option(help=N_("cli.help.jwks_source"))],
    client_id: Annotated[str, typer.Option(help=N_("cli.help.counterpart.add.client_id"))],
    scope: Annotated[
        str, typer.Option(help=N_("cli.help.counterpart.add.scope"))
    ] = "audit:write co:write",
    issuer: Annotated[str | None, typer.Option(help=N_("cli.help.counterpart.add.issuer"))] = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Register (or update) a counterpart agency."""
    with node_command(lang, config) as node:
        add_counterpart(
            node,
            agency=agency,
            base_url=url,
            jwks_source=jwks,
            client_id=client_id,
            scope=scope,
            issuer=issuer,
            actor=acting(node, officer, Permission.CONNECT),
        )
        say("cli.counterpart.added", lang, agency=agency)


@client_app.command("add", help=N_("cli.help.client.add"))
def client_add(
    client_id: Annotated[str, typer.Argument(help=N_("cli.help.client.add.client_id"))],
    agency: Annotated[str, typer.Option(help=N_("cli.help.client.add.agency"))],
    jwks: Annotated[str, typer.Option(help=N_("cli.help.jwks_source"))],
    scopes: Annotated[
        str, typer.Option(help=N_("cli.help.client.add.scopes"))
    ] = "audit:write co:write",
    allow_bearer: Annotated[
        bool, typer.Option("--allow-bearer", help=N_("cli.help.client.add.allow_bearer"))
    ] = False,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Register (or update) a counterpart's OAuth client at this node."""
    with node_command(lang, config) as node:
        add_client(
            node,
            client_id=client_id,
            agency=agency,
            jwks_source=jwks,
            scopes=scopes,
            actor=acting(node, officer, Permission.CONNECT),
            bearer_allowed=allow_bearer,
        )
        say("cli.client.added", lang, client_id=client_id, agency=agency)


COUNTERPART_COLUMNS = (
    "cli.counterpart.agency",
    "cli.counterpart.url",
    "cli.counterpart.client_id",
    "cli.counterpart.messages",
    "cli.counterpart.updated",
)
CLIENT_COLUMNS = (
    "cli.client.client_id",
    "cli.client.agency",
    "cli.client.scopes",
    "cli.client.tokens",
    "cli.client.keys",
    "cli.client.updated",
)

#: What a client's access tokens are: bound to its DPoP key, or bearer tokens by allowance.
TOKENS_SHOWN = {False: "cli.client.tokens.dpop", True: "cli.client.tokens.bearer"}


def _keys_shown(key_ids: tuple[str, ...], jwks_url: str | None) -> str:
    """The key ids, and the URL they are fetched from when there is one."""
    return "\n".join([", ".join(key_ids), *([jwks_url] if jwks_url else [])])


def _table(columns: tuple[str, ...], locale: str, zone: str) -> Table:
    table = Table()
    for index, key in enumerate(columns):
        # Fold, never cut: ids, URLs and scopes are copied into other commands; the
        # first column, an agency code or a client id, stays on one line.
        table.add_column(translate(key, locale, tz=zone), overflow="fold", no_wrap=index == 0)
    return table


@counterpart_app.command("list", help=N_("cli.help.counterpart.list"))
def counterpart_list(
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """List registered counterparts, with the messages waiting for or refused by each."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        counterparts = list_counterparts(node)
    if not counterparts:
        say("cli.counterpart.none", lang)
        return
    zone = tz or node.timezone
    table = _table(COUNTERPART_COLUMNS, locale, zone)
    for row in counterparts:
        table.add_row(
            *map(
                Text,
                (
                    agency_shown(row.agency, locale),
                    f"{row.base_url}\n{_keys_shown(row.key_ids, row.jwks_url)}",
                    f"{row.client_id}\n{row.scope}",
                    "\n".join(
                        (
                            translate("cli.counterpart.queued", locale, count=row.queued),
                            translate("cli.counterpart.refused", locale, count=row.refused),
                        )
                    ),
                    format_datetime(row.updated_at, locale, zone),
                ),
            )
        )
    console.print(table)


@counterpart_app.command("remove", help=N_("cli.help.counterpart.remove"))
def counterpart_remove(
    agency: Annotated[str, typer.Argument(help=N_("cli.help.counterpart.remove.agency"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Stop exchanging with a counterpart (refused while messages to it wait in the outbox)."""
    with node_command(lang, config) as node:
        remove_counterpart(node, agency, acting(node, officer, Permission.CONNECT))
    say("cli.counterpart.removed", lang, agency=agency)


@client_app.command("list", help=N_("cli.help.client.list"))
def client_list(
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """List the counterparts' clients registered at this node, with the scopes each may use."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        clients = list_clients(node)
    if not clients:
        say("cli.client.none", lang)
        return
    zone = tz or node.timezone
    table = _table(CLIENT_COLUMNS, locale, zone)
    for row in clients:
        table.add_row(
            *map(
                Text,
                (
                    row.client_id,
                    agency_shown(row.agency, locale),
                    row.scopes,
                    translate(TOKENS_SHOWN[row.bearer_allowed], locale),
                    _keys_shown(row.key_ids, row.jwks_url),
                    format_datetime(row.updated_at, locale, zone),
                ),
            )
        )
    console.print(table)


@client_app.command("remove", help=N_("cli.help.client.remove"))
def client_remove(
    client_id: Annotated[str, typer.Argument(help=N_("cli.help.client.remove.client_id"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Withdraw a counterpart client's registration: no more tokens, its messages refused."""
    with node_command(lang, config) as node:
        remove_client(node, client_id, acting(node, officer, Permission.CONNECT))
    say("cli.client.removed", lang, client_id=client_id)
