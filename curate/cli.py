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
from curate.commands import (
    catalog, crawl, curation, dedup, doctor, importing, media, modeling, refresh, research, sandbox, serve, snapshot, synth,
)
from curate.context import Context
from curate.output import err_console
from curate.settings import load_settings


#: options of the whole command line that are also accepted after the subcommand (``curate status --db URL``)
GLOBAL_OPTIONS = ("--home", "--db", "--config")


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options (and their values) moved before the subcommand, where click expects them.

    ``curate import x.json --db URL`` then means ``curate --db URL import x.json``.
    Nothing after a ``--`` is touched.
    """
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if rest and name in GLOBAL_OPTIONS:
            if "=" in arg:
                moved.append(arg)
            else:
                moved.extend(args[i : i + 2])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return moved + rest


class CurateGroup(TyperGroup):
    """Turns the project's typed errors into one line on stderr and an exit code, for every command."""

    def parse_args(self, ctx, args):  # noqa: D102
        if ctx.parent is None:
            args = hoist_global_options(list(args))
        return super().parse_args(ctx, args)

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


for module in (catalog, doctor, importing, sandbox, crawl, research, refresh, media, curation, dedup, synth, snapshot, modeling, serve):
    module.register(app)


def main() -> None:
    """Entry point of the ``curate`` script."""
    app()


if __name__ == "__main__":
    main()
