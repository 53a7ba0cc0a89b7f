"""Applying the rules to a whole table of probe facts at once: a verdict and every failed rule per video.

Each rule is a vectorised mask over the table. A video with no media, no current
probe facts or an unreadable file gets only that reason (nothing else about it
can be checked); otherwise every rule it fails is listed, in rule order. A fact
that is unknown fails the rule that needs it: nothing unverified is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from curation.rules import Rules

KEPT = "kept"
REJECTED = "rejected"
#: the facts a table must carry (as ``db.media.load_curation_frame`` reads them)
REQUIRED_COLUMNS = (
    "video_id", "media_sha256", "has_media", "probed", "readable", "truncated", "first_frame_decodes",
    "vfr", "frames", "fps", "duration_s", "width", "height",
)  # fmt: skip

Mask = Callable[[pd.DataFrame, Rules], pd.Series]


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("boolean")


def _below(column: str, limit: Callable[[Rules], float]) -> Mask:
    # NaN fails: `value >= limit` is False for an unknown value
    return lambda f, r: ~(_num(f, column) >= limit(r))


def _short_side(frame: pd.DataFrame, rules: Rules) -> pd.Series:
    side = np.fmin(_num(frame, "width"), _num(frame, "height")).where(frame["width"].notna() & frame["height"].notna())
    return ~(side >= rules.min_short_side)


#: (reason, rule active?, failure mask) for the rules checked on readable files, in report order
MEDIA_RULES: tuple[tuple[str, Callable[[Rules], bool], Mask], ...] = (
    ("truncated", lambda r: r.reject_truncated, lambda f, r: _flag(f, "truncated").fillna(True)),
    ("undecodable", lambda r: r.reject_undecodable, lambda f, r: ~_flag(f, "first_frame_decodes").fillna(False)),
    ("too_few_frames", lambda r: r.min_frames > 0, _below("frames", lambda r: r.min_frames)),
    ("low_fps", lambda r: r.min_fps > 0, _below("fps", lambda r: r.min_fps)),
    ("too_short", lambda r: r.min_duration_s > 0, _below("duration_s", lambda r: r.min_duration_s)),
    ("too_long", lambda r: 0 < r.max_duration_s < np.inf, lambda f, r: ~(_num(f, "duration_s") <= r.max_duration_s)),
    ("low_resolution", lambda r: r.min_short_side > 0, _short_side),
    ("variable_fps", lambda r: r.reject_vfr, lambda f, r: _flag(f, "vfr").fillna(False)),
)


def evaluate(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """``video_id, verdict, reasons`` for every row of ``frame`` (reasons: a tuple, empty when kept)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"the probe table lacks columns {missing}")
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame({"video_id": pd.Series(dtype=object), "verdict": pd.Series(dtype=object), "reasons": pd.Series(dtype=object)})
    has_media = frame["has_media"].astype(bool)
    probed = frame["probed"].astype(bool)
    readable = _flag(frame, "readable").fillna(False).astype(bool)
    failures = {
        "no_media": ~has_media & rules.require_media,
        "not_probed": has_media & ~probed,
        "unreadable": has_media & probed & ~readable,
    }
    failures.update(_media_failures(frame, rules, has_media & probed & readable))
    if rules.drop_duplicates:
        failures["duplicate"] = _duplicates(frame, pd.concat(list(failures.values()), axis=1).any(axis=1))
    if rules.near_duplicates:
        failures["near_duplicate"] = _near_duplicates(frame, rules, failures)
    return _assemble(frame, failures)


#: the columns the near-duplicate rule needs beside :data:`REQUIRED_COLUMNS` (``db.fingerprints`` reads them)
NEAR_DUPLICATE_COLUMNS = ("frame_hashes", "music_id", "music_original", "plays", "create_time")


def _near_duplicates(frame: pd.DataFrame, rules: Rules, failures: dict[str, pd.Series]) -> pd.Series:
    """For each row of a repost group other than its keeper: the keeper's id, else None (sha duplicates excluded)."""
    from curation.duplicates import group_duplicates, keepers

    missing = [c for c in NEAR_DUPLICATE_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"the near_duplicates rule needs columns {missing} (run `curate dedup` first)")
    ids = frame["video_id"].astype(str)
    flagged = {k: (m.notna() if k == "duplicate" else m.astype(bool)) for k, m in failures.items()}
    rejected = pd.Series(pd.concat(list(flagged.values()), axis=1).any(axis=1).to_numpy(), index=ids)
    groups = group_duplicates(frame, rules.near_duplicate_distance, rules.near_duplicate_by.split(","))
    keeper = keepers(groups, frame.set_index(ids)[["plays", "create_time"]], rules.near_duplicate_keep, rejected)
    keeper_of = ids.map(groups.set_index("video_id")["group"].map(keeper))
    already = flagged["duplicate"].to_numpy() if "duplicate" in flagged else False
    return keeper_of.where(keeper_of.notna() & (keeper_of != ids) & ~already)


def _media_failures(frame: pd.DataFrame, rules: Rules, checkable: pd.Series) -> dict[str, pd.Series]:
    """The active media rules' failure masks, limited to rows whose facts can be checked."""
    return {
        name: mask(frame, rules).fillna(True).astype(bool) & checkable
        for name, active, mask in MEDIA_RULES
        if active(rules)
    }


def _duplicates(frame: pd.DataFrame, rejected: pd.Series) -> pd.Series:
    """For each row whose sha256 another row shares: the keeper's id, else None (keeper: passes, then lowest id)."""
    ids = frame["video_id"].astype(str)
    stripped = ids.str.lstrip("0")
    order = pd.DataFrame({"rejected": rejected, "length": stripped.str.len(), "id": stripped, "sha": frame["media_sha256"]})
    order = order[order["sha"].notna()].sort_values(["rejected", "length", "id"], kind="stable")
    keeper = order.groupby("sha", sort=False).head(1)
    keeper_id = frame["media_sha256"].map(pd.Series(ids[keeper.index].to_numpy(), index=keeper["sha"].to_numpy()))
    return keeper_id.where(keeper_id.notna() & (keeper_id != ids))


def _assemble(frame: pd.DataFrame, failures: dict[str, pd.Series]) -> pd.DataFrame:
    """Long form (row, reason) from the masks, grouped back into one list per row, in rule order."""
    order = ["no_media", "not_probed", "unreadable", *(name for name, _, _ in MEDIA_RULES), "duplicate", "near_duplicate"]
    parts = []
    for rank, name in enumerate(order):
        mask = failures.get(name)
        if mask is None:
            continue
        if name in ("duplicate", "near_duplicate"):
            hit = mask.notna()
            label = f"{name}_of:" + mask[hit].astype(str)
        else:
            hit = mask.astype(bool)
            label = pd.Series(name, index=frame.index[hit])
        parts.append(pd.DataFrame({"row": frame.index[hit], "rank": rank, "reason": label.to_numpy()}))
    long = pd.concat(parts, ignore_index=True).sort_values(["row", "rank"], kind="stable")
    grouped = long.groupby("row")["reason"].agg(tuple)
    reasons = pd.Series([()] * len(frame), index=frame.index, dtype=object)  # one shared, immutable empty tuple
    reasons[grouped.index] = grouped
    verdict = np.where(frame.index.isin(grouped.index), REJECTED, KEPT)
    return pd.DataFrame({"video_id": frame["video_id"].to_numpy(), "verdict": verdict, "reasons": reasons.to_numpy()})


def reason_counts(verdicts: pd.DataFrame) -> dict[str, int]:
    """How many videos failed each rule (``duplicate_of:<id>`` counted as ``duplicate``), most first."""
    flat = verdicts["reasons"].explode().dropna().astype(str).str.replace(r"^(near_)?duplicate_of:.*", r"\1duplicate", regex=True)
    return {str(k): int(v) for k, v in flat.value_counts().items()}
