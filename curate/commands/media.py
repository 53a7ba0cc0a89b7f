"""``curate download``: media for catalogued videos, with yt-dlp, checked before they enter media/."""

from __future__ import annotations

from typing import Any

import typer

from curate.context import Context
from curate.engines import address_option, engine_option, resolve_engine
from curate.output import console, err_console, key_value_table, print_json

DEFAULT_WORKERS = 4


def _option(context: Context, key: str, given: Any, default: Any = None) -> Any:
    """The command line's value, else the config file's ``[download] key``, else the default."""
    if given is not None:
        return given
    return context.settings.section("download").get(key, default)


def download(
    ctx: typer.Context,
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Downloads at once. Default: 4."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Download at most this many videos in this run."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Also retry videos that failed 3 times already."),
    proxy: str | None = typer.Option(None, "--proxy", help="Proxy URL. Env: CURATE_PROXY."),
    ca_cert: str | None = typer.Option(None, "--ca-cert", help="PEM file of CAs to trust besides the system's (a TLS-intercepting proxy). Env: CURATE_CA_CERT."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Seconds a connection may stall. Default: 30."),
    engine: str | None = engine_option(),
    ray_address: str | None = address_option(),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the counts."),
) -> None:
    """Download the media of catalogued videos into HOME/media with yt-dlp.

    Videos from the real site are fetched through their page (yt-dlp's TikTok
    extractor); videos crawled from another site (the sandbox) through their media
    URL. Each file is checked — not empty, not an HTML page, opens as a video with
    PyAV, not cut short — before it is renamed into media/<video_id>.<ext>, and its
    sha256 and size are recorded. Failures are recorded with their reason and retried
    on the next run (up to 3 attempts); files already present are not fetched again.
    Several processes (or machines sharing one media root) on one Postgres catalog
    share the work without overlap; with --engine ray the downloads run as tasks on
    a Ray cluster.

    Example:  curate download --workers 4 --limit 200 --engine ray --ray-address 127.0.0.1:6379
    """
    from scrapers.download import DownloadOptions, download_media

    context: Context = ctx.obj
    secrets = context.settings.secrets
    where = resolve_engine(context.settings.section("download"), engine, ray_address, None)
    options = DownloadOptions(
        workers=int(_option(context, "workers", workers, DEFAULT_WORKERS)),
        engine=where.engine,
        ray_address=where.ray_address,
        shard_size=where.shard_size,
        limit=_option(context, "limit", limit),
        retry_failed=retry_failed,
        proxy=proxy or secrets.get("CURATE_PROXY"),
        cookies=secrets.get("CURATE_COOKIES"),
        ca_cert=ca_cert or secrets.get("CURATE_CA_CERT"),
        timeout=float(_option(context, "timeout", timeout, 30.0)),
    )
    with _DownloadView(context, options, quiet=as_json) as view:
        summary = download_media(context.engine, context.settings.home, options, view.advance, context.settings.media_dir)
    counts = summary.as_dict()
    if as_json:
        print_json(counts)
        return
    rows = [("downloaded", counts["downloaded"]), ("already present", counts["already_present"]), ("bytes", counts["bytes"])]
    rows += [(f"failed: {reason}", n) for reason, n in sorted(counts["failed"].items())] or [("failed", 0)]
    rows += [("forgotten (file deleted here)", counts["forgotten"])] if counts["forgotten"] else []
    console.print(key_value_table(f"download into {context.settings.media_dir}", rows))
    if counts["elsewhere"]:
        err_console.print(
            f"{counts['elsewhere']} catalogued files are in another media root, not visible here: left as they are "
            "(share one media root between machines: see docs/scale.md)", highlight=False, soft_wrap=True)


class _DownloadView:
    """A progress bar over the videos this run would download."""

    def __init__(self, context: Context, options, quiet: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from db.downloads import pending_count
        from db.types import utcnow

        total = pending_count(context.engine, utcnow(), options.retry_failed)
        if options.limit is not None:
            total = min(total, options.limit)
        columns = (TextColumn("download"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn())
        self.progress = Progress(*columns, console=err_console, transient=True, disable=quiet)
        self.task = self.progress.add_task("download", total=total, failed=0)
        self.failed = 0

    def __enter__(self) -> _DownloadView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, outcome) -> None:
        """Called for every finished video."""
        self.failed += 0 if outcome.ok else 1
        self.progress.update(self.task, advance=1, failed=self.failed)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(download)
