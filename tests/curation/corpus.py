"""A small corpus of media files made with Debian's ffmpeg: containers, frame rates, and broken files.

Each entry names the file and the ffmpeg arguments that make it (or how it is
derived from another entry). Clips are short and small so that the whole corpus
builds in a few seconds.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

SIZE = "320x240"
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-crf", "35"]
AAC = ["-c:a", "aac", "-b:a", "32k"]


def _source(fps: int, seconds: float, audio: bool) -> list[str]:
    args = ["-f", "lavfi", "-i", f"testsrc=size={SIZE}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    return args


#: name → ffmpeg arguments between the inputs' options and the output file
ENCODED: dict[str, list[str]] = {
    "clip.mp4": [*_source(30, 4, True), *H264, *AAC],
    "faststart.mp4": [*_source(30, 4, True), *H264, *AAC, "-movflags", "+faststart"],
    "fragmented.mp4": [*_source(30, 4, True), *H264, *AAC, "-movflags", "frag_keyframe+empty_moov"],
    "clip.mov": [*_source(30, 4, True), *H264, *AAC],
    "clip.mkv": [*_source(30, 4, True), *H264, *AAC],
    "clip.webm": [*_source(30, 4, True), "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus"],
    "clip.avi": [*_source(30, 4, True), "-c:v", "mpeg4", "-q:v", "10", "-c:a", "libmp3lame"],
    "clip.flv": [*_source(30, 4, True), "-c:v", "flv1", "-q:v", "10", "-c:a", "libmp3lame", "-ar", "44100"],
    "clip.ts": [*_source(30, 4, True), *H264, *AAC],
    "fps_1.mp4": [*_source(1, 5, False), *H264],
    "fps_10.mp4": [*_source(10, 3, False), *H264],
    "fps_24.mp4": [*_source(24, 2, False), *H264],
    "fps_60.mp4": [*_source(60, 2, False), *H264],
    # 30 fps for the first second, then every third frame: 10 fps
    "vfr.mp4": [*_source(30, 4, False), "-vf", r"select='lt(n\,30)+not(mod(n\,3))'", "-fps_mode", "vfr", *H264],
}
#: files cut to half their size: an mp4 with its index at the end, and a faststart one
CUT = {"cut_index_at_end.mp4": "clip.mp4", "cut_faststart.mp4": "faststart.mp4"}
#: files that are not video at all, whatever their name says
NOT_VIDEO = ("empty.mp4", "random.mp4", "jpeg.mp4", "text.mp4", "html.mp4")
READABLE = (*ENCODED, "rotated.mp4")


def corpus_names() -> tuple[str, ...]:
    """Every file name of the corpus."""
    return (*ENCODED, "rotated.mp4", *CUT, *NOT_VIDEO)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def build_corpus(folder: Path) -> dict[str, Path]:
    """Makes every file of the corpus in ``folder``; returns ``{name: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in corpus_names()}
    for name, args in ENCODED.items():
        _ffmpeg(*args, "-shortest", str(files[name]))
    # a display matrix survives a stream copy (this ffmpeg drops it when re-encoding)
    _ffmpeg("-i", str(files["fps_24.mp4"]), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(files["rotated.mp4"]))
    for name, whole in CUT.items():
        data = files[whole].read_bytes()
        files[name].write_bytes(data[: len(data) // 2])
    _write_not_video(files)
    return files


def _write_not_video(files: dict[str, Path]) -> None:
    files["empty.mp4"].write_bytes(b"")
    files["random.mp4"].write_bytes(random.Random(5).randbytes(64_000))  # seeded: the same bytes every run
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=size={SIZE}", "-frames:v", "1", "-f", "mjpeg", str(files["jpeg.mp4"]))
    files["text.mp4"].write_text("this is a text file, not a video\n" * 20)
    files["html.mp4"].write_text("<!DOCTYPE html><html><head><title>Verify</title></head><body>captcha</body></html>\n")


def ffprobe_facts(path: Path) -> dict[str, float]:
    """What ``ffprobe -count_packets`` says of the first video stream: packets, average rate, duration."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-of", "json",
         "-show_entries", "stream=nb_read_packets,avg_frame_rate,duration:format=duration", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = json.loads(out)
    stream = found["streams"][0]
    num, _, den = stream["avg_frame_rate"].partition("/")
    return {
        "frames": int(stream["nb_read_packets"]),
        "fps": float(num) / float(den or 1),
        "duration_s": float(stream.get("duration") or found["format"]["duration"]),
    }
