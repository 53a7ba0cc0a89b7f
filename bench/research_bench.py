"""A Research API query collecting 100,000 videos, and `curate refresh` of due videos, against the sandbox.

Query: one broad query over the world's whole span, 30-day windows, max_count
100, through the real runner into a fresh SQLite catalog (every page committed
with its state and quota). Printed: records/s, requests spent per 1,000 records
beside the least the API's max_count allows (10), and the parser's share. Beside
it, "site alone": the same pages asked by a plain httpx loop (no parsing, no
catalog) — what the double itself allows (the same fields asked).

Refresh: a catalog whose videos were last observed half an hour after posting,
so each is due; the refresher fetches every one (one request each) through the
Research API source and through yt-dlp, writing time-stamped observations.
Printed: videos/s and the share of wall time in our own code (outside source
calls: due table, catalog writes), parser included separately; beside them the
same requests by a plain httpx loop.

Run:  .venv/bin/python -m bench research   (RESEARCH_BENCH_RECORDS, REFRESH_BENCH_VIDEOS, REFRESH_BENCH_YTDLP to size)
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import orjson

from db.catalog import write_items
from db.engine import create_catalog_engine
from db.migrate import upgrade
from sandbox import World, serve
from scrapers.backends.research_api import VIDEO_FIELDS, ResearchApiClient, ResearchApiSource, ResearchCredentials, id_window
from scrapers.parse import parse_item
from scrapers.politeness import Politeness
from scrapers.query_run import QueryLimits, QueryParams, QueryProgress, QueryRunner, windows
from scrapers.refresh import Refresher, due_table, parse_schedule
from scrapers.runs import start_query_run

RECORDS = int(os.environ.get("RESEARCH_BENCH_RECORDS", "100000"))
REFRESH = int(os.environ.get("REFRESH_BENCH_VIDEOS", "2000"))
REFRESH_YTDLP = int(os.environ.get("REFRESH_BENCH_YTDLP", "300"))
QUERY = {"and": [{"operation": "GTE", "field_name": "create_date", "field_values": ["20000101"]}]}
FAST = Politeness(rate=0, backoff=0.0, backoff_max=0.0)


def engine_in(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    engine = create_catalog_engine(f"sqlite:///{folder / 'catalog.db'}")
    upgrade(engine)
    return engine


def bench_query(site, world, folder: Path) -> None:
    site.routes.research.config.daily_requests = 10**9
    site.routes.research.config.daily_records = 10**12
    start = time.strftime("%Y%m%d", time.gmtime(world.videos["create_time"].min()))
    params = QueryParams(QUERY, start, "20250101", window_days=30)
    engine = engine_in(folder)
    progress = QueryProgress(pending=windows(params.start, params.end, params.window_days))
    run_id = start_query_run(engine, site.base_url, params.as_dict(), progress.as_dict())
    with ResearchApiClient(ResearchCredentials("bench-key", "bench-secret"), site.base_url) as client:
        runner = QueryRunner(engine, run_id, client, params, progress, set(), limits=QueryLimits(daily_requests=10**9, daily_records=10**12),
                             politeness=FAST)
        began = time.perf_counter()
        result = runner.run()
        wall = time.perf_counter() - began
    assert result.status == "finished", result.stop_reason
    p = result.progress
    print(f"| query, curate (runner + catalog) | {p.records:,} records | {p.records / wall:,.0f} records/s | "
          f"{1000 * p.data_requests / p.records:.2f} requests / 1,000 records (least: {1000 / params.max_count:.0f}) | "
          f"parser {result.stats.parse_s / wall:.1%} |")
    # the site alone: the same pages, a plain loop, nothing parsed or stored
    token = httpx.post(site.url("/v2/oauth/token/"), data={"client_key": "alone", "client_secret": "s",
                                                           "grant_type": "client_credentials"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    records, began = 0, time.perf_counter()
    with httpx.Client(headers=headers) as http:
        for a, b in windows(params.start, params.end, params.window_days):
            body = {"query": QUERY, "start_date": a, "end_date": b, "max_count": 100}
            while True:
                data = orjson.loads(http.post(site.url(f"/v2/research/video/query/?fields={','.join(VIDEO_FIELDS)}"), content=orjson.dumps(body)).content)["data"]
                records += len(data["videos"])
                if not data["has_more"]:
                    break
                body = {**body, "cursor": data["cursor"], "search_id": data["search_id"]}
    wall = time.perf_counter() - began
    print(f"| query, site alone (httpx loop) | {records:,} records | {records / wall:,.0f} records/s | | |")


def due_catalog(world, folder: Path, count: int):
    """A catalog of ``count`` public videos last observed 30 minutes after posting: every one is due."""
    engine = engine_in(folder)
    public = world.videos[world.videos["visibility"] == "public"]["video_id"].tolist()[:count]
    items = [parse_item(world.item_struct(i)) for i in public]
    # stamped at the oldest video's first half-hour: before every video's next age, so all are due
    oldest = min(i.video.create_time for i in items)
    write_items(engine, items, "bench", observed_at=oldest + timedelta(minutes=30))
    return engine, public


def bench_refresh(site, world, folder: Path, name: str, count: int) -> None:
    from db.observations import refresh_candidates

    engine, ids = due_catalog(world, folder / name, count)
    now = lambda: world.clock.timestamp().to_pydatetime()  # noqa: E731
    began = time.perf_counter()
    table = due_table(refresh_candidates(engine), parse_schedule("1h,24h,48h,7d,30d"), now())
    todo = table[table["due"]].sort_values("due_at")
    # a video posted under an hour before the clock is not due yet (at 100,000 videos some hundred are)
    created = world.videos.set_index("video_id").loc[ids, "create_time"].to_numpy(dtype=float)
    assert len(todo) == int((created + 3600 <= world.clock.now()).sum()), (len(todo), len(ids))
    if name == "research_api":
        source = ResearchApiSource(ResearchApiClient(ResearchCredentials("bench-refresh", "s"), site.base_url))
    else:
        from scrapers.backends.ytdlp import YtdlpSource

        source = YtdlpSource(base_url=site.base_url)
    with source:
        refresher = Refresher(engine, source, name, now, FAST)
        status, reason = refresher.run(todo)
    wall = time.perf_counter() - began
    assert status == "finished", reason
    s = refresher.stats
    done = s.observed + sum(s.gone.values()) + sum(s.skipped.values())
    own = max(0.0, wall - s.source_s - s.wait_s) / wall
    print(f"| refresh via {name} | {done:,} videos | {done / wall:,.1f} videos/s | own code {own:.1%} | parser {s.parse_s / wall:.1%} |")
    if name == "research_api":
        token = httpx.post(site.url("/v2/oauth/token/"), data={"client_key": "alone2", "client_secret": "s",
                                                               "grant_type": "client_credentials"}).json()["access_token"]
        began = time.perf_counter()
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
            for video_id in ids:
                a, b = id_window(video_id)
                body = {"query": {"and": [{"operation": "EQ", "field_name": "video_id", "field_values": [video_id]}]},
                        "start_date": a, "end_date": b, "max_count": 1}
                http.post(site.url(f"/v2/research/video/query/?fields={','.join(VIDEO_FIELDS)}"), content=orjson.dumps(body))
        wall = time.perf_counter() - began
        print(f"| refresh requests, site alone (httpx loop) | {len(ids):,} videos | {len(ids) / wall:,.1f} videos/s | | |")


def main() -> None:
    videos = max(RECORDS + RECORDS // 20, REFRESH + 10)
    began = time.perf_counter()
    world = World.build(videos=videos, seed=3, hidden_counts=0.0)
    print(f"world of {videos:,} videos built in {time.perf_counter() - began:.1f} s\n")
    print("| what | size | rate | requests / own code | parser |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, serve(world) as site:
        folder = Path(tmp)
        bench_query(site, world, folder)
        bench_refresh(site, world, folder, "research_api", REFRESH)
        if REFRESH_YTDLP:
            bench_refresh(site, world, folder, "ytdlp", REFRESH_YTDLP)


if __name__ == "__main__":
    main()
