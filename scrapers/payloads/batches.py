"""Tables read batch by batch and parsed column by column: CSV through pyarrow's reader, Parquet by record batch.

Each field's cells are read by the same cell functions a single row would use
(:mod:`scrapers.payloads.cells`), once per distinct value of the column (Arrow's
dictionary encoding), and the records of a batch are then put together with
array operations. A bad row is left out with its ``ParseError`` (``bad_id``,
``non_numeric_count``, ``wrong_field_count``…), as the row-by-row reader did.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import ParseError
from core.records import RecordColumns
from scrapers.payloads.access import MAX_AUTHOR_ID
from scrapers.payloads.cells import CellOptions, to_count, to_flag, to_list, to_number, to_text, to_time
from scrapers.payloads.columns import COUNT_FIELDS, ColumnMap
from scrapers.payloads.items import PAGE_URL, hashtags, video_id

#: bytes of CSV text per batch (about 50,000 rows of the student table); Parquet rows per batch
CSV_BLOCK_BYTES = 4 << 20
PARQUET_BATCH_ROWS = 50_000
TABLE = "table"
_URL_HEAD, _, _URL_REST = PAGE_URL.partition("{handle}")
_URL_MIDDLE = _URL_REST.partition("{id}")[0]


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array of ``values`` (tuples stay elements)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _distinct(column: pa.Array | None, n: int) -> tuple[list[Any], np.ndarray]:
    """The distinct cells of ``column`` (the last one None, for empty cells) and each cell's index among them."""
    if column is None:
        return [None], np.zeros(n, dtype=np.intp)
    try:
        encoded = pc.dictionary_encode(column)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):  # list cells (Parquet) have no dictionary encoding
        return column.to_pylist(), np.arange(n, dtype=np.intp)
    uniques = encoded.dictionary.to_pylist()
    return [*uniques, None], pc.fill_null(encoded.indices, len(uniques)).to_numpy().astype(np.intp, copy=False)


def each_of(column: pa.Array | None, fn: Callable[[Any], tuple[Any, ...]], n: int, width: int) -> list[np.ndarray]:
    """The ``width`` values that ``fn`` gives for every cell of ``column``, computed once per distinct cell."""
    uniques, index = _distinct(column, n)
    results = [fn(u) for u in uniques]
    return [_objects([r[j] for r in results])[index] for j in range(width)]


def each(column: pa.Array | None, fn: Callable[[Any], Any], n: int) -> np.ndarray:
    """``fn`` of every cell of ``column`` (of None where the table has no such column), computed once per distinct cell."""
    return each_of(column, lambda v: (fn(v),), n, 1)[0]


def each_checked(column: pa.Array | None, fn: Callable[[Any], Any], n: int) -> list[np.ndarray]:
    """Values and errors (a ParseError or None per cell) of a function that may refuse a cell."""
    def checked(value: Any) -> tuple[Any, ParseError | None]:
        try:
            return fn(value), None
        except ParseError as exc:
            return None, exc

    return each_of(column, checked, n, 2)


#: cells read without calling the cell function: plain digits (ids, counts that fit in 64 bits)
PLAIN_ID, PLAIN_COUNT = r"^[0-9]{1,32}$", r"^[0-9]{1,18}$"


def checked_fast(
    column: pa.Array | None, fn: Callable[[Any], Any], n: int, plain: str, convert: Callable[[pa.Array], list[Any]]
) -> list[np.ndarray]:
    """:func:`each_checked`, with the text cells that match the regex ``plain`` converted at once by ``convert``
    (which must give what ``fn`` would: the cell functions' own fast path, done on the whole column)."""
    if column is None or not pa.types.is_string(column.type):
        return each_checked(column, fn, n)
    fast = pc.fill_null(pc.match_substring_regex(column, plain), False).to_numpy(zero_copy_only=False)
    if fast.all():
        return [_objects(convert(column)), _objects([None] * n)]
    values, errors = _objects([None] * n), _objects([None] * n)
    values[fast] = _objects(convert(column.filter(pa.array(fast))))
    values[~fast], errors[~fast] = each_checked(column.filter(pa.array(~fast)), fn, int((~fast).sum()))
    return [values, errors]


def _as_ints(column: pa.Array) -> list[int]:
    return column.cast(pa.int64()).to_pylist()


def _none(values: np.ndarray) -> np.ndarray:
    return np.equal(values, None)


def _id_text(value: Any) -> str | None:
    """An identifier cell as text; integral floats (a spreadsheet's 7.3e18 is not one) lose their ``.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, bool):
        return None
    return to_text(value)


class ColumnParser:
    """A batch of table rows (column name → Arrow array) → :class:`RecordColumns`, with the columns resolved once."""

    def __init__(self, columns: ColumnMap, cells: CellOptions) -> None:
        self.fields, self.cells = columns.fields, cells

    def __call__(
        self, columns: Mapping[str, pa.Array], raw: list[dict[str, Any]] | None, errors: list[ParseError], raw_json: list[str] | None = None
    ) -> RecordColumns:
        """The records of one batch; ``errors`` are rows the reader already refused (they count among the rows).

        The rows as read are ``raw`` (dicts) or ``raw_json`` (their JSON text)."""
        n = len(raw if raw is not None else raw_json or ())
        self.batch, self.n, self.dropped = columns, n, {}
        vid, error = checked_fast(self.get("video_id"), lambda v: video_id(_id_text(v)), n, PLAIN_ID, pa.Array.to_pylist)
        counts = {}
        for f in COUNT_FIELDS:
            count = lambda v, name=self.fields.get(f, f): to_count(v, name, self.cells)  # noqa: E731
            counts[f], refused = checked_fast(self.get(f), count, n, PLAIN_COUNT, _as_ints)
            error = np.where(_none(error), refused, error)
        kept = _none(error)
        author = self._author(counts, kept)
        video = self._video(vid, author, kept)
        metrics = {f: counts[f] for f in ("plays", "likes", "comments", "shares", "saves")}
        metrics["author_followers"] = counts["followers"]
        where = np.flatnonzero(kept).tolist()
        every = len(where) == n
        listed = (lambda v: v.tolist()) if every else (lambda v: v[kept].tolist())
        return RecordColumns(
            video={k: listed(v) for k, v in video.items()}, author={k: listed(v) for k, v in author.items()},
            metrics={k: listed(v) for k, v in metrics.items()}, raw=_rows(raw, where, every), raw_json=_rows(raw_json, where, every),
            source_format=TABLE,
            rows=n + len(errors), positions=where,
            errors=[(int(i), error[i]) for i in np.flatnonzero(~kept)] + [(n + j, e) for j, e in enumerate(errors)],
            dropped={reason: np.flatnonzero(mask[kept]).tolist() for reason, mask in self.dropped.items()},
        )

    def get(self, name: str) -> pa.Array | None:
        """The column feeding record field ``name``, if the table has one."""
        column = self.fields.get(name)
        return self.batch[column] if column is not None else None

    def each(self, name: str, fn: Callable[[Any], Any]) -> np.ndarray:
        """``fn`` of the cells of field ``name``."""
        return each(self.get(name), fn, self.n)

    def _author(self, counts: dict[str, np.ndarray], kept: np.ndarray) -> dict[str, np.ndarray]:
        handle = self.each("author_handle", to_text)
        author_id = self.each("author_id", _id_text)
        author_id = np.where(_none(author_id), handle, author_id)
        # a name such as user_00001 in an author column is the account's handle as well
        named = each(pa.array(author_id.tolist(), pa.string()), lambda a: a is not None and not a.isdigit(), self.n).astype(bool)
        handle = np.where(_none(handle) & named, author_id, handle)
        too_long = each(pa.array(author_id.tolist(), pa.string()), lambda a: a is not None and len(a) > MAX_AUTHOR_ID, self.n).astype(bool)
        self.dropped["author_id_too_long"] = too_long
        author_id = np.where(too_long, None, author_id)
        present = ~_none(author_id)
        created = self._time("account_created_at", present)
        nobody = _objects([None] * self.n)
        return {
            "id": author_id, "handle": np.where(present, handle, None), "nickname": self.each("author_nickname", to_text),
            "sec_uid": nobody, **{f: counts[f] for f in ("followers", "following", "hearts", "video_count")},
            "verified": self.each("verified", to_flag), "created_at": created,
        }

    def _video(self, vid: np.ndarray, author: dict[str, np.ndarray], kept: np.ndarray) -> dict[str, np.ndarray]:
        handle = author["handle"]
        url = self.each("url", to_text)
        page = pc.binary_join_element_wise(_URL_HEAD, pa.array(handle.tolist(), pa.string()), _URL_MIDDLE,
                                           pa.array(vid.tolist(), pa.string()), "")
        return {
            "id": vid, "author_id": author["id"], "author_handle": handle, "caption": self.each("caption", to_text),
            "hashtags": self.each("hashtags", lambda v: hashtags(to_list(v))),
            "create_time": self._time("create_time", kept),
            "duration_s": self._number("duration_s"), "width": self._whole("width"), "height": self._whole("height"),
            "music_id": self.each("music_id", _id_text), "music_title": self.each("music_title", to_text),
            "music_original": self.each("music_original", to_flag),
            "url": np.where(_none(url), _objects(page.to_pylist()), url), "media_url": self.each("media_url", to_text),
            "category": self.each("category", _category),
        }

    def _time(self, name: str, read: np.ndarray) -> np.ndarray:
        """Times of field ``name``; a cell that holds text but no time is a dropped value where ``read``."""
        when, bad = each_of(self.get(name), lambda v: (t := to_time(v, self.cells), t is None and to_text(v) is not None), self.n, 2)
        self.dropped[f"bad_{name}"] = bad.astype(bool) & read
        return when

    def _number(self, name: str) -> np.ndarray:
        number, bad = each_of(self.get(name), lambda v: (x := to_number(v, self.cells), x is None and to_text(v) is not None), self.n, 2)
        self.dropped[f"bad_{name}"] = bad.astype(bool)
        return number

    def _whole(self, name: str) -> np.ndarray:
        numbers = self._number(name)
        return each(pa.array(numbers.tolist(), pa.float64()), lambda x: int(x) if x is not None and x < 2**31 else None, self.n)


def _rows(values: list[Any] | None, where: list[int], every: bool) -> list[Any] | None:
    if values is None or every:
        return values
    return [values[i] for i in where]


def _category(value: Any) -> str | None:
    categories = to_list(value)
    return categories[0].lower()[:32] if categories else None


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """The row as stored raw: cells that JSON cannot hold (times, decimals) as text."""
    return {str(k): v if v is None or isinstance(v, str | int | float | bool | list) else str(v) for k, v in row.items()}


def _text(column: pa.Array) -> pa.Array:
    """CSV cells read as bytes, as text (bytes that are not UTF-8 replaced, as the row reader did)."""
    try:
        return column.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([b.decode("utf-8", "replace") for b in column.to_pylist()], pa.string())


#: characters JSON must escape inside a string
_JSON_ESCAPED = r'["\\\x00-\x1f]'


def json_strings(column: pa.Array) -> pa.Array:
    """Each text cell as a JSON string, as orjson writes it (cells that need escaping are escaped by orjson itself)."""
    import orjson

    quoted = pc.binary_join_element_wise('"', column, '"', "")
    escape = pc.match_substring_regex(column, _JSON_ESCAPED)
    if not pc.any(escape).as_py():
        return quoted
    escaped = [orjson.dumps(text).decode() for text in column.filter(escape).to_pylist()]
    return pc.replace_with_mask(quoted, escape, pa.array(escaped, pa.string()))


def json_objects(columns: Mapping[str, pa.Array]) -> list[str]:
    """Each row of text columns as the JSON object ``{column: cell, …}``, written on whole columns."""
    import orjson

    parts: list[Any] = []
    for i, (name, column) in enumerate(columns.items()):
        parts += [("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":", json_strings(column)]
    if not parts:
        return []
    return pc.binary_join_element_wise(*parts, "}", "").to_pylist()


def csv_batches(
    open_bytes: Callable[[], BinaryIO], header: list[str], names: list[str], delimiter: str, parser: ColumnParser
) -> Iterator[RecordColumns]:
    """The batches of a CSV file whose header line is ``header`` (``names``: the same made unique and non-empty)."""
    import pyarrow.csv as pa_csv

    refused: list[ParseError] = []

    def invalid(row: Any) -> str:
        # a line of spaces is no row; one of the wrong width is a row refused
        if row.text.strip():
            refused.append(ParseError("wrong_field_count", f"{row.actual_columns} fields, the header has {row.expected_columns}"))
        return "skip"

    read = pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    parse = pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=invalid)
    convert = pa_csv.ConvertOptions(column_types={h: pa.binary() for h in header}, strings_can_be_null=False)
    with open_bytes() as f:
        try:
            for batch in pa_csv.open_csv(f, read_options=read, parse_options=parse, convert_options=convert):
                columns = dict(zip(names, map(_text, batch.columns), strict=True))
                yield parser(columns, None, refused[:], raw_json=json_objects(columns))
                refused.clear()
        except pa.ArrowInvalid as exc:
            raise ParseError("malformed_csv", str(exc)[:160]) from None
    if refused:
        yield parser({n: pa.array([], pa.string()) for n in names}, [], refused[:], raw_json=None)


def parquet_batches(
    path: Path, parser_of: Callable[[list[str]], ColumnParser], on_bytes: Callable[[int], None] | None
) -> Iterator[RecordColumns]:
    """The batches of a Parquet file (``parser_of`` resolves its column names); ``on_bytes`` hears the share
    of the file read, in bytes, after each batch (a progress bar)."""
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError… for a damaged file
        raise ParseError("unreadable", f"not a readable Parquet file: {str(exc)[:120]}") from None
    parser = parser_of(table.schema_arrow.names)
    size, total, done = path.stat().st_size, max(table.metadata.num_rows, 1), 0
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))
        yield parser(columns, [_jsonable(row) for row in batch.to_pylist()], [])
        done += batch.num_rows
        if on_bytes is not None:
            on_bytes(size * done // total)


def read_header(path: Path, delimiter: str) -> list[str] | None:
    """The first line of a CSV file as cells."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        return next(csv.reader(f, delimiter=delimiter), None)
