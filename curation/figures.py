"""The report's figures, drawn with matplotlib's object API (no pyplot state, Agg canvas) into PNG files.

Every function takes the report's normalised table and a path, and always
writes its figure: where the data is absent the figure says so, so that a
report always has the same set of pictures.
"""

from __future__ import annotations

import textwrap
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

METRIC_COLUMNS = ("plays", "likes", "comments", "shares", "followers")
BINARY_LABELS = ("viral_er", "viral_all_median")
COLORS = {"observed": "#1f77b4", "simulated": "#ff7f0e", "kept": "#2ca02c", "rejected": "#d62728"}
DPI = 110


def _axes(left: float = 0.1) -> tuple[Figure, Axes]:
    """One 7×4 in figure; fixed margins, because a layout engine redraws a log axis several times."""
    fig = Figure(figsize=(7, 4))
    fig.subplots_adjust(left=left, right=0.97, bottom=0.14, top=0.9)
    return fig, fig.subplots()


def _log_x(ax: Axes, values: np.ndarray) -> None:
    """A log x axis without minor ticks (hundreds of them made a figure several times slower).

    Data spanning under two decades gets ticks at 1, 2 and 5 of each decade too,
    written plainly, so that the axis never shows a single label.
    """
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    if values.size and np.log10(values.max() / values.min()) < 2:
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=DPI)


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, textwrap.fill(message, 48), ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def _finite(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    return numbers[np.isfinite(numbers)]


def _log_bins(values: np.ndarray, bins: int = 40) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low * 10
    edges = np.logspace(np.log10(low), np.log10(high), bins + 1)
    edges[0], edges[-1] = low, high  # 10**log10(x) can land beside x and drop the extreme values
    return edges


def duration_figure(table: pd.DataFrame, path: Path) -> None:
    """Histogram of durations in seconds (seed 001, figure 1)."""
    fig, ax = _axes()
    seconds = _finite(table["duration_s"])
    if seconds.size:
        ax.hist(seconds, bins=min(60, max(10, seconds.size // 5)), color=COLORS["observed"], edgecolor="white")
        ax.set_xlabel("duration (seconds)")
        ax.set_ylabel("videos")
    else:
        _empty(ax, "no durations: no video has probe facts or a payload duration")
    ax.set_title(f"Video duration ({seconds.size:,} videos)")
    _save(fig, path)


def fps_figure(table: pd.DataFrame, path: Path) -> None:
    """Videos per frame rate (rounded to 0.1 fps), the low rates seed 001 warned about in red."""
    fig, ax = _axes()
    fps = np.round(_finite(table["fps"]), 1)
    if fps.size:
        values, counts = np.unique(fps, return_counts=True)
        labels = [f"{v:g}" for v in values]
        ax.bar(labels, counts, color=[COLORS["rejected"] if v < 10 else COLORS["observed"] for v in values])
        ax.set_xlabel("frames per second (red: under 10)")
        ax.set_ylabel("videos")
        ax.tick_params(axis="x", labelrotation=90 if len(labels) > 12 else 0)
    else:
        _empty(ax, "no frame rates: run `curate probe`")
    ax.set_title(f"Frame rate ({fps.size:,} probed videos)")
    _save(fig, path)


def resolution_figure(table: pd.DataFrame, path: Path, top: int = 12) -> None:
    """The most common resolutions as displayed (width × height after rotation)."""
    fig, ax = _axes(left=0.24)
    known = table[["width", "height"]].apply(pd.to_numeric, errors="coerce").dropna().astype(int)
    if len(known):
        counts = (known["width"].astype(str) + "×" + known["height"].astype(str)).value_counts()
        shown = counts.head(top)[::-1]
        bars = ax.barh(shown.index, shown.to_numpy(), color=COLORS["observed"])
        ax.bar_label(bars, labels=[f"{v:,}" for v in shown.to_numpy()], fontsize="small", padding=2)
        ax.margins(x=0.1)
        ax.set_xlabel("videos")
        ax.set_ylabel("width × height (pixels, as displayed)")
        more = f", {len(counts) - top} rarer not shown" if len(counts) > top else ""
        ax.set_title(f"Resolutions ({len(known):,} videos{more})")
    else:
        _empty(ax, "no resolutions known")
        ax.set_title("Resolutions")
    _save(fig, path)


def metrics_figure(table: pd.DataFrame, path: Path) -> None:
    """Plays, likes, comments, shares and followers on log axes, observed and simulated apart (seed 001, fig. 2)."""
    fig = Figure(figsize=(12, 6.5))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.9, wspace=0.28, hspace=0.42)
    axes = fig.subplots(2, 3).ravel()
    provenance = table["provenance"].fillna("none") if "provenance" in table else pd.Series("observed", index=table.index)
    for ax, metric in zip(axes, METRIC_COLUMNS, strict=False):
        _metric_panel(ax, table, metric, provenance)
    axes[-1].axis("off")
    fig.suptitle("Engagement metrics (log axes)")
    _save(fig, path)


def _metric_panel(ax: Axes, table: pd.DataFrame, metric: str, provenance: pd.Series) -> None:
    values = pd.to_numeric(table[metric], errors="coerce").astype(float) if metric in table else pd.Series(dtype=float)
    positive = values[values > 0]
    if positive.empty:
        _empty(ax, f"no {metric} above 0")
    else:
        bins = _log_bins(positive.to_numpy())
        base = np.zeros(len(bins) - 1)
        for name in ("observed", "simulated"):
            counts, _ = np.histogram(positive[provenance[positive.index] == name], bins)
            if counts.any():  # stacked by hand: stairs is far cheaper to draw than hist's one patch per bar
                ax.stairs(base + counts, bins, baseline=base, fill=True, color=COLORS[name], label=name)
                base = base + counts
        _log_x(ax, bins)
        ax.set_xlabel(f"{metric} (log scale)")
        ax.set_ylabel("videos")
        ax.legend(fontsize="small", loc="upper right")
    zeros = int((values == 0).sum())
    ax.set_title(f"{metric}: {len(positive):,} videos" + (f", {zeros:,} at 0 not shown" if zeros else ""))


def er_figure(table: pd.DataFrame, path: Path, threshold: float | None, percentile: float | None) -> None:
    """Engagement rate on a log axis with the viral_er threshold."""
    fig, ax = _axes()
    er = _finite(table["er"]) if "er" in table else np.array([])
    er = er[er > 0]
    if er.size:
        bins = _log_bins(er)
        ax.stairs(np.histogram(er, bins)[0], bins, fill=True, color=COLORS["observed"])
        _log_x(ax, bins)
        ax.set_xlabel("ER = (likes + comments + shares) / followers × 100 (log scale)")
        ax.set_ylabel("videos")
        if threshold is not None:
            name = f"P{percentile:g} threshold" if percentile is not None else "threshold"
            ax.axvline(threshold, color=COLORS["rejected"], linestyle="--", label=f"{name} = {threshold:.3g}")
            ax.legend(loc="upper right")
    else:
        _empty(ax, "no engagement rate: no video has both counts and followers")
    ax.set_title(f"Engagement rate ({er.size:,} videos with ER defined)")
    _save(fig, path)


def labels_figure(table: pd.DataFrame, path: Path) -> None:
    """Balance of each binary label: videos labelled 1, 0, and undefined."""
    fig, ax = _axes()
    present = [name for name in BINARY_LABELS if name in table and table[name].notna().any()]
    if present:
        x = np.arange(len(present))
        for offset, (value, name, color) in enumerate(((1, "viral (1)", COLORS["rejected"]), (0, "not viral (0)", COLORS["observed"]))):
            counts = [int((table[label].astype("boolean") == bool(value)).sum()) for label in present]
            bars = ax.bar(x + (offset - 0.5) * 0.4, counts, width=0.4, label=name, color=color)
            ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize="small")
        ax.set_xticks(x, present)
        ax.set_ylabel("videos")
        ax.legend(loc="upper right")
    else:
        _empty(ax, "no labels here: labels are computed for snapshots and for a catalog with metrics")
    ax.set_title("Balance of the binary labels")
    _save(fig, path)


def rejections_figure(reasons: pd.Series, path: Path, kept: int, rejected: int, note: str | None = None) -> None:
    """Videos rejected per reason (a video counts once for every rule it failed)."""
    fig, ax = _axes(left=0.2)
    if len(reasons):
        shown = reasons.sort_values()
        bars = ax.barh(shown.index, shown.to_numpy(), color=COLORS["rejected"])
        ax.bar_label(bars, labels=[f"{v:,}" for v in shown.to_numpy()], fontsize="small", padding=2)
        ax.margins(x=0.1)
        ax.set_xlabel("videos failing the rule (a video counts once per rule it fails)")
    else:
        _empty(ax, note or "no video was rejected (or `curate filter` has not run)")
    ax.set_title(f"Rejections by reason ({kept:,} kept, {rejected:,} rejected)")
    _save(fig, path)


def depth_figure(depths: Sequence[int] | pd.Series, path: Path) -> None:
    """Videos found at each depth of the recursive crawl (0: the seed videos from the For-You feed)."""
    fig, ax = _axes()
    values = pd.Series(depths, dtype="float").dropna().astype(int)
    if len(values):
        counts = values.value_counts().sort_index()
        bars = ax.bar(counts.index.astype(str), counts.to_numpy(), color=COLORS["observed"])
        ax.bar_label(bars, labels=[f"{v:,}" for v in counts.to_numpy()], fontsize="small")
        ax.set_xlabel("crawl depth (0 = seed videos from the For-You feed)")
        ax.set_ylabel("videos")
    else:
        _empty(ax, "no crawl depths: these videos were imported, not crawled")
    ax.set_title(f"Crawl depth ({len(values):,} crawled videos)")
    _save(fig, path)


def trajectory_figure(trajectories: pd.DataFrame | None, path: Path, sample: int = 30) -> None:
    """Plays against age (log–log): a sample of videos' trajectories, and the median by age.

    ``trajectories`` has ``video_id, age_h, plays`` (one row per observation); videos
    observed once draw no line.
    """
    fig, ax = _axes(left=0.12)
    rows = trajectories.dropna(subset=["age_h", "plays"]) if trajectories is not None else pd.DataFrame()
    rows = rows[(rows["age_h"] > 0) & (rows["plays"] > 0)] if len(rows) else rows
    followed = rows.groupby("video_id").filter(lambda g: len(g) > 1) if len(rows) else rows
    ax.set_xlabel("age at observation (hours after posting)")
    ax.set_ylabel("plays")
    if not len(followed):
        ax.set_title("Trajectories: plays as videos age")
        _empty(ax, "No video was observed at two ages yet: `curate refresh` collects trajectories as videos age "
                   "(one observation per age of its schedule), and this figure draws them.")
        _save(fig, path)
        return
    # a stable sample: the same catalog draws the same videos
    ids = sorted(followed["video_id"].unique(), key=lambda v: zlib.crc32(str(v).encode()))[:sample]
    for video_id in ids:
        one = followed[followed["video_id"] == video_id].sort_values("age_h")
        ax.plot(one["age_h"], one["plays"], color="#1f77b4", alpha=0.35, linewidth=1)
    edges = np.geomspace(followed["age_h"].min(), followed["age_h"].max() * 1.0001, 16)
    bins = pd.cut(followed["age_h"], edges, include_lowest=True)
    medians = followed.groupby(bins, observed=True).agg(age=("age_h", "median"), plays=("plays", "median"))
    ax.plot(medians["age"], medians["plays"], color="black", linewidth=2.5, label="median by age")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Trajectories: {len(ids)} of {followed['video_id'].nunique():,} videos followed, and the median")
    ax.legend(loc="upper left", frameon=False)
    _save(fig, path)
