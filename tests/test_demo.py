"""``./run demo`` (``python -m curate.demo``) on a small sample, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

from curate import demo


def test_demo_imports_the_sample_and_reports_status(tmp_path, capfd):
    home = tmp_path / "demo"
    assert demo.main(["--home", str(home), "--records", "40"]) == 0
    out = capfd.readouterr().out
    headers = [line for line in out.splitlines() if line.startswith("==> [")]
    assert len(headers) == len(demo.STEPS) and headers[0].startswith(f"==> [1/{len(demo.STEPS)}]")
    assert '{"new":0,"updated":0,"authors":0,"observations":0,"skipped":{}}' in out, "the second import changes nothing"
    assert '"observations":20' in out, "half of the videos gained plays the next day"
    status = subprocess.run(
        [sys.executable, "-m", "curate.cli", "--home", str(home), "--db", f"sqlite:///{home / 'catalog.db'}", "status", "--json"],
        capture_output=True, text=True, check=True,
    )
    counts = json.loads(status.stdout)
    assert (counts["videos"], counts["observations"]["observed"]) == (40, 60)


def test_demo_never_deletes_a_folder_it_did_not_make(tmp_path, capfd):
    home = tmp_path / "mine"
    home.mkdir()
    (home / "precious.txt").write_text("keep")
    assert demo.main(["--home", str(home), "--records", "5"]) == 1
    assert (home / "precious.txt").read_text() == "keep"
    assert "was not made by the demo" in capfd.readouterr().err
