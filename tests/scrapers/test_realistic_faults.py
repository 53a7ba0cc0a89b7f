"""The realistic mix of faults through ``curate crawl``, with the session blocked half way: every backend
stops ``blocked`` with a one-line reason (never ``finished``), and once the faults are lifted
``--resume`` reaches exactly the fault-free result."""

from __future__ import annotations

import json

import pytest

from tests.scrapers.test_backend_crawl import BACKENDS, crawl_args, fast_retries, stored_graph

#: requests (API calls and pages) a session makes before the site blocks it: about half the crawl
BLOCK_AFTER = 6


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_realistic_mix_then_resume_with_faults_lifted_reaches_the_fault_free_result(backend, sqlite_cli, sandbox_world, expected_crawl):
    from sandbox import FaultPlan, serve

    fast_retries(sqlite_cli)
    with serve(sandbox_world, faults="realistic", fault_seed=2, slow_s=0.01, retry_after_s=0.01, block_after=BLOCK_AFTER) as site:
        stopped = sqlite_cli(*crawl_args(site.base_url, backend), ok=False)
        first = json.loads(stopped.stdout)
        assert site.stats["faults_total"] > 0 and site.stats["blocked"] > 0
        assert stopped.exit_code == 4 and first["status"] == "blocked", first
        assert "\n" not in first["stop_reason"] and " — " in first["stop_reason"], "says what to do"
        assert 0 < first["videos"] < 40
        site.set_faults(FaultPlan())
        resumed = json.loads(sqlite_cli("crawl", "--resume", str(first["run_id"]), "--json").stdout)
    assert resumed["status"] == "finished"
    assert stored_graph(sqlite_cli.db_url, first["run_id"]) == expected_crawl
