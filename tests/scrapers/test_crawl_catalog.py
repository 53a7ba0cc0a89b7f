"""Crawls held in the catalog (SQLite and Postgres): same result as in memory, exact resume after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.crawl_state import load_run, run_graph, run_summary
from db.models import CrawlItem, CrawlRun, MetricObservation, Video
from scrapers.crawl import CrawlParams
from scrapers.runs import ResumeError, crawl_run, open_run, start_run
from tests.scrapers.crawl_child import PARAMS as CHILD_PARAMS
from tests.scrapers.crawl_child import POLITE
from tests.scrapers.crawl_fakes import FakeSource
from tests.scrapers.test_crawl_engine import PARAMS, graph, run

ROOT = Path(__file__).resolve().parents[2]


def catalog_crawl(engine, source, params=PARAMS, resume=None):
    record = open_run(engine, resume, {}) if resume else start_run(engine, source.name, None, params, {"rate": 0})
    return record.id, crawl_run(engine, record, source, POLITE)


def test_a_catalog_crawl_stores_what_a_memory_crawl_finds(engine):
    _, memory = run(FakeSource())
    run_id, result = catalog_crawl(engine, FakeSource())
    stored = run_graph(engine, run_id)
    ids, edges = graph(memory)
    assert stored.videos == set(ids) and stored.edges == edges
    summary = run_summary(engine, run_id)
    assert summary["videos"] == 80 and summary["depths"] == result.depths and summary["edges"] == len(edges)
    record = load_run(engine, run_id)
    assert record.status == "finished" and record.stop_reason == "max_videos"
    assert record.stats["requests"] == result.stats.requests and record.params["crawl"]["fanout"] == 4
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Video)).scalar_one() == 80
        sources = set(conn.execute(sa.select(MetricObservation.source)).scalars())
    assert sources == {f"crawl:{run_id}"}


def test_a_blocked_run_resumes_to_the_uninterrupted_result(engine):
    _, memory = run(FakeSource())
    run_id, result = catalog_crawl(engine, FakeSource(block_after=9))
    assert result.status == "blocked" and load_run(engine, run_id).status == "blocked"
    _, final = catalog_crawl(engine, FakeSource(), resume="latest")
    assert final.status == "finished"
    stored = run_graph(engine, run_id)
    assert (stored.videos, stored.edges) == (set(graph(memory)[0]), graph(memory)[1])
    with engine.connect() as conn:
        seqs = conn.execute(sa.select(CrawlItem.seq).where(CrawlItem.run_id == run_id).order_by(CrawlItem.seq)).scalars().all()
    assert seqs == list(range(80))


def test_resume_refuses_a_finished_run_and_other_parameters(sqlite_engine):
    run_id, _ = catalog_crawl(sqlite_engine, FakeSource(block_after=3))
    with pytest.raises(ResumeError, match="fanout=4, not 5"):
        open_run(sqlite_engine, run_id, {"fanout": 5})
    catalog_crawl(sqlite_engine, FakeSource(), resume=str(run_id))
    with pytest.raises(ResumeError, match="is finished"):
        open_run(sqlite_engine, run_id, {})


def test_resume_refuses_a_run_whose_process_is_alive(sqlite_engine):
    run_id, _ = catalog_crawl(sqlite_engine, FakeSource(block_after=3))
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)  # alive until killed
    try:
        with sqlite_engine.begin() as conn:
            state = {"owner": {"host": os.uname().nodename, "pid": alive.pid}, "phase": "seeding"}
            conn.execute(sa.text("UPDATE crawl_run SET status='running'"))
            conn.execute(sa.update(CrawlRun.__table__).values(state=state))
        with pytest.raises(ResumeError, match=f"still running in process {alive.pid}"):
            open_run(sqlite_engine, run_id, {})
    finally:
        alive.kill()
        alive.wait()
    assert open_run(sqlite_engine, run_id, {}).id == run_id


def _members(engine, run_id) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(CrawlItem).where(CrawlItem.run_id == run_id)).scalar_one()


def test_kill_9_mid_crawl_then_resume_equals_an_uninterrupted_run(engine, catalog_url):
    expected = FakeSource()
    _, memory = run(expected, CHILD_PARAMS)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.scrapers.crawl_child", catalog_url, "-", "5"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    run_id = int(child.stdout.readline())
    assert child.stdout.readline().strip() == "stored", "the child did not reach its pause"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    killed_at = _members(engine, run_id)
    assert 0 < killed_at < 60, "the crawl was not killed mid-way"
    assert load_run(engine, run_id).status == "running"
    record = open_run(engine, "latest", {"fanout": CHILD_PARAMS.fanout})
    result = crawl_run(engine, record, FakeSource(), POLITE)
    assert result.status == "finished"
    stored = run_graph(engine, run_id)
    assert (stored.videos, stored.edges) == (set(graph(memory)[0]), graph(memory)[1])
    assert len(stored.videos) == 60 == run_summary(engine, run_id)["videos"]


def test_crawl_params_round_trip_through_the_catalog(sqlite_engine):
    params = CrawlParams(seed=3, fanout=2, max_videos=9, max_depth=4, random_seed=99)
    record = start_run(sqlite_engine, "fake", "http://127.0.0.1:1", params, {"proxy": "http://***@proxy:8080"})
    assert CrawlParams(**record.params["crawl"]) == params
    assert record.base_url == "http://127.0.0.1:1" and record.params["proxy"] == "http://***@proxy:8080"
