"""The simulator's presets: every parameter of a simulation, frozen, hashable and JSON-able.

``seed-000`` follows annex A.2 of seed 000 (ranges and distribution families);
``viral-vision`` reproduces the metric quartiles of seed 001's table. Values the
sources do not give (medians inside a range, correlations, saves) are this
project's choices and are documented in docs/synth.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from core.errors import ConfigError
from synth.distributions import Marginal, Uniform

METRICS = ("plays", "likes", "comments", "shares", "saves")
#: the copula's variables, in the order of its correlation matrix
COPULA_VARIABLES = ("followers", *METRICS)
#: seed 000's content categories (its zero-shot classifier's label set)
CATEGORIES = (
    "comedy", "dance", "sports", "gaming", "educational", "vehicles", "beauty",
    "food", "pets", "technology", "music", "unidentified", "other",
)


@dataclass(frozen=True)
class AuthorModel:
    """Accounts: followers and following (bounded log-normals), creation date (exponential age)."""

    followers: Marginal
    following: Marginal
    account_start: str = "2017-01-01"
    account_age_scale_days: float = 730.0


@dataclass(frozen=True)
class RatioEngagement:
    """Seed 000 annex A.2: likes = followers × engagement rate; comments and shares are shares of likes."""

    engagement_rate_pct: Marginal
    comment_ratio: Uniform
    share_ratio: Uniform
    save_ratio: Uniform
    #: likes per play (seed 001's medians give 78,600 / 803,750 ≈ 0.098)
    like_rate: Marginal
    kind: str = "ratio"


@dataclass(frozen=True)
class CopulaEngagement:
    """Log-normal metric marginals joined by a Gaussian copula conditioned on the author's followers."""

    plays: Marginal
    likes: Marginal
    comments: Marginal
    shares: Marginal
    saves: Marginal
    #: correlation of the normal scores, over COPULA_VARIABLES
    correlation: tuple[tuple[float, ...], ...]
    kind: str = "copula"

    def matrix(self) -> np.ndarray:
        """The correlation matrix as an array."""
        return np.array(self.correlation, dtype=np.float64)


@dataclass(frozen=True)
class PlantedSignal:
    """Planted-signal mode: content attributes shift engagement by a known latent score."""

    categories: tuple[str, ...] = CATEGORIES
    category_probs: tuple[float, ...] = (.16, .14, .06, .07, .07, .03, .08, .07, .07, .04, .09, .06, .06)
    category_effects: tuple[float, ...] = (.5, .4, 0., -.2, -.3, -.1, .1, .2, .6, -.2, .3, -.5, -.3)
    #: added when the video uses a non-original (trending) sound
    trending_sound_effect: float = 0.3
    duration_peak_s: float = 15.0
    #: times (ln(duration / peak))², so very short and very long videos lose
    duration_effect: float = -0.3
    #: how many standard deviations of engagement one unit of latent score moves
    strength: float = 1.5


@dataclass(frozen=True)
class Preset:
    """Everything a simulation depends on besides the seed and the rows' ids."""

    name: str
    description: str
    authors: AuthorModel
    engagement: RatioEngagement | CopulaEngagement
    planted: PlantedSignal = field(default_factory=PlantedSignal)
    #: "now" for account ages and video dates, fixed so that a simulation is reproducible
    reference_date: str = "2025-01-01"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description of every parameter."""
        return asdict(self)

    def params_hash(self) -> str:
        """The sha256 of the canonical JSON of :meth:`to_dict` (names the parameters, not the seed)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=float)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_reference_date(self, date: str) -> Preset:
        """The same preset with another reference date."""
        return replace(self, reference_date=date)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preset:
        """Rebuilds a preset from :meth:`to_dict`'s output."""
        a, e = data["authors"], data["engagement"]
        authors = AuthorModel(**{**a, "followers": Marginal(**a["followers"]), "following": Marginal(**a["following"])})
        if e["kind"] == "ratio":
            engagement: RatioEngagement | CopulaEngagement = RatioEngagement(
                engagement_rate_pct=Marginal(**e["engagement_rate_pct"]), like_rate=Marginal(**e["like_rate"]),
                **{k: Uniform(**e[k]) for k in ("comment_ratio", "share_ratio", "save_ratio")},
            )
        else:
            engagement = CopulaEngagement(
                **{m: Marginal(**e[m]) for m in METRICS}, correlation=tuple(tuple(r) for r in e["correlation"])
            )
        planted = PlantedSignal(**{k: tuple(v) if isinstance(v, list) else v for k, v in data["planted"].items()})
        return cls(name=data["name"], description=data["description"], authors=authors,
                   engagement=engagement, planted=planted, reference_date=data["reference_date"])


SEED_000 = Preset(
    name="seed-000",
    description="Seed 000 annex A.2: followers 100-1M and following 50-10k log-normal, exponential account age "
    "since 2017, engagement rate 0.4-8 %, comments 3-15 % and shares 1-7 % of likes, plays from a like rate ~0.098",
    authors=AuthorModel(
        followers=Marginal.lognormal(5_000, 2.0, low=100, high=1_000_000),
        following=Marginal.lognormal(300, 1.2, low=50, high=10_000),
    ),
    engagement=RatioEngagement(
        engagement_rate_pct=Marginal.lognormal(2.0, 0.7, low=0.4, high=8.0),
        comment_ratio=Uniform(0.03, 0.15),
        share_ratio=Uniform(0.01, 0.07),
        save_ratio=Uniform(0.01, 0.10),
        like_rate=Marginal.lognormal(0.098, 0.5, low=0.01, high=0.5),
    ),
)

VIRAL_VISION = Preset(
    name="viral-vision",
    description="Seed 001 (The Viral Vision): metric quartiles of its table (comments 145/527/1,743, likes "
    "23,500/78,600/258,675, plays 281,125/803,750/2,300,000, shares 135/903/4,732), correlated log-normals",
    authors=AuthorModel(
        followers=Marginal.lognormal(200_000, 1.8, low=100, high=100_000_000),
        following=Marginal.lognormal(300, 1.2, low=50, high=10_000),
    ),
    engagement=CopulaEngagement(
        plays=Marginal.from_quartiles(281_125, 803_750, 2_300_000, low=1),
        likes=Marginal.from_quartiles(23_500, 78_600, 258_675),
        comments=Marginal.from_quartiles(145, 527, 1_743),
        shares=Marginal.from_quartiles(135, 903, 4_732),
        saves=Marginal.from_quartiles(1_400, 4_700, 15_500),
        correlation=(
            (1.00, 0.50, 0.50, 0.45, 0.40, 0.45),
            (0.50, 1.00, 0.92, 0.80, 0.78, 0.85),
            (0.50, 0.92, 1.00, 0.85, 0.80, 0.90),
            (0.45, 0.80, 0.85, 1.00, 0.70, 0.75),
            (0.40, 0.78, 0.80, 0.70, 1.00, 0.80),
            (0.45, 0.85, 0.90, 0.75, 0.80, 1.00),
        ),
    ),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (SEED_000, VIRAL_VISION)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a ConfigError lists the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
