"""Work claimed once for every stage: no double claims, dead claimants taken over at once, retries only of old failures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import sqlalchemy as sa

from db.claims import LEASE, MAX_ATTEMPTS, CatalogClaims, dead_claimants, is_dead
from db.models import WorkClaim
from db.types import utcnow


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def claims(engine, worker: str, since=None) -> CatalogClaims:
    return CatalogClaims(engine, "probe", worker, since or utcnow())


def test_concurrent_workers_never_claim_the_same_unit(engine):
    keys = [f"k{i:03d}" for i in range(240)]
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        mine = claims(engine, name)
        barrier.wait()
        for start in range(0, len(keys), 16):
            got.setdefault(name, []).extend(mine.claim(keys[start : start + 16]))

    threads = [threading.Thread(target=worker, args=(f"{socket.gethostname()}:1:w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [k for ks in got.values() for k in ks]
    assert sorted(everything) == keys, "a unit was claimed twice or not at all"


def test_done_units_are_never_claimed_again_and_failures_only_by_later_runs(engine):
    first = claims(engine, "a")
    assert sorted(first.claim(["x", "y"])) == ["x", "y"]
    first.finish({"x": None, "y": "probe failed: boom"})
    beside = CatalogClaims(engine, "probe", "b", first.since)  # a run that began with the first one
    assert beside.claim(["x", "y"]) == [], "a run retried the fresh failure of a run beside it"
    later = claims(engine, "c")
    assert later.claim(["x", "y"]) == ["y"]
    assert later.errors(["x", "y"]) == {"y": "probe failed: boom"}


def test_a_failure_is_retried_until_max_attempts(engine):
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run = claims(engine, f"run{attempt}")
        assert run.claim(["z"]) == ["z"], f"attempt {attempt}"
        run.finish({"z": "timeout: slow"})
    assert claims(engine, "again").claim(["z"]) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(WorkClaim.attempts)).scalar_one() == MAX_ATTEMPTS


def test_a_dead_claimants_units_are_taken_at_once_a_live_ones_are_not(engine):
    host = socket.gethostname()
    gone = f"{host}:{dead_pid()}:dead"
    live = f"{host}:{os.getpid()}:live"
    assert is_dead(gone) and not is_dead(live) and not is_dead(f"elsewhere:{dead_pid()}:x")
    assert dead_claimants([gone, live, None]) == [gone]
    claims(engine, gone).claim(["a"])
    claims(engine, live).claim(["b"])
    rescuer = claims(engine, "rescuer")
    assert rescuer.held_elsewhere(["a", "b"]) == {"b"}
    assert rescuer.claim(["a", "b"]) == ["a"]


def test_a_claim_past_its_lease_is_free_and_release_frees_at_once(engine):
    claims(engine, "elsewhere:123:x").claim(["old"])
    mine = claims(engine, "me")
    assert mine.claim(["old"]) == []
    with engine.begin() as conn:
        conn.execute(sa.update(WorkClaim).values(claimed_at=utcnow() - LEASE - timedelta(minutes=1)))
    assert mine.claim(["old"]) == ["old"]
    assert mine.release() == 1
    assert claims(engine, "next").claim(["old"]) == ["old"]


def test_forgetting_done_units_lets_them_be_claimed_again_but_not_failed_ones(engine):
    run = claims(engine, "a")
    run.claim(["done", "failed"])
    run.finish({"done": None, "failed": "boom"})
    later = CatalogClaims(engine, "probe", "b", run.since)
    assert later.claim(["done", "failed"]) == []
    assert later.forget_done(["done", "failed"]) == 1
    assert later.claim(["done", "failed"]) == ["done"]
