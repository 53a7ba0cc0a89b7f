"""``./run demo``: the pipeline on generated data, step by step, through the real ``curate`` command line.

Each step is a small function that prints one header line and runs ``curate …``
as a user would (a subprocess of ``python -m curate.cli``). Later stages add
their steps to ``STEPS``. Everything lands in a demo home (``./curate-data/demo``
by default) with its own SQLite catalog, never in the user's own catalog.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import CurateError

DEFAULT_HOME = Path("curate-data/demo")
#: a demo home carries this file; the demo only ever deletes a folder that has it
MARKER = ".curate-demo"
SAMPLE_RECORDS = 300
SAMPLE_SEED = 7


@dataclass
class DemoRun:
    """Where the demo writes and how it calls the command line."""

    home: Path
    db_url: str
    records: int = SAMPLE_RECORDS
    files: dict[str, Path] = field(default_factory=dict)

    def curate(self, *args: str) -> None:
        """Runs ``curate --home HOME --db URL ARGS…`` and fails the demo when it fails."""
        command = [sys.executable, "-m", "curate.cli", "--home", str(self.home), "--db", self.db_url, *args]
        print(f"    $ curate {' '.join(args)}", flush=True)
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            raise CurateError(f"`curate {' '.join(args)}` exited {done.returncode}")


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


@step("a sample export: generated For-You items in the platform's itemStruct shape")
def sample_export(run: DemoRun) -> None:
    """Writes the items as a JSON array, and the same videos a day later as JSON Lines of feed responses."""
    import orjson

    from scrapers.payloads.samples import SampleFeed

    feed = SampleFeed(run.records, seed=SAMPLE_SEED)
    folder = run.home / "samples"
    folder.mkdir(exist_ok=True)
    run.files["export"] = feed.write_json_array(folder / "for_you_export.json")
    later = folder / "for_you_next_day.jsonl"
    with later.open("wb") as out:
        items = list(feed.items())
        for start in range(0, len(items), 30):
            page = items[start : start + 30]
            for item in page[::2]:  # half of the videos gained plays overnight
                item["stats"]["playCount"] += 1000
                item["statsV2"]["playCount"] = str(item["stats"]["playCount"])
            out.write(orjson.dumps({"itemList": page, "hasMore": start + 30 < len(items), "cursor": start + 30, "statusCode": 0}) + b"\n")
    run.files["next_day"] = later
    for path in (run.files["export"], later):
        print(f"    {path} ({path.stat().st_size / 1e6:.1f} MB)")


@step("import the export into the catalog")
def import_export(run: DemoRun) -> None:
    """The first import: every video, author and observation is new."""
    run.curate("import", str(run.files["export"]))


@step("import it again: nothing changes")
def import_again(run: DemoRun) -> None:
    """Importing is idempotent."""
    run.curate("import", str(run.files["export"]), "--json")


@step("import the next day's feed pages: changed counts become new observations")
def import_next_day(run: DemoRun) -> None:
    """Metrics change over time; each change is kept as an observation."""
    run.curate("import", str(run.files["next_day"]), "--json")


@step("what the catalog holds")
def status(run: DemoRun) -> None:
    """``curate status``."""
    run.curate("status")


@step("where the results are")
def where(run: DemoRun) -> None:
    """Paths to look at next."""
    print(f"    catalog:  {run.db_url}")
    print(f"    samples:  {run.home / 'samples'}")
    print(f"    try:      curate --home {run.home} status --json")


def main(argv: list[str] | None = None) -> int:
    """Runs every step in order; returns the exit status."""
    parser = argparse.ArgumentParser(prog="./run demo", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="demo data folder (default ./curate-data/demo)")
    parser.add_argument("--db", help="catalog URL (default: SQLite in the demo folder)")
    parser.add_argument("--records", type=int, default=SAMPLE_RECORDS, help="sample size")
    args = parser.parse_args(argv)
    run = DemoRun(home=args.home, db_url=args.db or f"sqlite:///{(args.home / 'catalog.db').resolve()}", records=args.records)
    for number, (title, fn) in enumerate(STEPS, 1):
        print(f"\n==> [{number}/{len(STEPS)}] {title}", flush=True)
        try:
            fn(run)
        except CurateError as exc:
            print(f"demo stopped: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
