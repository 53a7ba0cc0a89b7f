"""db.media on SQLite and Postgres: what needs probing, storing facts and verdicts, the rules, crawl depths."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from curation.probe import MISSING_FILE, probe_file
from curation.rules import Rules
from curation.verdicts import evaluate
from db.media import MISSING_REASON, load_crawl_depths, load_curation_frame, pending_probes, rules_by_hash, store_probes, store_verdicts
from db.models import CrawlItem, CrawlRun
from tests.curation.catalog import add_videos, column, set_sha


def _store(engine, home, media_files):
    rows = [{"video_id": m.video_id, "media_sha256": m.media_sha256, "probe": probe_file(home / m.media_path).facts()} for m in media_files]
    return store_probes(engine, rows)


def test_only_new_or_changed_media_need_probing(engine, corpus, tmp_path):
    add_videos(engine, tmp_path, {"1": corpus["clip.mp4"], "2": corpus["clip.mkv"], "3": None})
    pending = pending_probes(engine)
    assert [m.video_id for m in pending] == ["1", "2"] and pending[0].media_path == "media/1.mp4"
    assert _store(engine, tmp_path, pending) == 2
    assert pending_probes(engine) == []
    set_sha(engine, "2", "f" * 64)
    assert [m.video_id for m in pending_probes(engine)] == ["2"]
    assert [m.video_id for m in pending_probes(engine, everything=True)] == ["1", "2"]


def test_a_file_missing_when_probed_is_probed_again(engine, corpus, tmp_path):
    add_videos(engine, tmp_path, {"1": corpus["clip.mp4"], "2": corpus["clip.mkv"]})
    (tmp_path / "media" / "1.mp4").rename(tmp_path / "away.mp4")
    _store(engine, tmp_path, pending_probes(engine))
    assert column(engine, "probe")["1"]["reason"] == MISSING_FILE == MISSING_REASON
    assert [m.video_id for m in pending_probes(engine)] == ["1"]
    (tmp_path / "away.mp4").rename(tmp_path / "media" / "1.mp4")
    _store(engine, tmp_path, pending_probes(engine))
    assert pending_probes(engine) == [] and column(engine, "probe")["1"]["frames"] == 120


def test_facts_are_not_attached_to_bytes_that_changed_after_listing(engine, corpus, tmp_path):
    add_videos(engine, tmp_path, {"1": corpus["clip.mp4"], "2": corpus["clip.mkv"]})
    pending = pending_probes(engine)
    set_sha(engine, "1", "0" * 64)  # re-downloaded while the probe ran
    assert _store(engine, tmp_path, pending) == 1
    assert column(engine, "probe")["1"] is None
    assert column(engine, "probe")["2"]["frames"] == 120


def test_the_curation_frame_reads_typed_facts_and_knows_stale_ones(engine, corpus, tmp_path):
    add_videos(engine, tmp_path, {"1": corpus["clip.mp4"], "2": corpus["html.mp4"], "3": corpus["fps_1.mp4"], "4": None})
    _store(engine, tmp_path, pending_probes(engine))
    set_sha(engine, "3", "0" * 64)
    frame = load_curation_frame(engine).set_index("video_id")
    assert frame.loc["1", ["frames", "fps", "width", "readable", "truncated", "codec"]].tolist() == [120, 30.0, 320, True, False, "h264"]
    assert frame.loc["2", "readable"] == False and frame.loc["2", "reason"] == "not a media file: html page"  # noqa: E712
    assert frame["probed"].tolist() == [True, True, False, False]
    assert frame["has_media"].tolist() == [True, True, True, False]
    assert pd.isna(frame.loc["4", "frames"])


def test_verdicts_are_stored_with_the_rules_and_replaced_on_a_rerun(engine, corpus, tmp_path):
    add_videos(engine, tmp_path, {"1": corpus["clip.mp4"], "2": corpus["fps_1.mp4"], "3": None})
    _store(engine, tmp_path, pending_probes(engine))
    for rules in (Rules(), Rules(min_frames=0, min_fps=0, min_duration_s=0, min_short_side=0, require_media=False)):
        verdicts = evaluate(load_curation_frame(engine), rules)
        assert store_verdicts(engine, verdicts, rules.hash(), rules.to_dict()) == 3
    assert column(engine, "verdict") == {"1": "kept", "2": "kept", "3": "kept"}
    assert column(engine, "verdict_reasons") == {"1": [], "2": [], "3": []}
    assert set(column(engine, "rules_hash").values()) == {rules.hash()}
    assert all(column(engine, "filtered_at").values())
    stored = rules_by_hash(engine, [rules.hash(), Rules().hash(), "unknown"])
    assert stored == {rules.hash(): rules.to_dict(), Rules().hash(): Rules().to_dict()}


def test_crawl_depth_is_the_smallest_over_all_crawls(engine, tmp_path):
    add_videos(engine, tmp_path, {"1": None, "2": None})
    with engine.begin() as conn:
        conn.execute(sa.insert(CrawlRun.__table__), [{"id": 1}, {"id": 2}])
        conn.execute(sa.insert(CrawlItem.__table__), [
            {"run_id": 1, "video_id": "1", "seq": 0, "depth": 0}, {"run_id": 1, "video_id": "2", "seq": 1, "depth": 2},
            {"run_id": 2, "video_id": "2", "seq": 0, "depth": 1},
        ])  # fmt: skip
    depths = load_crawl_depths(engine).sort_values("video_id")
    assert depths.to_dict("list") == {"video_id": ["1", "2"], "depth": [0, 1]}
