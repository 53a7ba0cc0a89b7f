"""Creator pages of every generation: the account with its counts and creation time, and every video listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.errors import ParseError
from core.records import AuthorRecord, ParsedItem
from db.engine import create_catalog_engine
from db.models import Author, Video
from scrapers.parse import iter_records, parse_user_page, read_user_page
from tests.scrapers import creator_pages as pages

CREATED = datetime.fromtimestamp(1585000000, UTC)


def _check_author(author: AuthorRecord) -> None:
    assert (author.id, author.handle, author.nickname, author.sec_uid) == (pages.USER["id"], pages.HANDLE, "Bea Bakes", "MS4wLjABAAAAbea")
    assert (author.followers, author.following, author.hearts, author.video_count) == (48200, 181, 1290000, 214)
    assert author.created_at == CREATED and author.verified is False


@pytest.mark.parametrize(("html", "embedding", "order"), [
    (pages.next_data_page(), "next", pages.VIDEO_IDS),
    (pages.sigi_page(), "sigi", tuple(reversed(pages.VIDEO_IDS))),
    (pages.universal_page(with_items=True), "universal", pages.VIDEO_IDS),
])
def test_every_generation_gives_the_account_and_every_listed_video(html, embedding, order):
    page = read_user_page(html)
    assert page is not None and page.embedding == embedding and page.status_code == 0
    _check_author(page.author)
    assert [i.video.id for i in page.items] == list(order)
    for n, item in enumerate(sorted(page.items, key=lambda i: i.video.id)):
        assert item.video.author_id == pages.USER["id"] and item.video.hashtags == ("baking",)
        assert item.metrics.likes == 100 * (n + 1) and item.metrics.plays == 2000 * (n + 1)
        _check_author(item.author)  # the page's account wins over the item's older counts


def test_a_live_universal_page_lists_no_video_and_still_gives_the_account():
    (record,) = list(parse_user_page(pages.universal_page()))
    assert isinstance(record, AuthorRecord)
    _check_author(record)


def test_a_private_account_page_is_a_countable_reason():
    with pytest.raises(ParseError) as caught:
        list(parse_user_page(pages.private_universal_page()))
    assert caught.value.reason == "private"


def test_video_pages_are_not_creator_pages():
    from tests.scrapers.payload_samples import web

    html = ('<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">'
            + json.dumps({"__DEFAULT_SCOPE__": {"webapp.video-detail": {"itemInfo": {"itemStruct": web()}, "statusCode": 0}}})
            + "</script>")
    assert read_user_page(html) is None
    (item,) = list(iter_records_of(html))
    assert isinstance(item, ParsedItem) and item.video.id == web()["id"]


def iter_records_of(html: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.html"
        path.write_text(html)
        yield from iter_records(path)


def test_creator_pages_import_into_the_catalog(cli, tmp_path):
    (tmp_path / "sigi.html").write_text(pages.sigi_page())
    (tmp_path / "live.html").write_text(pages.universal_page())
    out = json.loads(cli("import", tmp_path / "sigi.html", tmp_path / "live.html", "--json").stdout)
    assert out["new"] == 3 and out["observations"] == 3 and out["skipped"] == {}
    engine = create_catalog_engine(cli.db_url)
    try:
        with engine.connect() as conn:
            author = conn.execute(sa.select(Author)).one()
            videos = conn.execute(sa.select(Video.id, Video.author_id)).all()
    finally:
        engine.dispose()
    assert author.id == pages.USER["id"] and author.followers == 48200 and author.account_created_at == CREATED
    assert author.account_created_provenance == "observed"
    assert sorted(videos) == [(v, pages.USER["id"]) for v in pages.VIDEO_IDS]


def test_the_sandbox_creator_page_parses_to_its_account_with_the_creation_time(tmp_path):
    from sandbox import World
    from sandbox.items import ItemBuilder
    from sandbox.pages import user_page

    world = World.build(videos=40, seed=5, cache_dir=tmp_path / "cache")
    info = ItemBuilder(world, "http://127.0.0.1:1").user_info(0)
    page = read_user_page(user_page(info, 0, "token").decode())
    assert page is not None and page.embedding == "universal" and page.items == []
    assert page.author.handle == info["user"]["uniqueId"] and page.author.followers == info["stats"]["followerCount"]
    assert page.author.created_at == datetime.fromtimestamp(info["user"]["createTime"], UTC)
