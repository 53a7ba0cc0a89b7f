"""The crawl engine on an in-memory platform: the algorithm, stops, faults, blocks and exact resumes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from scrapers.crawl import MAX_RELATED_PAGES, WITHHELD_ATTEMPTS, CrawlParams, Crawler, CrawlStats, progress_from_state
from scrapers.frontier import Member, RandomFrontier
from scrapers.politeness import Politeness
from scrapers.sinks import MemorySink
from scrapers.source import TransientError
from tests.scrapers.crawl_fakes import FakeSource

FAST = Politeness(rate=0, backoff=0.0, backoff_max=0.0, attempts=10)
SLOW_BACKOFF = Politeness(rate=0, backoff=1.0, attempts=10)
PARAMS = CrawlParams(seed=8, fanout=4, max_videos=80, random_seed=11)


def run(source, params=PARAMS, sink=None, frontier=None, progress=None, stats=None, politeness=FAST, **kw):
    sink = sink if sink is not None else MemorySink()
    frontier = frontier or RandomFrontier(params.random_seed, params.max_depth)
    kw.setdefault("sleep", lambda s: None)
    crawler = Crawler(source, frontier, sink, params, politeness, progress, stats, **kw)
    return crawler.run(), sink


def resume(source, params, sink):
    expanded = set(sink.expanded)
    members = [Member(m.video_id, m.seq, m.depth, m.parent_id, m.video_id in expanded) for m in sink.members]
    frontier = RandomFrontier.restore(members, sink.state.get("rng"), params.random_seed, params.max_depth)
    return run(source, params, sink, frontier, progress_from_state(sink.state), CrawlStats.from_dict(sink.stats))


def graph(sink):
    return [m.video_id for m in sink.members], {(e.parent_id, e.child_id) for e in sink.edges}


def test_the_algorithm_seeds_from_the_feed_then_expands_random_members():
    result, sink = run(FakeSource())
    assert result.status == "finished" and result.stop_reason == "max_videos"
    assert len(sink.members) == 80 == len({m.video_id for m in sink.members})
    seeds = [m for m in sink.members if m.depth == 0]
    assert len(seeds) == 8 and all(m.parent_id is None for m in seeds)
    by_id = {m.video_id: m for m in sink.members}
    for m in sink.members:
        if m.parent_id is not None:
            assert m.depth == by_id[m.parent_id].depth + 1
            assert (m.parent_id, m.video_id) in {(e.parent_id, e.child_id) for e in sink.edges}
    assert len(sink.expanded) == len(set(sink.expanded)), "a video was expanded twice"
    assert all(e.parent_id in set(sink.expanded) for e in sink.edges)
    assert sum(result.depths.values()) == 80 and max(result.depths) >= 2


def test_same_random_seed_same_crawl_and_another_seed_another():
    first, second = graph(run(FakeSource())[1]), graph(run(FakeSource())[1])
    other = graph(run(FakeSource(), replace(PARAMS, random_seed=12))[1])
    assert first == second
    assert set(first[0]) != set(other[0])


def test_fanout_takes_the_first_related_videos_and_edges_point_at_members():
    _, sink = run(FakeSource(), replace(PARAMS, fanout=2))
    members = {m.video_id for m in sink.members}
    per_parent = Counter(e.parent_id for e in sink.edges)
    assert max(per_parent.values()) <= 2
    assert all(e.child_id in members for e in sink.edges)


def test_max_depth_stops_the_crawl_and_says_so():
    result, sink = run(FakeSource(), replace(PARAMS, max_depth=1, max_videos=10_000))
    assert result.stop_reason == "max_depth"
    assert {m.depth for m in sink.members} == {0, 1}
    assert len(sink.expanded) == 8  # only the seeds could be expanded


def test_a_small_graph_is_exhausted():
    result, sink = run(FakeSource(n=30, related_len=6), replace(PARAMS, max_videos=10_000))
    assert result.stop_reason == "exhausted"
    assert len(sink.expanded) == len(sink.members) <= 30


def test_time_budget_stops_cleanly_as_interrupted():
    ticks = iter(range(0, 10_000))
    result, sink = run(FakeSource(), time_budget=5, clock=lambda: float(next(ticks)))
    assert result.status == "interrupted" and "time budget" in result.stop_reason
    assert 0 < len(sink.members) < 80


def test_transient_faults_are_retried_and_counted_and_change_nothing():
    _, clean = run(FakeSource())
    result, faulty = run(FakeSource(transient_rate=0.3))
    assert graph(faulty) == graph(clean)
    assert result.stats.retries["http_429"] > 0 and result.stats.retries["http_503"] > 0
    assert faulty.stats["requests"] == result.stats.requests > clean.stats["requests"]


def test_retries_that_run_out_stop_the_run_as_failed_and_resumable():
    source = FakeSource(transient_rate=0.6)
    params = PARAMS
    crawler = Crawler(source, RandomFrontier(11), MemorySink(), params, replace(FAST, attempts=2), sleep=lambda s: None)
    result = crawler.run()
    assert result.status == "failed" and result.stop_reason.startswith("gave up after 2 attempts")


@pytest.mark.parametrize("block_after", [1, 2, 5, 9, 14, 20])
def test_a_block_stops_cleanly_and_the_resume_equals_an_uninterrupted_run(block_after):
    _, clean = run(FakeSource())
    result, sink = run(FakeSource(block_after=block_after))
    assert result.status == "blocked" and result.stop_reason.startswith("captcha")
    assert len(sink.members) < 80
    final, sink = resume(FakeSource(), PARAMS, sink)
    assert final.status == "finished"
    assert graph(sink) == graph(clean)
    assert len(sink.expanded) == len(set(sink.expanded))


def test_private_videos_are_skipped_with_a_reason():
    ids = FakeSource().ids()
    result, sink = run(FakeSource(private=frozenset(ids[:200])))
    assert result.stats.skips["private"] > 0
    assert set(sink.skipped.values()) == {"private"}
    assert not any(e.parent_id in sink.skipped for e in sink.edges)


def test_deleted_videos_are_asked_again_then_skipped_while_the_feed_answers():
    ids = FakeSource().ids()
    source = FakeSource(deleted=frozenset(ids[::3]))
    result, sink = run(source)
    assert result.status == "finished"
    assert result.stats.skips["unavailable"] == len(set(sink.skipped) & set(ids[::3])) > 0
    asked = Counter(c for c in source.calls if c.startswith("related:"))
    assert all(asked[f"related:{v}:None"] == WITHHELD_ATTEMPTS for v in sink.skipped)
    assert result.stats.retries["withheld"] == (WITHHELD_ATTEMPTS - 1) * len(sink.skipped)


@pytest.mark.parametrize("after", [0, 6])
def test_an_ip_block_stops_the_run_as_blocked_and_it_resumes(after):
    _, clean = run(FakeSource())
    result, sink = run(FakeSource(ipblock_after=after))
    assert result.status == "blocked" and result.stop_reason.startswith("IP blocked")
    assert not sink.skipped, "a blocked session must not be mistaken for deleted videos"
    final, sink = resume(FakeSource(), PARAMS, sink)
    assert final.status == "finished" and graph(sink) == graph(clean)


def test_related_paging_is_bounded_even_when_the_site_says_has_more_forever():
    source = FakeSource(endless_related=True)
    result, sink = run(source, replace(PARAMS, max_videos=40))
    related_calls = [c for c in source.calls if c.startswith("related:")]
    assert result.stop_reason == "exhausted"
    assert len(related_calls) == len(sink.expanded)  # an empty page ends the expansion at once
    assert len(related_calls) <= MAX_RELATED_PAGES * len(sink.members)


def test_missing_fields_and_requests_are_counted():
    source = FakeSource()
    result, sink = run(source)
    assert result.stats.missing["music"] >= len(sink.items) == 80
    assert result.stats.requests == len(source.calls) == sink.stats["requests"]
    assert 0 <= sink.stats["source_s"] <= sink.stats["wall_s"]


def test_a_stop_asked_mid_crawl_ends_as_interrupted_even_if_the_step_then_fails_and_resumes_exactly():
    _, clean = run(FakeSource())
    asked = []

    class DyingWithTheUser(FakeSource):
        def related(self, video_id, count, cursor=None):
            if len(self.calls) == 6:
                asked.append(True)  # Ctrl-C: the browser dies with us, the request fails
                self.calls.append("dead")
                raise TransientError("browser closed", reason="connection")
            return super().related(video_id, count, cursor)

    slept: list[float] = []
    result, sink = run(DyingWithTheUser(), politeness=SLOW_BACKOFF, stop_requested=lambda: bool(asked), sleep=slept.append)
    assert result.status == "interrupted" and result.stop_reason == "interrupted by the user"
    assert not slept, "no back-off once a stop is asked"
    final, sink = resume(FakeSource(), PARAMS, sink)
    assert final.status == "finished" and graph(sink) == graph(clean)
