"""The ``curate`` command line: global options, the commands, and clean errors.

Each command is a few lines that call the stages and turn their typed errors into
one line on stderr; heavy packages are imported inside the commands, so that
``curate --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from typer.core import TyperGroup

from core.errors import CurateError
from curate.commands import catalog, crawl, curation, dedup, importing, media, modeling, sandbox, serve, snapshot, synth
from curate.context import Context
from curate.output import err_console
from curate.settings import load_settings


class CurateGroup(TyperGroup):
    """Turns the project's typed errors into one line on stderr and an exit code, for every command."""

    def invoke(self, ctx):  # noqa: D102
        try:
            return super().invoke(ctx)
        except CurateError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=CurateGroup,
    name="curate",
    help="Build short-video virality datasets you can reproduce.\n\n"
    "Example:  curate crawl --seed 25 --fanout 5 && curate status",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Path | None = typer.Option(None, "--home", help="Data folder (catalog, media, snapshots). Env: CURATE_HOME. Default: ./curate-data"),
    db: str | None = typer.Option(None, "--db", help="Catalog URL, e.g. postgresql+psycopg://user@host/db. Env: CURATE_DB_URL. Default: SQLite in the data folder"),
    config: Path | None = typer.Option(None, "--config", help="TOML config file. Env: CURATE_CONFIG. Default: HOME/config.toml"),
) -> None:
    """Global options, resolved into the settings every command receives."""
    ctx.obj = Context(load_settings(home=home, db=db, config=config))
    ctx.call_on_close(ctx.obj.close)


for module in (catalog, importing, sandbox, crawl, media, curation, dedup, synth, snapshot, modeling, serve):
    module.register(app)


def main() -> None:
    """Entry point of the ``curate`` script."""
    app()


if __name__ == "__main__":
    main()
