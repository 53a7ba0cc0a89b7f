"""VideoMAE clip embeddings (transformers): frames spread over the video, tokens mean-pooled."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item, load_pretrained, vector_features


class VideoMAEExtractor(Extractor):
    """A transformers video encoder (VideoMAE; ViViT-style models loading through AutoModel work too)."""

    name = "videomae"
    default_model = "MCG-NJU/videomae-base"
    default_batch_size = 2
    summary = "VideoMAE video embedding, tokens mean-pooled (hidden size, 768-d for base)"

    def load(self) -> None:  # noqa: D102
        from transformers import AutoImageProcessor, AutoModel

        self.processor = load_pretrained(AutoImageProcessor, self.weights, "VideoMAE image processor")
        self.model = load_pretrained(AutoModel, self.weights, "VideoMAE model").eval().to(self.device)
        self.frames = int(getattr(self.model.config, "num_frames", 16))
        size = getattr(self.processor, "size", None) or {}
        self.short_side = int(size.get("shortest_edge") or size.get("height") or 224)

    def prepare(self, item: Item) -> list[np.ndarray]:  # noqa: D102
        return list(media.read_frames(item.media_path, None, count=self.frames, short_side=self.short_side))

    def run(self, batch: list[list[np.ndarray]]) -> list[dict[str, Any]]:  # noqa: D102
        import torch

        pixels = self.processor(batch, return_tensors="pt")["pixel_values"].to(self.device)
        with torch.inference_mode():
            hidden = self.model(pixel_values=pixels).last_hidden_state
        return [{"embedding": row} for row in hidden.mean(1).float().cpu().numpy()]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return vector_features(cls.name, outputs["embedding"])
