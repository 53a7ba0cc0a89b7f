"""Every backend crawls the sandbox through ``curate crawl`` and finds exactly the expected videos and edges.

The expectation is computed from the sandbox world's own tables (no HTTP). Then
the same crawl meets 20 % transient faults, a blocked session, and a kill -9.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.crawl_state import load_run, run_graph
from db.engine import create_catalog_engine
from db.models import CrawlItem
from tests.scrapers.conftest import CRAWL
from tests.waiting import wait_for_writes

BACKENDS = ["ytdlp", "tiktokapi", "playwright", "selenium"]
ROOT = Path(__file__).resolve().parents[2]
TRANSIENT_20 = "429:0.06,5xx:0.06,malformed:0.04,drop:0.04"


def crawl_args(base_url: str, source: str, *extra: str) -> list[str]:
    return [
        "crawl", "--seed", str(CRAWL.seed), "--fanout", str(CRAWL.fanout), "--max-videos", str(CRAWL.max_videos),
        "--random-seed", str(CRAWL.random_seed), "--source", source, "--base-url", base_url, "--json", *extra,
    ]


def fast_retries(cli) -> None:
    """Tests need no politeness: back-off in hundredths of a second."""
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "config.toml").write_text("[crawl]\nbackoff = 0.01\nattempts = 10\n")


def stored_graph(db_url: str, run_id: int):
    engine = create_catalog_engine(db_url)
    try:
        graph = run_graph(engine, run_id)
        return set(graph.videos), set(graph.edges)
    finally:
        engine.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_finds_the_expected_videos_and_edges(backend, sqlite_cli, sandbox_site, expected_crawl, expected_skips):
    result = sqlite_cli(*crawl_args(sandbox_site.base_url, backend))
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["stop_reason"], summary["source"]) == ("finished", "max_videos", backend)
    assert stored_graph(sqlite_cli.db_url, summary["run_id"]) == expected_crawl
    assert summary["videos"] == CRAWL.max_videos and summary["edges"] == len(expected_crawl[1])
    assert summary["skips"] == expected_skips, "the world's deleted video is skipped with its reason"
    confirmed = sum(expected_skips.values()) - expected_skips.get("unavailable", 0)
    expected_retries = {"withheld": 2 * expected_skips.get("unavailable", 0), "confirm_skip": confirmed}
    assert summary["retries_by_reason"] == {k: v for k, v in expected_retries.items() if v}
    assert summary["requests"] >= summary["expanded"]
    assert sum(summary["depths"].values()) == CRAWL.max_videos


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_percent_transient_faults_change_nothing_but_the_retry_count(backend, sqlite_cli, sandbox_world, expected_crawl):
    from sandbox import serve

    fast_retries(sqlite_cli)
    with serve(sandbox_world, faults=TRANSIENT_20, fault_seed=5) as site:
        summary = json.loads(sqlite_cli(*crawl_args(site.base_url, backend)).stdout)
        faults = site.stats["faults_total"]
    assert summary["status"] == "finished"
    assert stored_graph(sqlite_cli.db_url, summary["run_id"]) == expected_crawl
    assert faults > 0 and summary["retries"] >= faults - 2, (faults, summary["retries_by_reason"])
    assert set(summary["retries_by_reason"]) - {"withheld", "confirm_skip"} <= {"http_429", "http_500", "http_502", "http_503", "http_504", "malformed_json", "connection"}


@pytest.mark.browser
@pytest.mark.parametrize("backend, block_after", [("tiktokapi", 12), ("playwright", 24)])  # playwright: a page and a call per step
def test_a_blocked_session_stops_cleanly_and_resumes_to_the_same_result(backend, block_after, sqlite_cli, sandbox_world, expected_crawl):
    from sandbox import serve

    with serve(sandbox_world, block_after=block_after) as site:
        blocked = sqlite_cli(*crawl_args(site.base_url, backend), ok=False)
        assert blocked.exit_code == 4
        summary = json.loads(blocked.stdout)
        # the API answers statusCode 10000; a page, a captcha page that carries no data
        assert summary["status"] == "blocked" and "captcha" in summary["stop_reason"], summary["stop_reason"]
        lines = [line for line in blocked.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "resume with: curate crawl --resume" in lines[0], blocked.stderr
        assert "Traceback" not in blocked.stderr
        # a new browser session gets a new msToken, which this site has not blocked
        resumed = json.loads(sqlite_cli("crawl", "--resume", "latest", "--json").stdout)
    assert resumed["status"] == "finished" and resumed["run_id"] == summary["run_id"]
    assert stored_graph(sqlite_cli.db_url, summary["run_id"]) == expected_crawl


def test_empty_bodies_block_the_run_and_it_resumes_once_lifted(sqlite_cli, sandbox_world, expected_crawl):
    from sandbox import serve

    with serve(sandbox_world, block_after=11, block_with="empty") as site:
        blocked = sqlite_cli(*crawl_args(site.base_url, "ytdlp"), ok=False)
        summary = json.loads(blocked.stdout)
        assert blocked.exit_code == 4 and summary["status"] == "blocked" and "empty response body" in summary["stop_reason"]
        still = sqlite_cli("crawl", "--resume", str(summary["run_id"]), "--json", ok=False)
        assert json.loads(still.stdout)["status"] == "blocked"
        site.unblock()
        resumed = json.loads(sqlite_cli("crawl", "--resume", "latest", "--json").stdout)
    assert resumed["status"] == "finished"
    assert stored_graph(sqlite_cli.db_url, summary["run_id"]) == expected_crawl


def _members(db: Path) -> int:
    import sqlite3

    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute("SELECT count(*) FROM crawl_item").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@pytest.mark.browser
def test_kill_9_of_a_browser_crawl_then_resume_gives_the_uninterrupted_result(tmp_path, sqlite_cli, sandbox_site, expected_crawl):
    db = sqlite_cli.home / "catalog.db"
    cmd = [str(Path(sys.executable).with_name("curate")), "--home", str(sqlite_cli.home), *crawl_args(sandbox_site.base_url, "playwright")]
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_writes(db.parent, lambda: _members(db) > 0, 120, "a first crawl member stored", gone=lambda: child.poll() is not None)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed_at = _members(db)
    assert child.returncode == -signal.SIGKILL and 0 < killed_at < CRAWL.max_videos, killed_at
    resumed = json.loads(sqlite_cli("crawl", "--resume", "latest", "--json").stdout)
    assert resumed["status"] == "finished" and resumed["videos"] == CRAWL.max_videos
    assert stored_graph(sqlite_cli.db_url, resumed["run_id"]) == expected_crawl
    engine = create_catalog_engine(sqlite_cli.db_url)
    with engine.connect() as conn:
        seqs = conn.execute(sa.select(CrawlItem.seq).order_by(CrawlItem.seq)).scalars().all()
    assert seqs == list(range(CRAWL.max_videos)), "duplicated or missing members"
    assert load_run(engine, resumed["run_id"]).status == "finished"
    engine.dispose()


@pytest.mark.browser
def test_ctrl_c_stops_after_the_step_and_the_run_resumes(sqlite_cli, sandbox_site, expected_crawl):
    import os

    db = sqlite_cli.home / "catalog.db"
    cmd = [str(Path(sys.executable).with_name("curate")), "--home", str(sqlite_cli.home), *crawl_args(sandbox_site.base_url, "tiktokapi"), "--rate", "4"]
    # a terminal's Ctrl-C reaches the whole foreground process group: the crawl and its browser
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_writes(db.parent, lambda: _members(db) > 0, 120, "a first crawl member stored", gone=lambda: child.poll() is not None)
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    summary = json.loads(out)
    assert summary["status"] == "interrupted" and summary["stop_reason"] == "interrupted by the user"
    assert 0 < summary["videos"] < CRAWL.max_videos and "Traceback" not in err
    resumed = json.loads(sqlite_cli("crawl", "--resume", "latest", "--json").stdout)
    assert resumed["status"] == "finished" and stored_graph(sqlite_cli.db_url, resumed["run_id"]) == expected_crawl
