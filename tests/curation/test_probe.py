"""Probing with PyAV against what ffprobe counts, on every container, rate and kind of damage."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.distributor import CRASH_REASON, probe_many
from curation.probe import ProbeResult, probe_file
from tests.curation.corpus import ENCODED, NOT_VIDEO, READABLE, ffprobe_facts


@pytest.mark.parametrize("name", READABLE)
def test_frames_fps_and_duration_match_ffprobe_count_packets(corpus, name):
    facts = probe_file(corpus[name])
    expected = ffprobe_facts(corpus[name])
    assert facts.readable and facts.reason is None
    assert facts.frames == expected["frames"]
    assert facts.fps == pytest.approx(expected["fps"], rel=1e-3)
    assert facts.duration_s == pytest.approx(expected["duration_s"], abs=0.02)
    assert facts.first_frame_decodes is True
    assert facts.truncated is False
    assert (facts.width, facts.height) == (320, 240)


@pytest.mark.parametrize(("name", "fps", "frames"), [("fps_1.mp4", 1, 5), ("fps_10.mp4", 10, 30), ("fps_24.mp4", 24, 48), ("clip.mp4", 30, 120), ("fps_60.mp4", 60, 120)])
def test_frame_rates(corpus, name, fps, frames):
    facts = probe_file(corpus[name])
    assert (facts.fps, facts.frames, facts.vfr) == (fps, frames, False)


def test_the_header_count_is_used_only_where_it_can_be_checked(corpus):
    sources = {name: probe_file(corpus[name]).frames_source for name in ENCODED}
    assert {n for n, s in sources.items() if s == "index"} == {
        "clip.mp4", "faststart.mp4", "clip.mov", "fps_1.mp4", "fps_10.mp4", "fps_24.mp4", "fps_60.mp4", "vfr.mp4",
    }  # fmt: skip
    # no count in mkv/webm/ts/flv/fragmented headers; avi's header says one frame too many
    assert probe_file(corpus["clip.avi"]).header_frames == 121


def test_container_codec_audio_rotation(corpus):
    mp4, webm, silent, rotated = (probe_file(corpus[n]) for n in ("clip.mp4", "clip.webm", "fps_24.mp4", "rotated.mp4"))
    assert (mp4.container, mp4.codec, mp4.has_audio, mp4.audio_codec) == ("mov,mp4,m4a,3gp,3g2,mj2", "h264", True, "aac")
    assert (webm.container, webm.codec, webm.audio_codec) == ("matroska,webm", "vp8", "opus")
    assert (silent.has_audio, silent.audio_codec) == (False, None)
    assert (rotated.rotation, mp4.rotation) == (90, 0)
    assert mp4.bitrate > 0 and mp4.size_bytes == corpus["clip.mp4"].stat().st_size


def test_variable_frame_rate_is_detected(corpus):
    facts = probe_file(corpus["vfr.mp4"])
    assert facts.vfr is True
    assert facts.nominal_fps == 30 and facts.fps == pytest.approx(60 / facts.duration_s, rel=0.02)


def test_a_cut_faststart_mp4_opens_but_is_flagged_truncated_with_the_packets_really_there(corpus):
    facts = probe_file(corpus["cut_faststart.mp4"])
    assert facts.readable and facts.truncated is True
    assert facts.header_frames == 120
    assert facts.frames == ffprobe_facts(corpus["cut_faststart.mp4"])["frames"] < 0.9 * 120
    assert facts.frames_source == "packets"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("cut_index_at_end.mp4", "mp4 cut short: no index (moov atom)"),
        ("empty.mp4", "empty file"),
        ("random.mp4", "cannot open: invalid data"),
        ("jpeg.mp4", "not a media file: image"),
        ("text.mp4", "not a media file: text"),
        ("html.mp4", "not a media file: html page"),
    ],
)
def test_unreadable_files_get_a_reason(corpus, name, reason):
    facts = probe_file(corpus[name])
    assert facts.readable is False
    assert facts.reason.startswith(reason), facts.reason
    assert facts.frames is None and facts.truncated is None


def test_a_missing_file_is_a_result_too(tmp_path):
    facts = probe_file(tmp_path / "gone.mp4")
    assert (facts.readable, facts.reason) == (False, "missing file")
    assert set(facts.to_dict()) - set(facts.facts()) == {"path"}


def test_parallel_probing_gives_the_same_facts_as_one_process(corpus):
    paths = {f"v{i}": str(p) for i, p in enumerate(corpus.values())}
    paths["same-file"] = paths["v0"]  # two videos may share one file: probed once, reported for both
    done: list[int] = []
    parallel = dict(probe_many(paths, workers=2, on_done=done.append))
    serial = dict(probe_many(paths, workers=1))
    assert parallel == serial
    assert set(parallel) == set(paths) and sum(done) == len(paths) - 1
    assert sum(not r.readable for r in parallel.values()) == len(NOT_VIDEO) + 1


def crash_on_random(path: str) -> ProbeResult:
    """A prober that kills its process on one file, as a crash inside FFmpeg would."""
    if path.endswith("random.mp4"):
        os._exit(3)
    return probe_file(path)


def test_a_file_that_kills_its_worker_is_a_row_with_a_reason_and_the_run_goes_on(corpus):
    names = ("clip.mp4", "random.mp4", "clip.mkv", "empty.mp4")
    results = dict(probe_many({n: str(corpus[n]) for n in names}, workers=2, probe=crash_on_random))
    assert set(results) == set(names)
    assert results["random.mp4"].reason == CRASH_REASON
    assert results["clip.mp4"].frames == results["clip.mkv"].frames == 120
    assert results["empty.mp4"].reason == "empty file"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from([b"", b"\x00\x00\x00\x18ftypmp42", b"\x1aE\xdf\xa3", b"RIFF\x00\x00\x00\x00AVI ", b"FLV\x01", b"G", b"\x00\x00\x01\xb3"]), body=st.binary(max_size=4096))
def test_any_bytes_give_a_result_never_an_exception(tmp_path, head, body):
    path = tmp_path / "fuzz.mp4"
    path.write_bytes(head + body)
    facts = probe_file(path)
    assert isinstance(facts, ProbeResult)
    assert facts.readable is False or (facts.width > 0 and facts.height > 0 and facts.frames >= 0)
    assert facts.readable or facts.reason
