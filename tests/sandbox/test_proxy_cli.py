"""``curate sandbox serve --as-tiktok`` and ``--replay`` as a user runs them: what they print works, Ctrl-C stops them."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "300", "CURATE_HOME": str(tmp_path / "home")}
    return subprocess.Popen([sys.executable, "-m", "curate.cli", "sandbox", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def read_until(server: subprocess.Popen, marker: str) -> str:
    """Lines of the server's output up to the one holding ``marker`` (that line)."""
    for line in server.stdout:
        if marker in line:
            return line
    raise AssertionError(f"the server ended without printing {marker!r}: {server.stderr.read()}")


def stop(server: subprocess.Popen) -> str:
    server.send_signal(signal.SIGINT)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    return err


def test_as_tiktok_prints_a_proxy_and_a_ca_that_answer_as_the_platform(tmp_path):
    server = start(tmp_path, "--videos", "60", "--seed", "3", "--as-tiktok", "--proxy-port", "0", "--ca-dir", str(tmp_path / "ca"),
                   "--cache-dir", str(tmp_path / "cache"))
    try:
        line = read_until(server, "as www.tiktok.com:")
        proxy, ca = re.search(r"--proxy (\S+) --ca-cert (\S+)", line).groups()
        assert Path(ca) == tmp_path / "ca" / "ca.pem" and oct((tmp_path / "ca" / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
        with httpx.Client(proxy=proxy, verify=ssl.create_default_context(cafile=ca), timeout=30) as client:
            feed = client.get("https://www.tiktok.com/api/recommend/item_list/", params={"count": 2, "cursor": 0}).json()
        assert len(feed["itemList"]) == 2 and feed["itemList"][0]["video"]["playAddr"].startswith("https://v16-webapp-prime.tiktok.com/")
    finally:
        err = stop(server)
    assert "stopped; served 1 requests" in err


def test_replay_prints_where_it_answers_and_answers_from_the_file(tmp_path):
    from scrapers.har import HarLog

    har = HarLog(tmp_path / "seen.har")
    har.add("GET", "https://www.tiktok.com/api/recommend/item_list/?count=30&msToken=abcdefgh", {}, 200,
            {"Content-Type": "application/json"}, b'{"code":"10000","type":"verify","subtype":"slide"}')
    har.write()
    server = start(tmp_path, "--replay", str(tmp_path / "seen.har"))
    try:
        line = read_until(server, "recorded answers of")
        base_url = re.search(r"(http://127\.0\.0\.1:\d+)", line).group(1)
        assert "replaying 1 recorded answers" in line
        answer = httpx.get(f"{base_url}/api/recommend/item_list/", params={"count": 30, "msToken": "mine"}, timeout=10)
        assert answer.json() == {"code": "10000", "type": "verify", "subtype": "slide"}
        assert answer.headers["content-type"] == "application/json"
        assert httpx.get(f"{base_url}/api/related/item_list/", params={"itemID": "1"}, timeout=10).status_code == 404
    finally:
        err = stop(server)
    assert "stopped; 2 requests, 1 not in the recording" in err
