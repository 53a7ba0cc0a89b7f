"""Time in the sandbox: counts grow with age along each video's curve, on a clock tests move; videos go."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
import numpy as np
import pytest
from scipy.stats import spearmanr

from sandbox import World, serve
from sandbox.aging import ClockError

DAY = 86_400


@pytest.fixture
def aged_world():
    world = World.build(videos=800, seed=5)
    yield world


def stats_of(world, row: int) -> dict[str, int]:
    return world.item_struct(world.ids[row])["stats"]


def test_at_the_reference_date_counts_are_the_drawn_ones(aged_world):
    v = aged_world.videos
    for row in range(0, len(v), 37):
        if not aged_world.authors.at[v.at[row, "author_row"], "hides_counts"]:
            assert stats_of(aged_world, row)["playCount"] == v.at[row, "plays"]


def test_counts_never_fall_and_young_videos_grow_most(aged_world):
    v = aged_world.videos
    age = aged_world.clock.start - v["create_time"].to_numpy()
    young = np.flatnonzero(age < 2 * DAY)[:5]
    old = np.flatnonzero(age > 400 * DAY)[:5]
    assert len(young) and len(old)
    series = {}
    for step in (0, 3600, 6 * 3600, DAY, 7 * DAY, 30 * DAY):
        aged_world.clock.set(aged_world.clock.start + step)
        series[step] = {r: aged_world.counts_now(int(r))["plays"] for r in [*young, *old]}
    for row in [*young, *old]:
        values = [series[s][row] for s in sorted(series)]
        assert values == sorted(values), (row, values)
    growth = lambda r: series[30 * DAY][r] / max(series[0][r], 1)  # noqa: E731
    assert min(growth(r) for r in young) > 1.2 > 1.05 > max(growth(r) for r in old)


def test_curves_are_deterministic_by_seed(aged_world):
    again, other = World.build(videos=800, seed=5), World.build(videos=800, seed=6)
    assert np.array_equal(again.growth.tau_fast, aged_world.growth.tau_fast)
    assert np.array_equal(again.growth.gone_at, aged_world.growth.gone_at)
    assert not np.array_equal(other.growth.tau_fast[:100], aged_world.growth.tau_fast[:100])


def test_early_growth_carries_the_planted_signal(aged_world):
    g = aged_world.growth
    rows = np.arange(len(aged_world.videos))
    early = g.curve(rows, 24 * 3600)  # share of lifetime counts reached in the first day
    rho = spearmanr(aged_world.videos["latent_score"], early).statistic
    assert rho > 0.3, rho


def test_videos_go_after_their_time_and_answer_as_deleted(aged_world):
    gone_at = aged_world.growth.gone_at
    goes = np.flatnonzero(np.isfinite(gone_at))
    assert len(goes) >= 5 and (aged_world.videos.loc[goes, "visibility"] == "public").all()
    video_id = aged_world.ids[int(goes[0])]
    with serve(aged_world) as site:
        assert httpx.get(site.url(f"/api/item/detail/?itemId={video_id}")).json()["statusCode"] == 0
        moved = httpx.post(site.url(f"/__sandbox/clock?set={gone_at[goes[0]] + 1}")).json()
        assert moved["now"] == pytest.approx(gone_at[goes[0]] + 1)
        answer = httpx.get(site.url(f"/api/item/detail/?itemId={video_id}"))
        assert answer.json()["statusCode"] == 10204
        assert parsedate_to_datetime(answer.headers["date"]).timestamp() == pytest.approx(gone_at[goes[0]] + 1, abs=1)
        refused = httpx.get(site.url("/__sandbox/clock?set=2020-01-01"))
        assert refused.status_code == 400 and "before its reference date" in refused.json()["error"]


def test_the_clock_refuses_to_run_backwards(aged_world):
    with pytest.raises(ClockError):
        aged_world.clock.advance(-1)
    with pytest.raises(ClockError):
        aged_world.clock.set(aged_world.clock.start - 1)
