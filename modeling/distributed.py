"""How extraction is distributed: the workers the distributor (:mod:`core.distribute`) runs, and the claims protocol.

On the local engine the model stays in this process and threads prepare its inputs
(:class:`PrepareWorker`: PyAV releases the GIL); on Ray each task takes a batch of
inputs and runs prepare *and* model (:class:`BatchWorker`), opening the extractor on
the node from an :class:`ExtractorSpec` — so weights are loaded once per Ray worker,
from a path every node sees (or a hub id), and never pickled.

:class:`WorkClaims` is what a caller (``curate extract``) may pass so that several
processes or machines on one catalog extract each input once; modeling itself never
reads the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.distribute import EngineSettings, ThreadDistributor, make_distributor, shards
from modeling.extractors.base import Extractor, Item
from modeling.media import MediaError, sha256_of


class WorkClaims(Protocol):
    """Claims of one extraction's inputs (keys) for one worker; ``db.claims.CatalogClaims`` is one."""

    def claim(self, keys: Sequence[str]) -> list[str]:
        """The keys this worker may compute (no one else holds them, they are not done)."""
        ...

    def finish(self, results: Mapping[str, str | None]) -> None:
        """Marks keys done (None) or failed (the reason)."""
        ...

    def release(self) -> int:
        """Lets go of unfinished claims."""
        ...

    def forget_done(self, keys: Sequence[str]) -> int:
        """Forgets that keys were done (the cache that held them is gone), so they are computed again."""
        ...

    def errors(self, keys: Sequence[str]) -> dict[str, str]:
        """Recorded failures of keys, by any worker."""
        ...

    def held_elsewhere(self, keys: Sequence[str]) -> set[str]:
        """Keys another live worker is computing now."""
        ...


@dataclass(frozen=True)
class ExtractorSpec:
    """What opens an extractor on another machine: its name, weights, device and options (picklable)."""

    name: str
    model: str | None = None
    device: str = "cpu"
    options: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int | None = None
    translator: str | None = None
    memo: Path | None = None

    def open(self) -> Extractor:
        """Loads the extractor here (weights resolved and fingerprinted here)."""
        from modeling.extractors import open_extractor

        return open_extractor(self.name, self.model, self.device, dict(self.options), self.batch_size, self.translator, self.memo)


def check_input(extractor: Extractor, item: Item) -> None:
    """Refuses a media input whose file is missing or whose bytes changed since the snapshot."""
    if extractor.input == "media":
        if item.media_path is None or not item.media_path.is_file():
            raise MediaError(f"media file not found: {item.media_path}")
        if item.media_sha256 and sha256_of(item.media_path) != item.media_sha256:
            raise MediaError(f"{item.media_path.name} changed since the snapshot (sha256 differs)")


@dataclass
class PrepareWorker:
    """Prepares one ``(key, item)`` for the model in this process (the local engine's worker, on threads)."""

    extractor: Extractor

    def __call__(self, unit: tuple[str, Item]) -> Any:
        check_input(self.extractor, unit[1])
        return self.extractor.prepare(unit[1])


def reason(exc: BaseException) -> str:
    """An exception as the one-line reason stored for its input."""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


class BatchWorker:
    """Prepares and runs one batch of ``(key, item)`` on a Ray node: one row per input, ``error`` for a failed one."""

    def __init__(self, spec: ExtractorSpec, cache_key: str) -> None:
        self.spec, self.cache_key = spec, cache_key
        self._extractor: Extractor | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "cache_key": self.cache_key, "_extractor": None}

    def _opened(self) -> Extractor:
        if self._extractor is None:
            extractor = self.spec.open()
            if extractor.cache_key() != self.cache_key:
                raise MediaError(f"the weights on this node differ from the driver's (cache key {extractor.cache_key()} ≠ {self.cache_key})")
            self._extractor = extractor
        return self._extractor

    def __call__(self, batch: list[tuple[str, Item]]) -> list[dict[str, Any]]:
        extractor = self._opened()
        rows: list[dict[str, Any]] = []
        ready: list[tuple[str, Any]] = []
        for key, item in batch:
            try:
                check_input(extractor, item)
                ready.append((key, extractor.prepare(item)))
            except Exception as exc:  # noqa: BLE001 - one broken input is a row with its reason
                rows.append({"key": key, "error": reason(exc)})
        if ready:
            try:
                outputs = extractor.run([prepared for _, prepared in ready])
                rows += [{"key": key, **out} for (key, _), out in zip(ready, outputs, strict=True)]
            except Exception as exc:  # noqa: BLE001 - recorded per input; the summary shows it
                rows += [{"key": key, "error": reason(exc)} for key, _ in ready]
        return rows


# --- the computation, wherever it runs -------------------------------------------------------------------

#: results per cache shard
FLUSH_EVERY = 256
#: inputs claimed per round trip to the catalog
CLAIM_CHUNK = 64
PENDING = "pending: another worker is extracting it now"


@dataclass(frozen=True)
class Placement:
    """Where an extraction runs: the engine settings, the spec that opens the extractor on a Ray node, the claims."""

    engine: EngineSettings = field(default_factory=EngineSettings)
    spec: ExtractorSpec | None = None
    claims: WorkClaims | None = None


def compute(extractor: Extractor, todo: list[tuple[str, Item]], cache: Any, errors: dict[str, str],
            progress: Callable[[int], None] | None, workers: int, placement: Placement) -> set[str]:
    """Computes ``todo`` (claimed first, when there are claims) where the placement says; returns the keys stored.

    Results go into cache shards as they come; a claim is marked done once its shard is on disk.
    """
    writer = _Writer(cache, placement.claims, errors)
    if placement.claims is not None:
        placement.claims.forget_done([key for key, _ in todo])  # done elsewhere, yet not in this cache
    units = claimed(todo, placement.claims, progress)
    try:
        if placement.engine.engine == "ray":
            _on_ray(extractor, units, writer, progress, placement)
        else:
            _here(extractor, units, writer, progress, workers)
        writer.flush()
    finally:
        if placement.claims is not None:
            placement.claims.release()
    return writer.done


def claimed(todo: list[tuple[str, Item]], claims: WorkClaims | None, progress: Callable[[int], None] | None) -> Iterator[tuple[str, Item]]:
    """The inputs this worker computes: all, or those it claims, a chunk at a time as they are pulled."""
    if claims is None:
        yield from todo
        return
    for start in range(0, len(todo), CLAIM_CHUNK):
        chunk = dict(todo[start : start + CLAIM_CHUNK])
        granted = claims.claim(list(chunk))
        advance(progress, len(chunk) - len(granted))
        yield from ((key, chunk[key]) for key in granted)


def from_others(claims: WorkClaims, keys: list[str]) -> dict[str, str]:
    """What became of inputs other workers took: their recorded failure, or pending while one still works."""
    if not keys:
        return {}
    status = claims.errors(keys)
    status.update(dict.fromkeys(claims.held_elsewhere([k for k in keys if k not in status]), PENDING))
    return status


def _here(extractor: Extractor, units: Iterable[tuple[str, Item]], writer: _Writer, progress: Callable[[int], None] | None, workers: int) -> None:
    """Threads prepare inputs a few ahead (PyAV releases the GIL); the model runs in this process, in batches."""
    size = max(1, extractor.batch_size)
    prepare = ThreadDistributor(max(1, workers), ahead=2 * max(1, workers) + size)
    batch: list[tuple[str, Any]] = []
    for done in prepare.map_unordered(PrepareWorker(extractor), units):
        if not done.ok:
            writer.failed(done.unit[0], done.error or "error")
            advance(progress, 1)
            continue
        batch.append((done.unit[0], done.result))
        if len(batch) >= size:
            writer.add(_run_batch(extractor, batch, writer, progress))
            batch = []
    if batch:
        writer.add(_run_batch(extractor, batch, writer, progress))


def _run_batch(extractor: Extractor, batch: list[tuple[str, Any]], writer: _Writer, progress: Callable[[int], None] | None) -> list[dict[str, Any]]:
    try:
        outputs = extractor.run([prepared for _, prepared in batch])
    except Exception as exc:  # noqa: BLE001 - recorded per input; the summary shows it
        for key, _ in batch:
            writer.failed(key, reason(exc))
        advance(progress, len(batch))
        return []
    advance(progress, len(batch))
    return [{"key": key, **out} for (key, _), out in zip(batch, outputs, strict=True)]


def _on_ray(extractor: Extractor, units: Iterable[tuple[str, Item]], writer: _Writer, progress: Callable[[int], None] | None, placement: Placement) -> None:
    """Each Ray task prepares and runs one batch (a shard) on its node; rows are written as tasks finish."""
    if placement.spec is None:
        raise ValueError("extraction on Ray needs the ExtractorSpec that opens the extractor on the nodes")
    settings = placement.engine
    distributor = make_distributor(EngineSettings("ray", settings.workers, settings.ray_address, 1))
    worker = BatchWorker(placement.spec, extractor.cache_key())
    for done in distributor.map_unordered(worker, shards(units, settings.shard_size or max(1, extractor.batch_size))):
        rows = done.result if done.ok else [{"key": key, "error": done.error} for key, _ in done.unit]
        for row in rows:
            if row.get("error") is not None:
                writer.failed(row["key"], row["error"])
        writer.add([row for row in rows if row.get("error") is None])
        advance(progress, len(rows))


class _Writer:
    """Results into cache shards of FLUSH_EVERY rows; failures and finished claims recorded as they come."""

    def __init__(self, cache: Any, claims: WorkClaims | None, errors: dict[str, str]) -> None:
        self.cache, self.claims, self.errors = cache, claims, errors
        self.pending: list[dict[str, Any]] = []
        self.done: set[str] = set()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.pending += [{k: v for k, v in row.items() if k != "error"} for row in rows]
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def failed(self, key: str, why: str) -> None:
        self.errors[key] = why
        if self.claims is not None:
            self.claims.finish({key: why})

    def flush(self) -> None:
        if not self.pending:
            return
        self.cache.write(self.pending)
        keys = [row["key"] for row in self.pending]
        self.done.update(keys)
        if self.claims is not None:
            self.claims.finish(dict.fromkeys(keys))
        self.pending = []


def advance(progress: Callable[[int], None] | None, n: int) -> None:
    """Moves the progress bar, when there is one."""
    if progress is not None and n:
        progress(n)
