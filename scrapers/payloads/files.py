"""Whole files, streamed record by record: JSON arrays, wrapped arrays, JSON Lines, single objects, pages.

:func:`detect_format` looks at the first bytes (and at most the first line or the
first element) to name a file's format; :func:`iter_records` then yields a
``ParsedItem`` for every record, or the ``ParseError`` that rejected it. A file
that cannot be read at all raises ``ParseError`` instead of yielding it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import orjson

from core.errors import ParseError
from core.records import ParsedItem, RecordColumns
from scrapers.payloads.feeds import ITEM_LIST_KEYS, load_json, parse_feed
from scrapers.payloads.items import ITEM, ITEM_SHAPES, TIKTOK_SCRAPER, YTDLP, item_shape, parse_item
from scrapers.payloads.jsonstream import CHUNK, JsonStream
from scrapers.payloads.pages import SCRIPT, parse_video_page
from scrapers.payloads.profiles import USER_PAGE, parse_user_page, read_user_page
from scrapers.payloads.tables import CSV, PARQUET, PARQUET_MAGIC, TABLE, JsonRowParsers, TableOptions, is_table_row, iter_table, looks_like_csv, table_batches

FEED, PAGE, JSONL = "feed", "page", "jsonl"
#: what ``curate import --format`` accepts
FORMATS = ("auto", ITEM, FEED, PAGE, TIKTOK_SCRAPER, YTDLP, JSONL, CSV, PARQUET, TABLE)
#: file name endings that say a file is a table
TABLE_SUFFIXES = {".csv": CSV, ".tsv": CSV, ".parquet": PARQUET, ".pq": PARQUET}
#: object members that hold the records: tiktok-scraper's export, feed responses
ARRAY_KEYS = ("collector", *ITEM_LIST_KEYS)
#: JSON Lines are told from a single object by their first line, read up to this size
LINE_LIMIT = 64 << 20
PAGE_LIMIT = 64 << 20
Record = ParsedItem | ParseError


@dataclass(frozen=True)
class _Read:
    """How records are read: the forced shape (None: each record's own) and the table-row parsers."""

    forced: str | None = None
    rows: JsonRowParsers = field(default_factory=lambda: JsonRowParsers(TableOptions()))


@dataclass(frozen=True)
class FileFormat:
    """How a file is laid out (page, array, object, jsonl) and the format name it is imported under."""

    layout: str
    name: str


def _open_bytes(path: Path, on_bytes: Callable[[int], None] | None = None) -> BinaryIO:
    try:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the buffered reader
    except OSError as exc:
        raise ParseError("unreadable", exc.strerror or str(exc)) from None
    counted: Any = _CountingReader(raw, on_bytes) if on_bytes else raw
    return io.BufferedReader(counted, CHUNK)


def _open_text(path: Path, on_bytes: Callable[[int], None] | None = None, newline: str | None = None) -> TextIO:
    return io.TextIOWrapper(_open_bytes(path, on_bytes), encoding="utf-8-sig", errors="replace", newline=newline)


class _CountingReader(io.RawIOBase):
    """Reports how many bytes were read, at most once per chunk, for a progress bar."""

    def __init__(self, raw: Any, on_bytes: Callable[[int], None]) -> None:
        self.raw, self.on_bytes, self.count, self.reported = raw, on_bytes, 0, 0

    def readable(self) -> bool:  # noqa: D102
        return True

    def readinto(self, buffer: Any) -> int:  # noqa: D102
        n = self.raw.readinto(buffer)
        self.count += n or 0
        if self.count - self.reported >= CHUNK or not n:
            self.reported = self.count
            self.on_bytes(self.count)
        return n

    def close(self) -> None:  # noqa: D102
        self.raw.close()
        super().close()


def detect_format(path: Path | str) -> str:
    """The format name of a file (``item``, ``feed``, ``page``, ``tiktok-scraper``, ``ytdlp``, ``jsonl``).

    Raises ParseError (``unreadable``, ``empty_file``, ``unknown_format``,
    ``malformed_json``) when the file cannot be imported at all.
    """
    return sniff(Path(path)).name


def sniff(path: Path) -> FileFormat:
    """The layout and format of a file, from its first bytes."""
    try:
        with open(path, "rb") as raw:
            if raw.read(4) == PARQUET_MAGIC:
                return FileFormat(PARQUET, PARQUET)
    except OSError as exc:
        raise ParseError("unreadable", exc.strerror or str(exc)) from None
    with _open_text(path) as f:
        head = f.read(4096).lstrip()
        while not head and not _at_end(f):
            head = f.read(CHUNK).lstrip()
        if not head:
            raise ParseError("empty_file", "the file holds nothing but whitespace")
        f.seek(0)
        if TABLE_SUFFIXES.get(path.suffix.lower()) == CSV or (head[0] not in "[{<" and looks_like_csv(head)):
            return FileFormat(CSV, CSV)
        if head[0] == "[":
            return FileFormat("array", _array_format(JsonStream(f)))
        if head[0] == "{":
            return _object_format(f)
        # saved pages do not always start with a tag (a fragment, a text preamble): look for the data
        if "<" in head and SCRIPT.search(f.read(PAGE_LIMIT)):
            return FileFormat(PAGE, PAGE)
    if TABLE_SUFFIXES.get(path.suffix.lower()) == PARQUET:
        raise ParseError("unreadable", "named .parquet but does not start with Parquet's PAR1 mark")
    raise ParseError("unknown_format", f"starts with {head[:20]!r}: neither JSON nor a video page with embedded data")


def _at_end(f: TextIO) -> bool:
    return f.buffer.peek(1) == b""  # type: ignore[attr-defined]


def _array_format(stream: JsonStream) -> str:
    stream.expect("[")
    first = next(stream.elements(), None)
    if first is not None and not isinstance(first, dict):
        raise ParseError("unknown_format", f"a JSON array of {type(first).__name__}s, not of objects")
    return ITEM if first is None else _shape_name(first)


def _object_format(f: TextIO) -> FileFormat:
    first_line = f.readline(LINE_LIMIT)
    single = _complete_object(first_line)
    if single is not None:
        following = f.read(4096).lstrip()
        if following.startswith("{"):
            return FileFormat(JSONL, JSONL)
        if not following:
            return FileFormat("object", _shape_name(single))
    f.seek(0)
    stream = JsonStream(f)
    stream.expect("{")
    head = stream.open_array_member(ARRAY_KEYS)
    if head.array_key == "collector":
        return FileFormat("object", TIKTOK_SCRAPER)
    if head.array_key is not None:
        return FileFormat("object", FEED)
    return FileFormat("object", _shape_name(head.members))


def _complete_object(line: str) -> dict[str, Any] | None:
    if not line.endswith("\n"):
        return None
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def is_feed(value: Any) -> bool:
    """True for a feed response (an item list, or paging fields without an item)."""
    if not isinstance(value, dict):
        return False
    for key in ITEM_LIST_KEYS:
        if key in value and isinstance(value[key], list):
            return True
    return "id" not in value and "itemInfo" not in value and ("hasMore" in value or "cursor" in value)


def _shape_name(value: dict[str, Any]) -> str:
    if is_feed(value):
        return FEED
    if isinstance(value.get("collector"), list):
        return TIKTOK_SCRAPER
    if is_table_row(value):
        return TABLE
    if not ({"id", "itemInfo", "itemStruct"} & value.keys()):
        raise ParseError("unknown_format", f"a JSON object with none of id, itemList, collector, itemInfo (keys: {', '.join(list(value)[:6])})")
    return item_shape(value)


def iter_records(
    path: Path | str, fmt: str = "auto", on_bytes: Callable[[int], None] | None = None, table: TableOptions | None = None
) -> Iterator[Record]:
    """Every record of a file, streamed: a ``ParsedItem``, or the ``ParseError`` that rejected it.

    With ``fmt="auto"`` each record's shape is recognised on its own; another
    ``fmt`` forces it (``item``, ``tiktok-scraper``, ``ytdlp``: the item shape;
    ``feed``: records are feed responses; ``jsonl``, ``page``, ``csv``, ``parquet``:
    the layout; ``table``: every record is a flat table row). ``table`` says how
    tables map their columns and write numbers and dates. ``on_bytes`` is called with the number of bytes read so far, about once per
    megabyte. Raises ParseError when the file cannot be read at all.
    """
    if fmt not in FORMATS:
        raise ParseError("unknown_format", f"{fmt!r}; formats are {', '.join(FORMATS)}")
    path = Path(path)
    options = table or TableOptions()
    layout = fmt if fmt in (PAGE, JSONL, CSV, PARQUET) else sniff(path).layout
    if layout in (CSV, PARQUET) and fmt not in ("auto", TABLE, layout):
        raise ParseError("unknown_format", f"a {layout} table cannot be read as {fmt}")
    if layout in (CSV, PARQUET):
        yield from iter_table(path, layout, options, lambda p: _open_bytes(p, on_bytes), on_bytes)
        return
    read = _Read(forced=None if fmt in ("auto", CSV, PARQUET) else fmt, rows=JsonRowParsers(options))
    with _open_text(path, on_bytes) as f:
        yield from _LAYOUTS[layout](f, read)


def iter_table_batches(
    path: Path | str, kind: str, on_bytes: Callable[[int], None] | None = None, table: TableOptions | None = None
) -> Iterator[RecordColumns]:
    """A CSV or Parquet file (``kind``) as batches of records, column by column; ``on_bytes`` as for :func:`iter_records`.

    Raises ParseError when the file cannot be read at all (or, for a CSV, stops
    being readable part-way: ``malformed_csv``).
    """
    path = Path(path)
    return table_batches(path, kind, table or TableOptions(), lambda p: _open_bytes(p, on_bytes), on_bytes)


def _records_of(value: Any, read: _Read) -> Iterator[Record]:
    forced = read.forced
    try:
        if forced == TABLE or (forced is None and is_table_row(value)):
            yield read.rows(value) if isinstance(value, dict) else parse_item(value)
        elif forced == FEED or (forced not in ITEM_SHAPES and is_feed(value)):
            page = parse_feed(value)
            yield from page.items
            yield from page.skipped
        else:
            yield parse_item(value, forced if forced in ITEM_SHAPES else None)
    except ParseError as exc:
        yield exc


def _array_records(f: TextIO, read: _Read) -> Iterator[Record]:
    stream = JsonStream(f)
    stream.expect("[")
    for value in stream.elements():
        yield from _records_of(value, read)


def _object_records(f: TextIO, read: _Read) -> Iterator[Record]:
    stream = JsonStream(f)
    stream.expect("{")
    head = stream.open_array_member(ARRAY_KEYS)
    if head.array_key is None:
        yield from _records_of(head.members, read)
        return
    # the elements of a feed's item list are items
    inner = replace(read, forced=None) if read.forced == FEED else read
    for value in stream.elements():
        yield from _records_of(value, inner)


def _jsonl_records(f: TextIO, read: _Read) -> Iterator[Record]:
    for number, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            value = load_json(line)
        except ParseError as exc:
            yield ParseError(exc.reason, f"line {number}: {exc.detail}")
            continue
        yield from _records_of(value, replace(read, forced=None) if read.forced == JSONL else read)


def _page_records(f: TextIO, read: _Read) -> Iterator[Record]:
    html = f.read(PAGE_LIMIT + 1)
    if len(html) > PAGE_LIMIT:
        raise ParseError("unknown_format", "an HTML file larger than 64 MB is not a video page")
    try:
        if USER_PAGE.search(html) and read_user_page(html) is not None:
            yield from parse_user_page(html)
            return
        yield parse_video_page(html)
    except ParseError as exc:
        # a page without embedded data is no video page: the file fails; a bad or missing item is one record
        if exc.reason in ("no_page_data", "malformed_json"):
            raise
        yield exc


_LAYOUTS: dict[str, Callable[[TextIO, _Read], Iterator[Record]]] = {
    "array": _array_records,
    "object": _object_records,
    JSONL: _jsonl_records,
    PAGE: _page_records,
}
