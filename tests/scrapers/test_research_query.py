"""Research API query runs against the double: windows, pages, retries, splits, quota, tokens, secrets."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from db.crawl_state import load_members, load_run
from db.quota import quota_spent
from scrapers.backends.research_api import ResearchApiClient, ResearchApiSource, ResearchCredentials
from scrapers.politeness import Politeness
from scrapers.query_run import QueryLimits, QueryParams, QueryProgress, QueryRunner, split_window, windows
from scrapers.runs import start_query_run
from scrapers.source import NotFound
from tests.sandbox.test_research_double import expected_ids

REGIONS = ["US", "GB", "DE", "FR", "ES", "IT"]
QUERY = {"and": [{"operation": "IN", "field_name": "region_code", "field_values": REGIONS}]}
FAST = Politeness(rate=0, backoff=0.0, backoff_max=0.0)
_keys = itertools.count()


def run_query(engine, site, params, limits=None, key=None, run_id=None, sleep=None, on_page=None, secret="secret-456"):
    """Starts (or resumes ``run_id``) a query run over the double; returns (result, run id, client)."""
    if run_id is None:
        progress = QueryProgress(pending=windows(params.start, params.end, params.window_days))
        run_id = start_query_run(engine, site.base_url, params.as_dict(), progress.as_dict())
    record = load_run(engine, run_id)
    members = {m["video_id"] for m in load_members(engine, run_id)}
    client = ResearchApiClient(ResearchCredentials(key or f"key-{next(_keys)}", secret), site.base_url)
    extra = {"sleep": sleep} if sleep is not None else {}
    with client:
        runner = QueryRunner(engine, run_id, client, QueryParams.from_dict(record.params["query_run"]),
                             QueryProgress.from_dict(record.state), members, limits=limits or QueryLimits(search_wait_s=0),
                             politeness=FAST, on_page=on_page, **extra)
        return runner.run(), run_id, client


def run_members(engine, run_id) -> set[str]:
    return {m["video_id"] for m in load_members(engine, run_id)}


def test_windows_cover_the_span_without_overlap():
    assert windows("20241201", "20241220", 7) == [["20241201", "20241208"], ["20241208", "20241215"], ["20241215", "20241220"]]
    assert split_window(["20241201", "20241208"]) == [["20241201", "20241204"], ["20241204", "20241208"]]
    assert split_window(["20241201", "20241202"]) is None


def test_a_query_collects_every_matching_video_into_the_catalog(engine, research_site, research_world):
    params = QueryParams(QUERY, "20241120", "20250101", window_days=7)
    result, run_id, client = run_query(engine, research_site, params)
    assert result.status == "finished", result.stop_reason
    assert run_members(engine, run_id) == expected_ids(research_world, "20241120", "20250101", set(REGIONS))
    progress = result.progress
    assert len(progress.done) == 6 and not progress.pending and not progress.failed
    # the ledger holds exactly what the double counted
    spent = quota_spent(engine, client.api_name, "20250101")
    assert spent.requests == progress.data_requests == research_site.routes.research.usage(client.credentials.client_key)["requests"]
    assert spent.records == progress.records
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select v.author_id, v.width, v.url, o.plays, o.author_followers, o.source from video v "
                                    "join metric_observation o on o.video_id = v.id")).all()
    assert rows and all(r[0].startswith("@") and r[1] is None and r[4] is None and r[5] == f"query:{run_id}" for r in rows)
    assert all(r[2].startswith(research_site.base_url + "/@") for r in rows)
    # fields the API does not give are counted as missing, never invented
    assert result.stats.missing["author_followers"] == progress.records and result.stats.missing["width"] == progress.records


def test_long_windows_that_keep_failing_are_split_and_collected_in_full(sqlite_engine, research_site, research_world):
    research_site.routes.research.config.internal_error = 0.25  # a 30-day window always fails, a week now and then
    params = QueryParams(QUERY, "20241201", "20241231", window_days=30)
    result, run_id, _ = run_query(sqlite_engine, research_site, params)
    assert result.status == "finished", result.stop_reason
    assert result.progress.splits >= 1 and result.stats.retries["internal_error_gave_up"] >= 1
    assert run_members(sqlite_engine, run_id) == expected_ids(research_world, "20241201", "20241231", set(REGIONS))


def test_a_day_that_still_fails_is_recorded_as_failed_not_skipped(sqlite_engine, research_site):
    research_site.routes.research.config.internal_error = 1.0
    params = QueryParams(QUERY, "20241201", "20241203", window_days=2)
    result, run_id, _ = run_query(sqlite_engine, research_site, params, limits=QueryLimits(internal_retries=2))
    assert result.status == "failed"
    assert result.progress.failed == [{"start": "20241201", "end": "20241202", "reason": "internal_error"},
                                      {"start": "20241202", "end": "20241203", "reason": "internal_error"}]
    assert "2 window(s) failed" in load_run(sqlite_engine, run_id).stop_reason
    # 3 windows (the 2-day one, then its halves) × 3 attempts, each spending quota
    assert result.progress.data_requests == 9


def test_expired_search_ids_are_retried_then_the_window_is_split(sqlite_engine, research_site, research_world):
    research_site.routes.research.config.expired_search = 1.0  # every follow-up page is refused
    params = QueryParams(QUERY, "20241201", "20241231", window_days=30, max_count=50)
    result, run_id, _ = run_query(sqlite_engine, research_site, params)
    assert result.status == "finished", result.stop_reason
    assert result.stats.retries["search_id_expired"] == 5 * result.stats.retries["search_id_expired_gave_up"] > 0
    assert run_members(sqlite_engine, run_id) == expected_ids(research_world, "20241201", "20241231", set(REGIONS))


def test_the_ledger_stops_a_run_and_a_resumed_run_knows_what_is_left(sqlite_engine, research_site, research_world):
    params = QueryParams(QUERY, "20241120", "20250101", window_days=7)
    limits = QueryLimits(daily_requests=3, on_quota="stop", search_wait_s=0)
    first, run_id, client = run_query(sqlite_engine, research_site, params, limits, key="ledger-client")
    assert first.status == "blocked" and "resets at 2025-01-02T00:00:00+00:00" in first.stop_reason
    asked = research_site.routes.research.usage("ledger-client")["requests"]
    assert asked == 3 == quota_spent(sqlite_engine, client.api_name, "20250101").requests
    again, _, _ = run_query(sqlite_engine, research_site, params, limits, key="ledger-client", run_id=run_id)
    assert again.status == "blocked" and research_site.routes.research.usage("ledger-client")["requests"] == asked
    research_world.clock.advance(86_400)
    done, _, _ = run_query(sqlite_engine, research_site, params, QueryLimits(daily_requests=100, on_quota="stop"), key="ledger-client", run_id=run_id)
    assert done.status == "finished", done.stop_reason
    assert run_members(sqlite_engine, run_id) == expected_ids(research_world, "20241120", "20250101", set(REGIONS))


def test_a_429_waits_for_midnight_on_the_apis_clock(sqlite_engine, research_site, research_world):
    research_site.routes.research.config.daily_requests = 2
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        research_world.clock.advance(seconds)

    params = QueryParams(QUERY, "20241201", "20241231", window_days=7)
    at_start = expected_ids(research_world, "20241201", "20241231", set(REGIONS))
    result, run_id, client = run_query(sqlite_engine, research_site, params, sleep=sleep)
    assert result.status == "finished", result.stop_reason
    assert slept[0] == 86_401.0  # from 2025-01-01 00:00 (the double's Date) to the next midnight, plus a second
    assert len(slept) >= 2 and quota_spent(sqlite_engine, client.api_name, "20250101").exhausted
    # days passed while it waited: videos deleted meanwhile may be missing, nothing else
    at_end = expected_ids(research_world, "20241201", "20241231", set(REGIONS))
    assert at_end <= run_members(sqlite_engine, run_id) <= at_start


def test_an_expired_token_is_renewed_in_the_middle_of_a_run(sqlite_engine, research_site, research_world):
    def two_hours_later(runner):
        if runner.progress.pages == 1:
            research_world.clock.advance(7200)

    params = QueryParams(QUERY, "20241201", "20241231", window_days=7)
    result, _, client = run_query(sqlite_engine, research_site, params, on_page=two_hours_later)
    assert result.status == "finished", result.stop_reason
    assert research_site.stats["endpoints"]["research_token"] == 2
    assert research_site.routes.research.stats["access_token_invalid"] == 1


def test_refused_credentials_stop_the_run_and_never_reach_the_catalog(sqlite_engine, research_site):
    research_site.routes.research.config.client_key, research_site.routes.research.config.client_secret = "the-right-key", "the-right-secret"
    params = QueryParams(QUERY, "20241201", "20241208")
    result, run_id, _ = run_query(sqlite_engine, research_site, params, key="wrong-key-1234", secret="wrong-secret-5678")
    assert result.status == "blocked" and "refused the client key and secret" in result.stop_reason
    with sqlite_engine.connect() as conn:
        dump = " ".join(str(row) for t in ("crawl_run", "api_quota") for row in conn.execute(sa.text(f"select * from {t}")))
    assert "wrong-key-1234" not in dump and "wrong-secret-5678" not in dump and str(run_id) in dump


def test_one_video_by_id_through_the_source_protocol(research_site, research_world):
    public = research_world.videos[research_world.videos["visibility"] == "public"]["video_id"].iloc[0]
    private = research_world.videos[research_world.videos["visibility"] == "private"]["video_id"].iloc[0]
    with ResearchApiSource(ResearchApiClient(ResearchCredentials("k-src", "secret"), research_site.base_url)) as source:
        item = source.video(public)
        assert item.video.id == public and item.metrics.plays == research_world.counts_now(research_world.row(public))["plays"]
        with pytest.raises(NotFound):
            source.video(private)
