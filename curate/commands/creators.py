"""``curate crawl --users FILE``: the listed creators' recent videos into the catalog, resumable, with a summary.

Not a command of its own: ``curate crawl`` hands over here when given ``--users`` (or ``--resume`` of such a
run), so that a creators run shares the crawl's options, its run table and its exit statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


from core.errors import ConfigError
from curate.context import Context
from curate.output import console, counts_cell, end_of_run, err_console, key_value_table, print_json

#: backends that list a creator's videos (the four site backends and the Research API)
CREATOR_SOURCES = ("tiktokapi", "playwright", "selenium", "ytdlp", "research_api")


@dataclass(frozen=True)
class CreatorOptions:
    """What ``curate crawl`` was given, as far as a creators run reads it."""

    users: Path | None
    resume: str | None
    max_videos: int | None
    source: str | None
    base_url: str | None
    rate: float | None
    timeout: float | None
    proxy: str | None
    ca_cert: str | None
    headed: bool
    time_budget: str | None
    as_json: bool
    #: the For-You crawl's own options as given (None: not given); refused here
    foryou: dict[str, Any] | None = None


def wants_creators(context: Context, users: Path | None, resume: str | None) -> bool:
    """True when the crawl is a creators run: ``--users`` given, or ``--resume`` names such a run."""
    if users is not None:
        return True
    if not resume:
        return False
    from scrapers.creators import is_creators_run

    return is_creators_run(context.engine, resume)


def crawl_creators(context: Context, given: CreatorOptions) -> None:
    """Runs (or resumes) a creators run and reports it like a crawl."""
    from curate.commands.crawl import GracefulStop, parse_duration, source_secrets
    from scrapers.creators import creators_run
    from scrapers.politeness import Politeness

    if refused := [name for name, value in (given.foryou or {}).items() if value is not None]:
        raise ConfigError(f"{', '.join(refused)}: options of the For-You crawl, not of a creators run (--users)")
    secrets = source_secrets(context, given.proxy, given.ca_cert)
    plan = _plan(context, given, secrets)
    politeness = Politeness(rate=float(given.rate if given.rate is not None else plan.options["rate"]),
                            timeout=float(given.timeout if given.timeout is not None else plan.options["timeout"]))
    budget = parse_duration(given.time_budget)
    source = _source(context, plan.source, plan.base_url, secrets, politeness.timeout, given.headed)
    # the backend starts before a new run is recorded: one that cannot start leaves no run behind
    with source as src:
        record = plan.record or plan.start()
        name, bad = plan.source, record.params.get("bad_lines", []) if plan.record is None else []
        with _CreatorView(len(record.params["creators"]["handles"]), quiet=given.as_json) as view, GracefulStop() as stop:
            result = creators_run(context.engine, record, src, politeness, budget, view.update, secrets.redact,
                                  stop.requested, _stamp(record.base_url, politeness.timeout))
    if name == "research_api":
        _count_quota(context, src.client)
    _report(context, record.id, result, name, bad, given.as_json)


@dataclass
class _Plan:
    """A run to resume (``record``), or what a new one is started with (``start`` records it)."""

    source: str
    base_url: str | None
    options: dict[str, Any]
    record: Any = None
    start: Any = None


def _plan(context: Context, given: CreatorOptions, secrets) -> _Plan:
    from curate.commands.crawl import _option, default_rate, normalise_base_url
    from scrapers.creators import DEFAULT_MAX_VIDEOS, CreatorParams, open_creators_run, read_handles, start_creators_run
    from scrapers.source import redact_proxy

    if given.resume:
        if given.users is not None:
            raise ConfigError("--resume continues a creators run with its own handles: give no --users")
        record = open_creators_run(context.engine, given.resume)
        return _Plan(given.source or record.source, record.base_url, record.params, record=record)
    name = given.source or _option(context, "source", None)
    if name not in CREATOR_SOURCES:
        raise ConfigError(f"--source {name!r}: choose one of {', '.join(CREATOR_SOURCES)}")
    listed = read_handles(given.users)  # type: ignore[arg-type]
    base = normalise_base_url(_option(context, "base_url", given.base_url))
    params = CreatorParams(listed.handles, int(given.max_videos or DEFAULT_MAX_VIDEOS))
    chosen_rate = given.rate if given.rate is not None else context.settings.section("crawl").get("rate")
    options = {"rate": float(chosen_rate if chosen_rate is not None else default_rate(base)),
               "timeout": float(_option(context, "timeout", given.timeout)), "proxy": redact_proxy(secrets.proxy),
               "bad_lines": [{"line": b.line, "text": b.text, "why": b.why} for b in listed.bad],
               "repeated": listed.repeated}
    return _Plan(name, base, options, start=lambda: start_creators_run(context.engine, name, base, params, options))


def _source(context: Context, name: str, base_url: str | None, secrets, timeout: float, headed: bool):
    """The backend: one of the crawl's four, or the Research API client (its credentials from the environment)."""
    if name != "research_api":
        from curate.commands.crawl import build_source

        return build_source(name, base_url, secrets, timeout, headed)
    if headed:
        raise ConfigError("--headed: the Research API drives no browser")
    from curate.commands.research import research_credentials
    from scrapers.backends.research_api import ResearchApiClient, ResearchApiSource

    return ResearchApiSource(ResearchApiClient(research_credentials(context), base_url, timeout))


def _stamp(base_url: str | None, timeout: float):
    """Observations take the sandbox's time (its Date header) on another site than the real one."""
    if not base_url:
        return None
    from scrapers.platform_time import platform_clock

    try:
        return platform_clock(base_url, timeout)
    except ConfigError:
        return None


def _count_quota(context: Context, client) -> None:
    """The Research API requests a creators run sent, into the day's quota ledger (as ``curate query`` counts)."""
    from db.quota import QuotaDelta, add_quota

    with context.engine.begin() as conn:
        add_quota(conn, QuotaDelta(client.api_name, client.server_time.strftime("%Y%m%d"), client.data_requests, 0))


def creators_summary(context: Context, run_id: int, result, source: str) -> dict[str, Any]:
    """The end-of-run summary, in the shape ``--json`` prints."""
    from db.crawl_state import load_run, run_summary
    from scrapers.creators import outcome_counts

    record = load_run(context.engine, run_id)
    stats, progress = result.stats, result.progress
    wall = max(stats.wall_s, 1e-9)
    videos = run_summary(context.engine, run_id)["videos"]
    handles = record.params["creators"]["handles"]
    return {
        "run_id": run_id, "status": result.status, "stop_reason": result.stop_reason, "source": source,
        "base_url": record.base_url, "creators": len(handles), "creators_done": progress.next,
        "max_videos_per_creator": record.params["creators"]["max_videos"], "videos": videos,
        "outcomes": outcome_counts(progress),
        "creators_by_handle": progress.outcomes,
        "bad_lines": record.params.get("bad_lines", []), "repeated_handles": record.params.get("repeated", 0),
        "requests": stats.requests, "retries": sum(stats.retries.values()), "retries_by_reason": dict(stats.retries),
        "payload_skips": dict(stats.payload_skips), "missing_fields": dict(stats.missing.most_common()),
        "seconds": round(stats.wall_s, 2), "videos_per_s": round(videos / wall, 2),
    }


def _report(context: Context, run_id: int, result, source: str, bad: list[dict[str, Any]], as_json: bool) -> None:
    summary = creators_summary(context, run_id, result, source)
    for line in bad:
        err_console.print(f"--users line {line['line']}: {line['text']!r} skipped: {line['why']}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(summary)
    else:
        console.print(key_value_table(f"creators run {run_id} ({source})", _rows(summary)))
    end_of_run(result.status, result.stop_reason, f"resume with: curate crawl --resume {run_id}")


def _rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    not_listed = {h: o["outcome"] for h, o in summary["creators_by_handle"].items() if o["outcome"] != "listed"}
    rows = [(k, summary[k]) for k in ("status", "stop_reason", "base_url", "creators", "creators_done", "videos")]
    rows += [("creators by outcome", counts_cell(summary["outcomes"])),
             ("not listed", ", ".join(f"@{h} ({why})" for h, why in not_listed.items()) or "—"),
             ("bad lines", len(summary["bad_lines"])), ("requests", summary["requests"]),
             ("retries by reason", counts_cell(summary["retries_by_reason"])), ("skipped payloads", counts_cell(summary["payload_skips"])),
             ("seconds", summary["seconds"]), ("videos/s", summary["videos_per_s"])]
    return [(k, "real site" if k == "base_url" and v is None else v) for k, v in rows]


class _CreatorView:
    """A progress bar on stderr: creators done against those listed, videos and requests."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("creators"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn())
        self.progress = Progress(*columns, console=err_console, transient=True, disable=quiet)
        self.task = self.progress.add_task("creators", total=total, info="")

    def __enter__(self) -> _CreatorView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, crawler) -> None:
        """Called after every committed creator."""
        info = f"{len(crawler.members):,} videos, {crawler.stats.requests} requests"
        self.progress.update(self.task, completed=crawler.progress.next, info=info)
