"""The long-lived Prefect server every node's flows report to, its data in PostgreSQL.

``python -m flows.server`` (``make prefect-server``) makes the database on
first start, then runs ``prefect server start`` on it, in the foreground.
Prefect's own default, an SQLite file in the user's home, loses runs when two
nodes and a scheduler write at once; and a server that each command starts and
stops (Prefect's "ephemeral" mode) cost an officer tens of seconds and timed
out under load, which is why nothing an officer waits for uses Prefect.

Settings: ``CROSSBORDER_PREFECT_DATABASE_URL`` (default
``postgresql://127.0.0.1:5432/prefect``, the user from ``PGUSER`` or the login),
``CROSSBORDER_PREFECT_HOST`` and ``CROSSBORDER_PREFECT_PORT`` (127.0.0.1:4200).
A node finds the server by ``CROSSBORDER_PREFECT_API_URL=http://HOST:PORT/api``.
"""

from __future__ import annotations

import os
import sys

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_DATABASE = "postgresql://127.0.0.1:5432/prefect"


def ensure_database(url: str) -> None:
    """Create the server's database if it does not exist yet (Prefect creates its tables)."""
    target = make_url(url)
    maintenance = target.set(drivername="postgresql", database="postgres")
    dsn = maintenance.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database))
            )


def main() -> None:
    url = os.environ.get("CROSSBORDER_PREFECT_DATABASE_URL", DEFAULT_DATABASE)
    ensure_database(url)
    host = os.environ.get("CROSSBORDER_PREFECT_HOST", "127.0.0.1")
    port = os.environ.get("CROSSBORDER_PREFECT_PORT", "4200")
    environ = {
        **os.environ,
        "PREFECT_API_DATABASE_CONNECTION_URL": make_url(url)
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    prefect = os.path.join(os.path.dirname(sys.executable), "prefect")
    os.execve(prefect, [prefect, "server", "start", "--host", host, "--port", port], environ)


if __name__ == "__main__":
    main()
