"""``curate refresh``: due ages, re-observations through backends and the Research API, gone videos, purge."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from db.catalog import write_items
from db.observations import gone_videos, purge_gone, refresh_candidates
from sandbox import World, serve
from scrapers.backends.research_api import ResearchApiClient, ResearchApiSource, ResearchCredentials
from scrapers.backends.ytdlp import YtdlpSource
from scrapers.parse import parse_item
from scrapers.politeness import Politeness
from scrapers.refresh import Refresher, due_table, parse_schedule

HOUR, DAY = 3600, 86_400
SCHEDULE = parse_schedule("1h,24h,48h,7d,30d")
FAST = Politeness(rate=0, backoff=0.0, backoff_max=0.0)


@pytest.fixture
def young_world():
    world = World.build(videos=800, seed=5, hidden_counts=0.0)
    yield world


def young_ids(world, days: float = 3) -> list[str]:
    """Public videos posted less than ``days`` before the reference date that the sandbox never deletes."""
    v = world.videos
    stays = ~np.isfinite(world.growth.gone_at)
    keep = (world.clock.start - v["create_time"] < days * DAY) & (v["visibility"] == "public") & stays
    return v.loc[keep, "video_id"].tolist()


def expected_due(world, ids, catalogued_at: float) -> set[str]:
    """The videos that reached an age of the schedule after they were catalogued, by the clock's time."""
    now = world.clock.now()
    created = {i: world.videos.at[world.row(i), "create_time"] for i in ids}
    return {i for i in ids if any(catalogued_at - created[i] < age <= now - created[i] for _, age in SCHEDULE)}


def catalogue(engine, world, ids) -> None:
    """The videos as a crawl at the sandbox's current time would have stored them."""
    items = [parse_item(world.item_struct(i)) for i in ids]
    write_items(engine, items, "crawl:test", observed_at=world.clock.timestamp().to_pydatetime())


def sandbox_now(world):
    return lambda: world.clock.timestamp().to_pydatetime()


def observations(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select video_id, observed_at, plays, source from metric_observation")).all()
    frame = pd.DataFrame(rows, columns=["video_id", "observed_at", "plays", "source"])
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    return frame


def test_schedules_parse_and_refuse_nonsense():
    assert parse_schedule("7d,1h") == [("1h", 3600.0), ("7d", 604800.0)]
    with pytest.raises(Exception, match="give ages such as"):
        parse_schedule("1 fortnight")


def test_a_video_is_due_at_the_latest_age_it_reached_unless_observed_since():
    created = pd.Timestamp("2025-01-01", tz="UTC")
    frame = pd.DataFrame({"video_id": ["a", "b", "c", "d"], "handle": None,
                          "create_time": [created] * 4,
                          "last_observed": [pd.NaT, created + timedelta(minutes=30), created + timedelta(hours=25), created + timedelta(days=40)]})
    table = due_table(frame, SCHEDULE, (created + timedelta(hours=30)).to_pydatetime()).set_index("video_id")
    assert table["due"].to_dict() == {"a": True, "b": True, "c": False, "d": False}
    assert table.at["a", "age"] == "24h" and table.at["b", "due_at"] == created + timedelta(hours=24)
    assert table.at["c", "next_age"] == "48h" and table.at["c", "next_at"] == created + timedelta(hours=48)


def test_refresh_observes_due_videos_at_the_platforms_time(engine, young_world):
    ids = young_ids(young_world)
    assert len(ids) >= 5
    catalogue(engine, young_world, ids)
    young_world.clock.advance(25 * HOUR)
    table = due_table(refresh_candidates(engine), SCHEDULE, young_world.clock.timestamp().to_pydatetime())
    due = table[table["due"]]
    # due: those that reached an age of the schedule after they were catalogued (at the reference date)
    expected = expected_due(young_world, ids, young_world.clock.start)
    assert set(due["video_id"]) == expected and len(expected) >= 5
    ids = sorted(expected)
    with serve(young_world) as site, YtdlpSource(base_url=site.base_url) as source:
        refresher = Refresher(engine, source, "ytdlp", sandbox_now(young_world), FAST)
        status, reason = refresher.run(due)
    assert status == "finished", reason
    assert refresher.stats.observed == len(ids) and refresher.stats.observations == len(ids)
    obs = observations(engine)
    fresh = obs[obs["source"] == "refresh:ytdlp"].set_index("video_id")
    assert set(fresh.index) == set(ids)
    assert (fresh["observed_at"] == young_world.clock.timestamp()).all()
    for video_id in ids:
        assert fresh.at[video_id, "plays"] == young_world.counts_now(young_world.row(video_id))["plays"]
    after = due_table(refresh_candidates(engine), SCHEDULE, young_world.clock.timestamp().to_pydatetime())
    assert not after["due"].any()
    # counts never fell between the two observations; those of any size grew
    grew = obs[obs["video_id"].isin(ids)].sort_values("observed_at").groupby("video_id")["plays"].agg(["first", "last", "size"])
    assert (grew["size"] == 2).all()
    assert (grew["last"] >= grew["first"]).all()
    sizable = grew[grew["first"] >= 1000]
    assert len(sizable) >= 3 and (sizable["last"] > sizable["first"]).all()


def test_gone_videos_are_recorded_when_noticed_and_purged_on_request(sqlite_engine, young_world, tmp_path):
    g = young_world.growth
    goes = [i for i in young_world.ids if np.isfinite(g.gone_at[young_world.row(i)]) and young_world.visibility(i) == "public"]
    keep = young_ids(young_world)[:5]
    catalogue(sqlite_engine, young_world, goes[:3] + keep)
    young_world.clock.set(float(int(max(g.gone_at[young_world.row(i)] for i in goes[:3]))) + HOUR)
    table = due_table(refresh_candidates(sqlite_engine), SCHEDULE, young_world.clock.timestamp().to_pydatetime())
    todo = table[table["video_id"].isin(goes[:3] + keep)]
    with serve(young_world) as site, ResearchApiSource(ResearchApiClient(ResearchCredentials("k-refresh", "secret"), site.base_url)) as source:
        refresher = Refresher(sqlite_engine, source, "research_api", sandbox_now(young_world), FAST)
        status, reason = refresher.run(todo)
    assert status == "finished", reason
    gone = gone_videos(sqlite_engine).set_index("video_id")
    assert set(gone.index) == set(goes[:3]) and (gone["gone_reason"] == "gone").all()
    assert (pd.to_datetime(gone["gone_at"], utc=True) == young_world.clock.timestamp()).all()
    assert refresher.stats.observed == len(keep)
    # gone videos are no longer followed; purging deletes their rows and observations, nothing else
    assert not set(refresh_candidates(sqlite_engine)["video_id"]) & set(goes[:3])
    purged = purge_gone(sqlite_engine, tmp_path)
    assert purged["videos"] == 3 and purged["observations"] == 3
    with sqlite_engine.connect() as conn:
        left = set(conn.execute(sa.text("select id from video")).scalars())
    assert left == set(keep)


def test_the_command_lists_what_is_due_then_refreshes_and_resumes(sqlite_cli, young_world):
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    sqlite_cli("init")
    engine = create_catalog_engine(sqlite_cli.db_url)
    upgrade(engine)
    ids = young_ids(young_world)
    catalogue(engine, young_world, ids)
    young_world.clock.advance(2 * DAY + HOUR)
    ids = sorted(expected_due(young_world, ids, young_world.clock.start))
    with serve(young_world) as site:
        listing = json.loads(sqlite_cli("refresh", "--due", "--base-url", site.base_url, "--json").stdout)
        assert listing["due"] == len(ids) and listing["now"].startswith(young_world.clock.timestamp().isoformat()[:16])
        first = json.loads(sqlite_cli("refresh", "--base-url", site.base_url, "--source", "ytdlp", "--limit", "2", "--json").stdout)
        assert first["observed"] == 2 and first["still_due"] == len(ids) - 2
        rest = json.loads(sqlite_cli("refresh", "--base-url", site.base_url, "--source", "ytdlp", "--json").stdout)
        assert rest["observed"] == len(ids) - 2 and rest["still_due"] == 0
        bad = sqlite_cli("refresh", "--schedule", "soon", "--base-url", site.base_url, ok=False)
        assert bad.exit_code == 2 and "give ages such as 1h,24h" in bad.stderr
    engine.dispose()
    assert datetime.now(UTC) > young_world.clock.timestamp()  # the sandbox's time is not this machine's


def test_a_refresh_killed_with_sigkill_leaves_the_rest_due_and_nothing_doubled(cli, monkeypatch):
    import os
    import signal
    import subprocess
    import sys

    from db.engine import create_catalog_engine
    from db.migrate import upgrade
    from tests.waiting import wait_on_site

    world = World.build(videos=3000, seed=8, hidden_counts=0.0)
    cli("init")
    engine = create_catalog_engine(cli.db_url)
    upgrade(engine)
    ids = young_ids(world, days=20)
    catalogue(engine, world, ids)
    world.clock.advance(31 * DAY)  # every one of them has reached the 30 d mark since
    env = {**os.environ, "CURATE_HOME": str(cli.home), "CURATE_DB_URL": cli.db_url}
    with serve(world) as site:
        command = [sys.executable, "-m", "curate.cli", "refresh", "--base-url", site.base_url, "--source", "research_api",
                   "--rate", "40", "--json"]
        monkeypatch.setenv("CURATE_RESEARCH_CLIENT_KEY", "kill-key")
        monkeypatch.setenv("CURATE_RESEARCH_CLIENT_SECRET", "kill-secret")
        env.update(CURATE_RESEARCH_CLIENT_KEY="kill-key", CURATE_RESEARCH_CLIENT_SECRET="kill-secret")
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            stored = lambda: len(observations(engine).query("source == 'refresh:research_api'"))  # noqa: E731
            # re-checked as the site answers each video the child asks about
            wait_on_site(site, lambda: stored() >= 50 or child.poll() is not None, 90, "50 observations committed")
            assert child.poll() is None, "the refresh ended before it could be killed"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        left = due_table(refresh_candidates(engine), SCHEDULE, world.clock.timestamp().to_pydatetime())
        alive = [i for i in ids if not world.gone_now(i)]
        assert 0 < left["due"].sum() < len(alive)
        rest = json.loads(cli("refresh", "--base-url", site.base_url, "--source", "research_api", "--json").stdout)
    assert rest["still_due"] == 0
    fresh = observations(engine).query("source == 'refresh:research_api'")
    assert fresh["video_id"].is_unique and set(fresh["video_id"]) | set(gone_videos(engine)["video_id"]) == set(ids)
    engine.dispose()
