"""Crawl 1,000 videos from the sandbox with each backend; how fast, and how much of it is our own code.

Each backend crawls the same sandbox world (rate limit off, no faults) with the
same --random-seed into a fresh SQLite catalog, through the real engine and
catalog sink. Printed per backend: videos/s (wall time of the crawl, browser
start apart), the share of wall time spent outside source calls (our engine,
catalog writes) — target ≤ 10 % — and, inside source calls, the parser's share.
Beside them, measured in the same run:
- "site alone": the same sequence of API requests sent by a plain httpx loop, no
  parsing, no catalog — what the site itself allows;
- "browser per request": the playwright backend started anew for each request
  (on a sample), which is what one browser per crawl saves.
The crawls must all find the same videos and edges (checked).

Run:  .venv/bin/python -m bench crawl   (CRAWL_BENCH_VIDEOS=300 for a quick look)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from db.crawl_state import run_graph
from db.engine import create_catalog_engine
from db.migrate import upgrade
from sandbox import World, serve
from scrapers.crawl import FEED_PAGE, RELATED_PAGE, CrawlParams
from scrapers.politeness import Politeness
from scrapers.runs import crawl_run, start_run

TARGET = int(os.environ.get("CRAWL_BENCH_VIDEOS", "1000"))
BACKENDS = [b for b in os.environ.get("CRAWL_BENCH_BACKENDS", "ytdlp,tiktokapi,playwright,selenium").split(",") if b]
PARAMS = CrawlParams(seed=25, fanout=5, max_videos=TARGET, random_seed=1)
NAIVE_SAMPLE = 8


@dataclass
class Row:
    """One line of the table."""

    name: str
    videos: int
    start_s: float
    wall_s: float
    own_share: float | None
    parse_share: float | None
    requests: int

    @property
    def rate(self) -> float:
        """Videos per second of crawling."""
        return self.videos / self.wall_s


def source_class(name: str) -> type:
    """The backend class named ``name``."""
    from scrapers.backends.playwright import PlaywrightSource
    from scrapers.backends.selenium import SeleniumSource
    from scrapers.backends.tiktokapi import TikTokApiSource
    from scrapers.backends.ytdlp import YtdlpSource

    return {"ytdlp": YtdlpSource, "tiktokapi": TikTokApiSource, "playwright": PlaywrightSource, "selenium": SeleniumSource}[name]


def crawl(name: str, base_url: str, folder: Path) -> tuple[Row, object]:
    """One crawl with one backend into a fresh SQLite catalog; its row and its graph."""
    engine = create_catalog_engine(f"sqlite:///{folder / f'{name}.db'}")
    upgrade(engine)
    record = start_run(engine, name, base_url, PARAMS, {"rate": 0})
    started = time.perf_counter()
    with source_class(name)(base_url=base_url) as source:
        ready = time.perf_counter()
        result = crawl_run(engine, record, source, Politeness(rate=0))
        wall = time.perf_counter() - ready
    stats = result.stats
    own = max(0.0, wall - stats.source_s) / wall
    row = Row(name, result.videos, ready - started, wall, own, stats.parse_s / wall, stats.requests)
    graph = run_graph(engine, record.id)
    engine.dispose()
    return row, graph


def site_alone(base_url: str, graph) -> Row:
    """The crawl's API requests (one feed page, one related list per expanded video) in a plain loop."""
    parents = sorted({p for p, _ in graph.edges})
    urls = [f"{base_url}/api/recommend/item_list/?from_page=fyp&count={FEED_PAGE}&cursor=0"]
    urls += [f"{base_url}/api/related/item_list/?itemID={p}&count={RELATED_PAGE}" for p in parents]
    with httpx.Client() as client:
        start = time.perf_counter()
        for url in urls:
            client.get(url).raise_for_status()
        wall = time.perf_counter() - start
    return Row("site alone (httpx loop, same requests)", len(graph.videos), 0.0, wall, None, None, len(urls))


def browser_per_request(base_url: str, graph, requests_per_crawl: int) -> Row:
    """The playwright backend started for each related request, on a sample, projected to the whole crawl."""
    cls = source_class("playwright")
    parents = sorted({p for p, _ in graph.edges})[:NAIVE_SAMPLE]
    start = time.perf_counter()
    for vid in parents:
        with cls(base_url=base_url) as source:
            source.related(vid, RELATED_PAGE)
    per_request = (time.perf_counter() - start) / len(parents)
    return Row("playwright, a new browser per request (projected)", len(graph.videos), 0.0, per_request * requests_per_crawl, None, None, requests_per_crawl)


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| crawl of the sandbox | videos | start s | crawl s | videos/s | outside source calls | parsing |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        own = f"{100 * r.own_share:.1f} %" if r.own_share is not None else "—"
        parse = f"{100 * r.parse_share:.1f} %" if r.parse_share is not None else "—"
        lines.append(f"| {r.name} | {r.videos:,} | {r.start_s:.1f} | {r.wall_s:.1f} | {r.rate:.1f} | {own} | {parse} |")
    return "\n".join(lines)


def main() -> int:
    """Crawls with every backend, then the alternatives; prints the table."""
    world = World.build(videos=max(3 * TARGET, 600), seed=7)
    rows: list[Row] = []
    graphs = {}
    with tempfile.TemporaryDirectory() as tmp, serve(world) as site:
        for name in BACKENDS:
            row, graphs[name] = crawl(name, site.base_url, Path(tmp))
            rows.append(row)
            print(f"  {name}: {row.videos} videos in {row.wall_s:.1f} s", flush=True)
        reference = next(iter(graphs.values()))
        same = all((g.videos, g.edges) == (reference.videos, reference.edges) for g in graphs.values())
        rows.append(site_alone(site.base_url, reference))
        if "playwright" in graphs:
            rows.append(browser_per_request(site.base_url, reference, next(r.requests for r in rows if r.name == "playwright")))
    print(f"\nworld: {world.spec.videos:,} videos; crawl --seed 25 --fanout 5 --max-videos {TARGET} --random-seed 1, rate limit off\n")
    print(table(rows))
    print(f"\nall backends found the same videos and edges: {same}")
    pw = next((r for r in rows if r.name == "playwright"), None)
    if pw is not None:
        print(f"playwright: {pw.rate:.1f} videos/s (target ≥ 20)")
    worst = max(r.own_share for r in rows if r.own_share is not None)
    print(f"largest share outside source calls: {100 * worst:.1f} % (target ≤ 10 %)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
