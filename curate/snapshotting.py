"""Building a snapshot: the wiring of catalog (db), splits and labels (labeling) and storage (db.snapshots).

catalog frame → rows with metrics (kept / not yet filtered) → grouped, stable
splits → labels fitted on train, applied to all → pseudonymised Arrow table →
``NAME/vN`` with its manifest, registered in the catalog.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from db.snapshots import SnapshotError, SnapshotRef

ROOT = Path(__file__).resolve().parents[1]
NOTES = {
    "author_key": "HMAC-SHA256 of the platform author id with the pseudonymisation key (CURATE_PSEUDONYM_KEY or the "
                  "config's pseudonym_key when given, else this catalog's secret), first 16 hex characters",
    "content_fingerprint": "sha256 over the rows (every column but split, ordered by video_id, floats at 12 significant "
                           "digits), the label definitions with their fitted values, and the split assignment; "
                           "rebuilds of the same data share it",
    "caption": "@mentions replaced by @user; the author's own handle replaced by user (also in hashtags and music titles)",
    "latent_score": "planted-signal ground truth from `curate synth --planted-signal`; never a model feature",
    "leakage": "author_hearts and author_video_count are author totals that include the video's own engagement",
    "selection": "videos with metrics whose verdict is 'kept' or not yet filtered (NULL), unless include_rejected",
}


@dataclass(frozen=True)
class SnapshotOptions:
    """What ``curate snapshot create`` was asked for."""

    name: str
    split: str = "0.8,0.1,0.1"
    seed: int = 0
    group_by: str = "author"
    fit_on: str = "train"
    label_percentile: float = 75.0
    weights: str | None = None
    corr_method: str = "pearson"
    include_simulated_in_eval: bool = False
    include_rejected: bool = False
    cutoff: datetime | None = None
    #: the labels to compute by name (None: every label whose inputs the rows have)
    labels: str | None = None
    #: the key of author pseudonyms; None: the catalog's own secret
    pseudonym_key: str | None = field(default=None, repr=False)


def create_snapshot(engine: Engine, home: Path, options: SnapshotOptions) -> SnapshotRef:
    """Builds and writes the next version of ``options.name``; returns it."""
    from db.catalog import catalog_secret
    from db.dataset import load_video_frame
    from db.snapshot_content import content_of
    from db.snapshot_table import build_table
    from db.snapshots import check_name, latest_snapshot, write_snapshot
    from curate.trajectories import trajectory_columns, with_columns
    from labeling import LabelSpec, SplitSpec, apply_labels, assign_splits, fit_labels

    check_name(options.name)
    spec = SplitSpec(SplitSpec.parse_ratios(options.split), options.seed, options.group_by, options.include_simulated_in_eval)
    labels_spec = LabelSpec.from_options(options.label_percentile, options.weights, options.corr_method, options.labels)
    frame, excluded = _selected(load_video_frame(engine, cutoff=options.cutoff, include_rejected=True), options.include_rejected)
    parent = latest_snapshot(home, options.name)
    parent_splits = parent.frame(["video_id", "split"]).set_index("video_id")["split"] if parent else None
    assignment = assign_splits(frame["video_id"], frame["author_id"], frame["provenance"] == "simulated", spec, parent_splits)
    keep = ~assignment.excluded.to_numpy()
    excluded["simulated_on_eval_side"] = int((~keep).sum())
    frame, split = frame[keep].reset_index(drop=True), assignment.split[keep].reset_index(drop=True)
    fit_rows = frame[(split == "train").to_numpy()] if options.fit_on == "train" else frame
    fitted = fit_labels(fit_rows, labels_spec, fit_on=options.fit_on)
    labels = apply_labels(frame, fitted)
    # labels over time (plays at 24 h, growth 24 h → 7 d …) from the observations as of the cut-off
    over_time, trajectory = trajectory_columns(engine, frame, (split == "train").to_numpy() if options.fit_on == "train" else None, options.cutoff)
    table = with_columns(build_table(frame, labels, split, options.pseudonym_key or catalog_secret(engine), home), over_time)
    manifest = _manifest(engine, options, spec, fitted, frame, labels, split, excluded, assignment, table)
    manifest["labels"]["trajectory"] = trajectory
    content = content_of(table, manifest["labels"])
    manifest.update(content_fingerprint=content.fingerprint, content=content.to_dict())
    return write_snapshot(home, engine, options.name, table, manifest, parent)


def _selected(frame: pd.DataFrame, include_rejected: bool) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows a snapshot takes, and how many were left out for which reason."""
    rejected = frame["verdict"].eq("rejected").fillna(False).to_numpy(dtype=bool) if not include_rejected else False
    no_metrics = frame["provenance"].isna().to_numpy()
    chosen = frame[~(rejected | no_metrics)].reset_index(drop=True)
    excluded = {"rejected": int(pd.Series(rejected).sum()) if not include_rejected else 0,
                "no_metrics": int((no_metrics & ~rejected).sum())}
    if chosen.empty:
        raise SnapshotError(
            f"nothing to snapshot: {len(frame)} videos in the catalog, none with metrics and a kept or pending verdict"
            " (run `curate synth` to simulate missing metrics, or pass --include-rejected)"
        )
    return chosen, excluded


def _manifest(engine, options, spec, fitted, frame, labels, split, excluded, assignment, table) -> dict[str, Any]:
    from db.dataset import LATEST_ORDER, video_frame_query
    from db.media import rules_by_hash
    from db.overrides import overrides_for_manifest

    query = video_frame_query(options.cutoff, include_rejected=True).compile(dialect=engine.dialect)
    return {
        "code_version": _code_version(),
        "catalog": {
            "dialect": engine.dialect.name, "cutoff": options.cutoff.isoformat() if options.cutoff else None,
            "latest_observation": LATEST_ORDER, "query": " ".join(str(query).split()),
        },
        "filter": {
            "include_rejected": options.include_rejected, "verdicts": _tally(frame["verdict"].fillna("unfiltered")),
            "rules_hashes": _tally(frame["rules_hash"].dropna()),
            "rules": rules_by_hash(engine, frame["rules_hash"].dropna().unique()),
            "overrides": overrides_for_manifest(engine, frame["video_id"]),
        },
        "simulation": {"params_hashes": _tally(frame["params_hash"].dropna()), "seeds": _tally(frame["sim_seed"].dropna().astype(str))},
        "labels": fitted.to_dict(),
        "split": {**spec.to_dict(), "fit_on": options.fit_on, "groups": assignment.groups,
                  "inherited_from_parent": assignment.inherited, "rows_without_author": assignment.ungrouped,
                  "without_author": "each video is its own group" if assignment.ungrouped else None},
        "pseudonymisation": {"key": "configured" if options.pseudonym_key else "catalog secret"},
        "counts": _counts(frame, labels, split, excluded),
        "schema": [{"name": f.name, "type": str(f.type)} for f in table.schema],
        "notes": NOTES,
    }


def _tally(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def _counts(frame: pd.DataFrame, labels: pd.DataFrame, split: pd.Series, excluded: dict[str, int]) -> dict[str, Any]:
    provenance = frame["provenance"].astype(str).to_numpy()
    by_both = pd.crosstab(split.to_numpy(), provenance)
    positive = {c: round(float(labels[c].astype("Float64").mean()), 6) if labels[c].notna().any() else None
                for c in ("viral_er", "viral_all_median")}
    no_author = int(frame["author_id"].isna().sum())
    return {
        "rows": len(frame), "splits": {s: int((split == s).sum()) for s in ("train", "val", "test")},
        "provenance": _tally(pd.Series(provenance)),
        "split_provenance": {s: {p: int(n) for p, n in row.items()} for s, row in by_both.iterrows()},
        "authors": int(frame["author_id"].nunique()), "er_undefined": int((~labels["er_defined"]).sum()),
        "positive_rate": positive, "excluded": excluded, "rows_without_author": no_author,
    }


def _code_version() -> dict[str, str | None]:
    import synth

    try:
        version = metadata.version("viralcurate")
    except metadata.PackageNotFoundError:
        version = None
    return {"viralcurate": version, "git": _git_commit(), "simulator": f"{synth.SIMULATOR_NAME} {synth.SIMULATOR_VERSION}"}


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
