"""``download_media``: good files land in media/ with their digests, bad ones never do and say why."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.records import ParsedItem, VideoRecord
from db.catalog import write_items
from db.models import Video
from scrapers.download import DownloadOptions, download_media
from scrapers.media import MediaRejected, check_media


def _ffmpeg(out: Path, *args: str) -> Path:
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "2", "-pix_fmt", "yuv420p", *args, str(out)]
    subprocess.run(cmd, check=True)
    return out


@pytest.fixture(scope="session")
def media_files(tmp_path_factory) -> dict[str, bytes]:
    """Served bodies by name: intact videos and the broken kinds the sandbox serves too."""
    d = tmp_path_factory.mktemp("media")
    good = _ffmpeg(d / "good.mp4", "-movflags", "+faststart").read_bytes()
    webm = _ffmpeg(d / "good.webm", "-c:v", "libvpx-vp9", "-b:v", "50k").read_bytes()
    moov_last = _ffmpeg(d / "late.mp4").read_bytes()
    return {
        "good.mp4": good,
        "other.mp4": _ffmpeg(d / "other.mp4", "-vf", "negate", "-movflags", "+faststart").read_bytes(),
        "good.webm": webm,
        "cut_front.mp4": good[: len(good) * 2 // 3],
        "cut_back.mp4": moov_last[: len(moov_last) // 2],
        "zero.mp4": b"",
        "page.mp4": b"<!DOCTYPE html><html><body>Video unavailable</body></html>",
    }


@pytest.fixture(scope="session")
def media_server(media_files):
    """A loopback server of those bodies, served as video/mp4 (as a broken CDN would)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = media_files.get(self.path.lstrip("/").split("?")[0])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


NAMES = ["good.mp4", "other.mp4", "good.webm", "cut_front.mp4", "cut_back.mp4", "zero.mp4", "page.mp4", "missing.mp4"]


def catalog(engine, base: str) -> dict[str, str]:
    ids = {str(7_000 + i): name for i, name in enumerate(NAMES)}
    items = [ParsedItem(VideoRecord(id=v, media_url=f"{base}/{n}"), None, None, {"id": v}, "item") for v, n in ids.items()]
    write_items(engine, items, "test")
    return ids


def rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(sa.select(Video.__table__)).mappings()}


def test_good_media_lands_with_its_digest_and_bad_media_never_does(sqlite_engine, tmp_path, media_server, media_files):
    ids = catalog(sqlite_engine, media_server)
    summary = download_media(sqlite_engine, tmp_path, DownloadOptions(workers=3))
    assert summary.downloaded == 3 and sum(summary.failed.values()) == 5
    stored = rows(sqlite_engine)
    for vid, name in ids.items():
        row = stored[vid]
        if name.startswith(("good", "other")):
            path = tmp_path / row["media_path"]
            assert path.read_bytes() == media_files[name]
            assert row["media_sha256"] == hashlib.sha256(media_files[name]).hexdigest() and row["media_size"] == path.stat().st_size
            assert row["download_error"] is None and row["claimed_by"] is None
        else:
            assert row["media_path"] is None and row["download_error"], name
    reasons = {ids[v]: stored[v]["download_error"].split(":")[0] for v in ids if stored[v]["download_error"]}
    assert reasons == {
        "cut_front.mp4": "truncated", "cut_back.mp4": "not_a_container", "zero.mp4": "empty_file",
        "page.mp4": "html_not_video", "missing.mp4": "http_404",
    }
    on_disk = sorted(p.name for p in (tmp_path / "media").iterdir() if p.name != ".media-root")
    assert on_disk == sorted(f"{v}.{'webm' if n.endswith('webm') else 'mp4'}" for v, n in ids.items() if n.startswith(("good", "other")))


def test_a_second_run_skips_what_is_stored_and_retries_failures(sqlite_engine, tmp_path, media_server):
    catalog(sqlite_engine, media_server)
    download_media(sqlite_engine, tmp_path, DownloadOptions(workers=2))
    again = download_media(sqlite_engine, tmp_path, DownloadOptions(workers=2))
    assert again.downloaded == 0 and sum(again.failed.values()) == 5
    attempts = {r["download_attempts"] for r in rows(sqlite_engine).values() if r["download_error"]}
    assert attempts == {2}


def test_files_already_in_media_are_recorded_not_downloaded(sqlite_engine, tmp_path, media_server, media_files):
    ids = catalog(sqlite_engine, media_server)
    good = next(v for v, n in ids.items() if n == "good.mp4")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / f"{good}.mp4").write_bytes(media_files["good.mp4"])
    summary = download_media(sqlite_engine, tmp_path, DownloadOptions(workers=2, limit=3))
    assert summary.already_present == 1 and summary.downloaded + sum(summary.failed.values()) == 2
    assert rows(sqlite_engine)[good]["media_path"] == f"media/{good}.mp4"


def test_a_deleted_file_is_downloaded_again(sqlite_engine, tmp_path, media_server):
    catalog(sqlite_engine, media_server)
    download_media(sqlite_engine, tmp_path, DownloadOptions(workers=2))
    victim = next(p for p in (tmp_path / "media").iterdir() if p.name != ".media-root")
    victim.unlink()
    summary = download_media(sqlite_engine, tmp_path, DownloadOptions(workers=2))
    assert summary.downloaded == 1 and victim.exists()


def test_check_media_names_each_kind_of_bad_file(tmp_path, media_files):
    expected = {"zero.mp4": "empty_file", "page.mp4": "html_not_video", "cut_back.mp4": "not_a_container", "cut_front.mp4": "truncated"}
    for name, reason in expected.items():
        path = tmp_path / name
        path.write_bytes(media_files[name])
        with pytest.raises(MediaRejected) as caught:
            check_media(path)
        assert caught.value.reason == reason
    (tmp_path / "g.webm").write_bytes(media_files["good.webm"])
    assert check_media(tmp_path / "g.webm").ext == "webm"


def test_a_worker_that_dies_is_one_failed_video_and_the_run_goes_on(sqlite_engine, tmp_path, media_server):
    from tests.scrapers.crashing import VICTIM, CrashingDownloader

    ids = catalog(sqlite_engine, media_server)
    assert ids[VICTIM] == "cut_front.mp4"  # a file that would have failed anyway: the counts stay comparable
    summary = download_media(sqlite_engine, tmp_path, DownloadOptions(workers=2), downloader=CrashingDownloader)
    # a job beside the crash may have stored its file before the pool broke: run again alone, it finds it present
    assert summary.downloaded + summary.already_present == 3 and summary.failed["worker_crashed"] == 1 and sum(summary.failed.values()) == 5
    stored = rows(sqlite_engine)
    assert stored[VICTIM]["download_error"].startswith("worker_crashed") and stored[VICTIM]["claimed_by"] is None
    assert all(stored[v]["media_path"] for v, n in ids.items() if n.startswith(("good", "other")))
