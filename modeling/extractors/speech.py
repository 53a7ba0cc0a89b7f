"""Speech activity from silero-vad's bundled model: how much of the audio is speech, in how many segments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling import media
from modeling.extractors.base import SoundtrackExtractor, covered


class SpeechExtractor(SoundtrackExtractor):
    """silero-vad (ONNX weights in the wheel, run by ONNX Runtime on one thread) over 16 kHz mono audio."""

    name = "speech"
    bundled = ("silero_vad", "data/silero_vad.onnx")
    summary = "speech share of the audio and number of speech segments (silero-vad, bundled)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"max_seconds": 60.0, "threshold": 0.5}

    def load(self) -> None:  # noqa: D102
        import warnings

        from silero_vad import load_silero_vad

        with warnings.catch_warnings():
            # torch.jit.load's and importlib.resources' deprecation notices, raised inside the package
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.model = load_silero_vad(onnx=True)  # ONNX Runtime, one thread: torch threads thrash on its 512-sample steps

    def one(self, audio: np.ndarray) -> dict[str, Any]:  # noqa: D102
        import torch
        from silero_vad import get_speech_timestamps

        seconds = audio.size / media.AUDIO_RATE
        if seconds < 0.1:
            return {"has_audio": bool(audio.size), "speech_share": 0.0, "speech_segments": 0}
        with torch.inference_mode():
            found = get_speech_timestamps(torch.from_numpy(audio), self.model, threshold=self.options["threshold"], sampling_rate=media.AUDIO_RATE, return_seconds=True)
        self.model.reset_states()
        spoken = covered([(s["start"], s["end"]) for s in found])
        return {"has_audio": True, "speech_share": round(min(1.0, spoken / seconds), 4), "speech_segments": len(found)}

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return pd.DataFrame({"speech_share": outputs["speech_share"].astype(float), "speech_segments": outputs["speech_segments"].astype(float)}, index=outputs.index)
