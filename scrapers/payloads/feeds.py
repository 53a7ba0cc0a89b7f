"""Feed responses (``{itemList, hasMore, cursor, statusCode}``) → a :class:`FeedPage`.

The parser reports what the response said; what a statusCode means for a crawl
(blocked, rate limited, the end) is the crawl's decision, not this module's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.errors import ParseError
from core.records import ParsedItem
from scrapers.payloads.access import JSON_NUL, ident, text, without_nul
from scrapers.payloads.items import parse_item

ITEM_LIST_KEYS = ("itemList", "items")


@dataclass
class FeedPage:
    """One page of a feed: the items that parsed, the ones skipped (with reasons) and the paging state."""

    items: list[ParsedItem] = field(default_factory=list)
    skipped: list[ParseError] = field(default_factory=list)
    has_more: bool = False
    cursor: str | int | None = None
    status_code: int | None = None
    status_msg: str | None = None
    #: whether the answer carried an item list at all (``statusCode`` 0 without one is a soft block)
    listed: bool = False


def load_json(body: bytes | str) -> Any:
    """Decodes a JSON document, NUL characters removed; raises ParseError ``empty_body`` or ``malformed_json``."""
    if not body or not body.strip():
        raise ParseError("empty_body")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits and NaN; the standard library takes them
        try:
            value = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ParseError("malformed_json", str(exc)[:120]) from None
    nul = JSON_NUL if isinstance(body, str) else JSON_NUL.encode()
    return without_nul(value) if nul in body else value


def parse_items(objs: Any, source_format: str | None = None) -> FeedPage:
    """Parses a list of item payloads, keeping the ones that fail aside with their reasons."""
    page = FeedPage()
    for payload in objs if isinstance(objs, list) else ():
        try:
            _refuse_non_video(payload)
            page.items.append(parse_item(payload, source_format))
        except ParseError as exc:
            page.skipped.append(exc)
    return page


def _refuse_non_video(payload: Any) -> None:
    """Ads and photo posts ride in feeds like videos; a video dataset keeps neither (counted by reason)."""
    if not isinstance(payload, dict):
        return
    if payload.get("isAd") is True:
        raise ParseError("ad")
    if isinstance(payload.get("imagePost"), dict) and not (payload.get("video") or {}).get("playAddr"):
        raise ParseError("photo_post")


def parse_feed(body: bytes | str | dict[str, Any]) -> FeedPage:
    """Parses a feed response (raw bytes, text or an already decoded object).

    Raises ParseError ``empty_body`` / ``malformed_json`` for a body that is not
    JSON and ``not_a_feed`` for JSON that is not an object.
    """
    data = load_json(body) if isinstance(body, bytes | bytearray | str) else body
    if not isinstance(data, dict):
        raise ParseError("not_a_feed", type(data).__name__)
    listed = next((data[k] for k in ITEM_LIST_KEYS if isinstance(data.get(k), list)), None)
    page = parse_items(listed)
    page.listed = listed is not None
    page.has_more = _truthy(data.get("hasMore", data.get("has_more")))
    page.cursor = _cursor(data.get("cursor", data.get("maxCursor")))
    page.status_code = status_code(data.get("statusCode", data.get("status_code")))
    page.status_msg = text(data.get("statusMsg", data.get("status_msg")))
    return page


def _truthy(value: Any) -> bool:
    # the platform sends true/false, older responses 0/1
    return value is True or (type(value) is int and value != 0)


def _cursor(value: Any) -> str | int | None:
    if type(value) is int:
        return value
    return ident(value)


def status_code(value: Any) -> int | None:
    """A statusCode given as a number or a digit string, else None."""
    if type(value) is int:
        return value
    value = ident(value)
    return int(value) if value is not None and value.lstrip("-").isdigit() and value.isascii() else None
