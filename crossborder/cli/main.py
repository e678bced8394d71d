"""The ``crossborder`` command, grouped by who uses it."""

from __future__ import annotations

import os

# No network on a border node's officer workstation to send analytics to, and
# none wanted: set before Prefect is imported anywhere.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402

from crossborder.cli import audit, case, co, deadlines, demo, node, sps  # noqa: E402

app = typer.Typer(
    help="crossborder: China–Vietnam cross-border cooperation workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(node.node_app, name="node")
app.add_typer(node.counterpart_app, name="counterpart")
app.add_typer(node.client_app, name="client")
app.add_typer(co.app, name="co")
app.add_typer(case.app, name="case")
app.add_typer(audit.app, name="audit")
app.add_typer(sps.app, name="sps")
app.add_typer(deadlines.app, name="deadlines")
app.command("demo")(demo.demo)
