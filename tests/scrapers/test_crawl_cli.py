"""``curate crawl`` as a user meets it: clean one-line errors, the summary, time budgets, failures; politeness."""

from __future__ import annotations

import json

import pytest

from scrapers.politeness import Politeness, RateLimiter, RetryPolicy
from scrapers.answers import transport_error
from scrapers.source import RateLimited, TransientError
from tests.scrapers.test_backend_crawl import crawl_args, fast_retries, stored_graph


@pytest.mark.parametrize("args, message", [
    (["--source", "bogus"], "--source 'bogus': choose one of tiktokapi, playwright, selenium, ytdlp"),
    (["--time-budget", "5x"], "--time-budget '5x'"),
    (["--base-url", "ftp://example.org"], "--base-url 'ftp://example.org'"),
    (["--resume", "99"], "no crawl run 99 in the catalog"),
    (["--resume", "latest"], "the catalog has no crawl run yet"),
])
def test_bad_input_gives_one_clean_line(sqlite_cli, args, message):
    result = sqlite_cli("crawl", *args, ok=False)
    assert result.exit_code in (1, 2)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_the_summary_table_and_a_finished_run_that_cannot_resume(sqlite_cli, sandbox_site):
    table = sqlite_cli(*[a for a in crawl_args(sandbox_site.base_url, "ytdlp") if a != "--json"]).stdout
    for row in ("status", "finished", "depth histogram", "requests", "retries", "skipped videos", "unavailable: 1", "missing fields"):
        assert row in table
    again = sqlite_cli("crawl", "--resume", "latest", ok=False)
    assert again.exit_code == 1 and "is finished (max_videos); nothing to resume" in again.stderr


def test_a_time_budget_stops_the_run_and_resume_finishes_it(sqlite_cli, sandbox_site, expected_crawl):
    stopped = json.loads(sqlite_cli(*crawl_args(sandbox_site.base_url, "ytdlp", "--time-budget", "0")).stdout)
    assert stopped["status"] == "interrupted" and "time budget" in stopped["stop_reason"] and stopped["videos"] == 0
    done = json.loads(sqlite_cli("crawl", "--resume", str(stopped["run_id"]), "--json").stdout)
    assert done["status"] == "finished" and stored_graph(sqlite_cli.db_url, done["run_id"]) == expected_crawl


def test_a_site_that_does_not_answer_fails_the_run_resumably(sqlite_cli):
    fast_retries(sqlite_cli)
    (sqlite_cli.home / "config.toml").write_text("[crawl]\nbackoff = 0.01\nattempts = 2\n")
    result = sqlite_cli(*crawl_args("http://127.0.0.1:9", "ytdlp"), ok=False)
    summary = json.loads(result.stdout)
    assert result.exit_code == 4 and summary["status"] == "failed"
    assert summary["stop_reason"].startswith("gave up after 2 attempts: the For-You feed")
    assert summary["retries_by_reason"] == {"connection": 1}
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"curate crawl --resume {summary['run_id']}" in lines[0]


def test_the_rate_limiter_spaces_requests_with_bounded_jitter():
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(rate=2, jitter=0.5, clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(50):
        limiter.wait()
        starts.append(now[0])
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(0.5 - 1e-9 <= g <= 0.75 + 1e-9 for g in gaps) and max(gaps) - min(gaps) > 0.05
    off = RateLimiter(rate=0, sleep=lambda s: pytest.fail("the limit is off"))
    for _ in range(5):
        off.wait()


def test_retries_back_off_honour_retry_after_and_give_up():
    waits: list[float] = []
    policy = RetryPolicy(Politeness(attempts=4, backoff=0.1, backoff_max=5.0), sleep=waits.append)
    answers = iter([RateLimited("429", retry_after=3.0), TransientError("503", reason="http_503"), "ok"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert policy.call(call) == "ok"
    assert waits[0] >= 3.0 and waits[1] < 1.0
    assert dict(policy.retries) == {"http_429": 1, "http_503": 1}
    with pytest.raises(TransientError, match="always"):
        policy.call(lambda: (_ for _ in ()).throw(TransientError("always", reason="http_500")))
    assert policy.retries["http_500"] == 3


@pytest.mark.parametrize("message, kind", [
    ("Page.goto: net::ERR_NAME_NOT_RESOLVED at https://www.tiktok.com/", "Unreachable"),
    ("Failed to resolve 'www.tiktok.com' ([Errno -2] Name or service not known)", "Unreachable"),
    ("net::ERR_CONNECTION_REFUSED", "TransientError"),
    ("Timeout 30000ms exceeded", "TransientError"),
])
def test_transport_failures_are_told_apart(message, kind):
    from scrapers.answers import transport_error

    assert type(transport_error(message, "the feed")).__name__ == kind


def test_an_unreachable_site_stops_the_run_without_backing_off():
    from scrapers.crawl import Crawler
    from scrapers.frontier import RandomFrontier
    from scrapers.sinks import MemorySink
    from scrapers.source import Unreachable
    from tests.scrapers.crawl_fakes import FakeSource
    from tests.scrapers.test_crawl_engine import PARAMS

    class Offline(FakeSource):
        def feed(self, count, cursor=None):
            self.stats.requests += 1
            raise Unreachable("the feed: the site cannot be reached (ERR_NAME_NOT_RESOLVED)")

    slept: list[float] = []
    result = Crawler(Offline(), RandomFrontier(1), MemorySink(), PARAMS, Politeness(rate=0), sleep=slept.append).run()
    assert result.status == "failed" and "cannot be reached" in result.stop_reason
    assert result.stats.requests == 1 and not slept


def test_a_backend_that_cannot_start_says_why_and_leaves_no_run_behind(sqlite_cli):
    result = sqlite_cli("crawl", "--source", "selenium", "--proxy", "http://user:s3cretPw@127.0.0.1:9", "--base-url", "http://127.0.0.1:9", ok=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 3 and len(lines) == 1 and "takes no credentials" in lines[0]
    assert "s3cretPw" not in result.output
    assert json.loads(sqlite_cli("status", "--json").stdout)["crawl_runs"] == 0
