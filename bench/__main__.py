"""``./run bench [NAME…]``: runs every ``bench/*_bench.py`` (or those named), each in its own process.

Each benchmark is a script that prints a table; running them apart keeps one's
memory and caches from colouring another's figures.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    """Runs the benchmarks; returns non-zero when one failed to run."""
    scripts = sorted(HERE.glob("*_bench.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
        if not scripts:
            print(f"no benchmark matches {names}; have: {[s.stem for s in sorted(HERE.glob('*_bench.py'))]}")
            return 2
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"bench.{script.stem}"], cwd=HERE.parent, check=False)
        print(f"--- {script.stem}: {time.perf_counter() - start:.1f} s, exit {done.returncode}", flush=True)
        if done.returncode != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
