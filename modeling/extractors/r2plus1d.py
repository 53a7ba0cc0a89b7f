"""R(2+1)D-18 clip embeddings (seed 001): 16 frames at 15 fps from the middle of the video, 112×112, 512-d."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item, center_crop, torchvision_model, vector_features

# Kinetics-400 normalisation used by torchvision's video models
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


class R2Plus1DExtractor(Extractor):
    """torchvision's R(2+1)D-18 without its classifier: the pooled 512-d clip embedding."""

    name = "r2plus1d"
    default_model = "R2Plus1D_18_Weights.KINETICS400_V1"
    default_batch_size = 4
    summary = "R(2+1)D-18 clip embedding, 16 frames 112x112 (512-d)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        # 16 frames at 15 fps: the clip length torchvision's Kinetics recipe trains on
        return {"frames": 16, "rate": 15.0, "size": 112}

    def load(self) -> None:  # noqa: D102
        from torchvision.models.video import r2plus1d_18

        model = torchvision_model(lambda: r2plus1d_18(weights=None), self.weights, "R(2+1)D-18")
        self.model = model.eval().to(self.device)

    def prepare(self, item: Item) -> np.ndarray:  # noqa: D102
        facts = media.probe(item.media_path)
        times = media.clip_times(facts.duration_s, self.options["frames"], self.options["rate"])
        # short side to 128 then a central crop keeps a portrait video's proportions
        frames = media.read_frames(item.media_path, times, short_side=round(self.options["size"] * 128 / 112))
        return center_crop(frames, self.options["size"])

    def run(self, batch: list[np.ndarray]) -> list[dict[str, Any]]:  # noqa: D102
        import torch

        clips = torch.from_numpy(np.stack(batch)).to(self.device).float().div_(255)
        mean = torch.tensor(KINETICS_MEAN, device=self.device)
        std = torch.tensor(KINETICS_STD, device=self.device)
        clips = ((clips - mean) / std).permute(0, 4, 1, 2, 3)  # (B, C, T, H, W)
        with torch.inference_mode():
            embeddings = self.model(clips).float().cpu().numpy()
        return [{"embedding": row} for row in embeddings]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return vector_features(cls.name, outputs["embedding"])
