"""``curate refresh``: re-observe catalogued videos as they reach the ages of a schedule; list what is due; purge the gone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from core.errors import ConfigError
from curate.commands.crawl import (
    SOURCES, GracefulStop, build_source, default_rate, normalise_base_url, source_secrets,
)
from curate.context import Context
from curate.output import console, counts_cell, end_of_run, err_console, key_value_table, print_json

REFRESH_SOURCES = (*SOURCES, "research_api")


def refresh(
    ctx: typer.Context,
    schedule: str | None = typer.Option(None, "--schedule", help="Ages after posting at which to observe again. Default: 1h,24h,48h,7d,30d."),
    due: bool = typer.Option(False, "--due", help="Only list what is due now and when the next ages fall due; fetch nothing."),
    source: str | None = typer.Option(None, "--source", help=f"Backend: {', '.join(REFRESH_SOURCES)}. Default: tiktokapi."),
    base_url: str | None = typer.Option(None, "--base-url", help="Ask this site instead of the real one (e.g. the sandbox)."),
    limit: int | None = typer.Option(None, "--limit", min=0, help="Refresh at most this many due videos (the longest due first)."),
    rate: float | None = typer.Option(None, "--rate", min=0, help="Requests per second; 0 = no limit. Default: 0.5 on the real site, 0 on this machine."),
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds one request may take."),
    purge_gone: bool = typer.Option(False, "--purge-gone", help="Afterwards delete every video noticed gone (rows, observations, media), as the Research API's terms require."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Re-observe catalogued videos when they reach the ages of a schedule.

    A video is due when it has reached an age of the schedule and was not observed
    since. Each due video is fetched once through the chosen source (politely: a
    rate, jitter, back-off) and its counts stored as a time-stamped observation; a
    video the platform no longer shows is recorded as gone with the time it was
    noticed. Stopped anywhere, the next run finds the rest still due.

    Example:  curate refresh --base-url http://127.0.0.1:8765 --source ytdlp --schedule 1h,24h,7d
    """
    from db.observations import purge_gone as purge, refresh_candidates
    from scrapers.platform_time import platform_clock
    from scrapers.refresh import DEFAULT_SCHEDULE, due_table, parse_schedule

    context: Context = ctx.obj
    ages = parse_schedule(schedule or context.settings.section("refresh").get("schedule", DEFAULT_SCHEDULE))
    name = source or context.settings.section("refresh").get("source", "tiktokapi")
    if name not in REFRESH_SOURCES:
        raise ConfigError(f"--source {name!r}: choose one of {', '.join(REFRESH_SOURCES)}")
    base = normalise_base_url(base_url)
    site = base or ("https://open.tiktokapis.com" if name == "research_api" else "https://www.tiktok.com")
    now = platform_clock(site, timeout)
    table = due_table(refresh_candidates(context.engine), ages, now())
    if due:
        return _print_due(table, now(), as_json)
    todo = table[table["due"]].sort_values("due_at").head(limit if limit is not None else len(table))
    summary: dict[str, Any] = {"source": name, "base_url": base, "schedule": [a for a, _ in ages]}
    status, reason = "finished", "nothing was due"
    if len(todo):
        status, reason, stats = _refresh(context, name, base, todo, now, rate, timeout, as_json)
        summary.update(_stats_summary(stats))
    else:
        summary.update(_stats_summary(None))
    summary.update(status=status, stop_reason=reason)
    if purge_gone:
        summary["purged"] = purge(context.engine, context.settings.media_dir)
    after = due_table(refresh_candidates(context.engine), ages, now())
    summary["still_due"] = int(after["due"].sum())
    _report(summary, as_json)


def _refresh(context: Context, name: str, base: str | None, todo, now, rate, timeout, as_json: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from scrapers.politeness import Politeness
    from scrapers.refresh import Refresher

    politeness = Politeness(rate=float(rate if rate is not None else default_rate(base)), timeout=timeout)
    bar = Progress(TextColumn("refresh"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                   TimeElapsedColumn(), console=err_console, transient=True, disable=as_json)
    task = bar.add_task("refresh", total=len(todo), info="")

    def on_video(refresher: Refresher) -> None:
        s = refresher.stats
        bar.update(task, completed=s.observed + sum(s.gone.values()) + sum(s.skipped.values()),
                   info=f"{s.requests} requests, {sum(s.gone.values())} gone")

    with _source(context, name, base, timeout) as src, bar, GracefulStop() as stop:
        refresher = Refresher(context.engine, src, name, now, politeness, stop.requested, on_video)
        status, reason = refresher.run(todo)
    return status, reason, refresher.stats


def _source(context: Context, name: str, base: str | None, timeout: float):
    if name == "research_api":
        from curate.commands.research import research_credentials
        from scrapers.backends.research_api import ResearchApiClient, ResearchApiSource

        return ResearchApiSource(ResearchApiClient(research_credentials(context), base, timeout))
    return build_source(name, base, source_secrets(context, None), timeout)


def _stats_summary(stats) -> dict[str, Any]:
    if stats is None:
        return {"due": 0, "observed": 0, "observations": 0, "gone": {}, "skipped": {}, "requests": 0, "retries": {},
                "seconds": 0.0, "videos_per_s": 0.0, "outside_source_share": 0.0, "parse_share": 0.0}
    wall = max(stats.wall_s, 1e-9)
    return {
        "due": stats.due, "observed": stats.observed, "observations": stats.observations, "gone": dict(stats.gone),
        "skipped": dict(stats.skipped), "requests": stats.requests, "retries": dict(stats.retries),
        "seconds": round(stats.wall_s, 2), "videos_per_s": round((stats.observed + sum(stats.gone.values())) / wall, 2),
        "outside_source_share": round(max(0.0, wall - stats.source_s - stats.wait_s) / wall, 3),
        "parse_share": round(stats.parse_s / wall, 3),
    }


def _report(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(summary)
    else:
        rows = [(k, summary[k]) for k in ("status", "stop_reason", "source", "due", "observed", "observations", "requests")]
        rows += [("gone", counts_cell(summary["gone"])), ("skipped", counts_cell(summary["skipped"])),
                 ("still due", summary["still_due"]), ("seconds", summary["seconds"]), ("videos/s", summary["videos_per_s"])]
        if "purged" in summary:
            rows.append(("purged", counts_cell(summary["purged"])))
        console.print(key_value_table("refresh", rows))
    end_of_run(summary["status"], summary["stop_reason"], "run curate refresh again to continue")


def _print_due(table, now: datetime, as_json: bool) -> None:
    due = table[table["due"]]
    upcoming = table[~table["due"] & table["next_at"].notna()].sort_values("next_at")
    report = {
        "now": now.isoformat(), "videos": len(table), "due": len(due),
        "due_by_age": {str(k): int(v) for k, v in due["age"].value_counts().items()},
        "next": [{"video_id": r.video_id, "age": r.next_age, "at": r.next_at.isoformat()} for r in upcoming.head(20).itertuples()],
        "done": int((~table["due"] & table["next_at"].isna()).sum()),
    }
    if as_json:
        print_json(report)
        return
    rows = [("now (the platform's clock)", report["now"]), ("videos followed", report["videos"]), ("due now", report["due"])]
    rows += [(f"  due for {age}", n) for age, n in report["due_by_age"].items()]
    rows += [("every age observed", report["done"])]
    rows += [(f"next: {n['video_id']} at {n['age']}", n["at"]) for n in report["next"][:10]]
    console.print(key_value_table("refresh schedule", rows))


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
    app.command()(refresh)
