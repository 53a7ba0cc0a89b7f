"""``curate query`` as a user meets it: clean errors, the summary, resuming a failed run and one killed with -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa

from db.engine import create_catalog_engine
from tests.sandbox.test_research_double import expected_ids
from tests.waiting import wait_on_site
from tests.scrapers.test_research_query import QUERY, REGIONS


@pytest.fixture
def query_file(tmp_path):
    path = tmp_path / "query.json"
    path.write_text(json.dumps({"query": QUERY}))
    return path


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("CURATE_RESEARCH_CLIENT_KEY", "cli-key-0001")
    monkeypatch.setenv("CURATE_RESEARCH_CLIENT_SECRET", "cli-secret-0002")


@pytest.mark.parametrize("args, message", [
    (["missing.json", "--start", "20241201", "--end", "20241207"], "query file not found"),
    (["QUERY", "--start", "2024-12-01", "--end", "20241207"], "--start '2024-12-01': give a day as YYYYMMDD"),
    (["QUERY", "--start", "20241207", "--end", "20241201"], "--end 20241201 is before --start 20241207"),
    (["QUERY", "--start", "20241201"], "give a query FILE with --start and --end"),
    (["BAD", "--start", "20241201", "--end", "20241207"], "a query is an object with and, or, not lists"),
    (["QUERY", "--start", "20241201", "--end", "20241207", "--on-quota", "sometimes"], "--on-quota 'sometimes'"),
    (["--resume", "7"], "no crawl run 7 in the catalog"),
])
def test_bad_input_gives_one_clean_line(sqlite_cli, credentials, query_file, tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text('{"where": []}')
    args = [str(query_file) if a == "QUERY" else str(bad) if a == "BAD" else a for a in args]
    result = sqlite_cli("query", *args, "--base-url", "http://127.0.0.1:9", ok=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code in (1, 2) and len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_no_credentials_is_one_clean_line(sqlite_cli, query_file, monkeypatch):
    monkeypatch.delenv("CURATE_RESEARCH_CLIENT_KEY", raising=False)
    monkeypatch.delenv("CURATE_RESEARCH_CLIENT_SECRET", raising=False)
    result = sqlite_cli("query", query_file, "--start", "20241201", "--end", "20241207", ok=False)
    assert result.exit_code == 2 and "CURATE_RESEARCH_CLIENT_KEY" in result.stderr and "Traceback" not in result.output


def test_a_failed_run_says_so_and_its_resume_collects_the_failed_windows(cli, credentials, query_file, research_site, research_world):
    research_site.routes.research.config.internal_error = 1.0
    args = ["query", query_file, "--start", "20241201", "--end", "20241202", "--window-days", "2", "--base-url", research_site.base_url, "--json"]
    failed = cli(*args, ok=False)
    assert failed.exit_code == 4 and "resume with: curate query --resume 1" in failed.stderr
    summary = json.loads(failed.stdout)
    assert summary["status"] == "failed" and summary["windows"]["failed"] == 2 and summary["videos"] == 0
    assert summary["quota_today"]["requests"] == summary["requests"] == 3 * 4  # 3 windows × 4 attempts, each spending quota
    research_site.routes.research.config.internal_error = 0.0
    done = json.loads(cli("query", "--resume", "1", "--json").stdout)
    assert done["status"] == "finished" and done["windows"] == {"done": 2, "failed": 0, "pending": 0, "splits": 1}
    assert done["videos"] == len(expected_ids(research_world, "20241201", "20241203", set(REGIONS))) > 0
    assert done["end"] == "20241202" and done["min_requests_per_1000_records"] == 10.0
    assert "cli-key-0001" not in failed.output + done["stop_reason"]


def test_a_run_killed_with_sigkill_resumes_with_nothing_lost_or_doubled(cli, credentials, query_file, research_site, research_world):
    cli("init")
    env = {**os.environ, "CURATE_HOME": str(cli.home), "CURATE_DB_URL": cli.db_url}
    command = [sys.executable, "-m", "curate.cli", "query", str(query_file), "--start", "20241110", "--end", "20241231",
               "--max-count", "10", "--rate", "25", "--base-url", research_site.base_url, "--json"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = create_catalog_engine(cli.db_url)
    try:
        def pages() -> int:
            with engine.connect() as conn:
                state = conn.execute(sa.text("select state from crawl_run where id = 1")).scalar()
            state = json.loads(state) if isinstance(state, str) else state  # JSON text on SQLite, a JSON value on Postgres
            return (state or {}).get("pages", 0)

        # re-checked as the double answers each page the child asks for
        wait_on_site(research_site, lambda: pages() >= 4 or child.poll() is not None, 60, "four pages committed")
        assert child.poll() is None, "the run ended before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    done = json.loads(cli("query", "--resume", "1", "--json").stdout)
    assert done["status"] == "finished"
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(sa.text("select seq from crawl_item where run_id = 1 order by seq"))]
        ids = {r[0] for r in conn.execute(sa.text("select video_id from crawl_item where run_id = 1"))}
    engine.dispose()
    assert seqs == list(range(len(seqs)))
    assert ids == expected_ids(research_world, "20241110", "20250101", set(REGIONS))
