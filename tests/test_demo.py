"""``./run demo`` (``python -m curate.demo``) end to end, at a smaller size, through the real command line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from core.errors import CurateError
from curate import demo


def curate_json(home, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "curate.cli", "--home", str(home), "--db", f"sqlite:///{home / 'catalog.db'}", *args, "--json"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.browser
@pytest.mark.slow
def test_demo_runs_every_stage_and_leaves_results_where_it_says(tmp_path, capfd):
    home = tmp_path / "demo"
    assert demo.main(["--home", str(home), "--max-videos", "80", "--world-videos", "500"]) == 0
    out = capfd.readouterr().out
    headers = [line for line in out.splitlines() if line.startswith("==> [")]
    assert len(headers) == len(demo.STEPS) and headers[-1].endswith("where the results are")
    assert f"open:     curate --home {home} serve --port 8000" in out
    assert '{"new":0,"updated":0,"authors":0,"observations":0,"skipped":{},"dropped":{}' in out, "a second import changes nothing"
    status = curate_json(home, "status")
    assert status["crawl_runs"] == 1 and status["snapshots"] == 1 and status["media_files"] > 50
    assert status["videos"] == 80 + demo.IMPORT_RECORDS
    assert curate_json(home, "snapshot", "verify", "demo@v1")["ok"] is True
    assert "tabular + media" in out and "MLP test AUC (95% CI)" in out
    media = json.loads((home / "runs" / "demo" / "metrics.json").read_text())
    assert media["n_features"] > json.loads((home / "runs" / "demo-tabular" / "metrics.json").read_text())["n_features"]
    assert {"signals", "audio_events", "speech", "ocr"} <= set(media["features"])
    for path in ("reports/catalog/index.html", "reports/demo@v1/index.html", "runs/demo/metrics.json",
                 "exports/demo/train.parquet", "snapshots/demo/v1/manifest.json"):
        assert (home / path).is_file(), path
    port = int(out.split("up at http://127.0.0.1:")[1].split()[0])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the sandbox was stopped"


def test_demo_never_deletes_a_folder_it_did_not_make(tmp_path, capfd):
    home = tmp_path / "mine"
    home.mkdir()
    (home / "precious.txt").write_text("keep")
    assert demo.main(["--home", str(home)]) == 1
    assert (home / "precious.txt").read_text() == "keep"
    assert "was not made by the demo" in capfd.readouterr().err


def test_side_by_side_commands_print_whole_in_order_and_a_failed_one_stops_the_demo(tmp_path, capfd):
    home = tmp_path / "demo"
    home.mkdir()
    run = demo.DemoRun(home=home, db_url=f"sqlite:///{home / 'catalog.db'}")
    run.curate("init")
    commands = {"first": ("status", "--json"), "broken": ("snapshot", "show", "nope@v1"), "last": ("status",)}
    with pytest.raises(CurateError, match=r"`curate snapshot show nope@v1` failed; see .*broken\.log"):
        run.curate_side_by_side(commands, at_once=2)
    out = capfd.readouterr().out
    ends = [out.index(f"--- curate {' '.join(args)}: exit") for args in commands.values()]
    assert ends == sorted(ends), "each command's output comes whole, in the order given"
    assert "--- curate status --json: exit 0\n{" in out and "--- curate status: exit 0" in out
    assert "nope" in (home / "broken.log").read_text(), "the failed command's own message is in its log"
