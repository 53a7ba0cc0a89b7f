"""Fixtures that build everything offline: catalogs on SQLite and on a real Postgres, and the CLI."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("SE_OFFLINE", "true")
# rich reads COLUMNS once, when curate.output first builds its consoles: the same width in every worker
os.environ.setdefault("COLUMNS", "200")

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
_db_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_server():
    """One Postgres server per test session (per xdist worker), stopped at the end."""
    from tests.pg import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request, tmp_path: Path) -> str:
    """A URL of an empty catalog, once on SQLite and once on Postgres."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    server = request.getfixturevalue("postgres_server")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return server.create_database(f"t_{worker}_{next(_db_names)}")


@pytest.fixture
def engine(catalog_url: str):
    """An engine on a migrated, empty catalog (both dialects)."""
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    eng = create_catalog_engine(catalog_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    """An engine on a migrated SQLite catalog only, for tests where the dialect does not matter."""
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    eng = create_catalog_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


class Cli:
    """Runs ``curate`` in-process with its data folder and catalog set by the environment."""

    def __init__(self, home: Path, db_url: str) -> None:
        self.home = home
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True):
        from curate.cli import app

        env = {"CURATE_HOME": str(self.home), "CURATE_DB_URL": self.db_url, "COLUMNS": "200"}
        result = self.runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(f"curate {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}\n{result.stderr}")
        return result


@pytest.fixture
def cli(tmp_path: Path, catalog_url: str) -> Iterator[Cli]:
    """The CLI on a fresh data folder, against each catalog dialect."""
    yield Cli(tmp_path / "home", catalog_url)


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Iterator[Cli]:
    """The CLI on a fresh data folder with a SQLite catalog."""
    yield Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")


@pytest.fixture
def realdata() -> Path:
    """The folder of third-party payloads; the only thing a test may skip for (it must not be copied here)."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is absent (third-party data, never copied into the project)")
    return REALDATA


@pytest.fixture(scope="session")
def ray_cluster():
    """A real Ray head on loopback (its own temporary folder), started once per session and stopped."""
    from core.ray_local import start_cluster

    cluster = start_cluster()
    os.environ["RAY_AUTH_MODE"] = "disabled"  # the driver must not ask for a token the head does not have
    yield cluster
    try:
        import ray

        ray.shutdown()
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def research_world():
    """The Research API tests' world: 1,500 videos, enough that a month holds a few hundred."""
    from sandbox import World

    return World.build(videos=1500, seed=21)


@pytest.fixture
def research_site(research_world):
    """A fresh site per test (the double's quotas, searches and clock start clean); the world's clock back at its start afterwards."""
    from sandbox import serve

    research_world.clock.set(research_world.clock.start)
    with serve(research_world) as running:
        yield running
    research_world.clock.set(research_world.clock.start)
