"""Near-duplicates on sandbox media with planted reposts: identical bytes, re-uploads, re-encodes, crops, same sound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from curation.duplicates import frame_hashes, group_duplicates, hash_matrix, keepers, mean_distances
from curation.rules import DEFAULT_RULES, rules_from_dict
from curation.verdicts import evaluate, reason_counts
from sandbox.reposts import REPOST_KINDS, original_clip, plant_reposts


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Five distinct uploads; the first two reposted in every way."""
    folder = tmp_path_factory.mktemp("reposts")
    files = {f"o{s}": original_clip(folder / f"o{s}.mp4", s) for s in range(5)}
    for s in (0, 1):
        files.update({f"o{s}.{k}": p for k, p in plant_reposts(files[f"o{s}"], folder, f"o{s}", REPOST_KINDS).items()})
    return files


@pytest.fixture(scope="module")
def hashes(planted):
    return {name: frame_hashes(path) for name, path in planted.items()}


def table(planted, hashes, music=None, original=()) -> pd.DataFrame:
    import hashlib

    names = list(planted)
    return pd.DataFrame({
        "video_id": [str(100 + i) for i in range(len(names))], "name": names,
        "media_sha256": [hashlib.sha256(planted[n].read_bytes()).hexdigest() for n in names],
        "frame_hashes": [hashes[n] for n in names],
        "music_id": [(music or {}).get(n) for n in names],
        "music_original": [n in original for n in names],
    })


def test_reposts_are_near_and_distinct_uploads_far(hashes):
    names = list(hashes)
    _, matrix = hash_matrix([hashes[n] for n in names])
    d = pd.DataFrame(mean_distances(matrix, matrix), index=names, columns=names)
    for s in (0, 1):
        for kind in REPOST_KINDS:
            assert d.loc[f"o{s}", f"o{s}.{kind}"] <= 10, (s, kind)
    assert d.loc["o0", "o0.copy"] == d.loc["o0", "o0.reupload"] == 0  # same frames, whatever the container says
    originals = [f"o{s}" for s in range(5)]
    far = d.loc[originals, originals].to_numpy()[~np.eye(5, dtype=bool)]
    assert far.min() > 15


def test_groups_are_exactly_the_planted_ones(planted, hashes):
    frame = table(planted, hashes)
    groups = group_duplicates(frame, max_distance=10, kinds=("media", "frames"))
    by_name = dict(zip(frame["video_id"], frame["name"], strict=True))
    found = {frozenset(by_name[v] for v in members) for _, members in groups.groupby("group")["video_id"]}
    assert found == {frozenset({"o0", *(f"o0.{k}" for k in REPOST_KINDS)}), frozenset({"o1", *(f"o1.{k}" for k in REPOST_KINDS)})}
    kinds = dict(zip(groups["video_id"].map(by_name), groups["kinds"], strict=True))
    assert kinds["o0.copy"] == ("media", "frames") and kinds["o0.crop"] == ("frames",)


def test_identical_bytes_alone_group_without_frames(planted, hashes):
    frame = table(planted, hashes).assign(frame_hashes=None)
    groups = group_duplicates(frame, 10, kinds=("media", "frames"))
    names = set(frame.set_index("video_id").loc[groups["video_id"], "name"])
    assert names == {"o0", "o0.copy", "o1", "o1.copy"}


def test_the_same_original_sound_ties_otherwise_distinct_videos(planted, hashes):
    # o2 and o3 share a creator's original sound; o4 and o0 share a licensed song, which ties nothing
    frame = table(planted, hashes, music={"o2": "77", "o3": "77", "o4": "88", "o0": "88"}, original=("o2", "o3"))
    assert group_duplicates(frame, 10, kinds=("frames",))["video_id"].map(dict(zip(frame["video_id"], frame["name"]))).str.startswith(("o2", "o3")).sum() == 0
    groups = group_duplicates(frame, 10, kinds=("sound",))
    assert set(frame.set_index("video_id").loc[groups["video_id"], "name"]) == {"o2", "o3"}
    assert set(groups["kinds"]) == {("sound",)}


def test_a_stricter_distance_splits_off_the_crops(planted, hashes):
    frame = table(planted, hashes)
    loose = group_duplicates(frame, 10, kinds=("frames",))
    strict = group_duplicates(frame, 0, kinds=("frames",))
    assert len(strict) < len(loose)
    assert "o0.copy" in set(frame.set_index("video_id").loc[strict["video_id"], "name"])


def test_keepers_follow_the_configured_rule():
    groups = pd.DataFrame({"video_id": ["3", "10", "2"], "group": ["2", "2", "2"], "kinds": [("frames",)] * 3})
    facts = pd.DataFrame({"plays": [10, 500, 20], "create_time": pd.to_datetime(["2024-03-01", "2024-02-01", "2024-01-01"], utc=True)},
                         index=["3", "10", "2"])
    assert keepers(groups, facts, "most_plays")["2"] == "10"
    assert keepers(groups, facts, "earliest")["2"] == "2"
    assert keepers(groups, facts, "lowest_id")["2"] == "2"
    rejected = pd.Series({"10": True, "3": False, "2": False})
    assert keepers(groups, facts, "most_plays", rejected)["2"] == "2", "a video other rules reject is not kept"
    with pytest.raises(ValueError, match="keep must be one of"):
        keepers(groups, facts, "newest")


def _curation_frame(planted, hashes) -> pd.DataFrame:
    frame = table(planted, hashes)
    n = len(frame)
    return frame.assign(
        has_media=True, probed=True, readable=True, truncated=False, first_frame_decodes=True, vfr=False,
        frames=180, fps=30.0, duration_s=6.0, width=240, height=426,
        plays=[1000 if name.endswith("reencode") else 10 for name in frame["name"]], create_time=pd.Timestamp("2024-01-01", tz="UTC"),
    ).iloc[:n]


def test_the_rule_keeps_one_per_group_and_says_which(planted, hashes):
    frame = _curation_frame(planted, hashes)
    rules = replace(DEFAULT_RULES, near_duplicates=True)
    verdicts = evaluate(frame, rules).assign(name=frame["name"]).set_index("name")
    assert verdicts.loc["o0.reencode", "verdict"] == "kept"  # the most played of its group
    keeper = frame.set_index("name").loc["o0.reencode", "video_id"]
    for kind in ("reupload", "crop"):
        assert verdicts.loc[f"o0.{kind}", "reasons"] == (f"near_duplicate_of:{keeper}",)
    assert verdicts.loc["o0", "reasons"] == (f"near_duplicate_of:{keeper}",)
    # same bytes: the older duplicate rule names the copy's twin, and the near-duplicate rule does not repeat it
    assert verdicts.loc["o0.copy", "reasons"] == (f"duplicate_of:{frame.set_index('name').loc['o0', 'video_id']}",)
    assert set(verdicts.loc[["o2", "o3", "o4"], "verdict"]) == {"kept"}
    counts = reason_counts(verdicts.reset_index())
    assert counts == {"near_duplicate": 6, "duplicate": 2}
    assert evaluate(frame, DEFAULT_RULES)["reasons"].map(lambda r: any("near" in x for x in r)).sum() == 0, "off by default"


def test_the_rule_says_what_it_lacks_and_its_settings_are_checked():
    with pytest.raises(KeyError, match="curate dedup"):
        frame = pd.DataFrame({c: [] for c in ("video_id", "media_sha256", "has_media", "probed", "readable", "truncated",
                                              "first_frame_decodes", "vfr", "frames", "fps", "duration_s", "width", "height")})
        evaluate(frame.astype(object).reindex([0]).fillna(False), replace(DEFAULT_RULES, near_duplicates=True))
    assert rules_from_dict({"near_duplicate_by": "frames, sound"}).near_duplicate_by == "frames,sound"
    with pytest.raises(ConfigError, match="near_duplicate_by must be a comma list"):
        rules_from_dict({"near_duplicate_by": "faces"})
    with pytest.raises(ConfigError, match="near_duplicate_keep must be one of"):
        rules_from_dict({"near_duplicate_keep": "most_plays,earliest"})


def test_an_unreadable_file_has_no_fingerprint(tmp_path):
    from curation.duplicates import fingerprint_file

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    result = fingerprint_file(str(junk))
    assert result["frame_hashes"] is None and result["error"]


def test_planted_uploads_are_the_same_bytes_every_run(tmp_path, planted):
    again = original_clip(tmp_path / "again.mp4", 0)
    assert again.read_bytes() == planted["o0"].read_bytes(), "ffmpeg's random gradient defaults must not leak in"
