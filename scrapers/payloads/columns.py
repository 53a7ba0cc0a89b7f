"""Table columns → record fields: the names recognised without a mapping, and ``--map`` pairs.

A table (CSV, Parquet, JSON Lines of flat rows) names its columns as its author
liked: ``likes``, ``diggCount``, ``like_count``. Each record field has a list of
recognised names (compared without case, spaces, ``_``, ``-`` or ``.``); a mapping
pair ``FIELD=COLUMN`` (or ``COLUMN=FIELD``: the side that is a column of the file
is the column) overrides them. ``docs/import.md`` lists the names; a test keeps
that list and this table in step.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ParseError

#: record field → the column names recognised for it (first match in the header wins, in this order)
ALIASES: dict[str, tuple[str, ...]] = {
    "video_id": ("video_id", "id", "item_id", "aweme_id", "post_id", "videoid"),
    "author_id": ("author_id", "author", "user_id", "creator_id", "creator", "uploader_id", "channel_id", "owner_id"),
    "author_handle": ("author_handle", "handle", "username", "user_name", "unique_id", "uniqueId", "author_name", "uploader"),
    "author_nickname": ("nickname", "author_nickname", "display_name"),
    "caption": ("caption", "desc", "description", "text", "title", "video_description"),
    "hashtags": ("hashtags", "hashtag", "tags", "hashtag_names", "challenges"),
    "create_time": ("date", "create_time", "createTime", "created", "posted", "posted_at", "post_date", "upload_date",
                    "published_at", "publish_time", "timestamp", "video_date"),
    "duration_s": ("duration", "duration_s", "video_duration", "duration_seconds", "length_s"),
    "width": ("width", "video_width"),
    "height": ("height", "video_height"),
    "category": ("category", "categories", "genre", "content_category", "topic"),
    "music_id": ("music_id", "musicId", "sound_id"),
    "music_title": ("music_title", "music", "musicName", "sound", "sound_title", "track"),
    "music_original": ("music_original", "musicOriginal", "original_sound"),
    "url": ("url", "video_url", "webVideoUrl", "webpage_url", "link"),
    "media_url": ("media_url", "download_url", "play_addr", "videoUrl"),
    "plays": ("plays", "views", "play_count", "playCount", "view_count", "video_views", "viewCount", "n_views"),
    "likes": ("likes", "like_count", "diggCount", "digg_count", "likeCount", "hearts", "n_likes"),
    "comments": ("comments", "comment_count", "commentCount", "n_comments"),
    "shares": ("shares", "share_count", "shareCount", "reposts", "repost_count", "n_shares"),
    "saves": ("saves", "save_count", "collectCount", "collect_count", "favorites", "favorites_count", "bookmarks"),
    "followers": ("followers", "follower_count", "followerCount", "fans", "author_followers", "subscribers"),
    "following": ("following", "following_count", "followingCount", "author_following"),
    "hearts": ("author_hearts", "heart_count", "heartCount", "total_likes", "author_likes"),
    "video_count": ("video_count", "videoCount", "author_video_count", "author_videos"),
    "verified": ("verified", "is_verified", "author_verified"),
    "account_created_at": ("account_created_at", "account_created", "author_created_at", "user_created_at",
                           "account_creation_date", "account_create_time", "created_account"),
}
COUNT_FIELDS = ("plays", "likes", "comments", "shares", "saves", "followers", "following", "hearts", "video_count")
ENGAGEMENT_FIELDS = ("plays", "likes", "comments", "shares", "saves")


def normalise(name: str) -> str:
    """A column name compared without case, spaces, ``_``, ``-`` or ``.``."""
    return re.sub(r"[\s_.\-]+", "", str(name)).lower()


_BY_ALIAS = {normalise(alias): name for name, aliases in ALIASES.items() for alias in (name, *aliases)}


@dataclass(frozen=True)
class ColumnMap:
    """Which column feeds which record field, and the columns nothing reads."""

    fields: dict[str, str]
    unused: tuple[str, ...] = ()

    def describe(self) -> str:
        """``field←column`` pairs, for messages."""
        return ", ".join(f"{f}←{c}" for f, c in self.fields.items())


@dataclass(frozen=True)
class ColumnMapping:
    """``--map`` pairs as given (``likes=diggCount`` or ``diggCount=likes``), resolved against a header."""

    pairs: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def parse(cls, specs: Iterable[str]) -> ColumnMapping:
        """Pairs from ``--map`` values: ``a=b,c=d`` lists, or paths of TOML files (a ``[map]`` table or top-level keys)."""
        pairs: list[tuple[str, str]] = []
        for spec in specs:
            if spec.endswith(".toml"):
                pairs.extend(_toml_pairs(Path(spec)))
                continue
            for part in filter(None, (p.strip() for p in spec.split(","))):
                left, sep, right = part.partition("=")
                if not sep or not left.strip() or not right.strip():
                    raise ParseError("bad_mapping", f"{part!r}: write FIELD=COLUMN, e.g. likes=diggCount")
                pairs.append((left.strip(), right.strip()))
        return cls(tuple(pairs))

    def resolve(self, header: Sequence[str]) -> ColumnMap:
        """The field of each column: mapping pairs first, then the recognised names."""
        columns = {c: c for c in header}
        by_norm = {normalise(c): c for c in reversed(header)}
        chosen: dict[str, str] = {}
        for left, right in self.pairs:
            target, column = _side(left, right, columns, by_norm)
            chosen[target] = column
        taken = set(chosen.values())
        for name, aliases in ALIASES.items():
            found = next((by_norm[n] for n in map(normalise, (name, *aliases)) if n in by_norm and by_norm[n] not in taken), None)
            if name not in chosen and found is not None:
                chosen[name] = found
                taken.add(found)
        chosen = {f: chosen[f] for f in ALIASES if f in chosen}
        if "video_id" not in chosen:
            raise ParseError(
                "no_video_id_column",
                f"no column holds the video id (columns: {', '.join(header[:12])}); recognised names are "
                f"{', '.join(ALIASES['video_id'])}, or map one with --map video_id=COLUMN",
            )
        return ColumnMap(fields=chosen, unused=tuple(c for c in header if c not in set(chosen.values())))


def _side(left: str, right: str, columns: Mapping[str, str], by_norm: Mapping[str, str]) -> tuple[str, str]:
    """(field, column) of one pair, whichever way round it was written."""
    for fld, col in ((left, right), (right, left)):
        target = _BY_ALIAS.get(normalise(fld))
        column = columns.get(col) or by_norm.get(normalise(col))
        if target is not None and column is not None:
            return target, column
    raise ParseError(
        "bad_mapping",
        f"--map {left}={right}: one side must be a record field ({', '.join(ALIASES)}) and the other a column "
        f"of the file (columns: {', '.join(list(columns)[:12])})",
    )


def _toml_pairs(path: Path) -> list[tuple[str, str]]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ParseError("bad_mapping", f"mapping file {path} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParseError("bad_mapping", f"mapping file {path} is not valid TOML: {exc}") from None
    table = data.get("map", data)
    return [(str(k), str(v)) for k, v in table.items() if not isinstance(v, dict)]
