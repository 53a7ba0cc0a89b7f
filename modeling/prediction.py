"""``curate predict``: "how likely is this to go viral?" for new media files or videos of the run's snapshot.

A new file gets what it can give itself (duration, frame rate, size, audio, and the
run's extractors run on it — reusing the cache when the same bytes were seen); what
it cannot (followers, posting time, …) comes from the caller or is imputed with the
train medians, and each answer lists what was imputed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import CurateError, MissingComponent
from modeling import media, mlp
from modeling.cache import FeatureCache
from modeling.design import feature_parts, snapshot_extractor_columns
from modeling.extraction import compose_text, text_sources
from modeling.extractors import ExtractorError, Item, extractor_class, open_extractor
from modeling.words import WordsModel

#: the text column each text-bearing extractor outputs
TEXT_COLUMNS = {"whisper": "transcript", "transcript": "transcript", "ocr": "ocr_text", "description": "description"}
from modeling.features import FeaturePlan
from modeling.runs import LoadedRun
from modeling.snapshot import Snapshot


class PredictionError(CurateError):
    """A run's extractors cannot be reproduced here (other weights)."""


@dataclass(frozen=True)
class Prediction:
    """One answer: the score (probability of viral, or the predicted value), the label, and what was imputed."""

    input: str
    kind: str
    score: float | None = None
    label: str | None = None
    imputed: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able answer."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class NewVideo:
    """What the caller knows about a new video beyond its file (None = unknown, imputed)."""

    followers: int | None = None
    following: int | None = None
    account_created_at: pd.Timestamp | None = None
    posted_at: pd.Timestamp | None = None
    caption: str | None = None
    hashtags: tuple[str, ...] | None = None
    category: str | None = None
    music_original: bool | None = None


class Predictor:
    """Scores inputs with a loaded run; opens each extractor once, on first need."""

    def __init__(self, run: LoadedRun, features_root: Path, snapshot: Snapshot | None = None, device: str = "cpu", models: Mapping[str, str] | None = None) -> None:
        self.run, self.features_root, self.snapshot, self.device = run, features_root, snapshot, device
        self.models = dict(models or {})
        info = run.info["features"]
        self.plan = FeaturePlan(run.info["target"], run.task, info["tabular"], tuple(info["leaky"]), tuple(info["extractors"]), words=bool(info.get("words")))
        self.words = WordsModel.load(run.path / info["words"]["file"]) if info.get("words") else None
        self._opened: dict[str, Any] = {}
        self._table: pd.DataFrame | None = None

    def predict(self, inputs: list[str], new: NewVideo) -> list[Prediction]:
        """One prediction per input: a path to a media file, or a video id of the run's snapshot."""
        return [self._one(text, new) for text in inputs]

    def _one(self, text: str, new: NewVideo) -> Prediction:
        path = Path(text).expanduser()
        try:
            if path.is_file():
                return self._score(text, "file", *self._file_features(path, new))
            if re.fullmatch(r"\d+", text):
                return self._score(text, "video_id", self._snapshot_features(text), [])
            return Prediction(text, "unknown", error="neither a media file nor a video id (digits)")
        except (PredictionError, MissingComponent, ExtractorError):
            raise  # about the run's set-up, not this input: the command stops with the message
        except Exception as exc:  # noqa: BLE001 - one bad input must not hide the others' answers
            return Prediction(text, "file" if path.is_file() else "video_id", error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")

    def _score(self, text: str, kind: str, features: pd.DataFrame, imputed_extra: list[str]) -> Prediction:
        imputed = _collapse(self.run.scaler.missing(features)) + imputed_extra
        raw = float(mlp.predict(self.run.model, self.run.scaler.transform(features))[0])
        if self.run.task == "regression":
            scale = self.run.info["target_scale"]
            return Prediction(text, kind, raw * scale["std"] + scale["mean"], None, imputed)
        probability = float(1 / (1 + np.exp(-raw)))
        threshold = self.run.info["threshold"]["value"]
        return Prediction(text, kind, probability, "viral" if probability >= threshold else "not viral", imputed)

    def _snapshot_features(self, video_id: str) -> pd.DataFrame:
        if self.snapshot is None:
            raise LookupError(f"the run's snapshot {self.run.info['snapshot']['ref']} is not available here")
        if self._table is None:
            self._table = self.snapshot.frame().assign(video_id=lambda f: f["video_id"].astype(str))
        row = self._table[self._table["video_id"] == video_id].reset_index(drop=True)
        if row.empty:
            raise LookupError(f"video {video_id} is not in {self.snapshot.ref}")
        parts = feature_parts(row, self.plan)
        parts += [snapshot_extractor_columns(row, self.snapshot, name, self.features_root)[0] for name in self.plan.extractors]
        if self.words is not None:
            parts.append(self.words.transform(compose_text(row, text_sources(self.snapshot, self.features_root, row)[0])))
        return pd.concat(parts, axis=1)

    def _file_features(self, path: Path, new: NewVideo) -> tuple[pd.DataFrame, list[str]]:
        facts = media.probe(path)
        row = _new_row(facts, new)
        parts = feature_parts(row, self.plan)
        sha = media.sha256_of(path)
        texts = self._texts(path, sha, row)
        for name in self.plan.extractors:
            parts.append(self._extracted(name, Item("new", path, sha, texts)))
        if self.words is not None:
            words_text = self._texts(path, sha, row, self.run.info["features"]["words"]["text_sources"])
            parts.append(self.words.transform(pd.Series([words_text])))
        unknown = ["category"] if self.plan.tabular and new.category is None else []
        return pd.concat(parts, axis=1), unknown

    def _texts(self, path: Path, sha: str, row: pd.DataFrame, sources: list[str] | None = None) -> str:
        """Caption and hashtags, plus the transcript/on-screen text/description when the run's text features were made with them."""
        extra = []
        for source in self._text_sources() if sources is None else sources:
            name, _, cache_key = source.partition(":")
            info = FeatureCache(self.features_root, name, cache_key).info()
            column = TEXT_COLUMNS[name]
            extra.append(pd.Series([self._outputs(name, Item("new", path, sha), info).get(column, "")]))
        return str(compose_text(row, extra).iloc[0])

    def _text_sources(self) -> list[str]:
        sources = []
        for name in self.plan.extractors:
            sources += self.run.info["features"]["extractors"][name].get("text_sources", [])
        return list(dict.fromkeys(sources))

    def _extracted(self, name: str, item: Item) -> pd.DataFrame:
        info = self.run.info["features"]["extractors"][name]
        outputs = pd.DataFrame([self._outputs(name, item, info)])
        columns = extractor_class(name).features(outputs, info.get("options", {}))
        columns[f"{name}_missing"] = 0.0
        return columns

    def _outputs(self, name: str, item: Item, info: dict[str, Any]) -> dict[str, Any]:
        """The extractor's outputs for one input: from the cache when these bytes were seen, else computed now."""
        extractor = self._extractor(name, info)
        key = extractor.input_key(item)
        cached = FeatureCache(self.features_root, name, extractor.cache_key()).read([key]) if key else pd.DataFrame()
        if len(cached):
            return cached.iloc[0].to_dict()
        return extractor.run([extractor.prepare(item)])[0]

    def _extractor(self, name: str, info: dict[str, Any]):
        if name not in self._opened:
            options = info.get("options", {})
            translator = (info.get("translator") or {}).get("model")
            extractor = open_extractor(name, self.models.get(name, info.get("model")), self.device, options, translator=translator)
            if extractor.weights.fingerprint != info.get("weights_fingerprint"):
                raise PredictionError(f"the {name} weights ({extractor.weights.spec}) are not the ones the run was trained with (fingerprint {info.get('weights_fingerprint', '')[:12]}…); pass --model {name}=PATH to the same weights")
            self._opened[name] = extractor
        return self._opened[name]


def _new_row(facts: media.MediaFacts, new: NewVideo) -> pd.DataFrame:
    hashtags = [list(new.hashtags)] if new.hashtags is not None else [None]
    return pd.DataFrame({
        "followers": [new.followers], "following": [new.following],
        "account_created_at": pd.to_datetime([new.account_created_at], utc=True), "create_time": pd.to_datetime([new.posted_at], utc=True),
        "duration_s": [facts.duration_s], "fps": [facts.fps], "width": [facts.width], "height": [facts.height], "has_audio": [facts.has_audio],
        "caption": pd.Series([new.caption], dtype="string"), "hashtags": hashtags, "category": pd.Series([new.category], dtype="string"),
        "music_original": pd.Series([new.music_original], dtype="boolean"),
    })  # fmt: skip


def _collapse(columns: list[str]) -> list[str]:
    """``post_weekday_0 … 6`` → ``post_weekday``; one name per source of a feature."""
    names = [re.sub(r"(_\d+|_(sin|cos))$", "", c).removeprefix("log_") for c in columns]
    return list(dict.fromkeys(names))
