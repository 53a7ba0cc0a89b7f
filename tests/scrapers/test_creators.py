"""``curate crawl --users FILE``: creators' recent videos through every backend, missing and private accounts by reason.

The expectation comes from the sandbox world's own tables (no HTTP): a creator's public videos, newest first.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import sqlalchemy as sa

from db.crawl_state import load_members
from db.engine import create_catalog_engine
from db.models import Author, CrawlRun
from scrapers.creators import CreatorCrawler, CreatorParams, parse_handles
from scrapers.crawl import CrawlStats
from scrapers.politeness import Politeness
from scrapers.source import NotFound, Page, SourceStats
from tests.scrapers.crawl_fakes import WorldSource

BACKENDS = ["ytdlp", "tiktokapi", "playwright", "selenium", "research_api"]
MISSING = "nosuchcreator_zz"


def top_creators(world, n: int = 2) -> list[str]:
    """The handles of the ``n`` creators with the most public videos."""
    public = world.videos[world.videos["visibility"] == "public"]
    return [world.authors.at[row, "handle"] for row, _ in Counter(public["author_row"]).most_common(n)]


@pytest.fixture
def creators_file(tmp_path, sandbox_world):
    first, second = top_creators(sandbox_world)
    private = next(iter(sandbox_world.private_accounts))
    path = tmp_path / "creators.txt"
    path.write_text(f"# who to follow\n@{first}\n{second}   # with a comment\n{MISSING}\n{private}\nnot a handle\n@{first.upper()}\n")
    return path


@pytest.fixture
def research_credentials(monkeypatch):
    monkeypatch.setenv("CURATE_RESEARCH_CLIENT_KEY", "creators-key-01")
    monkeypatch.setenv("CURATE_RESEARCH_CLIENT_SECRET", "creators-secret-02")


def test_a_handles_file_reads_at_signs_urls_comments_and_reports_bad_lines():
    found = parse_handles(["# header", "@milo.zone", "lea_travels  # trailing", "", "https://www.tiktok.com/@sam_x?lang=en",
                           "two words", "@", "x" * 25, "MILO.ZONE", "bad/handle"])
    assert found.handles == ("milo.zone", "lea_travels", "sam_x")
    assert [(b.line, b.text) for b in found.bad] == [(6, "two words"), (7, "@"), (8, "x" * 25), (10, "bad/handle")]
    assert "one handle a line" in found.bad[0].why and found.repeated == 1


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_lists_the_creators_videos_and_records_missing_and_private_accounts(
        backend, sqlite_cli, sandbox_site, sandbox_world, creators_file, research_credentials):
    first, second = top_creators(sandbox_world)
    private = next(iter(sandbox_world.private_accounts))
    result = sqlite_cli("crawl", "--users", creators_file, "--max-videos", "3", "--source", backend,
                        "--base-url", sandbox_site.base_url, "--json")
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["source"], summary["creators"]) == ("finished", backend, 4)
    outcomes = {h: o["outcome"] for h, o in summary["creators_by_handle"].items()}
    hidden = "not_found_or_private" if backend == "research_api" else None
    assert outcomes == {first: "listed", second: "listed", MISSING: hidden or "not_found", private: hidden or "private_account"}
    assert [b["line"] for b in summary["bad_lines"]] == [6] and summary["repeated_handles"] == 1
    assert "line 6: 'not a handle' skipped" in result.stderr
    engine = create_catalog_engine(sqlite_cli.db_url)
    try:
        stored = [m["video_id"] for m in load_members(engine, summary["run_id"])]
        with engine.connect() as conn:
            followers = dict(conn.execute(sa.select(Author.handle, Author.followers)).all())
    finally:
        engine.dispose()
    expected = [v for h in (first, second) for v in sandbox_world.author_videos(sandbox_world.author_row(h))[:3]]
    if backend == "research_api":
        # the API sees the last LOOKBACK_WINDOWS × 30 days only: a subset of each creator's newest videos
        assert stored and set(stored) <= set(expected)
    else:
        assert stored == expected, "each creator's newest videos, at most --max-videos of them, in the list's order"
    assert summary["videos"] == len(stored)
    for handle in (first, second):
        assert followers[handle] == int(sandbox_world.authors.at[sandbox_world.author_row(handle), "followers"])
    assert private not in followers and MISSING not in followers


def test_a_creators_run_resumes_after_a_block_with_nothing_lost_or_repeated(cli, sandbox_world, creators_file):
    from sandbox import serve
    from sandbox.faults import FaultPlan

    with serve(sandbox_world, faults="captcha:1.0") as site:
        stopped = cli("crawl", "--users", creators_file, "--source", "ytdlp", "--base-url", site.base_url, "--json", ok=False)
        summary = json.loads(stopped.stdout)
        assert stopped.exit_code == 4 and summary["status"] == "blocked" and summary["creators_done"] == 0
        site.set_faults(FaultPlan())
        site.unblock()
        resumed = json.loads(cli("crawl", "--resume", str(summary["run_id"]), "--json").stdout)
    assert (resumed["status"], resumed["run_id"], resumed["creators_done"]) == ("finished", summary["run_id"], 4)
    engine = create_catalog_engine(cli.db_url)
    try:
        seqs = [m["seq"] for m in load_members(engine, summary["run_id"])]
    finally:
        engine.dispose()
    assert seqs == list(range(resumed["videos"])) and resumed["videos"] > 0, "each video once, numbered without gaps"
    assert resumed["outcomes"] == {"listed": 2, "not_found": 1, "private_account": 1}
    assert resumed["bad_lines"] == summary["bad_lines"], "the file's bad lines stay with the run"


def test_bad_input_is_one_clean_line(sqlite_cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody\nnot a handle\n")
    for args, message in ((["--users", tmp_path / "missing.txt"], "--users: no such file"),
                          (["--users", empty], "the file names no handle (1 bad line(s), e.g. line 2"),
                          (["--users", empty, "--source", "carrier-pigeon"], "--source 'carrier-pigeon'"),
                          (["--users", empty, "--fanout", "3", "--seed", "2"], "--seed, --fanout: options of the For-You crawl")):
        result = sqlite_cli("crawl", *args, "--base-url", "http://127.0.0.1:9", ok=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.exit_code in (1, 2) and len(lines) == 1 and message in lines[0], result.stderr
    engine = create_catalog_engine(sqlite_cli.db_url)
    with engine.connect() as conn:
        runs = conn.execute(sa.select(sa.func.count()).select_from(CrawlRun)).scalar_one() if sa.inspect(conn).has_table("crawl_run") else 0
    engine.dispose()
    assert runs == 0, "no run left behind"


class PagedCreators:
    """A source whose one creator lists 70 videos, 30 a page, and whose list repeats its last page forever."""

    name = "paged"

    def __init__(self, world) -> None:
        self.world, self.stats = WorldSource(world), SourceStats()
        self.ids = world.ids[:70]
        self.calls = 0

    def author_videos(self, handle: str, count: int, cursor=None) -> Page:
        self.calls += 1
        self.stats.requests += 1
        if handle != "many":
            raise NotFound(f"author {handle}: no such account")
        start = min(int(cursor or 0), 60)  # past the end, the last page again, still saying hasMore
        items = self.world._items(self.ids[start:start + count])
        return Page(items=items, has_more=True, cursor=start + count)


class ListSink:
    def __init__(self) -> None:
        self.steps, self.finished = [], None

    def commit(self, step) -> None:
        self.steps.append(step)

    def finish(self, status, reason, stats) -> None:
        self.finished = (status, reason)


@pytest.mark.parametrize("limit, pages", [(45, 2), (500, 4)])
def test_a_list_is_paged_to_its_limit_and_never_followed_round_a_repeating_page(sandbox_world, limit, pages):
    source, sink = PagedCreators(sandbox_world), ListSink()
    result = CreatorCrawler(source, sink, CreatorParams(("many", "ghost"), limit), stats=CrawlStats(),
                            politeness=Politeness(rate=0)).run()
    assert sink.finished == ("finished", "every creator listed") and result.progress.next == 2
    assert [m["video_id"] for m in sink.steps[0].members] == source.ids[:min(limit, 70)]
    assert result.progress.outcomes["ghost"] == {"outcome": "not_found", "videos": 0, "detail": "author ghost: no such account"}
    assert source.calls == pages + 2, "the missing account is asked twice (confirmed) and then recorded"


PROLIFIC = 40


@pytest.fixture(scope="module")
def prolific_site(tmp_path_factory):
    """A world one of whose creators posted PROLIFIC public videos: a list of two pages (30 + 10)."""
    from sandbox import World, serve

    world = World.build(videos=300, seed=28, cache_dir=tmp_path_factory.mktemp("prolific-media"))
    v, a = world.videos, world.authors
    rows = v.index[v["visibility"] == "public"][:PROLIFIC]
    v.loc[rows, ["author_row", "author_id", "handle"]] = [0, a.at[0, "author_id"], a.at[0, "handle"]]
    with serve(world) as site:
        yield world, site


@pytest.mark.browser
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_long_list_is_read_past_its_first_page(backend, sqlite_cli, prolific_site, tmp_path, research_credentials):
    world, site = prolific_site
    handle = world.authors.at[0, "handle"]
    (tmp_path / "one.txt").write_text(f"@{handle}\n")
    summary = json.loads(sqlite_cli("crawl", "--users", tmp_path / "one.txt", "--max-videos", "35", "--source", backend,
                                    "--base-url", site.base_url, "--json").stdout)
    engine = create_catalog_engine(sqlite_cli.db_url)
    try:
        stored = [m["video_id"] for m in load_members(engine, summary["run_id"])]
    finally:
        engine.dispose()
    listed = world.author_videos(0)
    assert len(listed) >= PROLIFIC and summary["creators_by_handle"][handle]["outcome"] == "listed"
    if backend == "research_api":
        # a year of 30-day windows, newest first: the creator's videos of that year, in order
        year = world.videos.set_index("video_id").loc[listed, "create_time"] >= world.clock.now() - 360 * 86_400
        assert stored == [i for i, recent in zip(listed, year) if recent][:35]
    else:
        assert stored == listed[:35], "the first page (30) and five of the second"
