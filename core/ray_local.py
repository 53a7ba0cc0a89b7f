"""A private Ray cluster on this machine: ``ray start --head`` on loopback, in its own temporary folder, stopped after.

For the tests, the benchmarks and a first try of ``--engine ray`` on one machine;
a real cluster is started by its operator and named with ``--ray-address``.

Ray turns on token authentication and binds to the machine's network interface by
default; here the head runs with ``RAY_AUTH_MODE=disabled`` on 127.0.0.1 (see
../shared/FACTS.md). It is stopped without ``ray stop``, which would end every Ray process of the
machine: the head's own processes are found by its temporary folder and ended by
their pids.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.loopback import free_port

#: the repository, put on the cluster's PYTHONPATH so that its workers import this checkout
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RayCluster:
    """A running head node; ``address`` is what ``--ray-address`` takes."""

    address: str
    temp_dir: Path
    env: dict[str, str]

    def pids(self) -> list[int]:
        """The processes of this cluster: those whose command line names its temporary folder."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(self.temp_dir) in cmdline:
                found.append(int(entry.name))
        return [p for p in found if p != os.getpid()]

    def stop(self) -> None:
        """Ends this cluster's processes (only these) and removes its folder."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self.pids():
                break
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def start_cluster(num_cpus: int = 2, attempts: int = 3) -> RayCluster:
    """Starts a head node on a free loopback port; the caller stops it.

    Ray gives its raylet a fixed 30 s to register with its GCS; on a machine this
    busy that can pass, so a start that times out is cleaned up and tried again
    (on fresh ports, in a fresh folder) up to ``attempts`` times.
    """
    failures = []
    for _ in range(attempts):
        cluster, error = _start_once(num_cpus)
        if cluster is not None:
            return cluster
        failures.append(error)
    raise RuntimeError(f"ray start failed {attempts} times; last: {failures[-1]}")


def _start_once(num_cpus: int) -> tuple[RayCluster | None, str]:
    temp_dir = Path(tempfile.mkdtemp(prefix="vcray-", dir="/tmp"))  # Ray's socket paths must stay short
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "RAY_USAGE_STATS_ENABLED": "0"}
    ray = str(Path(sys.executable).with_name("ray"))
    cmd = [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", f"--num-cpus={num_cpus}",
           "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}",
           f"--ray-client-server-port={free_port()}", f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
           f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
           "--min-worker-port=0", "--max-worker-port=0"]
    cluster = RayCluster(f"127.0.0.1:{port}", temp_dir, env)
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=240)
    except subprocess.TimeoutExpired:
        cluster.stop()
        return None, "ray start did not finish in 240 s"
    if done.returncode != 0:
        cluster.stop()
        return None, done.stderr[-1500:]
    return cluster, ""
