"""``curate init`` and ``curate status``: create or upgrade the catalog, and count what it holds."""

from __future__ import annotations

import typer

from curate.context import Context
from curate.output import console, flatten, key_value_table, print_json


def init(ctx: typer.Context) -> None:
    """Create the catalog, or upgrade its schema to this version.

    Any other command does this on first use; run it to check a database URL.

    Example:  curate --db postgresql+psycopg://me@localhost/tiktok init
    """
    from db.migrate import current_revision

    context: Context = ctx.obj
    engine = context.engine
    console.print(f"catalog ready at {engine.url.render_as_string(hide_password=True)} (schema {current_revision(engine)})")


def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Count what the catalog holds: videos, authors, observations by provenance, crawls, media, snapshots.

    Example:  curate status --json
    """
    from db.catalog import catalog_status

    context: Context = ctx.obj
    counts = catalog_status(context.engine)
    if as_json:
        print_json(counts)
        return
    console.print(key_value_table(f"catalog {context.settings.home}", flatten("", counts)))


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(init)
    app.command()(status)
