"""Exporting a snapshot: train/val/test files (Parquet or CSV) or a Hugging Face ``DatasetDict`` on disk.

The export is written to a temporary folder beside ``out`` and moved into place,
so a failed export leaves nothing behind; the snapshot's manifest goes with it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from db.snapshots import MANIFEST_FILE, SPLITS, SnapshotError, SnapshotRef, verify_snapshot

FORMATS = ("parquet", "csv", "hf")


def export_snapshot(snapshot: SnapshotRef, fmt: str, out: Path, overwrite: bool = False) -> list[Path]:
    """Writes ``snapshot`` to ``out`` in ``fmt``; returns the files or folders written (one per split).

    The snapshot's files are verified against its manifest first: a modified snapshot is not exported.
    """
    if fmt not in FORMATS:
        raise SnapshotError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise SnapshotError(f"{out} exists and is not empty; choose another --out or pass --overwrite")
    report = verify_snapshot(snapshot)
    if not report.ok:  # an export must be the snapshot its manifest describes
        raise SnapshotError(f"{snapshot.ref} was modified, not exporting it: " + "; ".join(report.problems()))
    out.parent.mkdir(parents=True, exist_ok=True)
    table = snapshot.table()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        written = {"parquet": _parquet, "csv": _csv, "hf": _hugging_face}[fmt](table, tmp)
        shutil.copyfile(snapshot.path / MANIFEST_FILE, tmp / MANIFEST_FILE)
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / p.relative_to(tmp) for p in written]


def split_tables(table: pa.Table) -> dict[str, pa.Table]:
    """The rows of each split, in SPLITS order (a split may be empty)."""
    return {s: table.filter(pc.equal(table["split"], s)) for s in SPLITS}


def _parquet(table: pa.Table, folder: Path) -> list[Path]:
    import pyarrow.parquet as pq

    paths = []
    for split, part in split_tables(table).items():
        pq.write_table(part, folder / f"{split}.parquet", compression="zstd")
        paths.append(folder / f"{split}.parquet")
    return paths


def flat_for_csv(table: pa.Table) -> pa.Table:
    """CSV has no lists: hashtags become one space-separated string."""
    index = table.schema.get_field_index("hashtags")
    if index < 0:
        return table
    joined = pc.binary_join(table["hashtags"], " ")
    return table.set_column(index, pa.field("hashtags", pa.string()), joined)


def _csv(table: pa.Table, folder: Path) -> list[Path]:
    from pyarrow import csv

    paths = []
    for split, part in split_tables(flat_for_csv(table)).items():
        csv.write_csv(part, folder / f"{split}.csv")
        paths.append(folder / f"{split}.csv")
    return paths


def _hugging_face(table: pa.Table, folder: Path) -> list[Path]:
    import datasets

    datasets.disable_progress_bars()  # the command reports what it wrote; bars would break --json output
    parts = {split: datasets.Dataset(part) for split, part in split_tables(table).items()}
    # one shard each, so that an empty split is still written and loads back
    datasets.DatasetDict(parts).save_to_disk(str(folder), num_shards={split: 1 for split in parts})
    return [folder / split for split in SPLITS]


def _replace(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
