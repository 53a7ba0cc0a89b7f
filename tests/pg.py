"""A real, throw-away Postgres server for the tests: Debian's binaries, a loopback port.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
user in a folder it owns. Nothing here skips: a missing server is a failure that
says what to install.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.loopback import free_port

INSTALL_HINT = "Postgres server binaries not found: install them with `apt-get install postgresql` (./run does)"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(INSTALL_HINT)
    return Path(found[-1]).parent


@dataclass
class PostgresServer:
    """A running server; ``url(db)`` names one of its databases."""

    root: Path
    port: int
    bin_dir: Path
    user: str | None

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def start(self) -> None:
        data, sock = self.root / "data", self.root / "sock"
        steps = [
            ("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"),
            ("pg_ctl", "-w", "-D", str(data), "-l", str(self.root / "log"), "-o",
             f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
             "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200", "start"),
        ]
        for step in steps:
            done = self._run(*step)
            if done.returncode != 0:
                log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
                raise RuntimeError(f"{step[0]} failed: {done.stderr.strip()} {log[-2000:]}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Creates an empty database and returns its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server() -> PostgresServer:
    """Starts a fresh server in a temporary folder; the caller stops it."""
    root = Path(tempfile.mkdtemp(prefix="viralcurate-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        (root / "sock").mkdir()
        for path in (root, root / "sock"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    else:
        (root / "sock").mkdir()
    server = PostgresServer(root=root, port=free_port(), bin_dir=_bin_dir(), user=user)
    server.start()
    return server
