"""Tables in: CSV with any delimiter, Parquet and JSON Lines of flat rows; column names, mappings, separators, dates, lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ParseError
from core.records import ParsedItem
from scrapers.parse import ALIASES, CellOptions, ColumnMapping, TableOptions, detect_format, iter_records, table_columns
from scrapers.payloads.cells import to_count, to_list, to_number, to_time

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import.md"


def records(path: Path, **options) -> list:
    return list(iter_records(path, table=TableOptions(**options)))


@pytest.mark.parametrize(("text", "decimal", "expected"), [
    ("2.087,00", "auto", 2087), ("2,087.00", "auto", 2087), ("1 234", "auto", 1234), ("1,234", "auto", 1234),
    ("2.087", "auto", 2087), ("1e3", "auto", 1000), ("12", ".", 12), ("2.087,00", ",", 2087), ("", "auto", None),
    ("1\u202f234", "auto", 1234), (7.0, "auto", 7),
])
def test_counts_read_with_their_separators(text, decimal, expected):
    assert to_count(text, "likes", CellOptions(decimal=decimal)) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("12k", "non_numeric_count"), ("1.5", "non_numeric_count"), ("-3", "negative_count"), ("2.087", "non_numeric_count"),
    (True, "non_numeric_count"),
])
def test_bad_counts_are_refused_with_a_reason(text, reason):
    decimal = "." if text == "2.087" else "auto"  # with an explicit decimal point, 2.087 is not a whole count
    with pytest.raises(ParseError) as caught:
        to_count(text, "likes", CellOptions(decimal=decimal))
    assert caught.value.reason == reason


def test_numbers_dates_and_lists():
    options = CellOptions()
    assert to_number("12,5", options) == 12.5 and to_number("15.25", options) == 15.25 and to_number("x", options) is None
    assert to_time("2021-03-04", options) == datetime(2021, 3, 4, tzinfo=UTC)
    assert to_time("2021-03-04 10:30:00", options) == datetime(2021, 3, 4, 10, 30, tzinfo=UTC)
    assert to_time("1614816000", options) == datetime(2021, 3, 4, tzinfo=UTC)
    assert to_time("1614816000000", options) == datetime(2021, 3, 4, tzinfo=UTC)
    assert to_time("04/03/2021", options) == datetime(2021, 4, 3, tzinfo=UTC)
    assert to_time("04/03/2021", CellOptions(dayfirst=True)) == datetime(2021, 3, 4, tzinfo=UTC)
    assert to_time("4 March 21", CellOptions(date_format="%d %B %y")) == datetime(2021, 3, 4, tzinfo=UTC)
    assert to_time("soon", options) is None
    assert to_list("comedy, dance; pets | food") == ["comedy", "dance", "pets", "food"]
    assert to_list("#fyp #Dance") == ["fyp", "Dance"]
    assert to_list('["a", "b"]') == ["a", "b"] and to_list("['a', 'b']") == ["a", "b"] and to_list(["x", None]) == ["x"]


def test_a_semicolon_csv_with_decimal_commas_and_multi_valued_cells(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "Video ID;Creator;Fans;Likes;Comments;Shares;Duration;Tags;Categories;Posted\n"
        '7001;user_00001;"12.500";"2.087,00";12;3;"15,5";"#fyp #dance";"comedy, dance";2021-03-04\n'
        "7002;user_00002;900;45;1;0;12;;food;2021-03-05\n"
        "7003;user_00001;12.500;12k;1;0;10;;food;2021-03-06\n"
        "abc;user_00003;1;1;1;1;1;;food;2021-03-06\n"
        "7004;user_00003;1;1;1\n"
        "7005;user_00004;10;3;1;0;8;;food;someday\n"
    )
    assert detect_format(path) == "csv"
    columns = table_columns(path, "csv", TableOptions(mapping=ColumnMapping.parse(["author_id=Creator"])))
    assert columns.fields["video_id"] == "Video ID" and columns.fields["author_id"] == "Creator"
    assert columns.fields["followers"] == "Fans" and columns.fields["category"] == "Categories" and columns.unused == ()
    got = records(path, mapping=ColumnMapping.parse(["author_id=Creator"]))
    kept = [r for r in got if isinstance(r, ParsedItem)]
    assert sorted(e.reason for e in got if isinstance(e, ParseError)) == ["bad_id", "non_numeric_count", "wrong_field_count"]
    first = kept[0]
    assert first.video.id == "7001" and first.video.author_id == "user_00001" and first.author.followers == 12500
    assert first.metrics.likes == 2087 and first.video.duration_s == 15.5 and first.video.hashtags == ("fyp", "dance")
    assert first.video.category == "comedy" and first.video.create_time == datetime(2021, 3, 4, tzinfo=UTC)
    assert first.source_format == "table" and first.raw["Likes"] == "2.087,00"
    assert kept[-1].dropped == ("bad_create_time",) and kept[-1].video.create_time is None


def test_mappings_either_way_round_and_from_toml(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("clip,who,n_hearts,n_views\n7001,ann,5,100\n")
    both = [ColumnMapping.parse(["video_id=clip,author_id=who", "likes=n_hearts"]),
            ColumnMapping.parse(["clip=video_id", "who=author", "n_hearts=diggCount", "plays=n_views"])]
    toml = tmp_path / "map.toml"
    toml.write_text('[map]\nvideo_id = "clip"\nauthor_id = "who"\nlikes = "n_hearts"\n')
    both.append(ColumnMapping.parse([str(toml)]))
    for mapping in both:
        (item,) = records(path, mapping=mapping)
        assert (item.video.id, item.video.author_id, item.metrics.likes, item.metrics.plays) == ("7001", "ann", 5, 100)
    with pytest.raises(ParseError, match="one side must be a record field"):
        table_columns(path, "csv", TableOptions(mapping=ColumnMapping.parse(["likes=nothing"])))
    with pytest.raises(ParseError) as caught:
        table_columns(tmp_path / "t.csv", "csv", TableOptions())
    assert caught.value.reason == "no_video_id_column" and "--map video_id=COLUMN" in caught.value.detail


def test_parquet_and_json_lines_tables(tmp_path):
    table = pa.table({"video_id": [7001, 7002], "username": ["ann", "bob"], "views": [100, None], "likes": [5, 6],
                      "date": [datetime(2021, 3, 4), datetime(2021, 3, 5)], "hashtags": [["a", "b"], []]})
    pq.write_table(table, tmp_path / "t.parquet")
    assert detect_format(tmp_path / "t.parquet") == "parquet"
    a, b = records(tmp_path / "t.parquet")
    assert (a.video.id, a.author.id, a.author.handle, a.metrics.plays, a.video.hashtags) == ("7001", "ann", "ann", 100, ("a", "b"))
    assert b.metrics.plays is None and b.metrics.likes == 6 and a.video.create_time == datetime(2021, 3, 4, tzinfo=UTC)
    (tmp_path / "t.jsonl").write_text('{"video_id": "7001", "author": "user_1", "likes": "1,200"}\n{"video_id": "7002", "author": "user_2", "likes": 3}\n')
    assert detect_format(tmp_path / "t.jsonl") == "jsonl"
    x, y = records(tmp_path / "t.jsonl")
    assert (x.video.author_id, x.metrics.likes, y.metrics.likes) == ("user_1", 1200, 3) and x.source_format == "table"


def test_docs_list_every_recognised_column_name():
    text = DOCS.read_text()
    section = text.split("## Tables", 1)[1].split("\n## ", 1)[0]
    for field, aliases in ALIASES.items():
        line = next((ln for ln in section.splitlines() if ln.startswith(f"| `{field}` |")), None)
        assert line is not None, f"docs/import.md does not list the record field {field}"
        listed = set(re.findall(r"`([^`]+)`", line.split("|")[2]))
        assert listed == set(aliases), f"docs/import.md lists other names for {field}: {sorted(listed ^ set(aliases))}"


TRICKY = (
    "Video ID;Creator;Handle;Fans;Likes;Views;Comments;Shares;Duration;Width;Tags;Categories;Posted;Account Created;Verified;Caption;url\n"
    '7001;user_00001;;"12.500";"2.087,00";;12;3;"15,5";720;"#fyp #dance";"comedy, dance";2021-03-04;2019-01-01;yes;"hi ""you""\nline two";\n'
    "7002;user_00002;bob;900;45;100;1;0;12;x;;food;2021-03-05;garbage;no;  spaced  ;https://x.y/z\n"
    "7003;user_00001;;12.500;12k;;1;0;10;;;food;2021-03-06;;;;\n"
    "abc;user_00003;;1;1;;1;1;1;;;food;2021-03-06;;;;\n"
    "7005;user_00004;;10;3;;1;0;8;;;food;someday;;;;\n"
    "7006;123456789012345678901234567890123456;;10;3;;1;0;8;99999999999;;FOOD;1614816000;;1;caption;\n"
    "7007;4242;;;;;;;;;;;;;;;\n7008;;;1;-3;;;;;;;;;;;;\n"
    "7009;user_00009;;;;;;;;;[a, b];;04/03/2021;;;;\n7010;user_00009;;7;7;7;7;7;1e400;;\"['x', 'y']\";;2021-03-04T10:00:00Z;;;;\n"
)


def test_the_column_parser_reads_every_cell_as_the_row_parser_does(tmp_path):
    import csv as csv_module

    from scrapers.payloads.tables import RowParser, _unique

    path = tmp_path / "tricky.csv"
    path.write_text(TRICKY)
    options = TableOptions(mapping=ColumnMapping.parse(["author_id=Creator"]))
    by_columns = records(path, mapping=options.mapping)
    with open(path, newline="") as f:
        rows = list(csv_module.reader(f, delimiter=";"))
    header = _unique(rows[0])
    parser = RowParser(options.mapping.resolve(header), options)
    by_rows = []
    for cells in rows[1:]:
        try:
            by_rows.append(parser(dict(zip(header, cells, strict=True))))
        except ParseError as exc:
            by_rows.append(exc)
    assert [type(r) for r in by_columns] == [type(r) for r in by_rows]
    for mine, theirs in zip(by_columns, by_rows, strict=True):
        if isinstance(mine, ParseError):
            assert mine.reason == theirs.reason
        else:
            assert mine == theirs
    assert {r.reason for r in by_columns if isinstance(r, ParseError)} == {"bad_id", "non_numeric_count", "negative_count"}


def test_parquet_batches_report_their_progress_in_bytes(tmp_path, monkeypatch):
    from scrapers.parse import iter_table_batches
    from scrapers.payloads import batches

    monkeypatch.setattr(batches, "PARQUET_BATCH_ROWS", 100)
    n = 1000
    table = pa.table({"video_id": [str(7000 + i) for i in range(n)], "likes": list(range(n))})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=250)
    progress: list[int] = []
    read = list(iter_table_batches(tmp_path / "t.parquet", "parquet", on_bytes=progress.append))
    assert sum(len(b) for b in read) == n and len(progress) == 10
    assert progress == sorted(progress) and progress[-1] == (tmp_path / "t.parquet").stat().st_size
