"""``curate extract``, ``curate train`` and ``curate predict``: features, the baseline MLP, and scoring new videos."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from curate.context import Context
from curate.engines import address_option, engine_option, resolve_engine
from curate.output import console, err_console, key_value_table, print_json

if TYPE_CHECKING:
    from modeling.snapshot import Snapshot


def _snapshot(context: Context, ref: str) -> Snapshot:
    """Resolves NAME@vN in the data folder's snapshots (files only: modeling never reads the catalog tables)."""
    from modeling.snapshot import open_snapshot

    return open_snapshot(context.settings.home, ref)


def _model_for(context: Context, name: str, given: str | None) -> str | None:
    """--model, else env CURATE_MODEL_NAME, else config [models] NAME, else the extractor's default (None here)."""
    from modeling.extractors import env_key

    return given or os.environ.get(env_key(name)) or context.settings.section("models").get(name)


def extract(
    ctx: typer.Context,
    snapshot: str = typer.Argument(..., help="Snapshot reference, NAME@vN (NAME alone = newest version)."),
    extractor: str = typer.Option(..., "--extractor", "-e", help="Out of the box: signals, audio_events, speech, ocr, transcript. With weights: r2plus1d, resnet50, videomae, whisper, music, text, category, description."),
    model: str | None = typer.Option(None, "--model", help="Weights: a local folder/file or a Hugging Face id. Env CURATE_MODEL_<NAME>; config [models]."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Inputs per model call (default: the extractor's)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Threads decoding media ahead of the model; with --engine ray, Ray tasks at once."),
    option: list[str] = typer.Option([], "--option", "-o", help="KEY=VALUE extractor option, e.g. max_frames=30 (part of the cache key; see docs/modeling.md)."),
    translate_to: str | None = typer.Option(None, "--translate-to", help="description only: also translate with NLLB into this code, e.g. spa_Latn."),
    translator: str | None = typer.Option(None, "--translator", help="description only: the NLLB model (env CURATE_MODEL_NLLB; config [models] nllb)."),
    engine: str | None = engine_option(),
    ray_address: str | None = address_option(),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Extract features from a snapshot's media or texts into the cache ($CURATE_HOME/features), skipping what is cached.

    The cache is keyed by (media sha256 or text sha256, extractor, weights fingerprint): running twice computes nothing
    the second time. Media are verified against the snapshot's sha256 first. Inputs are claimed in the catalog, so
    several processes (or machines sharing the data folder) compute each once; with --engine ray each batch is a task
    on a Ray cluster, whose nodes load the weights from the same path or hub id.

    The bundled extractors (signals, audio_events, speech, ocr, transcript) need no --model: their models ship
    inside their wheels (transcript uses Whisper instead when --model names Whisper weights).

    \b
    Example:  curate extract tiktok@v1 --extractor audio_events
    Example:  curate extract tiktok@v1 --extractor r2plus1d --model ~/models/r2plus1d_18.pth --device cuda
    """
    from curate.engines import extraction_claims
    from modeling.distributed import ExtractorSpec, Placement
    from modeling.extraction import extract_snapshot
    from modeling.extractors import open_extractor

    context: Context = ctx.obj
    snap = _snapshot(context, snapshot)
    options = {k: _value(v) for k, v in _pairs(option, "--option").items()}
    if translate_to is not None:
        options["translate_to"] = translate_to
    memo = context.settings.features_dir / "weights-fingerprints.json"
    spec = ExtractorSpec(extractor, _model_for(context, extractor, model), device, options, batch_size, _model_for(context, "nllb", translator), memo)
    loaded = open_extractor(spec.name, spec.model, spec.device, dict(spec.options), spec.batch_size, spec.translator, spec.memo)
    where = resolve_engine(context.settings.section("extract"), engine, ray_address, workers)
    placement = Placement(where, spec, extraction_claims(context.engine, loaded.name, loaded.cache_key()))
    with _progress(f"{extractor} on {snap.ref}", quiet=as_json) as advance:
        summary = extract_snapshot(loaded, snap, context.settings.home, context.settings.features_dir, advance, workers, placement)
    _report_extraction(summary, as_json)


def _report_extraction(summary, as_json: bool) -> None:
    from core.errors import CurateError

    if as_json:
        print_json(summary.to_dict())
    else:
        rows = [(k, v) for k, v in summary.to_dict().items() if k not in ("reasons", "examples") and (k != "pending" or v)]
        console.print(key_value_table(f"extract {summary.extractor}", rows + [(f"failed: {r}", n) for r, n in summary.reasons.items()]))
        for example in summary.examples:
            err_console.print(f"  failed: {example}", highlight=False)
    if summary.failed and not summary.ok:
        raise CurateError(f"every {summary.extractor} input failed; first: {summary.examples[0] if summary.examples else 'unknown'}")


def train(
    ctx: typer.Context,
    snapshot: str = typer.Argument(..., help="Snapshot reference, NAME@vN."),
    target: str = typer.Option("viral_er", "--target", help="viral_er, viral_all_median, viral_growth (classification); virality_weighted, virality_corr, er, plays_at_24h, growth_plays_24h_7d … (regression; over-time labels need curate refresh)."),
    features: str = typer.Option("tabular", "--features", help="Comma list: tabular, words (TF-IDF of caption, hashtags, OCR text, transcript) and extractor names (signals, audio_events, speech, ocr, transcript, r2plus1d, …)."),
    epochs: int = typer.Option(10, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed"),
    threshold: str = typer.Option("f1", "--threshold", help="Threshold chosen on validation: f1 or youden."),
    allow_leakage: bool = typer.Option(False, "--allow-leakage", help="Allow features computed from the label's inputs (seed 000's setup); the report is stamped."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N (deterministic on cpu)."),
    batch_size: int = typer.Option(256, "--batch-size", min=1),
    patience: int = typer.Option(3, "--patience", min=1, help="Epochs without a better validation loss before stopping."),
    run: str | None = typer.Option(None, "--run", help="Run name (default: SNAPSHOT-vN-TARGET-seedS-TIME)."),
    cv: int | None = typer.Option(None, "--cv", min=2, help="Also run author-grouped K-fold cross-validation and report the spread of the test AUC."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Train seed 000's baseline MLP on a snapshot; evaluate on its test split beside majority and logistic regression.

    Writes $CURATE_HOME/runs/RUN/: metrics.json, run.json, model.safetensors, predictions.parquet, confusion matrix,
    ROC and loss PNGs, MODEL_CARD.md. Features computed from the label's own inputs are refused unless --allow-leakage.

    Every AUC carries a bootstrap 95 % interval; --cv K adds K author-grouped folds. A warning names any extractor
    whose features came from --model random weights.

    Example:  curate train tiktok@v1 --target viral_er --features tabular,signals,audio_events --cv 5
    """
    from modeling.extractors.base import resolve_device
    from modeling.mlp import TrainParams
    from modeling.training import TrainConfig, train_run

    context: Context = ctx.obj
    snap = _snapshot(context, snapshot)
    params = TrainParams(epochs=epochs, batch_size=batch_size, patience=patience, seed=seed, device=resolve_device(device))
    config = TrainConfig(target=target, features=tuple(features.split(",")), threshold=threshold, allow_leakage=allow_leakage, params=params, cv=cv)
    with _progress(f"training on {snap.ref}", quiet=as_json, total=epochs) as advance:
        result = train_run(snap, config, context.settings.features_dir, context.settings.runs_dir, run, on_epoch=lambda _: advance(1, epochs))
    _report_run(result, as_json)


def _report_run(result, as_json: bool) -> None:
    from rich.table import Table

    from modeling.card import metrics_rows

    for warning in result.warnings:
        err_console.print(f"[bold red]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if as_json:
        print_json({"run": result.name, "path": str(result.path), "metrics": result.metrics, "warnings": result.warnings, "files": {k: str(v) for k, v in result.files.items()}})
        return
    names, rows = metrics_rows(result.metrics)
    table = Table(title=result.name, caption=f"test split: {result.metrics['rows']['test']} videos", title_justify="left", caption_justify="left")
    table.add_column("metric", style="bold")
    for name in names:
        table.add_column(name, justify="right")
    for key, values in rows:
        table.add_row(key, *values)
    console.print(table)
    from modeling.card import cv_lines

    for line in cv_lines(result.metrics):
        if line:
            console.print(line, soft_wrap=True, highlight=False)
    console.print(f"run folder: {result.path}", soft_wrap=True, highlight=False)
    for role in ("confusion", "roc", "loss", "scatter", "card"):
        if role in result.files:
            console.print(f"  {role}: {result.files[role]}", soft_wrap=True, highlight=False)


def predict(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="Run name (in $CURATE_HOME/runs) or a run folder."),
    inputs: list[str] = typer.Argument(..., help="Media files and/or video ids of the run's snapshot."),
    followers: int | None = typer.Option(None, "--followers", min=0, help="The author's followers (else imputed)."),
    following: int | None = typer.Option(None, "--following", min=0),
    account_created: str | None = typer.Option(None, "--account-created", help="Account creation date, e.g. 2022-05-01."),
    posted_at: str | None = typer.Option(None, "--posted-at", help="Posting time, e.g. 2024-06-01T18:00 (UTC)."),
    caption: str | None = typer.Option(None, "--caption"),
    hashtags: str | None = typer.Option(None, "--hashtags", help="Comma list, without #."),
    category: str | None = typer.Option(None, "--category", help="One of seed 000's 13 categories."),
    music_original: bool | None = typer.Option(None, "--music-original/--no-music-original"),
    model: list[str] = typer.Option([], "--model", help="NAME=PATH_OR_ID: where an extractor's weights are here (same weights as in training)."),
    device: str = typer.Option("cpu", "--device", help="Device for the extractors."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Score new media files or snapshot videos with a trained run: the probability of going viral and the label.

    Features a file cannot give (followers, posting time, …) come from the options or are imputed with the train
    medians; the answer says which were imputed.

    Example:  curate predict tiktok-v1-viral_er-seed0-20250101T120000 clip.mp4 --followers 12000 --posted-at 2025-01-01T18:00
    """
    from modeling.prediction import NewVideo, Predictor
    from modeling.runs import load_run

    context: Context = ctx.obj
    loaded = load_run(context.settings.runs_dir, run)
    snap = _run_snapshot(context, loaded.info["snapshot"]["ref"])
    new = NewVideo(followers, following, _when(account_created), _when(posted_at), caption, _tags(hashtags), category, music_original)
    answers = Predictor(loaded, context.settings.features_dir, snap, device, _pairs(model)).predict(list(inputs), new)
    _report_predictions(loaded, answers, as_json)


def _run_snapshot(context: Context, ref: str):
    from modeling.snapshot import SnapshotError

    try:
        return _snapshot(context, ref)
    except SnapshotError:
        return None  # files can still be scored; video ids then say the snapshot is missing


def _report_predictions(loaded, answers, as_json: bool) -> None:
    from rich.table import Table

    if as_json:
        print_json({"run": loaded.info["run"], "target": loaded.info["target"], "predictions": [a.to_dict() for a in answers]})
        return
    what = "P(viral)" if loaded.task == "classification" else loaded.info["target"]
    table = Table(title=f"{loaded.info['run']} ({loaded.info['target']})", title_justify="left")
    table.add_column("input", overflow="fold")
    table.add_column(what, no_wrap=True, justify="right")
    table.add_column("label", no_wrap=True)
    table.add_column("imputed")
    for a in answers:
        score = "—" if a.score is None else f"{a.score:.3f}"
        shown = Path(a.input).name if a.kind == "file" else a.input  # the full path is in --json
        table.add_row(shown, score, a.label or ("error: " + a.error if a.error else "—"), ", ".join(a.imputed) or "—")
    console.print(table)


def _when(text: str | None):
    import pandas as pd

    from core.errors import ConfigError

    if text is None:
        return None
    try:
        return pd.Timestamp(text, tz="UTC") if pd.Timestamp(text).tzinfo is None else pd.Timestamp(text).tz_convert("UTC")
    except ValueError:
        raise ConfigError(f"not a date/time: {text!r} (e.g. 2024-06-01 or 2024-06-01T18:00)") from None


def _value(text: str):
    """An option's value: JSON when it parses (numbers, true/false, lists), else the text itself."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def _tags(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(t.strip().lstrip("#") for t in text.split(",") if t.strip())


def _pairs(items: list[str], flag: str = "--model") -> dict[str, str]:
    from core.errors import ConfigError

    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value:
            raise ConfigError(f"{flag} takes NAME=VALUE, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


class _progress:
    """A rich progress bar (silent with --json); yields ``advance(n, total)``."""

    def __init__(self, description: str, quiet: bool, total: int | None = None) -> None:
        self.description, self.quiet, self.total = description, quiet, total

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err_console, disable=self.quiet, transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task(self.description, total=self.total)
        return lambda n, total: self.bar.update(self.task, advance=n, total=total)

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(extract)
    app.command()(train)
    app.command()(predict)
