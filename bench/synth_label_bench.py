"""Simulate and label 1,000,000 videos; compare with the same formulas written row by row in plain Python.

The per-row versions reproduce the vectorised values exactly (same counter-based
uniforms, same inverse CDFs) and are checked against them on their 10,000 rows,
so the ratio compares equal work. Targets: ≤ 2 s each for 1,000,000 rows.

Run:  .venv/bin/python -m bench synth_label
"""

from __future__ import annotations

import math
import statistics
import time
from statistics import NormalDist

import numpy as np
import pandas as pd

import labeling
import synth
from synth.simulator import S_COMMENT_RATIO, S_ER, S_LIKE_RATE, S_SAVE_RATIO, S_SHARE_RATIO

N, N_PY = 1_000_000, 10_000
SEED = 7
MASK = (1 << 64) - 1
_NORMAL = NormalDist()


def inputs(n: int, preset: synth.Preset) -> pd.DataFrame:
    """n videos of n/10 simulated authors."""
    authors = synth.simulate_authors([str(6_000_000 + i) for i in range(n // 10)], preset, SEED)
    videos = pd.DataFrame({"video_id": [str(7_000_000_000_000_000_000 + i) for i in range(n)],
                           "author_id": [str(6_000_000 + i % (n // 10)) for i in range(n)]})
    return videos.merge(authors, on="author_id", how="left")


# --- the per-row Python implementation of the same formulas -------------------------------------------
def _mix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _key(video_id: str) -> int:
    h = 0
    for byte in video_id.encode():
        h = (h * 0x100000001B3 + byte + 1) & MASK
    return _mix(h ^ _mix(len(video_id.encode())))


def _uniform(key: int, stream: int) -> float:
    salt = _mix(_mix(SEED) ^ stream)
    return (_mix(key ^ salt) >> 11) * 2.0**-53 + 2.0**-54


def _marginal(m: synth.Marginal, z: float) -> float:
    def cdf(x: float) -> float:
        t = math.log(x / m.median)
        return _NORMAL.cdf(t / (m.sigma_low if t < 0 else m.sigma_high))
    lo, hi = cdf(m.low) if m.low else 0.0, cdf(m.high) if m.high else 1.0
    zz = _NORMAL.inv_cdf(min(max(lo + _NORMAL.cdf(z) * (hi - lo), 1e-12), 1 - 1e-12))
    return min(max(m.median * math.exp(zz * (m.sigma_low if zz < 0 else m.sigma_high)), m.low or 0.0), m.high or math.inf)


def simulate_row(video_id: str, followers: float, model: synth.RatioEngagement) -> tuple[int, ...]:
    """Seed 000's ratio model for one video, in plain Python."""
    key = _key(video_id)
    er = _marginal(model.engagement_rate_pct, _NORMAL.inv_cdf(_uniform(key, S_ER)))
    c = model.comment_ratio.low + _uniform(key, S_COMMENT_RATIO) * (model.comment_ratio.high - model.comment_ratio.low)
    s = model.share_ratio.low + _uniform(key, S_SHARE_RATIO) * (model.share_ratio.high - model.share_ratio.low)
    likes = followers * er / 100 / (1 + c + s)
    plays = max(likes / _marginal(model.like_rate, _NORMAL.inv_cdf(_uniform(key, S_LIKE_RATE))), likes)
    saves = likes * (model.save_ratio.low + _uniform(key, S_SAVE_RATIO) * (model.save_ratio.high - model.save_ratio.low))
    return tuple(round(v) for v in (plays, likes, likes * c, likes * s, saves))


def label_rows(rows: list[dict], q: float = 75.0) -> list[tuple]:
    """All five labels for a list of dicts, fitted on the same rows, in plain Python."""
    er = [(r["likes"] + r["comments"] + r["shares"]) / r["followers"] * 100 if r["followers"] else None for r in rows]
    defined = sorted(e for e in er if e is not None)
    rank = (len(defined) - 1) * q / 100
    threshold = defined[int(rank)] + (defined[min(int(rank) + 1, len(defined) - 1)] - defined[int(rank)]) * (rank % 1)
    weights = {"comments": 0.1, "likes": 0.4, "plays": 0.3, "shares": 0.2}
    logs = {m: [math.log1p(r[m]) for r in rows] for m in weights}
    center = {m: statistics.median(v) for m, v in logs.items()}
    scale = {}
    for m, v in logs.items():
        q1, _, q3 = statistics.quantiles(v, n=4, method="inclusive")
        scale[m] = (q3 - q1) or 1.0
    raw = [sum(w * (logs[m][i] - center[m]) / scale[m] for m, w in weights.items()) for i in range(len(rows))]
    lo, hi = min(raw), max(raw)
    medians = {m: statistics.median(r[m] for r in rows) for m in ("likes", "plays", "comments", "shares")}
    plays = [r["plays"] for r in rows]
    rho = {m: statistics.correlation(plays, [r[m] for r in rows]) for m in ("likes", "comments", "shares")}
    return [(er[i], er[i] is not None and er[i] >= threshold, (raw[i] - lo) / (hi - lo),
             all(r[m] > medians[m] for m in medians), r["plays"] + sum((1 - rho[m]) * r[m] for m in rho))
            for i, r in enumerate(rows)]


# --- measuring ---------------------------------------------------------------------------------------
def timed(fn, *args, repeat: int = 3):
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    preset = synth.get_preset("seed-000")
    big, small = inputs(N, preset), inputs(N_PY, preset)
    rows = []
    for name in synth.PRESETS:
        seconds, out = timed(synth.simulate_videos, big, synth.get_preset(name), SEED)
        rows.append((f"simulate ({name})", N, seconds))
    sim_small = synth.simulate_videos(small, preset, SEED)
    py_seconds, py_values = timed(lambda: [simulate_row(v, f, preset.engagement) for v, f in zip(small["video_id"], small["followers"], strict=True)], repeat=1)
    got = sim_small[["plays", "likes", "comments", "shares", "saves"]].to_numpy()
    assert np.abs(got - np.array(py_values)).max() <= 1, "per-row and vectorised simulators disagree"
    out = synth.simulate_videos(big, preset, SEED)
    label_s, _ = timed(lambda: labeling.apply_labels(out, labeling.fit_labels(out, fit_on="all")))
    records = sim_small.to_dict("records")
    py_label_s, py_labels = timed(label_rows, records, repeat=1)
    ours = labeling.apply_labels(sim_small, labeling.fit_labels(sim_small, fit_on="all"))
    assert np.allclose(ours["virality_corr"], [r[4] for r in py_labels]) and (ours["viral_er"].to_numpy() == [r[1] for r in py_labels]).all()
    print(f"\n{N:,} videos vectorised vs the same formulas per row in plain Python on {N_PY:,} (values checked equal)\n")
    print("| task | rows | seconds | rows/s | per-row Python rows/s | ratio | target ≤ 2 s |")
    print("|---|---|---|---|---|---|---|")
    for task, n, seconds in rows:
        base = N_PY / py_seconds
        print(f"| {task} | {n:,} | {seconds:.2f} | {n / seconds:,.0f} | {base:,.0f} | {n / seconds / base:,.0f}× | {'met' if seconds <= 2 else 'MISSED'} |")
    base = N_PY / py_label_s
    print(f"| label (fit all + apply, 5 labels) | {N:,} | {label_s:.2f} | {N / label_s:,.0f} | {base:,.0f} | "
          f"{N / label_s / base:,.0f}× | {'met' if label_s <= 2 else 'MISSED'} |")
    print(f"\nper-row Python: simulate {py_seconds:.2f} s, label {py_label_s:.2f} s for {N_PY:,} rows (viral-vision compared with the seed-000 per-row simulator)")
    vision = synth.get_preset("viral-vision")  # its own authors: the copula conditions on their followers
    print_quartiles(synth.simulate_videos(inputs(N, vision), vision, SEED))


SEED_001 = {"comments": (145, 527, 1_743), "likes": (23_500, 78_600, 258_675),
            "plays": (281_125, 803_750, 2_300_000), "shares": (135, 903, 4_732)}


def print_quartiles(out: pd.DataFrame) -> None:
    """The viral-vision preset's quartiles beside seed 001's table."""
    print(f"\nviral-vision, {len(out):,} videos (seed {SEED}) beside seed 001's metric table\n")
    print("| metric | seed 001 P25 / P50 / P75 | viral-vision P25 / P50 / P75 | difference |")
    print("|---|---|---|---|")
    for metric, table in SEED_001.items():
        ours = np.percentile(out[metric], [25, 50, 75])
        diff = " / ".join(f"{(a / b - 1) * 100:+.1f} %" for a, b in zip(ours, table, strict=True))
        print(f"| {metric} | {' / '.join(f'{v:,}' for v in table)} | {' / '.join(f'{v:,.0f}' for v in ours)} | {diff} |")


if __name__ == "__main__":
    main()
