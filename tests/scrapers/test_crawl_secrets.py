"""Tokens, cookies and proxy credentials reach the site (and the proxy) and nowhere else.

A crawl runs with canary secrets through a real forward proxy that demands them;
then every output line, every catalog table (SQLite and Postgres), every file in
the data folder and a snapshot export are searched for the canaries.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from db.crawl_state import load_run
from db.engine import create_catalog_engine
from scrapers.politeness import Politeness
from scrapers.runs import crawl_run, start_run
from scrapers.source import SourceSecrets, TransientError
from tests.scrapers.conftest import CRAWL
from tests.scrapers.crawl_fakes import FakeSource

TOKEN = "canaryMsTokenQ7x3Zp9Lw2"
COOKIE = "canaryCookieVal5Hs8Kd1"
PASSWORD = "canaryProxyPw4Rt6Yv0"
CANARIES = (TOKEN, COOKIE, PASSWORD)
ROOT = Path(__file__).resolve().parents[2]


class ForwardProxy:
    """A plain-HTTP forward proxy that answers 407 unless the canary credentials come with the request."""

    def __init__(self) -> None:
        self.authorised: list[str] = []
        expected = "Basic " + base64.b64encode(f"crawler:{PASSWORD}".encode()).decode()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.headers.get("Proxy-Authorization") != expected:
                    self.send_response(407)
                    self.send_header("Proxy-Authenticate", 'Basic realm="canary"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                proxy.authorised.append(self.path)
                upstream = httpx.get(self.path, headers={k: v for k, v in self.headers.items() if k.lower() == "cookie"}, timeout=30)
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://crawler:{PASSWORD}@127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def curate(home: Path, db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CURATE_HOME": str(home), "CURATE_DB_URL": db_url, "CURATE_MS_TOKEN": TOKEN,
           "CURATE_COOKIES": f"sid_tt={COOKIE}; tt_csrf=abc", "COLUMNS": "200"}
    done = subprocess.run([str(Path(sys.executable).with_name("curate")), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def catalog_text(db_url: str) -> str:
    """Every row of every table, as text."""
    engine = create_catalog_engine(db_url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return "\n".join(repr(conn.execute(sa.text(f'SELECT * FROM "{n}"')).all()) for n in names)
    finally:
        engine.dispose()


def files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_canary_secrets_never_reach_logs_catalog_or_exports(tmp_path, catalog_url, sandbox_site):
    proxy = ForwardProxy()
    home = tmp_path / "home"
    try:
        crawl = curate(home, catalog_url, "crawl", "--seed", "5", "--fanout", "3", "--max-videos", "30", "--random-seed", "3",
                       "--source", "ytdlp", "--base-url", sandbox_site.base_url, "--proxy", proxy.url)
    finally:
        proxy.close()
    snapshot = curate(home, catalog_url, "snapshot", "create", "canary")
    export = curate(home, catalog_url, "export", "canary@v1", "--format", "csv", "--out", str(tmp_path / "export"))
    # the secrets were really used: every request went through the proxy with its password, carrying the token
    assert len(proxy.authorised) >= 10 and all(f"msToken={TOKEN}" in url for url in proxy.authorised)
    texts = {
        "output": "".join(d.stdout + d.stderr for d in (crawl, snapshot, export)),
        "catalog": catalog_text(catalog_url),
        "data folder": files_bytes(home).decode("latin-1"),
        "export": files_bytes(tmp_path / "export").decode("latin-1"),
    }
    assert sandbox_site.base_url in texts["catalog"] and "max_videos" in texts["catalog"], "the dump holds the crawl run"
    for where, text in texts.items():
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked into the {where}"
    assert "http://***@127.0.0.1:" in texts["catalog"], "the run's params keep the proxy, without credentials"


class LeakySource(FakeSource):
    """A source whose failures quote the URL it asked, token included (as browser errors do)."""

    def related(self, video_id, count, cursor=None):
        raise TransientError(f"GET /api/related/item_list/?itemID={video_id}&msToken={TOKEN} failed: connection reset")


def test_failure_messages_are_scrubbed_before_they_are_stored(sqlite_engine):
    record = start_run(sqlite_engine, "fake", None, CRAWL, {})
    secrets = SourceSecrets(ms_token=TOKEN)
    result = crawl_run(sqlite_engine, record, LeakySource(), Politeness(rate=0, backoff=0.0, attempts=2), redact=secrets.redact)
    stored = load_run(sqlite_engine, record.id)
    assert result.status == stored.status == "failed"
    assert "msToken=***" in stored.stop_reason and TOKEN not in stored.stop_reason and TOKEN not in result.stop_reason


@pytest.mark.parametrize("proxy, stored", [
    ("http://bob:s3cret@proxy.example:8080", "http://***@proxy.example:8080"),
    ("socks5://proxy.example:1080", "socks5://proxy.example:1080"),
    ("proxy.example:3128", "http://proxy.example:3128"),
])
def test_proxies_are_stored_without_credentials(proxy, stored):
    from scrapers.source import redact_proxy

    assert redact_proxy(proxy) == stored
    assert SourceSecrets(proxy=proxy).redact(f"via {proxy} failed") == "via *** failed"
