"""From what the site answered to records or a steering exception, the same way for every backend.

Backends hand over raw bodies (an API response, a video page); this module runs
the spine's parser on them and turns what it finds — an empty body, cut JSON, a
``statusCode`` — into the exceptions of :mod:`scrapers.source`. The parser's time
is counted apart, so a benchmark can tell our own work from waiting on the site.
"""

from __future__ import annotations

import time
from typing import Any

from core.errors import ParseError
from core.records import ParsedItem
from scrapers.parse import parse_feed, read_video_page
from scrapers.source import Blocked, NotFound, Page, SourceStats, TransientError, check_body, check_status


def page_from_body(body: bytes | str | dict[str, Any] | None, what: str, stats: SourceStats) -> Page:
    """A feed or related answer → a Page; Blocked, TransientError or a Skip for what it says instead."""
    if not isinstance(body, dict):
        check_body(body, what)
    start = time.perf_counter()
    try:
        feed = parse_feed(body)  # type: ignore[arg-type]
    except ParseError as exc:
        raise _parse_failure(exc, what) from None
    finally:
        stats.parse_s += time.perf_counter() - start
    check_status(feed.status_code, feed.status_msg, what)
    return Page(items=feed.items, has_more=feed.has_more, cursor=feed.cursor, skipped=[e.reason for e in feed.skipped])


def item_from_page(html: str | None, what: str, stats: SourceStats) -> ParsedItem:
    """A video page → its item; a statusCode becomes Private/NotFound, a page without data Blocked."""
    check_body(html, what)
    start = time.perf_counter()
    try:
        page = read_video_page(html)  # type: ignore[arg-type]
    except ParseError as exc:
        if exc.reason == "no_page_data":
            # the real site serves a challenge page instead of the video page to clients it distrusts
            raise Blocked(f"{what}: the page carries no video data (a challenge or captcha page)", reason="challenge") from None
        raise _parse_failure(exc, what) from None
    finally:
        stats.parse_s += time.perf_counter() - start
    check_status(page.status_code, page.status_msg, what)
    if page.item is None:
        raise NotFound(f"{what}: the page has no video", reason="not_found")
    return page.item


def _parse_failure(exc: ParseError, what: str) -> Exception:
    if exc.reason == "empty_body":
        return Blocked(f"{what}: empty response body (the site is refusing this session)", reason="empty_body")
    return TransientError(f"{what}: {exc}", reason="malformed_json")
