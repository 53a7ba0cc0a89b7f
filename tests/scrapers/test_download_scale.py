"""Downloads at scale: a kill -9 loses nothing, two data folders on one catalog, the same result on Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scrapers.test_download_sandbox import TEMPLATE, catalog_crawled_from, pick, videos
from tests.waiting import wait_for_writes

CURATE = str(Path(sys.executable).with_name("curate"))


def ok_ids(world, n: int) -> list[str]:
    v = world.videos
    return v[(v.visibility == "public") & (v.media_kind == "ok") & (v.template == TEMPLATE)].video_id[:n].tolist()


def media_files(media: Path) -> set[str]:
    """The video ids of the files in a media root (its id file and scratch folder aside)."""
    return {p.name.split(".")[0] for p in media.iterdir() if p.is_file() and not p.name.startswith(".")}


def test_kill_9_then_an_immediate_rerun_stores_everything(cli, sandbox_world):
    from sandbox import serve

    ids = ok_ids(sandbox_world, 30)
    with serve(sandbox_world, faults="slow:1.0", slow_s=0.3) as site:
        catalog_crawled_from(cli.db_url, sandbox_world, site.base_url, dict.fromkeys(ids, "ok"))
        env = {**os.environ, "CURATE_HOME": str(cli.home), "CURATE_DB_URL": cli.db_url}
        child = subprocess.Popen([CURATE, "download", "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        recorded = lambda: sum(1 for r in videos(cli.db_url).values() if r["media_path"])  # noqa: E731
        # woken by the files and catalog rows the download writes under its data folder
        wait_for_writes(cli.home, lambda: recorded() >= 4, 180, "the first downloads to be recorded",
                        gone=lambda: child.poll() is not None)
        os.killpg(child.pid, signal.SIGKILL)  # the machine dies: coordinator, workers and all
        child.wait(timeout=30)
        before = videos(cli.db_url)
        assert any(r["claimed_by"] for r in before.values()), "the killed run held claims"
        done_before = sum(1 for r in before.values() if r["media_path"])
        again = json.loads(cli("download", "--json").stdout)
    rows = videos(cli.db_url)
    assert again["downloaded"] + again["already_present"] == len(ids) - done_before and not again["failed"], again
    assert all(r["media_path"] and r["media_sha256"] for r in rows.values()), "a video was left without its file"
    assert not [v for v, r in rows.items() if not r["media_path"] and not r["download_error"]], "a row without a reason"
    assert media_files(cli.home / "media") == set(ids), "a complete file in media/ is unrecorded"
    assert not any(r["claimed_by"] for r in rows.values())
    assert not (cli.home / "media" / ".partial").exists(), "the killed workers' scratch folders were not swept"


@pytest.mark.postgres
def test_two_data_folders_on_one_catalog_never_forget_each_others_files(tmp_path, postgres_server, sandbox_world, sandbox_site, monkeypatch):
    from tests.conftest import Cli

    url = postgres_server.create_database("t_two_folders")
    ids = ok_ids(sandbox_world, 6)
    catalog_crawled_from(url, sandbox_world, sandbox_site.base_url, dict.fromkeys(ids, "ok"))
    first, second = Cli(tmp_path / "machine-a", url), Cli(tmp_path / "machine-b", url)
    assert json.loads(first("download", "--json").stdout)["downloaded"] == 6
    stored = {v: (r["media_path"], r["media_sha256"], r["media_root"]) for v, r in videos(url).items()}
    elsewhere = json.loads(second("download", "--json").stdout)
    assert elsewhere["downloaded"] == 0 and elsewhere["elsewhere"] == 6 and elsewhere["forgotten"] == 0, elsewhere
    assert {v: (r["media_path"], r["media_sha256"], r["media_root"]) for v, r in videos(url).items()} == stored
    probe_b = json.loads(second("probe", "--json").stdout)
    assert probe_b["elsewhere"] == 6 and probe_b["stored"] == 0, "machine b recorded files it cannot see"
    assert all(r["probe"] is None for r in videos(url).values())
    monkeypatch.setenv("CURATE_MEDIA_ROOT", str(first.home / "media"))  # the media root shared (a mount on b)
    shared = json.loads(second("probe", "--json").stdout)
    assert shared["stored"] == 6 and shared["elsewhere"] == 0 and shared["readable"] == 6


def test_download_on_a_ray_cluster_gives_the_same_catalog_as_local_processes(tmp_path, sandbox_world, sandbox_site, ray_cluster):
    from tests.conftest import Cli

    chosen = pick(sandbox_world)
    results = {}
    for engine in ("local", "ray"):
        cli = Cli(tmp_path / engine, f"sqlite:///{tmp_path / engine / 'catalog.db'}")
        catalog_crawled_from(cli.db_url, sandbox_world, sandbox_site.base_url, chosen)
        extra = ["--engine", "ray", "--ray-address", ray_cluster.address] if engine == "ray" else []
        counts = json.loads(cli("download", "--workers", "2", "--json", *extra).stdout)
        rows = videos(cli.db_url)
        state = {v: (r["media_path"], r["media_sha256"], r["media_size"], (r["download_error"] or "").split(":")[0], r["download_attempts"]) for v, r in rows.items()}
        results[engine] = (counts, state, media_files(cli.home / "media"))
    assert results["ray"][0]["downloaded"] == 3
    assert results["ray"] == results["local"]
