"""Running an extractor over a snapshot: verified inputs, the cache consulted first, decoding overlapped with the model.

A failed input (missing file, changed bytes, undecodable media) becomes a row with
its status and error in the snapshot's feature index, never an exception that stops
the run.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modeling.cache import FeatureCache, FeatureIndex
from modeling.extractors.base import Extractor, Item
from modeling.media import MediaError, sha256_of
from modeling.snapshot import Snapshot

#: called with (inputs just finished, inputs to compute in all)
Progress = Callable[[int, int], None]
FLUSH_EVERY = 256  # results per cache shard


@dataclass(frozen=True)
class ExtractionSummary:
    """Counts of one extraction.

    ``total`` = ``ok`` + ``failed`` + ``no_input`` counts videos; ``computed`` and ``cached``
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


def run_extraction(extractor: Extractor, items: list[Item], cache: FeatureCache, progress: Progress | None = None, workers: int = 2) -> tuple[pd.DataFrame, ExtractionSummary]:
    """Extracts what the cache lacks; returns each video's key and status, and the counts."""
    start = time.perf_counter()
    keys = [extractor.input_key(item) for item in items]
    cached = cache.keys()
    todo = _unique_todo(items, keys, cached)
    status: dict[str, str] = {}
    tick = (lambda n: progress(n, len(todo))) if progress is not None else None
    done = _compute(extractor, todo, cache, status, tick, workers)
    rows = pd.DataFrame({"video_id": [i.video_id for i in items], "key": keys})
    known = rows["key"].isin(cached) | rows["key"].isin(done)
    rows["status"] = np.where(rows["key"].isna(), "no_input", np.where(known, "ok", "error"))
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
        examples=list(status.values())[:3],
    )
    return rows, summary


def extract_snapshot(extractor: Extractor, snapshot: Snapshot, home: Path, features_root: Path, progress: Progress | None = None, workers: int = 2) -> ExtractionSummary:
    """Extracts one extractor over a snapshot and records the result in the snapshot's feature index."""
    extra, used = ([], [])
    if extractor.input == "text":
        extra, used = text_sources(snapshot, features_root, snapshot.frame(columns=["video_id"]))
    items = snapshot_items(snapshot, home, extra)
    cache = FeatureCache(features_root, extractor.name, extractor.cache_key())
    info = {**extractor.describe(), "text_sources": used} if extractor.input == "text" else extractor.describe()
    cache.write_info(info)
    rows, summary = run_extraction(extractor, items, cache, progress, workers)
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


def _compute(extractor: Extractor, todo: list[tuple[str, Item]], cache: FeatureCache, errors: dict[str, str], progress: Callable[[int], None] | None, workers: int) -> set[str]:
    """Prepares inputs in threads (bounded look-ahead), runs the model in batches, writes shards as it goes."""
    done: set[str] = set()
    pending: list[dict[str, Any]] = []
    batch: list[tuple[str, Any]] = []
    size = max(1, extractor.batch_size)
    for key, prepared in _prepared(extractor, todo, workers):
        if isinstance(prepared, Exception):
            errors[key] = _reason(prepared)
            _advance(progress, 1)
            continue
        batch.append((key, prepared))
        if len(batch) >= size:
            pending += _run_batch(extractor, batch, errors, done, progress)
            batch = []
        if len(pending) >= FLUSH_EVERY:
            cache.write(pending)
            pending = []
    pending += _run_batch(extractor, batch, errors, done, progress) if batch else []
    cache.write(pending)
    return done


def _prepared(extractor: Extractor, todo: list[tuple[str, Item]], workers: int) -> Iterator[tuple[str, Any]]:
    """``(key, prepared input or the exception)`` in order, preparing a few ahead in threads (PyAV releases the GIL)."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        ahead: deque[tuple[str, Future]] = deque()
        for key, item in todo:
            ahead.append((key, pool.submit(_prepare_one, extractor, item)))
            if len(ahead) > 2 * max(1, workers) + extractor.batch_size:
                yield _result(*ahead.popleft())
        while ahead:
            yield _result(*ahead.popleft())


def _prepare_one(extractor: Extractor, item: Item) -> Any:
    if extractor.input == "media":
        if not item.media_path.is_file():
            raise MediaError(f"media file not found: {item.media_path}")
        if item.media_sha256 and sha256_of(item.media_path) != item.media_sha256:
            raise MediaError(f"{item.media_path.name} changed since the snapshot (sha256 differs)")
    return extractor.prepare(item)


def _result(key: str, future: Future) -> tuple[str, Any]:
    try:
        return key, future.result()
    except Exception as exc:  # noqa: BLE001 - one broken input must not stop the run
        return key, exc


def _run_batch(extractor: Extractor, batch: list[tuple[str, Any]], errors: dict[str, str], done: set[str], progress: Callable[[int], None] | None) -> list[dict[str, Any]]:
    try:
        outputs = extractor.run([prepared for _, prepared in batch])
    except Exception as exc:  # noqa: BLE001 - recorded per input; the summary shows it
        for key, _ in batch:
            errors[key] = _reason(exc)
        _advance(progress, len(batch))
        return []
    done.update(key for key, _ in batch)
    _advance(progress, len(batch))
    return [{"key": key, **out} for (key, _), out in zip(batch, outputs, strict=True)]


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def _advance(progress: Callable[[int], None] | None, n: int) -> None:
    if progress is not None:
        progress(n)
