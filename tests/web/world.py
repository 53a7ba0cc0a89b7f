"""A demo-like catalog for the web tests: videos with captions and sounds, media with planted reposts, a crawl,
probe facts, verdicts, simulated metrics, two snapshot versions and a trained run — built through the real CLI."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa

from db.catalog import write_items
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import CrawlItem, CrawlRun, Video
from sandbox.reposts import original_clip, plant_repost
from tests.conftest import Cli
from tests.snapshots.builders import catalog_items, secrets_of

VIDEOS, LATER_VIDEOS, AUTHORS = 120, 12, 15
#: index of the video → (clip seed, repost kind or None for the original); plus one clip too short for the rules
MEDIA = {0: (0, None), 1: (0, "reupload"), 2: (0, "reencode"), 3: (0, "crop"), 4: (1, None), 5: (1, "copy"),
         6: (2, None), 7: (3, None), 8: (4, None), 9: (5, None), 10: (6, "short")}
#: the planted groups by video index (the short clip belongs to none)
PLANTED = ({0, 1, 2, 3}, {4, 5})
RULES = "require_media = false\nnear_duplicates = true\n"


def video_id(index: int) -> str:
    """The catalog id of the builders' video ``index``."""
    return str(7_100_000_000_000_000_000 + index)


@dataclass
class World:
    """Where the catalog is and what was planted in it."""

    home: Path
    db_url: str
    secrets: set[str] = field(default_factory=set)
    media: dict[str, Path] = field(default_factory=dict)

    def cli(self) -> Cli:
        """The in-process CLI on this catalog."""
        return Cli(self.home, self.db_url)


def _media_files(folder: Path) -> dict[int, Path]:
    originals = {seed: original_clip(folder / f"clip{seed}.mp4", seed) for seed in range(6)}
    originals[6] = original_clip(folder / "short.mp4", 6, seconds=2)
    out = {}
    for index, (seed, kind) in MEDIA.items():
        if kind in (None, "short"):
            out[index] = originals[seed]
        else:
            out[index] = plant_repost(originals[seed], folder / f"clip{seed}.{kind}.mp4", kind)
    return out


def _attach_media(engine, home: Path, files: dict[int, Path]) -> dict[str, Path]:
    rows, placed = [], {}
    for index, source in files.items():
        target = home / "media" / f"{video_id(index)}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        target.write_bytes(data)
        placed[video_id(index)] = target
        rows.append({"b_id": video_id(index), "path": f"media/{target.name}", "sha": hashlib.sha256(data).hexdigest(), "size": len(data)})
    v = Video.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(v).where(v.c.id == sa.bindparam("b_id")).values(
            media_path=sa.bindparam("path"), media_sha256=sa.bindparam("sha"), media_size=sa.bindparam("size")), rows)
    return placed


def _crawl(engine) -> None:
    """One crawl: five seeds at depth 0, each with three related videos at depth 1."""
    with engine.begin() as conn:
        run_id = conn.execute(sa.insert(CrawlRun.__table__).values(status="finished", source="sandbox")).inserted_primary_key[0]
        rows, seq = [], 0
        for seed in range(5):
            rows.append({"run_id": run_id, "video_id": video_id(seed * 4), "seq": seq, "depth": 0, "parent_id": None})
            seq += 1
            for child in range(1, 4):
                rows.append({"run_id": run_id, "video_id": video_id(seed * 4 + child), "seq": seq, "depth": 1, "parent_id": video_id(seed * 4)})
                seq += 1
        conn.execute(sa.insert(CrawlItem.__table__), rows)


#: every seventh video's caption also says this (a search term that survives scrubbing)
SEARCH_WORDS = "dancing cat"


def _captioned(index: int, item):
    if index % 7:
        return item
    video = replace(item.video, caption=f"{item.video.caption} {SEARCH_WORDS.title()}", hashtags=(*item.video.hashtags, "cats"))
    return replace(item, video=video)


def build_world(home: Path, db_url: str, clips: Path) -> World:
    """Builds the catalog, media, snapshots ``web@v1``, ``web@v2`` and the run ``webrun``."""
    engine = create_catalog_engine(db_url)
    upgrade(engine)
    items = [_captioned(i, it) for i, it in enumerate(catalog_items(VIDEOS, authors=AUTHORS))]
    write_items(engine, items, "test")
    world = World(home, db_url, secrets_of(items))
    world.media = _attach_media(engine, home, _media_files(clips))
    _crawl(engine)
    cli = world.cli()
    (home / "rules.toml").write_text(RULES)
    for args in (("probe", "--workers", "1"), ("dedup",), ("filter", "--rules", home / "rules.toml"), ("synth", "--seed", "1"),
                 ("snapshot", "create", "web", "--seed", "1")):
        cli(*args)
    later = catalog_items(LATER_VIDEOS, authors=AUTHORS, start=VIDEOS)
    write_items(engine, later, "test")
    world.secrets |= secrets_of(later)
    engine.dispose()
    for args in (("filter", "--rules", home / "rules.toml"), ("synth", "--seed", "2"), ("snapshot", "create", "web", "--seed", "1"),
                 ("train", "web@v2", "--seed", "1", "--epochs", "3", "--run", "webrun")):
        cli(*args)
    return world
