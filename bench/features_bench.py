"""The bundled content extractors, each beside the floor of its own work, and what their features are worth.

- On 200 sandbox videos: each bundled extractor's videos/s through ``run_extraction``
  (decoding in 2 threads ahead of the model, results into the cache) beside decoding
  the same frames and samples only (its own ``prepare`` in the same 2 threads), and a
  cached re-run beside the first run. ``transcript`` (pocketsphinx) runs on the first
  20 of them, with its seconds of audio per second beside decoding that audio.
- On a sandbox world of 2,000 videos with media, whose planted signal acts only through
  the media's content: the test AUC of the MLP on tabular + extracted media features
  beside the AUC of the true latent media score on the same rows (target ≥ 0.9×), and
  beside the MLP on tabular features alone (ratio 1.0 would mean the media add nothing).
  The media are made ``workers`` at a time and the extractors run side by side in worker
  processes of the project's distributor (:func:`core.distribute.make_distributor`);
  the 200 videos of the first part are already in the feature cache.

Run:  .venv/bin/python -m bench features      (BENCH_WORLD=N, BENCH_THROUGHPUT=N, BENCH_TRANSCRIPT=N for other sizes;
      BENCH_WORKERS=N processes; BENCH_CACHE=DIR keeps the sandbox's media between runs)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

N_WORLD = int(os.environ.get("BENCH_WORLD", "2000"))
N_THROUGHPUT, N_TRANSCRIPT, WORLD_SEED = int(os.environ.get("BENCH_THROUGHPUT", "200")), int(os.environ.get("BENCH_TRANSCRIPT", "20")), 3
MEDIA = ("signals", "audio_events", "speech", "ocr")
#: the AUC part's start order (measured here: ocr on 2 frames and silero-vad take longest)
SLOWEST_FIRST = ("ocr", "speech", "signals", "audio_events")
OPTIONS = {"ocr": {"frames": int(os.environ.get("BENCH_OCR_FRAMES", "2"))}}
#: a smaller machine's escape hatches: the AUC part's extractors and rows, a sandbox media cache kept between runs
AUC_MEDIA = tuple(os.environ.get("BENCH_AUC_FEATURES", ",".join(MEDIA)).split(","))
AUC_ROWS = int(os.environ.get("BENCH_AUC_VIDEOS", "0")) or None
CACHE = os.environ.get("BENCH_CACHE")
#: processes (extractors at once) and media files made at once; default one per core
WORKERS = int(os.environ.get("BENCH_WORKERS", "0")) or None


def world_snapshot(home: Path):
    """A sandbox world's intact public videos as a snapshot in the storage schema (labels fitted on train), media made now."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.distribute import default_workers
    from db.snapshot_table import SCHEMA
    from labeling.spec import apply_labels, fit_labels
    from modeling.media import sha256_of
    from sandbox import TEMPLATES, World

    world = World.build(videos=N_WORLD, seed=WORLD_SEED, cache_dir=CACHE or home / "sandbox-cache")
    v = world.videos[(world.videos["visibility"] == "public") & (world.videos["media_kind"] == "ok")].reset_index(drop=True)
    v = v.iloc[:AUC_ROWS].reset_index(drop=True) if AUC_ROWS else v
    start = time.perf_counter()
    paths = list(world.prepare_media(v["video_id"].tolist(), workers=WORKERS or default_workers()))
    made_s = time.perf_counter() - start
    (home / "media").symlink_to(world.media.cache_dir / "media", target_is_directory=True)
    a = world.authors.iloc[v["author_row"]].reset_index(drop=True)
    templates = [TEMPLATES[t] for t in v["template"]]
    frame = pd.DataFrame({
        "video_id": v["video_id"], "author_key": a["author_id"].map(lambda x: hashlib.sha256(x.encode()).hexdigest()[:16]),
        "provenance": "observed", "followers": a["followers"], "following": a["following"],
        "author_hearts": a.get("hearts", 0), "author_video_count": a.get("video_count", 0), "author_stats_provenance": "observed",
        "account_created_at": a["account_created_at"], "create_time": pd.to_datetime(v["create_time"], unit="s", utc=True),
        "duration_s": v["duration"].astype(float), "fps": [float(t.fps) for t in templates], "width": [t.width for t in templates],
        "height": [t.height for t in templates], "frames": v["duration"] * [t.fps for t in templates], "has_audio": [t.audio_hz is not None for t in templates],
        "caption": v["caption"], "hashtags": v["caption"].str.findall(r"#(\w+)"), "music_id": v["music_id"], "music_title": v["music_title"],
        "music_original": v["music_original"], "category": v["category"], "category_provenance": "observed",
        "media_sha256": [sha256_of(p) for p in paths], "media_path": [str(Path("media") / Path(p).relative_to(world.media.cache_dir / "media")) for p in paths],
        "latent_score": v["content_score"],
    })  # fmt: skip
    for column in ("plays", "likes", "comments", "shares", "saves"):
        frame[column] = v[column]
    bucket = frame["author_key"].map(lambda k: int(k[:8], 16) % 10)
    frame["split"] = np.where(bucket < 8, "train", np.where(bucket < 9, "val", "test"))
    fitted = fit_labels(frame[frame["split"] == "train"])
    frame = frame.join(apply_labels(frame, fitted))
    folder = home / "snapshots" / "world" / "v1"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pandas(frame[SCHEMA.names], schema=SCHEMA, preserve_index=False), folder / "videos.parquet")
    digest = hashlib.sha256((folder / "videos.parquet").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps({"name": "world", "version": 1, "fingerprint": digest, "labels": fitted.to_dict(), "files": {"videos.parquet": digest}}, default=str))
    return len(frame), made_s


def throughput(home: Path) -> list[dict]:
    """videos/s of each bundled extractor on the first 200 videos: decode only, first run, cached re-run.

    The results land in the feature cache the AUC part reads, which then computes only the rest.
    """
    from modeling import media
    from modeling.cache import FeatureCache
    from modeling.extraction import run_extraction, snapshot_items
    from modeling.extractors import open_extractor
    from modeling.snapshot import open_snapshot

    items = snapshot_items(open_snapshot(home, "world@v1"), home)[:N_THROUGHPUT]
    rows = []
    for name in (*MEDIA, "transcript"):
        chosen = items[:N_TRANSCRIPT] if name == "transcript" else items
        extractor = open_extractor(name, options=OPTIONS.get(name))
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            prepared = list(pool.map(extractor.prepare, chosen))
        decode_s = time.perf_counter() - start
        audio_s = sum(p.size for p in prepared if isinstance(p, np.ndarray) and p.ndim == 1) / media.AUDIO_RATE
        cache = FeatureCache(home / "features", name, extractor.cache_key())
        _, first = run_extraction(extractor, chosen, cache, workers=2)
        _, again = run_extraction(extractor, chosen, cache, workers=2)
        rows.append({"extractor": name, "videos": len(chosen), "decode_s": decode_s, "first_s": first.seconds, "cached_s": again.seconds,
                     "ok": first.ok, "audio_s": audio_s, "backend": extractor.options.get("backend")})
        print(f"  {name}: {len(chosen)} videos, decode only {decode_s:.1f} s, extraction {first.seconds:.1f} s, cached {again.seconds:.2f} s"
              + (f", {audio_s:.0f} s of audio" if audio_s else ""), flush=True)
    return rows


@dataclass(frozen=True)
class WorldExtraction:
    """A distributor's worker: extracts one extractor over the world's snapshot, in its own process; returns (wall s, CPU s, counts)."""

    home: Path

    def __call__(self, name: str) -> dict:
        """Runs ``name`` over the snapshot (2 decoding threads), into the shared feature cache."""
        from modeling.extraction import extract_snapshot
        from modeling.extractors import open_extractor
        from modeling.snapshot import open_snapshot

        wall, cpu = time.perf_counter(), time.process_time()
        summary = extract_snapshot(open_extractor(name, options=OPTIONS.get(name)), open_snapshot(self.home, "world@v1"), self.home, self.home / "features", workers=2)
        return {"name": name, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "computed": summary.computed, "cached": summary.cached, "ok": summary.ok}


def auc_figures(home: Path) -> dict:
    """Extracts the media features over the whole snapshot (extractors side by side), then trains tabular alone and tabular + media."""
    from core.distribute import EngineSettings, default_workers, make_distributor
    from modeling.snapshot import open_snapshot
    from modeling.training import TrainConfig, train_run

    distributor = make_distributor(EngineSettings("local", WORKERS or min(default_workers(), len(AUC_MEDIA))), preload=("modeling.extraction",))
    extract_s = {}
    # the slowest first, so that the quicker ones fill the other processes meanwhile
    for done in distributor.map_unordered(WorldExtraction(home), sorted(AUC_MEDIA, key=lambda n: SLOWEST_FIRST.index(n) if n in SLOWEST_FIRST else len(SLOWEST_FIRST))):
        if not done.ok:
            raise RuntimeError(f"{done.unit} over the world failed: {done.error}")
        extract_s[done.unit] = done.result
        r = done.result
        print(f"  extracted {r['name']} over the world in {r['wall_s']:.0f} s ({r['cpu_s']:.0f} CPU s; {r['computed']} computed, {r['cached']} cached, {r['ok']} ok)", flush=True)
    snapshot = open_snapshot(home, "world@v1")
    runs = {}
    for label, features in (("tabular", ("tabular",)), ("media", ("tabular", *AUC_MEDIA))):
        run = train_run(snapshot, TrainConfig(features=features), home / "features", home / "runs", f"bench-{label}")
        runs[label] = run.metrics["test"]
    return {"runs": runs, "extract_s": extract_s, "test_rows": run.metrics["rows"]["test"]}


def _ci(metrics: dict) -> str:
    low, high = metrics.get("auc_ci95", [float("nan")] * 2)
    return f"{metrics['auc']:.4f} [{low:.3f}, {high:.3f}]"


def main() -> None:
    """Prints the table."""
    started, cpu = time.perf_counter(), _cpu_s()
    with tempfile.TemporaryDirectory(prefix="features-bench-") as tmp:
        home = Path(tmp)
        videos, made_s = world_snapshot(home)
        print(f"world of {N_WORLD:,} videos: {videos:,} intact public files made in {made_s:.0f} s", flush=True)
        speeds = throughput(home) if N_THROUGHPUT else []
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        figures = auc_figures(home)
    print("\n| measure | ours | alternative | alternative's figure | ratio | target |\n|---|---|---|---|---|---|")
    for row in speeds:
        print_speed(row)
    runs = figures["runs"]
    media, tabular, latent = runs["media"]["mlp"]["auc"], runs["tabular"]["mlp"]["auc"], runs["media"]["latent_score"]["auc"]
    met = "met" if media / latent >= 0.9 else "not met"
    print(f"| MLP test AUC, tabular + {' + '.join(AUC_MEDIA)}, {figures['test_rows']} test videos of a {N_WORLD:,}-video world | {_ci(runs['media']['mlp'])} | true latent media score, same rows | {_ci(runs['media']['latent_score'])} | {media / latent:.3f}× | ≥ 0.9×: {met} |")
    print(f"| MLP test AUC, tabular + media | {media:.4f} | MLP on tabular alone, same rows | {_ci(runs['tabular']['mlp'])} | {media / tabular:.2f}× | — |")
    print(f"| logistic regression test AUC, tabular + media | {_ci(runs['media']['logistic_regression'])} | logistic regression, tabular alone | {_ci(runs['tabular']['logistic_regression'])} | {runs['media']['logistic_regression']['auc'] / runs['tabular']['logistic_regression']['auc']:.2f}× | — |")
    print("extraction over the rest of the world, side by side (wall s / CPU s): " + ", ".join(f"{k} {v['wall_s']:.0f}/{v['cpu_s']:.0f}" for k, v in figures["extract_s"].items()))
    workers_cpu = sum(v["cpu_s"] for v in figures["extract_s"].values())  # the worker processes are the forkserver's children, not ours
    print(f"whole benchmark: {time.perf_counter() - started:.0f} s, {_cpu_s() - cpu + workers_cpu:.0f} CPU s (this process, its ffmpeg runs and its workers); "
          f"load average {os.getloadavg()[0]:.1f} at the end")


def print_speed(row: dict) -> None:
    """An extractor's rows: videos/s beside decode only, the cached re-run, and (transcript) audio seconds per second."""
    name = f"{row['extractor']} ({row['backend']})" if row["backend"] else row["extractor"]
    rate, floor = row["videos"] / row["first_s"], row["videos"] / row["decode_s"]
    print(f"| {name} extraction, {row['videos']} sandbox videos (videos/s) | {rate:.2f} | decode only, same frames and samples (videos/s) | {floor:.2f} | {rate / floor:.2f}× decode's rate | — |")
    if row["extractor"] == "transcript":
        speed, decode = row["audio_s"] / row["first_s"], row["audio_s"] / row["decode_s"]
        print(f"| {name}, {row['audio_s']:.0f} s of audio (audio s per s; 1 = real time) | {speed:.2f} | decode only, same audio | {decode:.0f} | {speed / decode:.3f}× decode's rate | — |")
    print(f"| {name} cached re-run, same videos (s) | {row['cached_s']:.2f} | first run (s) | {row['first_s']:.1f} | {row['first_s'] / max(row['cached_s'], 1e-3):.0f}× faster | — |")


def _cpu_s() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

if __name__ == "__main__":
    main()
