"""Probing at scale: two processes on one Postgres catalog probe each file once; Ray gives the same facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import WorkClaim
from tests.conftest import Cli
from tests.curation.catalog import add_videos, column

CURATE = str(Path(sys.executable).with_name("curate"))
NAMES = ["clip.mp4", "fps_1.mp4", "cut_faststart.mp4", "html.mp4", "clip.mkv", "fps_24.mp4", "empty.mp4", "random.mp4"]


def fill(url: str, home: Path, corpus, n: int) -> None:
    engine = create_catalog_engine(url)
    upgrade(engine)
    add_videos(engine, home, {str(100 + i): corpus[NAMES[i % len(NAMES)]] for i in range(n)})
    engine.dispose()


@pytest.mark.postgres
def test_two_probe_processes_on_one_catalog_probe_each_file_once(tmp_path, postgres_server, corpus):
    url = postgres_server.create_database("t_two_probers")
    home = tmp_path / "home"
    fill(url, home, corpus, 400)
    env = {**os.environ, "CURATE_HOME": str(home), "CURATE_DB_URL": url}
    cmd = [CURATE, "probe", "--workers", "1", "--json"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(r["stored"] for r in results) == 400, results
    engine = create_catalog_engine(url)
    with engine.connect() as conn:
        attempts = conn.execute(sa.select(WorkClaim.attempts, sa.func.count()).where(WorkClaim.stage == "probe").group_by(WorkClaim.attempts)).all()
    assert [tuple(a) for a in attempts] == [(1, 400)], "a file was claimed twice"
    assert all(p is not None for p in column(engine, "probe").values())
    engine.dispose()
    if all(r["to_probe"] == 400 for r in results):  # both listed every file: the claims alone kept them apart
        assert sum(r["probed_by_others"] for r in results) == 400


def test_probe_on_a_ray_cluster_stores_the_same_facts_as_local_processes(tmp_path, corpus, ray_cluster):
    facts = {}
    for engine in ("local", "ray"):
        cli = Cli(tmp_path / engine, f"sqlite:///{tmp_path / engine / 'catalog.db'}")
        fill(cli.db_url, cli.home, corpus, 24)
        extra = ["--engine", "ray", "--ray-address", ray_cluster.address] if engine == "ray" else []
        counts = json.loads(cli("probe", "--workers", "2", "--json", *extra).stdout)
        catalog = create_catalog_engine(cli.db_url)
        facts[engine] = (counts, column(catalog, "probe"))
        catalog.dispose()
    assert facts["ray"][0]["stored"] == 24 and facts["ray"][0]["unreadable"] > 0
    assert facts["ray"] == facts["local"]


def test_asking_for_ray_without_it_is_one_line_saying_what_to_install(tmp_path, corpus):
    home = tmp_path / "home"
    fill(f"sqlite:///{home / 'catalog.db'}", home, corpus, 2)
    code = "import sys; sys.modules['ray'] = None; from curate.cli import main; sys.argv = ['curate', 'probe', '--engine', 'ray']; main()"
    env = {**os.environ, "CURATE_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 3
    assert done.stderr.strip() == "error: --engine ray needs Ray: pip install 'viralcurate[ray]' (or pip install 'ray[default]==2.60.0')"
