"""Extraction at scale: the same features on a real Ray cluster as locally; two processes compute each input once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from db.engine import create_catalog_engine
from db.models import WorkClaim
from modeling.cache import FeatureCache, FeatureIndex
from tests.conftest import Cli
from tests.modeling.conftest import media_frame
from tests.modeling.planted import write_snapshot

CURATE = str(Path(sys.executable).with_name("curate"))


def _state(home: Path, summary: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    index = FeatureIndex(home / "features", "clips", 1).read(summary["extractor"]).keys.sort_values("video_id").reset_index(drop=True)
    index["error"] = index["error"].str.replace(str(home), "HOME")  # the two runs' data folders differ, nothing else may
    outputs = FeatureCache(home / "features", summary["extractor"], summary["cache_key"]).read().sort_values("key").reset_index(drop=True)
    return index, outputs


def test_extraction_on_a_ray_cluster_gives_the_same_index_and_features_as_local(tmp_path, videos, tiny_models, ray_cluster):
    results = {}
    for engine in ("local", "ray"):
        cli = Cli(tmp_path / engine, f"sqlite:///{tmp_path / engine / 'catalog.db'}")
        write_snapshot(cli.home, media_frame(cli.home, videos), name="clips")
        extra = ["--engine", "ray", "--ray-address", ray_cluster.address] if engine == "ray" else []
        out = cli("extract", "clips@v1", "--extractor", "videomae", "--model", str(tiny_models["videomae"]), "--json", *extra)
        summary = json.loads(out.stdout)
        results[engine] = (summary, *_state(cli.home, summary))
    local, ray = results["local"], results["ray"]
    assert (ray[0]["ok"], ray[0]["failed"], ray[0]["no_input"], ray[0]["computed"]) == (8, 3, 1, 2)
    same = ("ok", "failed", "no_input", "computed", "cached", "cache_key", "reasons")
    assert {k: ray[0][k] for k in same} == {k: local[0][k] for k in same}
    pd.testing.assert_frame_equal(ray[1], local[1])
    assert list(ray[2]["key"]) == list(local[2]["key"])
    vectors = [c for c in local[2].columns if c != "key"]
    for column in vectors:
        np.testing.assert_allclose(np.stack(ray[2][column]), np.stack(local[2][column]), rtol=1e-5, atol=1e-6)


@pytest.mark.postgres
def test_two_extract_processes_on_one_catalog_compute_each_input_once(tmp_path, postgres_server, videos, tiny_models):
    url = postgres_server.create_database("t_two_extractors")
    home = tmp_path / "home"
    write_snapshot(home, media_frame(home, videos, rows=120), name="clips")
    env = {**os.environ, "CURATE_HOME": str(home), "CURATE_DB_URL": url}
    cmd = [CURATE, "extract", "clips@v1", "--extractor", "text", "--model", str(tiny_models["text"]), "--json"]
    Cli(home, url)("status")  # the catalog migrated once, before the two start
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    summaries = [json.loads(o[0]) for o in outs]
    cache = FeatureCache(home / "features", "text", summaries[0]["cache_key"])
    shards = [pd.read_parquet(s, columns=["key"]) for s in sorted(cache.folder.glob("part-*.parquet"))]
    stored = pd.concat(shards)["key"]
    assert stored.is_unique, "an input was computed by both processes"
    assert sum(s["computed"] for s in summaries) == len(stored) == 120
    engine = create_catalog_engine(url)
    with engine.connect() as conn:
        attempts = set(conn.execute(sa.select(WorkClaim.attempts).where(WorkClaim.stage.like("extract:text:%"))).scalars())
    engine.dispose()
    assert attempts == {1}
    assert all(s["ok"] + s["pending"] == 120 for s in summaries), "an input neither done nor in the other's hands"
    again = json.loads(Cli(home, url)("extract", "clips@v1", "--extractor", "text", "--model", str(tiny_models["text"]), "--json").stdout)
    assert (again["ok"], again["computed"], again["pending"]) == (120, 0, 0)
    assert (FeatureIndex(home / "features", "clips", 1).read("text").keys["status"] == "ok").all()


def test_a_deleted_feature_cache_is_computed_again_despite_the_claims(sqlite_cli, media_snapshot, tiny_models):
    import shutil

    args = ("extract", media_snapshot, "--extractor", "videomae", "--model", str(tiny_models["videomae"]), "--json")
    first = json.loads(sqlite_cli(*args).stdout)
    shutil.rmtree(sqlite_cli.home / "features" / "videomae")
    again = json.loads(sqlite_cli(*args).stdout)
    assert first["computed"] == again["computed"] == 2 and again["ok"] == 8
