"""Labels over time: values at an age between bracketing observations, growth, and snapshots at two cut-offs."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from core.records import MetricRecord
from db.catalog import write_items
from labeling.labelers import LabelError
from labeling.trajectory import TrajectoryLabeler, TrajectorySpec, age_seconds, value_at_age
from tests.snapshots.builders import catalog_items

T0 = pd.Timestamp("2025-01-01", tz="UTC")
H = 3600


def obs(rows):
    frame = pd.DataFrame(rows, columns=["video_id", "hours", "plays", "likes"])
    frame["observed_at"] = T0 + pd.to_timedelta(frame.pop("hours"), unit="h")
    return frame


def test_a_value_at_an_age_is_interpolated_between_the_observations_that_bracket_it():
    observations = obs([("a", 1, 100, 10), ("a", 20, 1100, 60), ("a", 30, 2100, 80),
                        ("b", 24, 500, 5), ("c", 30, 900, 9), ("d", 2, 50, 1)])
    created = pd.Series([T0] * 5, index=["a", "b", "c", "d", "e"])
    at = value_at_age(observations, created, 24 * H, "plays")
    assert at["a"] == pytest.approx(1100 + 0.4 * 1000)  # 24 h lies 4/10 of the way from 20 h to 30 h
    assert at["b"] == 500  # an observation exactly at the age
    assert np.isnan(at["c"]) and np.isnan(at["d"]) and np.isnan(at["e"])  # one side only, or none
    assert value_at_age(observations, created, 10 * H, "likes")["a"] == pytest.approx(10 + 9 / 19 * 50)


def test_growth_and_viral_growth_fitted_on_the_fit_rows_only():
    rows = []
    for i, factor in enumerate([1.5, 2.0, 3.0, 4.0, 9.0]):
        rows += [(f"v{i}", 24, 1000, 10), (f"v{i}", 24 * 7, int(1000 * factor), 20)]
    rows += [("short", 24, 1000, 10)]  # never observed at 7 d: undefined, not "not viral"
    created = pd.Series([T0] * 6, index=[f"v{i}" for i in range(5)] + ["short"])
    labeler = TrajectoryLabeler(TrajectorySpec(percentile=50))
    values = labeler.values(obs(rows), created)
    growth = values["growth_plays_24h_7d"]
    assert growth["v1"] == pytest.approx(1.0) and np.isnan(growth["short"])
    params = labeler.fit(values.loc[["v0", "v1", "v2"]])  # the "train" rows
    assert params == {"percentile": 50, "threshold": pytest.approx(1.0), "fit_rows": 3}
    labels = labeler.apply(values, params)
    assert labels["viral_growth"].tolist() == [False, True, True, True, True, pd.NA]
    assert labels.at["v0", "plays_at_48h"] == pytest.approx(1000 + 24 / 144 * 500) and np.isnan(labels.at["short", "plays_at_48h"])
    with pytest.raises(LabelError):
        age_seconds("a week")


def test_a_snapshot_built_at_two_cutoffs_carries_the_growth_labels_known_at_each(engine, tmp_path):
    from curate.snapshotting import SnapshotOptions, create_snapshot

    created = datetime(2025, 1, 1, tzinfo=UTC)
    base = [dataclasses.replace(i, video=dataclasses.replace(i.video, create_time=created)) for i in catalog_items(60, observed_every=1)]

    def at(hours: float, factor: float):
        out = []
        for n, item in enumerate(base):
            m = item.metrics
            grow = 1 + factor * (1 + n % 7) / 7
            out.append(dataclasses.replace(item, metrics=MetricRecord(
                plays=int(m.plays * grow), likes=int(m.likes * grow), comments=m.comments, shares=m.shares, saves=m.saves,
                author_followers=m.author_followers)))
        write_items(engine, out, f"refresh:test{hours}", observed_at=created + timedelta(hours=hours))

    at(1, 0.0)
    at(24, 1.0)
    at(24 * 7, 3.0)
    early = create_snapshot(engine, tmp_path, SnapshotOptions("traj", cutoff=created + timedelta(days=2)))
    late = create_snapshot(engine, tmp_path, SnapshotOptions("traj", cutoff=created + timedelta(days=8)))
    first, second = early.frame(), late.frame()
    assert first["plays_at_24h"].notna().all() and first["growth_plays_24h_7d"].isna().all()
    assert first["viral_growth"].isna().all()
    assert second["growth_plays_24h_7d"].notna().all() and second["viral_growth"].notna().all()
    merged = first[["video_id", "plays_at_24h"]].merge(second[["video_id", "plays_at_24h"]], on="video_id", suffixes=("", "_late"))
    assert (merged["plays_at_24h"] == merged["plays_at_24h_late"]).all()  # the 24 h value does not change later
    fitted = late.manifest["labels"]["trajectory"]
    train = second[second["split"] == "train"]["growth_plays_24h_7d"]
    assert fitted["params"]["threshold"] == pytest.approx(np.percentile(train, 75))
    assert fitted["params"]["fit_rows"] == len(train) and early.manifest["labels"]["trajectory"]["params"]["threshold"] is None
    assert {"plays_at_24h", "growth_plays_24h_7d", "viral_growth"} <= {f["name"] for f in late.manifest["schema"]}


def test_the_catalog_report_draws_trajectories(sqlite_cli):
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    sqlite_cli("init")
    engine = create_catalog_engine(sqlite_cli.db_url)
    upgrade(engine)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    base = [dataclasses.replace(i, video=dataclasses.replace(i.video, create_time=created)) for i in catalog_items(12, observed_every=1)]
    for hours, grow in ((1, 1.0), (24, 2.0), (168, 3.0)):
        items = [dataclasses.replace(i, metrics=dataclasses.replace(i.metrics, plays=int(i.metrics.plays * grow))) for i in base]
        write_items(engine, items, "refresh:test", observed_at=created + timedelta(hours=hours))
    engine.dispose()
    result = json.loads(sqlite_cli("report", "--json").stdout)
    assert any(p.endswith("trajectories.png") for p in result["figures"])
    from curate.commands.curation import _trajectories  # the rows the figure draws
    from curate.context import Context
    from curate.settings import load_settings
    from db.dataset import load_video_frame

    context = Context(load_settings(home=sqlite_cli.home, db=sqlite_cli.db_url))
    rows = _trajectories(context, load_video_frame(context.engine))
    context.close()
    assert sorted(rows["age_h"].round().unique()) == [1, 24, 168] and len(rows) == 36
