"""Fixtures of the web tests: one demo-like catalog per dialect (built once per session), and the app over it."""

from __future__ import annotations

import itertools
import os

import pytest
from starlette.testclient import TestClient

from tests.web.world import World, build_world

_names = itertools.count()


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """Where the planted clips are encoded (shared by both dialects' catalogs)."""
    return tmp_path_factory.mktemp("web-clips")


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory, clips) -> World:
    """The demo-like catalog on SQLite and on Postgres."""
    root = tmp_path_factory.mktemp(f"web-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'home' / 'catalog.db'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = request.getfixturevalue("postgres_server").create_database(f"web_{worker}_{next(_names)}")
    return build_world(root / "home", url, clips)


def make_client(world: World, **options) -> TestClient:
    """A client of the app over ``world`` (options: WebConfig fields)."""
    from web.app import create_app
    from web.config import WebConfig

    return TestClient(create_app(WebConfig(world.home, world.db_url, **options)))


@pytest.fixture(scope="session")
def client(world) -> TestClient:
    """The read-only app over the world."""
    with make_client(world) as c:
        yield c
