"""The hostile answers the sandbox serves, its strict mode, and the fault-kind registry."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from sandbox import FaultPlan, serve
from sandbox.fault_kinds import BY_NAME, KINDS, PROFILES, markdown_table
from sandbox.hostile import CHALLENGE_COOKIE, fnv, solved

FEED = "/api/recommend/item_list/"
SIGNED = {"msToken": "t", "X-Bogus": "b", "X-Gnarly": "g", "device_id": "7" * 19, "odinId": "7" * 19, "WebIdLastTime": "1"}


def test_every_kind_names_its_public_source_and_the_docs_show_the_registry():
    assert all(k.source and k.sends and k.classes for k in KINDS)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text()
    assert markdown_table() in docs


def test_the_realistic_profile_leans_on_200_level_soft_blocks():
    rates = FaultPlan.parse("realistic").rates
    assert rates == dict(PROFILES["realistic"])
    soft = sum(r for k, r in rates.items() if BY_NAME[k].family == "soft")
    assert soft > 3 * rates.get("5xx", 0) and soft > sum(r for k, r in rates.items() if BY_NAME[k].family == "blocking")
    assert FaultPlan.parse("realistic,429:0.2").rates["429"] == 0.2


@pytest.mark.parametrize("kind, check", [
    ("verify", lambda r: r.json()["type"] == "verify" and "statusCode" not in r.json()),
    ("verify_html", lambda r: r.headers["content-type"].startswith("text/html") and "tiktok-verify-page" in r.text),
    ("status0", lambda r: r.json() == {"statusCode": 0, "statusMsg": ""}),
    ("status_code0", lambda r: r.json() == {"status_code": 0}),
    ("403", lambda r: r.status_code == 403),
    ("429", lambda r: r.status_code == 429 and r.headers["retry-after"] == "2"),
    ("unsigned", lambda r: r.status_code == 200 and r.content == b""),
])
def test_api_faults_are_served_as_the_real_site_sends_them(world, kind, check):
    with serve(world, faults=f"{kind}:1", retry_after_s=2) as site, httpx.Client(base_url=site.base_url) as http:
        answer = http.get(FEED, params={"count": 3})
        assert check(answer), answer.text[:200]
        if kind == "unsigned":
            assert http.get(FEED, params={"count": 3, **SIGNED}).json()["itemList"], "a signed call is answered"


@pytest.mark.parametrize("kind, status", [("10201", 10201), ("10222", 10222)])
def test_item_status_faults(world, kind, status):
    with serve(world, faults=f"{kind}:1") as site, httpx.Client(base_url=site.base_url) as http:
        assert http.get("/api/related/item_list/", params={"itemID": world.items[0]}).json()["statusCode"] == status
        assert f'"statusCode":{status}' in http.get(site.video_url(world.items[0])).text


def test_a_challenge_page_lets_through_whoever_solves_it(world):
    with serve(world, faults="challenge:1") as site, httpx.Client() as http:
        page = http.get(site.video_url(world.items[0])).text
        assert "Please wait" in page and "__UNIVERSAL_DATA_FOR_REHYDRATION__" not in page
        seed = page.split('var seed = "')[1].split('"')[0]
        nonce = next(n for n in range(1 << 20) if fnv(f"{seed}:{n}") % 2048 == 0)
        assert solved(f"{seed}.{nonce}") and not solved(f"{seed}.{nonce + 1}") and not solved("junk")
        http.cookies.set(CHALLENGE_COOKIE, f"{seed}.{nonce}")
        passed = http.get(site.video_url(world.items[0])).text
    assert "__UNIVERSAL_DATA_FOR_REHYDRATION__" in passed


def test_a_stuck_feed_answers_its_last_page_again_and_unblock_lifts_it(world):
    with serve(world) as site, httpx.Client(base_url=site.base_url) as http:
        token = {"msToken": "sbx-stuck"}
        first = http.get(FEED, params={"count": 5, **token}).json()
        site.plan = FaultPlan.parse("repeat:1")
        again = [http.get(FEED, params={"count": 5, **token}).json() for _ in range(3)]
        assert all(a["itemList"] == first["itemList"] for a in again)
        site.unblock()
        site.plan = FaultPlan()
        moved = http.get(FEED, params={"count": 5, **token}).json()
    assert moved["itemList"] != first["itemList"]


def test_strict_sessions_follow_the_device_and_cookie_and_the_token_rotates(world):
    with serve(world, strict=True) as site, httpx.Client(base_url=site.base_url) as http:
        home = http.get("/")
        cookies = home.headers.get_list("set-cookie")
        assert any(c.startswith("ttwid=") for c in cookies) and any(c.startswith("msToken=") for c in cookies)
        tokens = []
        for _ in range(3):
            answer = http.get(FEED, params={"count": 4, **SIGNED})
            tokens.append(next(c for c in answer.headers.get_list("set-cookie") if c.startswith("msToken=")))
        pages = [orjson.loads(http.get(FEED, params={"count": 4, **SIGNED}).content) for _ in range(2)]
    assert len(set(tokens)) == 3, "every answer hands out a fresh msToken"
    # one session (same ttwid and device) despite three tokens: the feed moves on page by page
    assert pages[0]["cursor"] != pages[1]["cursor"]


def test_strict_lists_carry_ads_and_photo_posts_and_refuse_headless_browsers(world):
    with serve(world, strict=True, refuse_automation=True) as site, httpx.Client(base_url=site.base_url) as http:
        items = http.get(FEED, params={"count": 30, **SIGNED}).json()["itemList"]
        refused = http.get("/", headers={"user-agent": "Mozilla/5.0 HeadlessChrome/156.0"})
    assert sum(1 for i in items if i.get("isAd")) == 4 and sum(1 for i in items if "imagePost" in i) == 2
    assert len([i for i in items if not i.get("isAd") and "imagePost" not in i]) == 30
    assert refused.status_code == 403
