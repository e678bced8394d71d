"""The numbered migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from crossborder.adapters.db.engine import make_engine
from crossborder.adapters.db.migrate import alembic_config, head_revision, upgrade
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
    numbers = sorted(int(revision.revision) for revision in revisions)
    assert numbers == list(range(1, len(revisions) + 1))


def test_the_head_is_known_without_alembic() -> None:
    """The fast start-up check reads the head from the file names: each id is its file's number."""
    scripts = ScriptDirectory.from_config(alembic_config())
    for revision in scripts.walk_revisions():
        assert Path(str(revision.path)).name.startswith(f"{revision.revision}_")
    assert scripts.get_heads() == [head_revision()]
