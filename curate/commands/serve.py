"""``curate serve``: the local web page over the catalog, its snapshots and runs."""

from __future__ import annotations

import typer

from curate.context import Context
from curate.output import console, err_console


def serve(
    ctx: typer.Context,
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. Default: loopback only (this machine)."),
    allow_writes: bool = typer.Option(False, "--allow-writes", help="Let the page override verdicts by hand (recorded with who and when)."),
) -> None:
    """Serve the local web page: catalog, videos with facets, a video's player, near-duplicates, snapshots, runs, ask a model.

    Read-only on the catalog unless --allow-writes. Only media under HOME/media and
    runs' figures are served. Stop it with Ctrl-C.

    Example:  curate serve --port 8000 && open http://127.0.0.1:8000
    """
    from web.server import is_loopback
    from web.server import serve as run_server
    from web.config import WebConfig

    context: Context = ctx.obj
    settings = context.settings
    if not is_loopback(host):
        err_console.print(f"[bold red]warning:[/] {host} is not a loopback address: anyone who can reach it sees the catalog")
    config = WebConfig(home=settings.home, db_url=settings.db_url, allow_writes=allow_writes)
    mode = "verdict overrides allowed" if allow_writes else "read-only"
    run_server(config, host, port, on_ready=lambda url: console.print(f"serving {settings.home} at {url} ({mode}); Ctrl-C to stop", highlight=False, soft_wrap=True))


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
    app.command()(serve)
