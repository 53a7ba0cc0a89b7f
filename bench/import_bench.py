"""Import benchmark: generated ``itemStruct`` records of real size (about 5 kB) into fresh SQLite catalogs.

One run prints, as a table, each figure beside the alternative it is judged against:

- reading the file: our reader (``iter_records``, decode and parse) and the decoders it was chosen
  among: a ``raw_decode`` window with the orjson line fast path, the window alone, ijson's yajl2_c backend;
- end to end: ``curate import FILE --json`` as its own process (file → catalog), and its peak memory;
- the catalog write alone (``db.catalog.write_items``: authors, videos, observations, exact counts)
  against raw ``sqlite3.executemany`` of the same rows (the ceiling);
- the same write against a naive loop of ``session.add()`` per record (get-or-create), on 10,000 records.

The end-to-end and write figures are also taken on compact records carrying only the fields SPEC.md
lists for an ``itemStruct`` (about 550 B), so the table shows what the record size does and does not
explain.

Targets (issue 2): end to end ≥ 20,000 records/s; write ≥ 0.5× raw executemany; ≥ 10× the naive
loop; peak memory < 1 GB. Run: ``./run bench import`` (``IMPORT_BENCH_RECORDS=N`` for a smaller run).
"""

from __future__ import annotations

import itertools
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

TARGET_RATE = 20_000
NAIVE_RECORDS = 10_000
#: the decoders are compared on the file's first records
READ_RECORDS = 20_000


@dataclass
class Row:
    """One line of the printed table: wall-clock time, and CPU time (what a shared machine does not steal)."""

    what: str
    records: int
    seconds: float
    cpu: float
    note: str = ""

    @property
    def rate(self) -> float:
        """Records per second of wall-clock time."""
        return self.records / self.seconds if self.seconds else float("inf")

    @property
    def cpu_rate(self) -> float:
        """Records per second of CPU time (all threads)."""
        return self.records / self.cpu if self.cpu else float("inf")


def timed(fn: Callable[[], int]) -> tuple[int, float, float]:
    """Runs ``fn`` (which returns a record count); its count, wall seconds and CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n, time.perf_counter() - start, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fresh_catalog(folder: Path, name: str):
    """A migrated, empty SQLite catalog with the project's settings."""
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    engine = create_catalog_engine(f"sqlite:///{folder / name}")
    upgrade(engine)
    return engine


def reading_rows(path: Path) -> list[Row]:
    """Our reader and the decoders it was chosen among, over the first records of the same file."""
    import ijson

    from scrapers.parse import iter_records
    from scrapers.payloads.jsonstream import JsonStream

    def stream(one_per_line: bool) -> int:
        with path.open(encoding="utf-8") as f:
            s = JsonStream(f, one_per_line=one_per_line)
            s.expect("[")
            return _count(s.elements())

    def with_ijson() -> int:
        with path.open("rb") as f:
            return _count(ijson.items(f, "item", use_float=True))

    rows = [Row("read+parse: iter_records (ours)", *timed(lambda: _count(iter_records(path))), "decode + parse_item")]
    rows.append(Row("decode: raw_decode window + orjson lines", *timed(lambda: stream(True)), "chosen"))
    rows.append(Row("decode: raw_decode window only", *timed(lambda: stream(False)), "any layout"))
    rows.append(Row(f"decode: ijson {ijson.backend}", *timed(with_ijson), "alternative"))
    return rows


def _count(values: Iterator) -> int:
    return sum(1 for _ in itertools.islice(values, READ_RECORDS))


SPEC_FIELDS = {"video": ("duration", "width", "height"), "author": ("id", "uniqueId"), "music": ("id", "title", "original"),
               "authorStats": ("followerCount", "followingCount", "heartCount", "videoCount")}


def compact(item: dict) -> dict:
    """An item cut down to the fields SPEC.md lists for ``itemStruct``."""
    out = {k: item[k] for k in ("id", "desc", "createTime", "stats")}
    out.update({part: {k: item[part][k] for k in keys} for part, keys in SPEC_FIELDS.items()})
    out["challenges"] = [{"id": c["id"], "title": c["title"]} for c in item.get("challenges", [])]
    return out


def write_compact(records: int, path: Path) -> Path:
    """The same generated records, compact, as one JSON array with one item per line (like the full file)."""
    from scrapers.payloads.samples import SampleFeed

    lines = b",\n".join(orjson.dumps(compact(i)) for i in SampleFeed(records, seed=1).items())
    path.write_bytes(b"[\n" + lines + b"\n]\n")
    return path


#: runs ``curate`` and reports the peak memory of its own address space: VmHWM. (ru_maxrss, even
#: RUSAGE_SELF, carries over the spawning process's high-water mark through exec.)
PEAK_REPORTING_CURATE = """
import re, sys
from curate.cli import main
try:
    main()
finally:
    status = open("/proc/self/status").read()
    sys.stderr.write("\\nPEAK_KB " + re.search(r"VmHWM:\\s+(\\d+)", status).group(1) + "\\n")
"""


def end_to_end(path: Path, folder: Path, label: str = "") -> tuple[Row, float]:
    """``curate import`` in its own process; returns its row and its peak memory in MB."""
    name = f"e2e{label.replace(' ', '-')}"
    env = {**os.environ, "CURATE_HOME": str(folder / name), "CURATE_DB_URL": f"sqlite:///{folder / name}.db"}
    start, cpu = time.perf_counter(), _children_cpu()
    command = [sys.executable, "-c", PEAK_REPORTING_CURATE, "import", str(path), "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"curate import failed:\n{done.stderr}")
    counts = orjson.loads(done.stdout)
    peak_mb = int(done.stderr.rsplit("PEAK_KB ", 1)[1].split()[0]) / 1024
    return Row(f"end to end: curate import (own process){label}", counts["new"], seconds, cpu, f"peak {peak_mb:,.0f} MB"), peak_mb


def batches(path: Path, size: int = 2000) -> Iterator[list]:
    """Parsed items, batch by batch (parsing is not timed in the write comparisons)."""
    from core.records import ParsedItem
    from db.upsert import batched
    from scrapers.parse import iter_records

    return batched((r for r in iter_records(path) if isinstance(r, ParsedItem)), size)


def write_rows(path: Path, folder: Path, label: str = "") -> tuple[Row, Row, Row]:
    """``write_batch`` per batch against raw ``executemany`` of the same rows (and SQLite's share of that), each on its own catalog."""
    from db.catalog import write_batch
    from db.types import utcnow

    tag = label.replace(" ", "-")
    ours = fresh_catalog(folder, f"ours{tag}.db")
    fresh_catalog(folder, f"raw{tag}.db").dispose()
    raw = RawWriter(folder / f"raw{tag}.db")
    mine, ceiling = [0.0, 0.0], [0.0, 0.0]
    n = 0
    for batch in batches(path):
        wall, cpu = time.perf_counter(), time.process_time()
        with ours.begin() as conn:
            write_batch(conn, batch, "import:item", utcnow())
        wall2, cpu2 = time.perf_counter(), time.process_time()
        raw.write(batch)
        mine = [mine[0] + wall2 - wall, mine[1] + cpu2 - cpu]
        ceiling = [ceiling[0] + time.perf_counter() - wall2, ceiling[1] + time.process_time() - cpu2]
        n += len(batch)
    ours.dispose()
    return (Row(f"write: db.catalog.write_items (ours){label}", n, *mine, "upsert, exact counts"),
            Row(f"write: raw sqlite3.executemany{label}", n, *ceiling, "ceiling, same rows"),
            Row(f"write: SQLite alone, rows prebuilt{label}", n, raw.sqlite_seconds, raw.sqlite_cpu, "floor: executemany calls only"))


class RawWriter:
    """The same rows as ``write_batch`` writes, sent with ``sqlite3.executemany`` and nothing else."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.sqlite_seconds = self.sqlite_cpu = 0.0
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"):
            self.conn.execute(pragma)

    def write(self, batch: list) -> None:
        """Authors, videos and observations of one batch, in one transaction.

        The rows are built in Python first; the time SQLite alone takes to write them is added to
        ``sqlite_seconds``: the floor under any writer of these rows on this machine.
        """
        from db.catalog import metric_fingerprint

        now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
        authors = {i.author.id: i.author for i in batch if i.author is not None}
        author_rows = [(a.id, a.handle, a.nickname, a.sec_uid, a.followers, a.following, a.hearts, a.video_count,
                        a.verified, "observed", now, now) for a in authors.values()]
        video_rows = [self._video(i, now) for i in batch]
        obs_rows = [(i.video.id, now, m.plays, m.likes, m.comments, m.shares, m.saves, m.author_followers, "observed", "import:item",
                     metric_fingerprint([m.plays, m.likes, m.comments, m.shares, m.saves, m.author_followers]))
                    for i in batch if (m := i.metrics) is not None]
        start, cpu = time.perf_counter(), time.process_time()
        with self.conn:
            self.conn.executemany("INSERT INTO author (id, handle, nickname, sec_uid, followers, following, hearts, video_count, verified, "
                                  "stats_provenance, first_seen_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                                  "ON CONFLICT(id) DO NOTHING", author_rows)
            self.conn.executemany("INSERT INTO video (id, author_id, caption, hashtags, create_time, duration_s, width, height, music_id, "
                                  "music_title, music_original, url, media_url, raw, source_format, first_seen_at, updated_at, "
                                  "download_attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0) ON CONFLICT(id) DO NOTHING", video_rows)
            self.conn.executemany("INSERT INTO metric_observation (video_id, observed_at, plays, likes, comments, shares, saves, "
                                  "author_followers, provenance, source, fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                                  "ON CONFLICT DO NOTHING", obs_rows)
        self.sqlite_seconds += time.perf_counter() - start
        self.sqlite_cpu += time.process_time() - cpu

    @staticmethod
    def _video(item, now: str) -> tuple:
        v = item.video
        created = v.create_time.strftime("%Y-%m-%d %H:%M:%S.000000") if v.create_time else None
        return (v.id, v.author_id, v.caption, orjson.dumps(list(v.hashtags)).decode(), created, v.duration_s, v.width, v.height,
                v.music_id, v.music_title, v.music_original, v.url, v.media_url, orjson.dumps(item.raw).decode(), item.source_format, now, now)


def naive_rows(path: Path, folder: Path) -> tuple[Row, Row]:
    """Our write and a get-or-create ``session.add()`` per record, on the first 10,000 records."""
    from db.catalog import write_items

    items = []
    for batch in batches(path):
        items.extend(batch)
        if len(items) >= NAIVE_RECORDS:
            break
    items = items[:NAIVE_RECORDS]
    ours = fresh_catalog(folder, "ours10k.db")
    measured = timed(lambda: write_items(ours, items, "import:item").new)
    ours.dispose()
    naive = fresh_catalog(folder, "naive.db")
    row = Row("write: session.add() per record (naive)", *timed(lambda: naive_loop(naive, items)), "get-or-create, ORM")
    naive.dispose()
    return Row(f"write: db.catalog.write_items, {len(items):,} records", *measured, "same records"), row


def naive_loop(engine, items) -> int:
    """What a first attempt looks like: look each row up, create or update it, add it, commit at the end."""
    from sqlmodel import Session

    from db.catalog import metric_fingerprint
    from db.models import Author, MetricObservation, Video

    with Session(engine) as session:
        for item in items:
            if item.author is not None:
                author = session.get(Author, item.author.id) or Author(id=item.author.id)
                author.handle, author.followers, author.stats_provenance = item.author.handle, item.author.followers, "observed"
                session.add(author)
            video = session.get(Video, item.video.id) or Video(id=item.video.id)
            for name in ("author_id", "caption", "create_time", "duration_s", "width", "height", "music_id", "music_title", "url", "media_url"):
                setattr(video, name, getattr(item.video, name))
            video.hashtags, video.raw, video.source_format = list(item.video.hashtags), item.raw, item.source_format
            session.add(video)
            session.flush()  # the ORM does not order the observation after its video by itself
            m = item.metrics
            values = [m.plays, m.likes, m.comments, m.shares, m.saves, m.author_followers]
            session.add(MetricObservation(video_id=item.video.id, plays=m.plays, likes=m.likes, comments=m.comments, shares=m.shares,
                                          saves=m.saves, author_followers=m.author_followers, provenance="observed",
                                          source="import:item", fingerprint=metric_fingerprint(values)))
        session.commit()
    return len(items)


def report(rows: list[Row], checks: list[tuple[str, bool]]) -> None:
    """Prints the table and the targets."""
    width = max(len(r.what) for r in rows)
    print(f"\n| {'what':<{width}} | records | seconds | records/s | CPU s | records/CPU-s | note")
    print(f"|{'-' * (width + 2)}|---------|---------|-----------|-------|---------------|------")
    for r in rows:
        print(f"| {r.what:<{width}} | {r.records:>7,} | {r.seconds:>7.2f} | {r.rate:>9,.0f} | {r.cpu:>5.2f} | {r.cpu_rate:>13,.0f} | {r.note}")
    print()
    for text, ok in checks:
        print(f"  [{'met' if ok else 'MISSED'}] {text}")


def main() -> int:
    """Generates the file, runs every measurement, prints the table; exit 1 when a target is missed."""
    from scrapers.payloads.samples import SampleFeed

    records = int(os.environ.get("IMPORT_BENCH_RECORDS", "100000"))
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        path = SampleFeed(records, seed=1).write_json_array(folder / "items.json")
        size = path.stat().st_size
        print(f"{records:,} itemStruct records, {size / 1e6:,.0f} MB ({size / records:,.0f} B each), "
              f"written in {time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        e2e, peak_mb = end_to_end(path, folder)
        reading = reading_rows(path)
        rows = [e2e, *reading]
        mine, ceiling, floor = write_rows(path, folder)
        ours10k, naive = naive_rows(path, folder)
        rows += [mine, ceiling, floor, ours10k, naive]
        small = write_compact(records, folder / "compact.json")
        print(f"compact records: {small.stat().st_size / records:,.0f} B each")
        e2e_small, _ = end_to_end(small, folder, " compact")
        rows += [e2e_small, *write_rows(small, folder, " compact")]
    print("(records/s: wall clock, the figure the targets are about; records/CPU-s: what the process itself used,"
          " which other processes on a shared machine do not change much)")
    checks = [
        (f"end to end {e2e.rate:,.0f} records/s ≥ {TARGET_RATE:,}", e2e.rate >= TARGET_RATE),
        (f"end to end, compact records, {e2e_small.rate:,.0f} records/s ≥ {TARGET_RATE:,}", e2e_small.rate >= TARGET_RATE),
        (f"write {mine.rate / ceiling.rate:.2f}× raw executemany ≥ 0.5×", mine.rate >= 0.5 * ceiling.rate),
        (f"write {ours10k.rate / naive.rate:.1f}× the naive loop ≥ 10×", ours10k.rate >= 10 * naive.rate),
        (f"peak memory {peak_mb:,.0f} MB < 1,024 MB", peak_mb < 1024),
    ]
    report(rows, checks)
    parse = reading[0]  # our reader: decode + parse
    serial = 1 / (1 / parse.rate + 1 / floor.rate)
    print(f"\n  bounds on this machine: read+parse alone {parse.rate:,.0f} records/s, SQLite alone {floor.rate:,.0f} records/s;"
          f" one process doing both with no other work ≤ {serial:,.0f} records/s")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
