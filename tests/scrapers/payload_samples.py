"""Payloads in the platform's real shapes, written for the parser tests (not copied from third-party data)."""

from __future__ import annotations

import copy
from typing import Any

WEB_ITEM: dict[str, Any] = {
    "id": "7301234567890123456",
    "desc": "sunset run #Running #fyp",
    "createTime": 1700000000,
    "video": {"id": "7301234567890123456", "height": 1280, "width": 720, "duration": 23, "ratio": "720p",
              "playAddr": "https://v16-webapp.tiktok.com/play/abc", "downloadAddr": "https://v16-webapp.tiktok.com/dl/abc",
              "cover": "https://p16-sign.tiktokcdn.com/cover.jpeg"},
    "author": {"id": "6801234567890123456", "uniqueId": "runner.jo", "nickname": "Jo Runs", "verified": True,
               "secUid": "MS4wLjABAAAAexample", "privateAccount": False},
    "music": {"id": "7301111111111111111", "title": "original sound - runner.jo", "authorName": "runner.jo", "original": True, "duration": 23},
    "challenges": [{"id": "1", "title": "running"}, {"id": "2", "title": "fyp"}],
    "textExtra": [{"hashtagName": "Running", "type": 1}, {"hashtagName": "fyp", "type": 1}, {"hashtagName": "", "type": 0, "userUniqueId": "friend"}],
    "stats": {"diggCount": 1200, "shareCount": 15, "commentCount": 40, "playCount": 25000, "collectCount": 77},
    "authorStats": {"followingCount": 310, "followerCount": 5400, "heartCount": 98000, "videoCount": 120, "diggCount": 5, "heart": 98000},
    "isAd": False,
}


def web(**changes: Any) -> dict[str, Any]:
    """A copy of WEB_ITEM; ``changes`` replace top-level keys (None removes one)."""
    item = copy.deepcopy(WEB_ITEM)
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


SCRAPER_ROW: dict[str, Any] = {
    "id": "6901234567890123456",
    "text": "my cat judges me #cat #Pets",
    "createTime": 1609000000,
    "authorMeta": {"id": "6701234567890123456", "secUid": "MS4wLjABAAAAcat", "name": "catperson", "nickName": "Cat Person",
                   "verified": False, "following": 12, "fans": 45000, "heart": 900000, "video": 88, "digg": 3},
    "musicMeta": {"musicId": "6901111111111111111", "musicName": "original sound", "musicAuthor": "Cat Person", "musicOriginal": True, "duration": 11},
    "covers": {"default": "https://p16.tiktokcdn.com/c.jpeg"},
    "webVideoUrl": "https://www.tiktok.com/@catperson/video/6901234567890123456",
    "videoUrl": "https://v16-web.tiktok.com/video/cat.mp4",
    "videoUrlNoWaterMark": "",
    "videoMeta": {"height": 1024, "width": 576, "duration": 11},
    "diggCount": 3100, "shareCount": 20, "playCount": 61000, "commentCount": 75,
    "downloaded": False, "mentions": [],
    "hashtags": [{"id": "1", "name": "cat", "title": "", "cover": ""}, {"id": "2", "name": "Pets", "title": "", "cover": ""}],
}

YTDLP_INFO: dict[str, Any] = {
    "id": "7201234567890123456",
    "title": "a dance #dance",
    "description": "a dance #dance #Trend",
    "uploader": "dancer_x",
    "uploader_id": "6601234567890123456",
    "channel": "Dancer X",
    "channel_id": "MS4wLjABAAAAdance",
    "timestamp": 1680000000,
    "duration": 14,
    "width": 576,
    "height": 1024,
    "view_count": 9000, "like_count": 800, "comment_count": 12, "repost_count": 4, "save_count": 30,
    "track": "Song Name", "artist": "Someone",
    "webpage_url": "https://www.tiktok.com/@dancer_x/video/7201234567890123456",
    "url": "https://v16.tiktokcdn.com/direct.mp4",
    "extractor": "TikTok", "extractor_key": "TikTok",
    "http_headers": {"User-Agent": "x", "Cookie": "sessionid=secret"},
    "formats": [{"format_id": "0", "url": "https://v16.tiktokcdn.com/f.mp4", "cookies": "tt_chain_token=secret; Domain=.tiktok.com"}],
}


def universal_page(detail: dict[str, Any]) -> str:
    """A video page of today's generation around a ``webapp.video-detail`` object."""
    import json

    data = {"__DEFAULT_SCOPE__": {"webapp.app-context": {"language": "en"}, "webapp.video-detail": detail}}
    return (
        '<!DOCTYPE html><html><head><title>TikTok</title></head><body><div id="app"></div>'
        f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{json.dumps(data)}</script>'
        "<script>window.x = 1;</script></body></html>"
    )


def sigi_page(item: dict[str, Any], user: dict[str, Any], stats: dict[str, Any], status: int = 0) -> str:
    """A SIGI_STATE page: the item in ItemModule (author as a handle), the profile in UserModule."""
    import json

    handle = user["uniqueId"]
    module_item = {**{k: v for k, v in item.items() if k not in ("author", "authorStats")}, "author": handle,
                   "authorId": user["id"], "nickname": user["nickname"]}
    data = {"AppContext": {}, "VideoPage": {"statusCode": status}, "ItemModule": {item["id"]: module_item},
            "UserModule": {"users": {handle: user}, "stats": {handle: stats}}}
    return f'<html><body><script id="SIGI_STATE" type="application/json">{json.dumps(data)}</script></body></html>'


def next_page(item: dict[str, Any] | None, status: int = 0) -> str:
    """A late-2020 page: ``__NEXT_DATA__`` → props.pageProps.itemInfo.itemStruct."""
    import json

    props: dict[str, Any] = {"statusCode": status, "serverCode": 200}
    if item is not None:
        props["itemInfo"] = {"itemStruct": item}
    data = {"props": {"pageProps": props}, "page": "/@[uniqueId]/video/[id]"}
    return f'<html><script id="__NEXT_DATA__" type="application/json" crossorigin="anonymous">{json.dumps(data)}</script></html>'
