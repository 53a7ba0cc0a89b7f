"""``curate query`` fills the follower counts of its videos' creators from /user/info/, in the quota, resumably."""

from __future__ import annotations

import json

import sqlalchemy as sa

from db.engine import create_catalog_engine
from tests.scrapers.test_query_cli import credentials, query_file  # noqa: F401 - fixtures

SPAN = ["--start", "20241201", "--end", "20241207"]


def run_authors(db_url: str, run_id: int) -> dict[str, tuple]:
    """handle → (followers, stats_provenance) of the creators of a run's videos."""
    engine = create_catalog_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "select distinct a.handle, a.followers, a.stats_provenance from crawl_item i join video v on v.id = i.video_id"
                " join author a on a.id = v.author_id where i.run_id = :run"), {"run": run_id}).all()
    finally:
        engine.dispose()
    return {handle: (followers, provenance) for handle, followers, provenance in rows}


def world_followers(world, handle: str) -> int:
    return int(world.authors.at[world.author_row(handle), "followers"])


def test_the_creators_of_the_collected_videos_get_their_follower_counts_observed(cli, credentials, query_file, research_site, research_world):
    summary = json.loads(cli("query", query_file, *SPAN, "--base-url", research_site.base_url, "--json").stdout)
    authors = run_authors(cli.db_url, summary["run_id"])
    assert summary["status"] == "finished" and len(authors) > 1
    filled = summary["user_info"]
    assert (filled["pending"], filled["filled"], filled["asked"], filled["skipped"]) == (len(authors), len(authors), len(authors), {})
    assert authors == {h: (world_followers(research_world, h), "observed") for h in authors}
    # the video pages' requests and one per creator, each in the ledger (records: videos and accounts)
    assert summary["quota_today"]["requests"] == summary["pages"] + len(authors) == filled["requests"] + summary["pages"]
    assert summary["quota_today"]["records"] == summary["records"] + len(authors)
    again = json.loads(cli("query", query_file, *SPAN, "--base-url", research_site.base_url, "--json").stdout)
    assert again["user_info"]["pending"] == 0 and again["user_info"]["requests"] == 0, "known creators are not asked again"


def test_a_quota_spent_on_user_info_leaves_the_run_blocked_and_its_resume_fills_the_rest(cli, credentials, query_file, research_site, research_world):
    first = json.loads(cli("query", query_file, *SPAN, "--base-url", research_site.base_url, "--no-user-info", "--json").stdout)
    assert first["user_info"] is None and set(v[0] for v in run_authors(cli.db_url, first["run_id"]).values()) == {None}
    pages = first["quota_today"]["requests"]
    limit = pages + first["pages"] + 3  # the second run's pages, then three accounts
    stopped = cli("query", query_file, *SPAN, "--base-url", research_site.base_url, "--daily-requests", str(limit), "--json", ok=False)
    summary = json.loads(stopped.stdout)
    assert stopped.exit_code == 4 and summary["status"] == "blocked" and "quota" in summary["stop_reason"]
    assert summary["user_info"]["filled"] == 3 and summary["quota_today"]["requests"] == limit
    resumed = json.loads(cli("query", "--resume", str(summary["run_id"]), "--daily-requests", "1000", "--json").stdout)
    authors = run_authors(cli.db_url, summary["run_id"])
    assert resumed["status"] == "finished" and resumed["user_info"]["filled"] == len(authors) - 3
    assert all(followers == world_followers(research_world, h) for h, (followers, _) in authors.items())


def test_a_creator_the_api_does_not_show_is_counted_by_reason(cli, credentials, query_file, research_site, research_world, monkeypatch):
    from scrapers.backends.research_api import ResearchApiClient

    real = ResearchApiClient.user_info
    hidden: list[str] = []

    def user_info(self, username, fields=None):
        if not hidden:
            hidden.append(username)
            return real(self, f"{username}.gone")  # a name the double does not know: its 404
        return real(self, username)

    monkeypatch.setattr(ResearchApiClient, "user_info", user_info)
    summary = json.loads(cli("query", query_file, *SPAN, "--base-url", research_site.base_url, "--json").stdout)
    assert summary["status"] == "finished" and summary["user_info"]["skipped"] == {"not_found_or_private": 1}
    assert run_authors(cli.db_url, summary["run_id"])[hidden[0]][0] is None, "no count made up for it"
