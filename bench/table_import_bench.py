"""Table and JSON import beside ``sqlite-utils insert`` of the same file, in the same run, into fresh SQLite files.

- a 100,000-row CSV shaped like the student project's table (video_id, author, followers, following,
  likes, comments, shares, duration, category, date): ``curate import FILE.csv`` against
  ``sqlite-utils insert DB videos FILE.csv --csv`` (target: ≥ 1.5× its rate);
- issue 2's 100,000 generated ``itemStruct`` records (a JSON array, about 4.6 kB each): ``curate import``
  against ``sqlite-utils insert DB items FILE.json`` (nested objects stored as JSON text).

Both sides run as their own process, timed from start to exit, each into a fresh database file.
``sqlite-utils insert`` writes one table of text cells with no key and no check. ``curate import``
starts the CLI, creates and migrates the catalog, parses every row (counts strictly, dates, lists,
bad rows skipped by reason), writes authors, videos and observations (six indexes) with exact
new/updated counts in one transaction, and keeps each raw row as JSON.
Run: ``./run bench table_import`` (``TABLE_BENCH_ROWS=N`` for a smaller run; sqlite-utils comes with
the ``test`` and ``bench`` extras).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench.import_bench import Row, _children_cpu, report

TARGET_RATIO = 1.5


def student_csv(path: Path, rows: int, creators: int) -> Path:
    """A CSV of ``rows`` videos over ``creators`` creators, in the student project's columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    owners = rng.integers(0, creators, rows)
    followers = rng.lognormal(9, 1.5, creators).astype(int) + 100
    days = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), "D")
    pd.DataFrame({
        "video_id": (7_100_000_000_000_000_000 + np.arange(rows) * 7919).astype(str),
        "author": pd.Series(owners + 1).map("user_{:05d}".format),
        "followers": followers[owners], "following": rng.integers(50, 2000, creators)[owners],
        "likes": (followers[owners] * rng.uniform(0.01, 0.1, rows)).astype(int),
        "comments": rng.integers(0, 500, rows), "shares": rng.integers(0, 200, rows),
        "duration": rng.integers(5, 180, rows), "category": rng.choice(["comedy", "dance", "food", "sports"], rows),
        "date": days.strftime("%Y-%m-%d"),
    }).to_csv(path, index=False)
    return path


def run(what: str, command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds of a command run as its own process, and its stdout."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds, used = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-2000:]}")
    return seconds, used, done.stdout


def ours(path: Path, folder: Path, label: str) -> Row:
    """``curate import`` into a fresh catalog."""
    env = {**os.environ, "CURATE_HOME": str(folder / label), "CURATE_DB_URL": f"sqlite:///{folder / label}.db"}
    seconds, cpu, out = run("curate import", [sys.executable, "-m", "curate.cli", "import", str(path), "--json"], env)
    counts = orjson.loads(out)
    return Row(f"curate import {label}", counts["new"], seconds, cpu, f"CLI+migrate, parse, 3 indexed tables, raw kept: {counts['authors']:,} authors, {counts['observations']:,} obs.")


def theirs(path: Path, folder: Path, label: str, rows: int, csv: bool) -> Row:
    """``sqlite-utils insert`` of the same file into a fresh database file."""
    tool = shutil.which("sqlite-utils") or str(Path(sys.executable).with_name("sqlite-utils"))
    command = [tool, "insert", str(folder / f"su-{label}.db"), "rows", str(path), *(["--csv"] if csv else [])]
    seconds, cpu, _ = run("sqlite-utils insert", command)
    return Row(f"sqlite-utils insert {label}", rows, seconds, cpu, "one table, text cells, no key, no parsing")


def parts(path: Path, folder: Path) -> list[Row]:
    """In this process: reading and parsing the CSV alone, then writing its parsed batches alone (where the time goes)."""
    from bench.import_bench import fresh_catalog, timed
    from db.catalog import WriteCounts, write_columns
    from db.types import utcnow
    from scrapers.parse import iter_table_batches

    n, seconds, cpu = timed(lambda: sum(len(b) for b in iter_table_batches(path, "csv")))
    read = Row("  of which read+parse (iter_table_batches)", n, seconds, cpu, "pyarrow CSV reader, cells by column")
    batches = list(iter_table_batches(path, "csv"))
    engine = fresh_catalog(folder, "parts.db")

    def write() -> int:
        total = WriteCounts()
        with engine.begin() as conn:
            for batch in batches:
                total += write_columns(conn, batch, "import:csv", utcnow())
        return total.new

    try:
        n, seconds, cpu = timed(write)
    finally:
        engine.dispose()
    return [read, Row("  of which write (db.catalog.write_columns)", n, seconds, cpu, "authors, videos, observations; one transaction")]


def main() -> int:
    """Generates both files, runs both tools on each, prints the table; exit 1 when the CSV target is missed."""
    from scrapers.payloads.samples import SampleFeed

    rows = int(os.environ.get("TABLE_BENCH_ROWS", "100000"))
    with tempfile.TemporaryDirectory(prefix="table-bench-") as tmp:
        folder = Path(tmp)
        table = student_csv(folder / "videos.csv", rows, max(rows // 5, 1))
        items = SampleFeed(rows, seed=1).write_json_array(folder / "items.json")
        print(f"{rows:,} rows: CSV {table.stat().st_size / 1e6:,.1f} MB, itemStruct JSON {items.stat().st_size / 1e6:,.0f} MB; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        csv_ours, csv_theirs = ours(table, folder, "csv"), theirs(table, folder, "csv", rows, csv=True)
        csv_parts = parts(table, folder)
        json_ours, json_theirs = ours(items, folder, "json"), theirs(items, folder, "json", rows, csv=False)
    ratio_csv, ratio_json = csv_ours.rate / csv_theirs.rate, json_ours.rate / json_theirs.rate
    cpu_csv, cpu_json = csv_ours.cpu_rate / csv_theirs.cpu_rate, json_ours.cpu_rate / json_theirs.cpu_rate
    checks = [
        (f"CSV: curate import {ratio_csv:.2f}× sqlite-utils insert --csv ≥ {TARGET_RATIO}× (per CPU-second {cpu_csv:.2f}×)",
         ratio_csv >= TARGET_RATIO),
        (f"JSON itemStruct: curate import {ratio_json:.2f}× sqlite-utils insert (per CPU-second {cpu_json:.2f}×; reported, no target)", True),
    ]
    report([csv_ours, *csv_parts, csv_theirs, json_ours, json_theirs], checks)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
