"""Weight-free signals of the picture and the sound (after Ling et al., arXiv 2111.02452): pace, light, colour, loudness.

Decoded with PyAV at a few frames a second and a low resolution (every frame is
still decoded — H.264 needs it — but only the sampled ones are converted and
scaled), and the audio at 16 kHz mono; the same measures are taken over the
whole video (up to ``max_seconds``) and over its first ``hook_seconds`` ("the hook").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item

MEASURES = ("cuts_per_min", "motion", "brightness", "contrast", "colourfulness", "loudness_db", "silence_share")
SILENT_DB = -50.0  # a 50 ms window quieter than this (dBFS) is silence
FLOOR_DB = -100.0  # the loudness of no sound at all
WINDOW_S = 0.05


@dataclass(frozen=True)
class Decoded:
    """Sampled frames (T, H, W, 3, uint8) at ``fps``, and the audio (float32 mono 16 kHz)."""

    frames: np.ndarray
    fps: float
    audio: np.ndarray


class SignalsExtractor(Extractor):
    """Shot cuts, motion, brightness, contrast, colourfulness, loudness and silence, whole video and hook."""

    name = "signals"
    computed = True
    default_batch_size = 16
    summary = "cuts/min, motion, brightness, contrast, colourfulness, loudness, silence share; whole video and first 2 s (PyAV + numpy)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"fps": 4.0, "short_side": 64, "max_seconds": 60.0, "hook_seconds": 2.0, "cut_threshold": 0.4}

    def load(self) -> None:  # noqa: D102
        """Nothing to load: numpy is the model."""

    def prepare(self, item: Item) -> Decoded:  # noqa: D102
        return decode(item, self.options)

    def run(self, batch: list[Decoded]) -> list[dict[str, Any]]:  # noqa: D102
        return [measure(d, self.options) for d in batch]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        names = [f"{m}" for m in MEASURES] + [f"hook_{m}" for m in MEASURES]
        return outputs[names].astype(float).set_axis([f"signals_{n}" for n in names], axis=1)


def decode(item: Item, options: dict[str, Any]) -> Decoded:
    """The sampled frames and the audio the measures need, nothing more."""
    facts = media.probe(item.media_path)
    seconds = min(facts.duration_s or options["max_seconds"], options["max_seconds"])
    times = list(np.arange(0.0, max(seconds, 1.0 / options["fps"]), 1.0 / options["fps"]))
    frames = media.read_frames(item.media_path, times, short_side=options["short_side"])
    audio = media.read_audio(item.media_path, seconds) if facts.has_audio else np.zeros(0, dtype=np.float32)
    return Decoded(frames, float(options["fps"]), audio)


def measure(decoded: Decoded, options: dict[str, Any]) -> dict[str, Any]:
    """Every measure over the whole video and over the hook."""
    hook_frames = max(2, int(round(options["hook_seconds"] * decoded.fps)))
    hook_samples = int(options["hook_seconds"] * media.AUDIO_RATE)
    whole = _picture(decoded.frames, decoded.fps, options["cut_threshold"]) | _sound(decoded.audio)
    hook = _picture(decoded.frames[:hook_frames], decoded.fps, options["cut_threshold"]) | _sound(decoded.audio[:hook_samples])
    return {**whole, **{f"hook_{k}": v for k, v in hook.items()}, "has_audio": bool(decoded.audio.size), "seconds": round(len(decoded.frames) / decoded.fps, 3)}


def _picture(frames: np.ndarray, fps: float, cut_threshold: float) -> dict[str, float]:
    rgb = frames.astype(np.float32)
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    seconds = len(frames) / fps
    cuts = int((histogram_distances(frames) > cut_threshold).sum())
    motion = float(np.abs(np.diff(luma, axis=0)).mean() / 255) if len(frames) > 1 else 0.0
    return {
        "cuts_per_min": round(cuts * 60 / seconds, 4),
        "motion": round(motion, 5),
        "brightness": round(float(luma.mean() / 255), 5),
        "contrast": round(float(luma.reshape(len(frames), -1).std(1).mean() / 255), 5),
        "colourfulness": round(float(colourfulness(rgb).mean()), 4),
    }


def histogram_distances(frames: np.ndarray, bins: int = 16) -> np.ndarray:
    """Half the L1 distance between consecutive frames' colour histograms (0 = same colours, 1 = none shared)."""
    if len(frames) < 2:
        return np.zeros(0)
    quantised = (frames.astype(np.int32) * bins) // 256
    codes = (quantised[..., 0] * bins + quantised[..., 1]) * bins + quantised[..., 2]
    flat = codes.reshape(len(frames), -1)
    offsets = np.arange(len(frames))[:, None] * bins**3
    counts = np.bincount((flat + offsets).ravel(), minlength=len(frames) * bins**3).reshape(len(frames), -1)
    hist = counts / flat.shape[1]
    return 0.5 * np.abs(np.diff(hist, axis=0)).sum(1)


def colourfulness(rgb: np.ndarray) -> np.ndarray:
    """Hasler and Süsstrunk's colourfulness of each (H, W, 3) frame: σ_rgyb + 0.3 μ_rgyb."""
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg, yb = (red - green).reshape(len(rgb), -1), (0.5 * (red + green) - blue).reshape(len(rgb), -1)
    spread = np.sqrt(rg.std(1) ** 2 + yb.std(1) ** 2)
    centre = np.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return spread + 0.3 * centre


def _sound(audio: np.ndarray) -> dict[str, float]:
    window = int(WINDOW_S * media.AUDIO_RATE)
    usable = audio[: audio.size // window * window].reshape(-1, window) if audio.size >= window else np.zeros((0, window))
    if not len(usable):
        return {"loudness_db": FLOOR_DB, "silence_share": 1.0}
    rms = np.sqrt((usable.astype(np.float64) ** 2).mean(1))
    db = 20 * np.log10(np.maximum(rms, 1e-5))
    overall = 20 * np.log10(max(float(np.sqrt((usable.astype(np.float64) ** 2).mean())), 1e-5))
    return {"loudness_db": round(float(overall), 3), "silence_share": round(float((db < SILENT_DB).mean()), 4)}
