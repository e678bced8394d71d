"""The numbered migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from crossborder.adapters.db.engine import make_engine
from crossborder.adapters.db.migrate import alembic_config, upgrade
from crossborder.adapters.db.tables import Base


def test_upgrade_head_matches_the_models(make_db_url: Callable[[str], str]) -> None:
    engine = make_engine(make_db_url("migrations"))
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert inspect(connection).has_table("alembic_version")
    engine.dispose()
    assert differences == []


def test_upgrade_twice_is_harmless(make_db_url: Callable[[str], str]) -> None:
    engine = make_engine(make_db_url("again"))
    upgrade(engine)
    upgrade(engine)
    engine.dispose()


def test_migrations_are_numbered_in_one_line() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = list(scripts.walk_revisions())
    assert len(scripts.get_heads()) == 1
    # A revision id is its number, optionally followed by a name (``0007_counterpart_versions``).
    numbers = sorted(int(revision.revision.split("_")[0]) for revision in revisions)
    assert numbers == list(range(1, len(revisions) + 1))
