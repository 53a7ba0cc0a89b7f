"""Snapshot create and verify for 100,000 videos in a SQLite catalog, beside named alternatives.

- the latest-observation query (one window-function SELECT) against pandas ``read_sql`` of the
  whole tables with the latest observation picked in pandas (sort + drop_duplicates, merges);
- ``curate snapshot create`` end to end (target ≤ 15 s);
- ``curate snapshot verify`` against a plain full-file sha256 with hashlib (target ≤ 3 s).

Run:  .venv/bin/python -m bench snapshot
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from curate.snapshotting import SnapshotOptions, create_snapshot
from db.dataset import load_video_frame
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import Author, MetricObservation, Video
from db.snapshots import verify_snapshot

N_VIDEOS, N_AUTHORS, RECHECKED = 100_000, 20_000, 30_000
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def fill(engine: sa.Engine) -> None:
    """Authors, videos (with probe facts and verdicts) and 130,000 observations, inserted in bulk."""
    rng = np.random.default_rng(0)
    authors = [{"id": str(6_000_000 + a), "handle": f"creator{a}", "followers": int(rng.integers(100, 10**6)),
                "following": 100, "stats_provenance": "observed", "first_seen_at": T0, "updated_at": T0}
               for a in range(N_AUTHORS)]
    verdicts = rng.choice(["kept", "kept", "kept", None, "rejected"], N_VIDEOS)
    videos = [{"id": str(7_000_000_000 + v), "author_id": str(6_000_000 + v % N_AUTHORS),
               "caption": f"video {v} with @someone{v % 97} #fyp #tag{v % 13}", "hashtags": ["fyp", f"tag{v % 13}"],
               "create_time": T0 - timedelta(days=int(v % 700)), "duration_s": 5.0 + v % 55, "width": 576, "height": 1024,
               "music_id": str(v % 500), "music_title": f"song {v % 500}", "music_original": bool(v % 2),
               "media_path": f"media/{7_000_000_000 + v}.mp4", "media_sha256": f"{v:064x}",
               "probe": {"fps": 30.0, "frames": 300 + v % 900, "has_audio": True}, "verdict": verdicts[v],
               "first_seen_at": T0, "updated_at": T0}
              for v in range(N_VIDEOS)]
    likes = rng.lognormal(9, 2, N_VIDEOS + RECHECKED).astype(np.int64)
    observations = [{"video_id": str(7_000_000_000 + (v % N_VIDEOS)), "observed_at": T0 + timedelta(days=v // N_VIDEOS),
                     "plays": int(likes[v] * 10), "likes": int(likes[v]), "comments": int(likes[v] // 10),
                     "shares": int(likes[v] // 20), "saves": 0, "author_followers": None, "provenance": "observed",
                     "fingerprint": f"{v:040x}"}
                    for v in range(N_VIDEOS + RECHECKED)]
    with engine.begin() as conn:
        for table, rows in ((Author, authors), (Video, videos), (MetricObservation, observations)):
            for start in range(0, len(rows), 20_000):
                conn.execute(sa.insert(table.__table__), rows[start:start + 20_000])


def pandas_latest(engine: sa.Engine) -> pd.DataFrame:
    """The alternative: whole tables into pandas, the latest observation chosen there."""
    with engine.connect() as conn:
        videos = pd.read_sql_table("video", conn)
        authors = pd.read_sql_table("author", conn)
        obs = pd.read_sql_table("metric_observation", conn)
    obs["observed_first"] = obs["provenance"] != "observed"
    latest = obs.sort_values(["video_id", "observed_first", "observed_at", "id"], ascending=[True, True, False, False])
    latest = latest.drop_duplicates("video_id")
    frame = videos.merge(authors.add_prefix("author_"), left_on="author_id", right_on="author_id", how="left")
    return frame.merge(latest, left_on="id", right_on="video_id", how="left", suffixes=("", "_obs"))


def timed(fn, *args, repeat: int = 2):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def full_file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="snapshot-bench-") as tmp:
        home = Path(tmp)
        engine = create_catalog_engine(f"sqlite:///{home / 'catalog.db'}")
        upgrade(engine)
        start = time.perf_counter()
        fill(engine)
        print(f"\ncatalog: {N_VIDEOS:,} videos, {N_AUTHORS:,} authors, {N_VIDEOS + RECHECKED:,} observations "
              f"(inserted in {time.perf_counter() - start:.1f} s, not measured below)\n")
        ours_s, ours = timed(load_video_frame, engine)
        theirs_s, theirs = timed(pandas_latest, engine)
        same = ours.set_index("video_id")["likes"].astype("float64").equals(theirs.set_index("id")["likes"].astype("float64"))
        create_s, snap = timed(lambda: create_snapshot(engine, home, SnapshotOptions(name="bench")), repeat=1)
        verify_s, report = timed(verify_snapshot, snap, engine, repeat=3)
        hash_s, _ = timed(full_file_sha256, snap.table_path, repeat=3)
        size = snap.table_path.stat().st_size / 1e6
        print("| step | ours (s) | alternative | alternative (s) | ratio | target |")
        print("|---|---|---|---|---|---|")
        print(f"| latest observation per video, {N_VIDEOS:,} videos | {ours_s:.2f} | pandas read_sql of the 3 tables + "
              f"sort/drop_duplicates/merge (same values: {same}) | {theirs_s:.2f} | {theirs_s / ours_s:.1f}× faster | — |")
        print(f"| snapshot create (load, split, label, write {size:.1f} MB, register) | {create_s:.2f} | — | — | — | "
              f"≤ 15 s: {'met' if create_s <= 15 else 'MISSED'} |")
        print(f"| snapshot verify ({'ok' if report.ok else 'FAILED'}) | {verify_s:.3f} | plain hashlib sha256 of the "
              f"whole file | {hash_s:.3f} | {verify_s / hash_s:.2f}× its time | ≤ 3 s: {'met' if verify_s <= 3 else 'MISSED'} |")
        counts = snap.manifest["counts"]
        print(f"\nrows {counts['rows']:,} (splits {counts['splits']}), excluded {counts['excluded']}")
        engine.dispose()


if __name__ == "__main__":
    main()
