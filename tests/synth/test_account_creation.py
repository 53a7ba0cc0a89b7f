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


def test_first_videos_and_inconsistent_observed_creations_are_read_from_the_catalog(engine):
    from datetime import UTC, datetime

    from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord
    from db.catalog import write_items
    from db.dataset import count_inconsistent_creation, load_simulation_targets

    def item(vid: str, author: str | None, day: int, created: datetime | None = None) -> ParsedItem:
        return ParsedItem(
            video=VideoRecord(id=vid, author_id=author, create_time=datetime(2021, 1, day, tzinfo=UTC)),
            author=AuthorRecord(id=author, created_at=created) if author else None,
            metrics=MetricRecord(likes=1), raw={}, source_format="test")

    write_items(engine, [item("1", "user_a", 5), item("2", "user_a", 3), item("3", "user_b", 9, datetime(2022, 1, 1, tzinfo=UTC)),
                         item("4", None, 2)], "test")
    authors, _ = load_simulation_targets(engine)
    first = dict(zip(authors["author_id"], authors["first_video"], strict=True))
    # the earliest observed video of each author (user_b needs counts, so it is a target too)
    assert first == {"user_a": pd.Timestamp("2021-01-03", tz="UTC"), "user_b": pd.Timestamp("2021-01-09", tz="UTC")}
    assert authors.set_index("author_id")["needs_created"].to_dict() == {"user_a": True, "user_b": False}
    assert count_inconsistent_creation(engine) == {"observed_account_created_after_a_video": 1, "videos_without_author": 1}
