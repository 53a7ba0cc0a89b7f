"""Video pages: the ``itemStruct`` a page embeds, and the statusCode it carries.

Three generations of embedding, newest first: ``__UNIVERSAL_DATA_FOR_REHYDRATION__``
(``__DEFAULT_SCOPE__["webapp.video-detail"]``), ``SIGI_STATE`` (``ItemModule`` with
the author in ``UserModule``) and ``__NEXT_DATA__`` (``props.pageProps``). A private
or deleted video's page has a statusCode and no item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.errors import ParseError
from core.records import ParsedItem
from scrapers.payloads.access import dig, obj, text
from scrapers.payloads.feeds import load_json, status_code
from scrapers.payloads.items import ITEM, parse_item

SCRIPT = re.compile(
    r'<script[^>]*\bid="(__UNIVERSAL_DATA_FOR_REHYDRATION__|SIGI_STATE|sigi-persisted-data|__NEXT_DATA__)"[^>]*>(.*?)</script>',
    re.S,
)
#: 10216 private post, 10222 private account (yt-dlp's reading of the codes)
PRIVATE_CODES = frozenset({10216, 10222})
#: 10204: the item does not exist (deleted), or is withheld from this client
NOT_FOUND_CODES = frozenset({10204})


@dataclass(frozen=True)
class PageResult:
    """What a video page held: its item (None when it has none) and its statusCode."""

    item: ParsedItem | None
    status_code: int | None
    status_msg: str | None
    #: which embedding carried the data: universal | sigi | next
    embedding: str


class PageUnavailable(ParseError):
    """A page without an item; ``reason`` is ``private``, ``not_found`` or ``unavailable``.

    Raised by :func:`parse_video_page`; the crawl decides what each reason means for it.
    """

    def __init__(self, reason: str, status_code: int | None, status_msg: str | None = None) -> None:
        detail = f"statusCode {status_code}" + (f" ({status_msg})" if status_msg else "")
        super().__init__(reason, detail)
        self.status_code = status_code
        self.status_msg = status_msg


def unavailable_reason(code: int | None) -> str:
    """The countable reason for a page whose statusCode says it has no item."""
    if code in PRIVATE_CODES:
        return "private"
    if code in NOT_FOUND_CODES:
        return "not_found"
    return "unavailable"


def read_video_page(html: str) -> PageResult:
    """Finds the page's embedded data; raises ParseError ``no_page_data`` or ``malformed_json``."""
    scripts = {name: body for name, body in SCRIPT.findall(html)}
    if "__UNIVERSAL_DATA_FOR_REHYDRATION__" in scripts:
        detail = obj(obj(load_json(scripts["__UNIVERSAL_DATA_FOR_REHYDRATION__"]), "__DEFAULT_SCOPE__"), "webapp.video-detail")
        return _result(dig(detail, "itemInfo", "itemStruct"), detail, "universal")
    sigi = scripts.get("SIGI_STATE") or scripts.get("sigi-persisted-data")
    if sigi is not None:
        data = load_json(sigi)
        return _result(_sigi_item(data), obj(data, "VideoPage"), "sigi")
    if "__NEXT_DATA__" in scripts:
        props = dig(load_json(scripts["__NEXT_DATA__"]), "props", "pageProps")
        return _result(dig(props, "itemInfo", "itemStruct"), props if isinstance(props, dict) else {}, "next")
    raise ParseError("no_page_data", "no __UNIVERSAL_DATA_FOR_REHYDRATION__, SIGI_STATE or __NEXT_DATA__ script")


def parse_video_page(html: str) -> ParsedItem:
    """The item of a video page; raises :class:`PageUnavailable` when the page has none."""
    page = read_video_page(html)
    if page.item is None:
        raise PageUnavailable(unavailable_reason(page.status_code), page.status_code, page.status_msg)
    return page.item


def _result(struct: Any, status_holder: Any, embedding: str) -> PageResult:
    item = parse_item(struct, ITEM) if isinstance(struct, dict) and struct else None
    return PageResult(
        item=item,
        status_code=status_code(dig(status_holder, "statusCode")),
        status_msg=text(dig(status_holder, "statusMsg")),
        embedding=embedding,
    )


def _sigi_item(data: Any) -> dict[str, Any] | None:
    """The page's ItemModule entry, with its author's profile and counts from UserModule put back in."""
    item = next((v for v in obj(data, "ItemModule").values() if isinstance(v, dict)), None)
    if item is None:
        return None
    handle = item.get("author")
    if not isinstance(handle, str):
        return item
    users = obj(data, "UserModule")
    merged = dict(item)
    if isinstance(dig(users, "users", handle), dict):
        merged["author"] = users["users"][handle]
    if "authorStats" not in merged and isinstance(dig(users, "stats", handle), dict):
        merged["authorStats"] = users["stats"][handle]
    return merged
