"""The world's counts, drawn by the project's simulator (``synth``), so sandbox and catalog agree.

The two calls below are the only place the sandbox touches ``synth``: a row's
values depend only on (seed, preset, its id, its inputs), so a video keeps its
counts however large the world is built.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import synth


def author_metrics(author_ids: np.ndarray, preset: str, seed: int, reference_date: pd.Timestamp) -> pd.DataFrame:
    """``author_id, followers, following, account_created_at`` for each author id."""
    return synth.simulate_authors(pd.Series(author_ids, dtype=object), synth.get_preset(preset), seed, reference_date)


def video_metrics(
    videos: pd.DataFrame, preset: str, seed: int, reference_date: pd.Timestamp, planted_signal: bool = False
) -> pd.DataFrame:
    """``plays, likes, comments, shares, saves`` (and ``latent_score``) for each video, in the input's order.

    With ``planted_signal`` the video's category, sound and duration shift its
    engagement (synth's planted-signal mode), so content carries learnable signal.

    ``videos`` has the simulator's inputs: ``video_id, author_id, followers,
    account_created_at, create_time, category, music_original, duration_s``.
    """
    drawn = synth.simulate_videos(videos, synth.get_preset(preset), seed, reference_date, planted_signal=planted_signal)
    # the latent score (NaN without planted signal) also steers how fast a video grows (sandbox.aging)
    return drawn[["plays", "likes", "comments", "shares", "saves", "latent_score"]].reset_index(drop=True)
