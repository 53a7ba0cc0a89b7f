"""Labels whose inputs are missing are left out with the reason; ``--labels`` chooses; splits say who had no author."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from labeling import LABEL_COLUMNS, FittedLabels, LabelError, LabelSpec, SplitSpec, apply_labels, assign_splits, fit_labels

NO_PLAYS = pd.DataFrame({
    "plays": [None] * 4, "likes": [100, 150, 20, 900], "comments": [10, 5, 2, 60], "shares": [5, 10, 1, 40],
    "followers": [1000, 100, 50, 5000],
}, dtype="Float64")


def test_labels_without_their_inputs_are_left_out_with_the_reason():
    fitted = fit_labels(NO_PLAYS, fit_on="all")
    assert set(fitted.params) == {"er"}
    assert set(fitted.skipped) == {"virality_weighted", "viral_all_median", "virality_corr"}
    assert "plays missing on every row" in fitted.skipped["virality_weighted"]
    assert "plays" in fitted.skipped["viral_all_median"] and "plays" in fitted.skipped["virality_corr"]
    labels = apply_labels(NO_PLAYS, fitted)
    assert list(labels.columns) == list(LABEL_COLUMNS)
    assert labels["viral_er"].notna().all() and labels["virality_weighted"].isna().all()
    assert labels["viral_all_median"].isna().all() and labels["virality_corr"].isna().all()
    again = FittedLabels.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert again.skipped == fitted.skipped
    pd.testing.assert_frame_equal(apply_labels(NO_PLAYS, again), labels)


def test_labels_chosen_by_name_are_the_only_ones_and_must_fit():
    spec = LabelSpec.from_options(labels="viral_er")
    fitted = fit_labels(NO_PLAYS, spec, fit_on="all")
    assert set(fitted.params) == {"er"} and fitted.skipped == {} and spec.to_dict()["labels"] == ["er"]
    with pytest.raises(LabelError, match="virality_weighted: it needs comments, likes, plays and shares"):
        fit_labels(NO_PLAYS, LabelSpec.from_options(labels="virality_weighted"))
    with pytest.raises(LabelError, match="unknown label 'virality'"):
        LabelSpec.from_options(labels="virality")


def test_no_label_at_all_is_an_error_that_gives_every_reason():
    empty = NO_PLAYS.assign(followers=0, likes=pd.NA).astype("Float64")
    with pytest.raises(LabelError, match="no label can be fitted: .*viral_er.*virality_weighted"):
        fit_labels(empty)


def test_rows_without_an_author_are_counted_and_each_is_its_own_group():
    ids = pd.Series([str(7000 + i) for i in range(10)])
    authors = pd.Series(["a", "a", "b", None, None, "c", "c", None, "d", "d"], dtype=object)
    assignment = assign_splits(ids, authors, pd.Series([False] * 10), SplitSpec(), None)
    assert assignment.ungrouped == 3 and assignment.groups == 4 + 3
    by_author = pd.DataFrame({"a": authors, "s": assignment.split}).dropna().groupby("a")["s"].nunique()
    assert (by_author == 1).all()
    assert assign_splits(ids, authors, pd.Series([False] * 10), SplitSpec(group_by="video"), None).ungrouped == 0
