"""``curate dedup``: fingerprint media frames and group reposts and re-uploads (the ``near_duplicates`` rule's input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from curate.context import Context
from curate.output import console, err_console, key_value_table, print_json


def dedup(
    ctx: typer.Context,
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes hashing frames in parallel."),
    distance: float = typer.Option(10.0, "--distance", min=0, max=64, help="Near-identical: mean Hamming distance of the frames' dHashes, in bits of 64."),
    by: str = typer.Option("media,frames", "--by", help="Relations that tie a group: media (sha256), frames, sound (the same original sound)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of counts."),
) -> None:
    """Hash sampled frames of every new media file, then count the groups of near-duplicates.

    Files are fingerprinted once per sha256 (8 frames, a 64-bit dHash each). The
    groups are shown side by side in `curate serve`; `curate filter` keeps one per
    group when the rules say `near_duplicates = true`.

    Example:  curate dedup --workers 2 && curate filter --rules rules.toml
    """
    from core.errors import ConfigError
    from curation.duplicates import KINDS, METHOD, group_duplicates
    from db.fingerprints import fingerprint_counts, load_duplicate_frame

    context: Context = ctx.obj
    kinds = [k.strip() for k in by.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        raise ConfigError(f"--by takes a comma list of {', '.join(KINDS)}, not {by!r}")
    hashed = _fingerprint_new(context, workers)
    groups = group_duplicates(load_duplicate_frame(context.engine, METHOD), distance, kinds)
    counts: dict[str, Any] = {"hashed_now": hashed, **fingerprint_counts(context.engine, METHOD),
                              "groups": int(groups["group"].nunique()), "videos_in_groups": len(groups)}
    counts["by_kind"] = {k: int(groups["kinds"].map(lambda ks, k=k: k in ks).sum()) for k in kinds}
    if as_json:
        print_json(counts)
        return
    rows = [(k, v) for k, v in counts.items() if k != "by_kind"] + [(f"  tied by {k}", n) for k, n in counts["by_kind"].items()]
    console.print(key_value_table("dedup", rows))


def _fingerprint_new(context: Context, workers: int) -> int:
    """Fingerprints the files without one, in batches stored as they finish; returns how many were hashed."""
    from concurrent.futures import ProcessPoolExecutor

    from rich.progress import Progress

    from curation.duplicates import METHOD, fingerprint_file
    from db.fingerprints import pending_fingerprints, store_fingerprints

    pending = pending_fingerprints(context.engine, METHOD)
    paths = [str(_resolve(context.settings.home, path)) for _, path in pending]
    done = 0
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("hashing frames", total=len(pending))
        pool = ProcessPoolExecutor(workers) if workers > 1 and len(paths) > 1 else None
        try:
            results = pool.map(fingerprint_file, paths, chunksize=8) if pool else map(fingerprint_file, paths)
            batch = []
            for (sha, _), result in zip(pending, results, strict=True):
                batch.append({"media_sha256": sha, **result})
                bar.advance(task)
                if len(batch) >= 200:
                    done += store_fingerprints(context.engine, batch, METHOD)
                    batch = []
            done += store_fingerprints(context.engine, batch, METHOD)
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
    return done


def _resolve(home: Path, media_path: str) -> Path:
    path = Path(media_path)
    return path if path.is_absolute() else home / path


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
    app.command()(dedup)
