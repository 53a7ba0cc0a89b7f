"""Whisper transcripts (seed 004): 16 kHz mono audio in 30-second windows, greedy decoding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item, load_pretrained

WINDOW_S = 30  # Whisper's fixed input length


class WhisperExtractor(Extractor):
    """Speech to text with a Whisper checkpoint; the transcript feeds the text and category extractors."""

    name = "whisper"
    default_model = "openai/whisper-small"
    default_batch_size = 4
    summary = "Whisper transcript (text) and detected language"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"max_seconds": 90.0, "max_new_tokens": 128}

    def load(self) -> None:  # noqa: D102
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

        self.processor = load_pretrained(AutoProcessor, self.weights, "Whisper processor")
        self.model = load_pretrained(AutoModelForSpeechSeq2Seq, self.weights, "Whisper model").eval().to(self.device)
        self.multilingual = bool(getattr(self.model.generation_config, "lang_to_id", None))

    def prepare(self, item: Item) -> list[np.ndarray]:  # noqa: D102
        audio = media.read_audio(item.media_path, self.options["max_seconds"])
        step = WINDOW_S * media.AUDIO_RATE
        # a tail under half a second carries no words worth a decoder pass
        return [audio[i : i + step] for i in range(0, audio.size, step) if audio[i : i + step].size >= media.AUDIO_RATE // 2]

    def run(self, batch: list[list[np.ndarray]]) -> list[dict[str, Any]]:  # noqa: D102
        windows = [w for chunks in batch for w in chunks]
        texts, languages = self._transcribe(windows) if windows else ([], [])
        rows, at = [], 0
        for chunks in batch:
            words = " ".join(t.strip() for t in texts[at : at + len(chunks)] if t.strip())
            rows.append({"transcript": words, "language": languages[at] if chunks else None, "has_audio": bool(chunks)})
            at += len(chunks)
        return rows

    def _transcribe(self, windows: list[np.ndarray]) -> tuple[list[str], list[str | None]]:
        import torch

        inputs = self.processor(windows, sampling_rate=media.AUDIO_RATE, return_tensors="pt")
        features = inputs["input_features"].to(self.device, self.model.dtype)
        # the prompt's start tokens share the decoder's positions with the new ones
        room = int(getattr(self.model.config, "max_target_positions", 448)) - 8
        options: dict[str, Any] = {"max_new_tokens": min(self.options["max_new_tokens"], room)}
        languages: list[str | None] = [None] * len(windows)
        with torch.inference_mode():
            if self.multilingual:
                options["task"] = "transcribe"
                languages = self._languages(features)
            ids = self.model.generate(input_features=features, **options)
        return self.processor.batch_decode(ids, skip_special_tokens=True), languages

    def _languages(self, features) -> list[str | None]:
        ids = self.model.detect_language(features).reshape(-1).tolist()
        names = {v: k.strip("<|>") for k, v in self.model.generation_config.lang_to_id.items()}
        return [names.get(i) for i in ids]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        words = outputs["transcript"].fillna("").str.split().str.len()
        return pd.DataFrame({"whisper_words": words.astype(float), "whisper_speech": (words > 0).astype(float)}, index=outputs.index)
