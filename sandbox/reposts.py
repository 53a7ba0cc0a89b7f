"""Planted reposts: copies of a sandbox video's file as other accounts would re-upload it.

Kept apart from the media templates (``sandbox.media``): each kind is made from
an existing file with ffmpeg or PyAV, so the duplicate detector can be tested on
known answers —

- ``copy``: the same bytes (same sha256);
- ``reupload``: the same frames stream-copied under other metadata (other sha256);
- ``reencode``: decoded and encoded again at another quality (other bytes, same look);
- ``crop``: the picture cut by ``CROP`` on each side and scaled back to its size.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
from pathlib import Path

from core.errors import MissingComponent

REPOST_KINDS = ("copy", "reupload", "reencode", "crop")
#: the share of the width and height cut away by a ``crop`` repost
CROP = 0.05


def plant_repost(source: Path, out: Path, kind: str) -> Path:
    """Writes a ``kind`` repost of ``source`` to ``out`` (through a temporary name); returns ``out``."""
    if kind not in REPOST_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REPOST_KINDS)}, not {kind!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if kind == "copy":
            shutil.copyfile(source, tmp)
        else:
            _ffmpeg(_arguments(source, tmp, kind))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _arguments(source: Path, out: Path, kind: str) -> list[str]:
    base = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(source)]
    if kind == "reupload":
        return [*base, "-c", "copy", "-map_metadata", "-1", "-metadata", "comment=reposted", "-f", "mp4", str(out)]
    encode = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "24k", "-threads", "1"]
    if kind == "crop":
        keep = 1 - 2 * CROP
        picture = f"crop=trunc(iw*{keep}/2)*2:trunc(ih*{keep}/2)*2,scale=iw/{keep}:ih/{keep}:flags=bicubic,scale=trunc(iw/2)*2:trunc(ih/2)*2"
        encode = ["-vf", picture, *encode]
    return [*base, *encode, "-f", "mp4", str(out)]


def _ffmpeg(args: list[str]) -> None:
    if shutil.which("ffmpeg") is None:
        raise MissingComponent("planted reposts are made with ffmpeg, which is not installed: apt-get install ffmpeg")
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MissingComponent(f"ffmpeg could not make the repost: {done.stderr.strip()[-300:]}")


def original_clip(out: Path, seed: int, seconds: int = 6, size: str = "240x426") -> Path:
    """A clip that looks like no other seed's (smooth moving gradients), with a tone: an upload to repost.

    The colours and the gradient's line are drawn here from ``seed``: ffmpeg's own defaults are random
    on every run, whatever its ``seed`` option says.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    rng = random.Random(seed)
    width, height = (int(v) for v in size.split("x"))
    colours = ":".join(f"c{i}=0x{rng.randrange(1 << 24):06x}" for i in range(3))
    # each seed its own gradient shape and direction (dHash sees where brightness rises, not the hue)
    angle = 2 * math.pi * (((seed + 1) * 0.381966) % 1.0)
    cx, cy, r = width / 2, height / 2, min(width, height) / 2
    line = (f"x0={int(cx - r * math.cos(angle))}:y0={int(cy - r * math.sin(angle))}:"
            f"x1={int(cx + r * math.cos(angle))}:y1={int(cy + r * math.sin(angle))}")
    picture = f"gradients=s={size}:r=30:d={seconds}:n=3:{colours}:{line}:type={(seed + 1) % 4}:speed=0.03"
    args = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", picture, "-f", "lavfi", "-i",
            f"sine=frequency={300 + 40 * (seed % 10)}:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "24k", "-shortest", "-threads", "1", "-f", "mp4", str(tmp)]
    try:
        _ffmpeg(args)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def plant_reposts(source: Path, folder: Path, stem: str, kinds: tuple[str, ...] = REPOST_KINDS) -> dict[str, Path]:
    """One repost of ``source`` per kind, as ``folder/STEM.KIND.mp4``; returns ``{kind: path}``."""
    return {kind: plant_repost(source, folder / f"{stem}.{kind}.mp4", kind) for kind in kinds}
