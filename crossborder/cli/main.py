"""The ``crossborder`` command, grouped by who uses it."""

from __future__ import annotations

import os

# No network on a border node's officer workstation to send analytics to, and
# none wanted: set before Prefect is imported anywhere.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402

from crossborder.cli import alert, audit, case, co, deadlines, demo, node, outbox, sps  # noqa: E402
from crossborder.cli.help import LocalizedGroup  # noqa: E402
from crossborder.i18n import N_  # noqa: E402

app = typer.Typer(
    cls=LocalizedGroup,
    help=N_("cli.help.main"),
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
app.add_typer(alert.app, name="alert")
app.add_typer(outbox.app, name="outbox")
app.command("demo", help=N_("cli.help.demo"))(demo.demo)
