"""ResNet-50 frame features (seed 003): frames at 1 fps, 224×224, mean-pooled to 2,048-d."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item, center_crop, torchvision_model, vector_features

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ResNet50Extractor(Extractor):
    """torchvision's ResNet-50 without its classifier, averaged over one frame per second."""

    name = "resnet50"
    default_model = "ResNet50_Weights.IMAGENET1K_V2"
    default_batch_size = 4
    summary = "ResNet-50 frames at 1 fps, mean-pooled (2,048-d)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"fps": 1.0, "max_frames": 60, "size": 224}

    def load(self) -> None:  # noqa: D102
        from torchvision.models import resnet50

        model = torchvision_model(lambda: resnet50(weights=None), self.weights, "ResNet-50")
        self.model = model.eval().to(self.device)

    def prepare(self, item: Item) -> np.ndarray:  # noqa: D102
        facts = media.probe(item.media_path)
        times = media.every_second(facts.duration_s, self.options["fps"], self.options["max_frames"])
        frames = media.read_frames(item.media_path, times, short_side=round(self.options["size"] * 256 / 224))
        return center_crop(frames, self.options["size"])

    def run(self, batch: list[np.ndarray]) -> list[dict[str, Any]]:  # noqa: D102
        import torch

        counts = [len(frames) for frames in batch]
        images = torch.from_numpy(np.concatenate(batch)).to(self.device).float().div_(255)
        mean = torch.tensor(IMAGENET_MEAN, device=self.device)
        std = torch.tensor(IMAGENET_STD, device=self.device)
        images = ((images - mean) / std).permute(0, 3, 1, 2)
        with torch.inference_mode():
            per_frame = self.model(images).float()
        pooled = [chunk.mean(0).cpu().numpy() for chunk in torch.split(per_frame, counts)]
        return [{"embedding": row, "frames": n} for row, n in zip(pooled, counts, strict=True)]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return vector_features(cls.name, outputs["embedding"])
