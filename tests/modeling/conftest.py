"""Fixtures of the modeling tests: tiny saved models, ffmpeg-made videos, snapshots in the file contract."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.modeling.planted import planted_frame, write_snapshot


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One thread per test process: tiny models on a shared 2-core machine run several times faster than with two."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Every extractor's tiny random model, each built on first use and saved once per session: name → path for --model."""
    from tests.modeling.tiny_models import TinyModels

    return TinyModels(tmp_path_factory.mktemp("tiny-models"))


def _ffmpeg(out: Path, *args: str) -> Path:
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is needed to make the test videos: apt-get install ffmpeg")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    """A portrait clip with a tone, a landscape clip without audio, and a file of random bytes."""
    folder = tmp_path_factory.mktemp("videos")
    x264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]
    return {
        "tone": _ffmpeg(folder / "tone.mp4", "-f", "lavfi", "-i", "testsrc=size=96x160:rate=15:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-shortest", *x264, "-c:a", "aac"),
        "silent": _ffmpeg(folder / "silent.mp4", "-f", "lavfi", "-i", "testsrc2=size=128x72:rate=24:duration=1.5", *x264),
        "broken": _write(folder / "broken.mp4", bytes(range(256)) * 40),
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def media_frame(home: Path, videos: dict[str, Path], rows: int = 12) -> pd.DataFrame:
    """A planted frame of ``rows`` videos whose media are the test clips (copied under home/media), cycling tone/silent/broken, plus one without media."""
    frame = planted_frame(rows, seed=3)
    (home / "media").mkdir(parents=True, exist_ok=True)
    for kind, source in videos.items():
        shutil.copy(source, home / "media" / source.name)
    kinds = ["tone", "silent", "broken"]
    names = [kinds[i % 3] for i in range(rows)]
    frame["media_path"] = [f"media/{videos[k].name}" for k in names]
    frame["media_sha256"] = [_sha(videos[k]) for k in names]
    frame.loc[rows - 1, ["media_path", "media_sha256"]] = None
    frame["split"] = (["train"] * (rows - 4) + ["val", "val", "test", "test"])[:rows]
    frame["caption"] = [f"a dance video {i}" for i in range(rows)]
    frame["viral_er"] = [bool(i % 2) for i in range(rows)]
    return frame


@pytest.fixture
def media_snapshot(sqlite_cli, videos) -> str:
    """``clips@v1``: twelve videos over three media files (one undecodable) and one without media."""
    write_snapshot(sqlite_cli.home, media_frame(sqlite_cli.home, videos), name="clips")
    return "clips@v1"


@pytest.fixture
def planted_snapshot(sqlite_cli) -> str:
    """``planted@v1``: 2,000 videos whose engagement depends on their content."""
    write_snapshot(sqlite_cli.home, planted_frame(2000, seed=1), name="planted")
    return "planted@v1"
