"""``curate synth``, ``curate snapshot …`` and ``curate export`` end to end, on SQLite and Postgres."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from db.catalog import write_items
from db.engine import create_catalog_engine
from db.migrate import upgrade
from db.models import MetricObservation, Video
from tests.conftest import Cli
from tests.snapshots.builders import catalog_items, item, secrets_of


def fill(cli: Cli, items) -> None:
    engine = create_catalog_engine(cli.db_url)
    upgrade(engine)
    write_items(engine, items, "test")
    engine.dispose()


def run_json(cli: Cli, *args: str) -> dict:
    return json.loads(cli(*args, "--json").stdout)


def every_text(folder: Path) -> str:
    """Everything under ``folder`` as text: Parquet and Arrow files decoded to their values, others read raw."""
    import datasets

    parts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".parquet":
            parts.append(orjson.dumps(pq.read_table(path).to_pylist(), default=str).decode())
        elif path.suffix == ".arrow":
            continue  # read below through datasets, which decodes them
        elif path.is_file():
            parts.append(path.read_text(errors="replace"))
    if (folder / "dataset_dict.json").exists():
        for split in datasets.load_from_disk(str(folder)).values():
            parts.append(orjson.dumps(split.to_list(), default=str).decode())
    return "\n".join(parts)


def test_synth_snapshot_verify_export_without_leaking_authors(cli, tmp_path):
    items = catalog_items(160, authors=30)
    fill(cli, items)
    synth = run_json(cli, "synth", "--preset", "viral-vision", "--seed", "3")
    assert synth["videos_simulated"] == 80 and synth["preset"] == "viral-vision"
    assert run_json(cli, "synth", "--preset", "viral-vision", "--seed", "3")["videos_simulated"] == 0
    created = run_json(cli, "snapshot", "create", "tiktok", "--seed", "1")
    assert created["ref"] == "tiktok@v1" and created["rows"] + created["excluded"]["simulated_on_eval_side"] == 160
    assert created["provenance"]["observed"] == 80 and sum(created["splits"].values()) == created["rows"]
    manifest = run_json(cli, "snapshot", "show", "tiktok@v1")
    for key in ("name", "version", "parent", "created_at", "code_version", "catalog", "filter", "labels", "split",
                "counts", "schema", "files", "fingerprint"):
        assert key in manifest, key
    assert manifest["labels"]["fit_on"] == "train" and manifest["split"]["ratios"]["train"] == 0.8
    assert manifest["counts"]["split_provenance"]["val"].get("simulated", 0) == 0  # simulated rows train only
    rows = pq.read_table(Path(created["path"]) / "videos.parquet").to_pandas()
    assert rows.groupby("author_key")["split"].nunique().max() == 1
    assert rows["caption"].str.contains("@user").all() and not rows["caption"].str.contains("@friend").any()
    assert run_json(cli, "snapshot", "verify", "tiktok@v1")["ok"] is True
    for fmt in ("parquet", "csv", "hf"):
        cli("export", "tiktok@v1", "--format", fmt, "--out", str(tmp_path / fmt))
    text = every_text(cli.home / "snapshots") + "".join(every_text(tmp_path / fmt) for fmt in ("parquet", "csv", "hf"))
    assert "creator_" not in text.lower()
    leaked = {s for s in secrets_of(items) if s in text}
    assert leaked == set(), f"raw author ids or handles in the snapshot or exports: {sorted(leaked)[:5]}"


def test_tampering_is_detected_and_named(cli):
    fill(cli, catalog_items(40, observed_every=1))
    created = run_json(cli, "snapshot", "create", "ds")
    table = Path(created["path"]) / "videos.parquet"
    frame = pq.read_table(table).to_pandas()
    frame.loc[0, "likes"] = 10**9
    frame.to_parquet(table)
    result = cli("snapshot", "verify", "ds", ok=False)
    assert result.exit_code == 1 and "videos.parquet changed" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_splits_are_stable_and_thresholds_ignore_val_and_test(cli):
    fill(cli, catalog_items(200, authors=40, observed_every=1))
    v1 = run_json(cli, "snapshot", "show", run_json(cli, "snapshot", "create", "ds")["ref"])
    first = pq.read_table(cli.home / "snapshots/ds/v1/videos.parquet").to_pandas().set_index("video_id")
    # new observations for every val/test video with wild counts: the train-fitted parameters must not move
    engine = create_catalog_engine(cli.db_url)
    evaluation = first.index[first["split"] != "train"].tolist()
    numbers = [int(v) - 7_100_000_000_000_000_000 for v in evaluation]
    write_items(engine, [item(n, n % 40, likes=10**8, followers=((n % 40) * 911) % 20_000 + 100) for n in numbers], "test")
    v2 = run_json(cli, "snapshot", "show", run_json(cli, "snapshot", "create", "ds")["ref"])
    assert v2["labels"]["params"] == v1["labels"]["params"]
    diff = run_json(cli, "snapshot", "diff", "ds@v1", "ds@v2")
    assert diff["changed"] == len(evaluation) and diff["added"] == diff["removed"] == 0
    # the catalog grows: old videos keep their split, and authors still sit on one side only
    write_items(engine, catalog_items(120, authors=60, observed_every=1, start=200), "test")
    engine.dispose()
    v3 = run_json(cli, "snapshot", "create", "ds")
    assert v3["parent"] == "ds@v2"
    third = pq.read_table(cli.home / "snapshots/ds/v3/videos.parquet").to_pandas().set_index("video_id")
    assert third.loc[first.index, "split"].equals(first["split"])
    assert third.groupby("author_key")["split"].nunique().max() == 1
    assert run_json(cli, "snapshot", "show", "ds@v3")["split"]["inherited_from_parent"] == 200
    assert [s["ref"] for s in run_json(cli, "snapshot", "list")["snapshots"]] == ["ds@v1", "ds@v2", "ds@v3"]


def test_fit_on_all_and_options_reach_the_manifest(sqlite_cli):
    fill(sqlite_cli, catalog_items(60, observed_every=1))
    run_json(sqlite_cli, "snapshot", "create", "ds", "--fit-on", "all", "--label-percentile", "65",
             "--split", "0.6,0.2,0.2", "--group-by", "video", "--corr-method", "spearman")
    manifest = run_json(sqlite_cli, "snapshot", "show", "ds")
    assert manifest["labels"]["fit_on"] == "all" and manifest["labels"]["fit_rows"] == 60
    assert manifest["labels"]["params"]["er"]["percentile"] == 65
    assert manifest["labels"]["params"]["virality_corr"]["method"] == "spearman"
    assert manifest["split"]["group_by"] == "video" and manifest["split"]["ratios"]["val"] == 0.2


def test_synth_is_deterministic_never_overwrites_and_plants_a_signal(cli, tmp_path):
    items = catalog_items(60, authors=12, observed_every=3)
    fill(cli, items)
    other = Cli(tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}")
    fill(other, items)
    for c in (cli, other):
        c("synth", "--seed", "9", "--planted-signal")
    for c in (cli, other):
        run_json(c, "snapshot", "create", "s", "--include-simulated-in-eval")
    frames = [pq.read_table(c.home / "snapshots/s/v1/videos.parquet").to_pandas().set_index("video_id").sort_index()
              for c in (cli, other)]
    columns = ["plays", "likes", "comments", "shares", "saves", "followers", "create_time", "latent_score", "category"]
    pd.testing.assert_frame_equal(frames[0][columns], frames[1][columns])
    simulated = frames[0]["provenance"] == "simulated"
    assert simulated.sum() == 40 and frames[0].loc[simulated, "latent_score"].notna().all()
    assert frames[0].loc[~simulated, "latent_score"].isna().all()
    observed = {it.video.id: it.metrics.likes for it in items if it.metrics}
    assert frames[0].loc[list(observed), "likes"].tolist() == list(observed.values())
    engine = create_catalog_engine(cli.db_url)
    with engine.connect() as conn:
        sims = conn.execute(sa.select(MetricObservation.simulator, MetricObservation.sim_seed, MetricObservation.params_hash)
                            .where(MetricObservation.provenance == "simulated")).all()
        categories = conn.execute(sa.select(Video.category_provenance).where(Video.category.is_not(None))).scalars().all()
    engine.dispose()
    assert len(sims) == 40 and {(s[0], s[1]) for s in sims} == {("viralcurate.synth", 9)} and len(sims[0][2]) == 64
    assert set(categories) == {"simulated"}


def test_clean_errors(cli):
    for args, message in (
        (("snapshot", "create", "empty"), "nothing to snapshot"),
        (("snapshot", "show", "missing"), "no snapshot named"),
        (("snapshot", "create", "x", "--split", "0.5,0.5"), "three ratios"),
        (("snapshot", "create", "bad name"), "bad snapshot name"),
        (("snapshot", "create", "x", "--cutoff", "yesterday"), "--cutoff"),
        (("synth", "--preset", "nope"), "unknown preset"),
        (("synth", "--calibrate"), "calibration needs"),
        (("export", "missing", "--out", "x"), "no snapshot named"),
    ):
        result = cli(*args, ok=False)
        assert result.exit_code != 0 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_real_payloads_never_leak_their_creators(sqlite_cli, realdata, tmp_path):
    from core.records import ParsedItem
    from scrapers.parse import iter_records

    items = [r for path in sorted(realdata.glob("*.json")) for r in iter_records(path) if isinstance(r, ParsedItem)]
    assert len(items) >= 70
    fill(sqlite_cli, items)
    sqlite_cli("synth")
    sqlite_cli("snapshot", "create", "real", "--split", "0.5,0.25,0.25", "--include-simulated-in-eval")
    for fmt in ("csv", "hf"):
        sqlite_cli("export", "real", "--format", fmt, "--out", str(tmp_path / fmt))
    secrets = secrets_of(items)
    assert "thebigbradwolf" in secrets
    text = every_text(sqlite_cli.home / "snapshots") + every_text(tmp_path / "csv") + every_text(tmp_path / "hf")
    assert not {s for s in secrets if s in text}
    assert "thebigbradwolf" not in text.lower()


def test_synth_calibrates_to_observed_videos(sqlite_cli):
    fill(sqlite_cli, catalog_items(90, authors=15, observed_every=3))  # 30 observed, 60 without metrics
    out = run_json(sqlite_cli, "synth", "--calibrate", "--reference-date", "2024-06-30", "--seed", "2")
    assert out["preset"] == "calibrated" and out["videos_simulated"] == 60
    run_json(sqlite_cli, "snapshot", "create", "c", "--include-simulated-in-eval")
    rows = pq.read_table(sqlite_cli.home / "snapshots/c/v1/videos.parquet").to_pandas()
    observed, simulated = (rows[rows["provenance"] == p]["likes"] for p in ("observed", "simulated"))
    ratio = simulated.median() / observed.median()
    assert 0.3 < ratio < 3, ratio  # drawn around the observed distribution, not seed 000's
    assert (rows["account_created_at"] <= pd.Timestamp("2024-06-30", tz="UTC")).all()  # drawn before the reference date


def test_the_manifest_records_the_curation_rules_the_verdicts_came_from(sqlite_cli, tmp_path):
    fill(sqlite_cli, catalog_items(40, authors=8))
    rules = tmp_path / "rules.toml"
    rules.write_text("min_frames = 50\nrequire_media = false\n")
    sqlite_cli("filter", "--rules", str(rules))
    run_json(sqlite_cli, "snapshot", "create", "curated", "--seed", "1")
    manifest = run_json(sqlite_cli, "snapshot", "show", "curated@v1")
    (used,) = manifest["filter"]["rules_hashes"]
    assert manifest["filter"]["rules"][used]["min_frames"] == 50


def test_portrait_videos_keep_their_displayed_width_and_height():
    from db.snapshot_table import probe_facts

    probes = pd.Series([{"width": 640, "height": 360, "rotation": -90}, {"width": 640, "height": 360, "rotation": 180},
                        {"width": 640, "height": 360}, None])
    facts = probe_facts(probes)
    assert facts[["width", "height"]].astype("Float64").values.tolist()[:3] == [[360, 640], [640, 360], [640, 360]]
    assert facts["width"].isna().iloc[3]
