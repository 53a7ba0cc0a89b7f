"""A training run on disk: ``$CURATE_HOME/runs/RUN/`` and reading one back for prediction.

``metrics.json`` (numbers only, identical for two runs with the same seed on the
CPU), ``run.json`` (everything prediction needs: features, extractors and their
weights, scaling, threshold, parameters), ``model.safetensors``,
``predictions.parquet``, the PNG figures and ``MODEL_CARD.md``. The folder is built
under a temporary name and renamed into place; a run is never overwritten.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import CurateError
from modeling import plots
from modeling.card import model_card
from modeling.preprocess import Standardizer


class RunError(CurateError):
    """A run that does not exist, already exists, or cannot be read."""


@dataclass(frozen=True)
class RunArtifacts:
    """Where a run was written, its metrics and warnings, and its files by role."""

    name: str
    path: Path
    metrics: dict[str, Any]
    warnings: list[str]
    files: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedRun:
    """A run read back: its record, the network and the train-split scaler."""

    path: Path
    info: dict[str, Any]
    model: Any
    scaler: Standardizer

    @property
    def task(self) -> str:
        """classification or regression."""
        return self.info["task"]


def run_name(snapshot_name: str, version: int, target: str, seed: int) -> str:
    """The default name: snapshot, version, target, seed and the UTC time."""
    return f"{snapshot_name}-v{version}-{target}-seed{seed}-{datetime.now(UTC):%Y%m%dT%H%M%S}"


def write_run(runs_dir: Path, name: str | None, context: dict[str, Any]) -> RunArtifacts:
    """Writes every file of a run into a temporary folder, then renames it into place."""
    snapshot, config = context["snapshot"], context["config"]
    name = name or run_name(snapshot.name, snapshot.version, config.target, config.params.seed)
    final = runs_dir / name
    if final.exists():
        raise RunError(f"run {name} already exists in {runs_dir}; runs are never overwritten (pick another --run name)")
    runs_dir.mkdir(parents=True, exist_ok=True)
    tmp = runs_dir / f".{name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        metrics, info = _records(name, context)
        files = _write_files(tmp, name, context, metrics, info)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunArtifacts(name, final, metrics, info["warnings"], {role: final / p.name for role, p in files.items()})


def _records(name: str, context: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from modeling.training import rows_by_split

    snapshot, plan, design, config, fit, result = (context[k] for k in ("snapshot", "plan", "design", "config", "fit", "evaluation"))
    warnings = [*plan.warnings, *result.warnings]
    rows = {**rows_by_split(design), "dropped_no_target": design.dropped_no_target, "simulated_in_train": _simulated(design)}
    training = {"epochs_run": len(fit.history), "best_epoch": fit.best_epoch, "stopped_early": fit.stopped_early, "history": fit.history}
    metrics = {
        "target": plan.target, "task": plan.task, "snapshot_fingerprint": snapshot.fingerprint, "features": plan.groups,
        "n_features": len(context["scaler"].columns), "rows": rows, **result.metrics, "training": training, "warnings": warnings,
    }  # fmt: skip
    info = {
        "run": name, "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": context["seconds"],
        "snapshot": {"name": snapshot.name, "version": snapshot.version, "ref": snapshot.ref, "fingerprint": snapshot.fingerprint, "labels": snapshot.manifest.get("labels")},
        "target": plan.target, "task": plan.task, "allow_leakage": config.allow_leakage,
        "features": {"requested": list(config.features), "tabular": plan.tabular, "leaky": list(plan.leaky), "extractors": design.extractors,
                     "words": {"file": "words.npz", "text_sources": design.words["text_sources"]} if design.words else None},
        "scaler": context["scaler"].to_dict(), "target_scale": context["target_scale"], "threshold": result.metrics.get("threshold"),
        "params": config.params.to_dict(), "seed": config.params.seed, "warnings": warnings, "training": training, "versions": _versions(),
    }  # fmt: skip
    return metrics, info


def _write_files(folder: Path, name: str, context: dict[str, Any], metrics: dict[str, Any], info: dict[str, Any]) -> dict[str, Path]:
    from safetensors.torch import save_file

    design, result, fit = context["design"], context["evaluation"], context["fit"]
    files = {"metrics": _json(folder / "metrics.json", metrics), "run": _json(folder / "run.json", info)}
    save_file({k: v.detach().cpu().contiguous() for k, v in fit.model.state_dict().items()}, str(folder / "model.safetensors"))
    files["weights"] = folder / "model.safetensors"
    if design.words:
        files["words"] = design.words["model"].save(folder / "words.npz")
    files["predictions"] = _predictions(folder / "predictions.parquet", design, result)
    files.update(_figures(folder, name, design, result, fit, info["task"]))
    (folder / "MODEL_CARD.md").write_text(model_card(info, metrics, files))
    files["card"] = folder / "MODEL_CARD.md"
    return files


def _figures(folder: Path, name: str, design, result, fit, task: str) -> dict[str, Path]:
    test = design.rows("test").to_numpy()
    y = design.target.to_numpy(dtype=float)[test]
    figures = {"loss": plots.loss_png(folder / "loss.png", fit.history, fit.best_epoch, f"{name}\nloss per epoch")}
    if task == "regression":
        figures["scatter"] = plots.scatter_png(folder / "pred_vs_true.png", y, result.scores[test], f"{name}\ntest: predicted against true")
        return figures
    mlp_metrics = result.metrics["test"]["mlp"]
    title = f"{name}\nMLP on test, threshold {mlp_metrics['threshold']:.3f} ({result.metrics['threshold']['rule']})"
    figures["confusion"] = plots.confusion_png(folder / "confusion_matrix.png", mlp_metrics["confusion_matrix"], title)
    if len(np.unique(y)) == 2:
        figures["roc"] = plots.roc_png(folder / "roc.png", y, result.curves, f"{name}\nROC on test")
    return figures


def _predictions(path: Path, design, result) -> Path:
    frame = pd.DataFrame({"video_id": design.video_id, "split": design.split, "target": design.target.astype(float), "score": result.scores})
    if result.labels is not None:
        frame["predicted"] = result.labels
    frame.to_parquet(path, index=False)
    return path


def load_run(runs_dir: Path, name: str) -> LoadedRun:
    """Reads ``runs_dir/name`` (or a path to a run folder) back: record, network, scaler."""
    import torch
    from safetensors.torch import load_file

    from modeling.mlp import build_mlp

    path = Path(name) if Path(name).is_dir() else runs_dir / name
    if not (path / "run.json").is_file():
        have = sorted(p.name for p in runs_dir.glob("*") if (p / "run.json").is_file()) if runs_dir.is_dir() else []
        raise RunError(f"no run named {name!r} in {runs_dir} (have: {', '.join(have[-5:]) or 'none'})")
    info = json.loads((path / "run.json").read_text())
    scaler = Standardizer.from_dict(info["scaler"])
    model = build_mlp(len(scaler.columns))
    model.load_state_dict(load_file(str(path / "model.safetensors")))
    model.to(torch.device("cpu")).eval()
    return LoadedRun(path, info, model, scaler)


def _simulated(design) -> int:
    if design.provenance is None:
        return 0
    return int(((design.provenance == "simulated") & design.rows("train")).sum())


def _versions() -> dict[str, str]:
    import sklearn
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "scikit-learn": sklearn.__version__}


def _json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2, default=_plain, allow_nan=True) + "\n")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
