"""Creating and upgrading the catalog's schema with alembic.

alembic is imported only to upgrade: a catalog already at the newest revision is
recognised from its ``alembic_version`` row and the migration files' headers, so
that every command on an up-to-date catalog starts without loading the migrations,
and an empty database is built from the models and stamped with the head revision.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=\s*['\"]([^'\"]+)['\"]\s*$", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=\n]*)?=\s*(?:None|['\"]([^'\"]+)['\"])\s*$", re.M)


def alembic_config() -> Config:
    """An alembic configuration pointing at the project's migrations (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    return _head_from_headers() or _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _head_from_headers() -> str | None:
    """The head read from each migration's ``revision``/``down_revision`` lines; None when they do not make one chain."""
    revisions, downs = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN.search(text)
        if revision is None or down is None:
            continue
        revisions.add(revision.group(1))
        downs.add(down.group(1))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the catalog is at; None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise RuntimeError(f"the catalog has several alembic heads: {', '.join(versions)}")
    return versions[0] if versions else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the catalog's schema to ``revision`` in one transaction."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_schema(engine: Engine) -> bool:
    """Upgrades when the catalog is behind the code (an empty database is created at once); returns True when it did."""
    current = current_revision(engine)
    if current == head_revision():
        return False
    if current is None and _is_empty(engine):
        create_schema(engine)
    else:
        upgrade(engine)
    return True


def create_schema(engine: Engine) -> None:
    """Builds the newest schema in an empty database from the models and stamps it with the head revision,
    in one transaction: alembic's recipe for a database built from scratch, without loading alembic.
    ``tests/db/test_migrations.py`` checks that the migrations and the models describe the same schema."""
    from sqlmodel import SQLModel

    import db.models  # noqa: F401 - the tables register themselves on the metadata

    stamp = sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True))
    from db.engine import begin_now

    with engine.begin() as conn:
        begin_now(conn)  # on SQLite too, the tables and their stamp are made together or not at all
        SQLModel.metadata.create_all(conn)
        stamp.create(conn)
        conn.execute(stamp.insert().values(version_num=head_revision()))


def _is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not sa.inspect(conn).get_table_names()
