"""The one distributor: every implementation gives each unit one result or one error, crashes included."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.distribute import CRASH_REASON, EngineSettings, InlineDistributor, ThreadDistributor, make_distributor
from core.distribute_process import ProcessDistributor
from core.errors import ConfigError
from tests.core.workers import Square, WhereAmI

UNITS = [3, -1, 0, 7, -5, 12, 4, 9]
EXPECTED = {u: (u * u, None) if u >= 0 else (None, f"ValueError: negative: {u}") for u in UNITS}


def outcomes(distributor, worker, units) -> dict:
    got = {}
    for done in distributor.map_unordered(worker, units):
        assert done.unit not in got, f"unit {done.unit} came back twice"
        got[done.unit] = (done.result, done.error)
    return got


@pytest.mark.parametrize("make", [InlineDistributor, lambda: ThreadDistributor(3), lambda: ProcessDistributor(2)], ids=["inline", "threads", "processes"])
def test_each_local_distributor_gives_every_unit_its_result_or_its_error(make):
    assert outcomes(make(), Square(), UNITS) == EXPECTED


def test_a_unit_that_kills_its_process_is_an_error_and_the_others_still_finish():
    units = [*UNITS, 13]
    got = outcomes(ProcessDistributor(2, shard_size=2), Square(die_on=13), units)
    assert got.pop(13) == (None, CRASH_REASON)
    assert got == EXPECTED


def test_units_are_pulled_a_bounded_number_ahead_of_the_workers():
    pulled = []

    def units():
        for u in range(40):
            pulled.append(u)
            yield u

    stream = ProcessDistributor(2, shard_size=1).map_unordered(Square(), units())
    first = next(stream)
    assert first.ok and len(pulled) <= 2 * 2 + 1, f"{len(pulled)} units claimed before the first came back"
    rest = list(stream)
    assert len(rest) == 39 and len(pulled) == 40


def test_processes_are_really_other_processes_and_ended_with_the_run():
    distributor = ProcessDistributor(2)
    pids = {d.result for d in distributor.map_unordered(WhereAmI(), range(20))}
    assert os.getpid() not in pids and pids <= distributor.pids
    alive = [p for p in distributor.pids if os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split()[2]]
    assert alive == []


def test_settings_pick_the_implementation_and_refuse_bad_ones():
    assert isinstance(make_distributor(EngineSettings(workers=1)), InlineDistributor)
    assert isinstance(make_distributor(EngineSettings(workers=3), threads=True), ThreadDistributor)
    assert isinstance(make_distributor(EngineSettings(workers=3)), ProcessDistributor)
    with pytest.raises(ConfigError, match="unknown engine"):
        EngineSettings(engine="spark")
    with pytest.raises(ConfigError, match="needs --engine ray"):
        EngineSettings(ray_address="127.0.0.1:1")


def test_ray_missing_is_one_line_saying_what_to_install():
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from core.distribute import EngineSettings, make_distributor\n"
        "from core.errors import MissingComponent\n"
        "d = make_distributor(EngineSettings(engine='ray', workers=1))\n"
        "try:\n    list(d.map_unordered(abs, [1]))\nexcept MissingComponent as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "--engine ray needs Ray: pip install 'viralcurate[ray]' (or pip install 'ray[default]==2.60.0')"


def test_ray_cluster_gives_the_same_outcomes_as_local_processes(ray_cluster):
    from core.distribute_ray import RayDistributor

    ray = RayDistributor(ray_cluster.address, 2, shard_size=3)
    assert outcomes(ray, Square(), UNITS) == EXPECTED
    assert ray.shards_done == 3
    pids = {d.result for d in RayDistributor(ray_cluster.address, 2).map_unordered(WhereAmI(), range(8))}
    assert os.getpid() not in pids, "the tasks ran in the cluster's workers, not in the driver"


def test_ray_a_unit_that_kills_its_worker_is_an_error_and_the_run_goes_on(ray_cluster):
    from core.distribute_ray import RayDistributor

    got = outcomes(RayDistributor(ray_cluster.address, 2, shard_size=3), Square(die_on=13), [*UNITS, 13])
    assert got.pop(13) == (None, CRASH_REASON)
    assert got == EXPECTED


def test_a_ray_address_that_does_not_answer_is_a_clean_error_at_once():
    from core.distribute_ray import RayDistributor
    from core.errors import CurateError

    with pytest.raises(ConfigError, match="HOST:PORT"):
        list(RayDistributor("nowhere", 1).map_unordered(abs, [1]))
    with pytest.raises(CurateError, match="cannot reach the Ray cluster at 127.0.0.1:1: Connection refused"):
        list(RayDistributor("127.0.0.1:1", 1).map_unordered(abs, [1]))
