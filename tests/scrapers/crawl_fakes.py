"""An in-memory platform for testing the crawl engine without a site: a graph, a feed, faults."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord
from scrapers.source import Blocked, NotFound, Page, Private, RateLimited, SourceStats, TransientError, Withheld


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def item(vid: str) -> ParsedItem:
    """A record as a parser would yield it, with a missing field to count."""
    return ParsedItem(
        video=VideoRecord(id=vid, author_id=str(900 + int(vid) % 7), caption=f"video {vid}"),
        author=AuthorRecord(id=str(900 + int(vid) % 7), handle=f"user{int(vid) % 7}", followers=1000),
        metrics=MetricRecord(plays=int(vid), likes=int(vid) // 10),
        raw={"id": vid},
        source_format="item",
        missing=("music",),
    )


@dataclass
class FakeSource:
    """A deterministic graph of ``n`` videos; faults are drawn from (key, attempt) like the sandbox's."""

    n: int = 400
    related_len: int = 16
    feed_page: int = 10
    transient_rate: float = 0.0
    block_after: int | None = None
    private: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()
    #: after this many requests every answer is statusCode 10204 (an IP block)
    ipblock_after: int | None = None
    endless_related: bool = False
    #: set by this source's first related call; a source given it as ``related_after`` waits for it there,
    #: so that two workers in one test surely both expand (an event, not a delay)
    related_started: threading.Event | None = None
    related_after: threading.Event | None = None
    name: str = "fake"
    stats: SourceStats = field(default_factory=SourceStats)
    attempts: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def _take_turn(self) -> None:
        if self.related_started is not None:
            self.related_started.set()
        if self.related_after is not None and not self.related_after.wait(120):
            raise AssertionError("the other worker never expanded")

    def ids(self) -> list[str]:
        return [str(10_000 + i) for i in range(self.n)]

    def __enter__(self) -> FakeSource:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _request(self, key: str) -> None:
        if key.startswith("related:"):
            self._take_turn()
        self.stats.requests += 1
        self.calls.append(key)
        if self.block_after is not None and self.stats.requests > self.block_after:
            raise Blocked("captcha required — fake", reason="captcha")
        if self.ipblock_after is not None and self.stats.requests > self.ipblock_after:
            raise Withheld(f"{key}: statusCode 10204")
        attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        if self.transient_rate and _h("fault", key, attempt) % 1000 < self.transient_rate * 1000:
            if _h("kind", key, attempt) % 2:
                raise RateLimited(f"{key}: HTTP 429")
            raise TransientError(f"{key}: HTTP 503", reason="http_503")

    def feed(self, count: int, cursor=None) -> Page:
        start = int(cursor or 0)
        self._request(f"feed:{start}")
        order = sorted(self.ids(), key=lambda v: _h("fyp", v))
        chunk = order[start : start + min(count, self.feed_page)]
        return Page(items=[item(v) for v in chunk], has_more=start + len(chunk) < len(order), cursor=start + len(chunk))

    def related(self, video_id: str, count: int, cursor=None) -> Page:
        self._request(f"related:{video_id}:{cursor}")
        if video_id in self.private:
            raise Private(f"related of {video_id}: statusCode 10216")
        if video_id in self.deleted:
            raise Withheld(f"related of {video_id}: statusCode 10204")
        if self.endless_related:
            return Page(items=[], has_more=True, cursor=int(cursor or 0) + 1)
        ids = self.ids()
        # a neighbourhood plus a few popular videos, like a real related list
        near = [ids[(int(video_id) - 10_000 + 1 + _h(video_id, k) % 40) % self.n] for k in range(self.related_len - 3)]
        popular = [ids[_h("pop", k) % 20] for k in range(3)]
        return Page(items=[item(v) for v in near + popular][:count], has_more=False)

    def video(self, video_id: str, handle=None) -> ParsedItem:
        self._request(f"video:{video_id}")
        if int(video_id) - 10_000 >= self.n:
            raise NotFound(f"video {video_id}: statusCode 10204")
        return item(video_id)

    def author(self, handle: str) -> AuthorRecord:
        self._request(f"author:{handle}")
        return AuthorRecord(id="1", handle=handle)


class WorldSource:
    """The sandbox world read directly (no HTTP): the reference every backend's crawl must equal."""

    name = "world"

    def __init__(self, world) -> None:
        from scrapers.parse import parse_item

        self.world, self._parse = world, parse_item
        self.stats = SourceStats()

    def __enter__(self) -> WorldSource:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _items(self, ids) -> list[ParsedItem]:
        return [self._parse(self.world.item_struct(i)) for i in ids]

    def feed(self, count: int, cursor=None) -> Page:
        start = int(cursor or 0)
        ids = self.world.items[start : start + min(count, 30)]
        return Page(self._items(ids), has_more=start + len(ids) < len(self.world.items), cursor=start + len(ids))

    def related(self, video_id: str, count: int, cursor=None) -> Page:
        state = self.world.visibility(video_id)
        if state == "private":
            raise Private(f"related of {video_id}: statusCode 10216")
        if state == "deleted":
            raise Withheld(f"related of {video_id}: statusCode 10204")
        ids = self.world.related(video_id)
        start = int(cursor or 0)
        page = ids[start : start + count]
        return Page(self._items(page), has_more=start + len(page) < len(ids), cursor=start + len(page))

    def video(self, video_id: str, handle=None) -> ParsedItem:
        return self._items([video_id])[0]

    def author(self, handle: str) -> AuthorRecord:
        raise NotFound("not needed")
