"""``curate sandbox serve`` and ``curate sandbox warm``: the offline double of the platform."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.output import console, err_console, print_json

sandbox_app = typer.Typer(help="The offline double of the platform: a synthetic world served on loopback.\n\n"
                          "Example:  curate sandbox serve --videos 500 --seed 7", no_args_is_help=True, rich_markup_mode=None)

VIDEOS = typer.Option(500, "--videos", help="How many videos the synthetic world holds.")
SEED = typer.Option(7, "--seed", help="Seed of the world (authors, videos, graph, For-You order, media).")
CACHE = typer.Option(None, "--cache-dir", help="Where media files are cached between runs. Default: ~/.cache/viralcurate/sandbox")


@sandbox_app.command("serve")
def serve_command(
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0 = any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    videos: int = VIDEOS,
    seed: int = SEED,
    faults: str = typer.Option("", "--faults", help="Injected faults as KIND:RATE,… or a profile (realistic); kinds: see docs/sandbox.md."),
    fault_seed: int = typer.Option(0, "--fault-seed", help="Seed of the fault draws."),
    block_after: int | None = typer.Option(None, "--block-after", help="Block a session (msToken) after this many API and page requests."),
    block_with: str = typer.Option("captcha", "--block-with", help="What a blocked session gets: captcha or empty."),
    slow_s: float = typer.Option(1.5, "--slow-seconds", help="Delay of a 'slow' fault."),
    strict: bool = typer.Option(False, "--strict", help="Check what the real site checks: signed API calls, rotating msToken, ads and photo posts in lists."),
    refuse_automation: bool = typer.Option(False, "--refuse-automation", help="With --strict: refuse HeadlessChrome and navigator.webdriver."),
    cache_dir: Path | None = CACHE,
    planted: bool = typer.Option(True, "--planted-signal/--no-planted-signal", help="Let content (category, sound, duration) shift engagement, as `curate synth --planted-signal` does."),
    hidden_counts: float = typer.Option(0.05, "--hidden-counts", min=0, max=1, help="Share of creators whose counts the site withholds (items without stats)."),
    research: str = typer.Option("", "--research", help="The Research API double's limits and errors as KEY:VALUE,…: 500 expired requests records ttl (e.g. 500:0.05,requests:1000)."),
    as_tiktok: bool = typer.Option(False, "--as-tiktok", help="Also answer as https://www.tiktok.com through an HTTPS proxy on --proxy-port, with the sandbox's own CA."),
    proxy_port: int = typer.Option(8766, "--proxy-port", help="Port of the --as-tiktok proxy on 127.0.0.1 (0 = any free port)."),
    ca_dir: Path | None = typer.Option(None, "--ca-dir", help="Where the --as-tiktok CA is kept (ca.pem is the file to trust). Default: CACHE_DIR/tls"),
    replay: Path | None = typer.Option(None, "--replay", help="Answer from this HAR file (curate crawl --record-har) instead of a synthetic world."),
) -> None:
    """Serve a synthetic TikTok world on loopback until Ctrl-C: pages, API, media, injected faults.

    With --as-tiktok the pages and items name www.tiktok.com (media on a *.tiktok.com
    CDN host) and a proxy answers for those names, so that clients take their
    real-site paths: curate crawl/download/doctor --proxy http://127.0.0.1:8766
    --ca-cert CA_DIR/ca.pem, without --base-url.

    \b
    Example:  curate sandbox serve --videos 1000 --strict --faults realistic --fault-seed 3
    Example:  curate sandbox serve --as-tiktok --proxy-port 8766
    Example:  curate sandbox serve --replay blocked-crawl.har --port 8765
    """
    from sandbox import FaultPlan, Site, World
    from sandbox.strict import StrictMode

    if replay is not None:
        from sandbox.media import DEFAULT_CACHE_DIR

        return _serve_replay(replay, host, port, as_tiktok, proxy_port, ca_dir or (cache_dir or DEFAULT_CACHE_DIR) / "tls")

    plan = FaultPlan.parse(faults, seed=fault_seed, slow_s=slow_s, block_after=block_after, block_with=block_with)
    world = World.build(videos=videos, seed=seed, cache_dir=cache_dir, planted_signal=planted, hidden_counts=hidden_counts)
    try:
        strict_mode = StrictMode(strict, refuse_automation)
        if as_tiktok:
            from sandbox.proxy import platform_site

            site = platform_site(world, plan, host=host, port=port, strict=strict_mode)
        else:
            site = Site(world, plan, host=host, port=port, strict=strict_mode)
        proxy = _proxy(site, world, ca_dir, host, proxy_port) if as_tiktok else None
    except OSError as exc:
        from core.errors import CurateError

        raise CurateError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    _configure_research(site, research)
    console.print(f"sandbox {world.spec.key()} at [bold]{site.base_url}[/] — {len(world.feed):,} videos in the feed, "
                  f"{len(world.authors):,} authors; faults: {plan.describe() or 'none'}" + ("; strict" if strict else ""), highlight=False)
    console.print(f"  try:  curate crawl --base-url {site.base_url} --seed 25 --fanout 5", highlight=False)
    console.print(f"  stats: {site.base_url}/__sandbox/stats   (Ctrl-C stops)", highlight=False)
    if proxy is not None:
        console.print(f"  as www.tiktok.com:  curate crawl --proxy {proxy.proxy_url} --ca-cert {proxy.ca_cert} --rate 0 --seed 25", highlight=False)
    try:
        site.serve_forever()
    except KeyboardInterrupt:
        err_console.print(f"stopped; served {site.stats['requests']:,} requests")
    finally:
        if proxy is not None:
            proxy.close()


def _serve_replay(path: Path, host: str, port: int, as_tiktok: bool, proxy_port: int, ca_dir: Path) -> None:
    """``--replay``: the recorded answers on loopback (and as www.tiktok.com with --as-tiktok) until Ctrl-C."""
    from core.errors import CurateError
    from sandbox.proxy import TikTokProxy
    from sandbox.replay import Recording, ReplaySite
    from sandbox.tls import SandboxCA

    recording = Recording.load(path)
    try:
        site = ReplaySite(recording, host, port)
        proxy = TikTokProxy(site, SandboxCA.load_or_create(ca_dir), host, proxy_port).start() if as_tiktok else None
    except OSError as exc:
        raise CurateError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    console.print(f"replaying {len(recording):,} recorded answers of {path} at [bold]{site.base_url}[/]", highlight=False)
    console.print(f"  try:  curate crawl --base-url {site.base_url} --source THE_RECORDED_BACKEND", highlight=False)
    if proxy is not None:
        console.print(f"  as www.tiktok.com:  --proxy {proxy.proxy_url} --ca-cert {proxy.ca_cert}", highlight=False)
    console.print(f"  requests the recording lacks: {site.base_url}/__sandbox/stats   (Ctrl-C stops)", highlight=False)
    try:
        site.serve_forever()
    except KeyboardInterrupt:
        err_console.print(f"stopped; {site.stats['requests']:,} requests, {site.stats['unmatched_total']:,} not in the recording")
    finally:
        if proxy is not None:
            proxy.close()


def _proxy(site, world, ca_dir: Path | None, host: str, port: int):
    """The --as-tiktok proxy in front of ``site``, serving in a background thread."""
    from sandbox.proxy import TikTokProxy
    from sandbox.tls import SandboxCA

    return TikTokProxy(site, SandboxCA.load_or_create(ca_dir or world.media.cache_dir / "tls"), host, port).start()


def _configure_research(site, spec: str) -> None:
    """Applies ``--research`` to the site's Research API double."""
    from core.errors import ConfigError
    from sandbox.research import ResearchConfig

    try:
        site.routes.research.config = ResearchConfig.parse(spec)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--research {spec!r}: {exc}") from None


@sandbox_app.command("warm")
def warm_command(
    videos: int = VIDEOS,
    seed: int = SEED,
    limit: int | None = typer.Option(None, "--limit", help="Only the first N videos of the For-You order."),
    workers: int = typer.Option(2, "--workers", help="Files made at once (ffmpeg encodes and remuxes)."),
    cache_dir: Path | None = CACHE,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Make the world's media files now (ffmpeg templates, then one remux per video) instead of on first request.

    Example:  curate sandbox warm --videos 1000 --limit 200
    """
    from rich.progress import Progress

    from sandbox import World

    world = World.build(videos=videos, seed=seed, cache_dir=cache_dir)
    ids = world.ids if limit is None else world.items[:limit]
    total = 0
    with Progress(console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("making media", total=len(ids))
        for path in world.prepare_media(ids, workers=workers):
            total += path.stat().st_size
            progress.advance(task)
    counts = {"videos": len(ids), "bytes": total, "cache_dir": str(world.media.cache_dir)}
    if as_json:
        print_json(counts)
    else:
        console.print(f"{len(ids):,} media files ready ({total / 1e6:.1f} MB) in {world.media.cache_dir}", highlight=False)


def register(app: typer.Typer) -> None:
    """Adds the ``sandbox`` group to ``app``."""
    app.add_typer(sandbox_app, name="sandbox")
