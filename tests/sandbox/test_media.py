"""Media files: real, varied, unique per video, deterministic; the broken ones broken as intended."""

from __future__ import annotations

import shutil
from dataclasses import replace

import av
import pytest

from sandbox import TEMPLATES, MediaStore
from sandbox.content import AUDIO_SECONDS, RECIPES
from sandbox.media import TRUNCATE_AT, remux, remux_sources
from tests.sandbox.conftest import rows_where

#: a handful of templates that together cover 1 to 60 fps, three shapes and no-audio
WANTED = ("t1a", "c12a", "p25n", "h60a")


@pytest.fixture(scope="module")
def intact(world):
    """One intact public video per wanted template (the first in the table)."""
    chosen = {}
    for video_id in rows_where(world, media_kind="ok", visibility="public"):
        name = world.template_of(video_id).name
        if name in WANTED and name not in chosen:
            chosen[name] = video_id
    assert set(chosen) == set(WANTED), "the test world lacks a template; pick others"
    return chosen


def _facts(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        packets = sum(1 for p in container.demux(video) if p.size)
        return {
            "duration": container.duration / 1e6, "fps": float(video.average_rate), "packets": packets,
            "width": video.codec_context.width, "height": video.codec_context.height,
            "audio": len(container.streams.audio), "comment": container.metadata.get("comment", ""),
        }


def test_intact_files_open_and_match_what_the_item_declares(world, intact):
    for name, video_id in intact.items():
        template = world.template_of(video_id)
        declared = world.item_struct(video_id)["video"]
        facts = _facts(world.media_path(video_id))
        assert (facts["width"], facts["height"]) == (declared["width"], declared["height"]) == (template.width, template.height)
        assert abs(facts["duration"] - declared["duration"]) < 0.2, name
        assert facts["packets"] == declared["duration"] * template.fps, name
        assert round(facts["fps"]) == template.fps and facts["audio"] == (1 if template.audio_hz else 0)
        assert video_id in facts["comment"]


def test_the_first_frames_decode(world, intact):
    video_id = intact["c12a"]
    with av.open(str(world.media_path(video_id))) as container:
        frames = [f for _, f in zip(range(5), container.decode(video=0))]
    assert len(frames) == 5 and frames[0].width == world.template_of(video_id).width


def test_videos_sharing_a_template_still_have_unique_bytes(world):
    by_template = world.videos[(world.videos["media_kind"] == "ok") & (world.videos["visibility"] == "public")]
    pair = by_template[by_template["template"] == by_template["template"].iloc[0]]["video_id"].tolist()[:2]
    assert world.media_bytes(pair[0]) != world.media_bytes(pair[1])


def test_remuxing_again_gives_the_same_bytes(world, intact, tmp_path):
    world.media_bytes(intact["c12a"])  # made once by the store
    video_id = intact["c12a"]
    spec = world.media_spec(video_id)
    recipe = RECIPES[spec.recipe]
    sources = [(world.media.picture_path(spec.template, recipe.picture), TEMPLATES[spec.template].seconds), (world.media.sound_path(recipe.sound), AUDIO_SECONDS)]
    again = tmp_path / "again.mp4"
    remux_sources(sources, again, video_id, spec.seconds)
    assert again.read_bytes() == world.media_bytes(video_id)
    bare = tmp_path / "bare.mp4"  # a spec without a recipe is the bare template, tone included
    remux(world.media.template_path(spec.template), bare, video_id, spec.seconds, TEMPLATES[spec.template].seconds)
    assert bare.read_bytes() == world.media.path(replace(spec, recipe=None)).read_bytes()


def test_the_world_breaks_some_files(world):
    for kind in ("empty", "html", "truncated"):
        assert all(world.media_spec(v).kind == kind for v in rows_where(world, media_kind=kind)), kind
    assert world.media_bytes(rows_where(world, media_kind="empty")[0]) == b""
    assert world.media_bytes(rows_where(world, media_kind="html")[0]).startswith(b"<!DOCTYPE html>")
    for video_id in rows_where(world, media_kind="duplicate"):
        # a duplicate names its original's file: the same path, the same bytes
        original = world.videos.at[int(world.videos.at[world.row(video_id), "dup_of"]), "video_id"]
        assert world.media_spec(video_id) == world.media_spec(original)
        assert world.item_struct(video_id)["video"]["duration"] == world.item_struct(original)["video"]["duration"]


@pytest.mark.parametrize("faststart", [True, False])
def test_truncated_files_are_cut_short(world, intact, faststart):
    spec = replace(world.media_spec(intact["c12a"]), kind="truncated", faststart=faststart)
    path = world.media.path(spec)
    whole = world.media.path(replace(spec, kind="ok"))
    assert 0 < path.stat().st_size < whole.stat().st_size
    if faststart:
        # the index comes first: it opens and claims the full length, but the packets run out
        facts = _facts(path)
        assert facts["duration"] > spec.seconds - 1 and facts["packets"] < spec.seconds * 12 * (TRUNCATE_AT + 0.1)
    else:
        with pytest.raises(av.error.InvalidDataError):
            av.open(str(path)).close()


def test_empty_and_html_files_do_not_open(world):
    for kind in ("empty", "html"):
        with pytest.raises(av.error.InvalidDataError):
            av.open(str(world.media_path(rows_where(world, media_kind=kind)[0]))).close()


def test_templates_are_encoded_once_into_the_cache(world, media_cache):
    templates = list((media_cache / "templates").rglob("*.mp4"))
    assert templates and all(p.stat().st_size > 1000 for p in templates)
    assert not list(media_cache.rglob("*.tmp"))


def test_without_ffmpeg_the_error_says_what_to_install(tmp_path, monkeypatch):
    from core.errors import MissingComponent

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(MissingComponent, match="apt-get install ffmpeg"):
        MediaStore(tmp_path).template_path(0)
