"""What every command gets: the settings, and the catalog opened (and migrated) on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from curate.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass
class Context:
    """Per-invocation state shared by the commands; the engine is created lazily."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The catalog's engine, connected and at the newest schema."""
        from db.engine import check_connection, create_catalog_engine
        from db.migrate import ensure_schema

        engine = create_catalog_engine(self.settings.db_url)
        check_connection(engine)
        ensure_schema(engine)
        return engine

    def close(self) -> None:
        """Releases the engine's connections."""
        if "engine" in self.__dict__:
            self.__dict__.pop("engine").dispose()
