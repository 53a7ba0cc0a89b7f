"""Simulated account creation never falls after the author's earliest observed video."""

from __future__ import annotations

import pandas as pd

import synth


def test_simulated_creation_is_never_after_the_first_video():
    preset = synth.get_preset("seed-000")
    ids = [f"user_{i:05d}" for i in range(2000)]
    free = synth.simulate_authors(ids, preset, seed=4)
    # first videos spread over the preset's whole range: many free draws fall after them
    first = pd.Series(pd.date_range("2017-03-01", preset.reference_date, periods=len(ids), tz="UTC"))
    first[::7] = pd.NaT  # authors without a dated video keep their free draw
    bound = synth.simulate_authors(ids, preset, seed=4, not_after=first)
    late_before = (free["account_created_at"] > first).sum()
    assert late_before > 200, "the case must actually arise"
    known = first.notna()
    assert (bound["account_created_at"][known] <= first[known]).all()
    assert (bound["account_created_at"][~known] == free["account_created_at"][~known]).all()
    kept = known & (free["account_created_at"] <= first)
    assert (bound["account_created_at"][kept] == free["account_created_at"][kept]).all(), "consistent draws are left alone"
    start = pd.Timestamp(preset.authors.account_start, tz="UTC")
    assert (bound["account_created_at"] >= start - pd.Timedelta(days=1)).all()
    again = synth.simulate_authors(ids, preset, seed=4, not_after=first)
    pd.testing.assert_frame_equal(bound, again)
