"""Creator pages in the three generations' real shapes, written here for the tests (not copied from third-party data).

The structure follows what the platform embedded in ``https://www.tiktok.com/@handle``:
``__NEXT_DATA__`` with ``props.pageProps.userInfo`` and ``items`` (2019–2021),
``SIGI_STATE`` with ``UserModule``, ``ItemModule``, ``ItemList`` and ``UserPage``
(2021–2023), ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` with ``webapp.user-detail``
(2023–). Values are invented.
"""

from __future__ import annotations

import json
from typing import Any

from tests.scrapers.payload_samples import web

HANDLE = "baker.bea"
USER = {
    "id": "6812345678901234567", "shortId": "", "uniqueId": HANDLE, "nickname": "Bea Bakes", "avatarLarger": "https://p16/a.jpeg",
    "signature": "sourdough every day", "createTime": 1585000000, "verified": False, "secUid": "MS4wLjABAAAAbea",
    "ftc": False, "relation": 0, "openFavorite": False, "commentSetting": 0, "duetSetting": 0, "stitchSetting": 0,
    "privateAccount": False, "secret": False, "isADVirtual": False, "roomId": "", "uniqueIdModifyTime": 0, "ttSeller": False,
}
STATS = {"followerCount": 48200, "followingCount": 181, "heart": 1290000, "heartCount": 1290000, "videoCount": 214, "diggCount": 3010}
STATS_V2 = {k: str(v) for k, v in STATS.items()}
VIDEO_IDS = ("7212345678901234501", "7212345678901234502", "7212345678901234503")


def _items() -> list[dict[str, Any]]:
    items = []
    for n, vid in enumerate(VIDEO_IDS):
        item = web(id=vid, desc=f"loaf number {n} #baking", createTime=1600000000 + n * 86400,
                   challenges=[{"id": "9", "title": "baking"}], textExtra=[{"hashtagName": "baking", "type": 1}],
                   author={"id": USER["id"], "uniqueId": HANDLE, "nickname": USER["nickname"], "secUid": USER["secUid"]},
                   stats={"diggCount": 100 * (n + 1), "shareCount": n, "commentCount": 10 + n, "playCount": 2000 * (n + 1), "collectCount": 5},
                   authorStats={"followerCount": 47000, "followingCount": 180, "heartCount": 1200000, "videoCount": 210})
        items.append(item)
    return items


def _html(script_id: str, data: Any, wrapper: str = "") -> str:
    body = json.dumps(data)
    return (f'<!DOCTYPE html><html lang="en"><head><title>Bea Bakes (@{HANDLE}) | TikTok</title></head>'
            f'<body><div id="app">{wrapper}</div><script id="{script_id}" type="application/json">{body}</script></body></html>')


def next_data_page() -> str:
    """2019–2021: Next.js page props with the account and the first page of its videos."""
    props = {"pageProps": {"statusCode": 0, "userInfo": {"user": USER, "stats": STATS, "shareMeta": {"title": "Bea"}},
                           "items": _items(), "hasMore": True, "maxCursor": "1600172800000", "userData": {}}}
    return _html("__NEXT_DATA__", {"props": props, "page": "/share/user", "query": {"uniqueId": HANDLE}, "buildId": "abc"})


def sigi_page() -> str:
    """2021–2023: the SIGI_STATE store; ItemModule's items name their author by handle."""
    module = {}
    for item in _items():
        entry = {k: v for k, v in item.items() if k not in ("author", "authorStats")}
        module[item["id"]] = {**entry, "author": HANDLE, "authorId": USER["id"], "nickname": USER["nickname"],
                              "authorSecId": USER["secUid"]}
    data = {
        "AppContext": {"appContext": {"language": "en"}},
        "UserModule": {"users": {HANDLE: USER}, "stats": {HANDLE: STATS}},
        "ItemModule": module,
        "ItemList": {"user-post": {"list": list(reversed(VIDEO_IDS)), "browserList": list(VIDEO_IDS), "hasMore": True, "cursor": "0"}},
        "UserPage": {"uniqueId": HANDLE, "statusCode": 0, "statusMsg": "", "secUid": USER["secUid"]},
    }
    return _html("SIGI_STATE", data)


def universal_page(with_items: bool = False) -> str:
    """2023–: the rehydration data; live pages carry the account only and load videos through the API."""
    detail: dict[str, Any] = {"userInfo": {"user": USER, "stats": STATS, "statsV2": STATS_V2, "itemList": []},
                              "shareMeta": {"title": "Bea"}, "statusCode": 0, "statusMsg": "", "needFix": True}
    if with_items:
        detail["itemList"] = _items()
    scope = {"webapp.app-context": {"language": "en"}, "webapp.user-detail": detail, "seo.abtest": {}}
    return _html("__UNIVERSAL_DATA_FOR_REHYDRATION__", {"__DEFAULT_SCOPE__": scope})


def private_universal_page() -> str:
    """A private or missing account: statusCode and no userInfo."""
    scope = {"webapp.user-detail": {"userInfo": {}, "statusCode": 10222, "statusMsg": "author_secret"}}
    return _html("__UNIVERSAL_DATA_FOR_REHYDRATION__", {"__DEFAULT_SCOPE__": scope})
