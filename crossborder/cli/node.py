"""``crossborder node``, ``counterpart`` and ``client``: running a node and connecting it."""

from __future__ import annotations

import json
import socket
from typing import Annotated

import typer

from crossborder.adapters.oauth.keys import public_jwks
from crossborder.bootstrap import shown_url
from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    acting,
    console,
    open_node,
    say,
    user_errors,
)
from crossborder.domain.errors import ConfigurationError
from crossborder.domain.officers import Permission
from crossborder.i18n import N_
from crossborder.reference.agencies import agency_name
from crossborder.services.registry import add_client, add_counterpart

node_app = typer.Typer(help=N_("cli.help.node"), no_args_is_help=True)
counterpart_app = typer.Typer(help=N_("cli.help.counterpart"), no_args_is_help=True)
client_app = typer.Typer(help=N_("cli.help.client"), no_args_is_help=True)


@node_app.command("serve", help=N_("cli.help.node.serve"))
def serve(lang: LangOption = "", config: ConfigOption = None) -> None:
    """Serve the API and run the delivery and dispatch loops until stopped."""
    # The web stack is loaded here only: the officer's commands never need it.
    import uvicorn

    from crossborder.api.app import create_app

    with user_errors(lang):
        node = open_node(config)
        settings = node.settings
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
    server = uvicorn.Server(uvicorn.Config(create_app(node), log_level="warning", access_log=False))
    server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a port taken by another node is one coded line."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
    node = open_node(config)
    console.print_json(json.dumps(public_jwks([node.signing_key, node.token_key])))


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
    with user_errors(lang):
        node = open_node(config)
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
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Register (or update) a counterpart's OAuth client at this node."""
    with user_errors(lang):
        node = open_node(config)
        add_client(
            node,
            client_id=client_id,
            agency=agency,
            jwks_source=jwks,
            scopes=scopes,
            actor=acting(node, officer, Permission.CONNECT),
        )
        say("cli.client.added", lang, client_id=client_id, agency=agency)
