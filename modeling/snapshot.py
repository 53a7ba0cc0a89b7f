"""A snapshot as modeling sees it: a version folder and its manifest, read as files, never the catalog tables.

``Snapshot`` is the storage layer's reference (``db.snapshots.SnapshotRef``: name,
version, path, manifest, fingerprint, ``frame()``); modeling resolves ``NAME@vN``
without an engine, so training works on a copied snapshot folder too.
"""

from __future__ import annotations

from pathlib import Path

from db.snapshots import SnapshotError, SnapshotRef, resolve_snapshot

Snapshot = SnapshotRef

__all__ = ["Snapshot", "SnapshotError", "open_snapshot"]


def open_snapshot(home: Path, ref: str) -> Snapshot:
    """``NAME@vN`` (or the newest ``NAME``) under the data folder."""
    return resolve_snapshot(home, None, ref)
