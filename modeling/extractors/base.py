"""What every extractor is: a model that loads from named weights and turns one input into a row of outputs.

An extractor splits its work in two: ``prepare`` (decode a file or compose a text,
on the CPU, safe to run in a thread while the model works) and ``run`` (the model,
on a batch of prepared inputs, on the chosen device). Its ``features`` turn cached
outputs into numeric training columns.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from core.errors import CurateError, MissingComponent
from modeling import media
from modeling.weights import WeightsSource


class ExtractorError(CurateError):
    """An extractor name, option or model that cannot be used."""


@dataclass(frozen=True)
class Item:
    """One input: a video's media file (verified by its sha256) and its text."""

    video_id: str
    media_path: Path | None = None
    media_sha256: str | None = None
    text: str = ""


class Extractor(ABC):
    """A model turning media or text into features; subclasses name themselves and their default weights."""

    name: ClassVar[str]
    #: the preprocessing's version: part of the cache key, bumped when outputs would change
    version: ClassVar[str] = "1"
    #: "media" (keyed by the file's sha256) or "text" (keyed by the text's sha256)
    input: ClassVar[str] = "media"
    default_model: ClassVar[str | None] = None
    #: (package, folder inside it) of a model shipped in a wheel, used when no model is named
    bundled: ClassVar[tuple[str, str] | None] = None
    #: computed from the media alone, no model at all (``--model`` is refused)
    computed: ClassVar[bool] = False
    default_batch_size: ClassVar[int] = 4
    #: whether the outputs can become training features (a transcript on its own cannot)
    numeric: ClassVar[bool] = True
    summary: ClassVar[str] = ""

    def __init__(self, weights: WeightsSource, device: str = "cpu", options: Mapping[str, Any] | None = None, batch_size: int | None = None) -> None:
        self.weights = weights
        self.batch_size = batch_size or self.default_batch_size
        self.device = resolve_device(device)
        defaults = self.default_options()
        if unknown := sorted(set(options or {}) - set(defaults)):
            known = ", ".join(f"{k} (default {v!r})" for k, v in defaults.items()) or "none"
            raise ExtractorError(f"{self.name} has no option {', '.join(unknown)}; its options: {known}")
        self.options = {**defaults, **(options or {})}
        self.load()

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        """Options that change the outputs (they are part of the cache key)."""
        return {}

    @abstractmethod
    def load(self) -> None:
        """Loads the model from ``self.weights`` onto ``self.device``."""

    @abstractmethod
    def prepare(self, item: Item) -> Any:
        """Decodes or composes one input (CPU; may raise for a broken file)."""

    @abstractmethod
    def run(self, batch: list[Any]) -> list[dict[str, Any]]:
        """The model on a batch of prepared inputs: one dict of outputs per input."""

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
        """Numeric training columns from cached outputs (one row per output row), given the options they were made with."""
        raise ExtractorError(f"{cls.name} outputs text, not features; use it through the text or category extractor")

    def input_key(self, item: Item) -> str | None:
        """The cache key of an input: the media sha256, or the text's sha256."""
        if self.input == "text":
            return hashlib.sha256(item.text.encode()).hexdigest() if item.text.strip() else None
        return item.media_sha256 if item.media_path is not None else None

    def cache_key(self) -> str:
        """Hash of (extractor, preprocessing version, weights fingerprint, options)."""
        spec = {"extractor": self.name, "version": self.version, "weights": self.weights.fingerprint, "options": self.options}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """What made these features, for the cache's info.json and the model card."""
        return {
            "extractor": self.name,
            "version": self.version,
            "model": self.weights.spec,
            "weights_fingerprint": self.weights.fingerprint,
            "options": self.options,
        }


class SoundtrackExtractor(Extractor):
    """An extractor over the first ``max_seconds`` of a file's soundtrack (16 kHz mono), one clip at a time."""

    default_batch_size = 8

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"max_seconds": 60.0}

    def prepare(self, item: Item) -> np.ndarray:  # noqa: D102
        return media.read_audio(item.media_path, self.options["max_seconds"])

    def run(self, batch: list[np.ndarray]) -> list[dict[str, Any]]:  # noqa: D102
        return [self.one(audio) for audio in batch]

    @abstractmethod
    def one(self, audio: np.ndarray) -> dict[str, Any]:
        """The outputs for one clip's samples (possibly none: a file without sound)."""


def covered(segments: list[tuple[float, float]]) -> float:
    """Seconds covered by (start, end) segments, overlaps counted once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(segments):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def vector_features(prefix: str, column: pd.Series) -> pd.DataFrame:
    """A column of embeddings → columns ``prefix_0 … prefix_{d-1}``."""
    from modeling.cache import vectors

    matrix = vectors(column)
    return pd.DataFrame(matrix, columns=[f"{prefix}_{i}" for i in range(matrix.shape[1])], index=column.index)


def resolve_device(name: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; refuses a GPU that torch cannot see."""
    import torch

    if name == "cpu":
        return name
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ExtractorError(f"--device {name}: torch sees no CUDA GPU on this machine (use --device cpu)")
        return name
    raise ExtractorError(f"unknown device {name!r} (use cpu, cuda or cuda:N)")


def quiet_transformers() -> None:
    """Silences transformers' progress bars and advisory logs (the command has its own progress)."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message="At least one mel filter has all zero values")


def load_pretrained(loader: Any, weights: WeightsSource, what: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained(path)``; a folder that is not such a model becomes a one-line error."""
    if weights.path is None:
        raise ExtractorError(f"{what} cannot run with random weights; name a model with --model")
    quiet_transformers()
    try:
        return loader.from_pretrained(str(weights.path), **kwargs)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise MissingComponent(f"{weights.spec} is not a usable {what} ({first}); pass --model with a folder saved by save_pretrained or a hub id") from None


def torchvision_model(build: Any, weights: WeightsSource, what: str) -> Any:
    """A torchvision network without its classifier (``fc`` → identity), holding ``weights``.

    With a weights file the network is built on the meta device and the file's tensors
    are assigned to it, which skips a random initialisation that would be thrown away.
    """
    import torch

    if weights.path is None:
        model = build()
        model.fc = torch.nn.Identity()
        return model
    with torch.device("meta"):
        model = build()
    model.fc = torch.nn.Identity()
    state = _read_state_dict(weights.path, what)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise ExtractorError(f"{weights.path.name} does not hold {what} weights: {str(exc).splitlines()[0][:160]}") from None
    return model


def _read_state_dict(path: Path, what: str) -> dict[str, Any]:
    import torch

    if path.is_dir():
        raise ExtractorError(f"{what} weights must be one state-dict file (.pth, .pt or .safetensors), not a folder: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    state = state.get("state_dict", state.get("model", state)) if isinstance(state, dict) else state
    # the classifier is not used: the extractor returns the pooled features before it
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


def center_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """Crops (T, H, W, C) frames to their central ``size`` × ``size`` square."""
    height, width = frames.shape[1:3]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return frames[:, top : top + size, left : left + size]
