"""Catalog contents for the snapshot tests, built in the tests (no files, no network)."""

from __future__ import annotations

from datetime import datetime

from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord


def item(vid: int, author: int, likes: int | None = None, followers: int | None = 1000, plays: int | None = None) -> ParsedItem:
    """A video of author ``author`` whose handle appears in its caption, hashtags and music title."""
    handle = f"creator_{author:03d}"
    metrics = None
    if likes is not None:
        metrics = MetricRecord(plays=plays or likes * 10, likes=likes, comments=likes // 10, shares=likes // 20,
                               saves=likes // 30, author_followers=followers)
    return ParsedItem(
        video=VideoRecord(
            id=str(7_100_000_000_000_000_000 + vid), author_id=str(6_800_000_000_000_000_000 + author),
            caption=f"duet with @friend_{vid} and me {handle} #fyp", hashtags=("fyp", handle.upper()),
            create_time=datetime(2024, 1, 1 + vid % 28), duration_s=10.0 + vid % 50, width=576, height=1024,
            music_id=str(9000 + vid % 7), music_title=f"original sound - {handle}", music_original=vid % 2 == 0,
        ),
        author=AuthorRecord(id=str(6_800_000_000_000_000_000 + author), handle=handle, nickname=f"Nick {author}",
                            followers=followers, hearts=None if followers is None else 50_000,
                            video_count=None if followers is None else 40),
        metrics=metrics,
        raw={"id": vid},
        source_format="test",
    )


def catalog_items(n: int, authors: int = 25, observed_every: int = 2, start: int = 0) -> list[ParsedItem]:
    """``n`` videos over ``authors`` authors; every ``observed_every``-th has observed metrics (the rest: none)."""
    return [
        item(v, v % authors, likes=(v * 37) % 5000 + 10 if v % observed_every == 0 else None,
             followers=((v % authors) * 911) % 20_000 + 100)
        for v in range(start, start + n)
    ]


def secrets_of(items: list[ParsedItem]) -> set[str]:
    """Every raw author id and handle that must never appear in a snapshot or an export."""
    out = set()
    for it in items:
        if it.author:
            out |= {it.author.id, it.author.handle or "", (it.author.handle or "").upper()}
        out.add(it.video.author_id or "")
    return {s for s in out if s}
