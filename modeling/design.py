"""The design matrix of a run: a snapshot's rows with a target, and the planned features joined to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from modeling.cache import FeatureCache, FeatureIndex
from modeling.extractors import extractor_class
from modeling.features import TARGETS, FeatureError, FeaturePlan, leaky_features, tabular_features, target_values
from modeling.snapshot import Snapshot

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Design:
    """Features (unscaled, NaN where missing), target and split of every usable row, and where extracted features came from."""

    features: pd.DataFrame
    target: pd.Series
    split: pd.Series
    video_id: pd.Series
    latent: pd.Series | None
    dropped_no_target: int
    provenance: pd.Series | None = None
    extractors: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: each row's author (pseudonymised key), for author-grouped cross-validation
    groups: pd.Series | None = None
    #: the TF-IDF + SVD fitted on train for ``words`` features, and the texts it read
    words: Any = None

    def rows(self, split: str) -> pd.Series:
        """Boolean mask of one split."""
        return self.split == split


def build_design(snapshot: Snapshot, plan: FeaturePlan, features_root: Path) -> Design:
    """Reads the snapshot, keeps rows with a target, and assembles the planned feature columns."""
    _check_label_was_fitted(snapshot, plan.target)
    frame = snapshot.frame()
    frame["video_id"] = frame["video_id"].astype(str)
    target = target_values(frame, plan.target)
    if target.isna().all() and plan.target not in TARGETS:
        raise FeatureError(f"{snapshot.ref} has no {plan.target} value: no video was observed on both sides of its ages "
                           "(curate refresh re-observes videos as they age; then create a new snapshot)")
    keep = target.notna() & frame["split"].isin(SPLITS)
    frame, target = frame[keep].reset_index(drop=True), target[keep].reset_index(drop=True)
    _check_splits(frame["split"], plan.target)
    parts, used = feature_parts(frame, plan), {}
    for name in plan.extractors:
        columns, info = snapshot_extractor_columns(frame, snapshot, name, features_root)
        parts.append(columns)
        used[name] = info
    words = None
    if plan.words:
        columns, words = words_columns(frame, snapshot, features_root)
        parts.append(columns)
    latent = frame["latent_score"].astype(float) if "latent_score" in frame and frame["latent_score"].notna().any() else None
    provenance = frame["provenance"].astype(str) if "provenance" in frame else None
    features = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    # a row without an author is a group of its own (as the snapshot's author-grouped split treats it)
    groups = frame["author_key"].fillna("video:" + frame["video_id"].astype(str)).astype(str) if "author_key" in frame else None
    return Design(features, target, frame["split"], frame["video_id"], latent, int((~keep).sum()), provenance, used, groups, words)


def words_columns(frame: pd.DataFrame, snapshot: Snapshot, features_root: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``words_*`` columns: each row's texts (caption, hashtags, and what ocr/transcript extracted) through TF-IDF + SVD fitted on train."""
    from modeling.extraction import compose_text, text_sources
    from modeling.words import WordsModel

    extra, used = text_sources(snapshot, features_root, frame)
    texts = compose_text(frame, extra)
    model = WordsModel.fit(texts[frame["split"] == "train"])
    return model.transform(texts), {"model": model, "text_sources": used}


def _check_label_was_fitted(snapshot: Snapshot, target: str) -> None:
    """A label the snapshot left out (its inputs were missing) is null throughout: say so instead of training on nothing."""
    skipped = (snapshot.manifest.get("labels") or {}).get("skipped") or {}
    owner = "er" if target in ("er", "viral_er", "er_defined") else target
    if owner in skipped:
        raise FeatureError(f"{snapshot.ref} has no {target}: the label was left out ({skipped[owner]}); choose another --target")


def feature_parts(frame: pd.DataFrame, plan: FeaturePlan) -> list[pd.DataFrame]:
    """The tabular and leaky columns the plan asks for (extractor columns are joined separately)."""
    parts = [tabular_features(frame)] if plan.tabular else []
    if plan.leaky:
        parts.append(leaky_features(frame, plan.leaky))
    return parts


def snapshot_extractor_columns(frame: pd.DataFrame, snapshot: Snapshot, name: str, features_root: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One extractor's numeric columns for each row, through the snapshot's feature index; a missing row gets NaN and ``NAME_missing`` = 1."""
    cls = extractor_class(name)
    if not cls.numeric:
        raise FeatureError(f"{name} outputs text, not features; use it through --features text or category")
    entry = FeatureIndex(features_root, snapshot.name, snapshot.version).read(name)
    outputs = FeatureCache(features_root, name, entry.cache_key).read(entry.keys["key"].dropna().unique().tolist())
    numeric = cls.features(outputs, entry.info.get("options", {})) if len(outputs) else pd.DataFrame()
    numeric["key"] = outputs["key"].to_numpy() if len(outputs) else pd.Series(dtype=str)
    keys = entry.keys.assign(video_id=entry.keys["video_id"].astype(str))[["video_id", "key"]]
    joined = frame[["video_id"]].merge(keys, on="video_id", how="left").merge(numeric, on="key", how="left")
    columns = joined.drop(columns=["video_id", "key"])
    if columns.shape[1] == 0:
        raise FeatureError(f"no {name} features could be read for {snapshot.ref}: every extraction failed (see `curate extract {snapshot.ref} --extractor {name}`)")
    columns[f"{name}_missing"] = columns.iloc[:, 0].isna().astype(float)
    coverage = float(1 - columns[f"{name}_missing"].mean()) if len(columns) else 0.0
    return columns.set_axis(frame.index), {**entry.info, "cache_key": entry.cache_key, "coverage": round(coverage, 4)}


def _check_splits(split: pd.Series, target: str) -> None:
    counts = split.value_counts()
    if empty := [s for s in SPLITS if counts.get(s, 0) == 0]:
        raise FeatureError(f"the snapshot has no {' or '.join(empty)} rows with a {target} value; training needs train, val and test")
