"""Grouped, row-balanced, stable splits."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling import SplitError, SplitSpec, assign_splits


def rows(n: int, authors: int, simulated_every: int = 0) -> pd.DataFrame:
    return pd.DataFrame({
        "video_id": [str(1000 + i) for i in range(n)],
        "author": [f"author-{i % authors}" for i in range(n)],
        "simulated": [bool(simulated_every) and i % simulated_every == 0 for i in range(n)],
    })


def split_of(frame: pd.DataFrame, spec: SplitSpec = SplitSpec(), parent: pd.Series | None = None):
    return assign_splits(frame["video_id"], frame["author"], frame["simulated"], spec, parent)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), authors=st.integers(1, 60), seed=st.integers(0, 10**6))
def test_an_author_never_spans_two_splits(n, authors, seed):
    frame = rows(n, authors)
    result = split_of(frame, SplitSpec(seed=seed))
    assert result.split.groupby(frame["author"]).nunique().max() == 1
    assert set(result.split) <= {"train", "val", "test"}


def test_ratios_hold_over_many_groups_and_the_seed_matters():
    frame = rows(20_000, 20_000)
    a = split_of(frame).split
    share = a.value_counts(normalize=True)
    assert share["train"] == pytest.approx(0.8, abs=0.02) and share["test"] == pytest.approx(0.1, abs=0.02)
    assert a.equals(split_of(frame).split)
    assert (split_of(frame, SplitSpec(seed=1)).split != a).mean() > 0.2


def test_row_shares_hold_when_a_few_authors_posted_most_videos():
    import numpy as np

    heavy = np.random.default_rng(0).pareto(1.1, 120).astype(int) + 1  # a crawl's authors: most post once, a few dozens
    frame = pd.DataFrame({"author": np.repeat([f"a{i}" for i in range(120)], heavy)})
    frame["video_id"] = [str(i) for i in range(len(frame))]
    frame["simulated"] = False
    share = split_of(frame).split.value_counts(normalize=True)
    largest = heavy.max() / len(frame)
    for side, ratio in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert share[side] == pytest.approx(ratio, abs=largest), side


def test_the_rows_order_does_not_matter():
    frame = rows(2000, 400)
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    by_id = dict(zip(frame["video_id"], split_of(frame).split))
    assert split_of(shuffled).split.tolist() == shuffled["video_id"].map(by_id).tolist()


def test_videos_keep_their_parent_split_and_new_videos_join_their_group():
    old = rows(300, 30)
    parent = pd.Series(["test"] * len(old), index=old["video_id"])  # say the parent put everything in test
    new = rows(300, 60).assign(video_id=[str(5000 + i) for i in range(300)])  # authors 0-29 known, 30-59 new
    grown = pd.concat([old, new], ignore_index=True)
    result = split_of(grown, parent=parent)
    assert (result.split.iloc[:300] == "test").all() and result.inherited == 300
    known_authors = grown["author"].isin(old["author"])
    assert (result.split[known_authors] == "test").all()
    assert set(result.split[~known_authors]) == {"train", "val"}  # new authors fill what the sides lack: not test
    # 600 rows: test already holds 450; train lacks 480 and val 60, so the 150 free rows go 8:1
    assert (result.split[~known_authors] == "train").mean() == pytest.approx(480 / 540, abs=0.05)


def test_simulated_rows_stay_out_of_evaluation_unless_asked():
    frame = rows(3000, 301, simulated_every=2)  # 301 is odd: most authors get both kinds
    frame.loc[frame["author"].isin([f"author-{i}" for i in range(50)]), "simulated"] = True  # 50 authors all simulated
    result = split_of(frame)
    kept = ~result.excluded
    assert not (frame["simulated"][kept] & (result.split[kept] != "train")).any()
    only_sim = frame.groupby("author")["simulated"].transform("all")
    assert (result.split[only_sim] == "train").all() and not result.excluded[only_sim].any()
    assert result.excluded.sum() > 0  # simulated rows of mixed authors on the val/test side
    relaxed = split_of(frame, SplitSpec(include_simulated_in_eval=True))
    assert not relaxed.excluded.any() and (relaxed.split[frame["simulated"]] != "train").any()


def test_group_by_video_and_missing_authors():
    frame = rows(1000, 1)
    by_video = split_of(frame, SplitSpec(group_by="video")).split
    assert by_video.nunique() == 3  # one author, yet every side is used
    no_author = assign_splits(frame["video_id"], pd.Series([None] * 1000), frame["simulated"], SplitSpec())
    assert no_author.groups == 1000


def test_bad_specs_are_clean_errors():
    with pytest.raises(SplitError, match="sum"):
        SplitSpec(ratios=(0.5, 0.5, 0.5))
    with pytest.raises(SplitError, match="three"):
        SplitSpec.parse_ratios("0.8,0.2")
    with pytest.raises(SplitError, match="look like"):
        SplitSpec.parse_ratios("a,b,c")
    with pytest.raises(SplitError, match="group-by"):
        SplitSpec(group_by="handle")
