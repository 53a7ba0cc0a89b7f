"""Fixtures of the curation tests: the ffmpeg-made corpus, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.curation.corpus import build_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{name: path}`` of the media corpus (see tests/curation/corpus.py)."""
    return build_corpus(tmp_path_factory.mktemp("corpus"))
