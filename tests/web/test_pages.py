"""The web page over a demo-like catalog, on SQLite and Postgres: every page, facets against the catalog, search,
pagination, the player's range requests, snapshots, runs, and no raw author id or handle anywhere."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from db.catalog import catalog_status
from db.dataset import load_video_frame
from db.engine import create_catalog_engine
from db.media import load_crawl_depths
from db.models import MetricObservation, Video
from db.snapshots import diff_snapshots, resolve_snapshot
from tests.web.world import PLANTED, video_id
from web.figures import FIGURES
from web.queries import PAGE_SIZE, VideoQuery, list_videos, snapshot_json, snapshot_labels


@pytest.fixture(scope="session")
def engine(world):
    eng = create_catalog_engine(world.db_url)
    yield eng
    eng.dispose()


def frame_of(engine) -> pd.DataFrame:
    frame = load_video_frame(engine)
    depths = load_crawl_depths(engine).set_index("video_id")["depth"]
    frame["depth"] = frame["video_id"].map(depths).map(lambda d: "not crawled" if pd.isna(d) else str(int(d)))
    return frame


def facet(found, name) -> dict[str, int]:
    return dict(found["facets"][name])


def test_catalog_page_shows_the_counts_and_draws_every_figure_live(client, engine):
    page = client.get("/")
    assert page.status_code == 200
    status = catalog_status(engine)
    assert f"<td class=\"n\">{status['videos']:,}</td>" in page.text
    for name in FIGURES:
        assert f'src="/figures/{name}.png"' in page.text
        png = client.get(f"/figures/{name}.png")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG"), name
    assert client.get("/figures/nothing.png").status_code == 404


def test_the_live_figures_draw_what_curate_report_draws(engine):
    """The catalog page's figures are the report's, trajectories included, from the same data as `curate report`."""
    from types import SimpleNamespace

    from curate.commands.curation import _trajectories
    from web.figures import catalog_table, catalog_trajectories

    table, _, _, _, trajectories = catalog_table(engine)
    frame = load_video_frame(engine)
    expected = _trajectories(SimpleNamespace(engine=engine), frame)
    pd.testing.assert_frame_equal(catalog_trajectories(engine, frame), expected)
    pd.testing.assert_frame_equal(trajectories, expected)
    assert len(trajectories) > 0 and trajectories["age_h"].notna().all()


def test_facets_are_the_catalogs_counts(world, engine):
    labels = snapshot_labels(resolve_snapshot(world.home, None, "web"))
    found = list_videos(engine, VideoQuery(snapshot_rows=snapshot_json(labels)), labels)
    frame = frame_of(engine)
    assert found["total"] == len(frame)
    assert facet(found, "verdict") == frame["verdict"].fillna("unfiltered").value_counts().to_dict()
    assert facet(found, "has_media") == frame["media_path"].notna().map({True: "yes", False: "no"}).value_counts().to_dict()
    assert facet(found, "depth") == frame["depth"].value_counts().to_dict()
    assert facet(found, "category") == frame["category"].fillna("(none)").value_counts().to_dict()
    reasons = frame["verdict_reasons"].explode().dropna().str.replace(r"^(near_)?duplicate_of:.*", r"\1duplicate", regex=True)
    assert facet(found, "reason") == reasons.str.replace(r"^override:.*", "override", regex=True).value_counts().to_dict()
    near = frame.loc[frame["verdict_reasons"].map(lambda r: any(str(x).startswith("near") for x in (r or []))), ["video_id", "verdict_reasons"]]
    assert facet(found, "reason")["near_duplicate"] == 3 and facet(found, "reason")["duplicate"] == 1, near.to_dict("records")
    latest = resolve_snapshot(world.home, None, "web").frame(["video_id", "split", "viral_er"])
    splits = latest["split"].value_counts().to_dict() | {"not in snapshot": len(frame) - len(latest)}
    assert facet(found, "split") == splits
    assert facet(found, "label")["viral"] == int(latest["viral_er"].eq(True).sum())


def test_provenance_facet_counts_observed_simulated_and_none(engine):
    o = MetricObservation.__table__
    with engine.connect() as conn:
        observed = set(conn.execute(sa.select(o.c.video_id).where(o.c.provenance == "observed")).scalars())
        any_obs = set(conn.execute(sa.select(o.c.video_id)).scalars())
        videos = conn.execute(sa.select(sa.func.count()).select_from(Video.__table__)).scalar_one()
    found = facet(list_videos(engine, VideoQuery()), "provenance")
    assert found == {k: v for k, v in {"observed": len(observed), "simulated": len(any_obs - observed),
                                       "no metrics": videos - len(any_obs)}.items() if v}


def test_a_facet_filters_and_the_other_facets_count_within_it(engine):
    frame = frame_of(engine)
    found = list_videos(engine, VideoQuery({"verdict": "rejected"}))
    rejected = frame[frame["verdict"] == "rejected"]
    assert found["total"] == len(rejected) and {r["id"] for r in found["rows"]} == set(rejected["video_id"])
    assert facet(found, "has_media") == rejected["media_path"].notna().map({True: "yes", False: "no"}).value_counts().to_dict()
    near = list_videos(engine, VideoQuery({"reason": "near_duplicate"}))
    assert {r["id"] for r in near["rows"]} == {video_id(i) for i in (0, 1, 3)}
    both = list_videos(engine, VideoQuery({"has_media": "yes", "depth": "1"}))
    assert both["total"] == int(((frame["media_path"].notna()) & (frame["depth"] == "1")).sum()) > 0


@pytest.mark.parametrize("text", ["FRIEND_11", "fyp", "dancing cat", "CATS", "creator_003", "100%", "no such words"])
def test_search_looks_in_captions_and_hashtags_case_blind(engine, text):
    frame = frame_of(engine)
    needle = text.lower()
    expected = frame["caption"].fillna("").str.lower().str.contains(needle, regex=False) | frame["hashtags"].map(
        lambda h: any(needle in t.lower() for t in h) if isinstance(h, list) else False)
    found = list_videos(engine, VideoQuery(search=text, page=1))
    assert found["total"] == int(expected.sum())
    if text == "no such words":
        assert found["total"] == 0


def test_pages_are_disjoint_and_cover_every_video(engine):
    total = list_videos(engine, VideoQuery())["total"]
    pages = -(-total // PAGE_SIZE)
    seen = []
    for page in range(1, pages + 1):
        seen += [r["id"] for r in list_videos(engine, VideoQuery(page=page))["rows"]]
    assert len(seen) == len(set(seen)) == total and seen == sorted(seen)
    assert list_videos(engine, VideoQuery(page=pages + 1))["rows"] == []


def test_videos_page_links_facets_search_and_pages(client):
    page = client.get("/videos")
    assert page.status_code == 200 and 'id="next"' in page.text
    assert page.text.count("<tr><td><a href=\"/videos/") == PAGE_SIZE
    filtered = client.get("/videos", params={"verdict": "rejected", "q": "fyp"})
    assert 'class="on"' in filtered.text and "✕ rejected" in filtered.text
    assert client.get("/videos", params={"page": "abc"}).status_code == 200


def test_video_page_shows_player_observations_probe_verdict_labels_and_crawl(client, engine, world):
    kept_child = video_id(6)  # depth 1 in the crawl, under video 4; kept; in the snapshots
    page = client.get(f"/videos/{kept_child}")
    assert page.status_code == 200
    assert f'src="/videos/{kept_child}/media"' in page.text
    o = MetricObservation.__table__
    with engine.connect() as conn:
        n_obs = conn.execute(sa.select(sa.func.count()).where(o.c.video_id == kept_child)).scalar_one()
    observations = page.text.split('id="observations"')[1].split("</table>")[0]
    assert observations.count("<tr><td>") == n_obs > 0
    assert "<th>codec</th><td>h264</td>" in page.text and "<b>kept</b>" in page.text
    assert f'<a href="/videos/{video_id(4)}">{video_id(4)}</a>' in page.text  # found among video 4's related videos
    labels = page.text.split('id="labels"')[1].split("</table>")[0]
    newest = resolve_snapshot(world.home, None, "web").ref  # another test may have added a version
    assert f"<th>ref</th><td>{newest}</td>" in labels and "<th>split</th>" in labels
    repost = client.get(f"/videos/{video_id(1)}")
    assert f"near_duplicate_of:{video_id(2)}" in repost.text and f"not in {newest}" in repost.text
    assert client.get(f"/videos/{video_id(50)}").text.count("no media file") == 1
    assert client.get("/videos/0000").status_code == 404


def test_media_is_served_with_range_requests_so_the_player_can_seek(client, world):
    vid = video_id(0)
    data = world.media[vid].read_bytes()
    whole = client.get(f"/videos/{vid}/media")
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    part = client.get(f"/videos/{vid}/media", headers={"range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    tail = client.get(f"/videos/{vid}/media", headers={"range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == data[-500:]
    assert client.get(f"/videos/{vid}/media", headers={"range": f"bytes={len(data) + 10}-"}).status_code == 416
    assert client.get(f"/videos/{video_id(50)}/media").status_code == 404


def test_snapshot_pages_list_show_verify_and_diff(client, world):
    listing = client.get("/snapshots")
    assert "web@v1" in listing.text and "web@v2" in listing.text and 'id="diff"' in listing.text
    page = client.get("/snapshots/web@v2")
    snap = resolve_snapshot(world.home, None, "web@v2")
    assert page.status_code == 200 and snap.fingerprint in page.text and 'id="manifest"' in page.text
    assert re.search(r"<th>author_key</th>", page.text)
    verify = client.get("/snapshots/web@v2/verify")
    assert "<b>ok</b>" in verify.text and "catalog record: matches" in verify.text
    diff = client.get("/snapshots/diff", params={"a": "web@v1", "b": "web@v2"})
    expected = diff_snapshots(resolve_snapshot(world.home, None, "web@v1"), snap).summary()
    counts = diff.text.split('id="diff-counts"')[1].split("</table>")[0]
    assert f"<th>added</th><td class=\"n\">{expected['added']}</td>" in counts and expected["added"] > 0
    assert f"<th>changed</th><td class=\"n\">{expected['changed']}</td>" in counts
    assert client.get("/snapshots/web@v9").status_code == 404
    assert client.get("/snapshots/diff", params={"a": "web@v1"}).status_code == 400


def test_runs_pages_show_metrics_plots_and_card(client, world):
    assert "webrun" in client.get("/runs").text
    page = client.get("/runs/webrun")
    assert page.status_code == 200 and "<th>auc</th>" in page.text and "Model card: webrun" in page.text
    from modeling.card import metrics_rows

    _, rows = metrics_rows(json.loads((world.home / "runs" / "webrun" / "metrics.json").read_text()))
    interval = dict(rows)["auc 95% CI"]
    assert "<tr><th>auc 95% CI</th>" + "".join(f'<td class="n">{v}</td>' for v in interval) + "</tr>" in page.text
    plots = re.findall(r'src="(/runs/webrun/[^"]+\.png)"', page.text)
    assert plots == [f"/runs/webrun/{p.name}" for p in sorted((world.home / "runs" / "webrun").glob("*.png"))]
    assert "/runs/webrun/loss.png" in plots
    for url in plots:
        assert client.get(url).content.startswith(b"\x89PNG")
    assert client.get("/runs/nope").status_code == 404


def test_duplicates_page_shows_each_planted_group_side_by_side(client):
    page = client.get("/duplicates", params={"by": ["media", "frames"]})
    assert page.status_code == 200
    groups = page.text.split('<div class="group"')[1:]
    members = [set(re.findall(r'<a href="/videos/(\d+)">', body)) for body in groups]
    assert sorted(map(sorted, members)) == sorted(sorted(video_id(i) for i in g) for g in PLANTED)
    first = page.text.split(f'data-group="{video_id(0)}"')[1].split('<div class="group"')[0]
    assert first.count("<b>kept</b>") == 1 and f'<a href="/videos/{video_id(2)}">{video_id(2)}</a> <b>kept</b>' in first
    assert client.get("/duplicates", params={"distance": "lots"}).status_code == 400


def test_no_page_shows_a_raw_author_id_or_handle(client, world):
    urls = ["/", "/videos", "/videos?page=2", "/videos?page=3", "/duplicates", "/snapshots", "/snapshots/web@v1",
            "/snapshots/web@v2", "/snapshots/diff?a=web@v1&b=web@v2", "/runs", "/runs/webrun"]
    urls += [f"/videos/{video_id(i)}" for i in (0, 3, 6, 17, 64, 125)]
    for url in urls:
        text = client.get(url).text.lower()
        leaked = sorted(s for s in world.secrets if s.lower() in text)
        assert not leaked, f"{url} shows {leaked[:3]}"
    assert "@user" in client.get(f"/videos/{video_id(3)}").text  # the @mention was replaced, not dropped silently


def test_dedup_counts_the_planted_groups_and_hashes_nothing_twice(world):
    import json

    counts = json.loads(world.cli()("dedup", "--by", "media,frames", "--json").stdout)
    assert counts["hashed_now"] == 0 and counts["fingerprinted"] == len(set(p.read_bytes() for p in world.media.values()))
    assert counts["groups"] == len(PLANTED) and counts["videos_in_groups"] == sum(map(len, PLANTED))
    assert world.cli()("dedup", "--by", "faces", ok=False).exit_code == 2
