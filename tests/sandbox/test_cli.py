"""``curate sandbox serve`` and ``curate sandbox warm`` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx


def test_serve_prints_its_url_answers_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "COLUMNS": "200", "CURATE_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "curate.cli", "sandbox", "serve", "--port", "0", "--videos", "60", "--seed", "3",
               "--faults", "429:0.2", "--fault-seed", "1", "--cache-dir", str(tmp_path / "cache")]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        first = server.stdout.readline()
        base_url = re.search(r"(http://127\.0\.0\.1:\d+)", first).group(1)
        assert "curate crawl --base-url" in server.stdout.readline()
        world = httpx.get(f"{base_url}/__sandbox/world", timeout=10).json()
        assert world["videos"] == 60 and world["seed"] == 3 and world["faults"] == "429:0.2" and world["fault_seed"] == 1
        statuses = [httpx.get(f"{base_url}/api/item/detail/", params={"itemId": str(i)}).status_code for i in range(40)]
        assert 429 in statuses and 200 in statuses
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert "stopped; served 40 requests" in err


def test_bad_options_are_one_line_errors(sqlite_cli):
    result = sqlite_cli("sandbox", "serve", "--faults", "429:0.5,5xx:0.6", ok=False)
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: fault rates")
    assert len(result.stderr.strip().splitlines()) == 1
    result = sqlite_cli("sandbox", "serve", "--videos", "0", ok=False)
    assert result.exit_code == 1 and "1 to" in result.stderr


def test_warm_makes_the_media_files(sqlite_cli, media_cache):
    result = sqlite_cli("sandbox", "warm", "--videos", "400", "--seed", "11", "--limit", "1", "--cache-dir", media_cache, "--json")
    counts = json.loads(result.stdout)
    assert counts["videos"] == 1 and counts["bytes"] > 0 and counts["cache_dir"] == str(media_cache)


def test_a_busy_port_is_a_one_line_error(sqlite_cli, site):
    result = sqlite_cli("sandbox", "serve", "--port", str(site.port), "--videos", "30", ok=False)
    assert result.exit_code == 1 and result.stderr.strip().startswith(f"error: cannot listen on 127.0.0.1:{site.port}")
