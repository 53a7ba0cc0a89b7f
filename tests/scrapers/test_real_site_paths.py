"""The code paths taken only for www.tiktok.com, run offline: the sandbox answers *as* the platform behind its proxy.

No ``--base-url`` anywhere here: every backend, ``curate download`` (yt-dlp's own
TikTok extractor, cookies scoped to ``.tiktok.com``), ``video()``/``author()`` and
``curate doctor --live`` talk to https://www.tiktok.com through
``--proxy http://127.0.0.1:P --ca-cert ca.pem`` (the sandbox's own CA).
"""

from __future__ import annotations

import json
import ssl

import httpx
import pytest

from db.engine import create_catalog_engine
from db.migrate import upgrade
from sandbox.proxy import MEDIA_HOST, serve_as_tiktok
from scrapers.source import SourceSecrets
from tests.scrapers.conftest import CRAWL
from tests.scrapers.test_backend_crawl import BACKENDS, fast_retries, stored_graph
from tests.scrapers.test_download_sandbox import pick, videos

COOKIE_CANARY = "canary-sessionid-0d1e2f"


@pytest.fixture(scope="module")
def as_tiktok(sandbox_world, tmp_path_factory):
    """The session's world served as www.tiktok.com behind the sandbox's proxy."""
    with serve_as_tiktok(sandbox_world, tmp_path_factory.mktemp("sandbox-ca")) as proxy:
        yield proxy


def real_site_args(proxy, *extra: str) -> list[str]:
    return ["--proxy", proxy.proxy_url, "--ca-cert", proxy.ca_cert, *extra]


def test_the_proxy_answers_as_tiktok_only_to_clients_that_trust_its_ca(as_tiktok, sandbox_world):
    trusted = ssl.create_default_context(cafile=as_tiktok.ca_cert)
    with httpx.Client(proxy=as_tiktok.proxy_url, verify=trusted, timeout=30) as client:
        feed = client.get("https://www.tiktok.com/api/recommend/item_list/", params={"count": 3, "cursor": 0}).json()
        item = feed["itemList"][0]
        assert item["id"] == sandbox_world.items[0]
        assert item["video"]["playAddr"] == f"https://{MEDIA_HOST}/media/{item['id']}.mp4"
        assert client.get(item["video"]["playAddr"]).content == sandbox_world.media_bytes(item["id"])
        page = client.get(f"https://www.tiktok.com/@{item['author']['uniqueId']}/video/{item['id']}").text
        assert '"webapp.video-detail"' in page and f"https://www.tiktok.com/@{item['author']['uniqueId']}/video/{item['id']}" in page
        with pytest.raises(httpx.ProxyError, match="403"):
            client.get("https://example.org/")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get("https://www.tiktok.com/", proxy=as_tiktok.proxy_url, timeout=30)
    assert as_tiktok.log.snapshot()["refused"].get("example.org") == 1


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_without_a_base_url_crawls_the_platform_through_the_proxy(backend, sqlite_cli, as_tiktok, expected_crawl):
    fast_retries(sqlite_cli)
    before = as_tiktok.log.snapshot()["hosts"].get("www.tiktok.com", 0)
    args = ["crawl", "--seed", CRAWL.seed, "--fanout", CRAWL.fanout, "--max-videos", CRAWL.max_videos, "--random-seed",
            CRAWL.random_seed, "--source", backend, "--rate", "0", "--json", *real_site_args(as_tiktok)]
    summary = json.loads(sqlite_cli(*args).stdout)
    assert (summary["status"], summary["base_url"]) == ("finished", None), summary
    assert stored_graph(sqlite_cli.db_url, summary["run_id"]) == expected_crawl
    assert as_tiktok.log.snapshot()["hosts"]["www.tiktok.com"] > before + CRAWL.max_videos // CRAWL.fanout
    stored = next(iter(videos(sqlite_cli.db_url).values()))
    assert stored["url"].startswith("https://www.tiktok.com/@") and stored["media_url"].startswith(f"https://{MEDIA_HOST}/media/")


def catalog_from_the_platform(db_url: str, world, chosen) -> None:
    """The chosen videos in the catalog as a crawl of the real site stores them (no base URL)."""
    from db.crawl_state import commit_steps
    from scrapers.parse import parse_item
    from scrapers.runs import start_run

    engine = create_catalog_engine(db_url)
    upgrade(engine)
    record = start_run(engine, "tiktokapi", None, CRAWL, {})
    items = [parse_item(world.item_struct(vid, f"https://{MEDIA_HOST}")) for vid in chosen]
    members = [{"video_id": vid, "seq": i, "depth": 0, "parent_id": None} for i, vid in enumerate(chosen)]
    commit_steps(engine, record.id, items=items, members=members, edges=[], expanded=[], state={}, stats={})
    engine.dispose()


#: what yt-dlp's TikTok extractor makes of each broken kind (it reads the page's statusCode itself)
EXTRACTOR_FAILURES = {
    "truncated": {"truncated", "not_a_container"}, "empty": {"empty_file"}, "html": {"html_not_video"},
    "deleted": {"withheld"}, "private": {"private"},
}


def test_download_runs_ytdlps_own_tiktok_extractor_with_cookies_scoped_to_tiktok_com(sqlite_cli, sandbox_world, as_tiktok, monkeypatch):
    chosen = pick(sandbox_world)
    catalog_from_the_platform(sqlite_cli.db_url, sandbox_world, chosen)
    monkeypatch.setenv("CURATE_COOKIES", f"sessionid={COOKIE_CANARY}; tt_csrf_token=x")
    pages_before = as_tiktok.site.stats["endpoints"].get("video_page", 0)
    counts = json.loads(sqlite_cli("download", "--workers", "2", "--json", *real_site_args(as_tiktok)).stdout)
    assert counts["downloaded"] == 3 and sum(counts["failed"].values()) == 5, counts
    rows = videos(sqlite_cli.db_url)
    for vid, kind in chosen.items():
        if kind == "ok":
            assert (sqlite_cli.home / rows[vid]["media_path"]).read_bytes() == sandbox_world.media_bytes(vid)
        else:
            reason = rows[vid]["download_error"]
            assert reason.split(":")[0] in EXTRACTOR_FAILURES[kind], (kind, reason)
    reasons = {vid: rows[vid]["download_error"] for vid, kind in chosen.items() if kind == "deleted"}
    assert all("ip address is blocked" in r.lower() for r in reasons.values()), "the extractor's own reading of statusCode 10204"
    # the extractor read every video's page (the real-site path), and the media came from the CDN host
    assert as_tiktok.site.stats["endpoints"]["video_page"] - pages_before >= len(chosen)
    seen = as_tiktok.log.snapshot()["cookies"]
    assert {"sessionid", "tt_csrf_token"} <= set(seen["www.tiktok.com"]) and "sessionid" in seen[MEDIA_HOST]
    assert COOKIE_CANARY not in json.dumps(counts) + json.dumps({v: r["download_error"] for v, r in rows.items()})


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_video_and_author_of_each_backend_on_the_platform(backend, sandbox_world, as_tiktok):
    from curate.commands.crawl import build_source

    vid = sandbox_world.items[3]
    row = sandbox_world.videos.set_index("video_id").loc[vid]
    author_row = sandbox_world.authors.set_index("handle").loc[row["handle"]]
    secrets = SourceSecrets(proxy=as_tiktok.proxy_url, ca_cert=as_tiktok.ca_cert)
    with build_source(backend, None, secrets, 30.0) as source:
        item = source.video(vid, row["handle"])
        author = source.author(row["handle"])
    assert (item.video.id, item.video.author_handle) == (vid, row["handle"])
    assert item.metrics is None or item.metrics.plays == int(row["plays"])
    assert author.handle == row["handle"] and author.followers == int(author_row["followers"])


def test_doctor_live_checks_the_platform_through_the_proxy(sqlite_cli, as_tiktok):
    result = sqlite_cli("doctor", "--live", "--source", "ytdlp", *real_site_args(as_tiktok))
    assert "live ytdlp feed: ok" in result.stdout and "CA file CURATE_CA_CERT: ok" in result.stdout
    assert "proxy: ok" in result.stdout
    untrusted = sqlite_cli("doctor", "--live", "--source", "ytdlp", "--proxy", as_tiktok.proxy_url, ok=False)
    assert untrusted.exit_code == 1 and "live ytdlp feed: failed" in untrusted.stdout and "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout
