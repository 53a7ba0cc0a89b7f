"""The world's rows in the platform's JSON shapes: web ``itemStruct`` and ``/api/user/detail/`` ``userInfo``.

The fields, their names and their types follow real payloads (see
``/work/shared/realdata``): counts as ints in ``stats`` and as strings in
``statsV2``, ``authorStats`` in every item, hashtags both in ``challenges`` and in
``textExtra`` with their offsets in the caption. Items are built once per row and
base URL, then reused; the site also keeps their serialised bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd

from sandbox import vocab
from sandbox.media import TEMPLATES

if TYPE_CHECKING:
    from sandbox.world import World

COUNT_FIELDS = (("diggCount", "likes"), ("shareCount", "shares"), ("commentCount", "comments"),
                ("playCount", "plays"), ("collectCount", "saves"))


def author_totals(authors: pd.DataFrame, videos: pd.DataFrame) -> pd.DataFrame:
    """Adds ``video_count``, ``hearts`` and ``digg_count``: profile totals consistent with the world's videos."""
    n = len(authors)
    rows = videos["author_row"].to_numpy()
    in_world = np.bincount(rows, minlength=n)
    likes = np.bincount(rows, weights=videos["likes"].to_numpy(dtype=float), minlength=n)
    total = in_world + authors["extra_videos"].to_numpy()
    # the profile counts videos the world does not hold: their hearts scale with the ones it does
    authors["video_count"] = total
    authors["hearts"] = np.rint(likes * total / np.maximum(in_world, 1)).astype(np.int64)
    authors["digg_count"] = np.rint(authors["following"].to_numpy() * 3.7).astype(np.int64)
    return authors


class ItemBuilder:
    """Builds (and caches) the JSON payloads of one world with media URLs on one base URL."""

    def __init__(self, world: World, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.world = world
        self._version = world.clock.version
        self.videos = {name: column.tolist() for name, column in world.videos.items()}
        self.authors = {name: column.tolist() for name, column in world.authors.items()}
        self.tags, _, self._tag_index_of = vocab.tag_table()
        self.tag_ids = [vocab.stable_id(f"tag:{name}", 5 + i % 10) for i, name in enumerate(self.tags)]
        self._bytes: dict[int, bytes] = {}

    def item(self, row: int) -> dict[str, Any]:
        """The ``itemStruct`` of video row ``row`` (a fresh dict: callers may change it)."""
        return self._build_item(row)

    def item_bytes(self, row: int) -> bytes:
        """The ``itemStruct`` of ``row`` serialised once (the site joins these into responses)."""
        if self.world.clock.version != self._version:
            # the clock moved: counts (and deletions) changed, so every cached payload is stale
            self._bytes, self._version = {}, self.world.clock.version
        cached = self._bytes.get(row)
        if cached is None:
            cached = self._bytes[row] = orjson.dumps(self._build_item(row))
        return cached

    def _build_item(self, row: int) -> dict[str, Any]:
        v = self.videos
        video_id = v["video_id"][row]
        author_row = v["author_row"][row]
        caption = v["caption"][row]
        tags = [self.tags[t] for t in (v["tag_1"][row], v["tag_2"][row], v["tag_3"][row]) if t >= 0]
        counts = self.world.counts_now(row, v)
        item: dict[str, Any] = {
            "id": video_id,
            "desc": caption,
            "createTime": v["create_time"][row],
            "video": self._video(row),
            "author": self._author(author_row),
            "music": self._music(row),
            "challenges": [self._challenge(t) for t in tags],
            "stats": {key: counts[col] for key, col in COUNT_FIELDS},
            "statsV2": {**{key: str(counts[col]) for key, col in COUNT_FIELDS}, "repostCount": "0"},
            "duetInfo": {"duetFromId": "0"},
            "originalItem": False, "officalItem": False, "secret": False, "forFriend": False, "digged": False,
            "itemCommentStatus": 0, "showNotPass": False, "vl1": False, "itemMute": False,
            "authorStats": self._author_stats(author_row),
            "privateItem": v["visibility"][row] == "private",
            "duetEnabled": True, "stitchEnabled": True, "shareEnabled": True, "isAd": False,
            "duetDisplay": 0, "stitchDisplay": 0,
            "diversificationLabels": [v["category"][row].capitalize()],
            "categoryType": vocab.CATEGORY_TYPE[v["category"][row]],
        }
        if self.authors["hides_counts"][author_row]:
            # the platform withholds some creators' counts: the item then carries no stats at all
            del item["stats"], item["statsV2"]
        extra = self._text_extra(caption, tags)
        if extra:
            item["textExtra"] = extra
        if not tags:
            del item["challenges"]
        return item

    def _video(self, row: int) -> dict[str, Any]:
        v = self.videos
        video_id = v["video_id"][row]
        template = TEMPLATES[v["template"][row]]
        media = f"{self.base}/media/{video_id}.mp4"
        cover = f"{self.base}/cover/{video_id}.png"
        quality = f"{min(template.width, template.height)}p"
        return {
            "id": video_id, "height": template.height, "width": template.width, "duration": int(v["duration"][row]),
            "ratio": quality, "cover": cover, "originCover": cover, "dynamicCover": cover,
            "playAddr": media, "downloadAddr": f"{media}?watermark=1", "shareCover": ["", cover], "reflowCover": cover,
            "bitrate": 60_000 + 4_000 * template.fps, "encodedType": "normal", "format": "mp4",
            "videoQuality": "normal", "encodeUserTag": "", "codecType": "h264", "definition": quality,
        }

    def _author(self, row: int) -> dict[str, Any]:
        a = self.authors
        avatar = f"{self.base}/cover/a{a['author_id'][row]}.png"
        return {
            "id": a["author_id"][row], "uniqueId": a["handle"][row], "nickname": a["nickname"][row],
            "avatarThumb": avatar, "avatarMedium": avatar, "avatarLarger": avatar,
            "signature": f"{vocab.CATEGORIES[a['main_category'][row]]} videos every week",
            "verified": bool(a["verified"][row]), "secUid": a["sec_uid"][row], "secret": False, "ftc": False,
            "relation": 0, "openFavorite": False, "commentSetting": 0, "duetSetting": 0, "stitchSetting": 0,
            "privateAccount": False, "downloadSetting": 0,
            "createTime": int(a["account_created_at"][row].timestamp()),
        }

    def _author_stats(self, row: int) -> dict[str, int]:
        a = self.authors
        followers, following = int(a["followers"][row]), int(a["following"][row])
        return {
            "followingCount": following, "followerCount": followers, "heartCount": int(a["hearts"][row]),
            "videoCount": int(a["video_count"][row]), "diggCount": int(a["digg_count"][row]),
            "heart": int(a["hearts"][row]), "friendCount": min(followers, following) // 10,
        }

    def _music(self, row: int) -> dict[str, Any]:
        v = self.videos
        cover = f"{self.base}/cover/m{v['music_id'][row]}.png"
        # no audio-only files are served: the sound's URL is empty, as for sounds the platform has pulled
        return {
            "id": v["music_id"][row], "title": v["music_title"][row], "playUrl": "",
            "coverThumb": cover, "coverMedium": cover, "coverLarge": cover, "authorName": v["music_author"][row],
            "original": bool(v["music_original"][row]), "duration": int(v["music_duration"][row]), "album": "",
        }

    def _challenge(self, name: str) -> dict[str, Any]:
        index = self._tag_index(name)
        return {"id": self.tag_ids[index], "title": name, "desc": "", "profileThumb": "", "profileMedium": "",
                "profileLarger": "", "coverThumb": "", "coverMedium": "", "coverLarger": "", "isCommerce": False}

    def _tag_index(self, name: str) -> int:
        return self._tag_index_of[name]

    def _text_extra(self, caption: str, tags: list[str]) -> list[dict[str, Any]]:
        extra = []
        for name in tags:
            start = caption.find(f"#{name}")
            extra.append(_extra(start, start + len(name) + 1, hashtagName=name, hashtagId=self.tag_ids[self._tag_index(name)], type=1))
        if caption.startswith("@") or " @" in caption:
            start = caption.find("@")
            handle = caption[start + 1:].split(" ", 1)[0]
            extra.append(_extra(start, start + len(handle) + 1, type=0, userUniqueId=handle))
        return sorted(extra, key=lambda e: e["start"])

    def user_info(self, row: int) -> dict[str, Any]:
        """``{user, stats, statsV2}`` of author row ``row``."""
        stats = self._author_stats(row)
        user = {**self._author(row), "bioLink": {}, "language": "en", "isUnderAge18": False}
        return {"user": user, "stats": stats, "statsV2": {k: str(v) for k, v in stats.items()}}


def _extra(start: int, end: int, **fields: Any) -> dict[str, Any]:
    base = {"awemeId": "", "start": start, "end": end, "hashtagName": "", "hashtagId": "", "type": 1,
            "userId": "", "isCommerce": False, "userUniqueId": "", "secUid": ""}
    return {**base, **fields}
