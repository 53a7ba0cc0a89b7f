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

    from db.catalog_copy import describe_url

    context: Context = ctx.obj
    where = describe_url(context.engine)
    counts = catalog_status(context.engine)
    if as_json:
        print_json({**counts, "catalog": where, "home": str(context.settings.home)})
        return
    console.print(f"catalog: {_described(where)}; data folder {context.settings.home}", highlight=False, soft_wrap=True)
    console.print(key_value_table(f"catalog {context.settings.home}", flatten("", counts)))


def _described(where: dict) -> str:
    if where["dialect"] == "sqlite":
        return f"sqlite file {where['database']}"
    port = f":{where['port']}" if where["port"] else ""
    user = f" as {where['user']}" if where["user"] else ""
    return f"{where['dialect']} database {where['database']} on {where['host'] or 'the local socket'}{port}{user}"


catalog_app = typer.Typer(help="The catalog itself: copy it to another database.\n\n"
                          "Example:  curate catalog copy --to postgresql+psycopg://me@localhost/tiktok",
                          no_args_is_help=True, rich_markup_mode=None)


@catalog_app.command("copy")
def copy(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="The target catalog's URL, e.g. postgresql+psycopg://me@localhost/tiktok (created or upgraded first)."),
    batch_rows: int = typer.Option(5000, "--batch-rows", min=1, help="Rows per batch (one transaction each)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Copy this catalog, with its pseudonymisation secret, to another database; resumable, counts checked.

    Rows go in batches, one transaction each, existing keys skipped: an interrupted
    copy run again finishes the rest. Every table's row count is compared at the end.
    Media and snapshot files stay in the data folder; use the same --home with the new catalog.

    Example:  curate catalog copy --to postgresql+psycopg://me@localhost/tiktok
    """
    from rich.progress import Progress

    from db.catalog_copy import copy_catalog, describe_url
    from db.engine import check_connection, create_catalog_engine
    from db.migrate import ensure_schema

    context: Context = ctx.obj
    source = context.engine
    target = create_catalog_engine(to)
    try:
        check_connection(target)
        ensure_schema(target)
        with Progress(transient=True, console=console, disable=as_json) as bar:
            task = bar.add_task("copying", total=None)
            report = copy_catalog(source, target, batch_rows,
                                  progress=lambda name, n: bar.update(task, advance=n, description=f"copying {name}"))
        where = describe_url(target)
    finally:
        target.dispose()
    if as_json:
        print_json({"to": where, "tables": report.as_json()})
        return
    rows = [(f"{name}", f"{c['target']:,} ({c['written']:,} written now)") for name, c in report.as_json().items()]
    console.print(key_value_table(f"copied to {_described(where)}", rows))
    console.print("every table's row count matches the source; the pseudonymisation secret was copied", highlight=False)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(init)
    app.command()(status)
    app.add_typer(catalog_app, name="catalog")
