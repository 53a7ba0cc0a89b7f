"""Rule evaluation over a table of probe facts: each rule, the gates, unknown facts, duplicates, counts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from curation.rules import DEFAULT_RULES, Rules
from curation.verdicts import evaluate, reason_counts

GOOD = {
    "media_sha256": None, "has_media": True, "probed": True, "readable": True, "truncated": False,
    "first_frame_decodes": True, "vfr": False, "frames": 300, "fps": 30.0, "duration_s": 10.0,
    "width": 720, "height": 1280,
}  # fmt: skip


def table(*rows: dict) -> pd.DataFrame:
    """Rows of facts, each starting from a video that passes every default rule."""
    return pd.DataFrame([{**GOOD, "video_id": str(i + 1), **row} for i, row in enumerate(rows)])


def reasons(frame: pd.DataFrame, rules: Rules = DEFAULT_RULES) -> list[tuple[str, ...]]:
    return list(evaluate(frame, rules)["reasons"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"truncated": True}, "truncated"),
        ({"first_frame_decodes": False}, "undecodable"),
        ({"frames": 99}, "too_few_frames"),
        ({"fps": 9.99}, "low_fps"),
        ({"duration_s": 2.9}, "too_short"),
        ({"duration_s": 600.5, "frames": 18015}, "too_long"),
        ({"width": 239}, "low_resolution"),
        ({"height": 200}, "low_resolution"),
    ],
)
def test_each_rule_rejects_with_its_reason_and_the_boundary_passes(change, reason):
    boundary = {"frames": 100, "fps": 10.0, "duration_s": 3.0, "width": 240}
    frame = table(change, boundary, {"duration_s": 600.0})
    verdicts = evaluate(frame, DEFAULT_RULES)
    assert list(verdicts["verdict"]) == ["rejected", "kept", "kept"]
    assert verdicts["reasons"][0] == (reason,)


def test_every_failed_rule_is_listed_in_rule_order():
    frame = table({"frames": 5, "fps": 1.0, "duration_s": 5.0, "width": 160, "height": 120, "truncated": True, "vfr": True})
    assert reasons(frame) == [("truncated", "too_few_frames", "low_fps", "low_resolution")]
    assert reasons(frame, replace(DEFAULT_RULES, reject_vfr=True))[0][-1] == "variable_fps"


def test_gates_stop_further_checks():
    frame = table(
        {"has_media": False, "probed": False, "readable": None, "frames": None},
        {"probed": False, "readable": None, "frames": None},
        {"readable": False, "frames": None, "fps": None},
    )
    assert reasons(frame) == [("no_media",), ("not_probed",), ("unreadable",)]
    # metadata-only datasets: videos without media may be kept
    assert reasons(frame, replace(DEFAULT_RULES, require_media=False))[0] == ()


def test_an_unknown_fact_fails_the_rule_that_needs_it_unless_the_rule_is_off():
    frame = table({"fps": None, "width": None, "truncated": None})
    assert reasons(frame) == [("truncated", "low_fps", "low_resolution")]
    off = replace(DEFAULT_RULES, min_fps=0, min_short_side=0, reject_truncated=False)
    assert reasons(frame, off) == [()]


def test_a_zero_or_infinite_threshold_switches_the_rule_off():
    frame = table({"frames": 5, "duration_s": 10_000.0})
    assert reasons(frame) == [("too_few_frames", "too_long")]
    assert reasons(frame, replace(DEFAULT_RULES, min_frames=0, max_duration_s=float("inf"))) == [()]
    assert reasons(frame, replace(DEFAULT_RULES, min_frames=0, max_duration_s=0)) == [()]


def test_duplicates_keep_the_lowest_numeric_id_that_passes_the_other_rules():
    frame = pd.DataFrame([
        {**GOOD, "video_id": "10", "media_sha256": "a"},
        {**GOOD, "video_id": "9", "media_sha256": "a"},
        {**GOOD, "video_id": "11", "media_sha256": "a"},
        {**GOOD, "video_id": "3", "media_sha256": "b", "probed": False},  # lowest, but cannot be kept
        {**GOOD, "video_id": "4", "media_sha256": "b"},
        {**GOOD, "video_id": "5", "media_sha256": "c"},
    ])  # fmt: skip
    assert reasons(frame) == [("duplicate_of:9",), (), ("duplicate_of:9",), ("not_probed", "duplicate_of:4"), (), ()]
    assert reasons(frame, replace(DEFAULT_RULES, drop_duplicates=False))[0] == ()


def test_counts_per_reason_fold_duplicates_together():
    frame = table({"media_sha256": "a"}, {"media_sha256": "a"}, {"media_sha256": "a", "fps": 1.0}, {"frames": 1})
    verdicts = evaluate(frame, DEFAULT_RULES)
    assert reason_counts(verdicts) == {"duplicate": 2, "low_fps": 1, "too_few_frames": 1}
    assert list(verdicts["verdict"]) == ["kept", "rejected", "rejected", "rejected"]


def test_an_empty_table_gives_no_verdicts():
    assert evaluate(table().iloc[:0].reindex(columns=[*GOOD, "video_id"]), DEFAULT_RULES).empty


def test_a_missing_column_is_named():
    with pytest.raises(KeyError, match="fps"):
        evaluate(table({}).drop(columns="fps"), DEFAULT_RULES)


def test_many_rows_agree_with_a_plain_reading_of_the_rules():
    rng = np.random.default_rng(5)
    n = 5000
    frame = pd.DataFrame({
        **GOOD, "video_id": [str(i) for i in range(n)], "frames": rng.integers(0, 400, n),
        "fps": rng.choice([1.0, 10.0, 24.0, 30.0, np.nan], n), "duration_s": rng.uniform(0, 700, n),
        "width": rng.choice([144, 240, 720], n), "height": rng.choice([256, 1280], n),
        "truncated": rng.random(n) < 0.05,
    })  # fmt: skip
    got = evaluate(frame, DEFAULT_RULES)
    rows = frame.to_dict("records")
    expected = [
        tuple(name for name, bad in (
            ("truncated", r["truncated"]), ("too_few_frames", r["frames"] < 100), ("low_fps", not r["fps"] >= 10),
            ("too_short", r["duration_s"] < 3), ("too_long", r["duration_s"] > 600), ("low_resolution", min(r["width"], r["height"]) < 240),
        ) if bad)
        for r in rows
    ]  # fmt: skip
    assert list(got["reasons"]) == expected
