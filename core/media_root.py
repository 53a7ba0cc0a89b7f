"""The media root: where downloaded files live, how the catalog names them, and which root a worker sees.

The catalog stores a file as ``media/NAME`` — relative to a *media root*, never an
absolute path of one machine — and resolves it as ``MEDIA_ROOT/NAME``. The media
root is ``HOME/media`` unless the settings name another (``media_root`` in the
config, ``CURATE_MEDIA_ROOT``): several machines that share one (an NFS or other
shared mount) share the files. Each root carries an id in ``.media-root``; a
catalogued file records the id of the root it was stored in, so that a worker
whose root has another id knows the file is elsewhere, not deleted.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

PREFIX = "media/"
ID_FILE = ".media-root"


def root_id(root: Path) -> str:
    """The id of the media root at ``root``, created (atomically, once) when it has none yet."""
    path = root / ID_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{ID_FILE}.{os.getpid()}.tmp"
    tmp.write_text(uuid.uuid4().hex + "\n")
    try:
        os.link(tmp, path)  # fails when another process made it first: theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def resolve(root: Path, stored: str) -> Path:
    """The file a catalogued path names: ``media/NAME`` → ``root/NAME``; an absolute path as it is."""
    path = Path(stored)
    if path.is_absolute():
        return path
    if stored.startswith(PREFIX):
        return root / stored[len(PREFIX):]
    return root.parent / path


def stored_name(root: Path, path: Path) -> str:
    """How the catalog names a file under ``root``: ``media/`` + its path inside the root."""
    return PREFIX + path.relative_to(root).as_posix()
