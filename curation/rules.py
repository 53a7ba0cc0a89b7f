"""The filter rules: thresholds a video's probe facts must meet, read from TOML, hashed for provenance.

A rules file holds top-level keys named as the fields of :class:`Rules`; keys
left out keep their defaults. A threshold of 0 (or ``inf`` for the maximum
duration) switches that rule off.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import orjson

from core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Rules:
    """What a kept video must satisfy; the defaults follow seed 001 (≥ 100 frames, fps ≥ 10)."""

    #: at least this many frames (seed 001 dropped videos under 100 frames)
    min_frames: int = 100
    #: at least this frame rate (seed 001 found 1-fps videos)
    min_fps: float = 10.0
    #: duration bounds in seconds
    min_duration_s: float = 3.0
    max_duration_s: float = 600.0
    #: the shorter side of the picture, in pixels
    min_short_side: int = 240
    #: videos without a media file are rejected (``no_media``); false keeps metadata-only videos
    require_media: bool = True
    #: a file cut short (fewer packets than promised) is rejected (``truncated``)
    reject_truncated: bool = True
    #: a file whose first frame does not decode is rejected (``undecodable``)
    reject_undecodable: bool = True
    #: a variable frame rate is rejected (``variable_fps``); off by default, phones record VFR
    reject_vfr: bool = False
    #: files with the same sha256 are kept once, the lowest video id (``duplicate_of:<id>``)
    drop_duplicates: bool = True
    #: reposts and re-uploads are kept once per group (``near_duplicate_of:<id>``; see curation/duplicates.py)
    near_duplicates: bool = False
    #: near-identical frames: at most this mean Hamming distance (bits of 64) over the sampled frames
    near_duplicate_distance: float = 10.0
    #: what ties a group: a comma list of media (same sha256), frames (near-identical), sound (same music_id)
    near_duplicate_by: str = "media,frames"
    #: which video of a group is kept: most_plays, earliest (create time) or lowest_id
    near_duplicate_keep: str = "most_plays"

    def to_dict(self) -> dict[str, Any]:
        """The rules as a JSON-able dict (an infinite maximum is written as null)."""
        return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in asdict(self).items()}

    def hash(self) -> str:
        """sha256 of the rules' canonical JSON: equal rules, equal hash."""
        return hashlib.sha256(orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)).hexdigest()


DEFAULT_RULES = Rules()


def load_rules(path: Path | str | None) -> Rules:
    """The rules in a TOML file, or the defaults for ``None``; a bad file raises ConfigError."""
    if path is None:
        return DEFAULT_RULES
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"rules file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"rules file {path} is not valid TOML: {exc}") from exc
    return rules_from_dict(values.get("rules", values), source=str(path))


def rules_from_dict(values: dict[str, Any], source: str = "rules") -> Rules:
    """Builds rules from a mapping, checking every name and type."""
    known = {f.name: f for f in fields(Rules)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{source}: unknown rule(s) {', '.join(unknown)}; known: {', '.join(known)}")
    checked = {name: _checked(source, name, value, type(getattr(DEFAULT_RULES, name))) for name, value in values.items()}
    return Rules(**checked)


#: the allowed words of the rules that take text
CHOICES = {"near_duplicate_by": ("media", "frames", "sound"), "near_duplicate_keep": ("most_plays", "earliest", "lowest_id")}


def _checked(source: str, name: str, value: Any, kind: type) -> Any:
    if kind is str:
        words = [w.strip() for w in value.split(",")] if isinstance(value, str) else None
        allowed = CHOICES[name]
        single = name == "near_duplicate_keep"
        if not words or any(w not in allowed for w in words) or (single and len(words) != 1):
            raise ConfigError(f"{source}: {name} must be {'one' if single else 'a comma list'} of {', '.join(allowed)}, not {value!r}")
        return ",".join(words)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {name} must be true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) or value < 0:
        raise ConfigError(f"{source}: {name} must be a number ≥ 0, not {value!r}")
    if kind is int and not float(value).is_integer():
        raise ConfigError(f"{source}: {name} must be a whole number, not {value!r}")
    return kind(value) if not math.isinf(value) else value
