"""``./run demo``: the whole pipeline, offline, step by step, through the real ``curate`` command line.

It starts the built-in sandbox site (a synthetic TikTok on loopback), crawls it
the way the Viral Vision study crawled TikTok, downloads, probes and filters the
media, simulates the counts the site withheld, freezes a snapshot, draws the
reports, extracts the bundled content features and trains the baseline model on
tabular features alone and with the media features, side by side. Each step prints one header line and runs
``curate …`` as a user would (a subprocess of ``python -m curate.cli``).
Everything lands in a demo home (``./curate-data/demo`` by default) with its own
SQLite catalog, never in the user's own catalog.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import CurateError
from core.loopback import free_port

DEFAULT_HOME = Path("curate-data/demo")
#: a demo home carries this file; the demo only ever deletes a folder that has it
MARKER = ".curate-demo"
SNAPSHOT = "demo"
WORLD_VIDEOS, WORLD_SEED, CRAWL_SEED = 2000, 7, 7
MAX_VIDEOS = 450
IMPORT_RECORDS, SAMPLE_SEED = 60, 7
SANDBOX_START_S = 120.0
#: the extractors that run out of the box (transcript does too, but pocketsphinx at ~1x real time is left out of a 3-minute demo)
MEDIA_FEATURES = ("signals", "audio_events", "speech", "ocr")
#: the order they start in, side by side (one per core): the slowest first, so that the others fill the second core meanwhile
SLOWEST_FIRST = ("ocr", "speech", "signals", "audio_events")
EXTRACT_OPTIONS = {"ocr": ("-o", "frames=1")}


@dataclass
class DemoRun:
    """Where the demo writes, how it calls the command line, and the sandbox it started."""

    home: Path
    db_url: str
    max_videos: int = MAX_VIDEOS
    world_videos: int = WORLD_VIDEOS
    port: int = 0
    base_url: str = ""
    sandbox: subprocess.Popen | None = None

    def _command(self, args: tuple[str, ...]) -> list[str]:
        return [sys.executable, "-m", "curate.cli", "--home", str(self.home), "--db", self.db_url, *args]

    def curate(self, *args: str) -> None:
        """Runs ``curate --home HOME --db URL ARGS…`` and fails the demo when it fails."""
        print(f"    $ curate {' '.join(args)}", flush=True)
        done = subprocess.run(self._command(args), check=False)
        if done.returncode != 0:
            raise CurateError(f"`curate {' '.join(args)}` exited {done.returncode}")

    def curate_side_by_side(self, commands: dict[str, tuple[str, ...]], at_once: int) -> None:
        """Runs independent ``curate`` commands ``at_once`` at a time, each into its log; prints each log whole, in order."""
        for args in commands.values():
            print(f"    $ curate {' '.join(args)} &", flush=True)
        queue, running, failed = list(commands), {}, []
        for name, args in commands.items():
            while queue and len(running) < at_once:
                started = queue.pop(0)
                with (self.home / f"{started}.log").open("wb") as log:
                    running[started] = subprocess.Popen(self._command(commands[started]), stdout=log, stderr=subprocess.STDOUT)
            code = running.pop(name).wait()
            print(f"    --- curate {' '.join(args[:4])}: exit {code}\n{(self.home / f'{name}.log').read_text().rstrip()}", flush=True)
            failed += [name] if code != 0 else []
        if failed:
            raise CurateError(f"`curate {' '.join(commands[failed[0]])}` failed; see {self.home / failed[0]}.log")

    def background(self, *args: str) -> subprocess.Popen:
        """Starts ``curate ARGS…`` in the background (its output goes to a log in the demo home)."""
        log = (self.home / f"{args[0]}.log").open("wb")
        print(f"    $ curate {' '.join(args)} &    (log: {log.name})", flush=True)
        return subprocess.Popen(self._command(args), stdout=log, stderr=subprocess.STDOUT)

    def stop_background(self) -> None:
        """Stops the background site as Ctrl-C would, then for good if it lingers."""
        if self.sandbox is None or self.sandbox.poll() is not None:
            return
        self.sandbox.send_signal(signal.SIGINT)
        try:
            self.sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.sandbox.kill()
            self.sandbox.wait()


def wait_until_up(base_url: str, process: subprocess.Popen) -> None:
    """Waits for the site's stats endpoint; the first start also encodes the media templates."""
    import httpx

    deadline = time.monotonic() + SANDBOX_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CurateError(f"the sandbox exited with {process.returncode}; see its log")
        try:
            httpx.get(f"{base_url}/__sandbox/stats", timeout=1).raise_for_status()
            print(f"    up at {base_url}", flush=True)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise CurateError(f"the sandbox did not answer within {SANDBOX_START_S:.0f} s")


Step = Callable[[DemoRun], None]
STEPS: list[tuple[str, Step]] = []


def step(title: str) -> Callable[[Step], Step]:
    """Registers a step under a one-line title, in definition order."""

    def register(fn: Step) -> Step:
        STEPS.append((title, fn))
        return fn

    return register


@step("a fresh demo home")
def fresh_home(run: DemoRun) -> None:
    """Clears the previous demo's home (only one the demo made) and marks the new one."""
    if run.home.exists():
        if not (run.home / MARKER).exists():
            raise CurateError(f"{run.home} exists and was not made by the demo; give another --home")
        shutil.rmtree(run.home)
    run.home.mkdir(parents=True)
    (run.home / MARKER).write_text("made by `./run demo`; deleted and rebuilt by the next run\n")
    print(f"    {run.home.resolve()}")


@step("start the sandbox: an offline double of the platform on loopback")
def start_sandbox(run: DemoRun) -> None:
    """``curate sandbox serve`` in the background; the demo waits until it answers."""
    run.sandbox = run.background("sandbox", "serve", "--port", str(run.port), "--videos", str(run.world_videos),
                                 "--seed", str(WORLD_SEED))
    run.base_url = f"http://127.0.0.1:{run.port}"
    wait_until_up(run.base_url, run.sandbox)


@step("crawl it the way Viral Vision did: 25 For-You videos, then 5 related of a random one, again and again")
def crawl(run: DemoRun) -> None:
    """The recursive For-You crawl, through TikTokApi on Debian's Chromium, into the catalog."""
    run.curate("crawl", "--seed", "25", "--fanout", "5", "--max-videos", str(run.max_videos),
               "--random-seed", str(CRAWL_SEED), "--base-url", run.base_url)


@step("download the media (yt-dlp; checked before it lands in media/)")
def download(run: DemoRun) -> None:
    """Every catalogued video's file; broken ones are recorded with their reasons, never stored."""
    run.curate("download", "--workers", "4")


@step("import an older export too (tiktok-scraper format; its media links expired long ago)")
def import_export(run: DemoRun) -> None:
    """``curate import`` streams any payload file into the same catalog; a second import changes nothing."""
    from scrapers.payloads.samples import SampleFeed

    folder = run.home / "samples"
    folder.mkdir(exist_ok=True)
    export = SampleFeed(IMPORT_RECORDS, seed=SAMPLE_SEED).write_json_array(folder / "older_export.json")
    run.curate("import", str(export))
    run.curate("import", str(export), "--json")


@step("probe every file (PyAV, no decoding), hash sampled frames for near-duplicates, filter with the default rules")
def curate_media(run: DemoRun) -> None:
    """Facts per file, then a verdict per video with every failed rule as a reason."""
    run.curate("probe", "--workers", "2")
    run.curate("dedup", "--workers", "2")
    run.curate("filter")


@step("simulate metrics where the platform withheld them (flagged simulated, kept out of val/test)")
def synth(run: DemoRun) -> None:
    """``curate synth``: never overwrites an observed value."""
    run.curate("synth", "--seed", "1")


@step("freeze a snapshot: labels fitted on train, splits grouped by author, files hashed")
def snapshot(run: DemoRun) -> None:
    """``curate snapshot create`` then ``verify``, and an export to Parquet."""
    run.curate("snapshot", "create", SNAPSHOT, "--seed", "1")
    run.curate("snapshot", "verify", f"{SNAPSHOT}@v1")
    run.curate("export", f"{SNAPSHOT}@v1", "--format", "parquet", "--out", str(run.home / "exports" / SNAPSHOT))


@step("draw the dataset: the catalog's report and the snapshot's")
def report(run: DemoRun) -> None:
    """HTML pages with PNG figures, as seed 001 drew them."""
    run.curate("report")
    run.curate("report", f"{SNAPSHOT}@v1")


@step("extract the bundled content features: on-screen text, speech activity, signals, music/speech events (side by side)")
def extract(run: DemoRun) -> None:
    """The extractors whose models ship in their wheels (or need none), into the feature cache, one per core at a time."""
    from core.distribute import default_workers

    commands = {f"extract-{name}": ("extract", f"{SNAPSHOT}@v1", "--extractor", name, *EXTRACT_OPTIONS.get(name, ())) for name in SLOWEST_FIRST}
    run.curate_side_by_side(commands, at_once=max(1, min(len(commands), default_workers())))


@step("train the baseline MLP: tabular features alone, then tabular + media features")
def train(run: DemoRun) -> None:
    """Seed 000's MLP beside a majority baseline and logistic regression, twice, then the two side by side."""
    run.curate("train", f"{SNAPSHOT}@v1", "--seed", "1", "--run", "demo-tabular", "--cv", "5")
    run.curate("train", f"{SNAPSHOT}@v1", "--seed", "1", "--run", "demo", "--cv", "5", "--features", ",".join(("tabular", *MEDIA_FEATURES)))
    print_side_by_side(run.home / "runs" / "demo-tabular", run.home / "runs" / "demo")


def print_side_by_side(tabular: Path, media: Path) -> None:
    """The two runs' test AUCs (with bootstrap intervals) and cross-validated AUCs, one column each."""
    import json

    runs = {"tabular": json.loads((tabular / "metrics.json").read_text()), "tabular + media": json.loads((media / "metrics.json").read_text())}
    print(f"\n    {'':<34}" + "".join(f"{name:>22}" for name in runs))
    for model, label in (("mlp", "MLP"), ("logistic_regression", "logistic regression")):
        cells = [_auc_cell(m["test"][model]) for m in runs.values()]
        print(f"    {label + ' test AUC (95% CI)':<34}" + "".join(f"{c:>22}" for c in cells))
        if all("cv" in m for m in runs.values()):
            cells = [f"{m['cv'][model]['mean']:.3f} ± {m['cv'][model]['std']:.3f}" for m in runs.values()]
            print(f"    {label + ' 5-fold AUC':<34}" + "".join(f"{c:>22}" for c in cells))
    print(f"    {'features':<34}" + "".join(f"{m['n_features']:>22}" for m in runs.values()))


def _auc_cell(metrics: dict) -> str:
    low, high = metrics.get("auc_ci95", [float("nan")] * 2)
    return f"{metrics['auc']:.3f} ({low:.2f}–{high:.2f})"


@step("stop the sandbox")
def stop_sandbox(run: DemoRun) -> None:
    """Ends the background site."""
    run.stop_background()
    print("    stopped")


@step("what the catalog holds")
def status(run: DemoRun) -> None:
    """``curate status``."""
    run.curate("status")


@step("where the results are")
def where(run: DemoRun) -> None:
    """Paths to look at next."""
    home = run.home.resolve()
    rows = [
        ("catalog", run.db_url),
        ("media", home / "media"),
        ("snapshot", home / "snapshots" / SNAPSHOT / "v1"),
        ("export", home / "exports" / SNAPSHOT),
        ("reports", home / "reports" / "catalog" / "index.html"),
        ("", home / "reports" / f"{SNAPSHOT}@v1" / "index.html"),
        ("model run", home / "runs" / "demo"),
        ("", home / "runs" / "demo-tabular"),
    ]
    for name, path in rows:
        print(f"    {name:<10}{path}")
    print(f"    try:      curate --home {run.home} snapshot show {SNAPSHOT}@v1")
    print(f"    open:     {serve_line(run)}    (then http://127.0.0.1:8000 in a browser)")


def serve_line(run: DemoRun) -> str:
    """The ``curate serve`` command that opens the demo's catalog in the web page."""
    default_db = f"sqlite:///{(run.home / 'catalog.db').resolve()}"
    db = "" if run.db_url == default_db else f" --db {run.db_url}"
    return f"curate --home {run.home}{db} serve --port 8000"


def main(argv: list[str] | None = None) -> int:
    """Runs every step in order, stopping the sandbox whatever happens; returns the exit status."""
    parser = argparse.ArgumentParser(prog="./run demo", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="demo data folder (default ./curate-data/demo)")
    parser.add_argument("--db", help="catalog URL (default: SQLite in the demo folder)")
    parser.add_argument("--max-videos", type=int, default=MAX_VIDEOS, help="how many videos to crawl (default 450)")
    parser.add_argument("--world-videos", type=int, default=WORLD_VIDEOS, help="size of the sandbox world (default 2000)")
    args = parser.parse_args(argv)
    run = DemoRun(home=args.home, db_url=args.db or f"sqlite:///{(args.home / 'catalog.db').resolve()}",
                  max_videos=args.max_videos, world_videos=args.world_videos, port=free_port())
    try:
        return _run_steps(run)
    finally:
        run.stop_background()


def _run_steps(run: DemoRun) -> int:
    started, seconds = time.monotonic(), {}
    for number, (title, fn) in enumerate(STEPS, 1):
        print(f"\n==> [{number}/{len(STEPS)}] {title}", flush=True)
        clock = time.monotonic()
        try:
            fn(run)
        except CurateError as exc:
            print(f"demo stopped: {exc}", file=sys.stderr)
            return 1
        seconds[number] = time.monotonic() - clock
        print(f"    ({seconds[number]:.1f} s)", flush=True)
    slowest = ", ".join(f"[{n}] {seconds[n]:.0f} s" for n in sorted(seconds, key=seconds.get, reverse=True)[:3])
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s (the slowest steps: {slowest})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
