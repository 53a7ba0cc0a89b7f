"""The local engine against Ray on the same work with the same number of workers: probe, download, per-shard overhead.

A private Ray head is started on loopback (``core.ray_local``, its own temporary
folder) with as many CPUs as the most workers asked for, and stopped at the end.
Each figure stands beside the local engine's on the same files in the same run:

- per-shard overhead: 200 shards of a worker that does nothing, on local processes and on Ray;
- probe: 400 files (hard links to 16 real clips), 1 and 2 workers;
- download: 100 sandbox videos with 100 ms to first byte, 2 and 4 workers.

Run:  .venv/bin/python -m bench scale
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

N_PROBE = int(os.environ.get("SCALE_BENCH_PROBE", "400"))
N_DOWNLOAD = int(os.environ.get("SCALE_BENCH_DOWNLOAD", "100"))
N_SHARDS = 200
TTFB = 0.1


class Nothing:
    """A worker that returns its unit: what a shard costs with no work in it."""

    def __call__(self, unit: int) -> int:
        return unit


def overhead(address: str) -> list[tuple[str, str, str]]:
    """Milliseconds per shard of nothing, local processes and Ray, 2 workers."""
    from core.distribute_process import ProcessDistributor
    from core.distribute_ray import RayDistributor

    rows = []
    for name, distributor in (("local processes", ProcessDistributor(2, shard_size=1)), ("ray", RayDistributor(address, 2, shard_size=1))):
        list(distributor.map_unordered(Nothing(), range(8)))  # warm: processes started, the driver connected
        start = time.perf_counter()
        done = list(distributor.map_unordered(Nothing(), range(N_SHARDS)))
        elapsed = time.perf_counter() - start
        assert len(done) == N_SHARDS and all(d.ok for d in done)
        rows.append((f"{N_SHARDS} empty shards, 2 workers", name, f"{1000 * elapsed / N_SHARDS:.2f} ms per shard"))
    return rows


def probe(address: str, folder: Path) -> list[tuple[str, str, str]]:
    """Files per second probing the same files on each engine with 1 and 2 workers."""
    from bench.probe_bench import sources
    from core.distribute import EngineSettings
    from curation.distributor import probe_many

    clips = sources()
    paths = {}
    for i in range(N_PROBE):
        path = folder / f"{i}{clips[i % len(clips)].suffix}"
        os.link(clips[i % len(clips)], path)
        paths[str(i)] = str(path)
    rows, reference = [], None
    for workers in (1, 2):
        for engine in ("local", "ray"):
            settings = EngineSettings(engine, workers, address if engine == "ray" else None, 16)
            start = time.perf_counter()
            results = dict(probe_many(paths, workers=workers, settings=settings))
            elapsed = time.perf_counter() - start
            facts = {k: r.to_dict() for k, r in results.items()}
            reference = reference or facts
            assert facts == reference, "the engines disagree on a file's facts"
            rows.append((f"probe {N_PROBE} files, {workers} worker{'s' * (workers > 1)}", engine, f"{elapsed:.2f} s ({N_PROBE / elapsed:.0f} files/s)"))
    return rows


def download(address: str, folder: Path) -> list[tuple[str, str, str]]:
    """Seconds to download the same videos with a 100 ms time to first byte, per engine and worker count."""
    from sandbox import World, serve

    world = World.build(videos=max(4 * N_DOWNLOAD, 400), seed=7)
    v = world.videos
    ids = v[(v.visibility == "public") & (v.media_kind == "ok")].video_id[:N_DOWNLOAD].tolist()
    for vid in ids:
        world.media_bytes(vid)
    rows = []
    with serve(world, faults="slow:1.0", slow_s=TTFB) as site:
        for workers in (2, 4):
            for engine in ("local", "ray"):
                elapsed, stored = _download_once(world, ids, site.base_url, folder / f"{engine}-{workers}", engine, workers, address)
                assert stored == len(ids), f"{engine} stored {stored} of {len(ids)}"
                rows.append((f"download {len(ids)} videos, {1000 * TTFB:.0f} ms TTFB, {workers} workers", engine, f"{elapsed:.2f} s ({len(ids) / elapsed:.1f} videos/s)"))
    return rows


def _download_once(world: Any, ids: list[str], base_url: str, home: Path, engine: str, workers: int, address: str) -> tuple[float, int]:
    from db.crawl_state import commit_steps
    from db.engine import create_catalog_engine
    from db.migrate import upgrade
    from scrapers.crawl import CrawlParams
    from scrapers.download import DownloadOptions, download_media
    from scrapers.parse import parse_item
    from scrapers.runs import start_run

    catalog = create_catalog_engine(f"sqlite:///{home / 'catalog.db'}")
    upgrade(catalog)
    run = start_run(catalog, "bench", base_url, CrawlParams(seed=1, max_videos=len(ids)), {})
    items = [parse_item(world.item_struct(vid, base_url)) for vid in ids]
    members = [{"video_id": vid, "seq": i, "depth": 0, "parent_id": None} for i, vid in enumerate(ids)]
    commit_steps(catalog, run.id, items=items, members=members, edges=[], expanded=[], state={}, stats={})
    options = DownloadOptions(workers=workers, engine=engine, ray_address=address if engine == "ray" else None)
    start = time.perf_counter()
    summary = download_media(catalog, home, options)
    elapsed = time.perf_counter() - start
    catalog.dispose()
    return elapsed, summary.downloaded


def main() -> int:
    """Starts the cluster, measures, prints the table, stops the cluster."""
    from core.ray_local import start_cluster

    os.environ["RAY_AUTH_MODE"] = "disabled"
    cluster = start_cluster(num_cpus=4)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = overhead(cluster.address)
            rows += probe(cluster.address, Path(tmp))
            rows += download(cluster.address, Path(tmp))
    finally:
        import ray

        ray.shutdown()
        cluster.stop()
    print(f"\nmachine: {len(os.sched_getaffinity(0))} CPUs; Ray head on loopback with 4 CPUs\n")
    print("| work | engine | figure |\n|---|---|---|")
    for work, engine, figure in rows:
        print(f"| {work} | {engine} | {figure} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
