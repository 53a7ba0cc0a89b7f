"""Music present or not (seed 000's question), from an AudioSet classifier such as AST: the best "Music" class score."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, ExtractorError, Item, load_pretrained


class MusicExtractor(Extractor):
    """Scores 10-second windows with an audio classifier; the video's score is its most musical window."""

    name = "music"
    default_model = "MIT/ast-finetuned-audioset-10-10-0.4593"
    default_batch_size = 8
    summary = "music present yes/no with a score (AudioSet classes naming Music)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"window_s": 10.0, "max_windows": 6, "threshold": 0.5}

    def load(self) -> None:  # noqa: D102
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

        self.processor = load_pretrained(AutoFeatureExtractor, self.weights, "audio feature extractor")
        self.model = load_pretrained(AutoModelForAudioClassification, self.weights, "audio classifier").eval().to(self.device)
        labels = self.model.config.id2label
        self.music_ids = sorted(int(i) for i, label in labels.items() if "music" in str(label).lower())
        if not self.music_ids:
            raise ExtractorError(f"{self.weights.spec} has no class naming Music (labels: {', '.join(list(map(str, labels.values()))[:8])} …); use an AudioSet classifier")
        self.single_label = self.model.config.problem_type == "single_label_classification"

    def prepare(self, item: Item) -> list[np.ndarray]:  # noqa: D102
        window = int(self.options["window_s"] * media.AUDIO_RATE)
        audio = media.read_audio(item.media_path, self.options["window_s"] * self.options["max_windows"])
        chunks = [audio[i : i + window] for i in range(0, audio.size, window)]
        return [c for c in chunks if c.size >= media.AUDIO_RATE] or chunks[:1]

    def run(self, batch: list[list[np.ndarray]]) -> list[dict[str, Any]]:  # noqa: D102
        windows = [w for chunks in batch for w in chunks]
        scores = self._scores(windows) if windows else np.zeros(0)
        rows, at = [], 0
        for chunks in batch:
            best = float(scores[at : at + len(chunks)].max()) if chunks else 0.0
            rows.append({"music_score": best, "music": best >= self.options["threshold"], "has_audio": bool(chunks)})
            at += len(chunks)
        return rows

    def _scores(self, windows: list[np.ndarray]) -> np.ndarray:
        import torch

        inputs = self.processor(windows, sampling_rate=media.AUDIO_RATE, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits.float()
        # AudioSet is multi-label: each class has its own sigmoid
        probs = logits.softmax(-1) if self.single_label else logits.sigmoid()
        return probs[:, self.music_ids].max(-1).values.cpu().numpy()

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return pd.DataFrame({"music_score": outputs["music_score"].astype(float), "music": outputs["music"].astype(float)}, index=outputs.index)
