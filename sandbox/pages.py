"""The site's HTML: the home page, video pages and profiles, rendered from ``sandbox/web/``.

Each page carries its data the way the platform's do — a
``<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">`` JSON under ``__DEFAULT_SCOPE__`` —
and a script that fetches what the real page fetches after load (the feed, the
related videos, the profile's posts), with the in-page signing function and the
``msToken`` cookie TikTokApi relies on.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any

import orjson

WEB = Path(__file__).with_name("web")
HOME_COUNT = 16


@cache
def _template(name: str) -> str:
    text = (WEB / name).read_text()
    if "__COMMON_JS__" in text:
        text = text.replace("__COMMON_JS__", (WEB / "common.js").read_text())
    return text


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` or ``<!--`` can close it early)."""
    return orjson.dumps(value).decode().replace("</", "<\\/").replace("<!--", "<\\!--")


def fill(name: str, values: dict[str, str]) -> bytes:
    """A template of sandbox/web/ with its __KEY__ placeholders filled."""
    text = _template(name)
    for key, value in values.items():
        text = text.replace(f"__{key}__", value)
    return text.encode()


def app_context(region: str = "US") -> dict[str, Any]:
    """The ``webapp.app-context`` scope every page has."""
    return {"language": "en", "region": region, "appId": 1233, "wid": "0", "webIdCreatedTime": "0"}


def home_page(ms_token: str, world_name: str, count: int = HOME_COUNT, universal_json: str | None = None) -> bytes:
    """The For-You home page; its script fetches ``/api/recommend/item_list/`` after load and on scroll."""
    universal = universal_json or script_json({"__DEFAULT_SCOPE__": {"webapp.app-context": app_context()}})
    return fill("home.html", {"MS_TOKEN": ms_token, "WORLD": html.escape(world_name), "COUNT": str(count), "UNIVERSAL": universal})


def video_page(video_id: str, handle: str, canonical: str, status: int, ms_token: str, universal_json: str,
               title: str = "", media_url: str = "") -> bytes:
    """A video page: the item (or just a statusCode) in the rehydration data; related videos fetched after load."""
    title = title or ("Video currently unavailable" if status else f"Video {video_id}")
    return fill("video.html", {
        "MS_TOKEN": ms_token, "TITLE": html.escape(title), "CANONICAL": html.escape(canonical),
        "HANDLE": html.escape(handle), "MEDIA": html.escape(media_url), "VIDEO_ID": video_id,
        "STATUS_TEXT": "" if status == 0 else f"statusCode {status}",
        "AVAILABLE": "true" if status == 0 else "false", "UNIVERSAL": universal_json,
    })


def video_universal(item_json: bytes | None, status: int, desc: str = "") -> str:
    """``__DEFAULT_SCOPE__`` of a video page as script-safe JSON: ``webapp.video-detail`` with
    ``itemInfo.itemStruct`` (spliced from the item's serialised bytes) and ``statusCode``."""
    context = orjson.dumps(app_context()).decode()
    detail = f'"statusCode":{status},"statusMsg":""'
    if item_json is not None and status == 0:
        share = orjson.dumps({"title": desc, "desc": desc}).decode()
        detail += f',"itemInfo":{{"itemStruct":{item_json.decode()}}},"shareMeta":{share}'
    text = f'{{"__DEFAULT_SCOPE__":{{"webapp.app-context":{context},"webapp.video-detail":{{{detail}}}}}}}'
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def user_page(user_info: dict[str, Any] | None, status: int, ms_token: str, listed: bool = True) -> bytes:
    """A profile: ``webapp.user-detail`` with ``userInfo``; the posts list is fetched after load (``listed``: not for
    a private account, whose profile only says so)."""
    detail: dict[str, Any] = {"statusCode": status, "statusMsg": ""}
    if user_info is not None:
        detail["userInfo"] = user_info
    user = (user_info or {}).get("user", {})
    universal = {"__DEFAULT_SCOPE__": {"webapp.app-context": app_context(), "webapp.user-detail": detail}}
    title = f"{user.get('nickname', '')} (@{user.get('uniqueId', '')})" if user else "Couldn't find this account"
    return fill("user.html", {
        "MS_TOKEN": ms_token, "TITLE": html.escape(title), "SEC_UID": html.escape(user.get("secUid", "")),
        "AVAILABLE": "true" if user_info and listed else "false", "UNIVERSAL": script_json(universal),
    })


def captcha_page(fingerprint: str) -> bytes:
    """What a page request gets when the session must solve a captcha (no rehydration data)."""
    return fill("captcha.html", {"FP": html.escape(fingerprint)})


def error_page(status: int, reason: str) -> bytes:
    """A plain HTML error page (404, 429, 5xx)."""
    return f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>\n".encode()
