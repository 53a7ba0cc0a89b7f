"""``curate download`` against the sandbox: its intact media land with their digests, its broken ones never do."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from db.crawl_state import commit_steps
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import Video
from scrapers.parse import parse_item
from scrapers.runs import start_run
from tests.scrapers.conftest import CRAWL

#: one ffmpeg template serves every intact file here, so the session's media cache stays cheap to fill
TEMPLATE = 1
EXPECTED_FAILURES = {
    "truncated": {"truncated", "not_a_container"}, "empty": {"empty_file"}, "html": {"html_not_video"},
    "deleted": {"http_404"}, "private": {"http_403"},
}


def pick(world) -> dict[str, str]:
    """Video id → what it is: three intact files and one of each broken kind, each once."""
    v = world.videos
    public = v[v.visibility == "public"]
    chosen = {vid: "ok" for vid in public[(public.template == TEMPLATE) & (public.media_kind == "ok")].video_id[:3]}
    for kind, rows in (
        ("truncated", public[(public.template == TEMPLATE) & (public.media_kind == "truncated")]),
        ("empty", public[public.media_kind == "empty"]),
        ("html", public[public.media_kind == "html"]),
        ("deleted", v[v.visibility == "deleted"]),
        ("private", v[v.visibility == "private"]),
    ):
        chosen[rows.video_id.iloc[0]] = kind
    return chosen


def catalog_crawled_from(db_url: str, world, base_url: str, chosen: dict[str, str]) -> None:
    """The chosen videos in the catalog as a crawl of ``base_url`` would have stored them."""
    engine = create_catalog_engine(db_url)
    upgrade(engine)
    record = start_run(engine, "ytdlp", base_url, CRAWL, {})
    items = [parse_item(world.item_struct(vid, base_url)) for vid in chosen]
    members = [{"video_id": vid, "seq": i, "depth": 0, "parent_id": None} for i, vid in enumerate(chosen)]
    commit_steps(engine, record.id, items=items, members=members, edges=[], expanded=[], state={}, stats={})
    engine.dispose()


def videos(db_url: str) -> dict[str, dict]:
    engine = create_catalog_engine(db_url)
    with engine.connect() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(sa.select(Video.__table__)).mappings()}
    engine.dispose()
    return rows


def test_download_keeps_intact_media_and_records_why_the_rest_failed(cli, sandbox_world, sandbox_site):
    chosen = pick(sandbox_world)
    catalog_crawled_from(cli.db_url, sandbox_world, sandbox_site.base_url, chosen)
    counts = json.loads(cli("download", "--workers", "3", "--json").stdout)
    assert counts["downloaded"] == 3 and sum(counts["failed"].values()) == 5 and counts["already_present"] == 0
    rows = videos(cli.db_url)
    for vid, kind in chosen.items():
        row = rows[vid]
        if kind == "ok":
            served = sandbox_world.media_bytes(vid)
            assert row["media_path"] == f"media/{vid}.mp4" and (cli.home / row["media_path"]).read_bytes() == served
            assert row["media_sha256"] == hashlib.sha256(served).hexdigest() and row["media_size"] == len(served)
        else:
            assert row["media_path"] is None and row["download_error"].split(":")[0] in EXPECTED_FAILURES[kind], (kind, row["download_error"])
    assert sorted(p.name for p in (cli.home / "media").iterdir() if p.name != ".media-root") == sorted(f"{v}.mp4" for v, k in chosen.items() if k == "ok")
    again = json.loads(cli("download", "--json").stdout)
    assert again["downloaded"] == 0 and sum(again["failed"].values()) == 5, "stored files are skipped, failures retried"


def test_media_cut_in_transfer_is_refused_then_fetched_on_the_next_run(sqlite_cli, sandbox_world):
    from sandbox import serve

    chosen = {vid: kind for vid, kind in pick(sandbox_world).items() if kind == "ok"}
    with serve(sandbox_world, faults="truncated:1.0") as site:
        port = site.port
        catalog_crawled_from(sqlite_cli.db_url, sandbox_world, site.base_url, chosen)
        cut = json.loads(sqlite_cli("download", "--json").stdout)
    assert cut["downloaded"] == 0 and cut["failed"] == {"truncated": 3}, cut
    assert [p.name for p in (sqlite_cli.home / "media").iterdir()] == [".media-root"]
    with serve(sandbox_world, port=port):
        fixed = json.loads(sqlite_cli("download", "--json").stdout)
    assert fixed["downloaded"] == 3 and not fixed["failed"]


@pytest.mark.postgres
def test_two_download_processes_on_postgres_share_the_work_without_overlap(tmp_path, postgres_server, sandbox_world, sandbox_site):
    import os
    import subprocess
    import sys
    from pathlib import Path

    url = postgres_server.create_database("t_two_downloaders")
    v = sandbox_world.videos
    ids = v[(v.visibility == "public") & (v.media_kind == "ok") & (v.template == TEMPLATE)].video_id[:24].tolist()
    catalog_crawled_from(url, sandbox_world, sandbox_site.base_url, dict.fromkeys(ids, "ok"))
    env = {**os.environ, "CURATE_HOME": str(tmp_path / "home"), "CURATE_DB_URL": url}
    cmd = [str(Path(sys.executable).with_name("curate")), "download", "--workers", "2", "--json"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(r["downloaded"] for r in results) == len(ids) and all(r["downloaded"] for r in results), results
    rows = videos(url)
    assert {rows[i]["download_attempts"] for i in ids} == {1}, "a video was claimed twice"
    assert all(rows[i]["media_sha256"] for i in ids)


def test_ctrl_c_ends_a_download_run_cleanly_with_nothing_left_running(sqlite_cli, sandbox_world):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from sandbox import serve

    from tests.waiting import wait_for_writes

    v = sandbox_world.videos
    ids = v[(v.visibility == "public") & (v.media_kind == "ok") & (v.template == TEMPLATE)].video_id[:16].tolist()
    with serve(sandbox_world, faults="slow:1.0", slow_s=0.5) as site:
        catalog_crawled_from(sqlite_cli.db_url, sandbox_world, site.base_url, dict.fromkeys(ids, "ok"))
        env = {**os.environ, "CURATE_HOME": str(sqlite_cli.home), "CURATE_DB_URL": sqlite_cli.db_url}
        cmd = [str(Path(sys.executable).with_name("curate")), "download", "--workers", "2"]
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        started = lambda: any(r["claimed_by"] or r["media_path"] for r in videos(sqlite_cli.db_url).values())  # noqa: E731
        wait_for_writes(sqlite_cli.home, started, 120, "a worker to claim a video", gone=lambda: child.poll() is not None)
        os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        _, err = child.communicate(timeout=60)
        assert child.returncode == 130 and err.strip().endswith("interrupted"), err
        # nothing of its process group runs on (exited workers may linger as zombies until reaped)
        listed = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(child.pid)], capture_output=True, text=True).stdout
        assert not [line for line in listed.splitlines() if line.split()[1][0] != "Z"], listed
        rows = videos(sqlite_cli.db_url)
        assert not any(r["claimed_by"] for r in rows.values()), "its claims are freed"
        assert not (sqlite_cli.home / "media" / ".partial").exists()
        recorded = sum(1 for r in rows.values() if r["media_path"])
        assert recorded < len(ids), "the run was cut short"
        again = json.loads(sqlite_cli("download", "--json").stdout)
    assert again["downloaded"] + again["already_present"] == len(ids) - recorded and not again["failed"]
