"""``curate doctor``: the set-up checks as a new user meets them, and ``--live`` against the sandbox in its fault modes."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from core.loopback import free_port
from curate.doctor import FAIL, OK, WARN, browser_checks, cookies_check, proxy_check, token_check
from sandbox import World, serve

CANARY_TOKEN = "canary-msToken-5f3a9c1e77"


@pytest.fixture(scope="module")
def doctor_world(tmp_path_factory):
    """A small world (the live calls never fetch media)."""
    return World.build(videos=200, seed=5, cache_dir=tmp_path_factory.mktemp("doctor-media"))


def lines_of(result) -> dict[str, str]:
    """``name → "status — detail"`` from the doctor's output."""
    found = {}
    for line in result.stdout.splitlines():
        name, sep, rest = line.partition(": ")
        if sep:
            found[name] = rest
    return found


def test_a_fresh_machine_gets_one_line_per_check_and_the_token_is_never_printed(sqlite_cli, monkeypatch):
    monkeypatch.setenv("CURATE_MS_TOKEN", CANARY_TOKEN)
    result = sqlite_cli("doctor")
    lines = lines_of(result)
    for name in ("package TikTokApi", "package playwright", "package selenium", "package yt-dlp", "chromium", "chromedriver",
                 "ffmpeg", "package av (PyAV)", "catalog", "data folder", "token CURATE_MS_TOKEN", "cookies CURATE_COOKIES"):
        assert lines[name].startswith("ok"), (name, result.stdout)
    assert f"present ({len(CANARY_TOKEN)} characters" in lines["token CURATE_MS_TOKEN"]
    assert CANARY_TOKEN not in result.stdout + result.stderr
    as_json = json.loads(sqlite_cli("doctor", "--json").stdout)
    assert {c["name"] for c in as_json["checks"]} >= {"catalog", "data folder"} and as_json["live"] == []
    assert CANARY_TOKEN not in json.dumps(as_json)


def test_a_data_folder_that_cannot_be_written_and_an_unreachable_catalog_fail_with_what_to_do(tmp_path):
    from tests.conftest import Cli

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    closed = free_port()
    cli = Cli(blocker, f"postgresql+psycopg://nobody@127.0.0.1:{closed}/nothing")
    result = cli("doctor", "--source", "ytdlp", ok=False)
    lines = lines_of(result)
    assert result.exit_code == 1
    assert lines["data folder"].startswith("fail") and "give --home or CURATE_HOME" in lines["data folder"]
    assert lines["catalog"].startswith("fail") and "start the server or fix --db" in lines["catalog"]
    assert "chromium" not in lines, "ytdlp alone needs no browser"


def test_an_unknown_backend_is_one_clean_error_line(sqlite_cli):
    result = sqlite_cli("doctor", "--source", "tiktokapi,bogus", ok=False)
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: --source bogus") and "Traceback" not in result.output


def test_a_browser_and_driver_of_different_versions_are_told_apart(tmp_path):
    browser, driver = tmp_path / "chromium", tmp_path / "chromedriver"
    browser.write_text("#!/bin/sh\necho 'Chromium 156.0.8078.114 built on Debian'\n")
    driver.write_text("#!/bin/sh\necho 'ChromeDriver 159.0.1.2 (abc)'\n")
    for program in (browser, driver):
        program.chmod(program.stat().st_mode | stat.S_IEXEC)
    checks = {c.name: c for c in browser_checks(True, str(browser), str(driver))}
    assert checks["chromium"].status == OK and "156.0.8078.114" in checks["chromium"].detail
    assert checks["chromium vs chromedriver"].status == FAIL and "156 vs 159" in checks["chromium vs chromedriver"].detail
    missing = browser_checks(False, str(tmp_path / "none"), str(driver))
    assert [c.name for c in missing] == ["chromium"]
    assert missing[0].status in (OK, FAIL)  # found on PATH (Debian's) or not at all: never a made-up version


def test_credentials_are_checked_for_form_and_never_shown(tmp_path):
    closed = free_port()
    proxy = proxy_check(f"http://user:s3cret-pass@127.0.0.1:{closed}")
    assert proxy.status == FAIL and "s3cret-pass" not in proxy.detail and "user" not in proxy.detail and "***@127.0.0.1" in proxy.detail
    assert cookies_check("sessionid=abc123; tt_csrf=xyz").detail == "2 cookies as a header (values never shown)"
    assert "abc123" not in cookies_check("sessionid=abc123").detail
    assert cookies_check("no pairs here").status == FAIL
    jar = tmp_path / "cookies.txt"
    jar.write_text("# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tabc\n.example.org\tTRUE\t/\tFALSE\t0\tx\ty\n")
    assert cookies_check(str(jar)).detail.endswith("2 cookies, 1 for tiktok.com")
    assert token_check(None, None).status == WARN and "export CURATE_MS_TOKEN" in token_check(None, None).detail
    assert token_check(None, "http://127.0.0.1:8765").status == OK


@pytest.mark.parametrize("source", ["ytdlp", "playwright", "tiktokapi", "selenium"])
def test_live_calls_against_a_healthy_site_are_ok(sqlite_cli, doctor_world, source):
    with serve(doctor_world) as site:
        result = sqlite_cli("doctor", "--live", "--source", source, "--base-url", site.base_url)
        stats = site.stats
    lines = lines_of(result)
    assert lines[f"live {source} feed"].startswith("ok — ") and "every expected field present" in lines[f"live {source} feed"]
    related = [v for k, v in lines.items() if k.startswith(f"live {source} related of ")]
    assert len(related) == 1 and related[0].startswith("ok — 16 videos"), result.stdout
    assert stats["endpoints"]["feed"] >= 1 and stats["endpoints"]["related"] == 1


#: fault kind (at rate 1) → what the doctor must say of the feed call
FAULT_VERDICTS = {
    "captcha": ("blocked", "captcha"),
    "empty": ("blocked", "empty"),
    "ipblock": ("blocked", "withheld"),
    "429": ("blocked", "rate limited"),
    "5xx": ("failed", "try again"),
    "malformed": ("failed", "malformed_json"),
    "drop": ("failed", "try again"),
}


@pytest.mark.parametrize("source", ["ytdlp", "playwright"])
@pytest.mark.parametrize("kind", sorted(FAULT_VERDICTS))
def test_live_calls_tell_each_hostile_answer_apart(sqlite_cli, doctor_world, source, kind):
    status, said = FAULT_VERDICTS[kind]
    with serve(doctor_world, faults=f"{kind}:1") as site:
        result = sqlite_cli("doctor", "--live", "--source", source, "--base-url", site.base_url, "--timeout", "5", ok=False)
        assert site.stats["faults"].get(kind, 0) >= 1
    lines = lines_of(result)
    feed = lines[f"live {source} feed"]
    assert result.exit_code == 1 and feed.startswith(f"{status} — ") and said in feed.lower(), result.stdout
    assert lines[f"live {source} related"].startswith("not tried"), "no video, no related call"


def test_a_blocked_session_is_told_from_a_healthy_one_per_call(sqlite_cli, doctor_world):
    # the feed page answers (1 request), then the session is blocked: the related call meets the captcha
    with serve(doctor_world, block_after=1) as site:
        result = sqlite_cli("doctor", "--live", "--source", "ytdlp", "--base-url", site.base_url, ok=False)
    lines = lines_of(result)
    assert lines["live ytdlp feed"].startswith("ok")
    related = next(v for k, v in lines.items() if k.startswith("live ytdlp related of "))
    assert related.startswith("blocked — captcha") and result.exit_code == 1


def test_fields_the_parser_expects_and_does_not_find_are_drift(sqlite_cli, tmp_path):
    # every creator's counts withheld: the items come without stats, as if the site had renamed them
    world = World.build(videos=200, seed=5, cache_dir=tmp_path / "media", hidden_counts=1.0)
    with serve(world) as site:
        result = sqlite_cli("doctor", "--live", "--source", "ytdlp", "--base-url", site.base_url, ok=False)
    feed = lines_of(result)["live ytdlp feed"]
    assert result.exit_code == 1 and feed.startswith("drift — expected and not found in any of 30 videos: ")
    for field in ("comments", "likes", "plays", "shares"):
        assert field in feed
    assert "author_followers" not in feed, "authorStats stay: only the fields really missing are named"


def test_a_backend_that_cannot_start_is_unavailable_not_blocked(sqlite_cli, monkeypatch, doctor_world):
    import scrapers.backends.browser as browser

    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    with serve(doctor_world) as site:
        result = sqlite_cli("doctor", "--live", "--source", "playwright", "--base-url", site.base_url, ok=False)
    lines = lines_of(result)
    assert lines["live playwright start"].startswith("unavailable — chromium not found"), result.stdout
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()  # the failed start stopped Playwright's driver: the next browser can start


def test_the_doctor_is_documented_as_the_first_thing_to_run():
    root = Path(__file__).resolve().parents[1]
    assert "curate doctor" in (root / "README.md").read_text()
    assert "curate doctor --live" in (root / "docs" / "doctor.md").read_text()


def test_ads_and_photo_posts_are_skipped_by_design_and_other_rejections_are_drift(doctor_world):
    from curate.doctor_live import judge
    from scrapers.parse import parse_item
    from scrapers.source import Page

    items = [parse_item(doctor_world.item_struct(v)) for v in doctor_world.items[:3]]
    designed = judge("x", "feed", Page(items=items, skipped=["ad", "ad", "photo_post"]))
    assert designed.status == "ok" and designed.detail.endswith("skipped by design: ad ×2, photo_post ×1")
    drifted = judge("x", "feed", Page(items=items, skipped=["ad", "no_id"]))
    assert drifted.status == "drift" and drifted.detail == "records rejected: no_id ×1"
    nothing = judge("x", "feed", Page(items=[], skipped=["no_id", "no_id"]))
    assert nothing.status == "drift" and "every record was rejected by the parser (no_id ×2)" in nothing.detail
    only_ads = judge("x", "feed", Page(items=[], skipped=["ad"]))
    assert only_ads.status == "blocked", "a list of nothing but ads holds no video to crawl"
