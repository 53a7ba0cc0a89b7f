"""``curate crawl``: the recursive For-You crawl into the catalog, resumable, with a summary."""

from __future__ import annotations

import re
import secrets as random_source
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from core.errors import ConfigError
from curate.context import Context
from curate.output import console, counts_cell, end_of_run, err_console, key_value_table, print_json

if TYPE_CHECKING:
    from scrapers.source import Source, SourceSecrets

SOURCES = ("tiktokapi", "playwright", "selenium", "ytdlp")
DEFAULTS = {"seed": 25, "fanout": 5, "max_videos": 500, "source": "tiktokapi", "timeout": 30.0, "attempts": 6, "backoff": 1.0}
#: exit status of a run that stopped blocked or failed (its state is kept: resume it)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def _option(context: Context, key: str, given: Any) -> Any:
    """The command line's value, else the config file's ``[crawl] key``, else the default."""
    if given is not None:
        return given
    return context.settings.section("crawl").get(key, DEFAULTS.get(key))


def parse_duration(text: str | None) -> float | None:
    """``90``, ``90s``, ``10m``, ``2h`` → seconds."""
    if text is None:
        return None
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"--time-budget {text!r}: give seconds, or a number with s, m or h (e.g. 10m)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def build_source(name: str, base_url: str | None, secrets: SourceSecrets, timeout: float, headed: bool = False) -> Source:
    """The backend named by ``--source`` (the one place that picks a backend)."""
    if name == "tiktokapi":
        from scrapers.backends.tiktokapi import TikTokApiSource as cls
    elif name == "playwright":
        from scrapers.backends.playwright import PlaywrightSource as cls
    elif name == "selenium":
        from scrapers.backends.selenium import SeleniumSource as cls
    elif name == "ytdlp":
        from scrapers.backends.ytdlp import YtdlpSource as cls
    else:
        raise ConfigError(f"--source {name!r}: choose one of {', '.join(SOURCES)}")
    if headed and name == "ytdlp":
        raise ConfigError("--headed: the ytdlp backend drives no browser; use --source playwright, selenium or tiktokapi")
    if headed:
        return cls(base_url=base_url, secrets=secrets, timeout=timeout, headed=True)
    return cls(base_url=base_url, secrets=secrets, timeout=timeout)


def source_secrets(context: Context, proxy: str | None, ca_cert: str | None = None) -> SourceSecrets:
    """Token, cookies, proxy and CA file from the environment (``--proxy`` and ``--ca-cert`` win)."""
    from scrapers.source import SourceSecrets

    found = context.settings.secrets
    return SourceSecrets(
        ms_token=found.get("CURATE_MS_TOKEN") or found.get("MS_TOKEN"),
        cookies=found.get("CURATE_COOKIES"),
        proxy=proxy or found.get("CURATE_PROXY"),
        ca_cert=ca_cert or found.get("CURATE_CA_CERT"),
    )


def normalise_base_url(base_url: str | None) -> str | None:
    """None for the real site; the URL without a trailing slash otherwise."""
    from scrapers.source import REAL_SITE

    if not base_url:
        return None
    base = base_url.rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base):
        raise ConfigError(f"--base-url {base_url!r}: give an http(s) URL such as http://127.0.0.1:8765")
    return None if base == REAL_SITE else base


def default_rate(base_url: str | None) -> float:
    """Politeness for the real site (and any remote one); none for a site on this machine."""
    from scrapers.politeness import REAL_SITE_RATE

    local = base_url is not None and re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$", base_url)
    return 0.0 if local else REAL_SITE_RATE


def crawl(
    ctx: typer.Context,
    seed: int | None = typer.Option(None, "--seed", min=1, help="Videos taken from the For-You feed to start from. Default: 25."),
    fanout: int | None = typer.Option(None, "--fanout", min=1, help="Related videos fetched per expanded video. Default: 5."),
    max_videos: int | None = typer.Option(None, "--max-videos", min=1, help="Stop when the crawl holds this many videos. Default: 500."),
    max_depth: int | None = typer.Option(None, "--max-depth", min=0, help="Never expand videos this deep (feed seeds are depth 0). Default: no limit."),
    time_budget: str | None = typer.Option(None, "--time-budget", help="Stop after this long (90, 90s, 10m, 2h); resume later."),
    random_seed: int | None = typer.Option(None, "--random-seed", help="Makes the random picks reproducible. Default: a fresh one, stored with the run."),
    rate: float | None = typer.Option(None, "--rate", min=0, help="Requests per second, with jitter; 0 = no limit. Default: 0.5 on the real site, 0 on this machine."),
    proxy: str | None = typer.Option(None, "--proxy", help="Proxy URL (http://user:pass@host:port). Env: CURATE_PROXY. Stored without credentials."),
    ca_cert: str | None = typer.Option(None, "--ca-cert", help="PEM file of CAs to trust besides the system's (a TLS-intercepting proxy). Env: CURATE_CA_CERT."),
    resume: str | None = typer.Option(None, "--resume", help="Continue run RUN_ID (or 'latest') from its last committed step."),
    join: str | None = typer.Option(None, "--join", help="Add this process as another worker of running crawl RUN_ID, with its own session, proxy and rate (Postgres catalog)."),
    source: str | None = typer.Option(None, "--source", help=f"Backend: {', '.join(SOURCES)}. Default: tiktokapi."),
    base_url: str | None = typer.Option(None, "--base-url", help="Crawl this site instead of https://www.tiktok.com (e.g. the sandbox)."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Seconds one request may take. Default: 30."),
    headed: bool = typer.Option(False, "--headed", help="A visible browser (under Xvfb when there is no screen), for sites that refuse headless ones."),
    record_har: Path | None = typer.Option(None, "--record-har", help="Keep this session's traffic in a HAR file, tokens, cookies and proxy credentials scrubbed (replay it: curate sandbox serve --replay FILE)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the summary."),
    users: Path | None = typer.Option(None, "--users", help="Instead: the recent videos of the creators listed in FILE (one handle a line, # comments); --max-videos is then per creator (default 30); --source research_api too."),
) -> None:
    """Crawl the For-You feed recursively into the catalog (the Viral Vision method).

    Takes --seed videos from the For-You feed as a guest, then again and again
    picks a video of this crawl at random (among those not expanded yet), fetches
    --fanout related videos and adds the new ones one level deeper, with an edge.
    Every step is committed with the random generator's state: after a crash,
    a block or Ctrl-C, --resume continues exactly where the run stopped.
    On a Postgres catalog, --join RUN_ID adds a worker to a running crawl
    (another process or machine): each expansion is claimed once (docs/scale.md).
    Secrets come from the environment: CURATE_MS_TOKEN, CURATE_COOKIES, CURATE_PROXY.

    Example:  curate crawl --seed 25 --fanout 5 --max-videos 200 --base-url http://127.0.0.1:8765 --source playwright

    Example:  curate crawl --join 7 --source ytdlp --proxy http://user:pass@proxy2:8080 --rate 0.5
    Example:  curate crawl --users creators.txt --max-videos 50 --source ytdlp --base-url http://127.0.0.1:8765
    """
    from curate.commands.creators import CreatorOptions, crawl_creators, wants_creators
    from scrapers.politeness import Politeness
    from scrapers.runs import crawl_run, start_run

    context: Context = ctx.obj
    if wants_creators(context, users, resume):
        foryou = {"--seed": seed, "--fanout": fanout, "--max-depth": max_depth, "--random-seed": random_seed, "--record-har": record_har, "--join": join}
        return crawl_creators(context, CreatorOptions(users, resume, max_videos, source, base_url, rate, timeout, proxy, ca_cert,
                                                      headed, time_budget, as_json, foryou))
    given = {"seed": seed, "fanout": fanout, "max_videos": max_videos, "max_depth": max_depth, "random_seed": random_seed}
    secrets = source_secrets(context, proxy, ca_cert)
    plan = _plan(context, resume, given, source, base_url, rate, timeout, secrets, join)
    politeness = Politeness(
        rate=plan.options["rate"], timeout=plan.options["timeout"],
        attempts=int(_option(context, "attempts", None)), backoff=float(_option(context, "backoff", None)),
    )
    budget = parse_duration(_option(context, "time_budget", time_budget))
    # on another site than the real one (the sandbox), observations take that site's time (its Date header)
    stamp = None
    if plan.base_url:
        from scrapers.platform_time import platform_clock

        try:
            stamp = platform_clock(plan.base_url, politeness.timeout)
        except ConfigError:
            stamp = None  # a site that cannot be reached: the crawl itself says so, with its own reason
    source_client = build_source(plan.source, plan.base_url, secrets, politeness.timeout, headed)
    har = _har(source_client, record_har, secrets)
    try:
        # the browser starts before a new run is recorded: a backend that cannot start leaves no run behind
        with source_client as src:
            record = plan.record or start_run(context.engine, plan.source, plan.base_url, plan.params, plan.options)
            with CrawlView(record, quiet=as_json) as view, GracefulStop() as stop:
                result = crawl_run(context.engine, record, src, politeness, budget, view.update, secrets.redact, stop.requested, stamp, plan.join)
    finally:
        if har is not None:
            # a blocked or failed session is what a recording is for: written however the crawl ended
            err_console.print(f"recorded {har.write():,} requests in {har.path} (tokens, cookies, proxy credentials scrubbed)", highlight=False, soft_wrap=True)
    _report(context, record.id, result, plan.source, as_json)


def _har(source_client, path: Path | None, secrets):
    """The HAR log the source records into (``--record-har``), or None."""
    if path is None:
        return None
    from scrapers.har import HarLog

    source_client.har = HarLog(path, secrets)
    return source_client.har


class GracefulStop:
    """The first Ctrl-C asks the crawl to stop after its current step (status interrupted); a second one aborts."""

    def __init__(self) -> None:
        self._asked = False
        self._previous: Any = None

    def __enter__(self) -> GracefulStop:
        # a crawl started with SIGINT ignored (nohup, a background job) stays deaf to it
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self._asked:
            raise KeyboardInterrupt
        self._asked = True
        err_console.print("stopping after this step (Ctrl-C again to abort)")

    def requested(self) -> bool:
        """True once the user pressed Ctrl-C."""
        return self._asked


@dataclass
class _Plan:
    """What to crawl: a run to resume (``record``) or the parameters of a new one, with whom and how fast."""

    source: str
    base_url: str | None
    options: dict[str, Any]
    params: Any = None
    record: Any = None
    #: another worker of a running run (``--join``)
    join: bool = False


def _plan(context: Context, resume, given, source, base_url, rate, timeout, secrets, join=None) -> _Plan:
    from scrapers.crawl import CrawlParams
    from scrapers.runs import ResumeError, open_run
    from scrapers.source import redact_proxy

    base = normalise_base_url(_option(context, "base_url", base_url))
    name = _option(context, "source", source)
    if name not in SOURCES:
        raise ConfigError(f"--source {name!r}: choose one of {', '.join(SOURCES)}")
    if join:
        return _join_plan(context, join, resume, given, name, base_url, base, rate, timeout, secrets)
    if resume:
        record = open_run(context.engine, resume, {k: v for k, v in given.items() if v is not None})
        if base_url is not None and base != record.base_url:
            raise ResumeError(f"crawl run {record.id} crawls {record.base_url or 'the real site'}, not {base or 'the real site'}")
        # how fast and through whom may change on resume; what is crawled may not
        options = {**record.params, **{k: float(v) for k, v in (("rate", rate), ("timeout", timeout)) if v is not None}}
        return _Plan(name if source else record.source, record.base_url, options, record=record)
    values = {k: _option(context, k, v) for k, v in given.items()}
    if values["random_seed"] is None:
        values["random_seed"] = random_source.randbelow(2**31)
    chosen_rate = _option(context, "rate", rate)
    options = {
        "rate": float(chosen_rate if chosen_rate is not None else default_rate(base)),
        "timeout": float(_option(context, "timeout", timeout)),
        "proxy": redact_proxy(secrets.proxy),
    }
    return _Plan(name, base, options, params=CrawlParams(**values))


def _join_plan(context: Context, join, resume, given, name, base_url, base, rate, timeout, secrets) -> _Plan:
    """Another worker of a running crawl: the run's parameters and site; this worker's own backend, rate and proxy."""
    from scrapers.runs import ResumeError, open_join
    from scrapers.source import redact_proxy

    if resume:
        raise ConfigError("--join and --resume: give one (--join adds a worker to a running crawl, --resume restarts a stopped one)")
    record = open_join(context.engine, join, {k: v for k, v in given.items() if v is not None})
    if base_url is not None and base != record.base_url:
        raise ResumeError(f"crawl run {record.id} crawls {record.base_url or 'the real site'}, not {base or 'the real site'}")
    chosen_rate = _option(context, "rate", rate)
    options = {
        "rate": float(chosen_rate if chosen_rate is not None else default_rate(record.base_url)),
        "timeout": float(_option(context, "timeout", timeout)),
        "proxy": redact_proxy(secrets.proxy),
    }
    return _Plan(name, record.base_url, options, record=record, join=True)


def _report(context: Context, run_id: int, result, source: str, as_json: bool) -> None:
    from db.crawl_state import load_run, run_summary

    summary = crawl_summary(run_summary(context.engine, run_id), load_run(context.engine, run_id), result, source)
    if as_json:
        print_json(summary)
    else:
        console.print(key_value_table(f"crawl run {run_id} ({source})", _rows(summary)))
    end_of_run(result.status, result.stop_reason, f"resume with: curate crawl --resume {run_id}")


def crawl_summary(counts: dict[str, Any], record, result, source: str) -> dict[str, Any]:
    """The end-of-run summary, in the shape ``--json`` prints."""
    stats = result.stats
    wall = max(stats.wall_s, 1e-9)
    return {
        "run_id": record.id,
        "status": result.status,
        "stop_reason": result.stop_reason,
        "source": source,
        "base_url": record.base_url,
        "random_seed": record.params["crawl"]["random_seed"],
        "videos": counts["videos"],
        "edges": counts["edges"],
        "expanded": counts["expanded"],
        "depths": counts["depths"],
        "requests": stats.requests,
        "retries": sum(stats.retries.values()),
        "retries_by_reason": dict(stats.retries),
        "skips": dict(stats.skips),
        "payload_skips": dict(stats.payload_skips),
        "missing_fields": dict(stats.missing.most_common()),
        "seconds": round(stats.wall_s, 2),
        "videos_per_s": round(counts["videos"] / wall, 2),
        # where the time went: our engine and catalog writes (outside source calls and waits), and parsing
        "outside_source_share": round(max(0.0, wall - stats.source_s - stats.wait_s) / wall, 3),
        "parse_share": round(stats.parse_s / wall, 3),
    }


def _rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    rows = [(k, summary[k]) for k in ("status", "stop_reason", "base_url", "random_seed", "videos", "edges", "expanded")]
    rows.append(("depth histogram", counts_cell(summary["depths"])))
    rows += [(k, summary[k]) for k in ("requests", "retries")]
    rows += [("retries by reason", counts_cell(summary["retries_by_reason"])), ("skipped videos", counts_cell(summary["skips"]))]
    rows += [("skipped payloads", counts_cell(summary["payload_skips"])), ("missing fields", counts_cell(summary["missing_fields"]))]
    rows += [("seconds", summary["seconds"]), ("videos/s", summary["videos_per_s"])]
    return [(k, "real site" if k == "base_url" and v is None else v) for k, v in rows]


class CrawlView:
    """A progress bar on stderr: videos held against --max-videos, requests, retries, depth."""

    def __init__(self, record, quiet: bool = False) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.total = record.params["crawl"]["max_videos"]
        columns = (TextColumn("crawl {task.fields[phase]}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn())
        self.progress = Progress(*columns, console=err_console, transient=True, disable=quiet)
        self.task = self.progress.add_task("crawl", total=self.total, phase="", info="")

    def __enter__(self) -> CrawlView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, crawler) -> None:
        """Called after every committed step."""
        stats = crawler.stats
        info = f"{stats.requests} requests, {sum(stats.retries.values())} retries, {stats.expanded} expanded"
        self.progress.update(self.task, completed=len(crawler.frontier), phase=crawler.progress.phase, info=info)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(crawl)
