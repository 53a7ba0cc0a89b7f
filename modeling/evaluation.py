"""Thresholds, test metrics, the trivial baselines they are read beside, and the collapse check (seed 001's failure)."""

from __future__ import annotations

from typing import Any

import numpy as np

THRESHOLD_RULES = ("f1", "youden")
#: below this spread the scores say the same thing about every video
COLLAPSE_STD = 0.01


def choose_threshold(y_val: np.ndarray, scores: np.ndarray, rule: str) -> float:
    """The validation threshold that maximises F1 or Youden's J (TPR − FPR)."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    if len(np.unique(y_val)) < 2:
        return 0.5
    if rule == "youden":
        fpr, tpr, thresholds = roc_curve(y_val, scores)
        best = int(np.argmax(tpr - fpr))
        return float(min(thresholds[best], 1.0))
    precision, recall, thresholds = precision_recall_curve(y_val, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    return float(thresholds[int(np.argmax(f1))]) if len(thresholds) else 0.5


def classification_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, AUC and the confusion matrix at ``threshold``."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support, roc_auc_score

    predicted = (scores >= threshold).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="binary", zero_division=0)
    auc = float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else float("nan")
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "auc": auc,
        "threshold": float(threshold),
        "positive_rate": float(predicted.mean()) if len(predicted) else 0.0,
        "confusion_matrix": confusion_matrix(y, predicted, labels=[0, 1]).tolist(),
    }


def majority_baseline(y_train: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """Predicting the train split's most common class for every video (constant scores: AUC 0.5)."""
    majority = int(np.mean(y_train) >= 0.5)
    metrics = classification_metrics(y_test, np.full(len(y_test), float(majority)), 0.5)
    metrics["auc"] = 0.5
    return {**metrics, "predicts": majority}


def logistic_baseline(x_train, y_train, x_val, y_val, x_test, y_test, rule: str, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """scikit-learn's logistic regression on the same standardised features, class-balanced, threshold on validation the same way."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=1000, class_weight="balanced", random_state=seed).fit(x_train, y_train)
    threshold = choose_threshold(y_val, model.predict_proba(x_val)[:, 1], rule)
    scores = model.predict_proba(x_test)[:, 1]
    return classification_metrics(y_test, scores, threshold), scores


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, MAE and Spearman's rank correlation."""
    from scipy.stats import spearmanr

    error = predicted - y
    mse = float(np.mean(error**2))
    rho = spearmanr(y, predicted).statistic if np.ptp(predicted) > 0 and np.ptp(y) > 0 else float("nan")
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(error))), "spearman": float(rho)}


def regression_baselines(x_train, y_train, x_test, y_test, seed: int) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    """A mean predictor (the train mean for every video) and scikit-learn's ridge regression on the same features."""
    from sklearn.linear_model import Ridge

    ridge = Ridge(alpha=1.0, random_state=seed).fit(x_train, y_train)
    ridge_pred = ridge.predict(x_test)
    mean = regression_metrics(y_test, np.full(len(y_test), float(np.mean(y_train))))
    return {"mean": mean, "ridge": regression_metrics(y_test, ridge_pred)}, ridge_pred


def collapse_warning(predicted: np.ndarray, task: str, spread: float = 1.0) -> str | None:
    """A warning when predictions are (nearly) one value for every video — what seed 001's network did."""
    if len(predicted) < 2:
        return None
    std = float(np.std(predicted))
    if std >= COLLAPSE_STD * spread:
        return None
    low, high = float(np.min(predicted)), float(np.max(predicted))
    what = "probabilities" if task == "classification" else "predictions"
    return (
        f"COLLAPSE: the model gives nearly one value to every video ({what} {low:.4g}–{high:.4g}, std {std:.2g} over {len(predicted)} test rows); "
        "it learned no difference between videos (seed 001's failure): check that the features carry signal"
    )


def single_class_warning(labels: np.ndarray) -> str | None:
    """A warning when every test video gets the same predicted label."""
    if len(labels) and (labels.min() == labels.max()):
        return f"COLLAPSE: every test video is predicted {'viral' if labels[0] else 'not viral'} at the chosen threshold"
    return None


#: resamples of the test rows behind each AUC's 95 % interval
BOOTSTRAP_RESAMPLES = 1000


def bootstrap_auc_intervals(y: np.ndarray, scores: dict[str, np.ndarray], seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, list[float]]:
    """A percentile bootstrap 95 % interval of each model's test AUC, every model on the same resampled rows (paired).

    Resamples with a single class have no AUC and are dropped; with fewer than two rows of
    each class there is no interval (NaN, NaN).
    """
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=np.float64)
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        return {name: [float("nan"), float("nan")] for name in scores}
    rows = np.random.default_rng(seed).integers(0, len(y), (resamples, len(y)))
    labels = y[rows]
    positives = labels.sum(1)
    usable = (positives > 0) & (positives < len(y))
    labels, rows, positives = labels[usable], rows[usable], positives[usable]
    negatives = len(y) - positives
    intervals = {}
    for name, values in scores.items():
        ranks = rankdata(np.asarray(values, dtype=np.float64)[rows], axis=1)  # Mann–Whitney: AUC from the ranks of the positives
        aucs = ((ranks * labels).sum(1) - positives * (positives + 1) / 2) / (positives * negatives)
        intervals[name] = [float(np.percentile(aucs, 2.5)), float(np.percentile(aucs, 97.5))]
    return intervals
