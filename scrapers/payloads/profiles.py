"""Creator pages: the account (counts, creation time) and every video the page lists, in each generation's shape.

- ``__NEXT_DATA__`` (2019–2021): ``props.pageProps.userInfo`` = ``{user, stats}`` and
  ``props.pageProps.items`` (itemStructs);
- ``SIGI_STATE`` (2021–2023): ``UserModule.users[handle]`` and ``UserModule.stats[handle]``,
  the videos in ``ItemModule`` (keyed by id, ``author`` = handle), listed in
  ``ItemList["user-post"].list``;
- ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` (2023–): ``__DEFAULT_SCOPE__["webapp.user-detail"]``
  = ``{userInfo: {user, stats, statsV2}, statusCode}``; such pages load their videos
  through the API, so an ``itemList`` is read when a saved page has one.

The account found on the page is put into every listed video's author, since the
page is the creator's own and its counts are the newest the file holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import ParseError
from core.records import AuthorRecord, ParsedItem
from scrapers.payloads.access import author_ident, best_count, dig, flag, obj, text, timestamp
from scrapers.payloads.feeds import load_json, status_code
from scrapers.payloads.items import ITEM, parse_item
from scrapers.payloads.pages import SCRIPT, unavailable_reason

#: a cheap test before the page's JSON is decoded
USER_PAGE = re.compile(r'webapp\.user-detail|"UserPage"|"user-post"|"userInfo"')


@dataclass(frozen=True)
class UserPage:
    """What a creator page held: the account (None when the page has none), its videos and its statusCode."""

    author: AuthorRecord | None
    items: list[ParsedItem] = field(default_factory=list)
    skipped: list[ParseError] = field(default_factory=list)
    status_code: int | None = None
    #: universal | sigi | next
    embedding: str = ""


def read_user_page(html: str) -> UserPage | None:
    """The creator page's account and videos; None when ``html`` is not a creator page."""
    scripts = {name: body for name, body in SCRIPT.findall(html)}
    if "__UNIVERSAL_DATA_FOR_REHYDRATION__" in scripts:
        scope = obj(load_json(scripts["__UNIVERSAL_DATA_FOR_REHYDRATION__"]), "__DEFAULT_SCOPE__")
        detail = scope.get("webapp.user-detail")
        if isinstance(detail, dict):
            return _page(obj(detail, "userInfo"), detail.get("itemList"), detail, "universal")
    sigi = scripts.get("SIGI_STATE") or scripts.get("sigi-persisted-data")
    if sigi is not None:
        data = load_json(sigi)
        if isinstance(data, dict) and ("UserPage" in data or "user-post" in obj(data, "ItemList")):
            return _sigi_page(data)
    if "__NEXT_DATA__" in scripts:
        props = dig(load_json(scripts["__NEXT_DATA__"]), "props", "pageProps")
        if isinstance(props, dict) and isinstance(props.get("userInfo"), dict):
            return _page(props["userInfo"], props.get("items"), props, "next")
    return None


def parse_user_page(html: str) -> Iterator[ParsedItem | AuthorRecord | ParseError]:
    """The page's videos (each with the page's account), or the account alone when it lists none.

    Raises ParseError (``private``, ``not_found``, ``unavailable``) for a page
    without an account, and ``no_page_data`` when ``html`` is no creator page.
    """
    page = read_user_page(html)
    if page is None:
        raise ParseError("no_page_data", "no creator page data (webapp.user-detail, UserModule or userInfo)")
    if page.author is None and not page.items:
        raise ParseError(unavailable_reason(page.status_code), f"statusCode {page.status_code}")
    yield from page.items
    yield from page.skipped
    if not page.items and page.author is not None:
        yield page.author


def user_record(user_info: Any) -> AuthorRecord | None:
    """``{user, stats, statsV2}`` → the account, with counts and creation time; None without an id."""
    user, stats, v2 = obj(user_info, "user"), obj(user_info, "stats"), obj(user_info, "statsV2")
    author_id = author_ident(user.get("id")) or author_ident(user.get("uniqueId"))
    if author_id is None:
        return None
    return AuthorRecord(
        id=author_id, handle=text(user.get("uniqueId")), nickname=text(user.get("nickname")),
        sec_uid=text(user.get("secUid")), verified=flag(user.get("verified")),
        followers=best_count("followerCount", v2.get("followerCount"), stats.get("followerCount")),
        following=best_count("followingCount", v2.get("followingCount"), stats.get("followingCount")),
        hearts=best_count("heartCount", v2.get("heartCount"), stats.get("heartCount"), stats.get("heart")),
        video_count=best_count("videoCount", v2.get("videoCount"), stats.get("videoCount")),
        created_at=timestamp(user.get("createTime")),
    )


def _page(user_info: Any, items: Any, status_holder: Any, embedding: str) -> UserPage:
    author = user_record(user_info)
    parsed, skipped = _items(items if isinstance(items, list) else [], author)
    return UserPage(author=author, items=parsed, skipped=skipped, embedding=embedding,
                    status_code=status_code(dig(status_holder, "statusCode")))


def _sigi_page(data: dict[str, Any]) -> UserPage:
    users = obj(data, "UserModule")
    handle = text(dig(data, "UserPage", "uniqueId")) or next(iter(obj(users, "users")), None)
    info = {"user": dig(users, "users", handle) or {}, "stats": dig(users, "stats", handle) or {}}
    author = user_record(info)
    module = obj(data, "ItemModule")
    listed = dig(data, "ItemList", "user-post", "list")
    order = [i for i in listed if isinstance(i, str | int)] if isinstance(listed, list) else list(module)
    entries = [module.get(str(i)) for i in order] + [v for k, v in module.items() if k not in set(map(str, order))]
    merged = [_with_sigi_author(e, users) for e in entries if isinstance(e, dict)]
    parsed, skipped = _items(merged, author)
    return UserPage(author=author, items=parsed, skipped=skipped, embedding="sigi",
                    status_code=status_code(dig(data, "UserPage", "statusCode")))


def _with_sigi_author(item: dict[str, Any], users: Any) -> dict[str, Any]:
    handle = item.get("author")
    if not isinstance(handle, str) or not isinstance(dig(users, "users", handle), dict):
        return item
    merged = {**item, "author": users["users"][handle]}
    if "authorStats" not in merged and isinstance(dig(users, "stats", handle), dict):
        merged["authorStats"] = users["stats"][handle]
    return merged


def _items(payloads: list[Any], author: AuthorRecord | None) -> tuple[list[ParsedItem], list[ParseError]]:
    parsed, skipped = [], []
    for payload in payloads:
        try:
            item = parse_item(payload, ITEM)
        except ParseError as exc:
            skipped.append(exc)
            continue
        parsed.append(_owned(item, author))
    return parsed, skipped


def _owned(item: ParsedItem, author: AuthorRecord | None) -> ParsedItem:
    """The item with the page's account as its author (the page's values win, the item's fill gaps)."""
    if author is None or (item.author is not None and item.author.id != author.id and item.video.author_id is not None):
        return item
    base = item.author
    fields = {n: getattr(author, n) if getattr(author, n) is not None else (getattr(base, n) if base else None)
              for n in AuthorRecord.__slots__}
    video = replace(item.video, author_id=author.id, author_handle=item.video.author_handle or author.handle)
    return replace(item, author=AuthorRecord(**fields), video=video)
