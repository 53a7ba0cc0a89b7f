"""`curate probe` and `curate filter` end to end, on SQLite and on Postgres."""

from __future__ import annotations

import json

import pytest

from db.engine import create_catalog_engine
from db.migrate import upgrade
from tests.curation.catalog import add_videos, column, set_sha

MEDIA = {
    "1": "clip.mp4", "2": "fps_1.mp4", "3": "cut_faststart.mp4", "4": "html.mp4",
    "5": "clip.mp4", "6": None, "7": "clip.mkv", "8": "fps_24.mp4",
}  # fmt: skip


@pytest.fixture
def catalog(cli, corpus):
    """The CLI's catalog holding eight videos: good, 1 fps, cut, HTML, a duplicate, no media, mkv, too short."""
    engine = create_catalog_engine(cli.db_url)
    upgrade(engine)
    add_videos(engine, cli.home, {vid: corpus[name] if name else None for vid, name in MEDIA.items()})
    yield engine
    engine.dispose()


def test_probe_then_filter_stores_facts_and_verdicts_with_reasons(cli, catalog, tmp_path):
    counts = json.loads(cli("probe", "--workers", "2", "--json").stdout)
    assert counts == {"to_probe": 7, "readable": 6, "unreadable": 1, "truncated": 1, "stored": 7, "changed_meanwhile": 0, "elsewhere": 0, "probed_by_others": 0}
    assert column(catalog, "probe")["2"]["fps"] == 1.0
    assert json.loads(cli("probe", "--json").stdout)["to_probe"] == 0  # nothing new

    result = json.loads(cli("filter", "--json").stdout)
    assert (result["videos"], result["kept"], result["rejected"], result["changed"]) == (8, 2, 6, 8)
    assert result["reasons"] == {"too_few_frames": 3, "too_short": 1, "low_fps": 1, "truncated": 1, "unreadable": 1, "duplicate": 1, "no_media": 1}
    reasons = column(catalog, "verdict_reasons")
    assert reasons["1"] == [] and reasons["7"] == []
    assert reasons["2"] == ["too_few_frames", "low_fps"]
    assert reasons["3"] == ["truncated", "too_few_frames"]  # a cut file still claims its whole duration
    assert (reasons["4"], reasons["5"], reasons["6"]) == (["unreadable"], ["duplicate_of:1"], ["no_media"])
    assert reasons["8"] == ["too_few_frames", "too_short"]

    again = json.loads(cli("filter", "--json").stdout)
    assert again["changed"] == 0 and again["reasons"] == result["reasons"]


def test_new_rules_update_the_verdicts_and_a_dry_run_writes_nothing(cli, catalog, tmp_path):
    cli("probe", "--workers", "1")
    cli("filter")
    before = column(catalog, "verdict_reasons"), column(catalog, "rules_hash")
    rules = tmp_path / "rules.toml"
    rules.write_text("min_frames = 40\nmin_duration_s = 1.5\nmin_short_side = 200\n")
    dry = json.loads(cli("filter", "--rules", rules, "--dry-run", "--json").stdout)
    assert dry["dry_run"] and dry["kept"] == 3 and dry["changed"] == 8
    assert (column(catalog, "verdict_reasons"), column(catalog, "rules_hash")) == before

    cli("filter", "--rules", rules)
    assert column(catalog, "verdict")["8"] == "kept"
    assert column(catalog, "verdict_reasons")["3"] == ["truncated"]
    assert set(column(catalog, "rules_hash").values()) == {dry["rules_hash"]} != {before[1]["1"]}


def test_a_changed_file_is_probed_again_and_judged_not_probed_meanwhile(cli, catalog):
    cli("probe", "--workers", "1")
    set_sha(catalog, "7", "e" * 64)
    assert json.loads(cli("filter", "--json").stdout)["reasons"]["not_probed"] == 1
    assert json.loads(cli("probe", "--workers", "1", "--json").stdout)["to_probe"] == 1
    assert "not_probed" not in json.loads(cli("filter", "--json").stdout)["reasons"]


def test_probe_files_prints_one_object_per_file_and_leaves_the_catalog_alone(sqlite_cli, corpus):
    out = sqlite_cli("probe", corpus["clip.webm"], corpus["random.mp4"], sqlite_cli.home / "missing.mp4", "--json").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["readable"] for r in rows] == [True, False, False]
    assert list(rows[0])[:12] == ["path", "readable", "reason", "container", "codec", "width", "height", "fps", "duration_s", "frames", "has_audio", "truncated"]
    assert (rows[0]["codec"], rows[0]["frames"], rows[2]["reason"]) == ("vp8", 120, "missing file")
    assert json.loads(sqlite_cli("status", "--json").stdout)["media_files"] == 0
    text = sqlite_cli("probe", corpus["clip.webm"]).stdout
    assert "vp8 320x240 30.00 fps" in text


def test_a_bad_rules_file_is_a_one_line_error(sqlite_cli, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("min_fps = 'fast'\n")
    result = sqlite_cli("filter", "--rules", rules, ok=False)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error:") and "min_fps must be a number" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_config_file_gives_the_default_rules(sqlite_cli, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("min_frames = 7\n")
    sqlite_cli.home.mkdir(parents=True, exist_ok=True)
    (sqlite_cli.home / "config.toml").write_text(f'[filter]\nrules = "{rules}"\n')
    from curation.rules import Rules

    assert json.loads(sqlite_cli("filter", "--json").stdout)["rules_hash"] == Rules(min_frames=7).hash()


def test_probe_given_a_folder_prints_the_files_then_names_the_folder_in_one_line(sqlite_cli, corpus, tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    result = sqlite_cli("probe", folder, corpus["clip.webm"], ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output + result.stderr
    assert "clip.webm: ok" in result.stdout and "vp8 320x240" in result.stdout
    assert result.stderr.strip() == f"error: {folder}: is a folder, not a media file; give the files in it, e.g. curate probe {folder}/*.mp4"
    alone = sqlite_cli("probe", folder, ok=False)
    assert alone.exit_code == 1 and alone.stdout == "" and len(alone.stderr.strip().splitlines()) == 1
