"""One payload item → one :class:`core.records.ParsedItem`, for every item shape we meet.

Shapes (the ``source_format`` of the record, so that the raw payload can be re-parsed):

- ``item``: the web ``itemStruct`` (feeds, video pages, TikTokApi's ``as_dict``);
- ``tiktok-scraper``: tiktok-scraper's export rows (the Kaggle "TikTok Trending Videos" format);
- ``ytdlp``: a yt-dlp ``.info.json``.

Only the id is mandatory; see :mod:`scrapers.payloads.access` for how the rest is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from core.errors import ParseError
from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord, is_valid_video_id
from scrapers.payloads.access import (
    author_id_problem,
    author_ident,
    best_count,
    count,
    dimension,
    flag,
    ident,
    number,
    obj,
    text,
    timestamp,
)

ITEM = "item"
TIKTOK_SCRAPER = "tiktok-scraper"
YTDLP = "ytdlp"
ITEM_SHAPES = (ITEM, TIKTOK_SCRAPER, YTDLP)

#: fields a complete payload carries; ``ParsedItem.missing`` lists those a payload lacked
EXPECTED_VIDEO = ("author_id", "caption", "create_time", "duration_s", "width", "height", "music_id", "url")
EXPECTED_METRICS = ("plays", "likes", "comments", "shares", "saves", "author_followers")
PAGE_URL = "https://www.tiktok.com/@{handle}/video/{id}"
HASHTAG_IN_TEXT = re.compile(r"#(\w+)")
_SCRAPER_KEYS = frozenset({"authorMeta", "videoMeta", "musicMeta", "webVideoUrl", "diggCount"})
_SECRET_KEYS = ("cookies", "http_headers")
_FORMAT_LISTS = ("formats", "requested_formats", "requested_downloads")
_YTDLP_KEYS = frozenset({"extractor_key", "webpage_url", "view_count", "like_count", "uploader_id", "display_id"})


def video_id(value: Any) -> str:
    """The video's id as digits; raises ParseError ``no_id`` or ``bad_id``."""
    if value is None:
        raise ParseError("no_id")
    vid = ident(value)
    if vid is None or not is_valid_video_id(vid):
        raise ParseError("bad_id", f"{value!r:.40}")
    return vid


def item_shape(item: dict[str, Any]) -> str:
    """Which item shape a payload object has, from its keys."""
    keys = item.keys()
    if not _SCRAPER_KEYS.isdisjoint(keys):
        return TIKTOK_SCRAPER
    if not _YTDLP_KEYS.isdisjoint(keys):
        return YTDLP
    return ITEM


def parse_item(payload: Any, source_format: str | None = None) -> ParsedItem:
    """Turns one item of any known shape into records; ``source_format`` forces a shape.

    Raises ParseError (``not_an_object``, ``no_id``, ``bad_id``, ``negative_count``,
    ``non_numeric_count``, ``count_too_large``) for a record that cannot be kept.
    """
    if not isinstance(payload, dict):
        raise ParseError("not_an_object", type(payload).__name__)
    payload = _unwrapped(payload)
    shape = source_format or item_shape(payload)
    reader = _READERS.get(shape)
    if reader is None:
        raise ParseError("unknown_format", f"{shape!r:.40}")
    return reader(payload)


def _unwrapped(payload: dict[str, Any]) -> dict[str, Any]:
    # the item-detail API and some exports wrap the item: {"itemInfo": {"itemStruct": {...}}}
    if "id" not in payload:
        inner = obj(obj(payload, "itemInfo"), "itemStruct") or obj(payload, "itemStruct")
        if inner:
            return inner  # type: ignore[return-value]
    return payload


def hashtags(names: Iterable[Any]) -> tuple[str, ...]:
    """Hashtag names without '#', lower-cased, in first-seen order, each once."""
    seen: dict[str, None] = {}
    for name in names:
        if isinstance(name, str) and (name := name.strip().lstrip("#").strip().lower()):
            seen[name] = None
    return tuple(seen)


def _names(items: Any, key: str) -> list[Any]:
    return [i.get(key) for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _url(*values: Any) -> str | None:
    for value in values:
        value = text(value)
        if value:
            return value
    return None


def _page_url(handle: str | None, vid: str) -> str | None:
    return PAGE_URL.format(handle=handle, id=vid) if handle else None


def _author(author_id: str | None, **fields: Any) -> AuthorRecord | None:
    return AuthorRecord(id=author_id, **fields) if author_id else None


def _metrics(**counts: int | None) -> MetricRecord | None:
    record = MetricRecord(**counts)
    return None if record.is_empty() else record


def _finish(
    video: VideoRecord, author: AuthorRecord | None, metrics: MetricRecord | None, raw: dict[str, Any], shape: str,
    *given_author_ids: Any,
) -> ParsedItem:
    missing = [f for f in EXPECTED_VIDEO if getattr(video, f) is None]
    missing += [f for f in EXPECTED_METRICS if metrics is None or getattr(metrics, f) is None]
    dropped = () if author is not None else tuple(filter(None, map(author_id_problem, given_author_ids)))[:1]
    return ParsedItem(video=video, author=author, metrics=metrics, raw=raw, source_format=shape, missing=tuple(missing),
                      dropped=dropped)


def _web_item(item: dict[str, Any]) -> ParsedItem:
    """The web ``itemStruct``; ``statsV2`` (strings) is preferred to ``stats`` where valid."""
    vid = video_id(item.get("id"))
    author = obj(item, "author")
    # in SIGI_STATE's ItemModule, "author" is the handle and the ids sit beside it
    handle = text(author.get("uniqueId")) or text(item.get("author"))
    author_id = author_ident(author.get("id")) or author_ident(item.get("authorId"))
    a2, a1 = obj(item, "authorStatsV2"), obj(item, "authorStats")
    followers = best_count("followerCount", a2.get("followerCount"), a1.get("followerCount"))
    author_rec = _author(
        author_id, handle=handle, followers=followers,
        nickname=text(author.get("nickname")) or text(item.get("nickname")),
        sec_uid=text(author.get("secUid")) or text(item.get("authorSecId")),
        following=best_count("followingCount", a2.get("followingCount"), a1.get("followingCount")),
        hearts=best_count("heartCount", a2.get("heartCount"), a1.get("heartCount"), a1.get("heart")),
        video_count=best_count("videoCount", a2.get("videoCount"), a1.get("videoCount")),
        verified=flag(author.get("verified")), created_at=timestamp(author.get("createTime")),
    )
    video = _web_video(item, vid, author_id, handle)
    return _finish(video, author_rec, _web_metrics(item, followers), item, ITEM, author.get("id"), item.get("authorId"))


def _web_metrics(item: dict[str, Any], followers: int | None) -> MetricRecord | None:
    v2, v1 = obj(item, "statsV2"), obj(item, "stats")
    return _metrics(
        plays=best_count("playCount", v2.get("playCount"), v1.get("playCount")),
        likes=best_count("diggCount", v2.get("diggCount"), v1.get("diggCount")),
        comments=best_count("commentCount", v2.get("commentCount"), v1.get("commentCount")),
        shares=best_count("shareCount", v2.get("shareCount"), v1.get("shareCount")),
        saves=best_count("collectCount", v2.get("collectCount"), v1.get("collectCount")),
        author_followers=followers,
    )


def _web_video(item: dict[str, Any], vid: str, author_id: str | None, handle: str | None) -> VideoRecord:
    video = obj(item, "video")
    music = obj(item, "music") or obj(obj(item, "musicInfo"), "music")
    tags = hashtags([*_names(item.get("challenges"), "title"), *_names(item.get("textExtra"), "hashtagName")])
    return VideoRecord(
        id=vid, author_id=author_id, author_handle=handle, caption=text(item.get("desc")), hashtags=tags,
        create_time=timestamp(item.get("createTime")), duration_s=number(video.get("duration")),
        width=dimension(video.get("width")), height=dimension(video.get("height")),
        music_id=ident(music.get("id")), music_title=text(music.get("title")), music_original=flag(music.get("original")),
        url=_page_url(handle, vid), media_url=_url(video.get("playAddr"), video.get("downloadAddr")),
        category=_category(item.get("diversificationLabels")),
    )


def _category(labels: Any) -> str | None:
    # newer items carry the platform's content labels, broadest first
    if isinstance(labels, list) and labels and isinstance(labels[0], str) and labels[0].strip():
        return labels[0].strip().lower()[:32]
    return None


def _scraper_item(item: dict[str, Any]) -> ParsedItem:
    """A tiktok-scraper export row: counts at the top, ``authorMeta``, ``musicMeta``, ``videoMeta``."""
    vid = video_id(item.get("id"))
    meta = obj(item, "authorMeta")
    author_id, handle = author_ident(meta.get("id")), text(meta.get("name"))
    followers = count(meta.get("fans"), "fans")
    author_rec = _author(
        author_id, handle=handle, nickname=text(meta.get("nickName")), sec_uid=text(meta.get("secUid")),
        followers=followers, following=count(meta.get("following"), "following"),
        hearts=best_count("heart", meta.get("heart"), meta.get("heartCount")),
        video_count=count(meta.get("video"), "video"), verified=flag(meta.get("verified")),
        created_at=timestamp(meta.get("createTime")),
    )
    metrics = _metrics(
        plays=count(item.get("playCount"), "playCount"), likes=count(item.get("diggCount"), "diggCount"),
        comments=count(item.get("commentCount"), "commentCount"), shares=count(item.get("shareCount"), "shareCount"),
        saves=count(item.get("collectCount"), "collectCount"), author_followers=followers,
    )
    return _finish(_scraper_video(item, vid, author_id, handle), author_rec, metrics, item, TIKTOK_SCRAPER, meta.get("id"))


def _scraper_video(item: dict[str, Any], vid: str, author_id: str | None, handle: str | None) -> VideoRecord:
    music, meta = obj(item, "musicMeta"), obj(item, "videoMeta")
    return VideoRecord(
        id=vid, author_id=author_id, author_handle=handle, caption=text(item.get("text")),
        hashtags=hashtags(_names(item.get("hashtags"), "name")), create_time=timestamp(item.get("createTime")),
        duration_s=number(meta.get("duration")), width=dimension(meta.get("width")), height=dimension(meta.get("height")),
        music_id=ident(music.get("musicId")), music_title=text(music.get("musicName")),
        music_original=flag(music.get("musicOriginal")),
        url=_url(item.get("webVideoUrl")) or _page_url(handle, vid),
        media_url=_url(item.get("videoUrlNoWaterMark"), item.get("videoUrl")),
    )


def _ytdlp_item(info: dict[str, Any]) -> ParsedItem:
    """A yt-dlp info dict: ``uploader_id`` is the numeric account id, ``uploader`` the handle."""
    vid = video_id(info.get("id"))
    author_id, handle = author_ident(info.get("uploader_id")), text(info.get("uploader"))
    followers = count(info.get("channel_follower_count"), "channel_follower_count")
    author_rec = _author(
        author_id, handle=handle, nickname=text(info.get("channel")) or text(info.get("creator")),
        sec_uid=text(info.get("channel_id")), followers=followers,
    )
    metrics = _metrics(
        plays=count(info.get("view_count"), "view_count"), likes=count(info.get("like_count"), "like_count"),
        comments=count(info.get("comment_count"), "comment_count"), shares=count(info.get("repost_count"), "repost_count"),
        saves=count(info.get("save_count"), "save_count"), author_followers=followers,
    )
    return _finish(_ytdlp_video(info, vid, author_id, handle), author_rec, metrics, _without_cookies(info), YTDLP,
                   info.get("uploader_id"))


def _ytdlp_video(info: dict[str, Any], vid: str, author_id: str | None, handle: str | None) -> VideoRecord:
    description = text(info.get("description"))
    tags = info.get("tags") if isinstance(info.get("tags"), list) else HASHTAG_IN_TEXT.findall(description or "")
    return VideoRecord(
        id=vid, author_id=author_id, author_handle=handle, caption=description, hashtags=hashtags(tags),
        create_time=timestamp(info.get("timestamp")), duration_s=number(info.get("duration")),
        width=dimension(info.get("width")), height=dimension(info.get("height")),
        music_id=None, music_title=text(info.get("track")), music_original=None,
        url=_url(info.get("webpage_url"), info.get("original_url")) or _page_url(handle, vid),
        media_url=_url(info.get("url")),
    )


def _without_cookies(info: dict[str, Any]) -> dict[str, Any]:
    """yt-dlp writes session cookies and request headers into its info; they must never reach the catalog."""
    if not any(k in info for k in (*_SECRET_KEYS, *_FORMAT_LISTS)):
        return info
    cleaned = {k: v for k, v in info.items() if k not in _SECRET_KEYS}
    for key in _FORMAT_LISTS:
        if isinstance(cleaned.get(key), list):
            cleaned[key] = [_drop_secrets(f) for f in cleaned[key]]
    return cleaned


def _drop_secrets(value: Any) -> Any:
    return {k: v for k, v in value.items() if k not in _SECRET_KEYS} if isinstance(value, dict) else value


def _research_item(record: dict[str, Any]) -> ParsedItem:
    from scrapers.payloads.research import research_item

    return research_item(record)


_READERS: dict[str, Callable[[dict[str, Any]], ParsedItem]] = {
    ITEM: _web_item,
    TIKTOK_SCRAPER: _scraper_item,
    YTDLP: _ytdlp_item,
    "research_api": _research_item,
}

__all__ = ["ITEM", "ITEM_SHAPES", "TIKTOK_SCRAPER", "YTDLP", "hashtags", "item_shape", "parse_item", "video_id"]
