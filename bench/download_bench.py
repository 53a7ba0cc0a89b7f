"""Download 200 sandbox videos with ``download_media`` (4 workers) against a plain sequential httpx loop.

Both fetch the same 200 media URLs from the sandbox and write the files to disk;
ours also goes through yt-dlp, checks each file with PyAV (demuxing every packet),
hashes it, renames it into media/ and records it in a SQLite catalog. Two network
conditions, measured in the same run: the bare loopback (no latency at all, where
only per-file overhead counts) and a 100 ms time-to-first-byte per file (the
sandbox's ``slow`` fault on every media request), closer to a CDN over the
internet. Target: ≥ 2.5× the sequential loop.

Run:  .venv/bin/python -m bench download
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from typing import Any

# download workers are processes that import this module as their __main__: heavy imports stay inside functions

FILES = int(os.environ.get("DOWNLOAD_BENCH_FILES", "200"))
WORKERS = 4
LATENCIES = (0.0, 0.1)


@dataclass
class Row:
    """One network condition: the loop's time and ours."""

    latency: float
    loop_s: float
    ours_s: float
    ours_1_s: float
    downloaded: int


def videos(world: Any) -> list[str]:
    """FILES public videos with intact media, their files made now (not while timing)."""
    v = world.videos
    ids = v[(v.visibility == "public") & (v.media_kind == "ok")].video_id[:FILES].tolist()
    start = time.perf_counter()
    for vid in ids:
        world.media_bytes(vid)
    print(f"  media ready for {len(ids)} videos in {time.perf_counter() - start:.1f} s (cached between runs)", flush=True)
    return ids


def httpx_loop(urls: list[str], folder: Path) -> float:
    """Seconds a plain sequential httpx loop takes to fetch and write the files."""
    import httpx

    folder.mkdir(parents=True)
    start = time.perf_counter()
    with httpx.Client(timeout=60) as client:
        for i, url in enumerate(urls):
            response = client.get(url)
            response.raise_for_status()
            (folder / f"{i}.mp4").write_bytes(response.content)
    return time.perf_counter() - start


def ours(world: Any, ids: list[str], base_url: str, home: Path, workers: int) -> tuple[float, int]:
    """Seconds ``download_media`` takes for the same videos, catalogued as a crawl of the site would; files stored."""
    from db.crawl_state import commit_steps
    from db.engine import create_catalog_engine
    from db.migrate import upgrade
    from scrapers.crawl import CrawlParams
    from scrapers.download import DownloadOptions, download_media
    from scrapers.parse import parse_item
    from scrapers.runs import start_run

    engine = create_catalog_engine(f"sqlite:///{home / 'catalog.db'}")
    upgrade(engine)
    record = start_run(engine, "bench", base_url, CrawlParams(seed=1, max_videos=len(ids)), {})
    items = [parse_item(world.item_struct(vid, base_url)) for vid in ids]
    members = [{"video_id": vid, "seq": i, "depth": 0, "parent_id": None} for i, vid in enumerate(ids)]
    commit_steps(engine, record.id, items=items, members=members, edges=[], expanded=[], state={}, stats={})
    start = time.perf_counter()
    summary = download_media(engine, home, DownloadOptions(workers=workers))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, summary.downloaded


def measure(world: Any, ids: list[str], latency: float, tmp: Path) -> Row:
    """Both ways over a site whose media answer after ``latency`` seconds."""
    from sandbox import serve

    faults = "slow:1.0" if latency else None
    with serve(world, faults=faults, slow_s=latency) as site:
        urls = [site.media_url(vid) for vid in ids]
        loop_s = httpx_loop(urls, tmp / f"loop-{latency}")
        ours_s, downloaded = ours(world, ids, site.base_url, tmp / f"ours-{latency}", WORKERS)
        ours_1_s, _ = ours(world, ids, site.base_url, tmp / f"ours1-{latency}", 1)
    return Row(latency, loop_s, ours_s, ours_1_s, downloaded)


def table(rows: list[Row], n: int) -> str:
    """The rows as a Markdown table."""
    lines = [
        f"| {n} files, time to first byte | httpx loop, sequential | download_media, 1 worker | download_media, {WORKERS} workers | {WORKERS} workers ÷ loop |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {1000 * r.latency:.0f} ms | {r.loop_s:.2f} s ({n / r.loop_s:.0f} files/s) | {r.ours_1_s:.2f} s ({n / r.ours_1_s:.0f} files/s)"
            f" | {r.ours_s:.2f} s ({n / r.ours_s:.0f} files/s) | {r.loop_s / r.ours_s:.2f}× |"
        )
    return "\n".join(lines)


def main() -> int:
    """Measures both network conditions and prints the table."""
    from sandbox import World

    world = World.build(videos=max(4 * FILES, 400), seed=7)
    ids = videos(world)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(world, ids, latency, Path(tmp)) for latency in LATENCIES]
    print()
    print(table(rows, len(ids)))
    complete = all(r.downloaded == len(ids) for r in rows)
    print(f"\nevery file stored and checked: {complete}")
    print(f"with {1000 * LATENCIES[-1]:.0f} ms to first byte: {rows[-1].loop_s / rows[-1].ours_s:.2f}× the sequential loop (target ≥ 2.5×)")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
