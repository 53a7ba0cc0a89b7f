"""Probe 500 TikTok-like files with 2 workers; compare with one ffprobe process per file and with a full decode.

The files are 14 ffmpeg-made clips in TikTok's shape (720×1280 H.264 + AAC,
8–12 s, mp4 with the index at either end, a few mkv/mov) plus a cut mp4 and an
HTML page saved as .mp4, hard-linked 500 times under distinct names. Every method
runs 2 at a time on the same files after one warm-up read, in the same run.
Full decode is timed on the first 40 files (it is ~100× slower) and ffprobe without
-count_packets on the first 100 (its cost is the process start). The frame counts
of our prober are checked against ffprobe's packet counts. Targets: ≥ 150 files/s
and ≥ 10× ffprobe.

Run:  .venv/bin/python -m bench probe
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av

from curation.distributor import probe_many
from curation.probe import ProbeResult, probe_file

N_FILES, WORKERS, N_DECODE, N_HEADERS = 500, 2, 40, 100
#: name → (fps, seconds, ffmpeg output options)
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"]
CLIPS: dict[str, tuple[int, int, list[str]]] = {
    **{f"clip{i:02d}.mp4": (30, 8 + i % 5, [*H264, *(["-movflags", "+faststart"] if i % 2 else [])]) for i in range(10)},
    "clip10.mp4": (60, 8, H264),
    "clip11.mp4": (24, 12, H264),
    "clip12.mkv": (30, 10, H264),
    "clip13.mov": (30, 10, H264),
}
ROOT = Path(tempfile.gettempdir()) / ("viralcurate-bench-media-" + hashlib.sha256(repr(CLIPS).encode()).hexdigest()[:12])


def _make(name: str, fps: int, seconds: int, options: list[str], folder: Path) -> None:
    source = ["-f", "lavfi", "-i", f"testsrc2=size=720x1280:rate={fps}:duration={seconds}",
              "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}"]  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *source, *options, "-shortest", str(folder / name)], check=True)


def sources() -> list[Path]:
    """The distinct clips, made once and kept in the temp folder."""
    done = ROOT / ".complete"
    if not done.exists():
        ROOT.mkdir(parents=True, exist_ok=True)
        print(f"making {len(CLIPS)} clips in {ROOT} (once)…", flush=True)
        for name, (fps, seconds, options) in CLIPS.items():
            _make(name, fps, seconds, options, ROOT)
        whole = (ROOT / "clip01.mp4").read_bytes()
        (ROOT / "cut.mp4").write_bytes(whole[: len(whole) // 2])
        (ROOT / "page.mp4").write_text("<!DOCTYPE html><html><body>Please verify you are human</body></html>")
        done.touch()
    return sorted(p for p in ROOT.iterdir() if not p.name.startswith("."))


def corpus(folder: Path) -> list[str]:
    """N_FILES distinct names, hard links to the clips in turn."""
    clips = sources()
    paths = []
    for i in range(N_FILES):
        clip = clips[i % len(clips)]
        path = folder / f"{7_300_000_000_000_000_000 + i}{clip.suffix}"
        os.link(clip, path)
        paths.append(str(path))
    return paths


def ffprobe(path: str, count: bool = True) -> dict:
    """What a pipeline calling ffprobe per file gets: format, streams and (with -count_packets) the packet count."""
    args = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", *(["-count_packets"] if count else []), path]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return json.loads(done.stdout or "{}")


def decode_all(path: str) -> ProbeResult:
    """The full-decode alternative: open, decode every video frame, count them."""
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames = sum(1 for _ in container.decode(stream))
        return ProbeResult(path, True, frames=frames)
    except (av.error.FFmpegError, IndexError) as exc:
        return ProbeResult(path, False, str(exc))


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _threads(fn, paths: list[str]) -> list:
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(fn, paths))


@dataclass(frozen=True)
class Row:
    """One method's run: files, wall-clock seconds with 2 workers, CPU seconds per file."""

    name: str
    files: int
    seconds: float
    cpu_per_file: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _serial_cpu(fn, paths: list[str]) -> float:
    """CPU seconds per file of ``fn`` run in this process (a measure the machine's other load does not inflate)."""
    start = time.process_time()
    for path in paths:
        fn(path)
    return (time.process_time() - start) / len(paths)


def _ffprobe_row(name: str, paths: list[str], count: bool) -> tuple[Row, list]:
    cpu = _children_cpu()
    seconds, found = _timed(lambda: _threads(lambda p: ffprobe(p, count), paths))
    return Row(name, len(paths), seconds, (_children_cpu() - cpu) / len(paths)), found


def main() -> int:
    """Runs the four methods and prints the table; non-zero when a target is missed."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as tmp:
        paths = corpus(Path(tmp))
        for p in paths[: len(sources())]:
            Path(p).read_bytes()  # warm the page cache for every method alike
        ours_s, ours = _timed(lambda: dict(probe_many({p: p for p in paths}, workers=WORKERS)))
        full, probed = _ffprobe_row("ffprobe -count_packets, one process per file", paths, True)
        head, _ = _ffprobe_row("ffprobe headers only, one process per file", paths[:N_HEADERS], False)
        decode_s, decoded = _timed(lambda: dict(probe_many({p: p for p in paths[:N_DECODE]}, workers=WORKERS, probe=decode_all)))
        rows = [
            Row("viralcurate probe (PyAV: index or packets, first frame decoded)", N_FILES, ours_s, _serial_cpu(probe_file, paths)),
            full,
            head,
            Row("PyAV full decode of every frame", N_DECODE, decode_s, _serial_cpu(decode_all, paths[:8])),
        ]
    _print_table(rows, load_before)
    mismatches = _check(ours, dict(zip(paths, probed, strict=True)), decoded)
    rate, ffprobe_rate = N_FILES / ours_s, full.files / full.seconds
    ok = rate >= 150 and rate >= 10 * ffprobe_rate and not mismatches
    print(f"\ntargets: ≥ 150 files/s ({rate:.0f}) and ≥ 10× ffprobe -count_packets ({rate / ffprobe_rate:.1f}×): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


def _print_table(rows: list[Row], load_before: float) -> None:
    base = rows[1].files / rows[1].seconds
    print(f"\n{WORKERS} workers, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}); "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")  # fmt: skip
    print(f"| method | files | seconds | files/s | vs ffprobe -count_packets | CPU ms/file | files/s on {WORKERS} free cores |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        rate = row.files / row.seconds
        capacity = WORKERS / row.cpu_per_file
        print(f"| {row.name} | {row.files} | {row.seconds:.2f} | {rate:.1f} | {rate / base:.1f}× | {row.cpu_per_file * 1e3:.1f} | {capacity:.0f} |")
    print("\n(files/s on free cores = workers ÷ CPU time per file: what the machine would do without other jobs; "
          "ours and full decode measured in this process, ffprobe over its child processes)")


def _check(ours: dict[str, ProbeResult], probed: dict[str, dict], decoded: dict[str, ProbeResult]) -> int:
    """Counts files where our frame count disagrees with ffprobe's packets or the decoded frames."""
    bad = 0
    for path, facts in ours.items():
        streams = [s for s in probed[path].get("streams", []) if s.get("codec_type") == "video"]
        packets = int(streams[0]["nb_read_packets"]) if streams and facts.readable else None
        bad += (facts.frames if facts.readable else None) != packets
        if path in decoded and decoded[path].readable and not facts.truncated:
            bad += decoded[path].frames != facts.frames
    readable = sum(f.readable for f in ours.values())
    truncated = sum(bool(f.truncated) for f in ours.values())
    print(f"\nchecks: {readable} readable, {len(ours) - readable} unreadable, {truncated} truncated; frame-count disagreements: {bad}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
