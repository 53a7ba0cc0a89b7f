"""``curate train --cv K``: author-grouped K-fold cross-validation, for the spread a single small test split hides.

On a 100-row test split an AUC swings from 0.39 to 0.58 with the split seed alone; K
folds give K test AUCs on K disjoint sets of authors. Fold k is the test set, fold
k+1 the validation set (early stopping), the rest trains; scaling is fitted on each
fold's train rows only. Simulated rows stay in train, as in the snapshot's own splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.errors import CurateError
from modeling import evaluation, mlp
from modeling.design import Design
from modeling.preprocess import Standardizer


def cross_validate(design: Design, task: str, folds: int, params: mlp.TrainParams) -> dict[str, Any]:
    """Per-fold test metric (AUC, or Spearman for regression) of the MLP and the linear baseline, and their spread."""
    fold_of = _author_folds(design, folds)
    results: dict[str, list[float]] = {"mlp": [], "linear": []}
    y = design.target.to_numpy(dtype=np.float64)
    for k in range(folds):
        test, val = fold_of == k, fold_of == (k + 1) % folds
        train = ~test & ~val
        scaler = Standardizer.fit(design.features[train])
        x = scaler.transform(design.features)
        target = y if task == "classification" else (y - y[train].mean()) / (y[train].std() or 1.0)
        fitted = mlp.fit(x[train], target[train], x[val], target[val], task, params)
        raw = mlp.predict(fitted.model, x, params.device)
        results["mlp"].append(_score(task, y[test], raw[test]))
        results["linear"].append(_score(task, y[test], _linear(task, x[train], target[train], x[test], params.seed)))
    metric = "auc" if task == "classification" else "spearman"
    linear = "logistic_regression" if task == "classification" else "ridge"
    return {"folds": folds, "metric": metric, "group": "author", "test_rows": [int((fold_of == k).sum()) for k in range(folds)],
            "mlp": _spread(results["mlp"]), linear: _spread(results["linear"])}


def _author_folds(design: Design, folds: int) -> np.ndarray:
    """Each row's fold (0…K−1) by author; simulated rows −1 (always train)."""
    from sklearn.model_selection import GroupKFold

    if folds < 2:
        raise CurateError(f"--cv needs at least 2 folds, not {folds}")
    groups = _content_groups(design)
    evaluable = _evaluable(design)
    if len(np.unique(groups[evaluable])) < folds:
        raise CurateError(f"--cv {folds}: the snapshot has only {len(np.unique(groups[evaluable]))} authors with observed rows; use fewer folds")
    fold_of = np.full(len(groups), -1)
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=0)
    for k, (_, test) in enumerate(splitter.split(np.zeros(evaluable.sum()), groups=groups[evaluable])):
        fold_of[np.flatnonzero(evaluable)[test]] = k
    return fold_of


def _content_groups(design: Design) -> np.ndarray:
    """Each row's author group, named by the group's smallest video id: the folds then depend on the rows
    alone, not on the catalog's pseudonymisation secret (two rebuilds of one dataset get the same folds)."""
    videos = pd.Series(design.video_id.to_numpy(), dtype=str)
    if design.groups is None:
        return videos.to_numpy()
    return videos.groupby(design.groups.to_numpy(), sort=False).transform("min").to_numpy()


def _evaluable(design: Design) -> np.ndarray:
    """Rows a test fold may hold: all, when the snapshot let simulated rows into val/test; else the observed ones."""
    if design.provenance is None:
        return np.ones(len(design.split), dtype=bool)
    simulated = (design.provenance == "simulated").to_numpy()
    if (simulated & (design.split != "train").to_numpy()).any():
        return np.ones(len(simulated), dtype=bool)
    return ~simulated


def _score(task: str, y: np.ndarray, scores: np.ndarray) -> float:
    if task == "classification":
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else float("nan")
    return evaluation.regression_metrics(y, scores)["spearman"]


def _linear(task: str, x_train, y_train, x_test, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "classification":
        return LogisticRegression(max_iter=1000, class_weight="balanced", random_state=seed).fit(x_train, y_train).predict_proba(x_test)[:, 1]
    return Ridge(alpha=1.0, random_state=seed).fit(x_train, y_train).predict(x_test)


def _spread(values: list[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=np.float64)
    return {"per_fold": [round(v, 6) for v in values], "mean": float(np.nanmean(array)), "std": float(np.nanstd(array)),
            "min": float(np.nanmin(array)), "max": float(np.nanmax(array))}
