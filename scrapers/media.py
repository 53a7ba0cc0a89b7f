"""Is a downloaded file a video? The checks a file must pass before it may enter ``media/``.

Cheap first, dear last: not empty; not an HTML (or XML/JSON) page served in a
video's place; opens as a container with PyAV and has a video stream; and its
packets can be demuxed to the end — without decoding — and are as many as the
header promises (a half-cut file with its index in front opens fine and lies
about its length; counting packets catches it in a few milliseconds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.errors import CurateError

#: first bytes of documents that are not media (error pages, JSON errors)
DOCUMENT_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"{", b"[")
#: PyAV container format names → the file extension we store them under
EXTENSIONS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "mpegts": "ts", "flv": "flv", "avi": "avi"}


class MediaRejected(CurateError):
    """A downloaded file is not a usable video; ``reason`` is a short tag (``empty_file``, ``html_not_video`` …)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """What the check learnt: the extension to store the file under, its digest and size."""

    ext: str
    sha256: str
    size: int


def check_media(path: Path) -> MediaFacts:
    """The file's facts when it is a readable video; MediaRejected with the reason otherwise."""
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("empty_file")
    with path.open("rb") as fh:
        head = fh.read(512).lstrip().lower()
    if head.startswith(DOCUMENT_STARTS) or b"<html" in head:
        raise MediaRejected("html_not_video", "the server sent a page, not a video")
    ext = _check_container(path)
    with path.open("rb") as fh:
        sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
    return MediaFacts(ext=ext, sha256=sha256, size=size)


def _check_container(path: Path) -> str:
    import av

    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            if not streams:
                raise MediaRejected("no_video_stream")
            stream = streams[0]
            promised = stream.frames
            packets = sum(1 for p in container.demux(stream) if p.size)
            ext = _extension(container.format.name, stream.codec_context.name)
    except MediaRejected:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaRejected("not_a_container", str(exc)[:200]) from None
    if packets == 0 or (promised and packets < promised):
        raise MediaRejected("truncated", f"{packets} of {promised or '?'} frames present")
    return ext


def _extension(format_name: str, codec: str) -> str:
    ext = EXTENSIONS.get(format_name, format_name.split(",")[0])
    if ext == "mkv" and codec in ("vp8", "vp9", "av1"):
        return "webm"
    return ext
