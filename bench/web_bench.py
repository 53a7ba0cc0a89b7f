"""`curate serve` on a 100,000-video SQLite catalog beside Datasette serving the same file, in the same run.

Two pages, asked over loopback after a warm-up, ours and Datasette's alternating request by request (so
that both meet the same machine load), timed end to end (HTTP included):

- the video list with one facet chosen (``verdict=rejected``): ours counts eight facets in SQL and renders
  50 rows; Datasette's table page for the same filter, 50 rows, with facets on ``verdict`` and ``category``;
- one video's page: ours (video, observations, probe facts, crawl, labels); Datasette's row page.

Run:  .venv/bin/python -m bench web
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.snapshot_bench import N_VIDEOS, fill
from curate.demo import free_port
from db.engine import create_catalog_engine
from db.migrate import upgrade

REQUESTS, WARMUP = 60, 5
ROOT = Path(__file__).resolve().parents[1]


def prepare(home: Path) -> Path:
    """The catalog: snapshot_bench's 100,000 videos plus reasons, categories and a crawl of a third of them."""
    db = home / "catalog.db"
    engine = create_catalog_engine(f"sqlite:///{db}")
    upgrade(engine)
    fill(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE video SET verdict_reasons = '[\"too_short\"]' WHERE verdict = 'rejected'"))
        conn.execute(sa.text("UPDATE video SET verdict_reasons = '[]' WHERE verdict = 'kept'"))
        conn.execute(sa.text("UPDATE video SET category = 'category' || (CAST(id AS INTEGER) % 13)"))
        conn.execute(sa.text("INSERT INTO crawl_run (id, started_at, status, source) VALUES (1, '2025-01-01', 'finished', 'bench')"))
        conn.execute(sa.text("INSERT INTO crawl_item (run_id, video_id, seq, depth) "
                             "SELECT 1, id, CAST(id AS INTEGER) - 7000000000, (CAST(id AS INTEGER) % 5) FROM video WHERE CAST(id AS INTEGER) % 3 = 0"))
    engine.dispose()
    return db


def start(command: list[str], url: str, log: Path) -> subprocess.Popen:
    """Starts a server and waits until ``url`` answers."""
    import httpx

    process = subprocess.Popen(command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited {process.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{url} did not answer within 120 s")


def _ms(client, url: str) -> float:
    start_t = time.perf_counter()
    answer = client.get(url)
    elapsed = (time.perf_counter() - start_t) * 1000
    answer.raise_for_status()
    return elapsed


def timed(client, ours: list[str], theirs: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(median, p95) milliseconds of each side; requests alternate, so that both meet the same machine load."""
    for url in (*ours[:WARMUP], *theirs[:WARMUP]):
        client.get(url).raise_for_status()
    a, b = [], []
    for mine, other in zip(ours, theirs, strict=True):
        a.append(_ms(client, mine))
        b.append(_ms(client, other))
    return _stats(a), _stats(b)


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    import httpx

    with tempfile.TemporaryDirectory(prefix="web-bench-") as folder:
        home = Path(folder)
        t0 = time.perf_counter()
        db = prepare(home)
        print(f"catalog: {N_VIDEOS:,} videos in {time.perf_counter() - t0:.0f} s ({db.stat().st_size / 2**20:.0f} MiB)")
        ours_port, their_port = free_port(), free_port()
        ours = start([sys.executable, "-m", "curate.cli", "--home", str(home), "--db", f"sqlite:///{db}", "serve", "--port", str(ours_port)],
                     f"http://127.0.0.1:{ours_port}/snapshots", home / "ours.log")
        datasette = Path(sys.executable).with_name("datasette")
        theirs = start([str(datasette), "serve", str(db), "--host", "127.0.0.1", "--port", str(their_port),
                        "--setting", "sql_time_limit_ms", "60000", "--setting", "facet_time_limit_ms", "60000"],
                       f"http://127.0.0.1:{their_port}/-/versions.json", home / "datasette.log")
        try:
            rows(ours_port, their_port, httpx)
        finally:
            for process in (ours, theirs):
                process.terminate()
                process.wait(timeout=20)


def rows(ours_port: int, their_port: int, httpx) -> None:
    rng = random.Random(0)
    ids = [str(7_000_000_000 + rng.randrange(N_VIDEOS)) for _ in range(REQUESTS)]
    pages = [rng.randrange(1, 20) for _ in range(REQUESTS)]
    cases = {
        "video list, verdict=rejected": (
            [f"http://127.0.0.1:{ours_port}/videos?verdict=rejected&page={p}" for p in pages],
            [f"http://127.0.0.1:{their_port}/catalog/video?verdict=rejected&_size=50&_facet=verdict&_facet=category&_next={(p - 1) * 50}" for p in pages],
        ),
        "one video's page": (
            [f"http://127.0.0.1:{ours_port}/videos/{i}" for i in ids],
            [f"http://127.0.0.1:{their_port}/catalog/video/{i}" for i in ids],
        ),
    }
    print(f"\n{REQUESTS} sequential requests each over loopback, {os.cpu_count()} CPUs; milliseconds\n")
    print("| page | curate serve median | p95 | datasette median | p95 | ratio (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    with httpx.Client(timeout=120) as client:
        for name, (ours, theirs) in cases.items():
            a, b = timed(client, ours, theirs)
            print(f"| {name} | {a[0]:.0f} | {a[1]:.0f} | {b[0]:.0f} | {b[1]:.0f} | {a[0] / b[0]:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
