"""The Research API's double answers in the documented shapes and enforces the API's rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest


QUERY = "/v2/research/video/query/"
FIELDS = "id,create_time,username,region_code,view_count,like_count,hashtag_names,video_description"
_keys = itertools.count()


def token(site, key: str | None = None) -> str:
    form = {"client_key": key or f"key{next(_keys)}", "client_secret": "s3cret", "grant_type": "client_credentials"}
    answer = httpx.post(site.url("/v2/oauth/token/"), data=form)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200 and body["access_token"].startswith("clt.")
    return body["access_token"]


def ask(site, tok: str, body: dict, fields: str = FIELDS, path: str = QUERY) -> httpx.Response:
    return httpx.post(site.url(f"{path}?fields={fields}"), content=orjson.dumps(body), headers={"Authorization": f"Bearer {tok}"})


def window_query(start="20241201", end="20241231", **extra):
    q = {"query": {"and": [{"operation": "IN", "field_name": "region_code", "field_values": ["US", "GB", "DE", "FR", "ES", "IT"]}]},
         "start_date": start, "end_date": end, "max_count": 100}
    return {**q, **extra}


def collect(site, tok, body) -> tuple[list[dict], list[dict]]:
    """Every page of a search: (videos, the data objects)."""
    videos, pages = [], []
    answer = ask(site, tok, body).json()
    while True:
        assert answer["error"]["code"] == "ok", answer
        pages.append(answer["data"])
        videos += answer["data"]["videos"]
        if not answer["data"]["has_more"]:
            return videos, pages
        answer = ask(site, tok, {**body, "cursor": answer["data"]["cursor"], "search_id": answer["data"]["search_id"]}).json()


def expected_ids(world, start: str, end: str, regions: set[str]) -> set[str]:
    """Public videos posted in [start, end) by creators of ``regions``, not deleted by the clock's time — from the world."""
    from sandbox.research_query import REGIONS

    v = world.videos
    lo = datetime.strptime(start, "%Y%m%d").replace(tzinfo=UTC).timestamp()
    hi = datetime.strptime(end, "%Y%m%d").replace(tzinfo=UTC).timestamp()
    region = np.asarray(REGIONS)[(v["author_row"].to_numpy() * 7 + world.spec.seed) % len(REGIONS)]
    alive = world.growth.gone_at > world.clock.now()
    keep = (v["create_time"] >= lo) & (v["create_time"] < hi) & (v["visibility"] == "public") & pd.Series(region).isin(regions) & alive
    return set(v.loc[keep, "video_id"])


def test_a_search_pages_through_every_matching_public_video_in_the_documented_shape(research_site, research_world):
    tok = token(research_site)
    videos, pages = collect(research_site, tok, window_query())
    ids = [str(v["id"]) for v in videos]
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(research_world, "20241201", "20241231", {"US", "GB", "DE", "FR", "ES", "IT"})
    assert len(pages) >= 2 and len({p["search_id"] for p in pages}) == 1
    assert [p["cursor"] for p in pages] == [100 * (i + 1) for i in range(len(pages))]
    # ids are JSON numbers, as the API sends them; only the asked fields come back
    assert all(isinstance(v["id"], int) for v in videos)
    assert set().union(*map(set, videos)) <= set(FIELDS.split(","))
    # the end date is exclusive: nothing posted on the 31st
    assert max(v["create_time"] for v in videos) < datetime(2024, 12, 31, tzinfo=UTC).timestamp()


def test_pages_hold_fewer_videos_than_max_count_where_videos_are_not_public(research_site, research_world):
    tok = token(research_site)
    body = {"query": {"and": [{"operation": "GTE", "field_name": "create_date", "field_values": ["20220101"]}]},
            "start_date": "20241202", "end_date": "20241231", "max_count": 100}
    videos, pages = collect(research_site, tok, body)
    v = research_world.videos
    lo, hi = datetime(2024, 12, 2, tzinfo=UTC).timestamp(), datetime(2024, 12, 31, tzinfo=UTC).timestamp()
    window = v[(v["create_time"] >= lo) & (v["create_time"] < hi)]
    hidden = (window["visibility"] != "public").sum()
    assert hidden > 0, "choose a window with a private or deleted video"
    assert len(videos) == len(window) - hidden
    assert sum(100 - len(p["videos"]) for p in pages[:-1]) + (len(window) - 100 * (len(pages) - 1) - len(pages[-1]["videos"])) == hidden


@pytest.mark.parametrize("body, message", [
    ({"query": {"and": [{"operation": "LIKE", "field_name": "keyword", "field_values": ["cat"]}]}}, "invalid operation"),
    ({"query": {"and": [{"operation": "EQ", "field_name": "colour", "field_values": ["red"]}]}}, "invalid field_name"),
    ({"query": {"and": [{"operation": "EQ", "field_name": "keyword", "field_values": ["a", "b"]}]}}, "exactly one field value"),
    ({"query": {"maybe": []}}, "unknown keys"),
    ({"query": {"and": [{"operation": "IN", "field_name": "video_length", "field_values": ["HUGE"]}]}}, "video_length"),
    ({"start_date": "20241101", "end_date": "20241215"}, "30 days"),
    ({"end_date": "20241201"}, "1 to 30 days"),
    ({"max_count": 101}, "Invalid count or cursor"),
    ({"cursor": 100}, "Invalid count or cursor"),
    ({"start_date": "2024-12-01"}, "start_date must be YYYYMMDD"),
])
def test_the_query_language_and_the_window_limit_are_enforced(research_site, body, message):
    answer = ask(research_site, token(research_site), {**window_query(), **body})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_params" and message in error["message"] and error["log_id"]


def test_unknown_fields_and_missing_tokens_are_refused(research_site):
    tok = token(research_site)
    bad = ask(research_site, tok, window_query(), fields="id,colour")
    assert bad.status_code == 400 and "Invalid fields: colour" in bad.json()["error"]["message"]
    assert ask(research_site, "nope", window_query()).json()["error"]["code"] == "access_token_invalid"
    refused = httpx.post(research_site.url("/v2/oauth/token/"), data={"client_key": "", "client_secret": "", "grant_type": "client_credentials"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_tokens_expire_after_two_hours_of_the_sandbox_clock(research_site, research_world):
    tok = token(research_site)
    assert ask(research_site, tok, window_query()).status_code == 200
    research_world.clock.advance(7200)
    expired = ask(research_site, tok, window_query())
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "access_token_invalid"
    assert ask(research_site, token(research_site), window_query()).status_code == 200


def test_conditions_combine_as_and_or_not(research_site, research_world):
    tok = token(research_site)
    tag = "fyp"
    body = {"query": {"or": [{"operation": "EQ", "field_name": "hashtag_name", "field_values": [tag]},
                             {"operation": "EQ", "field_name": "keyword", "field_values": ["tutorial"]}],
                      "not": [{"operation": "EQ", "field_name": "video_length", "field_values": ["SHORT"]}]},
            "start_date": "20241201", "end_date": "20241231", "max_count": 100}
    got = {str(v["id"]) for v in collect(research_site, tok, body)[0]}
    v = research_world.videos
    lo, hi = datetime(2024, 12, 1, tzinfo=UTC).timestamp(), datetime(2024, 12, 31, tzinfo=UTC).timestamp()
    has_tag = v["caption"].str.contains(f"#{tag}\\b", regex=True)
    keyword = v["caption"].str.lower().str.contains("tutorial", regex=False)
    keep = (v["create_time"] >= lo) & (v["create_time"] < hi) & (v["visibility"] == "public") & (has_tag | keyword) & (v["duration"] >= 15)
    assert got == set(v.loc[keep, "video_id"]) and got


def test_quotas_count_requests_and_records_per_utc_day_and_reset_at_midnight(research_site, research_world):
    research_site.routes.research.config.daily_requests = 3
    tok = token(research_site, "quota-client")
    shown = [len(ask(research_site, tok, window_query()).json()["data"]["videos"]) for _ in range(3)]
    spent = ask(research_site, tok, window_query())
    assert spent.status_code == 429 and spent.json()["error"]["code"] == "rate_limit_exceeded"
    assert research_site.routes.research.usage("quota-client") == {"requests": 3, "records": sum(shown)}
    research_world.clock.advance(86_400)  # 2025-01-02 00:00 UTC: a new day
    assert ask(research_site, token(research_site, "quota-client"), window_query()).status_code == 200
    research_site.routes.research.config.daily_requests = 1000


def test_internal_errors_spend_quota_and_search_ids_expire(research_site, research_world):
    api = research_site.routes.research
    api.config.internal_error = 1.0
    tok = token(research_site, "errors-client")
    failed = ask(research_site, tok, window_query())
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal_error"
    assert api.usage("errors-client")["requests"] == 1
    api.config.internal_error = 0.0
    first = ask(research_site, tok, window_query()).json()["data"]
    follow = {**window_query(), "cursor": first["cursor"], "search_id": first["search_id"]}
    assert ask(research_site, tok, follow).status_code == 200
    research_world.clock.advance(api.config.search_ttl_s + 1)
    expired = ask(research_site, token(research_site), follow)
    assert expired.status_code == 400
    assert expired.json()["error"]["message"] == f"Search Id {first['search_id']} is invalid or expired"


def test_user_info_and_comments(research_site, research_world):
    tok = token(research_site)
    handle = research_world.authors.at[3, "handle"]
    info = ask(research_site, tok, {"username": handle}, "display_name,follower_count,likes_count,is_verified", "/v2/research/user/info/").json()
    assert info["error"]["code"] == "ok" and info["data"]["follower_count"] == int(research_world.authors.at[3, "followers"])
    assert set(info["data"]) == {"display_name", "follower_count", "likes_count", "is_verified"}
    row = int(research_world.videos[(research_world.videos["visibility"] == "public") & (research_world.videos["comments"] > 120)].index[0])
    video_id = int(research_world.videos.at[row, "video_id"])
    page = ask(research_site, tok, {"video_id": video_id, "max_count": 100}, "id,text,video_id,parent_comment_id,create_time",
               "/v2/research/video/comment/list/").json()["data"]
    assert len(page["comments"]) == 100 and page["has_more"] and page["cursor"] == 100
    assert all(c["video_id"] == video_id and c["text"] for c in page["comments"])
    missing = ask(research_site, tok, {"username": "nobody-here"}, "follower_count", "/v2/research/user/info/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "invalid_params"
