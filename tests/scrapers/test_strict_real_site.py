"""After issue 10's merge: curate doctor --live and the as-www.tiktok.com proxy against the sandbox's strict mode."""

from __future__ import annotations

import json

import pytest

from sandbox import World, serve
from tests.test_doctor import lines_of


@pytest.fixture(scope="module")
def strict_world(tmp_path_factory):
    return World.build(videos=200, seed=5, cache_dir=tmp_path_factory.mktemp("strict-media"))


@pytest.mark.parametrize("source, verdict", [("playwright", "ok"), ("tiktokapi", "ok"), ("selenium", "ok"), ("ytdlp", "blocked")])
def test_doctor_live_against_the_strict_site(sqlite_cli, strict_world, source, verdict):
    with serve(strict_world, strict=True) as site:
        result = sqlite_cli("doctor", "--live", "--source", source, "--base-url", site.base_url, ok=False)
    feed = lines_of(result)[f"live {source} feed"]
    assert feed.startswith(f"{verdict} — "), result.stdout
    assert (result.exit_code == 0) == (verdict == "ok")


@pytest.mark.parametrize("source", ["playwright", "tiktokapi"])
def test_a_strict_platform_through_the_proxy(sqlite_cli, strict_world, source, tmp_path):
    from sandbox.proxy import TikTokProxy, platform_site
    from sandbox.strict import StrictMode
    from sandbox.tls import SandboxCA

    site = platform_site(strict_world, None, strict=StrictMode(True)).start()
    proxy = TikTokProxy(site, SandboxCA.load_or_create(tmp_path / "ca")).start()
    try:
        out = sqlite_cli("crawl", "--seed", 5, "--fanout", 3, "--max-videos", 30, "--random-seed", 3, "--rate", 0, "--source", source,
                         "--proxy", proxy.proxy_url, "--ca-cert", proxy.ca_cert, "--json")
    finally:
        proxy.close()
        site.close()
    assert json.loads(out.stdout)["status"] == "finished"
