"""The synthetic world: authors, videos, the related graph, the For-You order and the media specs.

``World.build(videos=N, seed=S)`` is deterministic: the same arguments give the
same tables, the same graph, the same items and (with the same ffmpeg) the same
media bytes. The site (:mod:`sandbox.site`) serves it; tests and benchmarks read
it directly for what the site should answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import CurateError
from sandbox import items, population
from sandbox.aging import Growth, SandboxClock
from sandbox.graph import RelatedGraph, for_you_order, related_graph
from sandbox.media import TEMPLATES, MediaSpec, MediaStore

#: media URLs in items built without a site point here; the site builds them with its own base URL
PLACEHOLDER_BASE = "http://sandbox.invalid"


class UnknownVideo(CurateError, KeyError):
    """The world holds no video (or author) by that id or handle. Raised by ``World`` lookups."""

    def __str__(self) -> str:
        return self.args[0] if self.args else "unknown video"


@dataclass(frozen=True)
class WorldSpec:
    """What a world is built from; equal specs build equal worlds."""

    videos: int = 500
    seed: int = 7
    preset: str = "seed-000"
    reference_date: str = "2025-01-01"
    #: content (category, sound, duration) shifts engagement, as synth's planted-signal mode does
    planted_signal: bool = True
    #: share of creators whose counts the site withholds (items without ``stats``)
    hidden_counts: float = 0.05

    def key(self) -> str:
        """A short name for logs and cache folders, e.g. ``v500-s7-seed-000``."""
        return f"v{self.videos}-s{self.seed}-{self.preset}"


#: private accounts a world has (see World.private_accounts)
PRIVATE_ACCOUNTS = 3


class World:
    """A built world: ``authors`` and ``videos`` tables, related lists, For-You order, media store."""

    def __init__(self, spec: WorldSpec, authors: pd.DataFrame, videos: pd.DataFrame, graph: RelatedGraph,
                 feed: np.ndarray, media: MediaStore) -> None:
        self.spec = spec
        self.authors = authors
        self.videos = videos
        self.graph = graph
        self.feed = feed
        self.media = media
        self._row_of = dict(zip(videos["video_id"], range(len(videos))))
        self._author_of = dict(zip(authors["handle"], range(len(authors))))
        self._author_of.update(zip(authors["sec_uid"], range(len(authors))))
        self._ids = videos["video_id"].tolist()
        #: the sandbox's "now": the reference date until a test (or /__sandbox/clock) moves it
        self.clock = SandboxClock(pd.Timestamp(spec.reference_date, tz="UTC").timestamp())

    @classmethod
    def build(cls, videos: int = 500, seed: int = 7, preset: str = "seed-000", reference_date: str = "2025-01-01",
              cache_dir: Path | str | None = None, planted_signal: bool = True, hidden_counts: float = 0.05) -> World:
        """Draws a world of ``videos`` videos from ``seed``; media are made lazily under ``cache_dir``."""
        if not 1 <= videos <= population.MAX_VIDEOS:
            raise CurateError(f"a sandbox world holds 1 to {population.MAX_VIDEOS:,} videos, not {videos:,}")
        if not 0 <= hidden_counts <= 1:
            raise CurateError(f"hidden counts is a share from 0 to 1, not {hidden_counts}")
        spec = WorldSpec(videos, seed, preset, reference_date, planted_signal, hidden_counts)
        reference = pd.Timestamp(reference_date, tz="UTC")
        authors = population.draw_authors(population.author_count(videos), seed, preset, reference, hidden_counts)
        table = population.draw_videos(videos, seed, authors, preset, reference, planted_signal)
        table = table.join(population.draw_captions(table, authors, seed)).join(population.draw_states(videos, seed))
        table = _share_duplicate_media(table)
        authors = items.author_totals(authors, table)
        graph = related_graph(table, population.stream(seed, population.S_GRAPH))
        feed = for_you_order(table, population.stream(seed, population.S_FEED))
        return cls(spec, authors, table, graph, feed, MediaStore(cache_dir))

    # ---- lookups -------------------------------------------------------------------------------

    @property
    def items(self) -> list[str]:
        """Public video ids in For-You order (the feed pages through this list)."""
        return [self._ids[i] for i in self.feed]

    @property
    def ids(self) -> list[str]:
        """Every video id, public or not, in table order."""
        return list(self._ids)

    def row(self, video_id: str) -> int:
        """The table row of ``video_id``; raises :class:`UnknownVideo`."""
        try:
            return self._row_of[str(video_id)]
        except KeyError:
            raise UnknownVideo(f"no video {video_id} in this sandbox world") from None

    def has(self, video_id: str) -> bool:
        """True when the world holds ``video_id``."""
        return str(video_id) in self._row_of

    def visibility(self, video_id: str) -> str:
        """``public``, ``private`` or ``deleted``."""
        return self.videos.at[self.row(video_id), "visibility"]

    def related(self, video_id: str) -> list[str]:
        """The ordered, finite related list of ``video_id`` (ids; may name private or deleted videos)."""
        return [self._ids[i] for i in self.graph.row(self.row(video_id))]

    def author_row(self, handle_or_sec_uid: str) -> int:
        """The authors-table row of a handle (``uniqueId``) or ``secUid``; raises :class:`UnknownVideo`."""
        try:
            return self._author_of[handle_or_sec_uid]
        except KeyError:
            raise UnknownVideo(f"no author {handle_or_sec_uid!r} in this sandbox world") from None

    def author_videos(self, author_row: int) -> list[str]:
        """The public videos of one author, newest first (what their profile lists)."""
        mine = self.videos[(self.videos["author_row"] == author_row) & (self.videos["visibility"] == "public")]
        return mine.sort_values("create_time", ascending=False)["video_id"].tolist()

    @cached_property
    def private_accounts(self) -> dict[str, dict[str, Any]]:
        """A few private accounts, by handle and by secUid: their profiles show counts (each mirrors an author's) and
        list no video; they own none of the world's videos, so that nothing else of the world changes."""
        builder = self.item_builder(PLACEHOLDER_BASE)
        found: dict[str, dict[str, Any]] = {}
        for row in range(min(PRIVATE_ACCOUNTS, len(self.authors))):
            info = builder.user_info(row)
            handle = f"private.{info['user']['uniqueId']}"[:24]
            user = {**info["user"], "uniqueId": handle, "id": f"{info['user']['id']}0", "privateAccount": True,
                    "secUid": f"{info['user']['secUid']}.private"}
            found[handle] = found[user["secUid"]] = {**info, "user": user}
        return found

    # ---- time --------------------------------------------------------------------------------

    @cached_property
    def growth(self) -> Growth:
        """Every video's growth curve and deletion time (see :mod:`sandbox.aging`)."""
        return Growth.draw(self.videos, self.spec.seed, self.clock.start)

    def counts_now(self, row: int, columns: dict[str, list] | None = None) -> dict[str, int]:
        """The video's plays, likes, comments, shares and saves at the clock's time."""
        drawn = columns if columns is not None else self.videos
        return self.growth.counts(drawn, row, self.clock.now())

    def gone_now(self, video_id: str) -> bool:
        """True when the video was deleted before the clock's time (it was public at the reference date)."""
        return self.growth.gone(self.row(video_id), self.clock.now())

    # ---- payloads ------------------------------------------------------------------------------

    def item_struct(self, video_id: str, base_url: str = PLACEHOLDER_BASE) -> dict[str, Any]:
        """The video as the platform's ``itemStruct``, its media URLs on ``base_url``."""
        return self.item_builder(base_url).item(self.row(video_id))

    def user_info(self, handle_or_sec_uid: str, base_url: str = PLACEHOLDER_BASE) -> dict[str, Any]:
        """``{user, stats, statsV2}`` as ``/api/user/detail/`` answers in ``userInfo``."""
        return self.item_builder(base_url).user_info(self.author_row(handle_or_sec_uid))

    def video_path(self, video_id: str) -> str:
        """The video page's path, ``/@handle/video/ID``."""
        row = self.row(video_id)
        return f"/@{self.videos.at[row, 'handle']}/video/{self._ids[row]}"

    def item_builder(self, base_url: str) -> items.ItemBuilder:
        """The (cached) builder of this world's payloads with media URLs on ``base_url``."""
        builders = self.__dict__.setdefault("_builders", {})
        if base_url not in builders:
            builders[base_url] = items.ItemBuilder(self, base_url)
        return builders[base_url]

    # ---- media ---------------------------------------------------------------------------------

    def media_spec(self, video_id: str) -> MediaSpec:
        """What the video's file is: template, seconds, kind (duplicates name their original's file)."""
        row = self.row(video_id)
        v = self.videos
        owner = int(v.at[row, "dup_of"]) if v.at[row, "media_kind"] == "duplicate" else row
        kind = "ok" if owner != row else v.at[row, "media_kind"]
        return MediaSpec(self._ids[owner], int(v.at[owner, "template"]), int(v.at[owner, "duration"]), kind,
                         bool(v.at[owner, "faststart"]), int(v.at[owner, "recipe"]))

    def media_path(self, video_id: str) -> Path:
        """The video's media file in the cache, made (ffmpeg, then PyAV) on first use."""
        return self.media.path(self.media_spec(video_id))

    def prepare_media(self, video_ids: list[str] | None = None, workers: int = 2) -> Iterator[Path]:
        """Makes the media files of ``video_ids`` (default: every video) now, ``workers`` at a time; yields each path."""
        ids = self.ids if video_ids is None else video_ids
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sandbox-media") as pool:
            # templates first, one per worker, so that no two threads wait on the same ffmpeg encode
            templates = sorted({self.media_spec(v).template for v in ids})
            list(pool.map(self.media.template_path, templates))
            yield from pool.map(self.media_path, ids)

    def media_bytes(self, video_id: str) -> bytes:
        """The bytes the site serves at the video's ``playAddr``/``downloadAddr``."""
        return self.media_path(video_id).read_bytes()

    def template_of(self, video_id: str):
        """The media template of the video's file (fps, size, audio)."""
        return TEMPLATES[self.media_spec(video_id).template]

    @cached_property
    def fingerprint(self) -> str:
        """A digest of every table and list of the world: equal for equal specs."""
        digest = hashlib.sha256()
        for frame in (self.authors, self.videos):
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        for array in (self.graph.offsets, self.graph.targets, self.feed):
            digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def __repr__(self) -> str:
        return f"World({self.spec.key()}, {len(self.authors)} authors, {len(self.feed)} in the feed)"


def _share_duplicate_media(videos: pd.DataFrame) -> pd.DataFrame:
    """A duplicate's file is its original's, so it declares the original's template and duration."""
    dup = videos["dup_of"].to_numpy()
    mask = dup >= 0
    for column in ("template", "duration", "recipe"):
        values = videos[column].to_numpy().copy()
        values[mask] = values[dup[mask]]
        videos[column] = values
    return videos
