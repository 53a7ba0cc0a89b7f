"""Crawl 1,000 videos from the sandbox with each backend; how fast, and how much of it is our own code.

Each backend crawls the same sandbox world (rate limit off, no faults) with the
same --random-seed into a fresh SQLite catalog, through the real engine and
catalog sink. Printed per backend: videos/s (wall time of the crawl, browser
start apart), the share of wall time spent in our own code — the engine, the
catalog writes and our parser (which runs inside the source calls, so it is
taken out of the time spent waiting on the site) — target ≤ 10 %, and the
parser's share alone. Beside them, measured in the same run:
- "site alone": the same sequence of API requests sent by a plain httpx loop, no
  parsing, no catalog — what the site itself allows;
- "browser per request": the playwright backend started anew for each source
  call that reached the site (on a sample of related calls, each a video page
  plus the related request it fires), times the number of such calls in the
  playwright crawl — not times its request count, which counts both requests
  of each call;
- "hostile site": the playwright crawl against the sandbox's strict signing mode
  and realistic fault mix (``--strict --faults realistic``) where this sandbox
  has them, else against the fault kinds it has (named in the row); a crawl
  stopped ``blocked`` is resumed in a new browser, as a user would, until it
  ends; reported with its retries and resumes, and whether it reached the
  result of the same crawl with the faults lifted.
The fault-free crawls must all find the same videos and edges (checked).

Run:  .venv/bin/python -m bench crawl   (CRAWL_BENCH_VIDEOS=300 for a quick look;
      CRAWL_BENCH_HOSTILE=tiktokapi to take another backend through the hostile site, "" to skip it)
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from db.crawl_state import run_graph
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.crawl_state import load_run
from sandbox import FaultPlan, World, serve
from scrapers.crawl import FEED_PAGE, RELATED_PAGE, CrawlParams
from scrapers.politeness import Politeness
from scrapers.runs import crawl_run, start_run

TARGET = int(os.environ.get("CRAWL_BENCH_VIDEOS", "1000"))
BACKENDS = [b for b in os.environ.get("CRAWL_BENCH_BACKENDS", "ytdlp,tiktokapi,playwright,selenium").split(",") if b]
PARAMS = CrawlParams(seed=25, fanout=5, max_videos=TARGET, random_seed=1)
NAIVE_SAMPLE = 8
HOSTILE_BACKEND = os.environ.get("CRAWL_BENCH_HOSTILE", "playwright")
#: the fault mix used when the sandbox has no ``realistic`` profile: every kind it has, soft blocks first
FALLBACK_FAULTS = "captcha:0.01,empty:0.01,429:0.03,5xx:0.02,malformed:0.01,drop:0.01"
FAULT_SEED = 3
#: a blocked crawl is resumed in a new session at most this many times
MAX_SESSIONS = 60
#: back-off for the hostile crawl: short, but Retry-After is still honoured up to its cap
HOSTILE_POLITENESS = Politeness(rate=0, backoff=0.05, backoff_max=2.0)


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
    retries: int | None = None
    sessions: int | None = None
    same: bool | None = None

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


class CallCounter:
    """Wraps a source and counts its calls that reached the site (those that sent a request)."""

    def __init__(self, source) -> None:
        self.source = source
        self.name, self.stats = source.name, source.stats
        self.calls = 0

    def _counted(self, method: str, *args, **kwargs):
        before = self.source.stats.requests
        try:
            return getattr(self.source, method)(*args, **kwargs)
        finally:
            self.calls += self.source.stats.requests > before

    def feed(self, *args, **kwargs):  # noqa: D102
        return self._counted("feed", *args, **kwargs)

    def related(self, *args, **kwargs):  # noqa: D102
        return self._counted("related", *args, **kwargs)

    def video(self, *args, **kwargs):  # noqa: D102
        return self._counted("video", *args, **kwargs)

    def author(self, *args, **kwargs):  # noqa: D102
        return self._counted("author", *args, **kwargs)


def own_share(stats, wall: float) -> float:
    """Share of ``wall`` spent in our code: outside source calls and waits (back-off), plus our parser inside the calls."""
    return max(0.0, wall - stats.source_s - stats.wait_s + stats.parse_s) / wall


def crawl(name: str, base_url: str, folder: Path, label: str | None = None) -> tuple[Row, object, int]:
    """One crawl with one backend into a fresh SQLite catalog; its row, its graph and its site-reaching calls."""
    engine = create_catalog_engine(f"sqlite:///{folder / (re.sub(r'[^a-z0-9]+', '_', (label or name).lower()) + '.db')}")
    upgrade(engine)
    record = start_run(engine, name, base_url, PARAMS, {"rate": 0})
    started = time.perf_counter()
    with source_class(name)(base_url=base_url) as source:
        ready = time.perf_counter()
        counted = CallCounter(source)
        result = crawl_run(engine, record, counted, Politeness(rate=0))
        wall = time.perf_counter() - ready
    stats = result.stats
    row = Row(label or name, result.videos, ready - started, wall, own_share(stats, wall), stats.parse_s / wall, stats.requests,
              retries=sum(stats.retries.values()))
    graph = run_graph(engine, record.id)
    engine.dispose()
    return row, graph, counted.calls


def hostile_options() -> tuple[dict, str, str]:
    """``serve()`` options for the strict site where the sandbox has it, the fault spec, and how to say both."""
    options: dict = {}
    said = []
    if "strict" in inspect.signature(serve).parameters:
        options["strict"] = True
        said.append("--strict")
    try:
        FaultPlan.parse("realistic", seed=FAULT_SEED)
        faults = "realistic"
    except Exception:  # noqa: BLE001 - an older sandbox: no such profile
        faults = FALLBACK_FAULTS
    said.append(f"--faults {faults}")
    return options, faults, " ".join(said)


def hostile_crawl(world: World, name: str, folder: Path) -> list[Row]:
    """The crawl against the hostile site, resumed after each block; and its fault-free reference."""
    options, faults, said = hostile_options()
    rows = []
    lifted = f"{name}, {'--strict, ' if options.get('strict') else ''}faults lifted"
    with serve(world, **options) as site:
        reference, ref_graph, _ = crawl(name, site.base_url, folder, label=lifted)
    rows.append(reference)
    engine = create_catalog_engine(f"sqlite:///{folder / 'hostile.db'}")
    upgrade(engine)
    with serve(world, faults=faults, fault_seed=FAULT_SEED, **options) as site:
        record = start_run(engine, name, site.base_url, PARAMS, {"rate": 0})
        wall, starts, sessions, result = 0.0, 0.0, 0, None
        while sessions < MAX_SESSIONS and (result is None or result.status in ("blocked", "failed")):
            sessions += 1
            begun = time.perf_counter()
            with source_class(name)(base_url=site.base_url) as source:
                start = time.perf_counter()
                starts += start - begun
                result = crawl_run(engine, load_run(engine, record.id), source, HOSTILE_POLITENESS)
                wall += time.perf_counter() - start
        faults_served = site.stats["faults_total"]
    graph = run_graph(engine, record.id)
    stats = result.stats
    same = (graph.videos, graph.edges) == (ref_graph.videos, ref_graph.edges)
    rows.append(Row(f"{name}, {said} (seed {FAULT_SEED}; {faults_served:,} faults served; ended {result.status})", result.videos,
                    starts, wall, own_share(stats, wall), stats.parse_s / wall, stats.requests,
                    retries=sum(stats.retries.values()), sessions=sessions, same=same))
    engine.dispose()
    return rows


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


def browser_per_request(base_url: str, graph, calls_per_crawl: int, requests_per_crawl: int) -> Row:
    """The playwright backend started for each site-reaching call, timed on a sample of related calls,
    projected to the calls the playwright crawl made (each call: a page load and the request it fires)."""
    cls = source_class("playwright")
    parents = sorted({p for p, _ in graph.edges})[:NAIVE_SAMPLE]
    start = time.perf_counter()
    for vid in parents:
        with cls(base_url=base_url) as source:
            source.related(vid, RELATED_PAGE)
    per_call = (time.perf_counter() - start) / len(parents)
    return Row(f"playwright, a new browser per call ({calls_per_crawl:,} calls, projected)", len(graph.videos), 0.0,
               per_call * calls_per_crawl, None, None, requests_per_crawl)


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| crawl of the sandbox | videos | start s | crawl s | videos/s | requests | retries | sessions | our code (engine, catalog, parser) | parser | same result as fault-free |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def pct(x: float | None) -> str:
        return f"{100 * x:.1f} %" if x is not None else "—"

    def opt(x) -> str:
        return "—" if x is None else ("yes" if x is True else "NO" if x is False else f"{x:,}")

    for r in rows:
        lines.append(f"| {r.name} | {r.videos:,} | {r.start_s:.1f} | {r.wall_s:.1f} | {r.rate:.1f} | {r.requests:,} | {opt(r.retries)} "
                     f"| {opt(r.sessions)} | {pct(r.own_share)} | {pct(r.parse_share)} | {opt(r.same)} |")
    return "\n".join(lines)


def main() -> int:
    """Crawls with every backend, then the alternatives; prints the table."""
    world = World.build(videos=max(3 * TARGET, 600), seed=7)
    rows: list[Row] = []
    graphs, calls = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        with serve(world) as site:
            for name in BACKENDS:
                row, graphs[name], calls[name] = crawl(name, site.base_url, Path(tmp))
                rows.append(row)
                print(f"  {name}: {row.videos} videos in {row.wall_s:.1f} s", flush=True)
            reference = next(iter(graphs.values()), None)
            same = all((g.videos, g.edges) == (reference.videos, reference.edges) for g in graphs.values())
            if reference is not None:
                rows.append(site_alone(site.base_url, reference))
            if "playwright" in graphs:
                pw_requests = next(r.requests for r in rows if r.name == "playwright")
                rows.append(browser_per_request(site.base_url, reference, calls["playwright"], pw_requests))
        hostile_same = True
        if HOSTILE_BACKEND:
            hostile = hostile_crawl(world, HOSTILE_BACKEND, Path(tmp))
            hostile_same = bool(hostile[-1].same)
            rows += hostile
            print(f"  {hostile[-1].name}: {hostile[-1].videos} videos in {hostile[-1].wall_s:.1f} s", flush=True)
    print(f"\nworld: {world.spec.videos:,} videos; crawl --seed 25 --fanout 5 --max-videos {TARGET} --random-seed 1, rate limit off\n")
    print(table(rows))
    print(f"\nall backends found the same videos and edges: {same}")
    pw = next((r for r in rows if r.name == "playwright"), None)
    if pw is not None:
        print(f"playwright: {pw.rate:.1f} videos/s (target ≥ 20)")
    worst = max((r.own_share for r in rows if r.own_share is not None), default=0.0)
    print(f"largest share in our own code: {100 * worst:.1f} % (target ≤ 10 %)")
    if HOSTILE_BACKEND:
        print(f"hostile crawl reached the fault-free result: {hostile_same}")
    return 0 if same and hostile_same else 1


if __name__ == "__main__":
    sys.exit(main())
