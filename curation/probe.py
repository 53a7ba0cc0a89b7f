"""What a media file really holds, read from its container with PyAV, without decoding it.

One call, :func:`probe_file`, returns a :class:`ProbeResult` for any path: a
file that cannot be read is a result with ``readable=False`` and a reason,
never an exception. Frame counts come from the container's sample index where
it can be checked against the file (mp4/mov with a complete index), else from
counting demuxed packets; the first frame is decoded to prove the codec works.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

#: fewer packets than this share of what the header or duration × fps promise means the file was cut
TRUNCATION_RATIO = 0.9
#: frame durations spread wider than this (P95 / P5) mean a variable frame rate
VFR_SPREAD = 1.5
#: an average rate this far (relative) from the nominal rate also means a variable frame rate
VFR_RATE_GAP = 0.1
#: packets tried before declaring that the first frame does not decode
FIRST_FRAME_PACKETS = 48
#: demuxers that read still images: a JPEG named .mp4 opens as one of these
IMAGE_FORMATS = ("image2", "_pipe")
MISSING_FILE = "missing file"  # db.media.MISSING_REASON repeats it: such files are probed again
OPEN_OPTIONS = {"protocol_whitelist": "file"}  # never let a crafted playlist reach the network or other files


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Facts about one media file; ``None`` where the file did not say."""

    path: str
    readable: bool
    reason: str | None = None
    size_bytes: int | None = None
    container: str | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    rotation: int | None = None
    fps: float | None = None
    nominal_fps: float | None = None
    vfr: bool | None = None
    duration_s: float | None = None
    frames: int | None = None
    header_frames: int | None = None
    frames_source: str | None = None
    has_audio: bool | None = None
    audio_codec: str | None = None
    bitrate: int | None = None
    first_frame_decodes: bool | None = None
    truncated: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The facts as a JSON-able dict."""
        return asdict(self)

    def facts(self) -> dict[str, Any]:
        """The facts without the path, as stored in the catalog (which keeps the path itself)."""
        out = self.to_dict()
        del out["path"]
        return out


def probe_file(path: str | os.PathLike[str]) -> ProbeResult:
    """Probes one file; every failure becomes ``readable=False`` with a reason."""
    name = str(path)
    try:
        size = os.stat(name).st_size
    except FileNotFoundError:
        return ProbeResult(name, False, MISSING_FILE)
    except OSError as exc:
        return ProbeResult(name, False, f"cannot stat: {exc.strerror or exc}")
    if size == 0:
        return ProbeResult(name, False, "empty file", size_bytes=0)
    try:
        with av.open(name, options=OPEN_OPTIONS, metadata_errors="replace") as container:
            return _probe_container(name, size, container)
    except Exception as exc:  # noqa: BLE001 - one bad file is a row with a reason, never a dead run
        return ProbeResult(name, False, _open_failure(name, exc), size_bytes=size)


def _open_failure(path: str, exc: Exception) -> str:
    kind = sniff(path)
    if kind is not None:
        return kind
    if isinstance(exc, av.error.FFmpegError):
        return f"cannot open: {exc.strerror or type(exc).__name__}".lower()
    return f"probe failed: {type(exc).__name__}: {exc}"


def sniff(path: str) -> str | None:
    """Says what a file FFmpeg refused looks like (a cut mp4, an HTML page, text, an image), or None."""
    with open(path, "rb") as fh:
        head = fh.read(512)
        if head[4:8] == b"ftyp" and not _has_top_box(fh, b"moov"):
            return "mp4 cut short: no index (moov atom), the download stopped or is still running"
    lower = head.lstrip().lower()
    if lower.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")):
        return "not a media file: html page"
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG"):
        return "not a media file: image"
    if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return "not a media file: text"
    return None


def _has_top_box(fh: Any, kind: bytes) -> bool:
    """Walks the top-level boxes of an ISO media file by their headers only."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    offset = 0
    while offset + 8 <= end:
        fh.seek(offset)
        header = fh.read(16)
        size, box = int.from_bytes(header[:4], "big"), header[4:8]
        if box == kind:
            return True
        if size == 1 and len(header) == 16:  # a 64-bit size follows the type
            size = int.from_bytes(header[8:16], "big")
        if size < 8:  # 0 means "to the end of the file"; smaller is garbage
            return False
        offset += size
    return False


def _probe_container(path: str, size: int, container: av.container.InputContainer) -> ProbeResult:
    fmt = container.format.name
    if not container.streams.video:
        return ProbeResult(path, False, "no video stream", size_bytes=size, container=fmt)
    if fmt.endswith(IMAGE_FORMATS):
        return ProbeResult(path, False, f"not a media file: image ({fmt})", size_bytes=size, container=fmt)
    stream = container.streams.video[0]
    if not (stream.codec_context.width and stream.codec_context.height):
        # random bytes can pass FFmpeg's format guess as a raw stream (h263, mpeg video) with no picture
        return ProbeResult(path, False, f"no picture size: not a video ({fmt} guessed from the bytes)", size_bytes=size, container=fmt)
    audio = container.streams.audio[0] if container.streams.audio else None
    timing = _timing(container, stream, size)
    fps = _rate(stream.average_rate) or _rate(stream.guessed_rate)
    nominal = _rate(stream.guessed_rate)
    duration = _duration(container, stream)
    return ProbeResult(
        path,
        True,
        size_bytes=size,
        container=fmt,
        codec=stream.codec_context.codec.canonical_name,
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        rotation=timing.rotation if timing.rotation is not None else _metadata_rotation(stream),
        fps=fps,
        nominal_fps=nominal,
        vfr=_is_vfr(timing.spread, fps, nominal),
        duration_s=duration,
        frames=timing.frames,
        header_frames=stream.frames or None,
        frames_source=timing.source,
        has_audio=audio is not None,
        audio_codec=audio.codec_context.codec.canonical_name if audio is not None else None,
        bitrate=container.bit_rate or None,
        first_frame_decodes=timing.decodes,
        truncated=timing.broken or _short_of(timing.frames, stream.frames, duration, fps),
    )


@dataclass(slots=True)
class _Timing:
    """What reading the packets (or the index) established."""

    frames: int
    source: str
    spread: float | None
    decodes: bool
    rotation: int | None
    broken: bool = False


def _timing(container: av.container.InputContainer, stream: av.video.stream.VideoStream, size: int) -> _Timing:
    index = _trusted_index(stream, size)
    if index is None:
        return _count_packets(container, stream)
    decodes, rotation = _first_frame(container, stream)
    return _Timing(len(index), "index", _spread(index), decodes, rotation)


def _trusted_index(stream: av.video.stream.VideoStream, size: int) -> np.ndarray | None:
    """The sample timestamps from the container's index when it is complete and inside the file."""
    if not stream.frames:  # mkv, webm, ts, flv and fragmented mp4 carry no count
        return None
    entries = stream.index_entries
    if len(entries) != stream.frames:  # avi's header counted one frame too many here
        return None
    table = np.array([(e.timestamp, e.pos, e.size) for e in entries], dtype=np.int64)
    if int((table[:, 1] + table[:, 2]).max()) > size:  # samples beyond the end: a cut file
        return None
    return table[:, 0]


def _count_packets(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> _Timing:
    _single_thread(stream)
    count, pts = 0, []
    decodes = rotation = None
    broken = False
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # the flush packet at the end carries nothing
                continue
            count += 1
            if packet.pts is not None:
                pts.append(packet.pts)
            if decodes is None:
                decodes, rotation = _decode_one(stream, packet, count)
    except av.error.FFmpegError:
        broken = True
    if decodes is None:
        decodes, rotation = _drain(stream)
    return _Timing(count, "packets", _spread(np.array(pts, dtype=np.int64)), decodes, rotation, broken)


def _decode_one(stream: av.video.stream.VideoStream, packet: av.Packet, seen: int) -> tuple[bool | None, int | None]:
    """Feeds one packet to the decoder: (True, rotation) once a frame comes out, (False, None) when it gives up."""
    try:
        frames = stream.decode(packet)
    except av.error.FFmpegError:
        frames = []
    if frames:
        return True, int(frames[0].rotation)
    return (False, None) if seen >= FIRST_FRAME_PACKETS else (None, None)


def _first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> tuple[bool, int | None]:
    _single_thread(stream)
    seen = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            seen += 1
            decodes, rotation = _decode_one(stream, packet, seen)
            if decodes is not None:
                return decodes, rotation
    except av.error.FFmpegError:
        return False, None
    return _drain(stream)


def _drain(stream: av.video.stream.VideoStream) -> tuple[bool, int | None]:
    """Flushes the decoder: a file shorter than the decoder's delay still yields its first frame here."""
    try:
        frames = stream.decode(None)
    except av.error.FFmpegError:
        return False, None
    return (True, int(frames[0].rotation)) if frames else (False, None)


def _single_thread(stream: av.video.stream.VideoStream) -> None:
    # one frame is decoded per file: starting a thread pool per file would cost more than the decode
    stream.codec_context.thread_count = 1
    stream.codec_context.thread_type = "NONE"


def _spread(timestamps: np.ndarray) -> float | None:
    """P95 / P5 of the gaps between consecutive presentation times (1.0 for a constant rate)."""
    if timestamps.size < 3:
        return None
    gaps = np.diff(np.sort(timestamps))
    gaps = gaps[gaps > 0]
    if gaps.size < 2:
        return None
    low, high = np.percentile(gaps, [5, 95])
    return float(high / low)


def _is_vfr(spread: float | None, fps: float | None, nominal: float | None) -> bool | None:
    if spread is not None and spread > VFR_SPREAD:
        return True
    if fps and nominal and abs(fps - nominal) / nominal > VFR_RATE_GAP:
        return True
    return None if spread is None and not (fps and nominal) else False


def _short_of(frames: int, header_frames: int, duration: float | None, fps: float | None) -> bool:
    """True when far fewer frames are present than the header or duration × fps promise."""
    promised = [header_frames] if header_frames else []
    if duration and fps:
        promised.append(round(duration * fps))
    return any(frames < TRUNCATION_RATIO * p for p in promised if p > 1)


def _rate(value: Fraction | None) -> float | None:
    return float(value) if value else None


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _metadata_rotation(stream: av.video.stream.VideoStream) -> int | None:
    value = stream.metadata.get("rotate")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
