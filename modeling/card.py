"""The model card of a run: what it was trained on, how, how well, and what to beware of."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def model_card(info: dict[str, Any], metrics: dict[str, Any], files: dict[str, Path]) -> str:
    """Markdown for ``MODEL_CARD.md``."""
    lines = [
        f"# Model card: {info['run']}",
        "",
        *_warnings(info["warnings"]),
        "## What it is",
        "",
        "Seed 000's baseline MLP (in → 128 ReLU, dropout 0.3 → 64 ReLU, dropout 0.2 → 1), "
        f"trained for `{info['target']}` ({info['task']}) by viralcurate.",
        "",
        *_summary(info, metrics),
        "",
        *_extractors(info["features"]["extractors"]),
        "## How well (test split)",
        "",
        *_metrics_table(metrics),
        "",
        *cv_lines(metrics),
        "## Files",
        "",
        *[f"- `{path.name}` ({role})" for role, path in files.items()],
        "",
        "## Limits",
        "",
        "- Standardisation and imputation use train-split statistics only; the threshold is chosen on validation.",
        "- Metrics of a snapshot with simulated metrics describe the simulator, not the platform.",
        "- Features missing at prediction time are imputed with train medians; the prediction says which.",
    ]
    return "\n".join(lines) + "\n"


def _summary(info: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    snapshot, rows, leaky = info["snapshot"], metrics["rows"], info["features"]["leaky"]
    return [
        "| | |",
        "| --- | --- |",
        f"| snapshot | `{snapshot['ref']}` |",
        f"| snapshot fingerprint | `{snapshot['fingerprint']}` |",
        f"| target | `{info['target']}` ({info['task']}) |",
        f"| features | {', '.join(info['features']['requested'])} ({len(info['scaler']['columns'])} columns) |",
        f"| leakage allowed | {'**yes** (' + ', '.join(leaky) + ')' if info['allow_leakage'] else 'no'} |",
        f"| seed | {info['seed']} |",
        f"| parameters | {_params(info['params'])} |",
        f"| epochs run / best | {info['training']['epochs_run']} / {info['training']['best_epoch']} |",
        f"| rows (train / val / test) | {rows['train']} / {rows['val']} / {rows['test']} |",
        f"| simulated rows in train | {rows['simulated_in_train']} |",
    ]


def metrics_rows(metrics: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(column names, rows) of the test metrics, models as columns — shared by the card and the command's table."""
    test = metrics["test"]
    models = [m for m in ("mlp", "logistic_regression", "majority", "ridge", "mean", "latent_score") if m in test]
    keys = ["auc", "auc_ci95", "f1", "precision", "recall", "accuracy", "threshold"] if metrics["task"] == "classification" else ["spearman", "rmse", "mae", "mse"]
    rows = [(_LABELS.get(key, key), [_fmt(test[m].get(key)) for m in models]) for key in keys]
    return [_MODEL_NAMES.get(m, m) for m in models], rows


_MODEL_NAMES = {"mlp": "MLP", "logistic_regression": "logistic regression", "latent_score": "true latent score (reference)"}


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    names, rows = metrics_rows(metrics)
    lines = ["| metric | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    lines += [f"| {key} | " + " | ".join(values) + " |" for key, values in rows]
    if "mlp" in metrics["test"] and "confusion_matrix" in metrics["test"]["mlp"]:
        (tn, fp), (fn, tp) = metrics["test"]["mlp"]["confusion_matrix"]
        lines += ["", f"MLP confusion matrix on test: TN {tn}, FP {fp}, FN {fn}, TP {tp}."]
    return lines


def cv_lines(metrics: dict[str, Any]) -> list[str]:
    """The cross-validation spread (``--cv K``), one line per model; none without it."""
    cv = metrics.get("cv")
    if not cv:
        return []
    lines = [f"Author-grouped {cv['folds']}-fold cross-validation, test {cv['metric']} per fold ({'/'.join(map(str, cv['test_rows']))} rows):", ""]
    for name, spread in cv.items():
        if isinstance(spread, dict) and "per_fold" in spread:
            folds = ", ".join("nan" if v != v else f"{v:.3f}" for v in spread["per_fold"])
            lines.append(f"- {_MODEL_NAMES.get(name, name)}: mean {spread['mean']:.3f} ± {spread['std']:.3f} (min {spread['min']:.3f}, max {spread['max']:.3f}; {folds})")
    return [*lines, ""]


_LABELS = {"auc_ci95": "auc 95% CI"}  # a bootstrap interval (docs/modeling.md)


def _warnings(warnings: list[str]) -> list[str]:
    if not warnings:
        return []
    return ["## Warnings", "", *[f"> **{w.split(':', 1)[0]}**:{w.split(':', 1)[1]}" if ":" in w else f"> **{w}**" for w in warnings], ""]


def _extractors(extractors: dict[str, dict[str, Any]]) -> list[str]:
    if not extractors:
        return []
    lines = ["## Extracted features", "", "| extractor | model | weights fingerprint | coverage |", "| --- | --- | --- | --- |"]
    for name, meta in extractors.items():
        lines.append(f"| {name} | `{meta.get('model')}` | `{str(meta.get('weights_fingerprint', ''))[:16]}` | {meta.get('coverage', 0):.1%} |")
    return [*lines, ""]


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in params.items())


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple) and len(value) == 2:
        return "—" if any(v != v for v in value) else f"{value[0]:.3f}–{value[1]:.3f}"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.4f}"
    return str(value)
