"""Which files the app may send: media under ``HOME/media`` and PNG figures of runs, nothing else.

Every path from a request or the catalog is resolved (symlinks followed) and must
stay inside its allowed folder; anything else is "not found", so that a request
cannot learn what exists outside.
"""

from __future__ import annotations

from pathlib import Path

FIGURE_SUFFIXES = (".png",)
MEDIA_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
               ".mkv": "video/x-matroska", ".ts": "video/mp2t", ".avi": "video/x-msvideo", ".flv": "video/x-flv"}


class NotServed(LookupError):
    """The path is outside what the app serves, or not a file (answered as 404)."""


def inside(root: Path, relative: str | Path) -> Path:
    """``root/relative`` resolved, if it is a file inside ``root``; else NotServed."""
    base = Path(root).resolve()
    text = str(relative)
    if "\x00" in text:
        raise NotServed(text)
    candidate = Path(text) if Path(text).is_absolute() else base / text
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotServed(text) from None
    if not resolved.is_relative_to(base) or not resolved.is_file():
        raise NotServed(text)
    return resolved


def media_file(home: Path, media_path: str | None) -> Path:
    """A catalogued media file (relative to the data folder unless absolute), only if it lies in ``home/media``."""
    if not media_path:
        raise NotServed("no media")
    path = Path(media_path)
    return inside(Path(home) / "media", path if path.is_absolute() else (Path(home) / path).resolve())


def run_figure(runs_dir: Path, run: str, name: str) -> Path:
    """A PNG of one run, by run folder name and file name (no folders in either)."""
    if "/" in run or "\\" in run or "/" in name or "\\" in name or run in ("", ".", "..") or not name.endswith(FIGURE_SUFFIXES):
        raise NotServed(f"{run}/{name}")
    return inside(Path(runs_dir) / run, name)


def media_type(path: Path) -> str:
    """The Content-Type for a media file (by its suffix; mp4 when unknown)."""
    return MEDIA_TYPES.get(path.suffix.lower(), "video/mp4")
