"""On-screen text on a few sampled frames, from rapidocr-onnxruntime's bundled PP-OCRv4 detection and recognition."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item


class OCRExtractor(Extractor):
    """Text boxes and their words on ``frames`` frames spread over the video (RapidOCR, ONNX weights in the wheel)."""

    name = "ocr"
    bundled = ("rapidocr_onnxruntime", "models")
    default_batch_size = 4
    summary = "on-screen text: share of the picture covered by text, lines per frame, the words read (RapidOCR, bundled)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        # 480 px on the long side reads captions of a phone video and keeps detection near 0.1 s a frame here
        return {"frames": 3, "short_side": 360, "detect_side": 480, "min_score": 0.5}

    def load(self) -> None:  # noqa: D102
        from rapidocr_onnxruntime import RapidOCR

        # ONNX Runtime on one thread: its default pool spins on every core and, measured here, took twice the CPU
        # (175 against 77 ms a frame) for the same boxes; the extraction overlaps decoding with it instead
        self.model = RapidOCR(use_cls=False, det_limit_side_len=self.options["detect_side"], det_limit_type="max", print_verbose=False,
                              intra_op_num_threads=1, inter_op_num_threads=1)

    def prepare(self, item: Item) -> np.ndarray:  # noqa: D102
        frames = media.read_frames(item.media_path, None, count=self.options["frames"], short_side=self.options["short_side"])
        return np.ascontiguousarray(frames[..., ::-1])  # RapidOCR reads OpenCV's BGR order

    def run(self, batch: list[np.ndarray]) -> list[dict[str, Any]]:  # noqa: D102
        return [self._one(frames) for frames in batch]

    def _one(self, frames: np.ndarray) -> dict[str, Any]:
        areas, lines, words = [], [], []
        height, width = frames.shape[1:3]
        for frame in frames:
            found, _ = self.model(frame)
            boxes = [(np.asarray(box, dtype=np.float64), text) for box, text, score in (found or []) if float(score) >= self.options["min_score"]]
            areas.append(_covered(boxes, width, height))
            lines.append(len(boxes))
            words += [text.strip() for _, text in boxes if text.strip()]
        text = " ".join(dict.fromkeys(words))  # a caption shown on every sampled frame is read once
        return {"text_area_share": round(float(np.mean(areas)), 5), "text_lines": float(np.mean(lines)), "text_frames_share": float(np.mean(np.array(lines) > 0)), "ocr_text": text}

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return pd.DataFrame({
            "ocr_text_area_share": outputs["text_area_share"].astype(float),
            "ocr_text_lines": outputs["text_lines"].astype(float),
            "ocr_text_frames_share": outputs["text_frames_share"].astype(float),
            "ocr_words": outputs["ocr_text"].fillna("").str.split().str.len().astype(float),
        }, index=outputs.index)  # fmt: skip


def _covered(boxes: list[tuple[np.ndarray, str]], width: int, height: int) -> float:
    """The share of the frame inside any text box (boxes as axis-aligned rectangles, overlaps counted once)."""
    if not boxes:
        return 0.0
    mask = np.zeros((height, width), dtype=bool)
    for box, _ in boxes:
        left, top = np.clip(box.min(0).astype(int), 0, [width, height])
        right, bottom = np.clip(np.ceil(box.max(0)).astype(int), 0, [width, height])
        mask[top:bottom, left:right] = True
    return float(mask.mean())
