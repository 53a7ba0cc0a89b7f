"""``curate import FILE…``: payload files into the catalog, streamed, with counts of what changed and what was skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from core.errors import CurateError, ParseError
from curate.context import Context
from curate.output import console, err_console, key_value_table, print_json

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from core.records import ParsedItem

#: files at least this large get a progress bar
PROGRESS_MIN_BYTES = 8 << 20


class ImportFormat(str, Enum):
    """What ``--format`` accepts; ``auto`` recognises the file's layout and each record's shape."""

    auto = "auto"
    item = "item"
    feed = "feed"
    page = "page"
    tiktok_scraper = "tiktok-scraper"
    ytdlp = "ytdlp"
    jsonl = "jsonl"


class ImportFailed(CurateError):
    """A file cannot be imported at all (missing, not JSON or HTML, an unknown shape, cut short)."""


@dataclass
class ImportReport:
    """What an import changed, and the records it skipped by reason."""

    new: int = 0
    updated: int = 0
    authors: int = 0
    observations: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    records: int = 0
    #: why the file stopped being readable part-way, if it did
    failure: ParseError | None = None

    def as_json(self) -> dict[str, Any]:
        """The object ``curate import --json`` prints."""
        return {
            "new": self.new, "updated": self.updated, "authors": self.authors,
            "observations": self.observations, "skipped": dict(sorted(self.skipped.items())),
        }

    def rows(self) -> list[tuple[str, int]]:
        """Lines of the summary table."""
        rows = [("videos new", self.new), ("videos updated", self.updated), ("authors written", self.authors),
                ("observations added", self.observations), ("records skipped", sum(self.skipped.values()))]
        return rows + [(f"  skipped: {reason}", n) for reason, n in sorted(self.skipped.items())]


def check_file(path: Path, fmt: str) -> str:
    """The format ``path`` is imported under; raises ImportFailed, naming the file, when it cannot be."""
    from scrapers.parse import detect_format

    if not path.is_file():
        raise ImportFailed(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        detected = detect_format(path)
    except ParseError as exc:
        raise ImportFailed(f"{path}: {_describe(exc)}") from None
    return detected if fmt == "auto" else fmt


def _describe(exc: ParseError) -> str:
    return f"{exc.detail} ({exc.reason})" if exc.detail else exc.reason


def import_file(
    engine: Engine, path: Path, fmt: str = "auto", on_bytes: Callable[[int], None] | None = None
) -> ImportReport:
    """Streams one file into the catalog, one transaction per batch; bad records are skipped and counted.

    Raises ImportFailed when the file turns out unreadable part-way (cut short,
    broken JSON), after importing the records before that point.
    """
    from db.catalog import write_items
    from scrapers.parse import iter_records

    name = check_file(path, fmt)
    report = ImportReport()
    counts = write_items(engine, _items(iter_records(path, fmt, on_bytes), report), source=f"import:{name}")
    report.new, report.updated, report.authors, report.observations = counts.new, counts.updated, counts.authors, counts.observations
    if report.failure is not None:
        raise ImportFailed(
            f"{path}: {_describe(report.failure)}; the {report.records:,} records before it were imported "
            f"({report.new:,} new, {report.updated:,} updated, {sum(report.skipped.values()):,} skipped)"
        )
    return report


def _items(records: Iterable[ParsedItem | ParseError], report: ImportReport) -> Iterator[ParsedItem]:
    """The parsed items; skipped records are counted, and a break in the file ends the stream (after its last batch is written)."""
    try:
        for record in records:
            if isinstance(record, ParseError):
                report.skipped[record.reason] += 1
            else:
                yield record
            report.records += 1
    except ParseError as exc:
        report.failure = exc


def import_files(engine: Engine, paths: list[Path], fmt: str, show_progress: bool = True) -> ImportReport:
    """Imports files in order after checking all of them, so that a bad name fails before anything is written."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    for path in paths:
        check_file(path, fmt)
    total = ImportReport()
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not show_progress) as progress:
        for path in paths:
            size = path.stat().st_size
            task = progress.add_task(path.name, total=size, visible=size >= PROGRESS_MIN_BYTES)
            report = import_file(engine, path, fmt, on_bytes=lambda n, t=task: progress.update(t, completed=n))
            _add(total, report)
    return total


def _add(total: ImportReport, report: ImportReport) -> None:
    total.new += report.new
    total.updated += report.updated
    total.authors += report.authors
    total.observations += report.observations
    total.records += report.records
    total.skipped.update(report.skipped)


def import_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Payload files: JSON, JSON Lines or saved video pages.", show_default=False),
    fmt: ImportFormat = typer.Option(ImportFormat.auto, "--format", help="How to read the files; auto recognises them."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import payload files (feed responses, itemStruct lists, tiktok-scraper exports, yt-dlp info.json, video pages).

    Large files are streamed. Importing a file again changes nothing; a bad record
    is skipped and counted by reason.

    Example:  curate import trending.json feed_page_*.json --json
    """
    context: Context = ctx.obj
    report = import_files(context.engine, files, fmt.value, show_progress=not as_json)
    if as_json:
        print_json(report.as_json())
        return
    console.print(key_value_table("import", report.rows()))
    console.print(f"{len(files)} file(s), {report.records:,} records read, catalog: {context.settings.home}", highlight=False)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command("import")(import_command)
