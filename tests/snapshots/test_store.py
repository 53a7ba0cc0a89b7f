"""Snapshot storage: immutable versions, resolution, verify/tamper detection, diff and export."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from db import snapshots as store
from db.snapshot_export import export_snapshot
from db.snapshots import SnapshotError, diff_snapshots, resolve_snapshot, verify_snapshot, write_snapshot


def table(ids, split="train", likes=1) -> pa.Table:
    n = len(ids)
    return pa.table({"video_id": [str(i) for i in ids], "split": [split] * n, "likes": [likes] * n,
                     "hashtags": [["fyp", "x"]] * n})


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def test_versions_are_numbered_immutable_and_resolvable(sqlite_engine, home):
    v1 = write_snapshot(home, sqlite_engine, "ds", table([1, 2]), {"counts": {"rows": 2}}, parent=None)
    digest = store.file_sha256(v1.table_path)
    v2 = write_snapshot(home, sqlite_engine, "ds", table([1, 2, 3]), {"counts": {"rows": 3}}, parent=v1)
    assert (v1.version, v2.version, v2.manifest["parent"]) == (1, 2, "ds@v1")
    assert store.file_sha256(v1.table_path) == digest
    assert resolve_snapshot(home, None, "ds").ref == "ds@v2" and resolve_snapshot(home, sqlite_engine, "ds@v1").table().num_rows == 2
    assert resolve_snapshot(home, None, "ds@1").version == 1
    assert [s.ref for s in store.list_snapshots(home)] == ["ds@v1", "ds@v2"]
    assert not [p for p in (home / "snapshots" / "ds").iterdir() if p.name.startswith(".tmp")]
    for bad, message in (("nope", "no snapshot named"), ("ds@v9", "no version v9"), ("a b@v1", "bad snapshot"), ("", "bad snapshot")):
        with pytest.raises(SnapshotError, match=message):
            resolve_snapshot(home, None, bad)


def test_a_failed_registration_leaves_nothing(sqlite_engine, home, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_register_and_move", broken)
    with pytest.raises(RuntimeError):
        write_snapshot(home, sqlite_engine, "ds", table([1]), {}, parent=None)
    assert list((home / "snapshots" / "ds").iterdir()) == []


def test_the_manifest_fingerprints_every_file(sqlite_engine, home):
    snap = write_snapshot(home, sqlite_engine, "ds", table([1, 2]), {"counts": {"rows": 2}}, parent=None)
    manifest = json.loads((snap.path / store.MANIFEST_FILE).read_text())
    assert manifest["files"][store.TABLE_FILE]["sha256"] == store.file_sha256(snap.table_path)
    assert manifest["fingerprint"] == store.manifest_fingerprint(manifest) == store.registered_fingerprint(sqlite_engine, "ds", 1)
    report = verify_snapshot(snap, sqlite_engine)
    assert report.ok and report.registry == "matches"


def test_verify_names_the_file_that_changed(sqlite_engine, home):
    snap = write_snapshot(home, sqlite_engine, "ds", table([1, 2]), {"counts": {"rows": 2}}, parent=None)
    with open(snap.table_path, "ab") as f:
        f.write(b"\0")
    report = verify_snapshot(resolve_snapshot(home, None, "ds@v1"), sqlite_engine)
    assert not report.ok and report.changed == [store.TABLE_FILE]
    assert "videos.parquet changed" in report.problems()[0]


def test_verify_catches_an_edited_manifest_and_extra_or_missing_files(sqlite_engine, home):
    snap = write_snapshot(home, sqlite_engine, "ds", table([1, 2]), {"counts": {"rows": 2}}, parent=None)
    path = snap.path / store.MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["counts"]["rows"] = 3
    path.write_text(json.dumps(manifest))
    edited = verify_snapshot(resolve_snapshot(home, None, "ds@v1"), sqlite_engine)
    assert not edited.manifest_ok and any("manifest.json changed" in p for p in edited.problems())
    manifest["fingerprint"] = store.manifest_fingerprint(manifest)  # a careful forger re-fingerprints…
    path.write_text(json.dumps(manifest))
    forged = verify_snapshot(resolve_snapshot(home, None, "ds@v1"), sqlite_engine)
    assert forged.manifest_ok and forged.registry == "differs" and not forged.ok  # …but the catalog remembers
    (snap.path / "extra.csv").write_text("x")
    os.remove(snap.table_path)
    report = verify_snapshot(resolve_snapshot(home, None, "ds@v1"))
    assert report.missing == [store.TABLE_FILE] and report.unexpected == ["extra.csv"]


def test_diff_reports_added_removed_and_changed(sqlite_engine, home):
    a = write_snapshot(home, sqlite_engine, "ds", table([1, 2, 3]), {}, parent=None)
    t = table([2, 3, 4]).set_column(2, "likes", pa.array([1, 5, 1]))
    b = write_snapshot(home, sqlite_engine, "ds", t, {}, parent=a)
    d = diff_snapshots(a, b)
    assert (d.added, d.removed, d.changed, d.changed_columns) == (["4"], ["1"], ["3"], {"likes": 1})
    assert d.summary()["changed"] == 1


def test_export_writes_each_split_in_each_format(sqlite_engine, home, tmp_path):
    import datasets

    rows = pa.concat_tables([table([1, 2], "train"), table([3], "val"), table([4], "test")])
    snap = write_snapshot(home, sqlite_engine, "ds", rows, {}, parent=None)
    parquet = export_snapshot(snap, "parquet", tmp_path / "p")
    assert [p.name for p in parquet] == ["train.parquet", "val.parquet", "test.parquet"]
    assert pq.read_table(parquet[0]).num_rows == 2 and (tmp_path / "p" / store.MANIFEST_FILE).is_file()
    csv = export_snapshot(snap, "csv", tmp_path / "c")
    assert csv[1].read_text().splitlines()[1] == '"3","val",1,"fyp x"'
    export_snapshot(snap, "hf", tmp_path / "h")
    loaded = datasets.load_from_disk(str(tmp_path / "h"))
    assert {k: v.num_rows for k, v in loaded.items()} == {"train": 2, "val": 1, "test": 1}
    assert loaded["train"][0]["hashtags"] == ["fyp", "x"]
    with pytest.raises(SnapshotError, match="not empty"):
        export_snapshot(snap, "csv", tmp_path / "c")
    export_snapshot(snap, "parquet", tmp_path / "c", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["manifest.json", "test.parquet", "train.parquet", "val.parquet"]
    with pytest.raises(SnapshotError, match="unknown export format"):
        export_snapshot(snap, "xlsx", tmp_path / "x")


def test_a_modified_snapshot_is_not_exported(sqlite_engine, home, tmp_path):
    snap = write_snapshot(home, sqlite_engine, "ds", table([1, 2]), {}, parent=None)
    with open(snap.table_path, "ab") as f:
        f.write(b"\0")
    with pytest.raises(SnapshotError, match="videos.parquet changed"):
        export_snapshot(resolve_snapshot(home, None, "ds"), "parquet", tmp_path / "out")
    assert not (tmp_path / "out").exists()
