"""Running an extractor over a snapshot: verified inputs, the cache consulted first, decoding overlapped with the model.

A failed input (missing file, changed bytes, undecodable media) becomes a row with
its status and error in the snapshot's feature index, never an exception that stops
the run. Where the work runs is :mod:`modeling.distributed`'s business: locally,
threads prepare inputs ahead of the model in this process; on Ray, each task
prepares and runs a batch; with claims, several workers on one catalog compute each
input once, and the index written last sees everything the others computed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modeling.cache import FeatureCache, FeatureIndex
from modeling.distributed import PENDING, Placement, compute, from_others
from modeling.extractors.base import Extractor, Item
from modeling.media import sha256_of
from modeling.snapshot import Snapshot

#: called with (inputs just finished, inputs to compute in all)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExtractionSummary:
    """Counts of one extraction.

    ``total`` = ``ok`` + ``failed`` + ``no_input`` + ``pending`` counts videos (``pending``: another
    worker on the same catalog is computing it at the time); ``computed`` and ``cached``
    count distinct inputs (videos sharing a file or a text share one computation).
    """

    extractor: str
    cache_key: str
    total: int
    ok: int
    failed: int
    no_input: int
    computed: int
    cached: int
    seconds: float
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    pending: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able counts."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def compose_text(frame: pd.DataFrame, extra: Iterable[pd.Series] = ()) -> pd.Series:
    """Caption, hashtags as ``#tag`` words, then any extra texts (transcript, description), one string per row."""
    empty = pd.Series("", index=frame.index)
    caption = frame["caption"].fillna("").astype(str) if "caption" in frame else empty
    hashtags = _hashtag_words(frame["hashtags"]) if "hashtags" in frame else empty
    text = caption
    for part in [hashtags, *(s.reindex(frame.index).fillna("").astype(str) for s in extra)]:
        text = text.str.cat(part, sep=" ")
    return text.str.split().str.join(" ").fillna("")


def _hashtag_words(tags: pd.Series) -> pd.Series:
    """list<string> → "#a #b" (Arrow kernels over the whole column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pa.array(tags.tolist(), type=pa.list_(pa.string()))
    tagged = pc.replace_substring_regex(pc.list_flatten(lists), "^", "#")
    joined = pc.binary_join(pa.ListArray.from_arrays(lists.offsets, tagged, mask=lists.is_null()), " ")
    return pd.Series(joined.to_pandas(), index=tags.index).fillna("")


def snapshot_items(snapshot: Snapshot, home: Path, extra_text: Iterable[pd.Series] = ()) -> list[Item]:
    """One item per video of the snapshot: its media file (relative to the data folder) and its text."""
    frame = snapshot.frame()
    text = compose_text(frame, extra_text)
    relative = frame["media_path"] if "media_path" in frame else pd.Series(None, index=frame.index, dtype=object)
    shas = frame["media_sha256"] if "media_sha256" in frame else pd.Series(None, index=frame.index, dtype=object)
    items = []
    for video_id, rel, sha, words in zip(frame["video_id"], relative, shas, text, strict=True):
        path = home / rel if isinstance(rel, str) and rel else None
        if path is not None and not isinstance(sha, str) and path.is_file():
            sha = sha256_of(path)  # a snapshot without the file's hash: key it by what is there now
        items.append(Item(str(video_id), path, sha if isinstance(sha, str) else None, words))
    return items


def text_sources(snapshot: Snapshot, features_root: Path, frame: pd.DataFrame) -> tuple[list[pd.Series], list[str]]:
    """Transcripts, on-screen text and descriptions already extracted for this snapshot, to append to each video's text."""
    index = FeatureIndex(features_root, snapshot.name, snapshot.version)
    series, used = [], []
    for extractor, column in (("whisper", "transcript"), ("transcript", "transcript"), ("ocr", "ocr_text"), ("description", "description")):
        if not (index.folder / f"{extractor}.json").is_file():
            continue
        entry = index.read(extractor)
        outputs = FeatureCache(features_root, extractor, entry.cache_key).read()
        joined = entry.keys.merge(outputs[["key", column]], on="key", how="left")
        by_video = joined.set_index("video_id")[column]
        series.append(frame["video_id"].astype(str).map(by_video))
        used.append(f"{extractor}:{entry.cache_key}")
    return series, used


def run_extraction(extractor: Extractor, items: list[Item], cache: FeatureCache, progress: Progress | None = None, workers: int = 2,
                   placement: Placement | None = None) -> tuple[pd.DataFrame, ExtractionSummary]:
    """Extracts what the cache lacks (where ``placement`` says); returns each video's key and status, and the counts.

    Status: ``ok``, ``error`` (with the reason), ``no_input``, or ``pending`` (another worker holds it now).
    """
    start = time.perf_counter()
    placement = placement or Placement()
    keys = [extractor.input_key(item) for item in items]
    cached = cache.keys()
    todo = _unique_todo(items, keys, cached)
    status: dict[str, str] = {}
    tick = (lambda n: progress(n, len(todo))) if progress is not None else None
    done = compute(extractor, todo, cache, status, tick, workers, placement)
    known = cached | done
    if placement.claims is not None:
        known = cache.keys()  # what the other workers stored meanwhile
        status.update(from_others(placement.claims, [k for k, _ in todo if k not in known and k not in status]))
    rows = pd.DataFrame({"video_id": [i.video_id for i in items], "key": keys})
    outcome = np.where(rows["key"].map(status).eq(PENDING), "pending", "error")
    rows["status"] = np.where(rows["key"].isna(), "no_input", np.where(rows["key"].isin(known), "ok", outcome))
    rows["error"] = rows["key"].map(status)
    reasons = Counter(msg.split(":", 1)[0] for msg in status.values())
    summary = ExtractionSummary(
        extractor=extractor.name,
        cache_key=extractor.cache_key(),
        total=len(items),
        ok=int((rows["status"] == "ok").sum()),
        failed=int((rows["status"] == "error").sum()),
        no_input=int((rows["status"] == "no_input").sum()),
        computed=len(done),
        cached=int(rows.loc[rows["key"].isin(cached), "key"].nunique()),
        seconds=round(time.perf_counter() - start, 3),
        reasons=dict(reasons),
        examples=[m for m in status.values() if m != PENDING][:3],
        pending=int((rows["status"] == "pending").sum()),
    )
    return rows, summary


def extract_snapshot(extractor: Extractor, snapshot: Snapshot, home: Path, features_root: Path, progress: Progress | None = None, workers: int = 2,
                     placement: Placement | None = None) -> ExtractionSummary:
    """Extracts one extractor over a snapshot and records the result in the snapshot's feature index."""
    extra, used = ([], [])
    if extractor.input == "text":
        extra, used = text_sources(snapshot, features_root, snapshot.frame(columns=["video_id"]))
    items = snapshot_items(snapshot, home, extra)
    cache = FeatureCache(features_root, extractor.name, extractor.cache_key())
    info = {**extractor.describe(), "text_sources": used} if extractor.input == "text" else extractor.describe()
    cache.write_info(info)
    rows, summary = run_extraction(extractor, items, cache, progress, workers, placement)
    FeatureIndex(features_root, snapshot.name, snapshot.version).write(extractor.name, extractor.cache_key(), info, rows)
    return summary


def _unique_todo(items: list[Item], keys: list[str | None], cached: set[str]) -> list[tuple[str, Item]]:
    seen: set[str] = set()
    todo = []
    for key, item in zip(keys, items, strict=True):
        if key is not None and key not in cached and key not in seen:
            seen.add(key)
            todo.append((key, item))
    return todo
