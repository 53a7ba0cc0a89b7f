"""Several crawl workers on one run of a Postgres catalog (``curate crawl --join``): no loss, no duplicate, one stopping rule."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from db.crawl_shared import claim_stage
from db.crawl_state import load_run, run_graph, run_summary
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import CrawlItem, Edge, Video, WorkClaim
from scrapers.crawl import CrawlParams, Crawler
from scrapers.frontier import RandomFrontier
from scrapers.politeness import Politeness
from scrapers.runs import ResumeError, crawl_run, open_join, open_run, start_run
from scrapers.sinks import MemorySink
from tests.scrapers.crawl_fakes import FakeSource
from tests.waiting import wait_on_site

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
CURATE = str(Path(sys.executable).with_name("curate"))
POLITE = Politeness(rate=0, backoff=0.0, backoff_max=0.0)
#: a crawl that runs out of videos: its videos and edges do not depend on the order of expansion
EXHAUSTIVE = CrawlParams(seed=6, fanout=3, max_videos=10_000, random_seed=11)
#: the sandbox crawls: long enough, at a few requests per second per worker, for a second worker to join
SANDBOX_ARGS = ["--seed", "5", "--fanout", "3", "--max-videos", "60", "--random-seed", "3", "--source", "ytdlp"]
#: a crawl that must expand every member above depth 2 before it stops: a dead worker's claim has to be taken over
TO_DEPTH_2 = ["--seed", "5", "--fanout", "3", "--max-depth", "2", "--max-videos", "10000", "--random-seed", "3", "--source", "ytdlp"]


@pytest.fixture
def pg_url(postgres_server, request) -> str:
    """An empty, migrated Postgres catalog of its own."""
    url = postgres_server.create_database(f"join_{request.node.name[:40].lower()}_{os.getpid()}")
    engine = create_catalog_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def claims(engine, run_id: int) -> list[dict]:
    table = WorkClaim.__table__
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).where(table.c.stage == claim_stage(run_id))).mappings()]


def check_run_is_whole(engine, run_id: int) -> dict:
    """Every expansion done once (its claim finished, counted once), every member reached by its edge, seq unbroken."""
    items, edges = CrawlItem.__table__, Edge.__table__
    with engine.connect() as conn:
        members = conn.execute(sa.select(items).where(items.c.run_id == run_id).order_by(items.c.seq)).mappings().all()
        pairs = set(conn.execute(sa.select(edges.c.parent_id, edges.c.child_id).where(edges.c.run_id == run_id)).all())
        stored = set(conn.execute(sa.select(Video.__table__.c.id)).scalars())
    expanded = {m["video_id"] for m in members if m["expanded_at"] is not None}
    assert [m["seq"] for m in members] == list(range(len(members))), "seq numbers are broken or repeated"
    assert {m["video_id"] for m in members} <= stored, "a member without its video record"
    lost = [m["video_id"] for m in members if m["parent_id"] and (m["parent_id"], m["video_id"]) not in pairs]
    assert not lost, f"members whose discovery edge is missing: {lost[:5]}"
    assert {p for p, _ in pairs} <= expanded and {c for _, c in pairs} <= {m["video_id"] for m in members}
    rows = claims(engine, run_id)
    assert {r["key"] for r in rows} == expanded, "an expansion without its claim, or a claim without its expansion"
    assert all(r["finished_at"] is not None and r["claimed_by"] is None for r in rows), "a claim left held"
    stats = load_run(engine, run_id).stats
    assert stats["expanded"] + sum(stats["skips"].values()) == len(expanded), "an expansion counted twice (or not at all)"
    return {"members": len(members), "expanded": expanded, "claims": rows}


def test_one_worker_on_postgres_is_the_single_crawl_draw_for_draw(pg_url):
    params = CrawlParams(seed=6, fanout=3, max_videos=70, random_seed=5)
    alone = MemorySink()
    Crawler(FakeSource(), RandomFrontier(params.random_seed), alone, params, POLITE).run()
    engine = create_catalog_engine(pg_url)
    record = start_run(engine, "fake", None, params, {})
    crawl_run(engine, record, FakeSource(), POLITE)
    t = CrawlItem.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.video_id, t.c.seq, t.c.depth, t.c.parent_id).where(t.c.run_id == record.id).order_by(t.c.seq)).all()
    assert [tuple(r) for r in rows] == [(m.video_id, m.seq, m.depth, m.parent_id) for m in alone.members]
    assert len(claims(engine, record.id)) == len(alone.expanded), "the Postgres run did not claim its expansions"
    assert load_run(engine, record.id).stats["requests"] == alone.stats["requests"]
    engine.dispose()


def two_workers(engines, params: CrawlParams, sources) -> tuple[int, list]:
    """Two workers in threads of this process (each its own engine and source): one starts the run, one joins it."""
    record = start_run(engines[0], "fake", None, params, {})
    results: dict[int, object] = {}

    def work(n: int) -> None:
        joined = open_join(engines[1], record.id, {}) if n else record
        results[n] = crawl_run(engines[n], joined, sources[n], POLITE, join=bool(n))

    # the joiner first: it finds the run seeding and waits for the first worker's seeds
    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return record.id, [(r.status, r.stop_reason) for r in results.values()]


def test_two_workers_exhaust_a_crawl_to_the_graph_one_worker_finds(pg_url):
    alone = MemorySink()
    Crawler(FakeSource(n=120), RandomFrontier(EXHAUSTIVE.random_seed), alone, EXHAUSTIVE, POLITE).run()
    assert alone.status == "finished" and alone.stop_reason == "exhausted"
    engines = [create_catalog_engine(pg_url) for _ in range(2)]
    turn = threading.Event()  # the starter's first expansion waits for the joiner's: both surely work
    sources = [FakeSource(n=120, related_after=turn), FakeSource(n=120, related_started=turn)]
    run_id, ends = two_workers(engines, EXHAUSTIVE, sources)
    assert ends == [("finished", "exhausted")] * 2
    record = load_run(engines[0], run_id)
    stored = run_graph(engines[0], record.id)
    assert stored.videos == {m.video_id for m in alone.members}, "a video lost or one too many"
    assert stored.edges == {(e.parent_id, e.child_id) for e in alone.edges}
    whole = check_run_is_whole(engines[0], record.id)
    assert whole["expanded"] == set(alone.expanded) and all(r["attempts"] == 1 for r in whole["claims"])
    related = [sum(1 for c in s.calls if c.startswith("related:")) for s in sources]
    assert all(related), f"a worker expanded nothing: {related}"
    assert load_run(engines[0], record.id).stats["requests"] == sum(s.stats.requests for s in sources)
    for engine in engines:
        engine.dispose()


def test_two_workers_stop_at_max_depth_with_everything_above_it_expanded(pg_url):
    engines = [create_catalog_engine(pg_url) for _ in range(2)]
    params = CrawlParams(seed=6, fanout=3, max_videos=10_000, max_depth=2, random_seed=2)
    turn = threading.Event()
    run_id, ends = two_workers(engines, params, [FakeSource(related_after=turn), FakeSource(related_started=turn)])
    assert ends == [("finished", "max_depth")] * 2
    whole = check_run_is_whole(engines[0], run_id)
    t = CrawlItem.__table__
    with engines[0].connect() as conn:
        depths = dict(conn.execute(sa.select(t.c.video_id, t.c.depth).where(t.c.run_id == run_id)).all())
    assert max(depths.values()) == 2 and whole["expanded"] == {v for v, d in depths.items() if d < 2}
    for engine in engines:
        engine.dispose()


def curate(pg_url: str, home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CURATE_HOME": str(home), "CURATE_DB_URL": pg_url}
    return subprocess.Popen([CURATE, "crawl", *args, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def running_run(engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM crawl_run WHERE status = 'running' AND state->>'phase' = 'expanding'")).scalar()


def test_a_joined_worker_shares_a_sandbox_crawl_and_max_videos_holds(pg_url, tmp_path, sandbox_site):
    engine = create_catalog_engine(pg_url)
    first = curate(pg_url, tmp_path / "a", *SANDBOX_ARGS, "--base-url", sandbox_site.base_url, "--rate", "3")
    run_id = wait_on_site(sandbox_site, lambda: running_run(engine), 120, "the first worker to seed its run")
    # the first worker waits, frozen, until the second has claimed an expansion: however slow its start, both work
    first.send_signal(signal.SIGSTOP)
    second = curate(pg_url, tmp_path / "b", "--join", str(run_id), "--source", "ytdlp", "--rate", "3")
    theirs = f"{socket.gethostname()}:{second.pid}:"
    wait_on_site(sandbox_site, lambda: any((r["claimed_by"] or "").startswith(theirs) for r in claims(engine, run_id)), 120, "the joined worker to claim")
    first.send_signal(signal.SIGCONT)
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in (first, second)]
    assert [(o["status"], o["stop_reason"]) for o in outs] == [("finished", "max_videos")] * 2, outs
    assert run_summary(engine, run_id)["videos"] == 60, "--max-videos was passed or not reached"
    check_run_is_whole(engine, run_id)
    record = load_run(engine, run_id)
    assert record.status == "finished" and outs[1]["requests"] > 0, "the joined worker did no work"
    assert record.stats["requests"] == outs[0]["requests"] + outs[1]["requests"]
    engine.dispose()


def test_kill_9_of_one_worker_loses_nothing_and_duplicates_nothing(pg_url, tmp_path, sandbox_site):
    engine = create_catalog_engine(pg_url)
    first = curate(pg_url, tmp_path / "a", *TO_DEPTH_2, "--base-url", sandbox_site.base_url, "--rate", "4")
    run_id = wait_on_site(sandbox_site, lambda: running_run(engine), 120, "the first worker to seed its run")
    second = curate(pg_url, tmp_path / "b", "--join", str(run_id), "--source", "ytdlp", "--rate", "4")
    mine = f"{socket.gethostname()}:{first.pid}:"

    def frozen_holding() -> list[str]:
        # SIGSTOP first, so that what it holds cannot change before the kill; let it go on if it held nothing
        first.send_signal(signal.SIGSTOP)
        held = [r["key"] for r in claims(engine, run_id) if (r["claimed_by"] or "").startswith(mine)]
        if not held:
            first.send_signal(signal.SIGCONT)
        return held

    victim = wait_on_site(sandbox_site, lambda: len(check_expanded(engine, run_id)) >= 3 and frozen_holding(), 120, "the first worker to hold a claim mid-crawl")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    out = json.loads(second.communicate(timeout=300)[0])
    assert (out["status"], out["stop_reason"]) == ("finished", "max_depth"), out
    whole = check_run_is_whole(engine, run_id)
    attempts = {r["key"]: r["attempts"] for r in whole["claims"]}
    assert {k: attempts[k] for k in victim} == dict.fromkeys(victim, 2), "the killed worker's expansion was not taken over"
    assert all(n == 1 for k, n in attempts.items() if k not in victim), "an expansion was worked twice"
    engine.dispose()


def check_expanded(engine, run_id: int) -> list[str]:
    t = CrawlItem.__table__
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.c.video_id).where(t.c.run_id == run_id, t.c.expanded_at.is_not(None))).scalars())


def test_join_needs_a_postgres_catalog(sqlite_cli):
    result = sqlite_cli("crawl", "--join", "1", ok=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert lines[0] == "error: --join needs a Postgres catalog (workers share a run through its row locks); this catalog is sqlite"


def test_join_of_an_unknown_finished_or_stopped_run_is_one_line(pg_url, tmp_path):
    from tests.conftest import Cli

    cli = Cli(tmp_path / "home", pg_url)
    engine = create_catalog_engine(pg_url)
    params = CrawlParams(seed=2, fanout=2, max_videos=5, random_seed=1)
    done, blocked = start_run(engine, "fake", None, params, {}), start_run(engine, "fake", None, params, {})
    crawl_run(engine, done, FakeSource(), POLITE)
    crawl_run(engine, blocked, FakeSource(block_after=1), POLITE)
    for run, message in (
        ("99", "no crawl run 99 in the catalog"),
        (str(done.id), f"crawl run {done.id} is finished (max_videos); nothing to join"),
        (str(blocked.id), f"crawl run {blocked.id} is blocked, not running: resume it with curate crawl --resume {blocked.id}, then join it"),
    ):
        result = cli("crawl", "--join", *run.split(), ok=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.exit_code == 1 and lines == [f"error: {message}"], result.stderr
    running = start_run(engine, "fake", None, params, {})
    with pytest.raises(ResumeError, match="was started with fanout=2, not 3; drop the option to join it"):
        open_join(engine, running.id, {"fanout": 3})
    assert open_join(engine, running.id, {"fanout": 2}).id == running.id
    engine.dispose()


def test_a_run_that_fills_lets_go_of_what_a_dead_worker_held(pg_url):
    engine = create_catalog_engine(pg_url)
    params = CrawlParams(seed=6, fanout=3, max_videos=40, random_seed=4)
    record = start_run(engine, "fake", None, params, {})
    assert crawl_run(engine, record, FakeSource(block_after=4), POLITE).status == "blocked"
    t = CrawlItem.__table__
    with engine.connect() as conn:
        open_ids = list(conn.execute(sa.select(t.c.video_id).where(t.c.run_id == record.id, t.c.expanded_at.is_(None))).scalars())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{socket.gethostname()}:{gone.pid}:deadbeef"  # a worker killed while it held claims
    with engine.begin() as conn:
        rows = [{"stage": claim_stage(record.id), "key": key, "claimed_by": dead, "claimed_at": datetime.now(UTC), "attempts": 1}
                for key in open_ids]
        upsert = postgresql.insert(WorkClaim.__table__).values(rows)
        conn.execute(upsert.on_conflict_do_update(index_elements=["stage", "key"], set_={"claimed_by": dead, "finished_at": None}))
    result = crawl_run(engine, open_run(engine, record.id, {}), FakeSource(), POLITE)
    assert (result.status, result.stop_reason) == ("finished", "max_videos")
    held = [r for r in claims(engine, record.id) if r["claimed_by"] == dead]
    assert not held, "the finished run still shows a dead worker's claim as held"
    engine.dispose()
