"""A Research API video record → a :class:`core.records.ParsedItem` (``source_format`` ``research_api``).

The API names fields its own way (``view_count``, ``like_count``,
``video_description``, ``hashtag_names``) and gives ids as JSON numbers. It gives
no author id, no follower counts, no media and no dimensions: those stay None and
are listed in ``missing``, so ``synth`` and ``download`` treat them as they treat
any other gap. The account is keyed ``@username`` (the API names creators only by
handle; a leading ``@`` can never collide with a numeric platform id).
"""

from __future__ import annotations

from typing import Any

from core.errors import ParseError
from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord, is_valid_video_id
from scrapers.payloads.access import count, ident, number, text, timestamp

RESEARCH = "research_api"
REAL_SITE = "https://www.tiktok.com"
EXPECTED_VIDEO = ("author_id", "caption", "create_time", "duration_s", "width", "height", "music_id", "url")
EXPECTED_METRICS = ("plays", "likes", "comments", "shares", "saves", "author_followers")


def author_key(username: str) -> str:
    """The catalog id of a creator the Research API names only by handle."""
    return f"@{username}"


def research_item(record: dict[str, Any], site: str = REAL_SITE, followers: int | None = None) -> ParsedItem:
    """One video of ``data.videos``; ``site`` builds its page URL, ``followers`` (from user info) when known."""
    vid = ident(record.get("id"))
    if vid is None:
        raise ParseError("no_id")
    if not is_valid_video_id(vid):
        raise ParseError("bad_id", f"{record.get('id')!r:.40}")
    username = text(record.get("username"))
    author = AuthorRecord(id=author_key(username), handle=username, followers=followers) if username else None
    tags = record.get("hashtag_names") if isinstance(record.get("hashtag_names"), list) else []
    video = VideoRecord(
        id=vid, author_id=author.id if author else None, author_handle=username,
        caption=text(record.get("video_description")),
        hashtags=tuple(dict.fromkeys(t.strip().lstrip("#").lower() for t in tags if isinstance(t, str) and t.strip())),
        create_time=timestamp(record.get("create_time")), duration_s=number(record.get("video_duration")),
        music_id=ident(record.get("music_id")),
        url=f"{site.rstrip('/')}/@{username}/video/{vid}" if username else None,
    )
    metrics = MetricRecord(
        plays=count(record.get("view_count"), "view_count"), likes=count(record.get("like_count"), "like_count"),
        comments=count(record.get("comment_count"), "comment_count"),
        shares=count(record.get("share_count"), "share_count"),
        saves=count(record.get("favorites_count"), "favorites_count"), author_followers=followers,
    )
    metrics = None if metrics.is_empty() else metrics
    missing = [f for f in EXPECTED_VIDEO if getattr(video, f) is None]
    missing += [f for f in EXPECTED_METRICS if metrics is None or getattr(metrics, f) is None]
    return ParsedItem(video=video, author=author, metrics=metrics, raw=record, source_format=RESEARCH, missing=tuple(missing))
