"""``curate import FILE…``: payload files into the catalog, streamed, with counts of what changed and what was skipped."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
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

    from core.records import ParsedItem, RecordColumns
    from db.catalog import WriteCounts
    from scrapers.parse import TableOptions

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
    csv = "csv"
    parquet = "parquet"
    table = "table"


#: what each --format expects, for the line that says a file held none of it
EXPECTED = {
    "item": "web itemStruct objects with an id (a JSON array, or one object)",
    "feed": "feed responses with an itemList (or items) array",
    "page": "a saved video or creator page embedding __UNIVERSAL_DATA_FOR_REHYDRATION__, SIGI_STATE or __NEXT_DATA__",
    "tiktok-scraper": "tiktok-scraper rows ({collector: [...]} or a list of objects with authorMeta, videoMeta …)",
    "ytdlp": "a yt-dlp .info.json object with an id",
    "jsonl": "one JSON object per line (items or feed responses)",
    "csv": "a header line and one row per video (a video id column and counts such as likes, views, comments, shares)",
    "parquet": "one row per video (a video id column and counts such as likes, views, comments, shares)",
    "table": "flat rows with a video id column and counts such as likes, views, comments, shares",
}
#: where counts come from, per format, for the line that says no record had any
COUNT_HINT = {
    "csv": "count columns such as likes, views, comments, shares (or --map likes=COLUMN)",
    "parquet": "count columns such as likes, views, comments, shares (or --map likes=COLUMN)",
    "table": "count columns such as likes, views, comments, shares (or --map likes=COLUMN)",
    "tiktok-scraper": "diggCount, playCount, commentCount, shareCount on each row",
    "ytdlp": "view_count, like_count, comment_count, repost_count",
}


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
    #: values a kept record held but could not keep (an author id too long, an unreadable date), by reason
    dropped: Counter[str] = field(default_factory=Counter)
    #: columns of a table that no record field reads, by file
    unused_columns: dict[str, list[str]] = field(default_factory=dict)
    records: int = 0
    #: accounts seen without a video (creator pages that list none)
    lone_authors: list[Any] = field(default_factory=list)
    #: why the file stopped being readable part-way, if it did
    failure: ParseError | None = None

    def as_json(self) -> dict[str, Any]:
        """The object ``curate import --json`` prints."""
        return {
            "new": self.new, "updated": self.updated, "authors": self.authors,
            "observations": self.observations, "skipped": dict(sorted(self.skipped.items())),
            "dropped": dict(sorted(self.dropped.items())), "unused_columns": self.unused_columns,
        }

    def rows(self) -> list[tuple[str, Any]]:
        """Lines of the summary table."""
        rows: list[tuple[str, Any]] = [
            ("videos new", self.new), ("videos updated", self.updated), ("authors written", self.authors),
            ("observations added", self.observations), ("records skipped", sum(self.skipped.values())),
        ]
        rows += [(f"  skipped: {reason}", n) for reason, n in sorted(self.skipped.items())]
        rows += [(f"  dropped: {reason}", n) for reason, n in sorted(self.dropped.items())]
        rows += [(f"  unused columns of {name}", ", ".join(cols)) for name, cols in self.unused_columns.items() if cols]
        return rows

    def restart(self) -> None:
        """Forgets what a first pass over a file tallied (it is read again from the start)."""
        self.skipped.clear()
        self.dropped.clear()
        self.records = 0
        self.lone_authors.clear()
        self.failure = None


def check_file(path: Path, fmt: str, table: TableOptions | None = None) -> str:
    """The format ``path`` is imported under; raises ImportFailed, naming the file, when it cannot be.

    A table's header is resolved here, so that a bad ``--map`` or a table without
    a video id column fails before anything is written.
    """
    from scrapers.parse import detect_format, table_columns

    if not path.is_file():
        raise ImportFailed(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        detected = detect_format(path)
        if detected in ("csv", "parquet") and fmt in ("auto", "table", detected):
            table_columns(path, detected, table)
    except ParseError as exc:
        raise ImportFailed(f"{path}: {_describe(exc)}") from None
    if detected in ("csv", "parquet") and fmt not in ("auto", "table", detected):
        raise ImportFailed(f"{path}: --format {fmt} read no record: the file is a {detected} table; expected {EXPECTED.get(fmt, fmt)}")
    if fmt == "auto" or (fmt == "table" and detected in ("csv", "parquet")):
        return detected
    return fmt


def _describe(exc: ParseError) -> str:
    return f"{exc.detail} ({exc.reason})" if exc.detail else exc.reason


def import_file(
    engine: Engine, path: Path, fmt: str = "auto", on_bytes: Callable[[int], None] | None = None,
    table: TableOptions | None = None,
) -> ImportReport:
    """Streams one file into the catalog, one transaction per batch; bad records are skipped and counted.

    Raises ImportFailed when the file turns out unreadable part-way (cut short,
    broken JSON), after importing the records before that point; and, before
    writing anything, when a forced ``fmt`` reads no record or no record has a count.
    """
    from db.catalog import write_authors, write_items
    from scrapers.parse import iter_records, table_columns

    name = check_file(path, fmt, table)
    report = ImportReport()
    if name in ("csv", "parquet"):
        report.unused_columns[path.name] = list(table_columns(path, name, table).unused)

    if name in ("csv", "parquet"):
        counts = _write_table(engine, path, name, fmt, on_bytes, table, report)
    else:
        def stream() -> Iterator[ParsedItem]:
            return _items(iter_records(path, fmt, on_bytes, table), report)

        counts = write_items(engine, _counted_first(stream, report, path, name, fmt), source=f"import:{name}")
    report.new, report.updated, report.authors, report.observations = counts.new, counts.updated, counts.authors, counts.observations
    report.authors += write_authors(engine, report.lone_authors)
    if report.failure is not None:
        raise ImportFailed(
            f"{path}: {_describe(report.failure)}; the {report.records:,} records before it were imported "
            f"({report.new:,} new, {report.updated:,} updated, {sum(report.skipped.values()):,} skipped)"
        )
    return report


def _items(records: Iterable[Any], report: ImportReport) -> Iterator[ParsedItem]:
    """The parsed items; skipped records are counted, and a break in the file ends the stream (after its last batch is written)."""
    from core.records import AuthorRecord

    try:
        for record in records:
            report.records += 1
            if isinstance(record, ParseError):
                report.skipped[record.reason] += 1
            elif isinstance(record, AuthorRecord):
                report.lone_authors.append(record)
            else:
                report.dropped.update(record.dropped)
                yield record
    except ParseError as exc:
        report.failure = exc


def _write_table(
    engine: Engine, path: Path, name: str, fmt: str, on_bytes: Callable[[int], None] | None,
    table: TableOptions | None, report: ImportReport,
) -> WriteCounts:
    """A CSV or Parquet file written batch by batch, column by column, in one transaction (into a new
    catalog, with the indexes built once at the end)."""
    from db.catalog import WriteCounts, indexes_built_after, write_columns
    from db.types import utcnow
    from scrapers.parse import iter_table_batches

    def stream() -> Iterator[RecordColumns]:
        return _batches(iter_table_batches(path, name, on_bytes, table), report)

    total, now = WriteCounts(), utcnow()
    with _cycle_collector_paused(), engine.begin() as conn, indexes_built_after(conn):
        for batch in _counted_first(stream, report, path, name, fmt, has_counts=lambda b: any(b.engaged()), size=len):
            total += write_columns(conn, batch, f"import:{name}", now)
    return total


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a table is written: its batches are millions of short-lived
    containers that reference counting frees (none forms a cycle), and the collector's passes over
    them cost about 5 % of the import."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _batches(batches: Iterable[RecordColumns], report: ImportReport) -> Iterator[RecordColumns]:
    """:func:`_items` for batches of table rows."""
    try:
        for batch in batches:
            report.records += batch.rows
            report.skipped.update(batch.skipped())
            report.dropped.update(batch.dropped_counts())
            if len(batch):
                yield batch
    except ParseError as exc:
        report.failure = exc


#: records held back while none has had a count yet, before the rest of the file is scanned instead
HOLD_RECORDS = 2000


def _counted_first(
    stream: Callable[[], Iterator[Any]], report: ImportReport, path: Path, name: str, fmt: str,
    has_counts: Callable[[Any], bool] | None = None, size: Callable[[Any], int] = lambda _: 1,
) -> Iterator[Any]:
    """The items of ``stream``, but only once one of them has a count: a file whose records all lack counts
    (or, with a forced format, that yields no record) fails before anything is written.

    The first records are held back until one has a count; past HOLD_RECORDS without
    one, the rest of the file is scanned without being kept and, when a count turns
    up after all, the file is read again from the start.
    """
    counted = has_counts or _has_counts
    items = stream()
    held: list[Any] = []
    for item in items:
        held.append(item)
        if counted(item):
            held.reverse()
            while held:  # let go of each held record (a batch of rows, maybe) once it is written
                yield held.pop()
            yield from items
            return
        if sum(map(size, held)) >= HOLD_RECORDS:
            break
    else:
        _no_counts(report, path, name, fmt, sum(map(size, held)))
        return
    if not any(counted(item) for item in items):
        _no_counts(report, path, name, fmt, sum(map(size, held)))
        return
    report.restart()
    yield from stream()


def _has_counts(item: ParsedItem) -> bool:
    return item.metrics is not None and item.metrics.has_engagement()


def _no_counts(report: ImportReport, path: Path, name: str, fmt: str, held: int) -> None:
    """Raises ImportFailed when a file gave rows without any count, when every record was skipped,
    or when a forced format read nothing."""
    if report.failure is not None and not held:
        return
    if held:
        hint = COUNT_HINT.get(name, "stats {playCount, diggCount, commentCount, shareCount} on each item")
        raise ImportFailed(f"{path}: none of its {held:,} records has a count (plays, likes, comments, shares or saves); "
                           f"expected {hint}")
    expected = EXPECTED.get(fmt if fmt != "auto" else name, name)
    skipped = sum(report.skipped.values())
    if skipped and not report.lone_authors:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in report.skipped.most_common())
        how = f"--format {fmt}" if fmt != "auto" else f"read as {name}"
        raise ImportFailed(f"{path}: {how}, kept none of its {skipped:,} records (skipped: {reasons}); expected {expected}")
    if report.records == 0 and (fmt != "auto" or name in ("csv", "parquet")):
        raise ImportFailed(f"{path}: --format {fmt} read no record; expected {expected}")


def import_files(
    engine: Engine, paths: list[Path], fmt: str, show_progress: bool = True, table: TableOptions | None = None
) -> ImportReport:
    """Imports files in order after checking all of them, so that a bad name fails before anything is written."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    for path in paths:
        check_file(path, fmt, table)
    total = ImportReport()
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not show_progress) as progress:
        for path in paths:
            size = path.stat().st_size
            task = progress.add_task(path.name, total=size, visible=size >= PROGRESS_MIN_BYTES)
            report = import_file(engine, path, fmt, on_bytes=lambda n, t=task: progress.update(t, completed=n), table=table)
            _add(total, report)
    return total


def _add(total: ImportReport, report: ImportReport) -> None:
    total.new += report.new
    total.updated += report.updated
    total.authors += report.authors
    total.observations += report.observations
    total.records += report.records
    total.skipped.update(report.skipped)
    total.dropped.update(report.dropped)
    total.unused_columns.update(report.unused_columns)


def import_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Payload files: JSON, JSON Lines, saved video or creator pages, CSV or Parquet tables.", show_default=False),
    fmt: ImportFormat = typer.Option(ImportFormat.auto, "--format", help="How to read the files; auto recognises them."),
    mapping: list[str] = typer.Option([], "--map", help="Table columns to record fields, FIELD=COLUMN[,…] (e.g. likes=n_hearts), or a TOML file; repeatable."),
    decimal: str = typer.Option("auto", "--decimal", help="Tables: the decimal separator, '.', ',' or auto (2.087,00 and 2,087.00 both read as 2087)."),
    date_format: str | None = typer.Option(None, "--date-format", help="Tables: a strptime pattern for dates, tried first (e.g. %d/%m/%Y)."),
    dayfirst: bool = typer.Option(False, "--dayfirst", help="Tables: read 03/04/2021 as 3 April (default: March 4)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import payload files (feeds, itemStruct lists, tiktok-scraper, yt-dlp info.json, video and creator pages, tables).

    Large files are streamed. Importing a file again changes nothing; a bad record
    is skipped and counted by reason, a value that cannot be kept is counted as dropped.
    Tables (CSV, Parquet, JSON Lines of flat rows) recognise common column names
    (docs/import.md lists them); --map names the others.

    \b
    Example:  curate import trending.json feed_page_*.json --json
              curate import videos.csv --map likes=n_hearts,author_id=creator --decimal ,
    """
    from scrapers.parse import CellOptions, ColumnMapping, TableOptions

    context: Context = ctx.obj
    try:
        table = TableOptions(mapping=ColumnMapping.parse(mapping),
                             cells=CellOptions(decimal=decimal, date_format=date_format, dayfirst=dayfirst))
    except ParseError as exc:
        raise ImportFailed(_describe(exc)) from None
    report = import_files(context.engine, files, fmt.value, show_progress=not as_json, table=table)
    if as_json:
        print_json(report.as_json())
        return
    console.print(key_value_table("import", report.rows()))
    console.print(f"{len(files)} file(s), {report.records:,} records read, catalog: {context.settings.home}", highlight=False)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command("import")(import_command)
