"""One world and one media cache per test session; a fault-free site over them."""

from __future__ import annotations

import httpx
import pytest

from sandbox import World, serve

WORLD_VIDEOS = 400
WORLD_SEED = 11


@pytest.fixture(scope="session")
def media_cache(tmp_path_factory):
    """A media cache folder shared by the session (templates are encoded once)."""
    return tmp_path_factory.mktemp("sandbox-cache")


@pytest.fixture(scope="session")
def world(media_cache) -> World:
    """A 400-video world, seed 11."""
    return World.build(videos=WORLD_VIDEOS, seed=WORLD_SEED, cache_dir=media_cache)


@pytest.fixture(scope="session")
def site(world):
    """The world served without faults for the whole session."""
    with serve(world) as running:
        yield running


@pytest.fixture
def http(site):
    """An HTTP client on the session's site."""
    with httpx.Client(base_url=site.base_url, timeout=30) as client:
        yield client


def rows_where(world: World, **equal) -> list[str]:
    """Ids of the videos whose columns have the given values."""
    table = world.videos
    mask = True
    for column, value in equal.items():
        mask = mask & (table[column] == value)
    return table.loc[mask, "video_id"].tolist()
