"""Tables → records: CSV (any delimiter), Parquet and JSON Lines of flat rows.

The header (or the first row's keys) is resolved once into a :class:`ColumnMap`.
CSV and Parquet files are read in batches, parsed column by column
(:mod:`scrapers.payloads.batches`); a JSON Lines row is parsed on its own by
:class:`RowParser`. Each row becomes a ``ParsedItem`` of shape ``table`` whose raw
payload is the row itself. A bad row is yielded as its ``ParseError`` (``bad_id``,
``non_numeric_count``, ``wrong_field_count``…) and the stream goes on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from core.errors import ParseError
from core.records import AuthorRecord, MetricRecord, ParsedItem, RecordColumns, VideoRecord
from scrapers.payloads.access import MAX_AUTHOR_ID
from scrapers.payloads.batches import ColumnParser, _id_text, csv_batches, parquet_batches, read_header
from scrapers.payloads.cells import CellOptions, to_count, to_flag, to_list, to_number, to_text, to_time
from scrapers.payloads.columns import ALIASES, COUNT_FIELDS, ColumnMap, ColumnMapping, normalise
from scrapers.payloads.items import EXPECTED_METRICS, EXPECTED_VIDEO, PAGE_URL, hashtags, video_id

TABLE = "table"
CSV, PARQUET = "csv", "parquet"
PARQUET_MAGIC = b"PAR1"
CSV_DELIMITERS = ",;\t|"
#: record fields whose cells are read as times, numbers, flags
TIME_FIELDS = ("create_time", "account_created_at")
_NESTED_KEYS = frozenset({"authorMeta", "videoMeta", "musicMeta", "stats", "statsV2", "authorStats", "itemInfo",
                          "extractor_key", "webpage_url", "itemList", "collector"})
_SIGNAL_FIELDS = frozenset({*COUNT_FIELDS, "video_id"})


@dataclass(frozen=True)
class TableOptions:
    """How tables are read: the ``--map`` pairs and how cells write numbers and dates."""

    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    cells: CellOptions = field(default_factory=CellOptions)


def is_table_row(value: Any) -> bool:
    """True for a flat JSON object whose keys name table columns (a video id or a count), not a platform item."""
    if not isinstance(value, dict) or _NESTED_KEYS & value.keys():
        return False
    if any(isinstance(v, dict) for v in value.values()):
        return False
    names = {normalise(k) for k in value}
    recognised = {normalise(a) for f in _SIGNAL_FIELDS for a in (f, *ALIASES[f])}
    counts = {normalise(a) for f in COUNT_FIELDS for a in (f, *ALIASES[f])}
    # an item with only an id and no count is a platform item; a flat row with counts is a table row
    return bool(names & counts) and bool(names & recognised)


class RowParser:
    """One row (a dict of column → cell) → a ``ParsedItem``, with the columns resolved once."""

    def __init__(self, columns: ColumnMap, options: TableOptions) -> None:
        self.columns, self.cells = columns, options.cells
        self.get = {f: c for f, c in columns.fields.items()}

    def __call__(self, row: dict[str, Any]) -> ParsedItem:
        """The record of ``row``; raises ParseError for a row that cannot be kept."""
        cell = {f: row.get(c) for f, c in self.get.items()}
        dropped: list[str] = []
        vid = video_id(_id_text(cell.get("video_id")))
        counts = {f: to_count(cell.get(f), self.get.get(f, f), self.cells) for f in COUNT_FIELDS}
        author = self._author(cell, counts, dropped)
        video = self._video(cell, vid, author, dropped)
        metrics = MetricRecord(plays=counts["plays"], likes=counts["likes"], comments=counts["comments"],
                               shares=counts["shares"], saves=counts["saves"], author_followers=counts["followers"])
        metrics_or_none = None if metrics.is_empty() else metrics
        missing = [f for f in EXPECTED_VIDEO if getattr(video, f) is None]
        missing += [f for f in EXPECTED_METRICS if getattr(metrics, f) is None]
        return ParsedItem(video=video, author=author, metrics=metrics_or_none, raw=_jsonable(row), source_format=TABLE,
                          missing=tuple(missing), dropped=tuple(dropped))

    def _author(self, cell: dict[str, Any], counts: dict[str, int | None], dropped: list[str]) -> AuthorRecord | None:
        handle = to_text(cell.get("author_handle"))
        author_id = _id_text(cell.get("author_id")) or handle
        # a name such as user_00001 in an author column is the account's handle as well
        handle = handle or (author_id if author_id is not None and not author_id.isdigit() else None)
        if author_id is not None and len(author_id) > MAX_AUTHOR_ID:
            dropped.append("author_id_too_long")
            author_id = None
        if author_id is None:
            return None
        created = self._time(cell, "account_created_at", dropped)
        return AuthorRecord(
            id=author_id, handle=handle, nickname=to_text(cell.get("author_nickname")), followers=counts["followers"],
            following=counts["following"], hearts=counts["hearts"], video_count=counts["video_count"],
            verified=to_flag(cell.get("verified")), created_at=created,
        )

    def _video(self, cell: dict[str, Any], vid: str, author: AuthorRecord | None, dropped: list[str]) -> VideoRecord:
        categories = to_list(cell.get("category"))
        handle = author.handle if author else None
        return VideoRecord(
            id=vid, author_id=author.id if author else None, author_handle=handle,
            caption=to_text(cell.get("caption")), hashtags=hashtags(to_list(cell.get("hashtags"))),
            create_time=self._time(cell, "create_time", dropped),
            duration_s=self._number(cell, "duration_s", dropped), width=self._whole(cell, "width", dropped),
            height=self._whole(cell, "height", dropped), music_id=_id_text(cell.get("music_id")),
            music_title=to_text(cell.get("music_title")), music_original=to_flag(cell.get("music_original")),
            url=to_text(cell.get("url")) or (PAGE_URL.format(handle=handle, id=vid) if handle else None),
            media_url=to_text(cell.get("media_url")),
            category=categories[0].lower()[:32] if categories else None,
        )

    def _time(self, cell: dict[str, Any], name: str, dropped: list[str]):
        value = cell.get(name)
        when = to_time(value, self.cells)
        if when is None and to_text(value) is not None:
            dropped.append(f"bad_{name}")
        return when

    def _number(self, cell: dict[str, Any], name: str, dropped: list[str]) -> float | None:
        value = cell.get(name)
        number = to_number(value, self.cells)
        if number is None and to_text(value) is not None:
            dropped.append(f"bad_{name}")
        return number

    def _whole(self, cell: dict[str, Any], name: str, dropped: list[str]) -> int | None:
        number = self._number(cell, name, dropped)
        return int(number) if number is not None and number < 2**31 else None


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """The row as stored raw: cells that JSON cannot hold (times, decimals) as text."""
    if all(type(v) is str for v in row.values()):  # a CSV row: text only
        return row
    return {str(k): v if v is None or isinstance(v, str | int | float | bool | list) else str(v) for k, v in row.items()}


def table_batches(
    path: Path, kind: str, options: TableOptions, open_bytes: Callable[[Path], BinaryIO],
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[RecordColumns]:
    """A CSV or Parquet file as batches of records, column by column (``open_bytes`` opens the CSV's bytes)."""
    if kind == PARQUET:
        yield from parquet_batches(path, lambda names: ColumnParser(options.mapping.resolve(names), options.cells), on_bytes)
        return
    delimiter = _file_delimiter(path)
    header = read_header(path, delimiter)
    if not header:
        raise ParseError("empty_file", "a CSV file without a header line")
    names = _unique(header)
    parser = ColumnParser(options.mapping.resolve(names), options.cells)
    yield from csv_batches(lambda: open_bytes(path), header, names, delimiter, parser)


def iter_table(
    path: Path, kind: str, options: TableOptions, open_bytes: Callable[[Path], BinaryIO],
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[ParsedItem | ParseError]:
    """Every row of a CSV or Parquet file as a record or the ParseError that rejected it."""
    for batch in table_batches(path, kind, options, open_bytes, on_bytes):
        for record in batch.items():
            yield replace(record, missing=_missing(record)) if isinstance(record, ParsedItem) else record


def _missing(item: ParsedItem) -> tuple[str, ...]:
    metrics = item.metrics or MetricRecord()
    return (*(f for f in EXPECTED_VIDEO if getattr(item.video, f) is None), *(f for f in EXPECTED_METRICS if getattr(metrics, f) is None))


def _file_delimiter(path: Path) -> str:
    stat = path.stat()
    return _delimiter_of(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _delimiter_of(path: str, _mtime_ns: int, _size: int) -> str:
    # sniffing 64 kB takes tens of milliseconds, and checking, then reading, a file asks three times
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        return sniff_delimiter(f.read(64 << 10))


def table_columns(path: Path, kind: str, options: TableOptions | None = None) -> ColumnMap:
    """How a CSV or Parquet file's header maps to record fields; raises ParseError for a bad mapping or no id column."""
    options = options or TableOptions()
    if kind == PARQUET:
        import pyarrow.parquet as pq

        try:
            header = pq.read_schema(path).names
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError… for a damaged file
            raise ParseError("unreadable", f"not a readable Parquet file: {str(exc)[:120]}") from None
    else:
        header = read_header(path, _file_delimiter(path))
        if not header:
            raise ParseError("empty_file", "a CSV file without a header line")
        header = _unique(header)
    return options.mapping.resolve(list(header))


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample (of ``,;\\t|``); comma when nothing tells."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in CSV_DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def looks_like_csv(head: str) -> bool:
    """True when the first line of ``head`` is a header of at least two delimited names."""
    lines = head.splitlines()
    first = lines[0] if lines else ""
    if not first or len(first) > 8192 or first[0] in "[{<" or "<" in first or "{" in first:
        return False
    delimiter = sniff_delimiter(head)
    names = next(csv.reader([first], delimiter=delimiter))
    # a header names its columns: at least two, none of them empty or a long sentence
    return len(names) >= 2 and all(0 < len(n.strip()) <= 64 for n in names)


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for name in (h.strip() or f"column_{i + 1}" for i, h in enumerate(header)):
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names


class JsonRowParsers:
    """Table rows of JSON Lines: each distinct set of keys resolved once."""

    def __init__(self, options: TableOptions) -> None:
        self.options = options
        self.parsers: dict[tuple[str, ...], RowParser] = {}

    def __call__(self, row: dict[str, Any]) -> ParsedItem:
        """The record of one flat JSON object."""
        keys = tuple(row)
        parser = self.parsers.get(keys)
        if parser is None:
            parser = self.parsers[keys] = RowParser(self.options.mapping.resolve(list(keys)), self.options)
        return parser(row)
