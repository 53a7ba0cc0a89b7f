"""``curate probe``, ``curate filter`` and ``curate report``: media facts, verdicts with reasons, the dataset drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from core.errors import CurateError
from curate.context import Context
from curate.engines import address_option, engine_option, resolve_engine
from curate.output import console, err_console, key_value_table, print_json

#: the keys ``curate probe FILE… --json`` prints first, in this order
FILE_KEYS = ("path", "readable", "reason", "container", "codec", "width", "height", "fps", "duration_s", "frames", "has_audio", "truncated")


def _option(context: Context, section: str, key: str, given: Any) -> Any:
    """The command line's value, else the config file's ``[section] key``."""
    return given if given is not None else context.settings.section(section).get(key)


def probe(
    ctx: typer.Context,
    files: list[Path] | None = typer.Argument(None, help="Probe these files only and print their facts; the catalog is not touched."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes probing in parallel. Default: one per CPU."),
    everything: bool = typer.Option(False, "--all", help="Probe every catalogued file again, not only new or changed ones."),
    engine: str | None = engine_option(),
    ray_address: str | None = address_option(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the counts, or one object per FILE."),
) -> None:
    """Probe media with PyAV: container, codec, size, fps, duration, frames, audio, and damage.

    Without FILE, probes the catalog's media files not probed yet (or whose sha256
    changed since) and stores the facts; `curate filter` then judges them. Several
    processes or machines on one Postgres catalog probe each file once; with
    --engine ray the files are probed by tasks on a Ray cluster.

    Example:  curate probe --workers 2 && curate probe clip.mp4 --json
    """
    context: Context = ctx.obj
    workers = _option(context, "probe", "workers", workers)
    where = resolve_engine(context.settings.section("probe"), engine, ray_address, workers)
    if files:
        _probe_files(files, workers, as_json, where)
        return
    counts = _probe_catalog(context, where, everything)
    if as_json:
        print_json(counts)
        return
    console.print(key_value_table("probe", list(counts.items())))


class NotAFile(CurateError):
    """``curate probe FILE…`` was given something that is not a file (a folder)."""


def _probe_files(files: list[Path], workers: int | None, as_json: bool, where) -> None:
    """Probes the given files and prints each; folders among them are named in one line at the end (exit 1)."""
    folders = [f for f in files if f.is_dir()]
    files = [f for f in files if not f.is_dir()]
    if files:
        _probe_and_print(files, workers, as_json, where)
    if folders:
        names = ", ".join(str(f) for f in folders)
        raise NotAFile(f"{names}: {'is a folder, not a media file' if len(folders) == 1 else 'are folders, not media files'}; "
                       f"give the files in it, e.g. curate probe {folders[0]}/*.mp4")


def _probe_and_print(files: list[Path], workers: int | None, as_json: bool, where) -> None:
    from curation.distributor import probe_many

    paths = {str(i): str(f) for i, f in enumerate(files)}
    # a handful of files probe faster in this process than through a pool
    results = dict(probe_many(paths, workers=workers or (1 if len(files) < 8 and where.engine == "local" else None), settings=where))
    for key in paths:
        facts = results[key].to_dict()
        row = {**{k: facts[k] for k in FILE_KEYS}, **facts}
        if as_json:
            print_json(row)
        else:
            state = "ok" if row["readable"] else f"unreadable: {row['reason']}"
            console.print(f"{row['path']}: {state}" + (_summary(row) if row["readable"] else ""), highlight=False, soft_wrap=True)


def _summary(row: dict[str, Any]) -> str:
    damage = ", TRUNCATED" if row["truncated"] else ""
    fps = f"{row['fps']:.2f}" if row["fps"] else "?"
    duration = f"{row['duration_s']:.2f}" if row["duration_s"] else "?"
    return f" {row['container']} {row['codec']} {row['width']}x{row['height']} {fps} fps {duration} s {row['frames']} frames{damage}"


def _probe_catalog(context: Context, where, everything: bool) -> dict[str, int]:
    from rich.progress import Progress

    from curate.probing import probe_catalog

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("probing", total=None)
        counts = probe_catalog(context.engine, context.settings.media_dir, where, everything,
                               on_done=lambda n: bar.advance(task, n), on_total=lambda n: bar.update(task, total=n))
    if counts["elsewhere"]:
        err_console.print(f"{counts['elsewhere']} catalogued files are in another media root, not visible here: not probed "
                          "(share one media root between machines: see docs/scale.md)", highlight=False, soft_wrap=True)
    return counts


def filter_(
    ctx: typer.Context,
    rules_file: Path | None = typer.Option(None, "--rules", help="TOML file of rules (see docs/curation.md). Default: the built-in rules."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what the rules would reject; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of counts."),
) -> None:
    """Judge every video by the rules: keep it, or reject it with every rule it fails.

    Defaults: ≥ 100 frames, fps ≥ 10, 3–600 s, short side ≥ 240 px, readable,
    not truncated, decodable, one copy of duplicate media. Re-running with other
    rules updates every verdict.

    Example:  curate filter --rules rules.toml --dry-run
    """
    from curation.rules import load_rules
    from curation.verdicts import evaluate, reason_counts
    from db.media import load_curation_frame, store_verdicts

    context: Context = ctx.obj
    rules = load_rules(_option(context, "filter", "rules", rules_file))
    frame = load_curation_frame(context.engine)
    if rules.near_duplicates:
        frame = _with_duplicate_facts(context, frame)
    verdicts = evaluate(frame, rules)
    counts = {
        "videos": len(verdicts),
        "kept": int((verdicts["verdict"] == "kept").sum()),
        "rejected": int((verdicts["verdict"] == "rejected").sum()),
        "changed": _changed(frame, verdicts, rules.hash()),
        "reasons": reason_counts(verdicts),
        "rules_hash": rules.hash(),
        "dry_run": dry_run,
    }
    if not dry_run:
        store_verdicts(context.engine, verdicts, rules.hash(), rules.to_dict())
    _print_filter(counts, as_json)


def _with_duplicate_facts(context: Context, frame: Any) -> Any:
    """The curation frame plus what the near_duplicates rule groups by (fingerprints from `curate dedup`)."""
    from curation.duplicates import METHOD
    from curation.verdicts import NEAR_DUPLICATE_COLUMNS
    from db.fingerprints import load_duplicate_frame

    facts = load_duplicate_frame(context.engine, METHOD)[["video_id", *NEAR_DUPLICATE_COLUMNS]]
    return frame.merge(facts, on="video_id", how="left")


def _changed(frame: Any, verdicts: Any, rules_hash: str) -> int:
    """Videos whose verdict, reasons or rules differ from what the catalog holds."""
    old = frame["verdict"].fillna("") + "|" + frame["verdict_reasons"].str.join(",").fillna("") + "|" + frame["rules_hash"].fillna("")
    new = verdicts["verdict"] + "|" + verdicts["reasons"].str.join(",").fillna("") + "|" + rules_hash
    return int((old.to_numpy() != new.to_numpy()).sum())


def _print_filter(counts: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(counts)
        return
    title = "filter (dry run: nothing written)" if counts["dry_run"] else "filter"
    rows = [(k, counts[k]) for k in ("videos", "kept", "rejected", "changed")]
    rows += [(f"  {reason}", n) for reason, n in counts["reasons"].items()]
    console.print(key_value_table(title, rows))
    if counts["reasons"].get("not_probed"):
        err_console.print(f"{counts['reasons']['not_probed']} videos have media without probe facts: run `curate probe`")


def report(
    ctx: typer.Context,
    ref: str | None = typer.Argument(None, help="A snapshot, NAME@vN (NAME: its latest version). Default: the whole catalog."),
    out: Path | None = typer.Option(None, "--out", help="Folder to write the report into. Default: HOME/reports/catalog or HOME/reports/NAME@vN."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: the page, the figures, the metric table."),
) -> None:
    """Draw the dataset: an HTML page with PNG figures and seed 001's metric table.

    Durations, frame rates, resolutions, plays/likes/comments/shares/followers on
    log axes, ER with its threshold, label balance, rejections, crawl depth.

    Example:  curate report && curate report tiktok@v1 --out report-v1
    """
    from curation.report import write_report

    context: Context = ctx.obj
    data, default_dir = _catalog_report(context) if ref is None else _snapshot_report(context, ref)
    written = write_report(data, out or default_dir)
    if as_json:
        table = written.table.astype(object).where(written.table.notna(), None)
        print_json({"html": str(written.path), "figures": [str(p) for p in written.figures], "videos": len(data.frame),
                    "metrics": table.to_dict("index")})  # fmt: skip
        return
    console.print(f"report of {data.source}: {written.path} ({len(written.figures)} figures, {len(data.frame):,} videos)", soft_wrap=True)


def _catalog_report(context: Context) -> tuple[Any, Path]:
    """The whole catalog, labelled here by fitting the labels on every video with metrics."""
    import pandas as pd

    from curation.report import ReportData
    from db.dataset import load_video_frame
    from db.media import load_crawl_depths
    from labeling import LabelError, LabelSpec, apply_labels, fit_labels

    frame = load_video_frame(context.engine)
    threshold = percentile = None
    notes = ["Every catalogued video is shown, rejected ones included; labels are fitted on all of them (the seeds' whole-population fit)."]
    try:
        fitted = fit_labels(frame, LabelSpec(), fit_on="all")
        frame = pd.concat([frame, apply_labels(frame, fitted)], axis=1)
        er = fitted.params.get("er")
        threshold, percentile = (er["threshold"], er["percentile"]) if er else (None, None)
        notes.extend(f"{name} left out: {why}." for name, why in fitted.skipped.items())
    except LabelError as exc:
        notes.append(f"No labels: {exc}.")
    data = ReportData("Catalog report", str(context.settings.home), frame, load_crawl_depths(context.engine), threshold, percentile,
                      tuple(notes), trajectories=_trajectories(context, frame))
    return data, context.settings.reports_dir / "catalog"


def _trajectories(context: Context, frame) -> Any:
    """Every observed observation with the video's age at it, for the trajectories figure."""
    import pandas as pd

    from db.observations import load_trajectories

    observations = load_trajectories(context.engine)
    created = pd.to_datetime(frame["create_time"], utc=True).set_axis(frame["video_id"].astype(str))
    observations["age_h"] = (observations["observed_at"] - observations["video_id"].map(created)).dt.total_seconds() / 3600
    return observations


def _snapshot_report(context: Context, ref: str) -> tuple[Any, Path]:
    """A snapshot's rows with its own fitted ER threshold; crawl depths come from the catalog."""
    from curation.report import ReportData
    from db.media import load_crawl_depths
    from db.snapshots import resolve_snapshot

    snapshot = resolve_snapshot(context.settings.home, context.engine, ref)
    frame = snapshot.frame()
    manifest = snapshot.manifest
    er = manifest.get("labels", {}).get("params", {}).get("er", {})
    depths = load_crawl_depths(context.engine)
    rejected = manifest.get("counts", {}).get("excluded", {}).get("rejected", 0)
    notes = (
        f"Snapshot {snapshot.ref} (fingerprint {snapshot.fingerprint[:16]}): labels as fitted on its {manifest.get('labels', {}).get('fit_on', '?')} rows.",
        f"Curation rules: {', '.join(manifest.get('filter', {}).get('rules_hashes', {})) or 'none recorded'}.",
    )
    data = ReportData(
        f"Snapshot {snapshot.ref}", str(snapshot.path), frame, depths[depths["video_id"].isin(frame["video_id"])],
        er.get("threshold"), er.get("percentile"), notes, rejections={},
        rejections_note=f"a snapshot holds kept videos only: the filter's {rejected:,} rejected videos were left out",
        rejected_elsewhere=rejected,
    )
    return data, context.settings.reports_dir / snapshot.ref


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(probe)
    app.command("filter")(filter_)
    app.command()(report)
