"""The local engine against Ray on the same work with the same number of workers: probe, download, per-shard overhead.

A private Ray head is started on loopback (``core.ray_local``, its own temporary
folder) with as many CPUs as the most workers asked for, and stopped at the end.
Each figure stands beside the local engine's on the same files in the same run:

- per-shard overhead: 200 shards of a worker that does nothing, on local processes and on Ray;
- probe: 400 files (hard links to 16 real clips), 1 and 2 workers;
- download: 100 sandbox videos with 100 ms to first byte, 2 and 4 workers;
- extract: 400 distinct small clips through a random VideoMAE (64 px, 8 frames), 1 and 2 workers
  (locally: the model in this process, decoding on threads; on Ray: one batch per task);
- on one Postgres catalog (``bench.scale_postgres``): a crawl with 1 against 3 joined workers at a
  rate limit per session, and downloads by one against two ``curate download`` processes.

Run:  .venv/bin/python -m bench scale   (SCALE_BENCH_PARTS=postgres for the Postgres rows alone;
      the parts: overhead, probe, download, extract, postgres)
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
N_EXTRACT = int(os.environ.get("SCALE_BENCH_EXTRACT", "400"))
N_SHARDS = 200
PARTS = set(os.environ.get("SCALE_BENCH_PARTS", "overhead,probe,download,extract,postgres").split(","))
TTFB = 0.1
CLIPS = Path(tempfile.gettempdir()) / "viralcurate-bench-scale-clips-v1"


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


def small_clips(n: int) -> list[Path]:
    """``n`` distinct 1-second clips (each its own bytes, so each its own cache key), made once."""
    import subprocess

    CLIPS.mkdir(exist_ok=True)
    paths = []
    for i in range(n):
        path = CLIPS / f"{i:04d}.mp4"
        if not path.exists():
            source = f"testsrc2=size=96x96:rate=12:duration=1,hue=h={i % 360}"
            tmp = path.with_suffix(".tmp.mp4")
            subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "ultrafast",
                            "-pix_fmt", "yuv420p", "-metadata", f"comment={i}", str(tmp)], check=True)
            tmp.replace(path)
        paths.append(path)
    return paths


def extract(address: str, folder: Path) -> list[tuple[str, str, str]]:
    """Inputs per second through a random VideoMAE on each engine, 1 and 2 workers, from an empty cache each time."""
    import hashlib

    from transformers import VideoMAEConfig, VideoMAEImageProcessor, VideoMAEModel

    from core.distribute import EngineSettings
    from modeling.cache import FeatureCache
    from modeling.distributed import ExtractorSpec, Placement
    from modeling.extraction import run_extraction
    from modeling.extractors import Item, open_extractor

    model = folder / "videomae"
    config = VideoMAEConfig(image_size=64, patch_size=16, num_frames=8, tubelet_size=2, hidden_size=64, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=128)
    VideoMAEModel(config).save_pretrained(model)
    VideoMAEImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}).save_pretrained(model)
    items = [Item(str(i), p, hashlib.sha256(p.read_bytes()).hexdigest()) for i, p in enumerate(small_clips(N_EXTRACT))]
    spec = ExtractorSpec("videomae", str(model))
    extractor = open_extractor(spec.name, spec.model)
    rows, reference = [], None
    for workers in (1, 2):
        for engine in ("local", "ray"):
            cache = FeatureCache(folder / f"features-{engine}-{workers}", extractor.name, extractor.cache_key())
            placement = Placement(EngineSettings(engine, workers, address if engine == "ray" else None), spec)
            start = time.perf_counter()
            index, summary = run_extraction(extractor, items, cache, workers=workers, placement=placement)
            elapsed = time.perf_counter() - start
            assert summary.ok == len(items), summary
            reference = reference if reference is not None else index
            assert index.equals(reference), "the engines disagree on the index"
            rows.append((f"extract {len(items)} clips (random VideoMAE), {workers} worker{'s' * (workers > 1)}", engine,
                         f"{elapsed:.2f} s ({len(items) / elapsed:.0f} clips/s)"))
    return rows


def main() -> int:
    """Starts the cluster, measures, prints the table, stops the cluster."""
    from core.ray_local import start_cluster

    from bench.scale_postgres import crawl_rows, download_rows, postgres

    os.environ["RAY_AUTH_MODE"] = "disabled"
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if PARTS & {"overhead", "probe", "download", "extract"}:
            cluster = start_cluster(num_cpus=4)
            try:
                for name, part in (("overhead", overhead), ("probe", probe), ("download", download), ("extract", extract)):
                    if name in PARTS:
                        rows += part(cluster.address) if name == "overhead" else part(cluster.address, Path(tmp))
            finally:
                import ray

                ray.shutdown()
                cluster.stop()
        if "postgres" in PARTS:
            with postgres() as new_database:
                rows += crawl_rows(new_database, Path(tmp))
                rows += download_rows(new_database, Path(tmp))
    print(f"\nmachine: {len(os.sched_getaffinity(0))} CPUs, load average {os.getloadavg()[0]:.1f}; Ray head on loopback with 4 CPUs\n")
    print("| work | engine | figure |\n|---|---|---|")
    for work, engine, figure in rows:
        print(f"| {work} | {engine} | {figure} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
