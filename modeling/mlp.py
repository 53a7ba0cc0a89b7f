"""Seed 000's baseline network (annex A3.5) and its training loop, deterministic for a seed on the CPU.

in → 128 ReLU, dropout 0.3 → 64 ReLU, dropout 0.2 → 1. Classification trains
BCEWithLogitsLoss with ``pos_weight`` = negatives / positives of the train split,
regression trains MSE on the train-standardised target; both with AdamW
(lr 1e-3) for at most ``epochs`` epochs, stopping when the validation loss has not
improved for ``patience`` epochs and restoring the best epoch's weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TrainParams:
    """The training settings recorded in every run."""

    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 3
    seed: int = 0
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings."""
        return dict(self.__dict__)


@dataclass
class FitResult:
    """The trained network (best validation epoch) and the loss history."""

    model: Any
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def build_mlp(inputs: int):
    """The network of seed 000, annex A3.5."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(inputs, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 1),
    )  # fmt: skip


def fit(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, task: str, params: TrainParams, on_epoch: Callable[[dict[str, float]], None] | None = None) -> FitResult:
    """Trains with early stopping on the validation loss; same seed, same data → same weights (CPU)."""
    import torch

    with torch.random.fork_rng(devices=[]), _deterministic(params.device), _one_thread(params.device):
        torch.manual_seed(params.seed)
        model = build_mlp(x_train.shape[1]).to(params.device)
        loss_fn = _loss(task, y_train, params.device)
        # the fused kernel does the whole update in one pass (faster on CPU and GPU; same arithmetic)
        optimiser = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay, fused=True)
        order = torch.Generator().manual_seed(params.seed)
        data = [torch.as_tensor(a, dtype=torch.float32, device=params.device) for a in (x_train, y_train, x_val, y_val)]
        return _epochs(model, loss_fn, optimiser, order, data, params, on_epoch)


def _epochs(model, loss_fn, optimiser, order, data, params: TrainParams, on_epoch) -> FitResult:
    x_train, y_train, x_val, y_val = data
    result, best, stale = FitResult(model), float("inf"), 0
    best_state = copy.deepcopy(model.state_dict())
    for epoch in range(1, params.epochs + 1):
        train_loss = _one_epoch(model, loss_fn, optimiser, order, x_train, y_train, params.batch_size)
        val_loss = _loss_of(model, loss_fn, x_val, y_val, params.batch_size)
        result.history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
        if on_epoch is not None:
            on_epoch(result.history[-1])
        if val_loss < best:
            best, stale, result.best_epoch = val_loss, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= params.patience:
                result.stopped_early = epoch < params.epochs
                break
    model.load_state_dict(best_state)
    return result


def _one_epoch(model, loss_fn, optimiser, order, x, y, batch_size: int) -> float:
    import torch

    model.train()
    permutation = torch.randperm(len(x), generator=order).to(x.device)
    total = torch.zeros((), device=x.device)
    for start in range(0, len(x), batch_size):
        rows = permutation[start : start + batch_size]
        optimiser.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[rows]).squeeze(-1), y[rows])
        loss.backward()
        optimiser.step()
        total += loss.detach() * len(rows)  # no per-step sync with a GPU
    return float(total) / max(1, len(x))


def _loss_of(model, loss_fn, x, y, batch_size: int) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        outputs = torch.cat([model(x[i : i + 4 * batch_size]).squeeze(-1) for i in range(0, len(x), 4 * batch_size)])
        return float(loss_fn(outputs, y))


def predict(model, x: np.ndarray, device: str = "cpu", batch_size: int = 4096) -> np.ndarray:
    """Raw outputs (logits for classification, standardised values for regression) as float64."""
    import torch

    model.eval()
    data = torch.as_tensor(x, dtype=torch.float32, device=device)
    with torch.no_grad():
        chunks = [model(data[i : i + batch_size]).squeeze(-1).cpu() for i in range(0, len(data), batch_size)]
    return torch.cat(chunks).double().numpy() if chunks else np.zeros(0)


def _loss(task: str, y_train: np.ndarray, device: str):
    import torch

    if task == "regression":
        return torch.nn.MSELoss()
    positives = float(np.sum(y_train == 1))
    negatives = float(len(y_train) - positives)
    # seed 000's "strong pos_weight": negatives per positive, so the rare class is not ignored
    weight = torch.tensor(negatives / positives if positives else 1.0, device=device)
    return torch.nn.BCEWithLogitsLoss(pos_weight=weight)


class _one_thread:
    """One intra-op thread on the CPU while training: at 128/64 units, thread hand-offs cost more than the arithmetic.

    Measured on a loaded 2-core machine: 2 epochs of 80,000 × 64 took 4 s on one
    thread and 76 s on two.
    """

    def __init__(self, device: str) -> None:
        self.device = device

    def __enter__(self) -> None:
        import torch

        self.previous = torch.get_num_threads()
        if self.device == "cpu":
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self.previous)


class _deterministic:
    """Deterministic kernels while training; on CUDA only a warning where an op has no deterministic version."""

    def __init__(self, device: str) -> None:
        self.device = device

    def __enter__(self) -> None:
        import torch

        self.previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
        torch.use_deterministic_algorithms(True, warn_only=self.device != "cpu")

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.use_deterministic_algorithms(self.previous[0], warn_only=self.previous[1])
