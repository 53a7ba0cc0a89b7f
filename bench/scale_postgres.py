"""The scale benchmark's rows on one Postgres catalog: joined crawl workers, two ``curate download`` processes.

- crawl: the sandbox at a rate limit per session (``--rate``, each worker its own
  session), one worker against three (one that starts the run, two that join it),
  each worker in its own thread with its own backend session and catalog engine; and
  beside them one worker on SQLite, where a run is never shared (no claims, batched
  writes) — at that rate and with no rate limit: what sharing costs one worker;
- download: the sandbox with 100 ms to first byte, one ``curate download`` process
  with 1, 2 and 4 workers against two such processes side by side on the same
  catalog and media folder (each video claimed once), from an empty media folder each time.

The Postgres server is a throw-away one on loopback (``tests.pg``), or the one named by
``SCALE_BENCH_PG`` (a server URL such as ``postgresql+psycopg://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

N_CRAWL = int(os.environ.get("SCALE_BENCH_CRAWL", "150"))
CRAWL_RATE = float(os.environ.get("SCALE_BENCH_CRAWL_RATE", "4"))
N_DOWNLOAD_PG = int(os.environ.get("SCALE_BENCH_DOWNLOAD_PG", "60"))
TTFB = 0.1
CURATE = str(Path(sys.executable).with_name("curate"))


@contextmanager
def postgres() -> Iterator[Any]:
    """A function ``new_database(name) -> url`` on a throw-away server (or SCALE_BENCH_PG's)."""
    given = os.environ.get("SCALE_BENCH_PG")
    if given:
        yield lambda name: _create(given, name)
        return
    from tests.pg import start_server

    server = start_server()
    try:
        yield server.create_database
    finally:
        server.stop()


def _create(server_url: str, name: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(f"{server_url.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server_url.rstrip('/')}/{name}"


def crawl_rows(new_database: Any, folder: Path) -> list[tuple[str, str, str]]:
    """Videos per second of one crawl worker (SQLite, Postgres) and of three on one Postgres run."""
    from sandbox import World, serve

    world = World.build(videos=max(4 * N_CRAWL, 600), seed=5)
    rows = []
    with serve(world) as site:
        for label, url, workers, rate in (
            ("1 worker, SQLite (a run is never shared)", f"sqlite:///{folder / 'crawl.db'}", 1, CRAWL_RATE),
            ("1 worker, Postgres", new_database("bench_crawl_1"), 1, CRAWL_RATE),
            ("3 workers (1 + 2 joined), Postgres", new_database("bench_crawl_3"), 3, CRAWL_RATE),
            ("1 worker, SQLite (a run is never shared)", f"sqlite:///{folder / 'crawl0.db'}", 1, 0.0),
            ("1 worker, Postgres", new_database("bench_crawl_1_free"), 1, 0.0),
        ):
            elapsed, videos = _crawl(url, site.base_url, workers, rate)
            assert videos == N_CRAWL, f"{label}: {videos} videos, not {N_CRAWL}"
            limit = f"{rate:g} requests/s per session" if rate else "no rate limit (what sharing costs one worker)"
            rows.append((f"crawl {N_CRAWL} videos, sandbox at {limit}", label, f"{elapsed:.2f} s ({videos / elapsed:.1f} videos/s)"))
    return rows


def _crawl(url: str, base_url: str, workers: int, rate: float) -> tuple[float, int]:
    from db.crawl_state import run_summary
    from db.engine import create_catalog_engine
    from db.migrate import upgrade
    from scrapers.backends.ytdlp import YtdlpSource
    from scrapers.crawl import CrawlParams
    from scrapers.politeness import Politeness
    from scrapers.runs import crawl_run, open_join, start_run
    from scrapers.source import SourceSecrets

    engines = [create_catalog_engine(url) for _ in range(workers)]
    upgrade(engines[0])
    record = start_run(engines[0], "ytdlp", base_url, CrawlParams(seed=10, fanout=4, max_videos=N_CRAWL, random_seed=1), {})
    polite = Politeness(rate=rate)
    results: list[Any] = []

    def work(n: int) -> None:
        with YtdlpSource(base_url=base_url, secrets=SourceSecrets(), timeout=30) as source:
            run = open_join(engines[n], record.id, {}) if n else record
            results.append(crawl_run(engines[n], run, source, polite, join=bool(n)))

    start = time.perf_counter()
    # all at once: a joined worker waits for the first one to seed the run
    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    assert all(r.status == "finished" for r in results), [(r.status, r.stop_reason) for r in results]
    videos = run_summary(engines[0], record.id)["videos"]
    for engine in engines:
        engine.dispose()
    return elapsed, videos


def download_rows(new_database: Any, folder: Path) -> list[tuple[str, str, str]]:
    """Seconds to download the same videos (100 ms TTFB): one process against two, 1, 2 and 4 workers each."""
    from sandbox import World, serve

    world = World.build(videos=max(4 * N_DOWNLOAD_PG, 400), seed=7)
    v = world.videos
    ids = v[(v.visibility == "public") & (v.media_kind == "ok")].video_id[:N_DOWNLOAD_PG].tolist()
    for vid in ids:
        world.media_bytes(vid)
    rows = []
    with serve(world, faults="slow:1.0", slow_s=TTFB) as site:
        for workers in (1, 2, 4):
            for processes in (1, 2):
                home = folder / f"dl-{workers}-{processes}"
                url = _catalog_of(new_database(f"bench_dl_{workers}_{processes}"), world, ids, site.base_url)
                elapsed, stored = _download_processes(url, home, workers, processes)
                assert stored == len(ids), f"{processes} processes stored {stored} of {len(ids)}"
                work = f"download {len(ids)} videos, {1000 * TTFB:.0f} ms TTFB, {workers} worker{'s' * (workers > 1)} per process, Postgres"
                label = "2 `curate download` processes" if processes == 2 else "1 `curate download` process"
                rows.append((work, label, f"{elapsed:.2f} s ({len(ids) / elapsed:.1f} videos/s)"))
    return rows


def _catalog_of(url: str, world: Any, ids: list[str], base_url: str) -> str:
    from db.crawl_state import commit_steps
    from db.engine import create_catalog_engine
    from db.migrate import upgrade
    from scrapers.crawl import CrawlParams
    from scrapers.parse import parse_item
    from scrapers.runs import start_run

    catalog = create_catalog_engine(url)
    upgrade(catalog)
    run = start_run(catalog, "bench", base_url, CrawlParams(seed=1, max_videos=len(ids)), {})
    items = [parse_item(world.item_struct(vid, base_url)) for vid in ids]
    members = [{"video_id": vid, "seq": i, "depth": 0, "parent_id": None} for i, vid in enumerate(ids)]
    commit_steps(catalog, run.id, items=items, members=members, edges=[], expanded=[], state={}, stats={})
    catalog.dispose()
    return url


def _download_processes(url: str, home: Path, workers: int, processes: int) -> tuple[float, int]:
    """Wall time of ``processes`` ``curate download`` commands started together; videos they stored between them."""
    env = {**os.environ, "CURATE_HOME": str(home), "CURATE_DB_URL": url}
    home.mkdir(parents=True)
    start = time.perf_counter()
    children = [subprocess.Popen([CURATE, "download", "--workers", str(workers), "--json"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True) for _ in range(processes)]
    outs = [json.loads(child.communicate()[0]) for child in children]
    elapsed = time.perf_counter() - start
    return elapsed, sum(o["downloaded"] for o in outs)
