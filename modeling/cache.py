"""The feature cache: what an extractor computed, keyed by (input, extractor, weights).

``$CURATE_HOME/features/EXTRACTOR/KEY/`` holds one extractor with one set of weights
and options (KEY hashes them): an ``info.json`` and Parquet shards with a ``key``
column (the media sha256, or the sha256 of the text for text extractors) and the
extractor's outputs. Each batch of results is one new shard, written to a temporary
name and renamed, so an interrupted run loses at most the batch in flight and never
leaves half a file; when a key appears twice the newer shard wins.

``$CURATE_HOME/features/snapshots/NAME/vN/EXTRACTOR.parquet`` (+ ``.json``) records,
for one snapshot, which key each video has and which cache folder its features are
in: training reads features through it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import CurateError

SHARD_GLOB = "part-*.parquet"


class FeatureCache:
    """The cached outputs of one extractor with one set of weights and options."""

    def __init__(self, root: Path, extractor: str, cache_key: str) -> None:
        self.folder = root / extractor / cache_key
        self.extractor = extractor
        self.cache_key = cache_key

    def write_info(self, info: dict[str, Any]) -> None:
        """Records which model and options made these features (once)."""
        path = self.folder / "info.json"
        if not path.exists():
            _atomic_write(path, json.dumps(info, indent=2, sort_keys=True).encode())

    def info(self) -> dict[str, Any]:
        """The model and options these features were made with."""
        path = self.folder / "info.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def keys(self) -> set[str]:
        """The inputs already computed."""
        shards = self._shards()
        if not shards:
            return set()
        return set(pa.concat_tables(pq.read_table(s, columns=["key"]) for s in shards).column("key").to_pylist())

    def read(self, keys: list[str] | None = None) -> pd.DataFrame:
        """Cached rows (newest per key), optionally only ``keys``; vector columns stay lists."""
        shards = self._shards()
        if not shards:
            return pd.DataFrame(columns=["key"])
        table = pa.concat_tables([pq.read_table(s) for s in shards], promote_options="permissive")
        frame = table.to_pandas().drop_duplicates("key", keep="last")
        if keys is not None:
            frame = frame[frame["key"].isin(keys)]
        return frame.reset_index(drop=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Appends one shard of results (rows of ``key`` + outputs)."""
        if not rows:
            return
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        table = pa.table({name: _arrow(values) for name, values in columns.items()})
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        tmp = final.with_name(f".{final.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(final)

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob(SHARD_GLOB))


@dataclass(frozen=True)
class IndexEntry:
    """Which cache folder holds a snapshot's features for one extractor, and each video's key."""

    extractor: str
    cache_key: str
    info: dict[str, Any]
    keys: pd.DataFrame  # video_id, key, status, error


class FeatureIndex:
    """Per-snapshot records of extraction: ``features/snapshots/NAME/vN/EXTRACTOR.{json,parquet}``."""

    def __init__(self, root: Path, snapshot_name: str, snapshot_version: int) -> None:
        self.folder = root / "snapshots" / snapshot_name / f"v{snapshot_version}"
        self.ref = f"{snapshot_name}@v{snapshot_version}"

    def write(self, extractor: str, cache_key: str, info: dict[str, Any], keys: pd.DataFrame) -> None:
        """Replaces the record of ``extractor`` for this snapshot (the newest extraction is the one used)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{extractor}.{os.getpid()}.parquet.tmp"
        pq.write_table(pa.Table.from_pandas(keys[["video_id", "key", "status", "error"]], preserve_index=False), tmp)
        tmp.replace(self.folder / f"{extractor}.parquet")
        record = {"extractor": extractor, "cache_key": cache_key, "info": info}
        _atomic_write(self.folder / f"{extractor}.json", json.dumps(record, indent=2, sort_keys=True).encode())

    def read(self, extractor: str) -> IndexEntry:
        """The record of ``extractor``; a clear error naming the command when there is none."""
        meta = self.folder / f"{extractor}.json"
        if not meta.is_file():
            raise CurateError(f"no {extractor} features for {self.ref}: run `curate extract {self.ref} --extractor {extractor}` first")
        record = json.loads(meta.read_text())
        keys = pd.read_parquet(self.folder / f"{extractor}.parquet")
        return IndexEntry(extractor, record["cache_key"], record["info"], keys)


def vectors(column: pd.Series) -> np.ndarray:
    """A column of equal-length vectors (as read back from a shard) → a float32 matrix (rows, dim)."""
    if column.empty:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack(column.to_numpy()).astype(np.float32, copy=False)


def _arrow(values: list[Any]) -> pa.Array:
    if values and isinstance(values[0], np.ndarray):
        flat = np.concatenate([np.asarray(v, dtype=np.float32).reshape(-1) for v in values])
        return pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float32()), int(values[0].size))
    return pa.array(values)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
