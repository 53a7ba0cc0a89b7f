"""What the web page does besides showing: overrides by hand (only when allowed), asking a model about an upload,
and refusing every path that leaves the data folder — on SQLite and Postgres."""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from db.engine import create_catalog_engine
from db.models import VerdictOverride, Video
from modeling.prediction import NewVideo, Predictor
from modeling.runs import load_run
from modeling.snapshot import open_snapshot
from tests.web.conftest import make_client
from tests.web.world import video_id

SHORT = video_id(10)  # rejected by the rules (too short); no planted duplicate


def verdict_of(world, vid: str) -> tuple:
    engine = create_catalog_engine(world.db_url)
    v = Video.__table__
    with engine.connect() as conn:
        found = conn.execute(sa.select(v.c.verdict, v.c.verdict_reasons).where(v.c.id == vid)).one()
    engine.dispose()
    return tuple(found)


def test_a_read_only_server_refuses_to_override_a_verdict(client, world):
    before = verdict_of(world, SHORT)
    page = client.get(f"/videos/{SHORT}")
    assert 'id="override"' not in page.text and "read-only" in page.text
    answer = client.post(f"/videos/{SHORT}/verdict", data={"verdict": "kept", "made_by": "ana"})
    assert answer.status_code == 403 and "--allow-writes" in answer.text
    assert verdict_of(world, SHORT) == before


def test_an_override_is_recorded_outlives_refiltering_and_is_listed_in_the_next_snapshot(world):
    with make_client(world, allow_writes=True) as writer:
        assert 'id="override"' in writer.get(f"/videos/{SHORT}").text
        assert writer.post(f"/videos/{SHORT}/verdict", data={"verdict": "kept", "made_by": ""}).status_code == 400
        done = writer.post(f"/videos/{SHORT}/verdict", data={"verdict": "kept", "made_by": "ana", "note": "short on purpose"})
        assert done.status_code == 200 and "ana" in done.text and "short on purpose" in done.text
    assert verdict_of(world, SHORT) == ("kept", ["override:kept by ana"])
    cli = world.cli()
    cli("filter", "--rules", world.home / "rules.toml")
    assert verdict_of(world, SHORT)[0] == "kept", "re-filtering keeps the verdict set by hand"
    created = json.loads(cli("snapshot", "create", "web", "--seed", "1", "--json").stdout)
    manifest = json.loads((world.home / created["path"] / "manifest.json").read_text())
    (listed,) = [o for o in manifest["filter"]["overrides"] if o["video_id"] == SHORT]
    assert listed["made_by"] == "ana" and listed["verdict"] == "kept" and listed["in_snapshot"] is True
    assert listed["rule_verdict"] == "rejected" and "too_short" in listed["rule_reasons"] and listed["made_at"]
    engine = create_catalog_engine(world.db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(VerdictOverride.__table__)).scalar_one() >= 1
    engine.dispose()
    with make_client(world) as reader:
        page = reader.get(f"/snapshots/{created['ref']}")
        assert "short on purpose" in page.text.split('id="overrides"')[1].split("</table>")[0]


def test_asking_a_model_scores_an_upload_as_curate_predict_does(client, world):
    clip = world.media[video_id(6)]
    with open(clip, "rb") as handle:
        answer = client.post("/ask", data={"run": "webrun", "followers": "12000", "posted_at": "2025-01-01T18:00"},
                             files={"video": ("my clip.mp4", handle, "video/mp4")})
    assert answer.status_code == 200, answer.text
    shown = float(answer.text.split('id="score">')[1].split("<")[0])
    run = load_run(world.home / "runs", "webrun")
    posted = __import__("pandas").Timestamp("2025-01-01T18:00", tz="UTC")
    (expected,) = Predictor(run, world.home / "features", open_snapshot(world.home, "web@v2")).predict([str(clip)], NewVideo(followers=12000, posted_at=posted))
    assert shown == pytest.approx(expected.score, abs=5e-4)
    imputed = answer.text.split('id="imputed">')[1].split("</p>")[0]
    assert ", ".join(expected.imputed) in imputed and "followers" not in imputed
    assert "followers, posted_at" in answer.text
    assert not any((world.home / "uploads").iterdir()), "the upload is removed once scored"


def test_an_upload_that_is_not_a_video_gets_a_clear_message(client, world, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(5000))
    with open(junk, "rb") as handle:
        answer = client.post("/ask", data={"run": "webrun"}, files={"video": ("junk.mp4", handle, "video/mp4")})
    assert answer.status_code == 400 and "is not a video we can read" in answer.text
    text = client.post("/ask", data={"run": "webrun"}, files={"video": ("notes.txt", b"hello", "text/plain")})
    assert text.status_code == 400 and "is not a video file" in text.text
    assert "choose a trained run" in client.post("/ask", data={"run": "nope"}, files={"video": ("a.mp4", b"x", "video/mp4")}).text
    bad = client.post("/ask", data={"run": "webrun", "followers": "many"}, files={"video": ("a.mp4", world.media[video_id(6)].read_bytes(), "video/mp4")})
    assert bad.status_code == 400 and "followers must be a whole number" in bad.text


def test_an_upload_over_the_size_limit_is_refused(world):
    with make_client(world, max_upload_bytes=10_000) as small:
        data = world.media[video_id(6)].read_bytes()
        assert len(data) > 10_000
        answer = small.post("/ask", data={"run": "webrun"}, files={"video": ("big.mp4", data, "video/mp4")})
    assert answer.status_code in (400, 413) and ("larger than" in answer.text or "too large" in answer.text.lower())


TRAVERSALS = [
    "/videos/..%2F..%2Fcatalog.db/media", "/videos/%2e%2e/media", "/runs/webrun/..%2F..%2Fcatalog.db",
    "/runs/webrun/%2e%2e%2fmetrics.json", "/runs/webrun/metrics.json", "/runs/webrun/run.json",
    "/runs/webrun/model.safetensors", "/runs/..%2Fsnapshots/manifest.json", "/runs/../catalog.db",
    "/figures/..%2Fcatalog.db.png", "/snapshots/..%2F..%2Fcatalog.db", "/runs/webrun/..%5C..%5Ccatalog.png",
    "/catalog.db", "/media/../catalog.db", "/static/../../etc/passwd", "/runs/webrun/%00loss.png",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_paths_cannot_leave_the_data_folder(client, url):
    answer = client.get(url)
    assert answer.status_code in (400, 404)
    assert b"SQLite format 3" not in answer.content and b"root:" not in answer.content and b"PAR1" not in answer.content


def test_catalogued_paths_outside_the_media_folder_are_not_served(client, world, tmp_path):
    engine = create_catalog_engine(world.db_url)
    v = Video.__table__
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"secret bytes")
    link = world.home / "media" / "link.mp4"
    link.symlink_to(outside)
    planted = {video_id(20): str(outside), video_id(21): "media/../catalog.db", video_id(22): "media/link.mp4",
               video_id(23): "../../etc/passwd"}
    with engine.begin() as conn:
        before = dict(conn.execute(sa.select(v.c.id, v.c.media_path).where(v.c.id.in_(list(planted)))).all())
        for vid, path in planted.items():
            conn.execute(sa.update(v).where(v.c.id == vid).values(media_path=path))
    try:
        for vid in planted:
            answer = client.get(f"/videos/{vid}/media")
            assert answer.status_code == 404 and b"secret bytes" not in answer.content and b"SQLite" not in answer.content
    finally:
        with engine.begin() as conn:
            for vid, path in before.items():
                conn.execute(sa.update(v).where(v.c.id == vid).values(media_path=path))
        link.unlink()
        engine.dispose()


def test_serve_on_a_taken_port_is_a_one_line_error(sqlite_cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = sqlite_cli("serve", "--port", str(port), ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use (pick another --port)"
