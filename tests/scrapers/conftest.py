"""The sandbox the crawl and download tests share: one world, one media cache, one fault-free site per session."""

from __future__ import annotations

import pytest

from scrapers.crawl import CrawlParams

#: small crawls: browsers are slow, and the point is equality, not size
CRAWL = CrawlParams(seed=5, fanout=3, max_videos=40, random_seed=3)


@pytest.fixture(scope="session")
def sandbox_world(tmp_path_factory):
    """A 400-video sandbox world (seed 11) with its own media cache."""
    from sandbox import World

    return World.build(videos=400, seed=11, cache_dir=tmp_path_factory.mktemp("sandbox-media"))


@pytest.fixture(scope="session")
def sandbox_site(sandbox_world):
    """The world served without faults for the whole session."""
    from sandbox import serve

    with serve(sandbox_world) as site:
        yield site


@pytest.fixture(scope="session")
def expected_crawl(sandbox_world):
    """What CRAWL must find in that world, computed from the world's own tables — no HTTP, no browser."""
    from scrapers.crawl import Crawler
    from scrapers.frontier import RandomFrontier
    from scrapers.politeness import Politeness
    from scrapers.sinks import MemorySink
    from tests.scrapers.crawl_fakes import WorldSource

    sink = MemorySink()
    Crawler(WorldSource(sandbox_world), RandomFrontier(CRAWL.random_seed), sink, CRAWL, Politeness(rate=0)).run()
    assert sink.status == "finished", sink.stop_reason
    return {m.video_id for m in sink.members}, {(e.parent_id, e.child_id) for e in sink.edges}
