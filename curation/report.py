"""The dataset report: one HTML page with PNG figures and seed 001's metric table, for a catalog or a snapshot.

The caller (``curate report``) gathers the rows; this module normalises them
(probe facts when present, else the payload's), draws, and writes the page into
a temporary folder that replaces the old report in one rename.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from curation import figures

#: seed 001's metrics, in its table's order, and the statistics of its table
TABLE_METRICS = ("comments", "likes", "plays", "shares", "followers")
TABLE_STATS = {"count": "N", "mean": "Mean", "std": "Std", "25%": "P25", "50%": "P50", "75%": "P75", "max": "Max"}
#: seed 001's published table (comments, likes, plays, shares), shown beside ours for comparison
SEED_001 = {
    "comments": (2_773, 20_689, 145, 527, 1_743, 1_600_000),
    "likes": (308_553, 996_870, 23_500, 78_600, 258_675, 46_300_000),
    "plays": (2_519_753, 10_187_573, 281_125, 803_750, 2_300_000, 684_000_000),
    "shares": (10_363, 50_299, 135, 903, 4_732, 1_900_000),
}
FIGURES = ("duration", "fps", "resolution", "crawl_depth", "metrics", "er", "labels", "rejections", "trajectories")
INDEX = "index.html"


@dataclass(frozen=True)
class ReportData:
    """What a report shows: the rows, where they come from, and what was fitted on them."""

    title: str
    source: str
    frame: pd.DataFrame
    depths: pd.DataFrame | None = None
    er_threshold: float | None = None
    er_percentile: float | None = None
    notes: tuple[str, ...] = ()
    #: rejections per reason when they are not in the rows (e.g. from a snapshot's manifest)
    rejections: dict[str, int] | None = None
    #: what the rejections figure says when there are none to draw
    rejections_note: str | None = None
    #: how many rejected videos were left out of the rows (a snapshot's manifest says)
    rejected_elsewhere: int = 0
    #: ``video_id, age_h, plays``: every observation with the video's age at it (metrics over time)
    trajectories: pd.DataFrame | None = None


@dataclass(frozen=True)
class Report:
    """A written report: its page, its figures and the metric table it shows."""

    path: Path
    figures: tuple[Path, ...]
    table: pd.DataFrame = field(repr=False)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Duration, fps and displayed resolution per video: probe facts where present, else the payload's."""
    out = frame.copy()
    probe = out["probe"] if "probe" in out else pd.Series(None, index=out.index, dtype=object)
    for column in ("duration_s", "fps", "width", "height", "rotation", "frames"):
        probed = pd.to_numeric(probe.str.get(column), errors="coerce") if probe.notna().any() else pd.Series(float("nan"), index=out.index)
        given = pd.to_numeric(out[column], errors="coerce") if column in out else pd.Series(float("nan"), index=out.index)
        out[column] = probed.astype(float).fillna(given.astype(float))
    turned = out["rotation"].abs() % 180 == 90  # a portrait clip stored as landscape with a 90° display matrix
    out.loc[turned, ["width", "height"]] = out.loc[turned, ["height", "width"]].to_numpy()
    return out


def metric_table(frame: pd.DataFrame, metrics: tuple[str, ...] = TABLE_METRICS) -> pd.DataFrame:
    """Seed 001's table: N, mean, std, P25, P50, P75 and max per metric (rows: metrics)."""
    present = [m for m in metrics if m in frame]
    numbers = frame[present].apply(pd.to_numeric, errors="coerce").astype(float)
    described = numbers.describe().T if present else pd.DataFrame(columns=list(TABLE_STATS))
    return described[list(TABLE_STATS)].rename(columns=TABLE_STATS)


def rejection_counts(frame: pd.DataFrame) -> pd.Series:
    """Rejected videos per reason, from the ``verdict_reasons`` column (duplicates folded)."""
    if "verdict_reasons" not in frame:
        return pd.Series(dtype=int)
    flat = frame["verdict_reasons"].explode().dropna().astype(str)
    return flat.str.replace(r"^(near_)?duplicate_of:.*", r"\1duplicate", regex=True).value_counts()


def write_report(data: ReportData, out_dir: Path) -> Report:
    """Draws every figure and writes ``out_dir/index.html``, replacing an older report only once complete."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    table = normalise(data.frame)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        drawn = _draw(data, table, tmp)
        metrics = metric_table(table)
        (tmp / INDEX).write_text(_page(data, table, metrics), encoding="utf-8")
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Report(out_dir / INDEX, tuple(out_dir / p.name for p in drawn), metrics)


def _draw(data: ReportData, table: pd.DataFrame, folder: Path) -> list[Path]:
    reasons = pd.Series(data.rejections, dtype=int) if data.rejections is not None else rejection_counts(table)
    kept = int((table["verdict"] == "kept").sum()) if "verdict" in table else len(table)
    rejected = int((table["verdict"] == "rejected").sum()) if "verdict" in table else data.rejected_elsewhere
    depths = data.depths["depth"] if data.depths is not None else pd.Series(dtype=float)
    painters: dict[str, Callable[[Path], None]] = {
        "duration": lambda p: figures.duration_figure(table, p),
        "fps": lambda p: figures.fps_figure(table, p),
        "resolution": lambda p: figures.resolution_figure(table, p),
        "metrics": lambda p: figures.metrics_figure(table, p),
        "er": lambda p: figures.er_figure(table, p, data.er_threshold, data.er_percentile),
        "labels": lambda p: figures.labels_figure(table, p),
        "rejections": lambda p: figures.rejections_figure(reasons, p, kept, rejected, data.rejections_note),
        "crawl_depth": lambda p: figures.depth_figure(depths, p),
        "trajectories": lambda p: figures.trajectory_figure(data.trajectories, p),
    }
    paths = []
    for name in FIGURES:
        path = folder / f"{name}.png"
        painters[name](path)
        paths.append(path)
    return paths


def _replace(tmp: Path, out_dir: Path) -> None:
    """Moves the finished report into place; the old one is removed only after the rename."""
    os.chmod(tmp, 0o755)
    if not out_dir.exists():
        tmp.rename(out_dir)
        return
    old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
    out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


CAPTIONS = {
    "duration": "Duration of every video (probe facts where probed, else the payload's).",
    "fps": "Frame rates; seed 001 found videos at 1 frame per second.",
    "resolution": "Resolutions as displayed.",
    "metrics": "Plays, likes, comments, shares and followers on log axes; observed and simulated values stacked.",
    "er": "Engagement rate with the viral_er threshold.",
    "labels": "Balance of the binary labels.",
    "rejections": "Why videos were rejected by `curate filter`.",
    "crawl_depth": "Depth at which the recursive crawl found each video.",
    "trajectories": "Plays against age for a sample of videos observed more than once (`curate refresh`), and the median by age.",
}


WIDE = {"metrics": ' class="wide"'}


def _page(data: ReportData, table: pd.DataFrame, metrics: pd.DataFrame) -> str:
    esc = html.escape
    summary = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in _summary(table).items())
    notes = "".join(f"<li>{esc(n)}</li>" for n in data.notes)
    shots = "".join(
        f'<figure{WIDE.get(name, "")}><img src="{name}.png" alt="{esc(CAPTIONS[name])}"><figcaption>{esc(CAPTIONS[name])}</figcaption></figure>'
        for name in FIGURES
    )
    return PAGE.format(
        title=esc(data.title), source=esc(data.source), summary=summary, notes=f"<ul>{notes}</ul>" if notes else "",
        metrics=_html_table(metrics), seed=_html_table(_seed_table()), figures=shots,
    )


def _summary(table: pd.DataFrame) -> dict[str, str]:
    counts = {"videos": f"{len(table):,}"}
    if "media_path" in table:
        counts["with media"] = f"{int(table['media_path'].notna().sum()):,}"
    if "verdict" in table:
        verdicts = table["verdict"].fillna("not filtered").value_counts()
        counts["verdicts"] = ", ".join(f"{k}: {v:,}" for k, v in verdicts.items())
    if "provenance" in table:
        provenance = table["provenance"].fillna("no metrics").value_counts()
        counts["metrics"] = ", ".join(f"{k}: {v:,}" for k, v in provenance.items())
    if "split" in table:
        counts["splits"] = ", ".join(f"{k}: {v:,}" for k, v in table["split"].value_counts().items())
    return counts


def _seed_table() -> pd.DataFrame:
    columns = [v for k, v in TABLE_STATS.items() if k != "count"]
    return pd.DataFrame.from_dict(SEED_001, orient="index", columns=columns).astype(float)


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(float_format=lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}", na_rep="—", border=0, classes="numbers")


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }}
th:first-child {{ text-align: left; }}
figure {{ display: inline-block; width: 48%; margin: 0 1% 1.5em 0; vertical-align: top; }}
figure.wide {{ width: 97%; }}
figure img {{ width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style></head>
<body>
<h1>{title}</h1>
<p>Source: {source}</p>
<table>{summary}</table>
{notes}
<h2>Engagement metrics (seed 001's table)</h2>
{metrics}
<h3>Seed 001, as published</h3>
{seed}
<h2>Figures</h2>
{figures}
</body></html>
"""
