"""Injected faults: parsed from a spec, drawn by (seed, key, attempt), served as the platform fails, cleared on retry."""

from __future__ import annotations

import httpx
import orjson
import pytest

from core.errors import ConfigError
from sandbox import FaultPlan, serve
from sandbox.faults import request_key, uniform

TRANSIENT_SPEC = "429:0.06,5xx:0.05,malformed:0.05,drop:0.04"


def test_specs_parse_and_bad_ones_are_config_errors():
    plan = FaultPlan.parse("429:0.1, 5xx:0.05,captcha:0.01", seed=3)
    assert plan.rates == {"429": 0.1, "5xx": 0.05, "captcha": 0.01} and plan.seed == 3
    assert plan.describe() == "429:0.1,5xx:0.05,captcha:0.01"
    assert FaultPlan.parse(None).rates == {} and FaultPlan.parse("").rates == {}
    for bad in ("429", "429:x", "teapot:0.1", "429:0.7,5xx:0.7", "429:-0.1"):
        with pytest.raises(ConfigError):
            FaultPlan.parse(bad)
    with pytest.raises(ConfigError):
        FaultPlan.parse("", block_with="shrug")


def test_request_keys_ignore_tokens_signatures_and_device_ids():
    a = request_key("/api/related/item_list/", {"itemID": "7", "count": "16", "msToken": "a", "X-Bogus": "b", "device_id": "1"})
    b = request_key("/api/related/item_list/", {"count": "16", "itemID": "7", "msToken": "zzz"})
    assert a == b != request_key("/api/related/item_list/", {"itemID": "8", "count": "16"})


def test_draws_are_deterministic_by_seed_and_fresh_per_attempt():
    plan = FaultPlan.parse("429:0.3", seed=5)
    keys = [f"/api/item/detail/?itemId={i}" for i in range(300)]
    first = [plan.draw(k, 0, "item") for k in keys]
    assert first == [FaultPlan.parse("429:0.3", seed=5).draw(k, 0, "item") for k in keys]
    assert first != [FaultPlan.parse("429:0.3", seed=6).draw(k, 0, "item") for k in keys]
    assert first != [plan.draw(k, 1, "item") for k in keys]
    assert uniform(5, "k", 0) == uniform(5, "k", 0) != uniform(5, "k", 1)


def test_rates_come_out_as_configured():
    rates = {"429": 0.1, "5xx": 0.05, "captcha": 0.01, "empty": 0.02, "private": 0.02, "malformed": 0.02,
             "slow": 0.05, "drop": 0.02, "ipblock": 0.01}
    plan = FaultPlan.parse(rates, seed=1)
    n = 20_000
    drawn = [plan.draw(f"/api/item/detail/?itemId={i}", 0, "item") for i in range(n)]
    for kind, rate in rates.items():
        observed = drawn.count(kind) / n
        assert abs(observed - rate) < 4 * (rate * (1 - rate) / n) ** 0.5 + 1e-3, (kind, observed)
    # kinds that cannot hit an endpoint class leave it alone
    media = [FaultPlan.parse({"captcha": 1.0}).draw(f"/media/{i}.mp4", 0, "media") for i in range(50)]
    assert media == [None] * 50


@pytest.fixture
def faulty(world):
    """A factory of sites over the session's world with a fault spec."""
    sites = []

    def start(spec, **options):
        context = serve(world, spec, **options)
        sites.append(context)
        return context.__enter__()

    yield start
    for context in sites:
        context.__exit__(None, None, None)


def _get(client: httpx.Client, path: str, **params):
    try:
        return client.get(path, params=params)
    except httpx.TransportError as exc:
        return exc


def test_each_kind_is_served_the_way_the_platform_fails(faulty, world):
    video_id = world.items[0]
    expectations = {
        "429": lambda r: r.status_code == 429,
        "5xx": lambda r: r.status_code in (500, 502, 503, 504),
        "captcha": lambda r: r.status_code == 200 and orjson.loads(r.content)["statusCode"] == 10000 and orjson.loads(r.content)["type"] == "verify",
        "empty": lambda r: r.status_code == 200 and r.content == b"",
        "ipblock": lambda r: orjson.loads(r.content)["statusCode"] == 10204,
        "private": lambda r: orjson.loads(r.content)["statusCode"] == 10216,
        "malformed": lambda r: r.status_code == 200 and _not_json(r.content),
        "slow": lambda r: r.status_code == 200 and orjson.loads(r.content)["statusCode"] == 0,
        "drop": lambda r: isinstance(r, httpx.TransportError),
    }
    for kind, check in expectations.items():
        site = faulty(f"{kind}:1", slow_s=0.05)
        with httpx.Client(base_url=site.base_url, timeout=10) as client:
            answer = _get(client, "/api/related/item_list/", itemID=video_id, count=16)
            assert check(answer), kind
            assert site.stats["faults"] == {kind: 1}, kind


def _not_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return True
    return False


def test_page_faults_keep_the_page_shape(faulty, world):
    video_path = world.video_path(world.items[0])
    site = faulty("captcha:1")
    page = httpx.get(site.url(video_path))
    assert "captcha-verify-container" in page.text and "__UNIVERSAL_DATA_FOR_REHYDRATION__" not in page.text
    site = faulty("private:1")
    assert '"statusCode":10216' in httpx.get(site.url(video_path)).text
    site = faulty("malformed:1")
    from scrapers.parse import parse_video_page
    from core.errors import ParseError

    with pytest.raises(ParseError):
        parse_video_page(httpx.get(site.url(video_path)).text)


def test_truncated_media_stops_short_of_its_length(faulty, world):
    site = faulty("truncated:1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(site.media_url(world.items[0]), timeout=10)
    assert site.stats["faults"] == {"truncated": 1}


def test_a_transient_fault_clears_on_retry(faulty, world):
    site = faulty("5xx:0.5", fault_seed=2)
    with httpx.Client(base_url=site.base_url, timeout=10) as client:
        cleared = 0
        for video_id in world.items[:20]:
            statuses = []
            while not statuses or statuses[-1] != 200:
                statuses.append(client.get("/api/item/detail/", params={"itemId": video_id}).status_code)
                assert len(statuses) < 30
            cleared += len(statuses) > 1
        assert cleared >= 3  # about half the keys failed first and then came through


def test_a_crawl_with_retries_gets_what_a_fault_free_crawl_gets(faulty, site, world):
    def crawl(base_url: str) -> tuple[list, list]:
        with httpx.Client(base_url=base_url, timeout=10) as client:
            feed = _retrying(client, "/api/recommend/item_list/", count=16, cursor=0)["itemList"]
            related = [_retrying(client, "/api/related/item_list/", itemID=i["id"], count=16) for i in feed]
        return [i["id"] for i in feed], [[i["id"] for i in r["itemList"]] for r in related]

    faulty_site = faulty(TRANSIENT_SPEC, fault_seed=9)
    assert crawl(faulty_site.base_url) == crawl(site.base_url)
    assert faulty_site.stats["faults_total"] > 0


def _retrying(client: httpx.Client, path: str, **params) -> dict:
    for _ in range(40):
        answer = _get(client, path, **params)
        if isinstance(answer, httpx.Response) and answer.status_code == 200 and not _not_json(answer.content):
            return orjson.loads(answer.content)
    raise AssertionError(f"{path} {params} never came through")


def test_the_same_fault_seed_replays_the_same_faults(faulty, world):
    def statuses(seed: int) -> list:
        site = faulty("429:0.3,5xx:0.2", fault_seed=seed)
        with httpx.Client(base_url=site.base_url) as client:
            return [client.get("/api/item/detail/", params={"itemId": v}).status_code for v in world.items[:40] * 2]

    assert statuses(4) == statuses(4) != statuses(5)


def test_a_blocked_session_gets_captchas_until_unblocked(faulty, world):
    site = faulty(None, block_after=5)
    video_id = world.items[0]
    with httpx.Client(base_url=site.base_url) as client:
        ask = lambda token: client.get("/api/item/detail/", params={"itemId": video_id, "msToken": token}).json()["statusCode"]  # noqa: E731
        assert [ask("a") for _ in range(7)] == [0] * 5 + [10000] * 2
        assert ask("b") == 0  # a new session (a new msToken) starts afresh
        page = client.get(world.video_path(video_id), headers={"Cookie": "msToken=a"})
        assert "captcha-verify-container" in page.text
        assert site.stats["blocked"] == 3
        client.get("/__sandbox/unblock")
        assert ask("a") == 0
    site = faulty(None, block_after=0, block_with="empty")
    assert httpx.get(site.url("/api/recommend/item_list/")).content == b""


def test_private_faults_only_hit_requests_about_one_video(faulty, world):
    site = faulty("private:1")
    body = httpx.get(site.url("/api/recommend/item_list/"), params={"count": 3}).json()
    assert body["statusCode"] == 0 and site.stats["faults"] == {}
    assert httpx.get(site.url("/api/item/detail/"), params={"itemId": world.items[0]}).json()["statusCode"] == 10216
