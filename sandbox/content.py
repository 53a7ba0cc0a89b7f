"""What the sandbox's videos show and sound like, and the planted signal that acts only through it.

Each video draws a content recipe (independently of its format, category, sound
and duration): a soundtrack — a music bed, a voice (Debian's ``espeak-ng``), both
mixed, or silence — and three picture properties: burned-in text (``drawtext``
with a DejaVu font), shot cuts (the picture's hue jumps every 1.2 s, so colour
histograms change at once) and fast motion (a large box sweeping the frame).
A recipe's latent score is a fixed sum of effects of those properties; with the
world's planted signal on, that score — and nothing a crawl can read from the
payload — shifts the video's engagement, so the only way to recover it is to
extract it from the media.

Pictures are encoded per (format template, picture recipe): 8 variants of each
of the 18 formats, made lazily. Soundtracks are a pool of 12 short AAC clips (4
kinds × 3 voices or tunes), encoded once and muxed into each file by stream copy.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import MissingComponent

AUDIO_KINDS = ("music", "speech", "music+speech", "silence")
VARIANTS = 3
AUDIO_SECONDS = 8
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
CUT_EVERY_S = 1.2
#: each property's share of the latent score (before centring on the mean over recipes)
#: a file without an audio stream gets the soundtracks' mean effect, so that "has audio" (in every payload) tells nothing
EFFECTS = {"music": 0.6, "speech": 0.3, "music+speech": 0.8, "silence": -0.5, "none": 0.3, "text": 0.4, "cuts": 0.5, "motion": 0.3}
PHRASES = ("WAIT FOR IT", "DAY 1 OF 30", "TRY THIS", "PART 2", "NO WAY", "BEST TIP")
SENTENCES = (
    "Hello everyone, good morning. One two three four five.",
    "Welcome back to my channel. Today I will show you something new.",
    "Let me tell you a story. This is the best day of the week.",
)
#: (base note Hz, notes per second) of each tune
TUNES = ((220.0, 4), (262.0, 3), (196.0, 5))


@dataclass(frozen=True)
class Recipe:
    """One video's content: soundtrack kind and variant, and the picture's text, cuts and motion."""

    audio: str
    variant: int
    text: bool
    cuts: bool
    motion: bool

    @property
    def picture(self) -> int:
        """The picture recipe's index (0–7): text, cuts, motion as bits."""
        return int(self.text) * 4 + int(self.cuts) * 2 + int(self.motion)

    @property
    def sound(self) -> int:
        """The soundtrack's index in the pool (0–11)."""
        return AUDIO_KINDS.index(self.audio) * VARIANTS + self.variant


#: every recipe, in a fixed order (a video stores its index)
RECIPES: tuple[Recipe, ...] = tuple(
    Recipe(audio, variant, text, cuts, motion)
    for audio, variant, text, cuts, motion in itertools.product(AUDIO_KINDS, range(VARIANTS), (False, True), (False, True), (False, True))
)


def raw_score(recipe: Recipe, has_audio: bool) -> float:
    """The sum of the recipe's effects (a file without an audio stream counts as the soundtracks' average)."""
    audio = recipe.audio if has_audio else "none"
    return EFFECTS[audio] + EFFECTS["text"] * recipe.text + EFFECTS["cuts"] * recipe.cuts + EFFECTS["motion"] * recipe.motion


#: the mean raw score over recipes with audio, so that latent scores centre on 0
CENTRE = float(np.mean([raw_score(r, True) for r in RECIPES]))


def latent_scores(recipes: np.ndarray, has_audio: np.ndarray) -> np.ndarray:
    """The planted latent score of each video from its recipe index and whether its file has sound."""
    table = np.array([[raw_score(r, False), raw_score(r, True)] for r in RECIPES]) - CENTRE
    return table[recipes, has_audio.astype(int)]


def draw_recipes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` recipe indices drawn uniformly."""
    return rng.integers(0, len(RECIPES), n)


def picture_filters(recipe_picture: int, width: int, height: int, phrase_index: int) -> str:
    """The filters appended to a format template's picture for a picture recipe ("" for the plain one)."""
    text, cuts, motion = bool(recipe_picture & 4), bool(recipe_picture & 2), bool(recipe_picture & 1)
    filters = []
    if cuts:
        # a jump of the hue every CUT_EVERY_S seconds: every colour changes at once, as at a cut
        filters.append(f"hue=H='2*PI*0.37*floor(t/{CUT_EVERY_S})':s=1.4")
    if motion:
        side = min(width, height) // 2
        filters.append(f"drawbox=x='mod(t*{width * 2}\\,{width - side})':y='mod(t*{height}\\,{height - side})':w={side}:h={side}:color=white@0.85:t=fill")
    if text:
        size = max(14, width // 11)
        phrase = PHRASES[phrase_index % len(PHRASES)]
        filters.append(f"drawtext=fontfile={FONT}:text='{phrase}':fontsize={size}:fontcolor=white:x=(w-tw)/2:y=h/4:box=1:boxcolor=black@0.75:boxborderw=6")
    return ",".join(filters)


def sound_inputs(index: int, speech_wav: Path) -> tuple[list[str], str]:
    """ffmpeg inputs and the filter graph (ending in ``[a]``) of soundtrack ``index`` of the pool."""
    kind, variant = AUDIO_KINDS[index // VARIANTS], index % VARIANTS
    note, rate = TUNES[variant]
    music = (f"aevalsrc='0.2*sin(2*PI*({note}*pow(2,floor(mod(t*{rate},4))*4/12))*t)*exp(-3*mod(t,{1 / rate:.4f}))"
             f"+0.12*sin(2*PI*{note / 2}*t)+0.08*sin(2*PI*{note * 1.5}*t)*(0.5+0.5*sin(2*PI*0.5*t))':s=22050:d={AUDIO_SECONDS}")
    voice = ["-stream_loop", "-1", "-i", str(speech_wav)]
    if kind == "music":
        return ["-f", "lavfi", "-i", music], "[0:a]anull[a]"
    if kind == "speech":
        return voice, "[0:a]aresample=22050[a]"
    if kind == "music+speech":
        return ["-f", "lavfi", "-i", music, *voice], "[0:a]volume=0.5[m];[1:a]aresample=22050[v];[m][v]amix=inputs=2:duration=first:normalize=0[a]"
    return ["-f", "lavfi", "-i", f"anullsrc=r=22050:cl=mono:d={AUDIO_SECONDS}"], "[0:a]anull[a]"


def encode_sound(index: int, out: Path) -> None:
    """Encodes soundtrack ``index`` (speech spoken by espeak-ng first) as AAC mono in an mp4."""
    _need("ffmpeg", "ffmpeg")
    wav = out.with_name(f"{out.name}.voice.wav")
    try:
        if "speech" in AUDIO_KINDS[index // VARIANTS]:
            _need("espeak-ng", "espeak-ng")
            _run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SENTENCES[index % VARIANTS]], "espeak-ng")
        inputs, graph = sound_inputs(index, wav)
        _run(["ffmpeg", "-v", "error", "-nostdin", "-y", *inputs, "-filter_complex", graph, "-map", "[a]", "-t", str(AUDIO_SECONDS),
              "-c:a", "aac", "-b:a", "32k", "-ac", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "mp4", str(out)], "ffmpeg")
    finally:
        wav.unlink(missing_ok=True)


def check_font() -> None:
    """Burned-in text needs the DejaVu font; a clear error when it is not installed."""
    if not FONT.is_file():
        raise MissingComponent(f"the sandbox burns text into its videos with {FONT}, which is missing: apt-get install fonts-dejavu-core (or ./run setup)")


def _need(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        raise MissingComponent(f"the sandbox makes its media with {tool}, which is not installed: apt-get install {package} (or ./run setup)")


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MissingComponent(f"{what} could not make a sandbox soundtrack: {done.stderr.strip()[-300:]}")
