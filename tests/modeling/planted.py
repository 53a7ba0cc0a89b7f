"""A small generator of snapshots in the snapshot file contract, with a planted signal (or none), for tests and benchmarks.

Content (category, original music, duration, posting hour) sets a latent score;
the engagement rate is that score plus noise; likes, comments, shares and plays
follow from the followers and the rate; the labels are computed the way labeling
defines them, fitted on the train split. ``signal=False`` makes every feature the
same for every video, so that nothing can be learned.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

CATEGORIES = ("comedy", "dance", "sports", "gaming", "educational", "vehicles", "beauty", "food", "pets", "technology", "music", "unidentified", "other")


def planted_frame(n: int, seed: int = 0, signal: bool = True, noise: float = 0.35) -> pd.DataFrame:
    """``n`` videos of ``n // 4`` authors with content-driven engagement; the contract's columns."""
    rng = np.random.default_rng(seed)
    authors = rng.integers(0, max(1, n // 4), n)
    frame = _content(rng, n, authors, signal)
    effect = np.linspace(-1.0, 1.0, len(CATEGORIES))[np.random.default_rng(99).permutation(len(CATEGORIES))]
    codes = pd.Categorical(frame["category"], categories=CATEGORIES).codes
    latent = effect[codes] + 0.8 * frame["music_original"] - 0.6 * np.abs(np.log(frame["duration_s"] / 20)) + 0.4 * np.cos(2 * np.pi * frame["create_time"].dt.hour / 24)
    frame["latent_score"] = latent if signal else 0.0
    rate = np.exp(np.log(0.02) + 0.6 * frame["latent_score"] + rng.normal(0, noise, n))
    frame["likes"] = np.maximum(0, np.round(frame["followers"] * rate)).astype("int64")
    frame["comments"] = np.round(frame["likes"] * rng.uniform(0.03, 0.15, n)).astype("int64")
    frame["shares"] = np.round(frame["likes"] * rng.uniform(0.01, 0.07, n)).astype("int64")
    frame["saves"] = np.round(frame["likes"] * rng.uniform(0.01, 0.05, n)).astype("int64")
    frame["plays"] = np.round(frame["likes"] / rng.uniform(0.05, 0.15, n)).astype("int64")
    frame["split"] = _splits(authors)
    for column in ("account_created_at", "create_time"):
        frame[column] = frame[column].dt.floor("s")
    return _labels(frame)


def _content(rng, n: int, authors: np.ndarray, signal: bool) -> pd.DataFrame:
    pick = (lambda values: np.full(n, values[0])) if not signal else (lambda values: rng.choice(values, n))
    followers = np.round(np.exp(rng.uniform(np.log(100), np.log(1e6), max(1, n // 4))))[authors] if signal else np.full(n, 5000.0)
    start = pd.Timestamp("2023-01-01", tz="UTC")
    created = start + pd.to_timedelta(rng.uniform(0, 365 * 24 * 3600, n) if signal else np.zeros(n), unit="s")
    return pd.DataFrame({
        "video_id": [str(7_000_000_000_000_000_000 + i) for i in range(n)],
        "author_key": [hashlib.sha256(f"author{a}".encode()).hexdigest()[:16] for a in authors],
        "provenance": "simulated",
        "followers": followers.astype("int64"),
        "following": (np.round(rng.uniform(50, 10_000, n)) if signal else np.full(n, 300)).astype("int64"),
        "author_hearts": rng.integers(1_000, 10_000_000, n), "author_video_count": rng.integers(1, 2_000, n),
        "account_created_at": created - pd.to_timedelta(rng.uniform(30, 2_000, n) if signal else np.full(n, 400.0), unit="D"),
        "create_time": created,
        "duration_s": pick(np.round(np.exp(rng.uniform(np.log(5), np.log(90), 64)), 1)),
        "fps": pick([24.0, 25.0, 30.0, 60.0]), "width": 576, "height": 1024, "frames": 300, "has_audio": True,
        "caption": pick(["look at this", "new dance #fyp", "wait for it", "recipe of the day"]),
        "hashtags": [["fyp"]] * n if not signal else [list(rng.choice(["fyp", "viral", "dance", "food"], rng.integers(0, 4), replace=False)) for _ in range(n)],
        "music_id": "m1", "music_title": "original sound", "music_original": pick([True, False]),
        "category": pick(list(CATEGORIES)), "media_sha256": None, "media_path": None,
        "author_stats_provenance": "simulated", "category_provenance": "simulated",
    })  # fmt: skip


def _splits(authors: np.ndarray) -> np.ndarray:
    # grouped by author, like the real snapshots: no author on two sides
    bucket = (authors * 2654435761 % 2**32) % 10
    return np.where(bucket < 8, "train", np.where(bucket < 9, "val", "test"))


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    train = frame["split"] == "train"
    defined = frame["followers"] > 0
    frame["er"] = ((frame["likes"] + frame["comments"] + frame["shares"]) / frame["followers"].where(defined) * 100).astype(float)
    frame["er_defined"] = defined
    frame["viral_er"] = frame["er"] >= np.nanpercentile(frame.loc[train, "er"], 75)
    metrics = ["comments", "likes", "plays", "shares"]
    logs = np.log1p(frame[metrics].astype(float))
    median, iqr = logs[train].median(), (logs[train].quantile(0.75) - logs[train].quantile(0.25)).replace(0, 1)
    raw = ((logs - median) / iqr) @ np.array([0.1, 0.4, 0.3, 0.2])
    low, high = raw[train].min(), raw[train].max()
    frame["virality_weighted"] = ((raw - low) / ((high - low) or 1)).clip(0, 1)
    medians = frame.loc[train, metrics].median()
    frame["viral_all_median"] = (frame[metrics] > medians).all(axis=1)
    rho = {m: np.corrcoef(frame.loc[train, "plays"], frame.loc[train, m])[0, 1] for m in ("likes", "comments", "shares")}
    frame["virality_corr"] = frame["plays"] + sum((1 - np.nan_to_num(rho[m])) * frame[m] for m in rho)
    return frame


def write_snapshot(home: Path, frame: pd.DataFrame, name: str = "planted", version: int = 1) -> Path:
    """Writes ``home/snapshots/NAME/vN/videos.parquet`` in the storage layer's exact schema, and a manifest shaped like the real one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from db.snapshot_table import SCHEMA

    folder = home / "snapshots" / name / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame[SCHEMA.names], schema=SCHEMA, preserve_index=False), folder / "videos.parquet")
    digest = hashlib.sha256((folder / "videos.parquet").read_bytes()).hexdigest()
    manifest = {
        "name": name, "version": version, "fingerprint": digest, "created_at": "2026-01-01T00:00:00+00:00",
        "labels": {"viral_er": {"percentile": 75, "fit_on": "train"}},
        "counts": frame["split"].value_counts().to_dict(), "files": {"videos.parquet": digest},
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder
