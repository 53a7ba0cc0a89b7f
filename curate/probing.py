"""``curate probe`` over the catalog, as one call: claim files, probe them on the chosen engine, store facts as they come.

Typer-free, so that the command, the benchmarks and the tests call the same code.
Files are claimed in chunks as the distributor asks for work (``work_claim`` rows,
stage ``probe``): several ``curate probe`` processes or machines on one Postgres
catalog probe each file once. A file this worker cannot see because it was stored
in another media root is counted as *elsewhere* and left alone, never recorded as
missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core.distribute import EngineSettings
from core.media_root import resolve, root_id
from curation.distributor import probe_distributor, probe_paths
from db.claims import CatalogClaims, worker_name
from db.media import MediaFile, pending_probes, store_probes
from db.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: files claimed per round trip to the catalog
CLAIM_CHUNK = 32
#: results stored per transaction, or after this many seconds
STORE_BATCH = 500
STORE_EVERY_S = 1.0
#: files per shard (one process call or one Ray task) unless the settings say otherwise
SHARD = 16


def probe_catalog(engine: Engine, media_root: Path, settings: EngineSettings, everything: bool = False,
                  on_done: Callable[[int], None] | None = None, on_total: Callable[[int], None] | None = None) -> dict[str, int]:
    """Probes the catalog's files that need it; returns the counts ``curate probe --json`` prints."""
    identity = root_id(media_root) if media_root.is_dir() else None
    pending = pending_probes(engine, everything=everything)
    mine = [m for m in pending if _visible(media_root, identity, m)]
    counts = {"to_probe": len(mine), "readable": 0, "unreadable": 0, "truncated": 0, "stored": 0,
              "elsewhere": len(pending) - len(mine), "probed_by_others": 0}
    if on_total is not None:
        on_total(len(mine))
    claims = CatalogClaims(engine, "probe", worker_name(), utcnow())
    distributor = probe_distributor(settings.workers, EngineSettings(settings.engine, settings.workers, settings.ray_address, settings.shard_size or SHARD))
    store = _Store(engine, claims, counts)
    by_path: dict[str, list[MediaFile]] = {}
    try:
        for result in probe_paths(distributor, _claimed(claims, mine, media_root, by_path, counts)):
            for media in by_path.pop(result.path, []):
                store.add(media, result)
            if on_done is not None:
                on_done(1)
    finally:
        store.flush()
        claims.release()
    counts["changed_meanwhile"] = counts["to_probe"] - counts["probed_by_others"] - counts["stored"]
    return counts


def _visible(root: Path, identity: str | None, media: MediaFile) -> bool:
    """A file to probe here: it is in this root, or it is recorded in this root (or in none), so a miss is real."""
    return media.media_root in (None, identity) or resolve(root, media.media_path).is_file()


def _claimed(claims: CatalogClaims, todo: list[MediaFile], root: Path, by_path: dict[str, list[MediaFile]], counts: dict[str, int]) -> Iterator[str]:
    """The paths of the files this worker claimed, a chunk at a time, as the distributor pulls them."""
    for start in range(0, len(todo), CLAIM_CHUNK):
        chunk = {m.claim_key: m for m in todo[start : start + CLAIM_CHUNK]}
        granted = claims.claim(list(chunk))
        counts["probed_by_others"] += len(chunk) - len(granted)
        fresh = []
        for key in granted:
            path = str(resolve(root, chunk[key].media_path))
            if path not in by_path:
                fresh.append(path)
            by_path.setdefault(path, []).append(chunk[key])
        yield from fresh


class _Store:
    """Probe results written to the catalog in batches as they come, with their claims marked done."""

    def __init__(self, engine: Engine, claims: CatalogClaims, counts: dict[str, int]) -> None:
        self.engine, self.claims, self.counts = engine, claims, counts
        self.rows: list[dict] = []
        self.keys: list[str] = []
        self.at = time.monotonic()

    def add(self, media: MediaFile, result) -> None:
        self.counts["readable" if result.readable else "unreadable"] += 1
        self.counts["truncated"] += bool(result.truncated)
        self.rows.append({"video_id": media.video_id, "media_sha256": media.media_sha256, "probe": result.facts()})
        self.keys.append(media.claim_key)
        if len(self.rows) >= STORE_BATCH or time.monotonic() - self.at >= STORE_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.counts["stored"] += store_probes(self.engine, self.rows)
            self.claims.finish(dict.fromkeys(self.keys))
        self.rows, self.keys, self.at = [], [], time.monotonic()
