"""``curate import`` end to end through the CLI, on SQLite and on Postgres."""

from __future__ import annotations

import json

import orjson
import pytest
import sqlalchemy as sa

from db.engine import create_catalog_engine
from db.models import Author, MetricObservation, Video
from scrapers.payloads.samples import SampleFeed


NOTHING_DROPPED = {"dropped": {}, "unused_columns": {}}


def imported(cli, *args: str) -> dict:
    return json.loads(cli("import", *map(str, args), "--json").stdout)


def query(cli, statement):
    engine = create_catalog_engine(cli.db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(statement).all()
    finally:
        engine.dispose()


@pytest.fixture
def feed() -> SampleFeed:
    return SampleFeed(40, seed=5, authors=6)


def test_import_counts_then_reimport_changes_nothing(cli, tmp_path, feed):
    path = feed.write_json_array(tmp_path / "sample.json")
    authors = len(set(feed.author_of.tolist()))
    assert imported(cli, path) == {"new": 40, "updated": 0, "authors": authors, "observations": 40, "skipped": {}, **NOTHING_DROPPED}
    assert imported(cli, path) == {"new": 0, "updated": 0, "authors": 0, "observations": 0, "skipped": {}, **NOTHING_DROPPED}
    status = json.loads(cli("status", "--json").stdout)
    assert (status["videos"], status["authors"], status["observations"]["observed"]) == (40, authors, 40)
    [(source,)] = query(cli, sa.select(MetricObservation.source).distinct())
    assert source == "import:item"


def test_changed_payloads_update_rows_and_add_observations(cli, tmp_path, feed):
    imported(cli, feed.write_json_array(tmp_path / "day1.json"))
    items = list(feed.items())
    for item in items[:5]:
        item["stats"]["playCount"] += 100
        item["statsV2"]["playCount"] = str(item["stats"]["playCount"])
    for item in items[5:8]:
        item["desc"] = "edited caption"
    (tmp_path / "day2.jsonl").write_bytes(b"\n".join(orjson.dumps(i) for i in items) + b"\n")
    # a changed payload changes the row (its raw payload at least); changed counts add an observation
    assert imported(cli, tmp_path / "day2.jsonl") == {"new": 0, "updated": 8, "authors": 0, "observations": 5, "skipped": {}, **NOTHING_DROPPED}
    plays = query(cli, sa.select(MetricObservation.plays).where(MetricObservation.video_id == items[0]["id"]).order_by(MetricObservation.id))
    assert [p for (p,) in plays] == [items[0]["stats"]["playCount"] - 100, items[0]["stats"]["playCount"]]


def test_table_output_names_what_changed(cli, tmp_path, feed):
    out = cli("import", feed.write_json_array(tmp_path / "sample.json")).stdout
    assert "videos new" in out and " 40 " in out and "records skipped" in out


def test_bad_records_are_skipped_counted_and_leave_nothing_behind(cli, tmp_path, feed):
    good = list(feed.items())[:4]
    loner = {**good[0], "id": "7999", "author": {"id": "5555", "uniqueId": "loner"}, "stats": {"playCount": -1}, "statsV2": {}}
    lines = [orjson.dumps(i).decode() for i in good] + [json.dumps(loner), json.dumps({**good[1], "id": "12ab"}), '{"id": "8", "desc": ']
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert imported(cli, path) == {
        "new": 4, "updated": 0, "authors": len({i["author"]["id"] for i in good}), "observations": 4,
        "skipped": {"bad_id": 1, "malformed_json": 1, "negative_count": 1}, **NOTHING_DROPPED,
    }
    assert query(cli, sa.select(Video.id).where(Video.id.in_(["7999", "8"]))) == []
    assert query(cli, sa.select(Author.id).where(Author.id == "5555")) == []
    out = cli("import", path).stdout
    assert "skipped: negative_count" in out


@pytest.mark.parametrize(("name", "content", "says"), [
    ("missing.json", None, "no such file"),
    ("notes.txt", "just some words", "neither JSON nor a video page"),
    ("odd.json", '{"hello": "world"}', "unknown_format"),
    ("empty.json", "", "empty_file"),
])
def test_a_file_that_cannot_be_read_fails_with_one_line_and_imports_nothing(cli, tmp_path, feed, name, content, says):
    good = feed.write_json_array(tmp_path / "good.json")
    bad = tmp_path / name
    if content is not None:
        bad.write_text(content)
    result = cli("import", good, bad, ok=False)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(bad) in lines[0] and says in lines[0]
    assert "Traceback" not in result.output
    assert json.loads(cli("status", "--json").stdout)["videos"] == 0, "files are checked before anything is written"


def test_a_file_cut_short_imports_what_came_before_and_fails(cli, tmp_path, feed):
    text = feed.write_json_array(tmp_path / "full.json").read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(text[: len(text) * 3 // 4])
    result = cli("import", cut, ok=False)
    assert result.exit_code == 1 and "truncated" in result.stderr and "records before it were imported" in result.stderr
    videos = json.loads(cli("status", "--json").stdout)["videos"]
    assert 25 <= videos < 40


def test_a_batch_that_fails_to_write_leaves_nothing_half_written(cli, tmp_path, feed, monkeypatch):
    import db.catalog

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db.catalog, "insert_new", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        cli("import", feed.write_json_array(tmp_path / "sample.json"), ok=False)
    status = json.loads(cli("status", "--json").stdout)
    assert (status["videos"], status["authors"]) == (0, 0), "the batch's videos and authors were rolled back"


def test_real_payload_files_import_with_their_values(cli, realdata):
    files = [realdata / n for n in (
        "tiktokapi_trending_items_aug2021__Teerut26.json", "thebigbradwolf_1609948309033.json", "videoMeta_page_6881450806688664838.html",
    )]
    assert imported(cli, *files) == {"new": 76, "updated": 0, "authors": 12, "observations": 76, "skipped": {}, **NOTHING_DROPPED}
    assert imported(cli, *files) == {"new": 0, "updated": 0, "authors": 0, "observations": 0, "skipped": {}, **NOTHING_DROPPED}
    obs = MetricObservation
    rows = {r[0]: tuple(r[1:]) for r in query(cli, sa.select(obs.video_id, obs.likes, obs.plays, obs.comments, obs.shares, obs.author_followers))}
    assert rows["6973647912953728262"] == (1_900_000, 37_400_000, 15_800, 85_200, 719_500)
    assert rows["6911379416308305158"] == (4165, 18800, 58, 117, 398_700)
    assert rows["6881450806688664838"] == (1_300_000, 25_700, 25_700, 13_100, 48_300_000)
    [(hashtags, duration, music, author_id, raw_id)] = query(cli, sa.select(
        Video.hashtags, Video.duration_s, Video.music_id, Video.author_id, Video.raw["id"].as_string(),
    ).where(Video.id == "6973647912953728262"))
    assert (hashtags, duration, music, author_id, raw_id) == (
        ["foryou", "funny", "cat", "dog"], 8.0, "6973647734603516677", "6916730806372484101", "6973647912953728262")
    [(handle, followers, verified)] = query(cli, sa.select(Author.handle, Author.followers, Author.verified).where(Author.id == "107955"))
    assert (handle, followers, verified) == ("tiktok", 48_300_000, True)
    sources = {s for (s,) in query(cli, sa.select(obs.source).distinct())}
    assert sources == {"import:item", "import:tiktok-scraper", "import:page"}


def test_nul_characters_are_dropped_so_that_postgres_takes_the_payload(cli, tmp_path, feed):
    item = next(feed.items())
    item["desc"] = "before\u0000after"
    item["video"]["format"] = "mp4\u0000"
    variants = [orjson.dumps({**item, "id": str(70 + i)}) for i in range(4)]
    # JSON Lines (decoded line by line) and an array with one item per line (the orjson line path)
    (tmp_path / "nul.jsonl").write_bytes(variants[0] + b"\n" + variants[1] + b"\n")
    (tmp_path / "nul.json").write_bytes(b"[\n" + variants[2] + b",\n" + variants[3] + b"\n]")
    assert imported(cli, tmp_path / "nul.jsonl", tmp_path / "nul.json")["new"] == 4
    captions = {c for (c,) in query(cli, sa.select(Video.caption))}
    assert captions == {"beforeafter"}


def test_a_forced_format_that_keeps_no_record_is_an_error_naming_the_skip_reasons(cli, tmp_path, feed):
    # feed responses read as items: every record lacks an item id
    pages = [{"itemList": list(feed.items())[i:i + 10], "hasMore": True} for i in (0, 10)]
    path = tmp_path / "feeds.json"
    path.write_text(json.dumps(pages))
    result = cli("import", path, "--format", "item", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and str(path) in line and "--format item, kept none of its 2 records" in line
    assert "skipped: no_id 2" in line and "itemStruct objects with an id" in line
    assert json.loads(cli("status", "--json").stdout)["videos"] == 0


def test_a_forced_format_that_keeps_some_records_reports_the_skipped_ones_by_reason(cli, tmp_path, feed):
    good = list(feed.items())[:3]
    path = tmp_path / "items.json"
    path.write_text(json.dumps([*good, {**good[0], "id": "12ab"}, {"desc": "no id at all"}]))
    out = imported(cli, path, "--format", "item")
    assert (out["new"], out["skipped"]) == (3, {"bad_id": 1, "no_id": 1})


def test_a_table_whose_rows_are_all_refused_is_an_error_with_the_reasons(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("video_id,likes\nabc,1\n7001,-4\n7002,12k\n")
    result = cli("import", path, ok=False)
    [line] = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and "read as csv, kept none of its 3 records" in line
    assert all(f"{r} 1" in line for r in ("bad_id", "negative_count", "non_numeric_count"))


def test_a_table_with_a_video_twice_keeps_its_last_row_and_every_author_value(cli, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("video_id,author,followers,likes\n7001,user_1,50,5\n7002,user_2,,6\n7001,user_1,,9\n")
    assert imported(cli, path) == {"new": 2, "updated": 0, "authors": 2, "observations": 2, "skipped": {},
                                   "dropped": {}, "unused_columns": {"twice.csv": []}}
    likes = dict(query(cli, sa.select(MetricObservation.video_id, MetricObservation.likes)))
    assert likes == {"7001": 9, "7002": 6}
    assert query(cli, sa.select(Author.followers).where(Author.id == "user_1")) == [(50,)]
    path.write_text("video_id,author,followers,likes\n7001,user_1,60,9\n7003,user_3,1,1\n")
    # 7001 changed (its raw row; the followers seen with it make a new observation)
    assert imported(cli, path) == {"new": 1, "updated": 1, "authors": 2, "observations": 2, "skipped": {},
                                   "dropped": {}, "unused_columns": {"twice.csv": []}}
    again = imported(cli, path)
    assert (again["new"], again["updated"], again["authors"], again["observations"]) == (0, 0, 0, 0), "the same table twice changes nothing"


def test_a_table_that_fails_to_write_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    import db.catalog

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db.catalog, "insert_new_columns", broken)
    path = tmp_path / "t.csv"
    path.write_text("video_id,author,likes\n" + "".join(f"{7000 + i},user_{i % 3},{i}\n" for i in range(20)))
    with pytest.raises(RuntimeError, match="disk full"):
        cli("import", path, ok=False)
    status = json.loads(cli("status", "--json").stdout)
    assert (status["videos"], status["authors"]) == (0, 0), "the file is one transaction"
    assert catalog_indexes(cli) == model_indexes(), "the indexes dropped for the load were not rolled back"


def catalog_indexes(cli) -> set[tuple[str, str]]:
    """(table, index) of the author, video and observation tables' secondary indexes, as the catalog has them."""
    engine = create_catalog_engine(cli.db_url)
    try:
        found = sa.inspect(engine)
        return {(t, i["name"]) for t in ("author", "video", "metric_observation") for i in found.get_indexes(t)
                if i["name"].startswith("ix_")}
    finally:
        engine.dispose()


def model_indexes() -> set[tuple[str, str]]:
    return {(t.name, i.name) for t in (Author.__table__, Video.__table__, MetricObservation.__table__) for i in t.indexes}


def test_a_table_into_a_new_catalog_has_every_index_after_the_load(cli, tmp_path):
    from db.catalog import indexes_built_after

    path = tmp_path / "t.csv"
    path.write_text("video_id,author,likes\n" + "".join(f"{7000 + i},user_{i % 3},{i}\n" for i in range(20)))
    assert imported(cli, path)["new"] == 20
    assert catalog_indexes(cli) == model_indexes() and len(model_indexes()) >= 6
    engine = create_catalog_engine(cli.db_url)
    with engine.begin() as conn, indexes_built_after(conn) as deferred:
        assert deferred is False, "a catalog that holds rows keeps its indexes during a load"
        assert len(catalog_indexes(cli)) == len(model_indexes())
    engine.dispose()
