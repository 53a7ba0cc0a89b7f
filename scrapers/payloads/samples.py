"""Deterministic synthetic payloads in the platform's real ``itemStruct`` shape.

For the demo, the import benchmark and the streaming tests: the same seed gives
the same bytes. Items carry every key a real For-You item carries (signed media
URLs, covers, avatars …), so that they are about as large as real ones (5–6 kB).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

FIRST_VIDEO_ID = 7_100_000_000_000_000_000
FIRST_AUTHOR_ID = 6_800_000_000_000_000_000
CDN = "https://v16-webapp-prime.tiktok.com/video/tos/useast2a/tos-useast2a-pve-0068"
IMG = "https://p16-sign-va.tiktokcdn.com/obj/tos-maliva-p-0068"
TAGS = ("fyp", "foryou", "funny", "dance", "cat", "dog", "food", "diy", "music", "comedy", "gaming", "beauty", "sports")


def _signed(base: str, key: str, seed: int) -> str:
    sig = f"{(seed * 2654435761) & 0xFFFFFFFF:08x}{key[-8:]}"
    return f"{base}/{key}/?a=1988&br=3316&bt=1658&cd=0%7C0%7C1&ch=0&cr=0&cs=0&cv=1&dr=0&ds=3&er=&expire=1700000000&l=2023{key[:12]}&lr=tiktok_m&mime_type=video_mp4&net=0&pl=0&policy=2&qs=0&rc={sig}MzZjczM0ApNWY0O2QzaDszNzxlOTRlN2dkbzVl&signature={sig}&tk=tt_chain_token&vl=&vr="


class SampleFeed:
    """A deterministic population of authors and videos, drawn as columns, written as itemStructs."""

    def __init__(self, n: int, seed: int = 0, authors: int | None = None) -> None:
        rng = np.random.default_rng(seed)
        self.n, self.seed = n, seed
        self.author_of = rng.integers(0, authors or max(1, n // 20), size=n)
        followers = np.round(10 ** rng.uniform(2, 6.5, size=(authors or max(1, n // 20)))).astype(np.int64)
        self.followers = followers
        self.plays = np.round(10 ** rng.uniform(3, 7.5, size=n)).astype(np.int64)
        self.likes = (self.plays * rng.uniform(0.01, 0.2, size=n)).astype(np.int64)
        self.comments = (self.likes * rng.uniform(0.01, 0.1, size=n)).astype(np.int64)
        self.shares = (self.likes * rng.uniform(0.005, 0.07, size=n)).astype(np.int64)
        self.saves = (self.likes * rng.uniform(0.01, 0.1, size=n)).astype(np.int64)
        self.duration = rng.integers(5, 62, size=n)
        self.create_time = rng.integers(1_600_000_000, 1_700_000_000, size=n)
        self.tags = rng.integers(0, len(TAGS), size=(n, 3))
        self.n_tags = rng.integers(0, 4, size=n)

    def item(self, i: int) -> dict[str, Any]:
        """The i-th item, as the web feed returns it."""
        vid, a = str(FIRST_VIDEO_ID + self.seed * 10_000_000 + i), int(self.author_of[i])
        handle = f"creator_{self.seed}_{a}"
        tags = list(dict.fromkeys(TAGS[t] for t in self.tags[i, : self.n_tags[i]]))
        stats = {"diggCount": int(self.likes[i]), "shareCount": int(self.shares[i]), "commentCount": int(self.comments[i]),
                 "playCount": int(self.plays[i]), "collectCount": int(self.saves[i])}
        return {
            "id": vid, "desc": f"video {i} " + " ".join(f"#{t}" for t in tags), "createTime": int(self.create_time[i]),
            "video": self._video(vid, i), "author": self._author(a, handle), "music": self._music(vid, handle),
            "challenges": [{"id": str(1000 + TAGS.index(t)), "title": t, "desc": "", "profileThumb": "", "coverThumb": "", "isCommerce": False} for t in tags],
            "stats": stats, "statsV2": {k: str(v) for k, v in stats.items()},
            "duetInfo": {"duetFromId": "0"}, "originalItem": False, "officalItem": False, "secret": False,
            "forFriend": False, "digged": False, "itemCommentStatus": 0, "showNotPass": False, "vl1": False,
            "itemMute": False, "authorStats": self._author_stats(a), "privateItem": False, "duetEnabled": True,
            "stitchEnabled": True, "shareEnabled": True, "isAd": False, "duetDisplay": 0, "stitchDisplay": 0,
            "textExtra": [{"awemeId": "", "start": 0, "end": len(t) + 1, "hashtagName": t, "hashtagId": str(1000 + TAGS.index(t)),
                           "type": 1, "userId": "", "isCommerce": False, "userUniqueId": "", "secUid": ""} for t in tags],
        }

    def _video(self, vid: str, i: int) -> dict[str, Any]:
        play = _signed(CDN, f"{vid}a{i:08x}", i)
        return {
            "id": vid, "height": 1024, "width": 576, "duration": int(self.duration[i]), "ratio": "720p",
            "cover": f"{IMG}/{vid}c?x-expires=1700000000&x-signature=aGVsbG8gd29ybGQgc2lnbmF0dXJl%3D",
            "originCover": f"{IMG}/{vid}o?x-expires=1700000000&x-signature=b3JpZ2luIGNvdmVyIHNpZ25hdHVyZQ%3D",
            "dynamicCover": f"{IMG}/{vid}d?x-expires=1700000000&x-signature=ZHluYW1pYyBjb3ZlciBzaWduYXR1cmU%3D",
            "playAddr": play, "downloadAddr": play.replace("a=1988", "a=1233"),
            "shareCover": ["", f"{IMG}/{vid}~tplv-tiktok-play.jpeg?x-expires=1700000000&x-signature=c2hhcmUgY292ZXI%3D"],
            "reflowCover": f"{IMG}/{vid}r?x-expires=1700000000&x-signature=cmVmbG93IGNvdmVyIHNpZ25hdHVyZQ%3D",
            "bitrate": 1_000_000 + (i % 997) * 1000, "encodedType": "normal", "format": "mp4", "videoQuality": "normal",
            "encodeUserTag": "", "codecType": "h264", "definition": "720p",
        }

    def _author(self, a: int, handle: str) -> dict[str, Any]:
        avatar = f"https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/{a:032x}~c5_{{}}.jpeg?x-expires=1700000000&x-signature=YXZhdGFyIHNpZ25hdHVyZQ%3D"
        return {
            "id": str(FIRST_AUTHOR_ID + self.seed * 10_000_000 + a), "uniqueId": handle, "nickname": f"Creator {a}",
            "avatarThumb": avatar.format("100x100"), "avatarMedium": avatar.format("720x720"), "avatarLarger": avatar.format("1080x1080"),
            "signature": "", "verified": bool(a % 17 == 0), "secUid": f"MS4wLjABAAAA{a:040x}{self.seed:08x}", "secret": False, "ftc": False,
            "relation": 0, "openFavorite": False, "commentSetting": 0, "duetSetting": 0, "stitchSetting": 0, "privateAccount": False,
        }

    def _music(self, vid: str, handle: str) -> dict[str, Any]:
        cover = f"https://p16-sign-va.tiktokcdn.com/tos-useast2a-avt-0068-aiso/{vid}~c5_{{}}.jpeg?x-expires=1700000000&x-signature=bXVzaWMgY292ZXI%3D"
        return {
            "id": str(int(vid) + 1), "title": f"original sound - {handle}",
            "playUrl": f"https://sf16-ies-music-va.tiktokcdn.com/obj/musically-maliva-obj/{vid}.mp3",
            "coverThumb": cover.format("100x100"), "coverMedium": cover.format("720x720"), "coverLarge": cover.format("1080x1080"),
            "authorName": handle, "original": True, "duration": 30, "album": "",
        }

    def _author_stats(self, a: int) -> dict[str, int]:
        followers = int(self.followers[a])
        return {"followingCount": 50 + a % 500, "followerCount": followers, "heartCount": followers * 12,
                "videoCount": 20 + a % 300, "diggCount": a % 5000, "heart": followers * 12}

    def items(self) -> Iterator[dict[str, Any]]:
        """Every item, in order."""
        return (self.item(i) for i in range(self.n))

    def write_json_array(self, path: Path) -> Path:
        """Writes the items as a JSON array, one item per line (how exporters commonly write), atomically."""
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as out:
            out.write(b"[\n")
            for i in range(self.n):
                out.write(orjson.dumps(self.item(i)) + (b",\n" if i < self.n - 1 else b"\n"))
            out.write(b"]\n")
        return tmp.replace(path)
