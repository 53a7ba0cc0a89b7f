"""``curate doctor``: the first thing to run on a new machine (logic in :mod:`curate.doctor`)."""

from __future__ import annotations

import typer

from curate.context import Context
from curate.output import console, print_json

STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "blocked": "bold red", "drift": "bold yellow",
         "unreachable": "bold red", "failed": "red", "unavailable": "bold red", "not tried": "yellow"}


def doctor(
    ctx: typer.Context,
    live: bool = typer.Option(False, "--live", help="Also make one feed and one related call per backend: ok, blocked (why) or drift (which fields)."),
    source: list[str] | None = typer.Option(None, "--source", help="Backends to check (repeat, or a,b): tiktokapi playwright selenium ytdlp. Default: all four."),
    base_url: str | None = typer.Option(None, "--base-url", help="Check this site instead of https://www.tiktok.com (e.g. the sandbox)."),
    proxy: str | None = typer.Option(None, "--proxy", help="Proxy URL the crawl would use. Env: CURATE_PROXY."),
    ca_cert: str | None = typer.Option(None, "--ca-cert", help="PEM file of CAs to trust besides the system's. Env: CURATE_CA_CERT."),
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds one live call may take."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with every check."),
) -> None:
    """Check this machine's set-up for a crawl, one line each: ok, or what to do.

    Looks at the client libraries, Chromium and ChromeDriver (versions, and
    whether they agree), ffmpeg and PyAV, the catalog URL, the token, cookies,
    proxy and CA file (present and well-formed; values are never printed), and
    whether the data folder is writable. With --live, starts each backend and
    asks the site for one feed page and one related list. Exit status 1 when a
    check failed or a live call did not come back ok.

    \b
    Example:  curate doctor
    Example:  curate doctor --live --source tiktokapi
    Example:  curate doctor --live --base-url http://127.0.0.1:8765 --source playwright,ytdlp
    """
    from curate.commands.crawl import build_source, normalise_base_url, source_secrets
    from curate.doctor import Setup, chosen_sources, failed, setup_checks
    from curate.doctor_live import live_checks

    context: Context = ctx.obj
    sources = chosen_sources(",".join(source or []))
    _known(sources)
    base = normalise_base_url(base_url)
    secrets = source_secrets(context, proxy, ca_cert)
    setup = Setup(context.settings, sources, base, secrets.ms_token, secrets.cookies, secrets.proxy, secrets.ca_cert)
    checks = setup_checks(setup)
    if not as_json:
        for check in checks:
            _print(check.name, check.status, check.detail)
    results = []
    if live:
        for result in live_checks(sources, lambda name: build_source(name, base, secrets, timeout), secrets.redact):
            results.append(result)
            if not as_json:
                _print(f"live {result.source} {result.call}", result.status, result.detail)
    if as_json:
        print_json({"checks": [c.__dict__ for c in checks], "live": [r.__dict__ for r in results]})
    if failed(checks) or any(not r.ok for r in results):
        raise typer.Exit(1)


def _known(sources: tuple[str, ...]) -> None:
    from core.errors import ConfigError
    from curate.commands.crawl import SOURCES

    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ConfigError(f"--source {', '.join(unknown)}: choose among {', '.join(SOURCES)}")


def _print(name: str, status: str, detail: str) -> None:
    from rich.markup import escape

    console.print(f"{escape(name)}: [{STYLE.get(status, 'bold')}]{escape(status)}[/] — {escape(detail)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
    app.command()(doctor)
