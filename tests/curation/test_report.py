"""The dataset report: seed 001's table against numpy, figures and page written, catalog and snapshot, both dialects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from curation.report import FIGURES, INDEX, ReportData, metric_table, normalise, rejection_counts, write_report
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import CrawlItem, CrawlRun
from tests.curation.catalog import add_videos

PNG = b"\x89PNG\r\n\x1a\n"


def by_hand(values: np.ndarray) -> list[float]:
    """N, mean, std (n-1), P25, P50, P75 (linear) and max, without pandas."""
    v = values[~np.isnan(values)]
    return [v.size, v.mean(), v.std(ddof=1), *np.percentile(v, [25, 50, 75]), v.max()]


def test_the_metric_table_matches_a_computation_by_hand():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({m: rng.lognormal(8, 2, 500).round() for m in ("comments", "likes", "plays", "shares", "followers")})
    frame.loc[::7, "likes"] = np.nan
    table = metric_table(frame)
    assert list(table.columns) == ["N", "Mean", "Std", "P25", "P50", "P75", "Max"]
    assert list(table.index) == ["comments", "likes", "plays", "shares", "followers"]
    for metric in table.index:
        assert table.loc[metric].tolist() == pytest.approx(by_hand(frame[metric].to_numpy()), rel=1e-12)
    assert table.loc["likes", "N"] == 500 - len(range(0, 500, 7))


def test_probe_facts_win_over_the_payload_and_rotation_turns_the_picture():
    frame = pd.DataFrame({
        "duration_s": [10.0, 20.0], "width": [1080, 720], "height": [1920, 1280],
        "probe": [{"duration_s": 9.5, "fps": 30.0, "width": 1920, "height": 1080, "rotation": -90}, None],
    })  # fmt: skip
    table = normalise(frame)
    assert table["duration_s"].tolist() == [9.5, 20.0]
    assert table[["width", "height"]].to_numpy().tolist() == [[1080, 1920], [720, 1280]]
    assert table["fps"].isna().tolist() == [False, True]


def test_rejections_fold_duplicates_into_one_reason():
    frame = pd.DataFrame({"verdict_reasons": [["low_fps", "duplicate_of:1"], ["duplicate_of:2"], [], None]})
    assert rejection_counts(frame).to_dict() == {"duplicate": 2, "low_fps": 1}


def test_an_empty_table_still_draws_every_figure_and_a_rerun_replaces_the_report(tmp_path):
    empty = pd.DataFrame(columns=["video_id", "plays", "likes", "comments", "shares", "followers", "duration_s", "width", "height", "provenance", "verdict"])
    out = tmp_path / "reports" / "empty"
    for _ in range(2):
        report = write_report(ReportData("Empty", "test", empty), out)
    assert sorted(p.name for p in out.iterdir()) == sorted([INDEX, *(f"{f}.png" for f in FIGURES)])
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["empty"]  # no temporary folder left behind
    assert all(p.read_bytes().startswith(PNG) for p in report.figures)


@pytest.fixture
def reported(cli, corpus):
    """A catalog of 60 videos with metrics, media for some, probed, filtered, 40 crawled; then `curate report --json`."""
    engine = create_catalog_engine(cli.db_url)
    upgrade(engine)
    names = ["clip.mp4", "fps_1.mp4", "clip.mkv", "html.mp4", None]
    add_videos(engine, cli.home, {str(100 + i): corpus[names[i % 5]] if names[i % 5] else None for i in range(60)})
    with engine.begin() as conn:
        conn.execute(sa.insert(CrawlRun.__table__), [{"id": 1}])
        conn.execute(sa.insert(CrawlItem.__table__), [{"run_id": 1, "video_id": str(100 + i), "seq": i, "depth": i // 10} for i in range(40)])
    cli("probe", "--workers", "1")
    cli("filter")
    yield engine, json.loads(cli("report", "--json").stdout)
    engine.dispose()


def test_the_catalog_report_draws_every_figure_and_seed_001s_table(reported, cli):
    engine, result = reported
    page = (cli.home / "reports" / "catalog" / INDEX).read_text()
    assert result["html"] == str(cli.home / "reports" / "catalog" / INDEX) and result["videos"] == 60
    assert [p.rsplit("/", 1)[1] for p in result["figures"]] == [f"{f}.png" for f in FIGURES]
    for name in FIGURES:
        png = cli.home / "reports" / "catalog" / f"{name}.png"
        assert png.read_bytes().startswith(PNG) and png.stat().st_size > 10_000
        assert f'src="{name}.png"' in page
    with engine.connect() as conn:
        counts = pd.DataFrame(conn.execute(sa.text("SELECT plays, likes, comments, shares, author_followers FROM metric_observation")).all())
    assert result["metrics"]["plays"]["N"] == 60
    for metric, column in (("plays", "plays"), ("likes", "likes"), ("comments", "comments"), ("followers", "author_followers")):
        got = [result["metrics"][metric][k] for k in ("N", "Mean", "Std", "P25", "P50", "P75", "Max")]
        assert got == pytest.approx(by_hand(counts[column].astype(float).to_numpy()), rel=1e-9)
    assert "Seed 001, as published" in page and "803,750" in page
    assert "rejected: 58, kept: 2" in page  # one copy each of clip.mp4 and clip.mkv survives the duplicate rule


def test_a_snapshot_report_uses_the_snapshot_rows_and_its_threshold(sqlite_cli, corpus):
    engine = create_catalog_engine(sqlite_cli.db_url)
    upgrade(engine)
    add_videos(engine, sqlite_cli.home, {str(10 + i): corpus["clip.mp4"] if i % 2 else None for i in range(30)})
    sqlite_cli("probe", "--workers", "1")
    sqlite_cli("filter", "--rules", _no_duplicates(sqlite_cli.home))
    sqlite_cli("snapshot", "create", "tiny", "--fit-on", "all")
    result = json.loads(sqlite_cli("report", "tiny", "--json").stdout)
    folder = sqlite_cli.home / "snapshots" / "tiny" / "v1"
    rows = pq.read_table(folder / "videos.parquet").to_pandas()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert result["html"].endswith("reports/tiny@v1/index.html") and result["videos"] == len(rows) == 15
    got = [result["metrics"]["likes"][k] for k in ("N", "Mean", "Std", "P25", "P50", "P75", "Max")]
    assert got == pytest.approx(by_hand(rows["likes"].astype(float).to_numpy()), rel=1e-9)
    page = open(result["html"]).read()
    assert "Snapshot tiny@v1" in page and manifest["fingerprint"][:16] in page
    assert manifest["labels"]["params"]["er"]["threshold"] > 0
    engine.dispose()


def _no_duplicates(home):
    rules = home / "rules.toml"
    rules.write_text("drop_duplicates = false\n")
    return rules
