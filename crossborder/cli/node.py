"""``crossborder node``, ``counterpart`` and ``client``: running a node and connecting it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
import uvicorn

from crossborder.adapters.oauth.keys import public_jwks
from crossborder.api.app import create_app
from crossborder.audit.trail import Actor
from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    console,
    officer,
    open_node,
    say,
    user_errors,
)
from crossborder.i18n import N_
from crossborder.services.registry import add_client, add_counterpart

node_app = typer.Typer(help=N_("cli.help.node"), no_args_is_help=True)
counterpart_app = typer.Typer(help=N_("cli.help.counterpart"), no_args_is_help=True)
client_app = typer.Typer(help=N_("cli.help.client"), no_args_is_help=True)


@node_app.command("serve", help=N_("cli.help.node.serve"))
def serve(config: ConfigOption = None) -> None:
    """Serve the API and run the delivery and dispatch loops until stopped."""
    node = open_node(config)
    uvicorn.run(
        create_app(node),
        host=node.settings.host,
        port=node.settings.port,
        log_level="warning",
        access_log=False,
    )


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
    lang: LangOption = "en",
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
            actor=Actor.officer(officer(), node.agency),
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
    lang: LangOption = "en",
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
            actor=Actor.officer(officer(), node.agency),
        )
        say("cli.client.added", lang, client_id=client_id, agency=agency)
