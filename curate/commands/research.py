"""``curate query``: a Research API video query into the catalog, by date windows, resumable, with a summary."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from core.errors import ConfigError
from curate.commands.crawl import GracefulStop, default_rate, normalise_base_url
from curate.context import Context
from curate.output import console, counts_cell, end_of_run, err_console, key_value_table, print_json

DEFAULTS = {"window_days": 7, "max_count": 100, "on_quota": "wait", "daily_requests": 1000, "daily_records": 100_000,
            "timeout": 30.0}
QUERY_KEYS = ("and", "or", "not")
OPERATIONS = ("EQ", "IN", "GT", "GTE", "LT", "LTE")


def _option(context: Context, key: str, given: Any) -> Any:
    if given is not None:
        return given
    return context.settings.section("research").get(key, DEFAULTS.get(key))


def research_credentials(context: Context):
    """Client key and secret from the environment, else the config's ``[research]`` table."""
    from scrapers.backends.research_api import ResearchCredentials

    found, section = context.settings.secrets, context.settings.section("research")
    return ResearchCredentials(
        client_key=found.get("CURATE_RESEARCH_CLIENT_KEY") or section.get("client_key") or "",
        client_secret=found.get("CURATE_RESEARCH_CLIENT_SECRET") or section.get("client_secret") or "",
    )


def read_query(path: Path) -> tuple[dict[str, Any], list[str] | None]:
    """The query in ``path`` (the query itself, or ``{"query": …, "fields": […]}``), checked for its shape."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"query file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"query file {path} is not JSON: {exc}") from None
    fields = None
    if isinstance(document, dict) and "query" in document:
        fields = document.get("fields")
        document = document["query"]
    check_query(document, path)
    if fields is not None and (not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)):
        raise ConfigError(f"{path}: fields must be a list of field names")
    return document, fields


def check_query(query: Any, path: Path) -> None:
    """The query language's shape: and / or / not lists of {operation, field_name, field_values}."""
    if not isinstance(query, dict) or not query or set(query) - set(QUERY_KEYS):
        raise ConfigError(f"{path}: a query is an object with and, or, not lists")
    for key, conditions in query.items():
        if not isinstance(conditions, list):
            raise ConfigError(f"{path}: {key} must be a list of conditions")
        for c in conditions:
            if not isinstance(c, dict) or c.get("operation") not in OPERATIONS or not isinstance(c.get("field_name"), str) \
                    or not isinstance(c.get("field_values"), list) or not c["field_values"]:
                raise ConfigError(f"{path}: every condition is {{operation: {'|'.join(OPERATIONS)}, field_name, field_values: [...]}}")


def parse_day(text: str, name: str) -> datetime:
    """``YYYYMMDD`` → a date; a clean error otherwise."""
    try:
        return datetime.strptime(text, "%Y%m%d")
    except (TypeError, ValueError):
        raise ConfigError(f"{name} {text!r}: give a day as YYYYMMDD, e.g. 20240101") from None


def query(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, help="JSON file with the query ({\"and\": [...]}, or {\"query\": ..., \"fields\": [...]})."),
    start: str | None = typer.Option(None, "--start", help="First day of posting, YYYYMMDD (UTC)."),
    end: str | None = typer.Option(None, "--end", help="Last day of posting, YYYYMMDD (UTC), included."),
    window_days: int | None = typer.Option(None, "--window-days", min=1, max=30, help="Days per request window (the API allows 30). Default: 7."),
    max_count: int | None = typer.Option(None, "--max-count", min=1, max=100, help="Videos asked per request (≤ 100). Default: 100."),
    fields: str | None = typer.Option(None, "--fields", help="Comma-separated video fields. Default: every field the catalog keeps."),
    base_url: str | None = typer.Option(None, "--base-url", help="Ask this API instead of https://open.tiktokapis.com (e.g. the sandbox)."),
    resume: str | None = typer.Option(None, "--resume", help="Continue run RUN_ID (or 'latest') from its last committed page."),
    on_quota: str | None = typer.Option(None, "--on-quota", help="When the day's quota is spent: wait (until 00:00 UTC) or stop. Default: wait."),
    daily_requests: int | None = typer.Option(None, "--daily-requests", min=1, help="Requests the project may send per UTC day. Default: 1000."),
    daily_records: int | None = typer.Option(None, "--daily-records", min=1, help="Records the project may receive per UTC day. Default: 100000."),
    rate: float | None = typer.Option(None, "--rate", min=0, help="Requests per second; 0 = no limit. Default: 0.5 on the real API, 0 on this machine."),
    user_info: bool = typer.Option(True, "--user-info/--no-user-info", help="Then ask /user/info/ for the videos' creators whose follower counts are unknown (one request each, counted in the quota)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the summary."),
) -> None:
    """Run a Research API video query into the catalog, window by window, resumable.

    The span is cut into windows of --window-days; each is paged with cursor and
    search_id, every page committed with the run's state and the quota it spent
    (kept in the catalog: a resumed run knows what is left today). Expired search
    ids and 500s are retried a few times, then the window is split, and a day that
    still fails is recorded as failed. Then the creators of the collected videos whose
    follower counts are unknown are asked for (/user/info/, one request each, in the
    quota; a spent quota leaves the run blocked, to resume). Credentials come from CURATE_RESEARCH_CLIENT_KEY
    and CURATE_RESEARCH_CLIENT_SECRET (or [research] in the config); never stored.

    Example:  curate query cats.json --start 20241201 --end 20241231 --base-url http://127.0.0.1:8765
    """
    from scrapers.backends.research_api import ResearchApiClient
    from scrapers.politeness import Politeness
    from scrapers.query_run import QueryLimits

    context: Context = ctx.obj
    credentials = research_credentials(context)
    record, params = _plan(context, file, start, end, window_days, max_count, fields, base_url, resume)
    quota_mode = _option(context, "on_quota", on_quota)
    if quota_mode not in ("wait", "stop"):
        raise ConfigError(f"--on-quota {quota_mode!r}: choose wait or stop")
    limits = QueryLimits(daily_requests=int(_option(context, "daily_requests", daily_requests)),
                         daily_records=int(_option(context, "daily_records", daily_records)), on_quota=quota_mode)
    chosen = _option(context, "rate", rate)
    politeness = Politeness(rate=float(chosen if chosen is not None else default_rate(record.base_url)),
                            timeout=float(_option(context, "timeout", None)))
    with ResearchApiClient(credentials, record.base_url, politeness.timeout) as client:
        result = _run(context, record, client, politeness, limits, as_json)
        filled = _fill_authors(context, record.id, result, client, politeness, limits, as_json) if user_info else None
    _report(context, record.id, result, client, params, limits, as_json, filled)


def _plan(context: Context, file, start, end, window_days, max_count, fields, base_url, resume):
    from db.crawl_state import load_run
    from scrapers.query_run import QueryParams, QueryProgress, windows
    from scrapers.runs import ResumeError, open_query_run, start_query_run

    base = normalise_base_url(_option(context, "base_url", base_url))
    if resume:
        if file is not None or start or end:
            raise ConfigError("--resume continues a run with its own query and dates: give no FILE, --start or --end")
        record = open_query_run(context.engine, resume)
        if base_url is not None and base != record.base_url:
            raise ResumeError(f"query run {record.id} asks {record.base_url or 'the real API'}, not {base or 'the real API'}")
        progress = QueryProgress.from_dict(record.state)
        if progress.failed:
            # the windows that failed last time are tried again
            progress.pending += [[f["start"], f["end"]] for f in progress.failed]
            progress.failed = []
        record.state.update(progress.as_dict())
        return record, QueryParams.from_dict(record.params["query_run"])
    if file is None or not start or not end:
        raise ConfigError("give a query FILE with --start and --end (or --resume RUN_ID)")
    query_doc, file_fields = read_query(file)
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if last < first:
        raise ConfigError(f"--end {end} is before --start {start}")
    chosen_fields = [f.strip() for f in fields.split(",") if f.strip()] if fields else file_fields
    from scrapers.backends.research_api import VIDEO_FIELDS

    params = QueryParams(query_doc, first.strftime("%Y%m%d"), (last + timedelta(days=1)).strftime("%Y%m%d"),
                         int(_option(context, "window_days", window_days)), int(_option(context, "max_count", max_count)),
                         tuple(chosen_fields or VIDEO_FIELDS))
    if "id" not in params.fields:
        raise ConfigError("--fields must include id")
    progress = QueryProgress(pending=windows(params.start, params.end, params.window_days))
    run_id = start_query_run(context.engine, base, params.as_dict(), progress.as_dict())
    return load_run(context.engine, run_id), params


def _run(context: Context, record, client, politeness, limits, as_json: bool):
    from db.crawl_state import load_members, mark_running, owner
    from scrapers.crawl import CrawlStats
    from scrapers.query_run import QueryParams, QueryProgress, QueryRunner

    params = QueryParams.from_dict(record.params["query_run"])
    progress = QueryProgress.from_dict(record.state)
    members = {m["video_id"] for m in load_members(context.engine, record.id)}
    mark_running(context.engine, record.id, {**record.state, "owner": owner()})
    total = len(progress.pending) + len(progress.done)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("query windows"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                   TimeElapsedColumn(), console=err_console, transient=True, disable=as_json)
    task = bar.add_task("query", total=total, info="")

    def on_page(runner: QueryRunner) -> None:
        p = runner.progress
        bar.update(task, total=len(p.pending) + len(p.done) + len(p.failed), completed=len(p.done) + len(p.failed),
                   info=f"{len(runner.members):,} videos, {p.pages} pages, {runner.stats.requests} requests")

    with bar, GracefulStop() as stop:
        runner = QueryRunner(context.engine, record.id, client, params, progress, members, CrawlStats.from_dict(record.stats),
                             limits, politeness, stop_requested=stop.requested, on_page=on_page)
        return runner.run()


def _fill_authors(context: Context, run_id: int, result, client, politeness, limits, as_json: bool):
    """The finished run's creators without follower counts, from /user/info/; a spent quota or a block leaves the
    run resumable (``blocked``, or ``interrupted`` on Ctrl-C) with that reason."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from db.crawl_state import finish_run
    from scrapers.backends.research_api import ResearchApiSource
    from scrapers.query_authors import AuthorFiller

    if result.status != "finished":
        return None
    bar = Progress(TextColumn("user info"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                   transient=True, disable=as_json)
    task = bar.add_task("user info", total=None)
    with bar, GracefulStop() as stop:
        filler = AuthorFiller(context.engine, ResearchApiSource(client), limits.daily_requests, limits.daily_records,
                              lambda: client.server_time.strftime("%Y%m%d"), politeness, stop.requested,
                              lambda f: bar.update(task, total=f.pending, completed=f.asked))
        filled = filler.fill(run_id)
    result.stats.requests += filled.requests
    if filled.stopped is not None:
        result.status = "interrupted" if filled.stopped == "interrupted" else "blocked"
        result.stop_reason = filled.detail
    finish_run(context.engine, run_id, result.status, result.stop_reason, result.stats.as_dict())
    return filled


def query_summary(context: Context, run_id: int, result, client, params, limits) -> dict[str, Any]:
    """The end-of-run summary, in the shape ``--json`` prints."""
    from db.crawl_state import load_run, run_summary
    from db.quota import quota_spent

    record = load_run(context.engine, run_id)
    stats, progress = result.stats, result.progress
    counts = run_summary(context.engine, run_id)
    wall = max(stats.wall_s, 1e-9)
    day = client.server_time.strftime("%Y%m%d")
    spent = quota_spent(context.engine, client.api_name, day)
    data_requests = progress.data_requests
    return {
        "run_id": run_id, "status": result.status, "stop_reason": result.stop_reason, "source": "research_api",
        "base_url": record.base_url, "start": params.start,
        "end": (parse_day(params.end, "end") - timedelta(days=1)).strftime("%Y%m%d"), "window_days": params.window_days,
        "videos": counts["videos"],
        "windows": {"done": len(progress.done), "failed": len(progress.failed), "pending": len(progress.pending),
                    "splits": progress.splits},
        "failed_windows": progress.failed,
        "pages": progress.pages, "records": progress.records, "requests": stats.requests,
        "requests_per_1000_records": round(1000 * data_requests / progress.records, 2) if progress.records else None,
        "min_requests_per_1000_records": round(1000 / params.max_count, 2),
        "quota_today": {"day": day, "requests": spent.requests, "records": spent.records,
                        "requests_left": max(limits.daily_requests - spent.requests, 0),
                        "records_left": max(limits.daily_records - spent.records, 0), "exhausted": spent.exhausted},
        "retries": sum(v for k, v in stats.retries.items() if not k.endswith("_gave_up")),
        "retries_by_reason": dict(stats.retries), "skips": dict(stats.skips), "payload_skips": dict(stats.payload_skips),
        "missing_fields": dict(stats.missing.most_common()),
        "seconds": round(stats.wall_s, 2), "records_per_s": round(progress.records / wall, 1),
        "parse_share": round(stats.parse_s / wall, 3),
    }


def _report(context: Context, run_id: int, result, client, params, limits, as_json: bool, filled=None) -> None:
    summary = query_summary(context, run_id, result, client, params, limits)
    summary["user_info"] = filled.as_dict() if filled is not None else None
    if as_json:
        print_json(summary)
    else:
        rows = [(k, summary[k]) for k in ("status", "stop_reason", "base_url", "start", "end", "videos", "pages", "records", "requests")]
        rows += [("windows", ", ".join(f"{k}: {v}" for k, v in summary["windows"].items())),
                 ("requests per 1,000 records", f"{summary['requests_per_1000_records']} (least possible {summary['min_requests_per_1000_records']})"),
                 ("quota today", f"{summary['quota_today']['requests']:,} requests, {summary['quota_today']['records']:,} records"),
                 ("user info", _user_info_row(summary["user_info"])),
                 ("retries by reason", ", ".join(f"{k}: {v}" for k, v in summary["retries_by_reason"].items()) or "—"),
                 ("missing fields", counts_cell(summary["missing_fields"])),
                 ("seconds", summary["seconds"]), ("records/s", summary["records_per_s"])]
        console.print(key_value_table(f"query run {run_id} (research_api)", [(k, "real API" if v is None and k == "base_url" else v) for k, v in rows]))
    end_of_run(result.status, result.stop_reason, f"resume with: curate query --resume {run_id}")


def _user_info_row(filled: dict[str, Any] | None) -> str:
    if filled is None:
        return "—"
    skipped = ", ".join(f"{k}: {v}" for k, v in filled["skipped"].items())
    return f"{filled['filled']:,} of {filled['pending']:,} creators filled" + (f" ({skipped})" if skipped else "")


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
    app.command()(query)
