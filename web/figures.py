"""The catalog report's figures, drawn live from the catalog for the catalog page (one PNG per request)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from curation import figures
from curation.report import FIGURES, normalise, rejection_counts


def catalog_trajectories(engine: Engine, frame: pd.DataFrame) -> pd.DataFrame:
    """``video_id, observed_at, plays, likes, age_h``: every observed observation with the video's age at it, as `curate report`."""
    from db.observations import load_trajectories

    observations = load_trajectories(engine)
    created = pd.to_datetime(frame["create_time"], utc=True).set_axis(frame["video_id"].astype(str))
    observations["age_h"] = (observations["observed_at"] - observations["video_id"].astype(str).map(created)).dt.total_seconds() / 3600
    return observations


def catalog_table(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame, float | None, float | None, pd.DataFrame]:
    """(normalised rows with labels fitted on all videos, crawl depths, ER threshold, percentile, trajectories), as `curate report`."""
    from db.dataset import load_video_frame
    from db.media import load_crawl_depths
    from labeling import LabelError, LabelSpec, apply_labels, fit_labels

    frame = load_video_frame(engine)
    threshold = percentile = None
    try:
        fitted = fit_labels(frame, LabelSpec(), fit_on="all")
        frame = pd.concat([frame, apply_labels(frame, fitted)], axis=1)
        threshold, percentile = fitted.params["er"]["threshold"], fitted.params["er"]["percentile"]
    except LabelError:
        pass  # too few videos with metrics: the label figures say there is nothing to draw
    return normalise(frame), load_crawl_depths(engine), threshold, percentile, catalog_trajectories(engine, frame)


def draw(name: str, table: pd.DataFrame, depths: pd.DataFrame, threshold: float | None, percentile: float | None,
         trajectories: pd.DataFrame | None = None) -> bytes:
    """One of the report's figures (:data:`curation.report.FIGURES`) as PNG bytes."""
    kept = int((table["verdict"] == "kept").sum())
    rejected = int((table["verdict"] == "rejected").sum())
    painters: dict[str, Callable[[Path], None]] = {
        "duration": lambda p: figures.duration_figure(table, p),
        "fps": lambda p: figures.fps_figure(table, p),
        "resolution": lambda p: figures.resolution_figure(table, p),
        "metrics": lambda p: figures.metrics_figure(table, p),
        "er": lambda p: figures.er_figure(table, p, threshold, percentile),
        "labels": lambda p: figures.labels_figure(table, p),
        "rejections": lambda p: figures.rejections_figure(rejection_counts(table), p, kept, rejected),
        "crawl_depth": lambda p: figures.depth_figure(depths["depth"], p),
        "trajectories": lambda p: figures.trajectory_figure(trajectories, p),
    }
    if name not in painters:
        raise KeyError(name)
    with tempfile.TemporaryDirectory(prefix="curate-figure-") as folder:
        path = Path(folder) / f"{name}.png"
        painters[name](path)
        return path.read_bytes()


__all__ = ["FIGURES", "catalog_table", "catalog_trajectories", "draw"]
