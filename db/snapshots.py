"""Snapshot storage: immutable ``snapshots/NAME/vN`` folders, their manifest, registry and checks.

A version is written to a temporary folder, registered in the catalog and moved
into place in one step; nothing ever rewrites it. ``verify`` re-hashes the files,
``diff`` compares two versions, ``export`` writes train/val/test files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.errors import CurateError
from db.models import Snapshot
from db.types import utcnow

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TABLE_FILE = "videos.parquet"
MANIFEST_FILE = "manifest.json"
SPLITS = ("train", "val", "test")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_REF_PATTERN = re.compile(r"^(?P<name>[^@]+?)(?:@v?(?P<version>[0-9]+))?$")
_HASH_CHUNK = 1 << 20


class SnapshotError(CurateError):
    """A snapshot cannot be found, written or read as asked."""


@dataclass(frozen=True)
class SnapshotRef:
    """One written snapshot version: where it is and what its manifest says."""

    name: str
    version: int
    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def ref(self) -> str:
        """``NAME@vN``."""
        return f"{self.name}@v{self.version}"

    @property
    def fingerprint(self) -> str:
        """The manifest's fingerprint of the whole version."""
        return self.manifest.get("fingerprint", "")

    @property
    def table_path(self) -> Path:
        """The Parquet table of every row (with its ``split`` column)."""
        return self.path / TABLE_FILE

    def table(self, columns: list[str] | None = None) -> pa.Table:
        """The rows as an Arrow table (optionally only some columns)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.table_path, columns=columns)

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The rows as a pandas DataFrame."""
        return self.table(columns).to_pandas()

    def column_names(self) -> list[str]:
        """The table's column names, read from the Parquet footer only."""
        import pyarrow.parquet as pq

        return pq.read_schema(self.table_path).names


def check_name(name: str) -> str:
    """``name`` if it can name a snapshot (letters, digits, ``_ . -``; 64 at most), else a SnapshotError."""
    if not NAME_PATTERN.match(name or ""):
        raise SnapshotError(f"bad snapshot name {name!r}: use letters, digits, '_', '.', '-' (64 at most, no '@')")
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME@vN`` → (NAME, N); ``NAME`` → (NAME, None) meaning the latest version."""
    match = _REF_PATTERN.match(ref.strip()) if ref else None
    if not match:
        raise SnapshotError(f"bad snapshot reference {ref!r}: write NAME or NAME@vN")
    version = match.group("version")
    return check_name(match.group("name")), int(version) if version else None


def snapshots_root(home: Path) -> Path:
    """The folder holding every snapshot."""
    return Path(home) / "snapshots"


def version_dir(home: Path, name: str, version: int) -> Path:
    """Where ``NAME@vN`` lives."""
    return snapshots_root(home) / name / f"v{version}"


def versions_on_disk(home: Path, name: str) -> list[int]:
    """The versions of ``name`` written under ``home``, ascending."""
    folder = snapshots_root(home) / name
    if not folder.is_dir():
        return []
    return sorted(int(p.name[1:]) for p in folder.iterdir() if re.fullmatch(r"v[0-9]+", p.name) and (p / MANIFEST_FILE).is_file())


def _registered_versions(engine: Engine | None, name: str) -> list[int]:
    if engine is None:
        return []
    table = Snapshot.__table__
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(table.c.version).where(table.c.name == name)).scalars())


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest in a version folder; a SnapshotError when it is missing or unreadable."""
    try:
        return json.loads((path / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        raise SnapshotError(f"{path} has no {MANIFEST_FILE}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path / MANIFEST_FILE} is not valid JSON: {exc}") from exc


def resolve_snapshot(home: Path, engine: Engine | None, ref: str) -> SnapshotRef:
    """The snapshot ``NAME@vN`` (or the latest ``NAME``) under ``home``; ``engine`` may be None."""
    name, version = parse_ref(ref)
    available = versions_on_disk(home, name)
    if version is not None and version not in available and version_dir(home, name, version).is_dir():
        raise _lost_manifest(home, name, version)
    if not available:
        if (snapshots_root(home) / name).is_dir() and any((snapshots_root(home) / name).glob("v*")):
            raise _lost_manifest(home, name, None)
        known = sorted({p.name for p in snapshots_root(home).iterdir() if p.is_dir() and versions_on_disk(home, p.name)}) if snapshots_root(home).is_dir() else []
        hint = f"; snapshots here: {', '.join(known)}" if known else "; create one with `curate snapshot create NAME`"
        raise SnapshotError(f"no snapshot named {name!r} under {snapshots_root(home)}{hint}")
    version = available[-1] if version is None else version
    if version not in available:
        raise SnapshotError(f"{name} has no version v{version}; versions: {', '.join(f'v{v}' for v in available)}")
    path = version_dir(home, name, version)
    return SnapshotRef(name=name, version=version, path=path, manifest=read_manifest(path))


def _lost_manifest(home: Path, name: str, version: int | None) -> SnapshotError:
    """The error for version folders whose manifest is gone: they exist, but nothing in them can be checked."""
    folders = [version_dir(home, name, version)] if version is not None else sorted((snapshots_root(home) / name).glob("v*"))
    files = sum(1 for folder in folders for p in folder.rglob("*") if p.is_file())
    where = ", ".join(str(f) for f in folders)
    return SnapshotError(f"{where}: {MANIFEST_FILE} is missing (deleted or never written); the {files} file(s) there cannot be "
                         "verified or used — restore the manifest from a copy, or remove the folder")


def latest_snapshot(home: Path, name: str) -> SnapshotRef | None:
    """The newest version of ``name``, or None when there is none."""
    available = versions_on_disk(home, name)
    return resolve_snapshot(home, None, f"{name}@v{available[-1]}") if available else None


def list_snapshots(home: Path) -> list[SnapshotRef]:
    """Every version under ``home``, by name then version."""
    root = snapshots_root(home)
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name)) if root.is_dir() else []
    return [resolve_snapshot(home, None, f"{n}@v{v}") for n in names for v in versions_on_disk(home, n)]


def canonical_json(value: Any) -> bytes:
    """Sorted, compact JSON: the bytes a fingerprint is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def manifest_fingerprint(manifest: dict[str, Any]) -> str:
    """The sha256 of the manifest without its own fingerprint (it covers every file's sha256)."""
    return hashlib.sha256(canonical_json({k: v for k, v in manifest.items() if k != "fingerprint"})).hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_snapshot(
    home: Path, engine: Engine, name: str, table: pa.Table, manifest: dict[str, Any], parent: SnapshotRef | None
) -> SnapshotRef:
    """Writes a new version of ``name`` and registers it; returns it. Never touches an existing version.

    The caller's ``manifest`` gets ``name, version, parent, created_at, files`` and
    ``fingerprint``. Files go to a temporary folder first; the catalog row and the
    move into place happen in one transaction, so a failure leaves neither.
    """
    import pyarrow.parquet as pq

    check_name(name)
    folder = snapshots_root(home) / name
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
    try:
        pq.write_table(table, tmp / TABLE_FILE, compression="zstd")
        files = {TABLE_FILE: {"sha256": file_sha256(tmp / TABLE_FILE), "bytes": (tmp / TABLE_FILE).stat().st_size}}
        return _publish(home, engine, name, tmp, manifest, files, parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(home, engine, name, tmp: Path, manifest: dict, files: dict, parent: SnapshotRef | None) -> SnapshotRef:
    for _attempt in range(5):
        version = max([0, *versions_on_disk(home, name), *_registered_versions(engine, name)]) + 1
        final = version_dir(home, name, version)
        full = {"name": name, "version": version, "parent": parent.ref if parent else None,
                "created_at": utcnow().isoformat(), **manifest, "files": files}
        full["fingerprint"] = manifest_fingerprint(full)
        (tmp / MANIFEST_FILE).write_text(json.dumps(full, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")
        try:
            _register_and_move(engine, full, tmp, final, parent, home)
        except IntegrityError:
            continue  # another writer took this version number: take the next one
        return SnapshotRef(name=name, version=version, path=final, manifest=full)
    raise SnapshotError(f"could not claim a version number for {name} (too many concurrent writers)")


def _register_and_move(engine: Engine, full: dict, tmp: Path, final: Path, parent: SnapshotRef | None, home: Path) -> None:
    moved = False
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(Snapshot.__table__).values(
                name=full["name"], version=full["version"], parent_version=parent.version if parent else None,
                fingerprint=full["fingerprint"], created_at=datetime.fromisoformat(full["created_at"]),
                path=str(final.relative_to(home)), manifest=full,
            ))
            if final.exists():
                raise SnapshotError(f"{final} exists although the catalog does not list it; move it away first")
            os.rename(tmp, final)
            moved = True
    except BaseException:
        if moved:  # the commit failed after the move: put the files back so that nothing half-exists
            os.rename(final, tmp)
        raise


def registered_fingerprint(engine: Engine, name: str, version: int) -> str | None:
    """The fingerprint the catalog recorded for ``NAME@vN`` (None when not registered)."""
    table = Snapshot.__table__
    with engine.connect() as conn:
        return conn.execute(
            sa.select(table.c.fingerprint).where(table.c.name == name, table.c.version == version)
        ).scalar_one_or_none()


@dataclass
class VerifyReport:
    """What ``verify`` found: files whose sha256 changed, files missing, and whether the manifest holds."""

    ref: str
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    manifest_ok: bool = True
    registry: str = "not checked"

    @property
    def ok(self) -> bool:
        """True when nothing changed."""
        return not (self.changed or self.missing or self.unexpected) and self.manifest_ok and self.registry != "differs"

    def problems(self) -> list[str]:
        """One line per problem, naming the file."""
        lines = [f"{f} changed (sha256 differs from the manifest)" for f in self.changed]
        lines += [f"{f} is missing" for f in self.missing]
        lines += [f"{f} is not part of the snapshot" for f in self.unexpected]
        if not self.manifest_ok:
            lines.append(f"{MANIFEST_FILE} changed (its fingerprint no longer matches its content)")
        if self.registry == "differs":
            lines.append(f"{MANIFEST_FILE} differs from the fingerprint the catalog registered")
        return lines


def verify_snapshot(snapshot: SnapshotRef, engine: Engine | None = None) -> VerifyReport:
    """Re-hashes every file of a version against its manifest (and the catalog's record when given)."""
    manifest = snapshot.manifest
    report = VerifyReport(ref=snapshot.ref, manifest_ok=manifest_fingerprint(manifest) == manifest.get("fingerprint"))
    files: dict[str, dict] = manifest.get("files", {})
    for name, facts in sorted(files.items()):
        path = snapshot.path / name
        if not path.is_file():
            report.missing.append(name)
        elif file_sha256(path) != facts.get("sha256"):
            report.changed.append(name)
    # anywhere below the version folder: a stray sub/x.parquet is as foreign as one beside the table
    present = {p.relative_to(snapshot.path).as_posix() for p in snapshot.path.rglob("*") if p.is_file()} - {MANIFEST_FILE}
    report.unexpected = sorted(present - set(files))
    if engine is not None:
        recorded = registered_fingerprint(engine, snapshot.name, snapshot.version)
        report.registry = "unregistered" if recorded is None else ("matches" if recorded == manifest.get("fingerprint") else "differs")
    return report


#: columns whose change makes a video "changed" between two versions
DIFF_COLUMNS = (
    "split", "provenance", "plays", "likes", "comments", "shares", "saves", "followers", "caption", "media_sha256",
    "er", "viral_er", "virality_weighted", "viral_all_median", "virality_corr",
)


@dataclass
class SnapshotDiff:
    """Videos added, removed and changed from version ``a`` to ``b``, and how many changed per column."""

    a: str
    b: str
    added: list[str]
    removed: list[str]
    changed: list[str]
    changed_columns: dict[str, int]

    def summary(self, sample: int = 10) -> dict[str, Any]:
        """Counts, the first ``sample`` ids of each kind, and per-column change counts."""
        return {
            "a": self.a, "b": self.b,
            "added": len(self.added), "removed": len(self.removed), "changed": len(self.changed),
            "changed_columns": self.changed_columns,
            "examples": {"added": self.added[:sample], "removed": self.removed[:sample], "changed": self.changed[:sample]},
        }


def diff_snapshots(a: SnapshotRef, b: SnapshotRef, columns: tuple[str, ...] = DIFF_COLUMNS) -> SnapshotDiff:
    """Compares two versions by video id (vectorised merge; NaN equals NaN)."""
    shared = [c for c in columns if c in a.column_names() and c in b.column_names()]
    left, right = a.frame(["video_id", *shared]), b.frame(["video_id", *shared])
    merged = left.merge(right, on="video_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    differs = {}
    for column in shared:
        x, y = both[f"{column}_a"].astype(object), both[f"{column}_b"].astype(object)
        same = (x == y).fillna(False).astype(bool) | (x.isna() & y.isna())
        differs[column] = ~same.to_numpy()
    any_change = np.logical_or.reduce(list(differs.values())) if differs else np.zeros(len(both), dtype=bool)
    return SnapshotDiff(
        a=a.ref, b=b.ref, added=_ids(merged, merged["_merge"] == "right_only"),
        removed=_ids(merged, merged["_merge"] == "left_only"),
        changed=sorted(both.loc[any_change, "video_id"].astype(str)),
        changed_columns={c: int(m.sum()) for c, m in differs.items() if m.any()},
    )


def _ids(frame: pd.DataFrame, mask: pd.Series) -> list[str]:
    return sorted(frame.loc[mask, "video_id"].astype(str))
