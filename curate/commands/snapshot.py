"""``curate snapshot create | list | show | verify | diff`` and ``curate export``: frozen, versioned datasets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from core.errors import ConfigError
from curate.context import Context
from curate.output import console, err_console, key_value_table, print_json

if TYPE_CHECKING:

    from db.snapshots import SnapshotRef

DEFAULTS = {"split": "0.8,0.1,0.1", "seed": 0, "group_by": "author", "fit_on": "train", "label_percentile": 75.0,
            "weights": None, "corr_method": "pearson", "include_simulated_in_eval": False, "include_rejected": False,
            "cutoff": None, "labels": None}
FIT_ON = ("train", "all")

snapshot_app = typer.Typer(help="Frozen, versioned datasets: create, list, show, verify, diff.\n\nExample:  curate snapshot list",
                           no_args_is_help=True, rich_markup_mode=None)


@contextmanager
def _working(message: str, quiet: bool) -> Iterator[None]:
    """A rich spinner while a long step runs (none when printing JSON)."""
    if quiet:
        yield
        return
    with console.status(message):
        yield


def _option(context: Context, key: str, given: Any) -> Any:
    return given if given is not None else context.settings.section("snapshot").get(key, DEFAULTS[key])


def _cutoff(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--cutoff must be an ISO date or time like 2025-01-31 or 2025-01-31T12:00:00Z, not {text!r}") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@snapshot_app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Snapshot name; each create adds version vN+1."),
    split: str | None = typer.Option(None, "--split", help="train,val,test ratios. Default 0.8,0.1,0.1."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the hash that assigns groups to splits. Default 0."),
    group_by: str | None = typer.Option(None, "--group-by", help="author (default: an author never spans two splits) or video."),
    fit_on: str | None = typer.Option(None, "--fit-on", help="train (default): label thresholds from the train split only; all: the seeds' whole-population fit."),
    label_percentile: float | None = typer.Option(None, "--label-percentile", help="viral_er = ER at or above this percentile. Default 75."),
    weights: str | None = typer.Option(None, "--weights", help="virality_weighted weights of comments,likes,plays,shares. Default 0.1,0.4,0.3,0.2."),
    corr_method: str | None = typer.Option(None, "--corr-method", help="virality_corr correlation: pearson (default) or spearman."),
    include_simulated_in_eval: bool | None = typer.Option(None, "--include-simulated-in-eval/--no-include-simulated-in-eval", help="Let simulated rows into val/test (default: train only)."),
    include_rejected: bool | None = typer.Option(None, "--include-rejected/--no-include-rejected", help="Also take videos the filter rejected (default: kept and not yet filtered)."),
    cutoff: str | None = typer.Option(None, "--cutoff", help="Catalog cut-off (ISO time): videos first seen and observations made until then. Default: now."),
    labels: str | None = typer.Option(None, "--labels", help="Labels to compute, e.g. viral_er,virality_corr (er, viral_er, virality_weighted, viral_all_median, virality_corr). Default: all whose inputs the rows have; the others are left out with the reason."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Freeze the catalog into NAME@vN: labels, grouped stable splits, Parquet table and manifest.

    Takes each video's latest observation as of the cut-off, the videos the
    filter kept or has not judged yet (unless --include-rejected), and only videos
    with metrics. Authors are pseudonymised with a keyed hash.

    Example:  curate snapshot create tiktok --split 0.8,0.1,0.1 --seed 7
    """
    from curate.snapshotting import SnapshotOptions, create_snapshot

    context: Context = ctx.obj
    given = {"split": split, "seed": seed, "group_by": group_by, "fit_on": fit_on, "label_percentile": label_percentile,
             "weights": weights, "corr_method": corr_method, "include_simulated_in_eval": include_simulated_in_eval,
             "include_rejected": include_rejected, "cutoff": cutoff, "labels": labels}
    values = {key: _option(context, key, value) for key, value in given.items()}
    if values["fit_on"] not in FIT_ON:
        raise ConfigError(f"--fit-on must be train or all, not {values['fit_on']!r}")
    options = SnapshotOptions(name=name, **{**values, "cutoff": _cutoff(values["cutoff"])},
                              pseudonym_key=context.settings.pseudonym_key)
    with _working(f"building the next version of {name}", quiet=as_json):
        snapshot = create_snapshot(context.engine, context.settings.home, options)
    summary = _summary(snapshot)
    if as_json:
        print_json(summary)
        return
    console.print(key_value_table(f"snapshot {snapshot.ref}", _rows(summary)))
    console.print(f"written to {snapshot.path}", highlight=False, soft_wrap=True)
    for label, why in (summary["labels_left_out"] or {}).items():
        err_console.print(f"note: label {label} left out: {why}", highlight=False, soft_wrap=True)
    if summary["rows_without_author"]:
        err_console.print(f"note: {summary['rows_without_author']:,} rows have no author; each of them is its own group in the "
                          "author-grouped split", highlight=False, soft_wrap=True)
    empty = [s for s, n in (summary["splits"] or {}).items() if n == 0]
    if empty:
        err_console.print(f"warning: {' and '.join(empty)} {'has' if len(empty) == 1 else 'have'} no rows (too few authors for "
                          "these ratios, or only simulated rows: see --include-simulated-in-eval)", highlight=False)


def _summary(snapshot: SnapshotRef) -> dict[str, Any]:
    manifest = snapshot.manifest
    counts = manifest.get("counts", {})
    return {
        "ref": snapshot.ref, "path": str(snapshot.path), "parent": manifest.get("parent"),
        "created_at": manifest.get("created_at"), "cutoff": manifest.get("catalog", {}).get("cutoff"),
        "rows": counts.get("rows"), "splits": counts.get("splits"), "provenance": counts.get("provenance"),
        "excluded": counts.get("excluded"), "positive_rate": counts.get("positive_rate"),
        "er_threshold": manifest.get("labels", {}).get("params", {}).get("er", {}).get("threshold"),
        "labels_left_out": manifest.get("labels", {}).get("skipped") or {},
        "rows_without_author": counts.get("rows_without_author", 0),
        "fingerprint": snapshot.fingerprint, "content_fingerprint": manifest.get("content_fingerprint"),
    }


def _rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in summary.items():
        if key == "path":
            continue
        if key == "labels_left_out":  # the reasons follow the table, one line each
            rows.append(("labels left out", ", ".join(value) or "—"))
            continue
        if isinstance(value, dict):
            rows.extend((f"{key} {k}", v if not isinstance(v, float) else round(v, 4)) for k, v in value.items())
        else:
            rows.append((key, "—" if value is None else (round(value, 4) if isinstance(value, float) else value)))
    return rows


@snapshot_app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """List every snapshot version: rows, splits, parent, fingerprint.

    Example:  curate snapshot list --json
    """
    from rich.table import Table

    from db.snapshots import list_snapshots

    context: Context = ctx.obj
    summaries = [_summary(s) for s in list_snapshots(context.settings.home)]
    if as_json:
        print_json({"snapshots": summaries})
        return
    table = Table("snapshot", "created", "rows", "train/val/test", "parent", "fingerprint", title_justify="left")
    for s in summaries:
        splits = s["splits"] or {}
        table.add_row(s["ref"], str(s["created_at"])[:19], f"{s['rows'] or 0:,}",
                      "/".join(str(splits.get(k, 0)) for k in ("train", "val", "test")), s["parent"] or "—", s["fingerprint"][:16])
    console.print(table if summaries else "no snapshots yet; create one with `curate snapshot create NAME`")


@snapshot_app.command("show")
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME@vN, or NAME for the latest version."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole manifest as one JSON object."),
) -> None:
    """Show a snapshot's manifest: cut-off, counts, label parameters, split spec, files.

    Example:  curate snapshot show tiktok@v1
    """
    from db.snapshots import resolve_snapshot

    context: Context = ctx.obj
    snapshot = resolve_snapshot(context.settings.home, context.engine, ref)
    if as_json:
        print_json(snapshot.manifest)
        return
    console.print(key_value_table(f"snapshot {snapshot.ref}", _rows(_summary(snapshot))))
    for label, definition in snapshot.manifest.get("labels", {}).get("definitions", {}).items():
        console.print(f"[bold]{label}[/]: {definition}", highlight=False, soft_wrap=True)
    for label, why in (snapshot.manifest.get("labels", {}).get("skipped") or {}).items():
        console.print(f"[bold]{label}[/]: left out: {escape(why)}", highlight=False, soft_wrap=True)
    console.print(f"split: {snapshot.manifest.get('split')}", highlight=False, soft_wrap=True)


@snapshot_app.command("verify")
def verify(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME@vN, or NAME for the latest version."),
    media: bool = typer.Option(False, "--media", help="Also re-hash every media file the snapshot's rows name."),
    against: Path | None = typer.Option(None, "--against", help="Another snapshot (its version folder, or a data folder holding the same NAME@vN): say whether it holds the same content, and what differs."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Re-hash a snapshot's files against its manifest and the catalog; exit 1 naming what changed.

    Every file below the version folder must be one the manifest lists. --media
    re-hashes the media; --against compares content fingerprints (rows, labels and
    splits, not when or where they were built) with another snapshot.

    \b
    Example:  curate snapshot verify tiktok@v1 --media
              curate snapshot verify tiktok@v1 --against /mnt/rebuild/snapshots/tiktok/v1
    """
    from db.snapshot_checks import compare_content, other_snapshot, verify_media
    from db.snapshots import SnapshotError, resolve_snapshot, verify_snapshot

    context: Context = ctx.obj
    snapshot = resolve_snapshot(context.settings.home, None, ref)
    report = verify_snapshot(snapshot, context.engine)
    problems = report.problems()
    result: dict[str, Any] = {"ref": report.ref, "registry": report.registry}
    if media:
        checked = verify_media(snapshot, context.settings.home)
        problems += checked.problems()
        result["media_checked"] = checked.checked
    if against is not None:
        comparison = compare_content(snapshot, other_snapshot(against, snapshot.name, snapshot.version))
        result["against"] = {"path": str(against), **comparison}
        problems += [f"against {against}: {line}" for line in comparison["differences"]]
    result.update(ok=not problems, problems=problems)
    if as_json:
        print_json(result)
        if problems:
            raise typer.Exit(1)
        return
    if problems:
        raise SnapshotError(f"{report.ref}: " + "; ".join(problems))
    extra = f"; {result['media_checked']:,} media files match" if media else ""
    extra += f"; same content as {against} (content fingerprint {result['against']['a'][:16]})" if against is not None else ""
    console.print(f"{report.ref}: ok (every file matches its sha256; catalog record {report.registry}{extra})", highlight=False,
                  soft_wrap=True)


@snapshot_app.command("diff")
def diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="The older version, NAME@vN."),
    b: str = typer.Argument(..., help="The newer version, NAME@vM (or another snapshot)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Compare two versions: videos added, removed and changed (and in which columns).

    Example:  curate snapshot diff tiktok@v1 tiktok@v2
    """
    from db.snapshots import diff_snapshots, resolve_snapshot

    context: Context = ctx.obj
    home = context.settings.home
    summary = diff_snapshots(resolve_snapshot(home, None, a), resolve_snapshot(home, None, b)).summary()
    if as_json:
        print_json(summary)
        return
    rows = [("added", summary["added"]), ("removed", summary["removed"]), ("changed", summary["changed"])]
    rows += [(f"changed {c}", n) for c, n in summary["changed_columns"].items()]
    console.print(key_value_table(f"{summary['a']} → {summary['b']}", rows))
    for kind, ids in summary["examples"].items():
        if ids:
            console.print(f"{kind}: {', '.join(ids)}" + (" …" if summary[kind] > len(ids) else ""), highlight=False, soft_wrap=True)


def export(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="NAME@vN, or NAME for the latest version."),
    fmt: str = typer.Option("parquet", "--format", help="parquet, csv (hashtags space-separated) or hf (a datasets.DatasetDict saved to disk)."),
    out: Path = typer.Option(..., "--out", help="Folder to write; must not exist or be empty unless --overwrite."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out folder."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Export a snapshot as train/val/test files (Parquet or CSV) or a Hugging Face DatasetDict, with its manifest.

    Example:  curate export tiktok@v1 --format hf --out exports/tiktok-v1
    """
    from db.snapshot_export import export_snapshot
    from db.snapshots import resolve_snapshot

    context: Context = ctx.obj
    snapshot = resolve_snapshot(context.settings.home, None, ref)
    with _working(f"exporting {snapshot.ref} as {fmt}", quiet=as_json):
        written = export_snapshot(snapshot, fmt, out, overwrite=overwrite)
    if as_json:
        print_json({"ref": snapshot.ref, "format": fmt, "out": str(out), "files": [str(p) for p in written],
                    "splits": snapshot.manifest.get("counts", {}).get("splits")})
        return
    console.print(f"exported {snapshot.ref} as {fmt} to {out}: {', '.join(p.name for p in written)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Adds the ``snapshot`` group and ``export`` to ``app``."""
    app.add_typer(snapshot_app, name="snapshot")
    app.command("export")(export)
