"""``--engine`` and ``--ray-address``: where download, probe and extract run, resolved the usual way.

The command line's value, else the command's config table (``[download] engine =
"ray"``, ``ray_address = "10.0.0.5:6379"``), else the local engine. The stages get
a :class:`core.distribute.EngineSettings`; only :func:`core.distribute.make_distributor`
turns it into workers.
"""

from __future__ import annotations

from typing import Any

import typer

from core.distribute import EngineSettings

ENGINE_HELP = "local (processes on this machine) or ray (tasks on a Ray cluster; pip install 'viralcurate[ray]')."
ADDRESS_HELP = "The Ray cluster to join, HOST:PORT (with --engine ray). Default: start one on this machine."


def engine_option() -> Any:
    """The ``--engine`` option."""
    return typer.Option(None, "--engine", help=ENGINE_HELP)


def address_option() -> Any:
    """The ``--ray-address`` option."""
    return typer.Option(None, "--ray-address", help=ADDRESS_HELP)


def resolve_engine(section: Any, engine: str | None, ray_address: str | None, workers: int | None, shard_size: int | None = None) -> EngineSettings:
    """Command line, else config table, else defaults; a ConfigError for an unknown engine."""
    return EngineSettings(
        engine=engine or section.get("engine") or "local",
        workers=workers,
        ray_address=ray_address or section.get("ray_address"),
        shard_size=shard_size or section.get("shard_size"),
    )


def extraction_claims(engine: Any, extractor: str, cache_key: str) -> Any:
    """The catalog claims of one extractor with one set of weights (stage ``extract:NAME:CACHEKEY``)."""
    from db.claims import CatalogClaims, worker_name
    from db.types import utcnow

    return CatalogClaims(engine, f"extract:{extractor}:{cache_key}", worker_name(), utcnow())
