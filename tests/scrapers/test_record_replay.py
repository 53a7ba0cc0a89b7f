"""``curate crawl --record-har`` keeps the traffic with every secret scrubbed; ``sandbox serve --replay`` answers from it.

A crawl that meets a block is recorded with planted canaries (token, cookies, proxy
credentials), the file is searched for them in every form, and the same crawl run
against the replay must end exactly as the recorded one did: a failure met once
becomes a test.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote

import orjson
import pytest

from sandbox import serve
from sandbox.proxy import TikTokProxy, serve_as_tiktok
from sandbox.replay import Recording, ReplaySite, serve_replay
from sandbox.tls import SandboxCA
from scrapers.har import SCRUBBED, HarLog
from scrapers.source import SourceSecrets
from tests.scrapers.conftest import CRAWL
from tests.scrapers.test_backend_crawl import BACKENDS, fast_retries, stored_graph

TOKEN = "canaryTOKEN-9f8e7d6c5b4a"
COOKIE = "canaryCOOKIE-1a2b3c4d"
WEBID = "canaryWEBID-77aa88bb"
PROXY_USER, PROXY_PASS = "canaryUSER", "canaryPASS-3e4f"
CANARIES = (TOKEN, COOKIE, WEBID, PROXY_USER, PROXY_PASS, "canary")
#: the session is blocked after this many API and page requests: the crawl meets a captcha midway
BLOCK_AFTER = 10


def crawl_args(*extra: str) -> list[str]:
    return ["crawl", "--seed", CRAWL.seed, "--fanout", CRAWL.fanout, "--max-videos", CRAWL.max_videos,
            "--random-seed", CRAWL.random_seed, "--rate", "0", "--json", *extra]


def assert_no_canary(path) -> dict:
    """The HAR parses, and no canary is in it: not raw, not URL-decoded, not inside a base64 body."""
    raw = path.read_bytes()
    har = orjson.loads(raw)
    texts = [raw.decode(), unquote(raw.decode())]
    for entry in har["log"]["entries"]:
        content = entry["response"].get("content", {})
        if content.get("encoding") == "base64":
            texts.append(base64.b64decode(content["text"]).decode("utf-8", "replace"))
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, canary
    return har


def paths_of(har: dict) -> set[str]:
    from urllib.parse import urlsplit

    return {urlsplit(e["request"]["url"]).path for e in har["log"]["entries"]}


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_blocked_crawl_is_recorded_scrubbed_and_its_replay_ends_the_same_way(backend, sqlite_cli, sandbox_world, tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_MS_TOKEN", TOKEN)
    monkeypatch.setenv("CURATE_COOKIES", f"sessionid={COOKIE}; tt_webid={WEBID}")
    fast_retries(sqlite_cli)
    har_path = tmp_path / "blocked.har"
    with serve(sandbox_world, block_after=BLOCK_AFTER) as site:
        recorded = sqlite_cli(*crawl_args("--source", backend, "--base-url", site.base_url, "--record-har", har_path), ok=False)
    first = json.loads(recorded.stdout)
    assert recorded.exit_code == 4 and first["status"] == "blocked" and "captcha" in first["stop_reason"], recorded.stdout
    assert f"in {har_path}" in recorded.stderr
    har = assert_no_canary(har_path)
    assert "/api/recommend/item_list/" in paths_of(har)
    sent = [h for e in har["log"]["entries"] for h in e["request"]["headers"] if h["name"].lower() == "cookie"]
    if backend != "ytdlp":  # the browsers send the cookies they were given; their values are gone, their names kept
        assert sent and all(f"sessionid={SCRUBBED}" in h["value"] for h in sent if "sessionid" in h["value"])
    assert any(f"msToken={SCRUBBED}" in e["request"]["url"] for e in har["log"]["entries"] if "/api/" in e["request"]["url"])

    with serve_replay(har_path) as replay:
        again = json.loads(sqlite_cli(*crawl_args("--source", backend, "--base-url", replay.base_url), ok=False).stdout)
        unmatched = replay.stats["unmatched"]
    assert (again["status"], again["stop_reason"]) == (first["status"], first["stop_reason"].replace(site.base_url, replay.base_url))
    assert stored_graph(sqlite_cli.db_url, again["run_id"]) == stored_graph(sqlite_cli.db_url, first["run_id"])
    assert not [k for k in unmatched if "/api/" in k], unmatched


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["ytdlp", "playwright"])
def test_proxy_credentials_are_scrubbed_and_a_platform_recording_replays_as_the_platform(backend, sqlite_cli, sandbox_world, tmp_path, expected_crawl):
    fast_retries(sqlite_cli)
    har_path = tmp_path / "platform.har"
    with serve_as_tiktok(sandbox_world, tmp_path / "ca") as proxy:
        credentialed = proxy.proxy_url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASS}@")
        first = json.loads(sqlite_cli(*crawl_args("--source", backend, "--proxy", credentialed, "--ca-cert", proxy.ca_cert,
                                                  "--record-har", har_path)).stdout)
    assert first["status"] == "finished" and stored_graph(sqlite_cli.db_url, first["run_id"]) == expected_crawl
    har = assert_no_canary(har_path)
    assert all(e["request"]["url"].startswith("https://www.tiktok.com/") for e in har["log"]["entries"] if "/api/" in e["request"]["url"])

    replay = ReplaySite(Recording.load(har_path)).start()
    try:
        behind = TikTokProxy(replay, SandboxCA.load_or_create(tmp_path / "ca")).start()
        try:
            again = json.loads(sqlite_cli(*crawl_args("--source", backend, "--proxy", behind.proxy_url, "--ca-cert", behind.ca_cert)).stdout)
        finally:
            behind.close()
    finally:
        replay.close()
    assert again["status"] == "finished" and stored_graph(sqlite_cli.db_url, again["run_id"]) == expected_crawl


def test_scrubbing_covers_headers_cookies_parameters_and_every_echo_of_a_value(tmp_path):
    secrets = SourceSecrets(ms_token=TOKEN, cookies=f"sessionid={COOKIE}", proxy=f"http://{PROXY_USER}:{PROXY_PASS}@127.0.0.1:9")
    har = HarLog(tmp_path / "x.har", secrets)
    server_token = "serverIssuedToken-55aa66bb77cc"
    har.add("GET", f"https://www.tiktok.com/api/recommend/item_list/?count=30&msToken={server_token}&X-Bogus=DFSzswsig123&device_id=7312345678901",
            {"Cookie": f"msToken={TOKEN}; sessionid={COOKIE}", "Proxy-Authorization": "Basic Y2FuYXJ5VVNFUjpjYW5hcnlQQVNT", "User-Agent": "x"},
            200, [("Set-Cookie", f"msToken={server_token}; Path=/; Max-Age=86400"), ("Content-Type", "application/json")],
            orjson.dumps({"itemList": [], "echo": f"token was {server_token}", "mine": TOKEN}))
    assert har.write() == 1
    text = (tmp_path / "x.har").read_text()
    for secret in (TOKEN, COOKIE, server_token, "DFSzswsig123", "7312345678901", "Y2FuYXJ5VVNFUjpjYW5hcnlQQVNT", PROXY_PASS):
        assert secret not in text, secret
    entry = orjson.loads(text)["log"]["entries"][0]
    headers = {h["name"]: h["value"] for h in entry["response"]["headers"]}
    assert headers["Set-Cookie"] == f"msToken={SCRUBBED}; Path=/; Max-Age=86400" and headers["Content-Type"] == "application/json"
    assert {h["name"]: h["value"] for h in entry["request"]["headers"]}["Cookie"] == f"msToken={SCRUBBED}; sessionid={SCRUBBED}"
    assert "count=30" in entry["request"]["url"] and orjson.loads(entry["response"]["content"]["text"])["echo"] == f"token was {SCRUBBED}"
    assert not list(tmp_path.glob(".*")), "nothing half-written is left beside the file"


def test_replay_answers_in_recorded_order_and_never_invents_an_answer(tmp_path):
    har = HarLog(tmp_path / "r.har")
    for n in (1, 2):
        har.add("GET", f"https://www.tiktok.com/api/recommend/item_list/?count=30&msToken=t{n}aaaaaaa", {}, 200, {}, f'{{"page":{n}}}')
    har.add("GET", "https://www.tiktok.com/api/related/item_list/?itemID=1&count=16", {}, 0, {}, b"")
    har.write()
    import httpx

    with serve_replay(tmp_path / "r.har") as site, httpx.Client(base_url=site.base_url) as client:
        pages = [client.get("/api/recommend/item_list/", params={"count": 30, "msToken": "other"}).json()["page"] for _ in range(3)]
        missing = client.get("/api/item/detail/", params={"itemId": "5"})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/api/related/item_list/", params={"itemID": "1", "count": 16})
        stats = site.stats
    assert pages == [1, 2, 2], "recorded order, then the last answer again"
    assert missing.status_code == 404 and "no recorded answer for GET /api/item/detail?itemId=5" in missing.text
    assert stats["unmatched"] == ["GET /api/item/detail?itemId=5"] and stats["unmatched_total"] == 1


@pytest.mark.parametrize("content, message", [(None, "no such file"), ("not json", "not a HAR file"), ('{"log": {}}', "not a HAR file")])
def test_replaying_a_missing_or_foreign_file_is_one_clean_error(sqlite_cli, tmp_path, content, message):
    path = tmp_path / "given.har"
    if content is not None:
        path.write_text(content)
    result = sqlite_cli("sandbox", "serve", "--replay", path, "--port", "0", ok=False)
    assert result.exit_code == 2 and result.stderr.strip() == f"error: --replay {path}: {message}" + (
        " (expected {\"log\": {\"entries\": […]}})" if message == "not a HAR file" else "")
