"""Near-duplicates: reposts and re-uploads grouped by identical bytes, near-identical frames or the same sound.

A file's fingerprint is one 64-bit difference hash (dHash) per sampled frame, at
fixed fractions of its duration, so that a re-encode, a light crop or a re-upload
with other metadata gives nearly the same bits. Two files are near-identical when
their frames differ, on average, by at most ``max_distance`` bits of 64. Groups are
the connected components of the three relations (scipy's csgraph), and in each
group one video is kept by a stated rule; the others carry ``near_duplicate_of:<id>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: the fingerprint's name: a new method (other sampling or hash) is computed afresh
METHOD = "dhash64x8"
#: frames sampled per file, at the middle of each eighth of its duration
SAMPLED_FRAMES = 8
#: relation names, as shown and as named in the rules' ``near_duplicate_by``
KINDS = ("media", "frames", "sound")
#: how a group's kept video is chosen
KEEP_RULES = ("most_plays", "earliest", "lowest_id")
_GRID = (8, 9)  # rows, columns of the grey thumbnail the hash compares (9 columns give 8 differences)
_BLOCK = 8  # each thumbnail cell is the mean of an 8 x 8 block: an area filter without aliasing


def frame_hashes(path: str | Path, frames: int = SAMPLED_FRAMES) -> list[str]:
    """dHashes (16 hex characters each) of ``frames`` frames spread over the file; ValueError when unreadable."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        duration = _duration_s(container, stream)
        wanted = [(i + 0.5) * duration / frames for i in range(frames)]
        picked = _grey_frames(container.decode(stream), wanted)
    if not picked:
        raise ValueError("no frame decodes")
    picked += [picked[-1]] * (frames - len(picked))
    return [_dhash(grey) for grey in picked]


def _duration_s(container, stream) -> float:
    if container.duration:
        return container.duration / 1_000_000
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _grey_frames(decoded, wanted: list[float]) -> list[np.ndarray]:
    """Grey thumbnails (64 x 72) of the first frame at or after each wanted time."""
    height, width = _GRID[0] * _BLOCK, _GRID[1] * _BLOCK
    picked: list[np.ndarray] = []
    for frame in decoded:
        while len(picked) < len(wanted) and (frame.time or 0.0) >= wanted[len(picked)] - 1e-6:
            picked.append(frame.to_ndarray(format="gray", width=width, height=height))
        if len(picked) == len(wanted):
            break
    return picked


def _dhash(grey: np.ndarray) -> str:
    cells = grey.reshape(_GRID[0], _BLOCK, _GRID[1], _BLOCK).mean(axis=(1, 3))
    bits = (cells[:, 1:] > cells[:, :-1]).reshape(-1)
    return f"{int(np.packbits(bits).view('>u8')[0]):016x}"


def hash_matrix(hashes: Sequence[Sequence[str] | None]) -> tuple[np.ndarray, np.ndarray]:
    """(rows with hashes, their uint64 matrix rows x frames); rows without hashes are left out."""
    rows = [i for i, h in enumerate(hashes) if isinstance(h, list | tuple) and len(h) > 0]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, SAMPLED_FRAMES), dtype=np.uint64)
    width = max(len(hashes[i]) for i in rows)
    matrix = np.array([[int(x, 16) for x in hashes[i]] + [0] * (width - len(hashes[i])) for i in rows], dtype=np.uint64)
    return np.array(rows, dtype=np.int64), matrix


def mean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean Hamming distance (bits of 64) between every row of ``a`` and every row of ``b``, frame by frame."""
    xor = np.bitwise_xor(a[:, None, :], b[None, :, :])
    return np.bitwise_count(xor).mean(axis=2)


def near_pairs(matrix: np.ndarray, max_distance: float, block: int = 512) -> np.ndarray:
    """(i, j) with i < j whose mean frame distance is at most ``max_distance``; compared in blocks of rows."""
    found = []
    for start in range(0, len(matrix), block):
        distances = mean_distances(matrix[start : start + block], matrix)
        i, j = np.nonzero(distances <= max_distance)
        i += start
        keep = i < j
        found.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def _same_value_pairs(values: pd.Series) -> np.ndarray:
    """Pairs linking each row to the first row holding the same (non-null) value: enough for connectivity."""
    present = values[values.notna()]
    first = present.groupby(present, sort=False).transform(lambda s: s.index[0]) if len(present) else present
    pairs = np.stack([first.to_numpy(dtype=np.int64), present.index.to_numpy(dtype=np.int64)], axis=1) if len(present) else np.zeros((0, 2), dtype=np.int64)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def relations(frame: pd.DataFrame, max_distance: float, kinds: Sequence[str] = KINDS) -> dict[str, np.ndarray]:
    """Row pairs per relation: ``media`` (same sha256), ``frames`` (near-identical), ``sound`` (same music_id;
    only original sounds when ``music_original`` is given)."""
    frame = frame.reset_index(drop=True)
    out: dict[str, np.ndarray] = {}
    if "media" in kinds:
        out["media"] = _same_value_pairs(frame["media_sha256"])
    if "frames" in kinds:
        rows, matrix = hash_matrix(list(frame["frame_hashes"]))
        out["frames"] = rows[near_pairs(matrix, max_distance)] if len(rows) else np.zeros((0, 2), dtype=np.int64)
    if "sound" in kinds:
        # a licensed song is shared by unrelated videos; a creator's original sound heard again is a repost's mark
        music = frame["music_id"].astype(object).where(frame["music_id"].notna(), None)
        if "music_original" in frame:
            music = music.where(frame["music_original"].astype("boolean").fillna(False).astype(bool), None)
        out["sound"] = _same_value_pairs(music)
    return out


def group_duplicates(frame: pd.DataFrame, max_distance: float = 6.0, kinds: Sequence[str] = KINDS) -> pd.DataFrame:
    """``video_id, group, kinds`` for every video that has at least one duplicate (group: its smallest row's id).

    ``frame`` needs ``video_id, media_sha256, frame_hashes, music_id``; ``kinds`` of a
    row lists the relations that tie it to its group.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    frame = frame.reset_index(drop=True)
    found = relations(frame, max_distance, kinds)
    pairs = np.concatenate([p for p in found.values() if len(p)]) if any(len(p) for p in found.values()) else np.zeros((0, 2), dtype=np.int64)
    empty = pd.DataFrame({"video_id": pd.Series(dtype=object), "group": pd.Series(dtype=object), "kinds": pd.Series(dtype=object)})
    if not len(pairs):
        return empty
    n = len(frame)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    member = sizes[label] > 1
    ids = frame["video_id"].astype(str)
    first_id = pd.Series(ids.to_numpy()).groupby(label).transform("first")
    kind_of = {i: [] for i in np.flatnonzero(member)}
    for kind, kind_pairs in found.items():
        for row in np.unique(kind_pairs.reshape(-1)):
            kind_of[int(row)].append(kind)
    rows = np.flatnonzero(member)
    return pd.DataFrame({"video_id": ids[rows].to_numpy(), "group": first_id[rows].to_numpy(), "kinds": [tuple(kind_of[int(r)]) for r in rows]})


def keepers(groups: pd.DataFrame, facts: pd.DataFrame, keep: str = "most_plays", rejected: pd.Series | None = None) -> pd.Series:
    """The kept video's id per group: one that passes the other rules first, then by ``keep``, then lowest id.

    ``facts`` is indexed by video id with ``plays`` and ``create_time``; ``rejected``
    (indexed by video id) marks videos other rules already reject.
    """
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}, not {keep!r}")
    table = groups[["video_id", "group"]].copy()
    table["rejected"] = table["video_id"].map(rejected).fillna(False).astype(bool) if rejected is not None else False
    table["plays"] = -pd.to_numeric(table["video_id"].map(facts["plays"]), errors="coerce").fillna(-1)
    table["time"] = pd.to_datetime(table["video_id"].map(facts["create_time"]), utc=True)
    stripped = table["video_id"].str.lstrip("0")
    table["length"], table["id"] = stripped.str.len(), stripped
    order = {"most_plays": ["plays"], "earliest": ["time"], "lowest_id": []}[keep]
    ranked = table.sort_values(["rejected", *order, "length", "id"], kind="stable", na_position="last")
    return ranked.groupby("group", sort=False)["video_id"].first()


def fingerprint_file(path: str) -> dict[str, object]:
    """``{frame_hashes}`` of one file, or ``{error}`` when it cannot be read (module-level: it pickles to workers)."""
    try:
        return {"frame_hashes": frame_hashes(path), "error": None}
    except (ValueError, OSError) as exc:  # PyAV's InvalidDataError is a ValueError, a missing file an OSError
        return {"frame_hashes": None, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
