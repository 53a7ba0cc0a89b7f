"""PyAV decoding for the extractors: frames at chosen times and sizes, padding, 16 kHz mono audio, broken files."""

from __future__ import annotations

import numpy as np
import pytest

from modeling import media
from modeling.extractors.base import Item
from modeling.extractors.r2plus1d import R2Plus1DExtractor
from modeling.extractors.resnet50 import ResNet50Extractor
from modeling.weights import WeightsSource


def test_probe_reads_the_headers(videos):
    tone, silent = media.probe(videos["tone"]), media.probe(videos["silent"])
    assert tone.duration_s == pytest.approx(2.0, abs=0.1) and tone.fps == pytest.approx(15) and (tone.width, tone.height) == (96, 160)
    assert tone.has_audio and not silent.has_audio and silent.fps == pytest.approx(24)


def test_frames_at_times_keep_the_aspect_with_a_short_side(videos):
    frames = media.read_frames(videos["tone"], [0.0, 0.5, 1.0], short_side=48)
    assert frames.shape == (3, 80, 48, 3) and frames.dtype == np.uint8
    assert not np.array_equal(frames[0], frames[2])  # testsrc moves: different times, different pictures


def test_times_past_the_end_repeat_the_last_frame(videos):
    frames = media.read_frames(videos["silent"], [0.2, 5.0, 9.0], size=(32, 32))
    assert frames.shape == (3, 32, 32, 3)
    assert np.array_equal(frames[1], frames[2])


def test_evenly_spread_frames(videos):
    assert media.read_frames(videos["tone"], None, count=5, size=(16, 16)).shape == (5, 16, 16, 3)
    assert media.uniform_times(10, 4) == [1.25, 3.75, 6.25, 8.75]
    assert media.every_second(3.2, 1.0, 60) == [0.5, 1.5, 2.5]
    assert len(media.every_second(600, 1.0, 60)) == 60
    assert media.clip_times(10, 4, 2.0) == [4.0, 4.5, 5.0, 5.5]


def test_audio_is_mono_16k_and_empty_without_a_stream(videos):
    audio = media.read_audio(videos["tone"])
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == pytest.approx(2 * media.AUDIO_RATE, rel=0.05)
    spectrum = np.abs(np.fft.rfft(audio[: media.AUDIO_RATE]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=3)  # the 440 Hz tone, resampled correctly
    assert media.read_audio(videos["tone"], max_seconds=0.5).size == media.AUDIO_RATE // 2
    assert media.read_audio(videos["silent"]).size == 0


def test_broken_and_missing_files_are_media_errors(videos, tmp_path):
    with pytest.raises(media.MediaError, match="cannot be opened"):
        media.read_frames(videos["broken"], [0.0])
    with pytest.raises(media.MediaError, match="not found"):
        media.probe(tmp_path / "absent.mp4")


def test_default_inputs_of_the_torchvision_extractors(videos):
    """The real preprocessing at its real sizes (decoding only, no network needed)."""
    clip = R2Plus1DExtractor.__new__(R2Plus1DExtractor)
    clip.options = R2Plus1DExtractor.default_options()
    frames = ResNet50Extractor.__new__(ResNet50Extractor)
    frames.options = ResNet50Extractor.default_options()
    item = Item("1", videos["tone"])
    assert clip.prepare(item).shape == (16, 112, 112, 3)
    assert frames.prepare(item).shape == (2, 224, 224, 3)  # a 2-second video at 1 fps


def test_random_weights_are_marked(tmp_path):
    assert WeightsSource("random", None, "random").is_random
