"""Property-based: arbitrary JSON thrown at the parser gives records or ParseError, nothing else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ParseError
from core.records import ParsedItem, is_valid_video_id
from scrapers.parse import iter_records, parse_feed, parse_item, read_video_page

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(SETTINGS, max_examples=40)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)
#: the keys the parser looks at, so that arbitrary values land where they matter
KEYS = st.sampled_from([
    "id", "desc", "createTime", "stats", "statsV2", "author", "authorStats", "authorStatsV2", "video", "music",
    "musicInfo", "challenges", "textExtra", "authorMeta", "musicMeta", "videoMeta", "hashtags", "diggCount",
    "playCount", "view_count", "like_count", "uploader_id", "formats", "itemInfo", "itemStruct", "itemList",
    "hasMore", "cursor", "statusCode", "collector", "authorId",
])
INNER_KEYS = st.sampled_from([
    "id", "uniqueId", "playCount", "diggCount", "followerCount", "heart", "duration", "width", "height", "title",
    "hashtagName", "itemStruct", "music", "fans", "name", "original", "playAddr",
])
shaped = st.dictionaries(KEYS, json_values | st.dictionaries(INNER_KEYS, json_values, max_size=4), max_size=8)
digit_ids = st.integers(min_value=0, max_value=10**20).map(str)
with_valid_id = st.builds(lambda obj, vid: {**obj, "id": vid}, shaped, digit_ids)
anything = st.one_of(shaped, with_valid_id, json_values)


def _check(result: ParsedItem) -> None:
    assert isinstance(result, ParsedItem)
    assert is_valid_video_id(result.video.id)
    # author ids are opaque strings the catalog can key on: non-empty, trimmed, at most 32 characters
    assert result.author is None or (0 < len(result.author.id) <= 32 and result.author.id == result.author.id.strip())
    if result.metrics is not None:
        counts = [result.metrics.plays, result.metrics.likes, result.metrics.comments, result.metrics.shares, result.metrics.saves]
        assert all(c is None or 0 <= c < 2**63 for c in counts)


@SETTINGS
@given(anything)
def test_parse_item_returns_a_valid_record_or_raises_parse_error(payload):
    try:
        _check(parse_item(payload))
    except ParseError as exc:
        assert exc.reason and " " not in exc.reason


@SETTINGS
@given(st.one_of(shaped, st.builds(lambda items, rest: {**rest, "itemList": items}, st.lists(anything, max_size=5), shaped), json_values))
def test_parse_feed_of_objects_returns_a_page_or_raises_parse_error(body):
    try:
        page = parse_feed(body)
    except ParseError:
        return
    for item in page.items:
        _check(item)
    assert all(isinstance(e, ParseError) for e in page.skipped)


@FEWER
@given(st.one_of(st.binary(max_size=64), st.text(max_size=64), anything.map(lambda v: json.dumps(v).encode())))
def test_parse_feed_of_raw_bodies_returns_a_page_or_raises_parse_error(body):
    try:
        parse_feed(body)
    except ParseError:
        pass


@FEWER
@given(anything, st.sampled_from(["__UNIVERSAL_DATA_FOR_REHYDRATION__", "SIGI_STATE", "__NEXT_DATA__"]))
def test_read_video_page_returns_a_result_or_raises_parse_error(data, script_id):
    html = f'<html><script id="{script_id}" type="application/json">{json.dumps(data)}</script></html>'
    try:
        page = read_video_page(html)
    except ParseError:
        return
    if page.item is not None:
        _check(page.item)


@FEWER
@given(anything, st.sampled_from(["compact", "indent", "lines"]))
def test_iter_records_on_a_file_yields_records_or_parse_errors(data, layout):
    if layout == "lines" and isinstance(data, list):
        text = "\n".join(json.dumps(v) for v in data)
    else:
        text = json.dumps(data, indent=2 if layout == "indent" else None)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.json"
        path.write_text(text)
        try:
            for record in iter_records(path):
                if isinstance(record, ParsedItem):
                    _check(record)
                else:
                    assert isinstance(record, ParseError)
        except ParseError:
            pass
