"""Whole files: every layout is recognised and streamed, bad records skipped, unreadable files refused."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import orjson
import pytest

from core.errors import ParseError
from core.records import ParsedItem
import scrapers.payloads.files as files
import scrapers.payloads.jsonstream as jsonstream
from scrapers.parse import detect_format, iter_records
from scrapers.payloads.samples import SampleFeed
from tests.scrapers.payload_samples import SCRAPER_ROW, WEB_ITEM, YTDLP_INFO, next_page, universal_page, web

ITEMS = [web(id=str(1000 + i), desc=f"v{i} \u00e9\u6f22") for i in range(7)]
IDS = [str(1000 + i) for i in range(7)]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def ids(records) -> list[str]:
    return [r.video.id for r in records if isinstance(r, ParsedItem)]


LAYOUTS = {
    "array, one item per line": ("[\n" + ",\n".join(json.dumps(i) for i in ITEMS) + "\n]\n", "item"),
    "array, pretty-printed": (json.dumps(ITEMS, indent=2), "item"),
    "array, one line": (json.dumps(ITEMS, separators=(",", ":")), "item"),
    "array, several per line": ("[" + ",\n".join(f"{json.dumps(a)}, {json.dumps(b)}" for a, b in zip(ITEMS[::2], ITEMS[1::2])) + f", {json.dumps(ITEMS[-1])}]", "item"),
    "feed response, itemList after other keys": (json.dumps({"hasMore": True, "cursor": 7, "itemList": ITEMS, "statusCode": 0}, indent=1), "feed"),
    "feed response, compact one line": (json.dumps({"itemList": ITEMS, "hasMore": False}) + "\n", "feed"),
    "JSON Lines of items": ("\n".join(json.dumps(i) for i in ITEMS) + "\n", "jsonl"),
    "JSON Lines of feed responses": (json.dumps({"itemList": ITEMS[:3], "hasMore": True}) + "\n\n" + json.dumps({"itemList": ITEMS[3:], "hasMore": False}) + "\n", "jsonl"),
    "byte-order mark and CRLF": ("\ufeff[\r\n" + ",\r\n".join(json.dumps(i) for i in ITEMS) + "\r\n]", "item"),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_yields_the_same_records(tmp_path, layout):
    text, name = LAYOUTS[layout]
    path = write(tmp_path, "f.json", text)
    assert detect_format(path) == name
    records = list(iter_records(path))
    assert ids(records) == IDS
    assert records[0].video.caption == "v0 \u00e9\u6f22"


def test_tiktok_scraper_exports_as_collector_or_bare_list(tmp_path):
    rows = [{**SCRAPER_ROW, "id": str(2000 + i)} for i in range(3)]
    for text in (json.dumps({"collector": rows}, indent=2), json.dumps(rows)):
        path = write(tmp_path, "export.json", text)
        assert detect_format(path) == "tiktok-scraper"
        records = list(iter_records(path))
        assert ids(records) == ["2000", "2001", "2002"]
        assert {r.source_format for r in records} == {"tiktok-scraper"}


def test_single_objects_ytdlp_info_item_and_pages(tmp_path):
    cases = [
        ("x.info.json", json.dumps(YTDLP_INFO, indent=4), "ytdlp", YTDLP_INFO["id"]),
        ("item.json", json.dumps(WEB_ITEM), "item", WEB_ITEM["id"]),
        ("page.html", universal_page({"statusCode": 0, "itemInfo": {"itemStruct": WEB_ITEM}}), "page", WEB_ITEM["id"]),
        ("fragment.html", "some text before <div>" + next_page(WEB_ITEM), "page", WEB_ITEM["id"]),
    ]
    for name, text, fmt, vid in cases:
        path = write(tmp_path, name, text)
        assert detect_format(path) == fmt
        assert ids(iter_records(path)) == [vid]


def test_bad_records_are_yielded_as_errors_and_the_rest_kept(tmp_path):
    lines = [json.dumps(ITEMS[0]), "{not json", json.dumps(web(id="abc")), json.dumps(web(id="5", stats={"playCount": -2})), json.dumps(ITEMS[1])]
    path = write(tmp_path, "f.jsonl", "\n".join(lines) + "\n")
    records = list(iter_records(path))
    assert ids(records) == IDS[:2]
    assert [r.reason for r in records if isinstance(r, ParseError)] == ["malformed_json", "bad_id", "negative_count"]


def test_a_private_page_is_one_skipped_record(tmp_path):
    path = write(tmp_path, "p.html", universal_page({"statusCode": 10216}))
    [record] = list(iter_records(path))
    assert isinstance(record, ParseError) and record.reason == "private"


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty_file"), ("  \n\t", "empty_file"), ("hello world", "unknown_format"),
    ('{"foo": 1, "bar": [1]}', "unknown_format"), ("[1, 2, 3]", "unknown_format"),
    ("<html><body>nothing embedded</body></html>", "unknown_format"), ('{"itemList": [', "truncated"),
    ("[{]", "malformed_json"),
])
def test_a_file_that_cannot_be_read_raises(tmp_path, text, reason):
    path = write(tmp_path, "bad.json", text)
    with pytest.raises(ParseError) as caught:
        list(iter_records(path))
    assert caught.value.reason == reason


def test_a_missing_file_raises_unreadable(tmp_path):
    with pytest.raises(ParseError) as caught:
        detect_format(tmp_path / "nope.json")
    assert caught.value.reason == "unreadable"


def test_a_file_cut_short_yields_what_came_before_then_raises(tmp_path):
    text = "[\n" + ",\n".join(json.dumps(i) for i in ITEMS)
    path = write(tmp_path, "cut.json", text[: len(text) - 40])
    records = iter_records(path)
    got = [next(records) for _ in range(6)]
    assert ids(got) == IDS[:6]
    with pytest.raises(ParseError) as caught:
        next(records)
    assert caught.value.reason == "truncated"


def test_a_forced_format_overrides_recognition(tmp_path):
    path = write(tmp_path, "f.json", json.dumps([WEB_ITEM]))
    [record] = list(iter_records(path, "tiktok-scraper"))
    assert record.source_format == "tiktok-scraper" and record.metrics is None
    with pytest.raises(ParseError):
        list(iter_records(path, "page"))
    with pytest.raises(ParseError):
        list(iter_records(path, "xml"))


def test_huge_integer_on_a_line_keeps_the_line_fast_path_and_rejects_only_that_record(tmp_path):
    big = json.dumps(web(id="9", stats={"playCount": 10**30}))
    path = write(tmp_path, "f.json", "[\n" + ",\n".join([json.dumps(ITEMS[0]), big, json.dumps(ITEMS[1])]) + "\n]")
    records = list(iter_records(path))
    assert ids(records) == IDS[:2]
    assert [r.reason for r in records if isinstance(r, ParseError)] == ["count_too_large"]


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    """2,000 real-sized items (about 9 MB), one per line."""
    return SampleFeed(2000, seed=3).write_json_array(tmp_path_factory.mktemp("big") / "sample.json")


@pytest.mark.parametrize("pretty", [False, True])
def test_streaming_keeps_the_window_small(sample_file, tmp_path, monkeypatch, pretty):
    path = sample_file
    if pretty:
        path = tmp_path / "pretty.json"
        path.write_bytes(orjson.dumps(orjson.loads(sample_file.read_bytes()), option=orjson.OPT_INDENT_2))
    monkeypatch.setattr(jsonstream, "CHUNK", 64 * 1024)
    windows: list[int] = []
    real_fill = jsonstream.JsonStream._fill

    def fill(self):
        grew = real_fill(self)
        windows.append(len(self.buf))
        return grew

    monkeypatch.setattr(jsonstream.JsonStream, "_fill", fill)
    assert sum(1 for _ in iter_records(path)) == 2000
    size = path.stat().st_size
    assert len(windows) > size // (128 * 1024), "the file was read in many small steps"
    assert max(windows) < 160 * 1024, "the window holds a chunk and one item, never the file"


def test_memory_stays_far_below_the_file_size(sample_file, monkeypatch):
    # with 64 kB reads the fixed buffers are small, so that what remains is what grows with the file
    monkeypatch.setattr(jsonstream, "CHUNK", 64 * 1024)
    monkeypatch.setattr(files, "CHUNK", 64 * 1024)
    tracemalloc.start()
    progress: list[int] = []
    count = sum(1 for _ in iter_records(sample_file, on_bytes=progress.append))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = sample_file.stat().st_size
    assert count == 2000 and size > 8_000_000
    assert peak < size / 10, f"peak {peak:,} bytes for a {size:,}-byte file"
    assert progress[-1] == size and progress == sorted(progress)
