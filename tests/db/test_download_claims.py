"""Claiming download work: never twice, failures retried on later runs only, stale claims freed."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from core.records import ParsedItem, VideoRecord
from db.catalog import write_items
from db.download_jobs import DownloadOutcome
from db.downloads import LEASE, MAX_ATTEMPTS, claim, pending_count, record, release
from db.models import Video
from db.types import utcnow


def seed_videos(engine, n: int) -> list[str]:
    ids = [str(5_000 + i) for i in range(n)]
    items = [ParsedItem(VideoRecord(id=v, media_url=f"http://127.0.0.1:1/{v}.mp4"), None, None, {"id": v}, "item") for v in ids]
    write_items(engine, items, "test")
    return ids


def test_concurrent_workers_never_claim_the_same_video(engine):
    ids = seed_videos(engine, 300)
    since = utcnow()
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(6)

    def worker(name: str) -> None:
        barrier.wait()
        mine = claimed.setdefault(name, [])
        while jobs := claim(engine, name, 7, since):
            mine.extend(j.video_id for j in jobs)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [v for vs in claimed.values() for v in vs]
    assert sorted(everything) == ids, "a video was claimed twice or not at all"
    assert sum(1 for vs in claimed.values() if vs) >= 2, "only one worker got work"


def test_failures_wait_for_the_next_run_and_stop_after_max_attempts(engine):
    (vid,) = seed_videos(engine, 1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        since = utcnow()
        (job,) = claim(engine, "w", 10, since)
        record(engine, [DownloadOutcome(vid, error="http_500: boom")])
        assert claim(engine, "w", 10, since) == [], "retried within the same run"
    assert claim(engine, "w", 10, utcnow()) == [], f"retried after {MAX_ATTEMPTS} attempts"
    assert [j.video_id for j in claim(engine, "w", 10, utcnow(), retry_failed=True)] == [vid]
    with engine.connect() as conn:
        attempts, error = conn.execute(sa.select(Video.download_attempts, Video.download_error)).one()
    assert attempts == MAX_ATTEMPTS + 1 and error == "http_500: boom"


def test_success_is_recorded_and_never_claimed_again(engine):
    (vid,) = seed_videos(engine, 1)
    claim(engine, "w", 10, utcnow())
    record(engine, [DownloadOutcome(vid, "media/5000.mp4", "ab" * 32, 123)])
    with engine.connect() as conn:
        row = conn.execute(sa.select(Video.media_path, Video.media_size, Video.download_error, Video.claimed_by)).one()
    assert tuple(row) == ("media/5000.mp4", 123, None, None)
    assert claim(engine, "w", 10, utcnow(), retry_failed=True) == []


def test_released_and_stale_claims_are_free_again(engine):
    ids = seed_videos(engine, 2)
    since = utcnow()
    assert len(claim(engine, "dead", 1, since)) == 1
    assert len(claim(engine, "alive", 10, since)) == 1
    assert release(engine, "alive") == 1
    assert [j.video_id for j in claim(engine, "again", 10, since)] == [ids[1]]
    with engine.begin() as conn:
        conn.execute(sa.update(Video).where(Video.id == ids[0]).values(claimed_at=utcnow() - LEASE - timedelta(minutes=1)))
    assert pending_count(engine, since) == 1
    assert [j.video_id for j in claim(engine, "rescuer", 10, since)] == [ids[0]]


def test_a_killed_workers_claims_are_taken_at_once(engine):
    import socket
    import subprocess
    import sys

    ids = seed_videos(engine, 3)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = f"{socket.gethostname()}:{child.pid}:gone"
    assert len(claim(engine, dead, 2, utcnow())) == 2
    assert pending_count(engine, utcnow()) == 3, "the dead worker's videos count as pending at once"
    assert [j.video_id for j in claim(engine, "rescuer", 10, utcnow())] == ids


def test_a_run_never_retries_a_failure_recorded_after_it_began(engine):
    (vid,) = seed_videos(engine, 1)
    first_began = utcnow()
    claim(engine, "first", 10, first_began)
    beside_began = utcnow()  # a second run starts while the first still works on the video
    record(engine, [DownloadOutcome(vid, error="http_500: boom")])
    assert claim(engine, "beside", 10, beside_began) == [], "retried the fresh failure of the run beside it"
    assert len(claim(engine, "later", 10, utcnow())) == 1


def test_a_permanent_reason_is_not_replaced_by_a_later_transient_one(engine):
    (vid,) = seed_videos(engine, 1)
    claim(engine, "w", 10, utcnow())
    record(engine, [DownloadOutcome(vid, error="http_404: gone")])
    claim(engine, "w", 10, utcnow())
    record(engine, [DownloadOutcome(vid, error="timeout: the server did not answer")])
    with engine.connect() as conn:
        assert conn.execute(sa.select(Video.download_error)).scalar_one() == "http_404: gone"
    claim(engine, "w", 10, utcnow(), retry_failed=True)
    record(engine, [DownloadOutcome(vid, error="private: now private")])
    with engine.connect() as conn:
        assert conn.execute(sa.select(Video.download_error)).scalar_one() == "private: now private", "a permanent reason replaces another"
