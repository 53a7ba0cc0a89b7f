"""The catalog's analysis frame (latest observation as of a cut-off) and the simulated-value writers, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from db.catalog import write_items
from db.dataset import load_simulation_targets, load_video_frame, write_simulated_authors, write_simulated_videos
from db.models import Author, MetricObservation, Video
from tests.snapshots.builders import item

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def test_latest_observation_as_of_the_cutoff(engine):
    write_items(engine, [item(1, 1, likes=10), item(2, 1, likes=20)], "test", observed_at=T0)
    write_items(engine, [item(1, 1, likes=99)], "test", observed_at=T0 + timedelta(days=2))
    now = load_video_frame(engine).set_index("video_id")
    before = load_video_frame(engine, cutoff=T0 + timedelta(days=1)).set_index("video_id")
    first = item(1, 1).video.id
    assert now.loc[first, "likes"] == 99 and before.loc[first, "likes"] == 10
    assert before.loc[first, "observed_at"] == pd.Timestamp(T0)
    assert len(load_video_frame(engine, cutoff=datetime(2000, 1, 1, tzinfo=UTC))) == 0  # first seen later


def test_observed_wins_over_a_newer_simulated_observation(engine):
    write_items(engine, [item(1, 1, likes=10)], "test", observed_at=T0)
    with engine.begin() as conn:
        conn.execute(sa.insert(MetricObservation.__table__).values(
            video_id=item(1, 1).video.id, observed_at=T0 + timedelta(days=5), likes=5, provenance="simulated", fingerprint="x"))
    row = load_video_frame(engine).iloc[0]
    assert (row["likes"], row["provenance"]) == (10, "observed")


def test_frame_columns_followers_and_rejected_videos(engine):
    write_items(engine, [item(1, 1, likes=10, followers=500), item(2, 2, likes=None, followers=777), item(3, 3, likes=5)], "t")
    with engine.begin() as conn:
        conn.execute(sa.update(Video).where(Video.id == item(3, 3).video.id).values(verdict="rejected", verdict_reasons=["fps"]))
        conn.execute(sa.update(Video).where(Video.id == item(1, 1).video.id).values(verdict="kept", probe={"fps": 30.0}))
    frame = load_video_frame(engine).set_index("video_id")
    assert {"author_handle", "followers", "account_created_at", "probe", "verdict_reasons", "latent_score"} <= set(frame.columns)
    assert frame.loc[item(1, 1).video.id, "followers"] == 500  # the observation's author_followers
    assert frame.loc[item(2, 2).video.id, "followers"] == 777  # no observation: the author's
    assert pd.isna(frame.loc[item(2, 2).video.id, "provenance"])
    assert frame.loc[item(1, 1).video.id, "probe"] == {"fps": 30.0}
    assert frame.loc[item(3, 3).video.id, "verdict_reasons"] == ["fps"]
    kept = load_video_frame(engine, include_rejected=False)["video_id"].tolist()
    assert kept == [item(1, 1).video.id, item(2, 2).video.id]


def test_simulated_writes_fill_gaps_only_and_twice_add_nothing(engine):
    write_items(engine, [item(1, 1, likes=10, followers=500), item(2, 2, followers=None)], "t")
    authors, videos = load_simulation_targets(engine)
    assert videos["video_id"].tolist() == [item(2, 2).video.id]
    assert authors.set_index("author_id")["needs_stats"].to_dict() == {item(1, 1).author.id: False, item(2, 2).author.id: True}
    drawn = authors.assign(followers=42, following=7, account_created_at=pd.Timestamp("2020-01-01", tz="UTC"))
    sim = {"simulator": "s", "simulator_version": "1", "sim_seed": 0, "params_hash": "h"}
    assert write_simulated_authors(engine, drawn, sim) == {"stats": 1, "created": 2}
    draws = pd.DataFrame({"video_id": [item(2, 2).video.id], "plays": [100], "likes": [10], "comments": [1], "shares": [1],
                          "saves": [0], "followers": [42], "latent_score": [float("nan")], "category": ["pets"],
                          "category_simulated": [True], "create_time": [pd.Timestamp("2024-02-02", tz="UTC")],
                          "create_time_missing": [False]})
    assert write_simulated_videos(engine, draws, sim, "synth:test")["observations"] == 1
    assert write_simulated_videos(engine, draws, sim, "synth:test")["observations"] == 0
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(Author))}
        video = conn.execute(sa.select(Video).where(Video.id == item(2, 2).video.id)).one()
    assert rows[item(1, 1).author.id].followers == 500  # observed: untouched
    assert (rows[item(2, 2).author.id].followers, rows[item(2, 2).author.id].stats_provenance) == (42, "simulated")
    assert rows[item(1, 1).author.id].account_created_provenance == "simulated"
    assert (video.category, video.category_provenance) == ("pets", "simulated")
    frame = load_video_frame(engine).set_index("video_id")
    assert frame.loc[item(2, 2).video.id, "provenance"] == "simulated" and frame.loc[item(2, 2).video.id, "simulator"] == "s"
