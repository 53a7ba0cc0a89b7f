"""Printing results: rich tables for people, one JSON object for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

#: the exit status of a run that stopped blocked or failed (it can be resumed)
EXIT_STOPPED = 4


def print_json(obj: Any) -> None:
    """Prints ``obj`` as one JSON object on stdout."""
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str).decode() + "\n")
    sys.stdout.flush()


def key_value_table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """A two-column table of names and values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    return table


def flatten(prefix: str, mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` → ``[("a b", 1)]``, for printing nested counts."""
    rows: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(flatten(f"{name} ", value) if value else [(name, "—")])
        else:
            rows.append((name, value))
    return rows


def counts_cell(mapping: Mapping[str, Any]) -> str:
    """``{"a": 1200, "b": 3}`` → ``"a: 1,200, b: 3"``; ``"—"`` when empty: counts by reason in one table cell."""
    return ", ".join(f"{k}: {v:,}" for k, v in mapping.items()) or "—"


def end_of_run(status: str, reason: str, resume: str) -> None:
    """After a run's summary: a blocked or failed run says so with how to go on (``resume``) and exits 4;
    one the user interrupted exits 130; any other end returns."""
    import typer

    if status in ("blocked", "failed"):
        err_console.print(f"[bold red]{status}:[/] {reason} — {resume}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_STOPPED)
    if status == "interrupted":
        err_console.print(f"stopped: {reason} — {resume}", highlight=False)
        if reason == "interrupted by the user":
            raise typer.Exit(130)

