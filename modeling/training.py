"""``curate train``'s work: plan the features, build the matrix, fit the MLP, evaluate it beside the baselines, write the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modeling import evaluation, mlp
from modeling.design import Design, build_design
from modeling.extractors import EXTRACTORS
from modeling.features import FeatureError, plan_features
from modeling.preprocess import Standardizer
from modeling.runs import RunArtifacts, write_run
from modeling.snapshot import Snapshot


#: below this many test videos the metrics are reported with a warning
FEW_TEST_ROWS = 50


@dataclass(frozen=True)
class TrainConfig:
    """What to train: target, features, threshold rule, leakage permission and the network's settings."""

    target: str = "viral_er"
    features: tuple[str, ...] = ("tabular",)
    threshold: str = "f1"
    allow_leakage: bool = False
    params: mlp.TrainParams = field(default_factory=mlp.TrainParams)
    #: author-grouped K-fold cross-validation beside the snapshot's split (None: none)
    cv: int | None = None


@dataclass(frozen=True)
class Evaluation:
    """Test metrics (MLP and baselines), scores per row for the plots and predictions, and warnings."""

    metrics: dict[str, Any]
    scores: np.ndarray
    labels: np.ndarray | None
    curves: dict[str, np.ndarray]
    warnings: list[str]


def train_run(snapshot: Snapshot, config: TrainConfig, features_root: Path, runs_dir: Path, run_name: str | None = None, on_epoch: Callable[[dict[str, float]], None] | None = None) -> RunArtifacts:
    """Trains and evaluates one run on a snapshot and writes ``runs_dir/RUN/``; returns where and what."""
    if config.threshold not in evaluation.THRESHOLD_RULES:
        raise FeatureError(f"unknown threshold rule {config.threshold!r} (have: {', '.join(evaluation.THRESHOLD_RULES)})")
    start = time.perf_counter()
    plan = plan_features(config.target, config.features, list(EXTRACTORS), config.allow_leakage)
    design = build_design(snapshot, plan, features_root)
    scaler = Standardizer.fit(design.features[design.rows("train").to_numpy()])
    x = scaler.transform(design.features)
    y, target_scale = _target(design, plan.task)
    fitted = _fit(x, y, design, plan.task, config.params, on_epoch)
    raw = mlp.predict(fitted.model, x, config.params.device)
    result = _evaluate(plan.task, x, y, raw, design, config, target_scale)
    result.warnings.extend(random_weights_warnings(design.extractors))
    if config.cv:
        from modeling.crossval import cross_validate

        result.metrics["cv"] = cross_validate(design, plan.task, config.cv, config.params)
    context = {
        "snapshot": snapshot, "plan": plan, "design": design, "scaler": scaler, "fit": fitted, "config": config,
        "evaluation": result, "target_scale": target_scale, "seconds": round(time.perf_counter() - start, 2),
    }  # fmt: skip
    return write_run(runs_dir, run_name, context)


def _target(design: Design, task: str) -> tuple[np.ndarray, dict[str, float] | None]:
    values = design.target.to_numpy(dtype=np.float64)
    if task == "classification":
        if not np.isin(values, (0.0, 1.0)).all():
            raise FeatureError(f"target {design.target.name} is not binary (values {np.unique(values)[:5]} …)")
        return values, None
    train = values[design.rows("train").to_numpy()]
    scale = {"mean": float(train.mean()), "std": float(train.std()) or 1.0}
    return (values - scale["mean"]) / scale["std"], scale


def _fit(x: np.ndarray, y: np.ndarray, design: Design, task: str, params: mlp.TrainParams, on_epoch) -> mlp.FitResult:
    train, val = design.rows("train").to_numpy(), design.rows("val").to_numpy()
    return mlp.fit(x[train], y[train], x[val], y[val], task, params, on_epoch)


def _evaluate(task: str, x: np.ndarray, y: np.ndarray, raw: np.ndarray, design: Design, config: TrainConfig, target_scale) -> Evaluation:
    masks = {s: design.rows(s).to_numpy() for s in ("train", "val", "test")}
    if task == "classification":
        result = _evaluate_classification(x, y, raw, masks, design, config)
    else:
        result = _evaluate_regression(x, y, raw, masks, config, target_scale)
    if (tested := int(masks["test"].sum())) < FEW_TEST_ROWS:
        result.warnings.append(f"only {tested} test videos: these metrics are mostly noise (a bigger snapshot gives meaningful ones)")
    return result


def _evaluate_classification(x, y, raw, masks, design: Design, config: TrainConfig) -> Evaluation:
    train, val, test = masks["train"], masks["val"], masks["test"]
    scores = 1 / (1 + np.exp(-raw))
    threshold = evaluation.choose_threshold(y[val], scores[val], config.threshold)
    logistic, logistic_scores = evaluation.logistic_baseline(x[train], y[train], x[val], y[val], x[test], y[test], config.threshold, config.params.seed)
    test_metrics = {
        "mlp": evaluation.classification_metrics(y[test], scores[test], threshold),
        "logistic_regression": logistic,
        "majority": evaluation.majority_baseline(y[train], y[test]),
    }
    curves = {"MLP": scores[test], "logistic regression": logistic_scores}
    if design.latent is not None:
        latent = design.latent.to_numpy()[test]
        test_metrics["latent_score"] = {"auc": _auc(y[test], latent)}
        if not np.isnan(latent).any():
            curves["true latent score (reference)"] = latent
    _add_intervals(test_metrics, y[test], scores[test], logistic_scores, design, test, config.params.seed)
    labels = (scores >= threshold).astype(int)
    warnings = [w for w in (evaluation.collapse_warning(scores[test], "classification"), evaluation.single_class_warning(labels[test])) if w]
    if test_metrics["mlp"]["auc"] <= test_metrics["majority"]["auc"]:
        warnings.append(f"the MLP's test AUC ({test_metrics['mlp']['auc']:.3f}) is no better than the majority baseline's (0.500)")
    metrics = {"threshold": {"rule": config.threshold, "value": threshold}, "test": test_metrics}
    return Evaluation(metrics, scores, labels, curves, warnings)


def _add_intervals(test_metrics: dict, y: np.ndarray, mlp_scores: np.ndarray, logistic_scores: np.ndarray, design: Design, test: np.ndarray, seed: int) -> None:
    """Each AUC gets its bootstrap 95 % interval (the majority baseline's constant scores: exactly 0.5)."""
    scored = {"mlp": mlp_scores, "logistic_regression": logistic_scores}
    if design.latent is not None and not np.isnan(design.latent.to_numpy()[test]).any():
        scored["latent_score"] = design.latent.to_numpy()[test]
    for name, interval in evaluation.bootstrap_auc_intervals(y, scored, seed).items():
        test_metrics[name]["auc_ci95"] = interval
    test_metrics["majority"]["auc_ci95"] = [0.5, 0.5]


def random_weights_warnings(extractors: dict[str, dict]) -> list[str]:
    """A warning for each extractor whose features came from random-init weights (``--model random``)."""
    return [
        f"RANDOM WEIGHTS: the {name} features came from random-init weights (--model random); they carry no learned meaning, so these metrics do not measure {name}"
        for name, info in extractors.items()
        if info.get("weights_fingerprint") == "random"
    ]


def _evaluate_regression(x, y, raw, masks, config: TrainConfig, scale) -> Evaluation:
    train, test = masks["train"], masks["test"]
    predicted = raw * scale["std"] + scale["mean"]
    truth = y * scale["std"] + scale["mean"]
    baselines, ridge = evaluation.regression_baselines(x[train], truth[train], x[test], truth[test], config.params.seed)
    test_metrics = {"mlp": evaluation.regression_metrics(truth[test], predicted[test]), **baselines}
    warning = evaluation.collapse_warning(predicted[test], "regression", spread=float(np.std(truth[test])) or 1.0)
    return Evaluation({"test": test_metrics}, predicted, None, {"MLP": predicted[test], "ridge": ridge}, [warning] if warning else [])


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    usable = ~np.isnan(scores)
    return float(roc_auc_score(y[usable], scores[usable])) if len(np.unique(y[usable])) == 2 else float("nan")


def rows_by_split(design: Design) -> dict[str, int]:
    """How many rows each split has."""
    return {s: int(n) for s, n in pd.Series(design.split).value_counts().reindex(["train", "val", "test"], fill_value=0).items()}
