"""Fixtures of the curation tests: the ffmpeg-made corpus, built once and cached in the temp folder."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.curation import corpus as corpus_module
from tests.curation.corpus import build_corpus, corpus_names

COMPLETE = ".complete"


def _cache_dir() -> Path:
    """A folder named by the corpus recipe and the ffmpeg that runs it, so a change to either rebuilds."""
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    key = hashlib.sha256(Path(corpus_module.__file__).read_bytes() + version.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"viralcurate-test-corpus-{key}"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{name: path}`` of the media corpus (see tests/curation/corpus.py); read-only for the tests."""
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is not installed: `apt-get install ffmpeg` (./run does it)")
    folder = _cache_dir()
    if not (folder / COMPLETE).exists():
        fresh = tmp_path_factory.mktemp("corpus")
        build_corpus(fresh)
        (fresh / COMPLETE).touch()
        try:
            fresh.rename(folder)  # atomic; another xdist worker may have won the race, which is as good
        except OSError:
            # the race was lost, or the temp folders sit on two file systems: use this session's copy
            folder = folder if (folder / COMPLETE).exists() else fresh
    return {name: folder / name for name in corpus_names()}
