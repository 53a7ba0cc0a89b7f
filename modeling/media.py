"""Decoding media for the extractors with PyAV: frames at chosen times, and 16 kHz mono audio.

Frames are decoded in order and the first frame at or after each wanted time is
kept, so no seeking is needed (seeking is where broken files misbehave); decoding
stops as soon as the last wanted frame is in hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import CurateError

AUDIO_RATE = 16_000


class MediaError(CurateError):
    """A media file is missing, unreadable, or not the file the snapshot names."""


@dataclass(frozen=True)
class MediaFacts:
    """What the container says about a file, for features a new video must supply itself."""

    duration_s: float
    fps: float | None
    width: int | None
    height: int | None
    frames: int | None
    has_audio: bool


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def probe(path: Path) -> MediaFacts:
    """Duration, frame rate, size and audio presence from the headers (demuxing only when the header has no duration)."""

    with _open(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        rate = float(video.average_rate) if video is not None and video.average_rate else None
        return MediaFacts(
            duration_s=_duration(container),
            fps=rate,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            frames=(video.frames or None) if video is not None else None,
            has_audio=bool(container.streams.audio),
        )


def uniform_times(duration_s: float, count: int) -> list[float]:
    """``count`` times spread evenly over the video (the middle of ``count`` equal parts)."""
    return [(i + 0.5) * duration_s / count for i in range(count)]


def clip_times(duration_s: float, frames: int, rate: float) -> list[float]:
    """``frames`` consecutive times at ``rate`` per second, centred on the middle of the video."""
    start = max(0.0, duration_s / 2 - frames / rate / 2)
    return [start + i / rate for i in range(frames)]


def every_second(duration_s: float, fps: float, limit: int) -> list[float]:
    """Times at ``fps`` per second; past ``limit`` frames, ``limit`` times spread evenly instead."""
    count = max(1, int(duration_s * fps))
    if count > limit:
        return uniform_times(duration_s, limit)
    return [(i + 0.5) / fps for i in range(count)]


def read_frames(path: Path, times: Sequence[float] | None, count: int | None = None, short_side: int | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """RGB frames (T, H, W, 3, uint8) at ``times`` seconds — or ``count`` evenly spread when times is None.

    ``short_side`` scales keeping the aspect ratio; ``size`` = (width, height) forces one.
    A wanted time past the end repeats the last frame (short videos are padded, not dropped).
    """
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path.name} has no video stream")
        # no frame threads: the extraction already decodes several files at once, and frame
        # threads cost a third more CPU here for the same frames
        stream = container.streams.video[0]
        wanted = sorted(times) if times is not None else uniform_times(_duration(container), count or 1)
        width, height = size or _scaled(stream.codec_context.width, stream.codec_context.height, short_side)
        picked = _pick(container.decode(stream), wanted, width, height, path)
    return np.stack(picked)


def read_audio(path: Path, max_seconds: float | None = None) -> np.ndarray:
    """The first audio stream as float32 mono at 16 kHz (empty when the file has no audio)."""
    import av

    with _open(path) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        limit = None if max_seconds is None else int(max_seconds * AUDIO_RATE)
        chunks, total = [], 0
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
                total += chunks[-1].size
            if limit is not None and total >= limit:
                break
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return audio[:limit].astype(np.float32, copy=False)


def _pick(frames, wanted: list[float], width: int, height: int, path: Path) -> list[np.ndarray]:
    from av.video.reformatter import VideoReformatter

    # one scaler for the whole file (a frame's own to_ndarray builds a new one every call)
    scaler = VideoReformatter()
    picked: list[np.ndarray] = []
    last = None
    for frame in frames:
        last = frame
        while len(picked) < len(wanted) and (frame.time or 0.0) >= wanted[len(picked)] - 1e-6:
            picked.append(scaler.reformat(frame, width, height, "rgb24").to_ndarray())
        if len(picked) == len(wanted):
            return picked
    if last is None:
        raise MediaError(f"{path.name}: no video frame could be decoded")
    tail = scaler.reformat(last, width, height, "rgb24").to_ndarray()
    return picked + [tail] * (len(wanted) - len(picked))


def _scaled(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    if short_side is None:
        return width, height
    scale = short_side / min(width, height)
    # even sizes keep the scaler happy with 4:2:0 sources
    return max(short_side, round(width * scale / 2) * 2), max(short_side, round(height * scale / 2) * 2)


def _duration(container) -> float:
    if container.duration:
        return container.duration / 1_000_000
    stream = container.streams.video[0] if container.streams.video else container.streams[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    last = max((p.pts for p in container.demux(stream) if p.size and p.pts is not None), default=0)
    container.seek(0)
    return float(last * stream.time_base) if stream.time_base else 0.0


def _open(path: Path):
    import av

    if not Path(path).is_file():
        raise MediaError(f"media file not found: {path}")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"{Path(path).name} cannot be opened as media: {exc}") from exc
