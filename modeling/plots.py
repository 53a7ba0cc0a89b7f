"""The run's figures: confusion matrix, ROC curves beside the baselines, the loss curves, predicted vs true."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def confusion_png(path: Path, matrix: list[list[int]], title: str) -> Path:
    """A 2×2 confusion matrix with counts and row shares."""
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.0), dpi=120)
    counts = np.asarray(matrix)
    shown = ConfusionMatrixDisplay(counts, display_labels=["not viral", "viral"]).plot(ax=ax, cmap="Blues", colorbar=False, values_format="d")
    shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    for (i, j), share in np.ndenumerate(shares):
        # the same colour as the count above it, which sklearn picks for contrast with the cell
        ax.text(j, i + 0.25, f"{share:.0%} of row", ha="center", va="center", fontsize=7, color=shown.text_[i, j].get_color())
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def roc_png(path: Path, y: np.ndarray, curves: Mapping[str, np.ndarray], title: str) -> Path:
    """ROC curves of each named scorer on the same test rows, with the chance line."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=120)
    for name, scores in curves.items():
        fpr, tpr, _ = roc_curve(y, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, scores):.3f})", linewidth=1.6 if name == "MLP" else 1.1)
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=0.8, label="chance (majority: 0.500)")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    return _save(fig, path)


def loss_png(path: Path, history: list[dict[str, float]], best_epoch: int, title: str) -> Path:
    """Train and validation loss per epoch, the restored epoch marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 3.4), dpi=120)
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train")
    ax.plot(epochs, [h["val_loss"] for h in history], marker="o", label="validation")
    ax.axvline(best_epoch, color="gray", linestyle=":", label=f"best epoch ({best_epoch})")
    ax.set(xlabel="epoch", ylabel="loss")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)


def scatter_png(path: Path, y: np.ndarray, predicted: np.ndarray, title: str) -> Path:
    """Predicted against true values on the test rows, with the identity line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.4), dpi=120)
    ax.scatter(y, predicted, s=6, alpha=0.5)
    low, high = float(min(y.min(), predicted.min())), float(max(y.max(), predicted.max()))
    ax.plot([low, high], [low, high], linestyle="--", color="gray", linewidth=0.8)
    ax.set(xlabel="true", ylabel="predicted")
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path
