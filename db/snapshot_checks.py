"""Checks beyond a snapshot's own files: the media it names, and another snapshot's content.

``verify_media`` re-hashes every media file a snapshot's rows name (``media_path``
under the data folder, against ``media_sha256``); ``compare_content`` says whether
two snapshots hold the same content (``content_fingerprint``) and, where not, what
differs: columns, labels, split assignment, and which videos were added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.snapshot_content import content_differences, content_of
from db.snapshots import MANIFEST_FILE, SnapshotError, SnapshotRef, diff_snapshots, file_sha256, read_manifest


@dataclass
class MediaReport:
    """Media files a snapshot names: how many were checked, and which are missing or changed."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per problem."""
        return [f"media {p} is missing" for p in self.missing] + [f"media {p} changed (sha256 differs from the snapshot's)" for p in self.changed]


def verify_media(snapshot: SnapshotRef, home: Path) -> MediaReport:
    """Re-hashes the media files of the snapshot's rows (paths relative to ``home``, or absolute)."""
    frame = snapshot.frame(["media_path", "media_sha256"]).dropna(subset=["media_path"])
    report = MediaReport()
    for relative, expected in zip(frame["media_path"].tolist(), frame["media_sha256"].tolist(), strict=True):
        path = Path(relative) if Path(relative).is_absolute() else Path(home) / relative
        report.checked += 1
        if not path.is_file():
            report.missing.append(relative)
        elif expected is not None and file_sha256(path) != expected:
            report.changed.append(relative)
    return report


def other_snapshot(folder: Path, ref_name: str, version: int) -> SnapshotRef:
    """The snapshot in ``folder``: a version folder (with a manifest), or a data folder holding the same NAME@vN."""
    folder = Path(folder)
    candidates = [folder, folder / "snapshots" / ref_name / f"v{version}", folder / ref_name / f"v{version}"]
    for path in candidates:
        if (path / MANIFEST_FILE).is_file():
            manifest = read_manifest(path)
            return SnapshotRef(name=manifest.get("name", ref_name), version=int(manifest.get("version", version)), path=path,
                               manifest=manifest)
    raise SnapshotError(f"{folder}: no {MANIFEST_FILE} there, nor under snapshots/{ref_name}/v{version}; give a snapshot's version folder")


def content_manifest(snapshot: SnapshotRef) -> dict[str, Any]:
    """The manifest with its ``content`` parts recomputed from the table (older manifests lack them)."""
    content = content_of(snapshot.table(), snapshot.manifest.get("labels", {}))
    return {**snapshot.manifest, "content": content.to_dict(), "content_fingerprint": content.fingerprint}


def compare_content(a: SnapshotRef, b: SnapshotRef) -> dict[str, Any]:
    """Whether two snapshots hold the same content, their content fingerprints, and what differs."""
    ma, mb = content_manifest(a), content_manifest(b)
    differences = content_differences(ma, mb)
    if ma["content"]["rows"] != mb["content"]["rows"] or ma["content"]["splits"] != mb["content"]["splits"]:
        diff = diff_snapshots(a, b).summary(sample=5)
        if diff["added"] or diff["removed"]:
            differences.append(f"videos only in the second: {diff['added']}, only in the first: {diff['removed']}")
    recorded = [m.get("content_fingerprint") for m in (a.manifest, b.manifest)]
    stale = [s.ref for s, r, m in zip((a, b), recorded, (ma, mb), strict=True) if r is not None and r != m["content_fingerprint"]]
    differences += [f"{ref}: its table no longer matches the content fingerprint its manifest recorded" for ref in stale]
    return {"same": not differences, "a": ma["content_fingerprint"], "b": mb["content_fingerprint"], "differences": differences}
