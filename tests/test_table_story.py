"""The new user's story: a student project's table (1,000 videos, 199 creators) imported and snapshotted as they would try it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from db.engine import create_catalog_engine
from db.models import Author, Video

COLUMNS = ["video_id", "author", "followers", "following", "likes", "comments", "shares", "duration", "category", "date"]
CATEGORIES = ["comedy", "dance", "food", "sports", "beauty", "pets"]


def student_table(path: Path, videos: int = 1000, creators: int = 199, seed: int = 11) -> pd.DataFrame:
    """A table shaped like the student project's: author ids such as user_00001, dates without times, no play counts."""
    rng = np.random.default_rng(seed)
    # every creator has at least one video; the rest are spread unevenly, as on the platform
    owners = np.concatenate([np.arange(creators), rng.integers(0, creators, videos - creators) ** 2 % creators])
    rng.shuffle(owners)
    followers = rng.lognormal(9, 1.5, creators).astype(int) + 100
    frame = pd.DataFrame({
        "video_id": [str(7100000000000000000 + i * 7919) for i in range(videos)],
        "author": [f"user_{o + 1:05d}" for o in owners],
        "followers": followers[owners],
        "following": rng.integers(50, 2000, creators)[owners],
        "likes": (followers[owners] * rng.uniform(0.01, 0.1, videos)).astype(int),
        "comments": rng.integers(0, 500, videos),
        "shares": rng.integers(0, 200, videos),
        "duration": rng.integers(5, 180, videos),
        "category": [CATEGORIES[i % len(CATEGORIES)] for i in rng.integers(0, 100, videos)],
        "date": [d.strftime("%Y-%m-%d") for d in pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, videos), "D")],
    })
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return frame


def test_a_student_table_imports_and_snapshots_with_author_grouping_intact(cli, tmp_path):
    table = student_table(tmp_path / "tiktok_videos.csv")
    imported = json.loads(cli("import", tmp_path / "tiktok_videos.csv", "--json").stdout)
    assert imported["new"] == 1000 and imported["observations"] == 1000 and imported["authors"] == 199
    assert imported["skipped"] == {} and imported["dropped"] == {} and imported["unused_columns"] == {"tiktok_videos.csv": []}

    synth = json.loads(cli("synth", "--json").stdout)
    assert synth["videos_simulated"] == 0, "every video has observed counts"
    assert synth["author_creation_dates"] == 199 and synth["author_creation_dates_bounded_by_first_video"] == 199
    assert synth["could_not_use"] == {"observed_account_created_after_a_video": 0, "videos_without_author": 0}
    engine = create_catalog_engine(cli.db_url)
    try:
        with engine.connect() as conn:
            first = sa.select(Video.author_id, sa.func.min(Video.create_time).label("first")).group_by(Video.author_id).subquery()
            rows = conn.execute(sa.select(Author.id, Author.account_created_at, first.c.first).join(first, first.c.author_id == Author.id)).all()
    finally:
        engine.dispose()
    assert len(rows) == 199 and {r.id for r in rows} == set(table["author"])
    late = [r.id for r in rows if r.account_created_at > r.first]
    assert late == [], f"simulated account creation after the author's first video for {len(late)} authors"

    snap = json.loads(cli("snapshot", "create", "students", "--json").stdout)
    assert snap["rows"] == 1000 and snap["rows_without_author"] == 0
    assert set(snap["labels_left_out"]) == {"virality_weighted", "viral_all_median", "virality_corr"}
    assert all("plays" in why for why in snap["labels_left_out"].values())
    assert snap["er_threshold"] is not None and 0 < snap["positive_rate"]["viral_er"] < 1

    frame = pq.read_table(tmp_path / "home" / "snapshots" / "students" / "v1" / "videos.parquet").to_pandas()
    assert frame["author_key"].notna().all() and frame["author_key"].nunique() == 199
    sides = frame.groupby("author_key")["split"].nunique()
    assert (sides == 1).all(), "an author spans two splits"
    assert set(frame["split"]) == {"train", "val", "test"}
    manifest = json.loads((tmp_path / "home" / "snapshots" / "students" / "v1" / "manifest.json").read_text())
    assert set(manifest["labels"]["skipped"]) == {"virality_weighted", "viral_all_median", "virality_corr"}
    assert manifest["split"]["rows_without_author"] == 0 and manifest["split"]["groups"] == 199
    refused = cli("train", "students@v1", "--target", "virality_weighted", ok=False)
    assert refused.exit_code != 0 and "the label was left out" in refused.stderr and "Traceback" not in refused.stderr


def test_the_student_table_read_as_a_feed_is_a_one_line_error(sqlite_cli, tmp_path):
    student_table(tmp_path / "t.csv", videos=30, creators=10)
    result = sqlite_cli("import", tmp_path / "t.csv", "--format", "feed", ok=False)
    assert result.exit_code != 0
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "read no record" in message and "itemList" in message
    assert "Traceback" not in result.output + result.stderr


def test_a_table_without_any_count_is_refused_before_anything_is_written(sqlite_cli, tmp_path):
    path = tmp_path / "no_counts.csv"
    path.write_text("video_id,author,caption\n" + "".join(f"{7000 + i},user_{i},hello\n" for i in range(5)))
    result = sqlite_cli("import", path, ok=False)
    assert result.exit_code == 1
    assert "none of its 5 records has a count" in result.stderr and "--map likes=COLUMN" in result.stderr
    assert json.loads(sqlite_cli("status", "--json").stdout)["videos"] == 0


def test_a_count_that_turns_up_late_is_found_and_the_file_read_again_from_the_start(sqlite_cli, tmp_path, monkeypatch):
    import curate.commands.importing as importing

    monkeypatch.setattr(importing, "HOLD_RECORDS", 5)
    lines = ["video_id,author,likes"] + [f"{7000 + i},user_{i % 3}," for i in range(8)] + ["bad,user_1,", "7100,user_1,12"]
    (tmp_path / "late.csv").write_text("\n".join(lines) + "\n")
    out = json.loads(sqlite_cli("import", tmp_path / "late.csv", "--json").stdout)
    assert out["new"] == 9 and out["observations"] == 1 and out["skipped"] == {"bad_id": 1}, "a second pass must not count twice"
