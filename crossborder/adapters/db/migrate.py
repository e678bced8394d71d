"""Bring a database to the newest schema with the numbered Alembic migrations.

Every command an officer types opens the node, so the common case — the schema
is already current — is one SELECT; Alembic (a tenth of a second to load) runs
only when there is something to migrate. A migration's revision id is its file's
number (``0006`` for ``0006_alerts.py``), which is what makes the head knowable
without Alembic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def head_revision() -> str:
    return max(path.name.split("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        # No version table yet: a new database. An unreachable one fails again in
        # upgrade(), where the caller reports it.
        return None
    return str(version) if version is not None else None


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    if current_revision(engine) == head_revision():
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # A migration may rewrite a large table: the node's per-statement limit
            # is for its own traffic, not for this.
            connection.execute(text("SET LOCAL statement_timeout = 0"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
