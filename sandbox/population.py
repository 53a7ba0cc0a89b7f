"""Who and what the synthetic world holds: authors and videos as columns, drawn with numpy.

Each part draws from its own random stream (``np.random.SeedSequence([seed, stream])``),
so changing how one part is drawn leaves the others as they were; counts
(followers, plays, likes …) come from ``synth`` through :mod:`sandbox.metrics`.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from sandbox import content, metrics, vocab
from sandbox.media import TEMPLATES

S_AUTHORS, S_VIDEOS, S_CAPTIONS, S_MUSIC, S_STATES, S_GRAPH, S_FEED, S_HIDDEN, S_CONTENT = 1, 2, 3, 4, 5, 6, 7, 8, 9
#: visibility and media faults of the world itself (not injected per request): rate, minimum count
WORLD_STATES = {"private": (0.02, 1), "deleted": (0.01, 1)}
BROKEN_MEDIA = {"truncated": (0.015, 2), "empty": (0.005, 1), "html": (0.005, 1), "duplicate": (0.01, 2)}
MAX_VIDEOS = 1 << 20
#: creators per video: the Kaggle trending export of seed 000 has 802 creators in 1,000 videos
AUTHORS_PER_VIDEO = 0.8
#: the heaviest creator's weight, in multiples of the lightest's: a Pareto tail without a cap gave one
#: creator a fifth of a 2,000-video world (and 68 of a 200-video crawl)
PROLIFIC_CAP = 30.0


def stream(seed: int, part: int) -> np.random.Generator:
    """The random generator of one part of the world."""
    return np.random.default_rng(np.random.SeedSequence([seed, part]))


def pick(rng: np.random.Generator, table, size: int) -> np.ndarray:
    """``size`` entries of ``table`` drawn uniformly, as an object array."""
    return np.asarray(table, dtype=object)[rng.integers(0, len(table), size)]


def draw_authors(n: int, seed: int, preset: str, reference: pd.Timestamp, hidden_counts: float = 0.0) -> pd.DataFrame:
    """``n`` accounts: ids, handles, nicknames, secUids, main category, verified flag, synth's counts,
    and whether the site withholds the counts of their videos (``hides_counts``, a share ``hidden_counts``)."""
    rng = stream(seed, S_AUTHORS)
    index = np.arange(n, dtype=np.int64)
    # 19-digit ids like the platform's; the low 20 bits hold the row, so they never collide
    ids = (rng.integers(6_600_000_000_000_000_000 >> 20, 7_400_000_000_000_000_000 >> 20, n) << 20) | index
    first, word = pick(rng, vocab.FIRST_NAMES, n), pick(rng, vocab.HANDLE_WORDS, n)
    sep = pick(rng, vocab.HANDLE_SEPARATORS, n)
    digits = np.where(rng.random(n) < 0.55, pd.Series(rng.integers(1, 999, n)).astype(str), "")
    handles = pd.Series(first + sep + word) + digits
    handles = handles.where(~handles.duplicated(), handles + "_" + pd.Series(index).astype(str))
    frame = pd.DataFrame({
        "author_id": pd.Series(ids).astype(str),
        "handle": handles,
        "nickname": pd.Series(first).str.capitalize() + " " + pd.Series(word).str.capitalize(),
        "sec_uid": "MS4wLjABAAAA" + pd.Series(np.frombuffer(base64.urlsafe_b64encode(rng.bytes(48 * n)), dtype="S64")).str.decode("ascii"),
        "main_category": rng.choice(len(vocab.CATEGORIES), n, p=vocab.CATEGORY_WEIGHTS / vocab.CATEGORY_WEIGHTS.sum()),
        "verify_draw": rng.random(n),
        "extra_videos": rng.poisson(40, n),
    })
    drawn = metrics.author_metrics(frame["author_id"].to_numpy(), preset, seed, reference)
    frame = frame.join(drawn.drop(columns="author_id").reset_index(drop=True))
    frame["verified"] = (frame["followers"] > 200_000) & (frame.pop("verify_draw") < 0.6)
    frame["hides_counts"] = stream(seed, S_HIDDEN).random(n) < hidden_counts
    return frame


def author_count(n_videos: int) -> int:
    """How many creators a world of ``n_videos`` videos has."""
    return max(1, round(n_videos * AUTHORS_PER_VIDEO))


def assign_authors(n_videos: int, n_authors: int, rng: np.random.Generator) -> np.ndarray:
    """Which author posted each video: everyone at least once, a few prolific ones (Pareto weights, capped)."""
    weights = np.minimum(rng.pareto(1.2, n_authors) + 1.0, PROLIFIC_CAP)
    rest = rng.choice(n_authors, n_videos - n_authors, p=weights / weights.sum())
    return rng.permutation(np.concatenate([np.arange(n_authors), rest]))


def draw_videos(
    n: int, seed: int, authors: pd.DataFrame, preset: str, reference: pd.Timestamp, planted_signal: bool = False
) -> pd.DataFrame:
    """``n`` videos with authors, create times and ids, category, media template and duration, and counts."""
    rng = stream(seed, S_VIDEOS)
    author_row = assign_authors(n, len(authors), rng)
    by = authors.iloc[author_row].reset_index(drop=True)
    created = by["account_created_at"].dt.as_unit("s").astype("int64").to_numpy()
    start = np.maximum(created, reference.value // 10**9 - 3 * 365 * 86_400)
    stamp = start + (rng.random(n) ** 0.6 * (reference.value // 10**9 - start)).astype(np.int64)
    # ids carry their create time in the high 32 bits, as the platform's do; the low 20 bits the row
    ids = (stamp << 32) | (rng.integers(0, 1 << 12, n) << 20) | np.arange(n)
    own = rng.random(n) < 0.7
    category = np.where(own, by["main_category"].to_numpy(), rng.choice(len(vocab.CATEGORIES), n, p=vocab.CATEGORY_WEIGHTS / vocab.CATEGORY_WEIGHTS.sum()))
    weights = np.array([t.weight for t in TEMPLATES])
    frame = pd.DataFrame({
        "video_id": pd.Series(ids).astype(str),
        "author_row": author_row,
        "author_id": by["author_id"],
        "handle": by["handle"],
        "create_time": stamp,
        "category": np.asarray(vocab.CATEGORIES, dtype=object)[category],
        "template": rng.choice(len(TEMPLATES), n, p=weights / weights.sum()),
        "duration": np.clip(np.rint(rng.lognormal(np.log(16), 0.75, n)), 1, 60).astype(np.int64),
    })
    frame = frame.join(_music(frame, by, seed)).join(_content(frame, seed))
    return frame.join(_counts(frame, by, preset, seed, reference, planted_signal))


def _content(videos: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each video's content recipe (its own stream: independent of format, category, sound and duration) and its latent score."""
    recipe = content.draw_recipes(stream(seed, S_CONTENT), len(videos))
    has_audio = np.array([t.audio_hz is not None for t in TEMPLATES])[videos["template"].to_numpy()]
    return pd.DataFrame({"recipe": recipe, "content_score": content.latent_scores(recipe, has_audio)}, index=videos.index)


def _music(videos: pd.DataFrame, by: pd.DataFrame, seed: int) -> pd.DataFrame:
    """An original sound (the creator's own) for ~45 %, else one of a pool of shared tracks (Zipf-popular)."""
    rng = stream(seed, S_MUSIC)
    n = len(videos)
    tracks = max(8, n // 20)
    title = pd.Series(pick(rng, vocab.SOUND_ADJECTIVES, tracks)).str.capitalize() + " " + pd.Series(pick(rng, vocab.SOUND_NOUNS, tracks)).str.capitalize()
    artist = pd.Series(pick(rng, vocab.ARTISTS, tracks))
    # ids carry a release time in the high bits like the platform's; shared tracks have bit 31 clear, originals set
    track_ids = (rng.integers(1_550_000_000, 1_700_000_000, tracks) << 32) | (rng.integers(0, 1 << 11, tracks) << 20) | np.arange(tracks)
    ranks = np.arange(1, tracks + 1, dtype=float) ** -1.1
    chosen = rng.choice(tracks, n, p=ranks / ranks.sum())
    original = rng.random(n) < 0.45
    own_ids = (videos["create_time"].to_numpy() << 32) | (1 << 31) | np.arange(n)
    return pd.DataFrame({
        "music_id": np.where(original, pd.Series(own_ids).astype(str), pd.Series(track_ids[chosen]).astype(str)),
        "music_title": np.where(original, "original sound - " + by["nickname"], title.to_numpy()[chosen]),
        "music_author": np.where(original, by["nickname"], artist.to_numpy()[chosen]),
        "music_original": original,
        "music_duration": np.where(original, videos["duration"], 30 + chosen % 31),
    })


def _counts(videos: pd.DataFrame, by: pd.DataFrame, preset: str, seed: int, reference: pd.Timestamp,
            planted_signal: bool) -> pd.DataFrame:
    inputs = simulator_inputs(videos, by)
    return metrics.video_metrics(inputs, preset, seed, reference, planted_signal)


def simulator_inputs(videos: pd.DataFrame, by: pd.DataFrame) -> pd.DataFrame:
    """The columns ``synth.simulate_videos`` draws a world's counts from (``by``: each video's author row)."""
    return pd.DataFrame({
        "video_id": videos["video_id"],
        "author_id": videos["author_id"],
        "followers": by["followers"],
        "account_created_at": by["account_created_at"],
        "create_time": pd.to_datetime(videos["create_time"], unit="s", utc=True),
        "category": videos["category"],
        "music_original": videos["music_original"],
        "duration_s": videos["duration"].astype(float),
        # the planted signal acts through the media's content only (sandbox/content.py)
        "planted_latent": videos["content_score"],
    })


def draw_captions(videos: pd.DataFrame, authors: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A phrase, two or three hashtags of the category, often a generic one, sometimes a mention, sometimes nothing."""
    rng = stream(seed, S_CAPTIONS)
    n = len(videos)
    names, owners, _ = vocab.tag_table()
    category = pd.Categorical(videos["category"], categories=vocab.CATEGORIES).codes
    phrases = np.array([vocab.CATEGORY_PHRASES[c] for c in vocab.CATEGORIES], dtype=object)
    phrase = phrases[category, rng.integers(0, phrases.shape[1], n)]
    starts = np.array([np.flatnonzero(owners == c)[0] for c in range(len(vocab.CATEGORIES))])
    sizes = np.bincount(owners[owners >= 0], minlength=len(vocab.CATEGORIES))
    first = starts[category] + rng.integers(0, 1 << 30, n) % sizes[category]
    second = starts[category] + (first - starts[category] + 1 + rng.integers(0, 1 << 30, n) % (sizes[category] - 1)) % sizes[category]
    generic = np.where(rng.random(n) < 0.6, rng.integers(0, len(vocab.GENERIC_TAGS), n), -1)
    third = np.where(rng.random(n) < 0.3, -1, second)
    tags = np.column_stack([first, third, generic])
    mention = np.where(rng.random(n) < 0.06, "@" + authors["handle"].to_numpy()[rng.integers(0, len(authors), n)] + " ", "")
    text = pd.Series(phrase) + " " + pd.Series(mention)
    for column in range(tags.shape[1]):
        present = tags[:, column] >= 0
        text = text + np.where(present, "#" + names[np.maximum(tags[:, column], 0)] + " ", "")
    caption = text.str.strip().where(rng.random(n) >= 0.08, "")
    tags = np.where((caption == "").to_numpy()[:, None], -1, tags)
    return pd.DataFrame({"caption": caption, "tag_1": tags[:, 0], "tag_2": tags[:, 1], "tag_3": tags[:, 2]})


def draw_states(n: int, seed: int) -> pd.DataFrame:
    """Which videos are private or deleted, and whose media is broken (truncated, empty, HTML, duplicate)."""
    rng = stream(seed, S_STATES)
    order = rng.permutation(n)
    visibility = np.full(n, "public", dtype=object)
    media = np.full(n, "ok", dtype=object)
    cursor = 0
    for state, (rate, least) in WORLD_STATES.items():
        count = _how_many(n, rate, least)
        visibility[order[cursor:cursor + count]] = state
        cursor += count
    for kind, (rate, least) in BROKEN_MEDIA.items():
        count = _how_many(n, rate, least)
        media[order[cursor:cursor + count]] = kind
        cursor += count
    intact = order[cursor:]
    dup_of = np.full(n, -1, dtype=np.int64)
    duplicates = np.flatnonzero(media == "duplicate")
    if len(duplicates):
        dup_of[duplicates] = intact[rng.integers(0, max(len(intact), 1), len(duplicates))] if len(intact) else -1
        media[duplicates[dup_of[duplicates] < 0]] = "ok"
    return pd.DataFrame({"visibility": visibility, "media_kind": media, "dup_of": dup_of, "faststart": rng.random(n) < 0.5})


def _how_many(n: int, rate: float, least: int) -> int:
    # tiny worlds (tests) still get each kind, but never more than a tenth of the world per kind
    return int(min(max(round(rate * n), least if n >= 20 else 0), n // 10))
