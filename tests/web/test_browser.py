"""`curate serve` as a user meets it: a real server process on a free loopback port, driven with Debian's Chromium.

Every page is visited and kept as a screenshot under ``test-artifacts/web/<dialect>/``; a facet is clicked, a
search typed, a video played and sought (the player's range requests are watched), a real video and a junk file
uploaded, and two snapshot versions compared.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.loopback import free_port
from tests.web.world import VIDEOS, video_id

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required"]
START_S = 60


@pytest.fixture(scope="module")
def server(world):
    """``curate serve`` in a subprocess; yields its URL once it says it listens; stopped with Ctrl-C."""
    port = free_port()
    command = [sys.executable, "-m", "curate.cli", "--home", str(world.home), "--db", world.db_url, "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "300"})
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    url = _wait_for_url(lines, process)
    yield url
    process.send_signal(2)  # Ctrl-C: uvicorn closes lingering connections after 5 s
    try:
        assert process.wait(timeout=60) in (0, 130), "curate serve exits cleanly on Ctrl-C"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_for_url(lines: queue.Queue, process: subprocess.Popen) -> str:
    seen = []
    while True:
        try:
            line = lines.get(timeout=START_S)
        except queue.Empty:
            process.kill()
            raise AssertionError(f"curate serve said nothing for {START_S} s: {seen}") from None
        seen.append(line)
        if " at http://127.0.0.1:" in line:
            return line.split(" at ")[1].split()[0]
        if process.poll() is not None:
            raise AssertionError(f"curate serve exited {process.returncode}: {''.join(seen)}")


@pytest.fixture(scope="module")
def page(server, world, request):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server)
        tab = context.new_page()
        yield tab
        context.close()
        browser.close()


def shot(page, world, name: str) -> Path:
    dialect = "postgres" if world.db_url.startswith("postgresql") else "sqlite"
    path = ARTIFACTS / dialect / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def images_loaded(page) -> None:
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_in_a_real_browser(page, world):
    page.goto("/")
    images_loaded(page)
    from curation.report import FIGURES

    drawn = page.locator(".figures img")
    assert [drawn.nth(i).get_attribute("src") for i in range(drawn.count())] == [f"/figures/{n}.png" for n in FIGURES]
    shot(page, world, "01-catalog")

    page.goto("/videos")
    total = page.locator("#total").inner_text()
    page.locator('.facet[data-facet="verdict"] a', has_text="rejected").first.click()
    page.wait_for_url("**verdict=rejected**")
    assert page.locator("#total").inner_text() != total and "✕ rejected" in page.locator(".facets").inner_text()
    rows = page.locator("#videos tr").count() - 1
    assert rows == int(page.locator("#total").inner_text().split()[0].replace(",", ""))
    shot(page, world, "02-videos-facet")

    page.goto("/videos")
    page.fill('input[name="q"]', "dancing CAT")
    page.press('input[name="q"]', "Enter")
    page.wait_for_url("**q=dancing+CAT**")
    captions = page.locator("#videos tr td:nth-child(3)").all_inner_texts()
    assert len(captions) == len(range(0, VIDEOS, 7)) and all("Dancing Cat" in c for c in captions)
    shot(page, world, "03-videos-search")


@pytest.mark.browser
@pytest.mark.slow
def test_a_video_plays_and_seeks_through_range_requests(page, world):
    ranges = []
    page.on("response", lambda r: ranges.append((r.status, r.request.headers.get("range"))) if r.url.endswith("/media") else None)
    vid = video_id(6)
    page.goto(f"/videos/{vid}")
    state = page.evaluate("""async () => {
        const v = document.querySelector('#player');
        v.muted = true;
        if (v.readyState < 1) await new Promise(r => v.addEventListener('loadedmetadata', r, {once: true}));
        await v.play();
        const seeked = new Promise(r => v.addEventListener('seeked', r, {once: true}));
        v.currentTime = 4.0;
        await seeked;
        if (v.readyState < 3) await new Promise(r => v.addEventListener('canplay', r, {once: true}));
        return {time: v.currentTime, duration: v.duration, error: v.error && v.error.code, ready: v.readyState};
    }""")
    assert state["error"] is None and state["duration"] == pytest.approx(6.0, abs=0.2)
    assert state["time"] == pytest.approx(4.0, abs=0.6) and state["ready"] >= 3
    assert any(status == 206 for status, _ in ranges), ranges
    page.evaluate("document.querySelector('#player').pause()")
    shot(page, world, "04-video")
    assert page.locator("#crawl").inner_text().count(video_id(4)) == 1


@pytest.mark.browser
@pytest.mark.slow
def test_duplicates_snapshots_and_runs(page, world):
    page.goto("/duplicates")
    assert page.locator(".group").count() >= 2 and page.locator(".card.kept").count() >= 2
    shot(page, world, "05-duplicates")

    page.goto("/snapshots")
    shot(page, world, "06-snapshots")
    page.select_option('select[name="a"]', "web@v1")
    page.select_option('select[name="b"]', "web@v2")
    page.click('#diff button')
    page.wait_for_url("**/snapshots/diff?**")
    assert "added" in page.locator("#diff-counts").inner_text()
    shot(page, world, "07-snapshot-diff")
    page.goto("/snapshots/web@v2")
    assert page.locator("#manifest").inner_text().startswith("{")
    shot(page, world, "08-snapshot")
    page.goto("/snapshots/web@v2/verify")
    assert page.locator("#verdict").inner_text().startswith("ok")
    shot(page, world, "09-verify")

    page.goto("/runs")
    page.click("text=webrun")
    images_loaded(page)
    rows = {r.split("\t")[0]: r.split("\t")[1:] for r in page.locator("#metrics").inner_text().splitlines()}
    assert list(rows)[:3] == ["metric", "auc", "auc 95% CI"], rows
    assert len(rows["auc 95% CI"]) == len(rows["metric"]) == len(rows["auc"])
    for interval in rows["auc 95% CI"]:  # a bootstrap low–high interval, or a dash where there is none (AUC nan)
        assert interval == "—" or float(interval.split("–")[0]) <= float(interval.split("–")[1]), rows
    assert any(i != "—" for i in rows["auc 95% CI"]), rows
    shot(page, world, "10-run")


@pytest.mark.browser
@pytest.mark.slow
def test_uploading_a_real_video_and_a_junk_file(page, world, tmp_path):
    page.goto("/ask")
    page.set_input_files('input[name="video"]', str(world.media[video_id(7)]))
    page.fill('input[name="followers"]', "5000")
    page.click('#ask button[type="submit"]')
    page.wait_for_selector("#answer")
    score = float(page.locator("#score").inner_text())
    assert 0.0 <= score <= 1.0 and "imputed" in page.locator("#imputed").inner_text()
    shot(page, world, "11-ask-answer")

    junk = tmp_path / "holiday.mp4"
    junk.write_bytes(b"\x00\x01 definitely not a video " * 200)
    page.goto("/ask")
    page.set_input_files('input[name="video"]', str(junk))
    page.click('#ask button[type="submit"]')
    page.wait_for_selector("#error")
    assert "is not a video we can read" in page.locator("#error").inner_text()
    shot(page, world, "12-ask-junk")
