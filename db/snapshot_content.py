"""A snapshot's content fingerprint: what it holds, not when, where or by which database it was built.

The manifest's ``fingerprint`` covers everything in it (``created_at``, the dialect,
the query's spelling, file hashes), so two rebuilds never share it. The
``content_fingerprint`` covers only

- the rows: every column but ``split``, rows ordered by ``video_id``;
- the labels: their definitions, fitted values and the labels left out;
- the split assignment: (video_id, split) pairs;

so the same data rebuilt on SQLite and on Postgres, or on another machine, gets the
same one (author keys included, when both catalogs use the same pseudonymisation
key). Floats are written with 12 significant digits, so that the last bits a
different BLAS may compute differently do not count; values are serialised with
orjson, never as Parquet bytes (which change with the writer's version).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

#: significant digits of floats in the canonical form
FLOAT_DIGITS = 12
#: the label parts of a manifest's ``labels`` that the content covers (``fit_rows`` is a count of rows, covered too)
LABEL_KEYS = ("spec", "fit_on", "fit_rows", "params", "definitions", "skipped")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rounded(value: Any) -> Any:
    """``value`` with every float at FLOAT_DIGITS significant digits (NaN and infinities as text)."""
    if isinstance(value, float):
        return float(f"{value:.{FLOAT_DIGITS}g}") if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def column_digest(name: str, column: pa.ChunkedArray | pa.Array) -> str:
    """The sha256 of one column's name, type and values, in canonical form."""
    # a list's element name ("item", "element") changes in a Parquet round trip: it is no part of the content
    kind = re.sub(r"list<[^:<>]+: ", "list<", str(column.type))
    head = f"{name}\x1f{kind}\x1f".encode()
    if pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        nulls = pc.is_null(column).to_numpy(zero_copy_only=False) if column.null_count else np.zeros(len(values), dtype=bool)
        text = np.char.mod(f"%.{FLOAT_DIGITS}g", values)
        body = "\x1e".join("" if null else str(t) for t, null in zip(text.tolist(), nulls.tolist(), strict=True)).encode()
    else:
        body = orjson.dumps(column.to_pylist(), option=orjson.OPT_NON_STR_KEYS)
    return _digest(head + body)


@dataclass(frozen=True)
class Content:
    """The parts of a content fingerprint, and the fingerprint itself."""

    rows: str
    labels: str
    splits: str
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """sha256 over the three parts."""
        return _digest(f"rows={self.rows};labels={self.labels};splits={self.splits}".encode())

    def to_dict(self) -> dict[str, Any]:
        """What the manifest stores under ``content``."""
        return {"rows": self.rows, "labels": self.labels, "splits": self.splits, "columns": self.columns}


def content_of(table: pa.Table, labels: dict[str, Any]) -> Content:
    """The content parts of a snapshot's table and its manifest's ``labels``."""
    ordered = table.sort_by("video_id") if table.num_rows else table
    columns = {name: column_digest(name, ordered.column(name)) for name in ordered.column_names if name != "split"}
    rows = _digest(json.dumps(columns, sort_keys=True).encode() + f"|{ordered.num_rows}".encode())
    label_part = {k: labels.get(k) for k in LABEL_KEYS}
    label_digest = _digest(orjson.dumps(_rounded(label_part), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
    split_columns = ordered.select(["video_id", "split"]) if "split" in ordered.column_names else ordered.select(["video_id"])
    splits = _digest(orjson.dumps(split_columns.to_pydict()))
    return Content(rows=rows, labels=label_digest, splits=splits, columns=columns)


def content_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What differs between two manifests' ``content`` parts and ``labels``, one line each."""
    lines = []
    ca, cb = a.get("content") or {}, b.get("content") or {}
    cols_a, cols_b = ca.get("columns", {}), cb.get("columns", {})
    for name in sorted(set(cols_a) | set(cols_b)):
        if name not in cols_a or name not in cols_b:
            lines.append(f"column {name} is only in {'the first' if name in cols_a else 'the second'}")
        elif cols_a[name] != cols_b[name]:
            lines.append(f"column {name} differs")
    if ca.get("labels") != cb.get("labels"):
        la, lb = a.get("labels", {}), b.get("labels", {})
        keys = [k for k in LABEL_KEYS if _rounded(la.get(k)) != _rounded(lb.get(k))]
        lines.append(f"labels differ ({', '.join(keys) or 'in their canonical form'})")
    if ca.get("splits") != cb.get("splits"):
        lines.append("split assignment differs")
    return lines
