"""Speech to text with two backends: Whisper when its weights are given, else pocketsphinx's bundled English model.

The backend is an option (``auto`` resolves to one of the two), so it is part of
the cache key, the feature index and the run card: transcripts from different
recognisers never mix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, ExtractorError, Item
from modeling.weights import WeightsSource

BACKENDS = ("auto", "whisper", "pocketsphinx")


class TranscriptExtractor(Extractor):
    """pocketsphinx (CMU, en-us model in the wheel) by default; Whisper with ``--model``."""

    name = "transcript"
    bundled = ("pocketsphinx", "model/en-us")
    default_batch_size = 4
    summary = "transcript (text) and words per second; backend whisper with --model, else pocketsphinx (bundled)"

    def __init__(self, weights: WeightsSource, device: str = "cpu", options: Mapping[str, Any] | None = None, batch_size: int | None = None) -> None:
        given = dict(options or {})
        wanted = given.get("backend", "auto")
        if wanted not in BACKENDS:
            raise ExtractorError(f"transcript has no backend {wanted!r} (have: {', '.join(BACKENDS)})")
        is_pocketsphinx = weights.spec.startswith("pocketsphinx==")
        if wanted == "pocketsphinx" and not is_pocketsphinx:
            raise ExtractorError("transcript backend pocketsphinx uses its bundled model; drop --model")
        if wanted == "whisper" and is_pocketsphinx:
            raise ExtractorError("transcript backend whisper needs Whisper weights: pass --model PATH_OR_ID")
        given["backend"] = "pocketsphinx" if is_pocketsphinx else "whisper"
        super().__init__(weights, device, given, batch_size)

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"backend": "auto", "max_seconds": 30.0, "max_new_tokens": 128}

    def load(self) -> None:  # noqa: D102
        if self.options["backend"] == "whisper":
            from modeling.extractors.whisper import WhisperExtractor

            keep = {"max_seconds": self.options["max_seconds"], "max_new_tokens": self.options["max_new_tokens"]}
            self.whisper = WhisperExtractor(self.weights, self.device, keep, self.batch_size)
            return
        from pocketsphinx import Decoder

        model = self.weights.path
        self.decoder = Decoder(hmm=str(model / "en-us"), lm=str(model / "en-us.lm.bin"), dict=str(model / "cmudict-en-us.dict"), samprate=media.AUDIO_RATE, loglevel="FATAL")

    def prepare(self, item: Item) -> Any:  # noqa: D102
        if self.options["backend"] == "whisper":
            return self.whisper.prepare(item)
        return media.read_audio(item.media_path, self.options["max_seconds"])

    def run(self, batch: list[Any]) -> list[dict[str, Any]]:  # noqa: D102
        if self.options["backend"] == "whisper":
            rows = self.whisper.run(batch)
            seconds = [sum(w.size for w in chunks) / media.AUDIO_RATE for chunks in batch]
        else:
            rows = [{"transcript": self._decode(audio), "has_audio": bool(audio.size)} for audio in batch]
            seconds = [audio.size / media.AUDIO_RATE for audio in batch]
        return [{"transcript": r["transcript"], "has_audio": r["has_audio"], "audio_s": round(s, 3)} for r, s in zip(rows, seconds, strict=True)]

    def _decode(self, audio: np.ndarray) -> str:
        if audio.size < media.AUDIO_RATE // 4:
            return ""
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        found = self.decoder.hyp()
        return found.hypstr.strip() if found is not None else ""

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        words = outputs["transcript"].fillna("").str.split().str.len().astype(float)
        seconds = outputs["audio_s"].astype(float).where(lambda s: s > 0)
        return pd.DataFrame({"transcript_words": words, "transcript_words_per_s": (words / seconds).fillna(0.0)}, index=outputs.index)
