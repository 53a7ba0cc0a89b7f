"""The sandbox the crawl and download tests share: one world, one media cache, one fault-free site per session."""

from __future__ import annotations

import pytest

from scrapers.crawl import CrawlParams

#: small crawls: browsers are slow, and the point is equality, not size
CRAWL = CrawlParams(seed=5, fanout=3, max_videos=40, random_seed=3)


@pytest.fixture(scope="session")
def sandbox_world(tmp_path_factory):
    """A 400-video sandbox world (seed 3: CRAWL meets one of its deleted videos) with its own media cache."""
    from sandbox import World

    return World.build(videos=400, seed=28, cache_dir=tmp_path_factory.mktemp("sandbox-media"))


@pytest.fixture(scope="session")
def sandbox_site(sandbox_world):
    """The world served without faults for the whole session."""
    from sandbox import serve

    with serve(sandbox_world) as site:
        yield site


@pytest.fixture(scope="session")
def expected_sink(sandbox_world):
    """CRAWL run over the world's own tables — no HTTP, no browser: what every backend must reproduce."""
    from scrapers.crawl import Crawler
    from scrapers.frontier import RandomFrontier
    from scrapers.politeness import Politeness
    from scrapers.sinks import MemorySink
    from tests.scrapers.crawl_fakes import WorldSource

    sink = MemorySink()
    Crawler(WorldSource(sandbox_world), RandomFrontier(CRAWL.random_seed), sink, CRAWL, Politeness(rate=0)).run()
    assert sink.status == "finished", sink.stop_reason
    return sink


@pytest.fixture(scope="session")
def expected_crawl(expected_sink):
    """The videos and edges CRAWL must find."""
    return {m.video_id for m in expected_sink.members}, {(e.parent_id, e.child_id) for e in expected_sink.edges}


@pytest.fixture(scope="session")
def expected_skips(expected_sink):
    """Skip reasons and their counts CRAWL must report; the world is chosen so that there is one."""
    from collections import Counter

    skips = dict(Counter(expected_sink.skipped.values()))
    assert skips, "the test world no longer makes CRAWL meet a deleted or private video: choose another seed"
    return skips
