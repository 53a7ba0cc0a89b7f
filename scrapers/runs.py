"""Crawls kept in the catalog: starting a run, resuming one exactly, and what a run says about itself."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from core.errors import CurateError
from scrapers.crawl import CrawlParams, Crawler, CrawlResult, CrawlStats, progress_from_state
from scrapers.frontier import Member, RandomFrontier
from scrapers.politeness import Politeness
from scrapers.sinks import CatalogSink
from scrapers.source import Source

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from db.crawl_state import RunRecord


class ResumeError(CurateError):
    """A run cannot be resumed as asked: finished, still running, or asked with other parameters."""


def start_run(engine: Engine, source: str, base_url: str | None, params: CrawlParams, options: Mapping[str, Any]) -> RunRecord:
    """Creates a run in the catalog; ``options`` are the operational settings, already free of secrets."""
    from db.crawl_state import create_run, load_run

    run_id = create_run(engine, source, base_url, {"crawl": params.as_dict(), **options}, {"phase": "seeding"})
    return load_run(engine, run_id)


def open_run(engine: Engine, run: int | str, given: Mapping[str, Any]) -> RunRecord:
    """A run to resume: it must exist, be unfinished, not be running elsewhere, and match ``given`` params."""
    from db.crawl_state import RESUMABLE, load_run

    record = load_run(engine, run)
    if "crawl" not in record.params:
        raise ResumeError(f"run {record.id} is not a crawl (resume a Research API query with curate query --resume {record.id})")
    if record.status not in RESUMABLE:
        raise ResumeError(f"crawl run {record.id} is {record.status} ({record.stop_reason}); nothing to resume")
    refuse_live_owner(record)
    _same_params(record, given, "resume")
    return record


def open_join(engine: Engine, run: int | str, given: Mapping[str, Any]) -> RunRecord:
    """A running crawl another worker may join: a Postgres catalog, a crawl run, running, ``given`` params matching."""
    from db.crawl_shared import is_shared
    from db.crawl_state import load_run

    if not is_shared(engine):
        raise ResumeError(f"--join needs a Postgres catalog (workers share a run through its row locks); this catalog is {engine.dialect.name}")
    record = load_run(engine, run)
    if "crawl" not in record.params:
        raise ResumeError(f"run {record.id} is not a crawl; --join adds a worker to a running crawl")
    if record.status == "finished":
        raise ResumeError(f"crawl run {record.id} is finished ({record.stop_reason}); nothing to join")
    if record.status != "running":
        raise ResumeError(f"crawl run {record.id} is {record.status}, not running: resume it with curate crawl --resume {record.id}, then join it")
    _same_params(record, given, "join")
    return record


def _same_params(record: RunRecord, given: Mapping[str, Any], verb: str) -> None:
    stored = record.params.get("crawl", {})
    for name, value in given.items():
        if value is not None and stored.get(name) != value:
            raise ResumeError(f"crawl run {record.id} was started with {name}={stored.get(name)!r}, not {value!r}; drop the option to {verb} it")


def start_query_run(engine: Engine, base_url: str | None, params: Mapping[str, Any], state: Mapping[str, Any]) -> int:
    """Creates a Research API query run (its params under ``query_run``); returns its id."""
    from db.crawl_state import create_run

    return create_run(engine, "research_api", base_url, {"query_run": dict(params)}, state)


def open_query_run(engine: Engine, run: int | str) -> RunRecord:
    """A query run to resume: it must exist, be a query run, be unfinished and not be running elsewhere."""
    return open_kind(engine, run, "query_run", "query run",
                     lambda rid: f"run {rid} is not a Research API query (resume a crawl with curate crawl --resume {rid})")


def open_kind(engine: Engine, run: int | str, key: str, noun: str, not_this: Callable[[int], str]) -> RunRecord:
    """A run whose params are held under ``key``, to resume: it must be one, be unfinished and not be running
    elsewhere; ``not_this(id)`` says what a run of another kind is."""
    from db.crawl_state import RESUMABLE, load_run

    record = load_run(engine, run)
    if key not in record.params:
        raise ResumeError(not_this(record.id))
    if record.status not in RESUMABLE:
        raise ResumeError(f"{noun} {record.id} is {record.status} ({record.stop_reason}); nothing to resume")
    refuse_live_owner(record)
    return record


def refuse_live_owner(record: RunRecord) -> None:
    """Raises ResumeError when the run is still going on in a live process of this machine."""
    owner = record.state.get("owner") or {}
    if record.status != "running" or owner.get("host") != socket.gethostname():
        return
    pid = owner.get("pid")
    if isinstance(pid, int) and pid != os.getpid() and _alive(pid):
        raise ResumeError(f"crawl run {record.id} is still running in process {pid}; stop it before resuming (or add a worker: --join {record.id})")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def crawl_run(
    engine: Engine,
    record: RunRecord,
    source: Source,
    politeness: Politeness,
    time_budget: float | None = None,
    on_step: Callable[[Crawler], None] | None = None,
    redact: Callable[[str], str] = str,
    stop_requested: Callable[[], bool] = lambda: False,
    observed_at: Callable[[], Any] | None = None,
    join: bool = False,
) -> CrawlResult:
    """Runs (or resumes, or with ``join`` adds a worker to) a catalog-held crawl from its last committed step until it stops.

    ``observed_at`` gives the time observations are stamped with (default: this machine's clock).
    On Postgres every worker shares the run through the catalog (``scrapers.crawl_shared``)."""
    from db.crawl_shared import is_shared
    from db.crawl_state import load_members, mark_running, owner

    params = CrawlParams(**record.params["crawl"])
    options = {"time_budget": time_budget, "on_step": on_step, "redact": redact, "stop_requested": stop_requested}
    if is_shared(engine):
        return _shared_crawler(engine, record, source, params, politeness, observed_at, join, options).run()
    members = [Member(**row) for row in load_members(engine, record.id)]
    frontier = RandomFrontier.restore(members, record.state.get("rng"), params.random_seed, params.max_depth)
    mark_running(engine, record.id, {**record.state, "owner": owner()})
    crawler = Crawler(
        source,
        frontier,
        CatalogSink(engine, record.id, observed_at=observed_at, extra_state={"owner": owner()}),
        params,
        politeness,
        progress_from_state(record.state),
        CrawlStats.from_dict(record.stats),
        **options,
    )
    return crawler.run()


def _shared_crawler(engine, record, source, params, politeness, observed_at, join, options) -> Crawler:
    """A worker of a run shared through a Postgres catalog: the run's own generator, or a fresh one for a joiner."""
    from db.claims import CatalogClaims, worker_name
    from db.crawl_shared import claim_stage
    from db.crawl_state import mark_running, owner
    from db.types import utcnow
    from scrapers.crawl_shared import SharedCrawler, SharedFrontier, SharedSink

    claims = CatalogClaims(engine, claim_stage(record.id), worker_name(), utcnow())
    state = None if join else record.state.get("rng")
    draws = random.SystemRandom().randrange(2**31) if join else params.random_seed
    frontier = SharedFrontier.open(engine, record.id, state, draws, params.max_depth, claims)
    stats = CrawlStats() if join else CrawlStats.from_dict(record.stats)
    if not join:
        mark_running(engine, record.id, {**record.state, "owner": owner()})
    sink = SharedSink(
        engine, record.id, frontier, params.max_videos, baseline=stats.as_dict(), joining=join,
        observed_at=observed_at, extra_state={"owner": owner()},
    )
    progress = progress_from_state(record.state)
    return SharedCrawler(source, frontier, sink, params, politeness, progress, stats, joining=join, **options)
