"""From what the site answered to records or a steering exception, the same way for every backend.

Backends hand over raw bodies (an API response, a video page); this module runs
the spine's parser on them and turns what it finds — an empty body, cut JSON, a
``statusCode`` — into the exceptions of :mod:`scrapers.source`. The parser's time
is counted apart, so a benchmark can tell our own work from waiting on the site.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from core.errors import ParseError
from core.records import AuthorRecord, ParsedItem
from scrapers.parse import load_json, parse_feed, parse_item, read_video_page
from scrapers.answers import blocked, check_body, check_status, check_verify, looks_like_html, soft_blocked
from scrapers.payloads.feeds import status_code
from scrapers.source import NotFound, Page, Private, SourceStats, TransientError, as_json_object

#: what marks a captcha laid over a page that still carries its data
OVERLAY_MARK = 'id="captcha-verify-container"'


def page_from_body(body: bytes | str | dict[str, Any] | None, what: str, stats: SourceStats) -> Page:
    """A feed or related answer → a Page; the exception its table entry calls for when it is not a list."""
    data = body if isinstance(body, dict) else _json_object(body, what, stats)
    check_verify(data, what)
    start = time.perf_counter()
    try:
        feed = parse_feed(data)
    except ParseError as exc:
        raise _parse_failure(exc, what) from None
    finally:
        stats.parse_s += time.perf_counter() - start
    check_status(feed.status_code, feed.status_msg, what)
    if not feed.listed:
        raise soft_blocked("soft_empty", what, "no itemList")
    return Page(items=feed.items, has_more=feed.has_more, cursor=feed.cursor, skipped=[e.reason for e in feed.skipped])


UNIVERSAL_SCRIPT = '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{}</script>'


def as_page(universal_json: str | None) -> str | None:
    """The page markup around a rehydration JSON a browser backend read out of the live page."""
    return None if universal_json is None else UNIVERSAL_SCRIPT.format(universal_json)


def item_from_page(html: str | None, what: str, stats: SourceStats) -> ParsedItem:
    """A video page → its item; a statusCode becomes Private/Withheld, a page without data Blocked."""
    check_body(html, what)
    start = time.perf_counter()
    try:
        page = read_video_page(html)  # type: ignore[arg-type]
    except ParseError as exc:
        if exc.reason == "no_page_data":
            # the real site serves a challenge page instead of the video page to clients it distrusts
            raise blocked("challenge", what) from None
        raise _parse_failure(exc, what) from None
    finally:
        stats.parse_s += time.perf_counter() - start
    check_status(page.status_code, page.status_msg, what)
    if OVERLAY_MARK in html:  # type: ignore[operator]
        raise blocked("captcha_overlay", what)
    if page.item is None:
        raise NotFound(f"{what}: the page has no video", reason="not_found")
    return page.item


def _parse_failure(exc: ParseError, what: str) -> Exception:
    if exc.reason == "empty_body":
        return soft_blocked("empty_body", what)
    return TransientError(f"{what}: {exc}", reason="malformed_json")


def item_from_detail(body: bytes | str | dict[str, Any] | None, what: str, stats: SourceStats) -> ParsedItem:
    """An ``/api/item/detail/`` answer (``{itemInfo: {itemStruct}, statusCode}``) → its item."""
    data = _json_object(body, what, stats)
    _check_answer(data, what)
    struct = (data.get("itemInfo") or {}).get("itemStruct") if isinstance(data.get("itemInfo"), dict) else None
    if not isinstance(struct, dict):
        # a success code without the item is the site's soft block, not a missing video
        raise soft_blocked("soft_empty", what, "no itemInfo")
    return _parsed(struct, what, stats)


def author_from_user_info(user_info: Any, what: str, stats: SourceStats, public: bool = False) -> AuthorRecord:
    """``userInfo`` (``{user, stats, statsV2}``) → an AuthorRecord, read by the item parser's author fields.

    With ``public``, a private account (``user.privateAccount``) raises :class:`Private`: its videos cannot be listed,
    and its empty list must not read as a creator with nothing posted."""
    if not isinstance(user_info, dict) or not isinstance(user_info.get("user"), dict):
        raise NotFound(f"{what}: no such account", reason="not_found")
    if public and user_info["user"].get("privateAccount") is True:
        raise Private(f"{what}: the account is private", reason="private_account")
    # an itemStruct carries the same ``author`` + ``authorStats`` objects; the parser knows them there
    shell = {"id": "0", "author": user_info["user"], "authorStats": user_info.get("stats"), "authorStatsV2": user_info.get("statsV2")}
    author = _parsed(shell, what, stats).author
    if author is None:
        raise NotFound(f"{what}: the account has no id", reason="not_found")
    return author


def author_from_page(html_or_json: str | None, what: str, stats: SourceStats, public: bool = False) -> AuthorRecord:
    """A profile page's rehydration JSON (``webapp.user-detail``) → its account (``public``: see author_from_user_info)."""
    data = _json_object(html_or_json, what, stats)
    detail = ((data.get("__DEFAULT_SCOPE__") or {}).get("webapp.user-detail")) or {}
    check_status(status_code(detail.get("statusCode")), detail.get("statusMsg"), what)
    return author_from_user_info(detail.get("userInfo"), what, stats, public)


def author_from_detail(body: bytes | str | dict[str, Any] | None, what: str, stats: SourceStats,
                       public: bool = False) -> AuthorRecord:
    """An ``/api/user/detail/`` answer (``{userInfo, statusCode}``) → its account (``public``: see author_from_user_info)."""
    data = _json_object(body, what, stats)
    _check_answer(data, what)
    if "userInfo" not in data:
        raise soft_blocked("soft_empty", what, "no userInfo")
    return author_from_user_info(data.get("userInfo"), what, stats, public)


def posts_page(body: bytes | str | dict[str, Any] | None, author: AuthorRecord, what: str, stats: SourceStats) -> Page:
    """An ``/api/post/item_list/`` answer → a Page whose items carry the creator's account (the freshest counts)."""
    page = page_from_body(body, what, stats)
    page.items = [_owned(item, author) for item in page.items]
    page.author = author
    return page


def _owned(item: ParsedItem, author: AuthorRecord) -> ParsedItem:
    if item.author is not None and item.author.id != author.id:
        return item  # a repost or duet listed on the profile keeps its own author
    return replace(item, author=author)


def _check_answer(data: dict[str, Any], what: str) -> None:
    check_verify(data, what)
    check_status(status_code(data.get("statusCode", data.get("status_code"))), data.get("statusMsg"), what)


def _json_object(body: bytes | str | dict[str, Any] | None, what: str, stats: SourceStats) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    check_body(body, what)
    if looks_like_html(body):  # type: ignore[arg-type]
        raise blocked("verify_page", what)
    start = time.perf_counter()
    try:
        return as_json_object(load_json(body), what)  # type: ignore[arg-type]
    except ParseError as exc:
        raise _parse_failure(exc, what) from None
    finally:
        stats.parse_s += time.perf_counter() - start


def _parsed(struct: dict[str, Any], what: str, stats: SourceStats) -> ParsedItem:
    start = time.perf_counter()
    try:
        return parse_item(struct, "item")
    except ParseError as exc:
        raise NotFound(f"{what}: the item cannot be read ({exc})", reason=exc.reason) from None
    finally:
        stats.parse_s += time.perf_counter() - start
