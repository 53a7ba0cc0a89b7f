"""Rules from TOML: defaults, overrides, validation, and a hash that follows the values."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from curation.rules import DEFAULT_RULES, Rules, load_rules


def test_defaults_follow_the_brief():
    rules = load_rules(None)
    assert (rules.min_frames, rules.min_fps, rules.min_duration_s, rules.max_duration_s, rules.min_short_side) == (100, 10, 3, 600, 240)
    assert rules.reject_truncated and rules.reject_undecodable and rules.drop_duplicates and rules.require_media
    assert rules is DEFAULT_RULES


def test_a_file_overrides_some_keys_and_keeps_the_rest(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("min_frames = 50\nmax_duration_s = inf\nreject_vfr = true\n")
    rules = load_rules(path)
    assert (rules.min_frames, rules.min_fps, rules.reject_vfr) == (50, 10, True)
    assert rules.to_dict()["max_duration_s"] is None  # JSON has no infinity


def test_a_rules_table_is_accepted_too(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[rules]\nmin_fps = 24.0\n")
    assert load_rules(path).min_fps == 24


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_frame = 3", "unknown rule(s) min_frame"),
        ("min_frames = 'many'", "min_frames must be a number"),
        ("min_frames = 2.5", "min_frames must be a whole number"),
        ("min_fps = -1", "min_fps must be a number ≥ 0"),
        ("reject_vfr = 1", "reject_vfr must be true or false"),
        ("min_fps = [", "is not valid TOML"),
    ],
)
def test_bad_files_are_config_errors_naming_the_key(tmp_path, text, message):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_rules(path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="rules file not found"):
        load_rules(tmp_path / "nope.toml")


def test_the_hash_follows_the_values_only():
    assert Rules().hash() == Rules(min_frames=100).hash() == DEFAULT_RULES.hash()
    assert Rules(min_frames=99).hash() != DEFAULT_RULES.hash()
    assert len(DEFAULT_RULES.hash()) == 64
