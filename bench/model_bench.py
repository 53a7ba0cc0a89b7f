"""The baseline model and the extractors, each beside a named alternative measured in the same run.

- On a planted-signal snapshot of 100,000 videos made by the product path (catalog →
  ``synth`` planted signal → ``snapshot create``): the MLP's test AUC as a ratio of the
  AUC of the true latent score on the same rows (target ≥ 0.95), beside logistic
  regression's ratio on the same features.
- Training time of the MLP for 100,000 × 64 features, 10 epochs, CPU (target ≤ 30 s),
  beside scikit-learn's logistic regression on the same matrix.
- Extraction clips/s of ``r2plus1d`` (16×112² clips) and ``resnet50`` (1 fps, 224²) with
  random-init weights, beside decoding the same clips only (the extractor's own
  ``prepare``: PyAV decode + resize).

Run:  .venv/bin/python -m bench model
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

N_VIDEOS, N_TRAIN_ROWS, N_FEATURES, EPOCHS = 100_000, 100_000, 64, 10
CLIPS, CLIP_SECONDS = 6, 10


def planted_snapshot(home: Path):
    """100,000 catalogued videos without metrics → synth planted signal → snapshot; returns the snapshot."""
    from core.records import AuthorRecord, ParsedItem, VideoRecord
    from curate.commands.synth import run_synth
    from curate.snapshotting import SnapshotOptions, create_snapshot
    from db.catalog import write_items
    from db.engine import create_catalog_engine
    from db.migrate import upgrade

    authors = N_VIDEOS // 5

    def item(v: int) -> ParsedItem:
        """Video ``v``: duration and sound vary, no metrics (synth draws them)."""
        author = str(6_900_000_000_000_000_000 + v % authors)
        video = VideoRecord(
            id=str(7_200_000_000_000_000_000 + v), author_id=author, caption=f"clip {v} #fyp", hashtags=("fyp",), create_time=datetime(2024, 1 + v % 12, 1 + v % 28, v % 24),
            duration_s=5.0 + (v * 7919) % 85, width=576, height=1024, music_id=str(v % 101), music_title="sound", music_original=(v * 31) % 3 == 0,
        )  # fmt: skip
        return ParsedItem(video=video, author=AuthorRecord(id=author, handle=f"maker{v % authors}"), metrics=None, raw={"id": v}, source_format="bench")

    engine = create_catalog_engine(f"sqlite:///{home / 'catalog.db'}")
    upgrade(engine)
    write_items(engine, [item(v) for v in range(N_VIDEOS)], "bench")
    run_synth(engine, "seed-000", False, 1, True, None, quiet=True)
    snapshot = create_snapshot(engine, home, SnapshotOptions(name="planted", include_simulated_in_eval=True))
    engine.dispose()
    return snapshot


def auc_ratio(home: Path) -> dict[str, float]:
    """Trains the default run (tabular features, viral_er) and compares AUCs on the test rows."""
    from modeling.snapshot import open_snapshot
    from modeling.training import TrainConfig, train_run

    start = time.perf_counter()
    planted_snapshot(home)
    built = time.perf_counter() - start
    start = time.perf_counter()
    run = train_run(open_snapshot(home, "planted@v1"), TrainConfig(), home / "features", home / "runs", "bench")
    test = run.metrics["test"]
    return {
        "built_s": built, "train_s": time.perf_counter() - start, "rows": run.metrics["rows"],
        "mlp": test["mlp"]["auc"], "logistic": test["logistic_regression"]["auc"], "latent": test["latent_score"]["auc"],
    }  # fmt: skip


def training_time() -> dict[str, float]:
    """10 epochs of the MLP on 100,000 × 64 (patience 10: no early stop), and logistic regression on the same rows."""
    from sklearn.linear_model import LogisticRegression

    from modeling.mlp import TrainParams, fit

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_TRAIN_ROWS, N_FEATURES)).astype(np.float32)
    y = ((x[:, :8] @ rng.standard_normal(8) + np.sin(x[:, 8] * 2) + rng.normal(0, 1, N_TRAIN_ROWS)) > 1.0).astype(np.float32)
    train, val = slice(0, 80_000), slice(80_000, 90_000)
    start = time.perf_counter()
    result = fit(x[train], y[train], x[val], y[val], "classification", TrainParams(epochs=EPOCHS, patience=EPOCHS))
    mlp_s = time.perf_counter() - start
    start = time.perf_counter()
    LogisticRegression(max_iter=1000, class_weight="balanced").fit(x[train], y[train])
    return {"mlp_s": mlp_s, "epochs": len(result.history), "logistic_s": time.perf_counter() - start}


def make_clips(folder: Path) -> list[Path]:
    """Portrait 540×960 clips at 30 fps with sound, like short videos (libx264, AAC)."""
    clips = []
    for i in range(CLIPS):
        out = folder / f"clip{i}.mp4"
        subprocess.run([
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=540x960:rate=30:duration={CLIP_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency={300 + 50 * i}:duration={CLIP_SECONDS}", "-shortest",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out),
        ], check=True)  # fmt: skip
        clips.append(out)
    return clips


def extraction_speed(clips: list[Path], cache_root: Path) -> dict[str, dict[str, float]]:
    """Clips/s through the whole extraction (decode in threads + model + cache write) against decode-only."""
    from modeling.cache import FeatureCache
    from modeling.extraction import run_extraction
    from modeling.extractors import Item, open_extractor
    from modeling.media import sha256_of

    items = [Item(str(i), p, sha256_of(p)) for i, p in enumerate(clips)]
    figures = {}
    for name in ("r2plus1d", "resnet50"):
        extractor = open_extractor(name, "random")
        extractor.run([extractor.prepare(items[0])])  # warm-up: first-call allocations are not throughput
        start = time.perf_counter()
        for item in items:
            extractor.prepare(item)
        decode_s = time.perf_counter() - start
        start = time.perf_counter()
        _, summary = run_extraction(extractor, items, FeatureCache(cache_root, name, extractor.cache_key()))
        figures[name] = {"extract": len(items) / (time.perf_counter() - start), "decode": len(items) / decode_s, "computed": summary.computed}
    return figures


def main() -> None:
    """Measures everything and prints one table."""
    import torch

    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="model-bench-") as tmp:
        home = Path(tmp)
        auc = auc_ratio(home)
        train = training_time()
        speed = extraction_speed(make_clips(home), home / "features")
    mlp_ratio, logistic_ratio = auc["mlp"] / auc["latent"], auc["logistic"] / auc["latent"]
    print(f"\nCPU, torch {torch.__version__}, {threads} threads, {os.cpu_count()} cores; snapshot built in {auc['built_s']:.1f} s "
          f"(catalog + synth + snapshot create, not measured below); rows {auc['rows']}\n")
    print("| measure | ours | alternative | alternative's figure | ratio | target |")
    print("|---|---|---|---|---|---|")
    print(f"| test AUC / true latent score's AUC, {N_VIDEOS:,} planted videos (MLP {auc['mlp']:.4f}, latent {auc['latent']:.4f}) | "
          f"{mlp_ratio:.4f} | logistic regression, same features (AUC {auc['logistic']:.4f}) | {logistic_ratio:.4f} | "
          f"{mlp_ratio / logistic_ratio:.3f}× | ≥ 0.95: {'met' if mlp_ratio >= 0.95 else 'MISSED'} |")
    print(f"| MLP training, {N_TRAIN_ROWS // 10 * 8:,} train + {N_TRAIN_ROWS // 10:,} val rows × {N_FEATURES} features, {train['epochs']} epochs (s) | "
          f"{train['mlp_s']:.2f} | scikit-learn LogisticRegression (lbfgs), same rows (s) | {train['logistic_s']:.2f} | "
          f"{train['mlp_s'] / train['logistic_s']:.1f}× its time | ≤ 30 s: {'met' if train['mlp_s'] <= 30 else 'MISSED'} |")
    for name, figure in speed.items():
        print(f"| {name} extraction, random-init weights, {CLIPS} clips of {CLIP_SECONDS} s 540×960 30 fps (clips/s) | {figure['extract']:.2f} | "
              f"decode only, same clips and sizes (clips/s) | {figure['decode']:.2f} | {figure['extract'] / figure['decode']:.2f}× decode's rate | — |")
    print(f"\nthe whole `curate train` run on the 100,000-video snapshot (features, MLP, baselines, figures, files): {auc['train_s']:.1f} s")


if __name__ == "__main__":
    main()
