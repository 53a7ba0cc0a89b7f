"""Each hostile answer of the sandbox, alone, makes each backend end the way ``scrapers.answers`` says.

One site and one browser per backend serve every kind: the site's faults are swapped between crawls
(fresh draws, sessions and sticky faults). A kind applies at rate 1 to every endpoint it can strike.
Sleeps are recorded, not slept: the back-off and ``Retry-After`` show as requested waits.
"""

from __future__ import annotations

import pytest

from sandbox import FaultPlan
from scrapers.crawl import CrawlParams, Crawler
from scrapers.frontier import RandomFrontier
from scrapers.politeness import Politeness
from scrapers.sinks import MemorySink
from tests.scrapers.crawl_fakes import WorldSource

BACKENDS = ["ytdlp", "tiktokapi", "playwright", "selenium"]
SMALL = CrawlParams(seed=5, fanout=2, max_videos=12, random_seed=3)
#: more seeds than one feed page holds, so that a stuck feed is met
MANY_SEEDS = CrawlParams(seed=40, fanout=2, max_videos=44, random_seed=3)
RETRY_AFTER_S = 0.25
EXPECTED = "the fault-free result"

#: kind → (status, what the stop reason says | the skips | EXPECTED), "*" for every backend not named
ENDS: dict[str, dict[str, tuple[str, object]]] = {
    "429": {"*": ("failed", "HTTP 429")},
    "5xx": {"*": ("failed", "HTTP 5")},
    "drop": {"*": ("failed", "gave up")},
    "malformed": {"*": ("failed", "gave up")},
    "slow": {"*": ("finished", EXPECTED)},
    "403": {"*": ("blocked", "HTTP 403")},
    "captcha": {"*": ("blocked", "captcha")},
    "verify": {"*": ("blocked", "captcha required (a verify answer")},
    "verify_html": {"*": ("blocked", "HTML verify page")},
    "empty": {"*": ("blocked", "empty response body")},
    "status0": {"*": ("blocked", "no item list")},
    "status_code0": {"*": ("blocked", "no item list")},
    "ipblock": {"*": ("blocked", "IP blocked")},
    "private": {"*": ("finished", {"private": SMALL.seed})},
    "10222": {"*": ("finished", {"private": SMALL.seed})},
    "10201": {"*": ("finished", {"not_found": SMALL.seed})},
    "challenge": {"ytdlp": ("finished", EXPECTED), "*": ("finished", EXPECTED)},
    # yt-dlp loads no page in a crawl; TikTokApi loads one, when its session starts (before the fault here)
    "overlay": {"ytdlp": ("finished", EXPECTED), "tiktokapi": ("finished", EXPECTED), "*": ("blocked", "captcha")},
    "unsigned": {"ytdlp": ("blocked", "empty response body"), "*": ("finished", EXPECTED)},
    "repeat": {"*": ("blocked", "the same page again and again")},
}


def expected_end(kind: str, backend: str) -> tuple[str, object]:
    table = ENDS[kind]
    return table.get(backend, table["*"])


@pytest.fixture(scope="module")
def site(sandbox_world):
    from sandbox import serve

    with serve(sandbox_world, slow_s=0.01, retry_after_s=RETRY_AFTER_S) as running:
        yield running


def world_result(world, params: CrawlParams):
    sink = MemorySink()
    Crawler(WorldSource(world), RandomFrontier(params.random_seed), sink, params, Politeness(rate=0)).run()
    return {m.video_id for m in sink.members}, {(e.parent_id, e.child_id) for e in sink.edges}


def crawl(source, params: CrawlParams):
    """One crawl of ``params`` over an open source; returns the sink and the waits it asked for."""
    waits: list[float] = []
    sink = MemorySink()
    politeness = Politeness(rate=0, attempts=4, backoff=0.001, backoff_max=5)
    Crawler(source, RandomFrontier(params.random_seed), sink, params, politeness, sleep=waits.append).run()
    return sink, waits


@pytest.fixture(scope="module", params=BACKENDS)
def source(request, site):
    from curate.commands.crawl import build_source
    from scrapers.source import SourceSecrets

    with build_source(request.param, site.base_url, SourceSecrets(), timeout=10) as opened:
        yield request.param, opened


@pytest.mark.browser
@pytest.mark.parametrize("kind", list(ENDS))
def test_each_hostile_answer_ends_each_backend_as_the_table_says(kind, source, site, sandbox_world):
    backend, opened = source
    params = MANY_SEEDS if kind == "repeat" else SMALL
    site.set_faults(FaultPlan.parse({kind: 1.0}, slow_s=0.01, retry_after_s=RETRY_AFTER_S))
    try:
        sink, waits = crawl(opened, params)
    finally:
        site.set_faults(FaultPlan())
    status, expected = expected_end(kind, backend)
    assert sink.status == status, (kind, backend, sink.stop_reason)
    assert "\n" not in (sink.stop_reason or "")
    if expected == EXPECTED:
        members = {m.video_id for m in sink.members}
        assert (members, {(e.parent_id, e.child_id) for e in sink.edges}) == world_result(sandbox_world, params)
    elif isinstance(expected, dict):
        assert dict(sink.stats["skips"]) == expected and sink.stats["retries"]["confirm_skip"] == params.seed
    else:
        assert expected in sink.stop_reason, (kind, backend, sink.stop_reason)
    if status == "blocked":
        assert " — " in sink.stop_reason, "a block says what the user can do"
    if kind == "429":
        assert sum(waits) >= RETRY_AFTER_S * 3 - 1e-6, "the server's Retry-After is honoured (3 retries)"
    if kind in ("empty", "status0", "status_code0") or (kind == "unsigned" and backend == "ytdlp"):
        from scrapers.answers import SOFT_BLOCK_ATTEMPTS

        assert sum(sink.stats["retries"].values()) == SOFT_BLOCK_ATTEMPTS - 1, "a soft block is asked again first"


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_strict_site_is_crawled_by_the_browsers_and_refuses_unsigned_calls(backend, sandbox_world):
    from curate.commands.crawl import build_source
    from sandbox import serve
    from scrapers.source import SourceSecrets

    with serve(sandbox_world, strict=True) as strict, build_source(backend, strict.base_url, SourceSecrets(), timeout=10) as opened:
        sink, _ = crawl(opened, MANY_SEEDS)
        unsigned = strict.stats["faults"].get("unsigned", 0)
    if backend == "ytdlp":
        assert sink.status == "blocked" and "empty response body" in sink.stop_reason and unsigned == 3
        assert "--source playwright or tiktokapi" in sink.stop_reason
        return
    assert sink.status == "finished" and unsigned == 0, sink.stop_reason
    members = {m.video_id for m in sink.members}
    assert (members, {(e.parent_id, e.child_id) for e in sink.edges}) == world_result(sandbox_world, MANY_SEEDS)
    skipped = sink.stats["payload_skips"]
    assert skipped.get("ad", 0) > 0 and skipped.get("photo_post", 0) > 0, skipped


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["playwright", "selenium", "tiktokapi"])
def test_a_headless_browser_refused_by_a_strict_site_is_blocked_and_a_headed_one_gets_through(backend, sandbox_world):
    from curate.commands.crawl import build_source
    from sandbox import serve
    from scrapers.source import BackendUnavailable, SourceSecrets

    with serve(sandbox_world, strict=True, refuse_automation=True) as strict:
        if backend == "tiktokapi":  # its session starts on the home page: refused there, it cannot start
            with pytest.raises(BackendUnavailable, match="HTTP 403.*--headed"):
                build_source(backend, strict.base_url, SourceSecrets(), timeout=10).__enter__()
        else:
            with build_source(backend, strict.base_url, SourceSecrets(), timeout=10) as headless:
                refused, _ = crawl(headless, SMALL)
            assert refused.status == "blocked" and "HTTP 403" in refused.stop_reason and "--headed" in refused.stop_reason
        with build_source(backend, strict.base_url, SourceSecrets(), timeout=10, headed=True) as headed:
            passed, _ = crawl(headed, SMALL)
    assert passed.status == "finished", passed.stop_reason
    assert ({m.video_id for m in passed.members}, {(e.parent_id, e.child_id) for e in passed.edges}) == world_result(sandbox_world, SMALL)


def test_stray_private_answers_are_confirmed_so_the_crawl_keeps_its_path(sandbox_world, expected_crawl):
    """1 in 20 related answers says "private" at random; asked again, the video answers: nothing is lost."""
    from curate.commands.crawl import build_source
    from sandbox import serve
    from scrapers.source import SourceSecrets
    from tests.scrapers.conftest import CRAWL

    with serve(sandbox_world, faults="private:0.05", fault_seed=4) as faulty:
        with build_source("ytdlp", faulty.base_url, SourceSecrets(), timeout=10) as opened:
            sink, _ = crawl(opened, CRAWL)
        injected = faulty.stats["faults"].get("private", 0)
    assert sink.status == "finished" and injected > 0
    assert sink.stats["retries"]["confirm_skip"] >= injected
    assert ({m.video_id for m in sink.members}, {(e.parent_id, e.child_id) for e in sink.edges}) == expected_crawl


def test_headed_is_refused_for_the_backend_without_a_browser():
    from core.errors import ConfigError
    from curate.commands.crawl import build_source
    from scrapers.source import SourceSecrets

    with pytest.raises(ConfigError, match="drives no browser"):
        build_source("ytdlp", None, SourceSecrets(), timeout=10, headed=True)
