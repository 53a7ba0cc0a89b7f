"""The migrations build exactly the schema the models describe, on both dialects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_a_catalog_built_from_scratch_is_the_migrated_one(catalog_url):
    from db.engine import create_catalog_engine
    from db.migrate import current_revision, ensure_schema, head_revision, upgrade

    engine = create_catalog_engine(catalog_url)
    assert ensure_schema(engine) is True and current_revision(engine) == head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    upgrade(engine)  # alembic agrees that it is at the head: nothing to run
    assert ensure_schema(engine) is False and current_revision(engine) == head_revision()
    engine.dispose()


def test_a_schema_build_that_fails_leaves_the_database_empty(catalog_url, monkeypatch):
    import sqlalchemy as sa

    import db.migrate
    from db.engine import create_catalog_engine

    engine = create_catalog_engine(catalog_url)

    def no_head() -> str:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(db.migrate, "head_revision", no_head)  # fails after the tables are made, before the stamp
    try:
        db.migrate.create_schema(engine)
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == [], "half a schema was left behind"
    engine.dispose()
