"""The world's media files: a pool of small ffmpeg templates, remuxed into one file per video.

Encoding a clip per video would take minutes for a thousand videos, so a fixed
pool of short templates (varied fps, size, with and without audio) is encoded
once with ffmpeg and cached; each video's file is then a stream copy with PyAV —
the template looped or cut to the video's duration, its id written in the
metadata — made on first request and cached too. The broken kinds are made
from the intact file (cut short), or are an empty file or an HTML error page.
Every file is written to a temporary name and renamed, so readers never see half
a file, and two processes sharing the cache dir only ever duplicate work.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from core.errors import MissingComponent
from sandbox import content

#: bump when the same spec would give different bytes (the cache folders carry it)
MEDIA_VERSION = 2
DEFAULT_CACHE_DIR = Path("~/.cache/viralcurate/sandbox")
#: what a broken file is: intact bytes cut short, nothing, or a CDN error page served as video
MEDIA_KINDS = ("ok", "truncated", "empty", "html", "duplicate")
TRUNCATE_AT = 0.55


@dataclass(frozen=True)
class Template:
    """One pre-encoded clip: its picture source, frame rate, size, audio, length and draw weight."""

    name: str
    source: str
    fps: int
    width: int
    height: int
    audio_hz: int | None
    seconds: int
    weight: float

    def ffmpeg_args(self, out: Path, picture_recipe: int | None = None) -> list[str]:
        """The ffmpeg command that encodes this template (no B-frames, so any frame can end a cut).

        With a ``picture_recipe`` (:mod:`sandbox.content`) the picture gains its text, cuts and
        motion and the file has no sound: the video's soundtrack is muxed in from the pool.
        """
        box = ("drawbox=x='mod(t*70\\,iw-40)':y='mod(t*110\\,ih-40)':w=40:h=40:color=yellow@0.9:t=fill")
        sep = ":" if "=" in self.source else "="
        picture = f"{self.source}{sep}size={self.width}x{self.height}:rate={self.fps}"
        if not self.source.startswith("testsrc"):
            picture += f",{box}"
        if picture_recipe:
            picture += "," + content.picture_filters(picture_recipe, self.width, self.height, TEMPLATES.index(self))
        args = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", picture]
        if self.audio_hz and picture_recipe is None:
            tone = f"aevalsrc=0.3*sin(2*PI*{self.audio_hz}*t)*(0.6+0.4*sin(2*PI*2*t)):s=22050"
            args += ["-f", "lavfi", "-i", tone]
        args += ["-t", str(self.seconds), "-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-crf", "34",
                 "-bf", "0", "-g", str(2 * self.fps), "-threads", "1", "-pix_fmt", "yuv420p"]
        if self.audio_hz and picture_recipe is None:
            args += ["-map", "1:a", "-c:a", "aac", "-b:a", "32k", "-ac", "1", "-shortest"]
        return args + ["-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "mp4", str(out)]

    def key(self, picture_recipe: int | None = None) -> str:
        """A short digest of the encode command: a changed template is a new cache file."""
        return hashlib.sha256(" ".join(self.ffmpeg_args(Path("x"), picture_recipe)).encode()).hexdigest()[:12]


def _t(name, source, fps, size, audio_hz, seconds, weight) -> Template:
    width, height = (int(v) for v in size.split("x"))
    return Template(name, source, fps, width, height, audio_hz, seconds, weight)


#: frame rates from 1 to 60, portrait / landscape / square, about a sixth without audio
TEMPLATES: tuple[Template, ...] = (
    _t("t30a", "testsrc", 30, "240x426", 523, 10, .14),
    _t("b30a", "smptebars", 30, "240x426", 440, 8, .10),
    _t("y30a", "yuvtestsrc", 30, "240x426", 392, 12, .10),
    _t("c30n", "color=c=0x2a4d8f", 30, "240x426", None, 10, .06),
    _t("r30a", "rgbtestsrc", 30, "320x568", 349, 8, .07),
    _t("t25a", "testsrc2", 25, "240x426", 587, 6, .08),
    _t("p25n", "pal75bars", 25, "426x240", None, 10, .05),
    _t("y24a", "yuvtestsrc", 24, "240x426", 659, 10, .07),
    _t("c24a", "color=c=0x8f2a3d", 24, "240x240", 698, 8, .04),
    _t("h60a", "smptehdbars", 60, "240x426", 784, 6, .05),
    _t("t60n", "testsrc", 60, "320x568", None, 6, .03),
    _t("b15a", "smptebars", 15, "240x426", 880, 10, .05),
    _t("c12a", "color=c=0x2a8f55", 12, "240x426", 494, 10, .04),
    _t("r50a", "rgbtestsrc", 50, "426x240", 330, 6, .03),
    _t("t10n", "testsrc", 10, "240x426", None, 10, .03),
    _t("b8a", "smptebars", 8, "240x426", 415, 10, .02),
    _t("c5a", "color=c=0x6a2a8f", 5, "240x240", 466, 10, .02),
    _t("t1a", "testsrc", 1, "240x426", 554, 10, .02),
)


@dataclass(frozen=True)
class MediaSpec:
    """What one video's file must be: the template, the duration, the kind of (in)validity."""

    video_id: str
    template: int
    seconds: int
    kind: str = "ok"
    #: for truncated files: whether the index sits before the data (opens, then fails) or after (won't open)
    faststart: bool = True
    #: the content recipe (an index into ``content.RECIPES``); None keeps the bare template and its tone
    recipe: int | None = None


def error_page(video_id: str) -> bytes:
    """The HTML a CDN answers instead of the video (served as ``video/mp4``)."""
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Access Denied</title></head><body>"
        "<h1>Access Denied</h1><p>You don't have permission to access this resource on this server.</p>"
        f"<p>Reference #18.{int(video_id) % 10**8:08d}</p></body></html>\n"
    ).encode()


class MediaStore:
    """Makes and caches template and per-video files under ``cache_dir``; safe across threads and processes."""

    def __init__(self, cache_dir: Path | str | None = None) -> None:
        self.cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser()
        self._guard = threading.Lock()
        self._locks: dict[Path, threading.Lock] = defaultdict(threading.Lock)

    def template_path(self, index: int) -> Path:
        """The encoded template ``TEMPLATES[index]``, encoding it with ffmpeg on first use."""
        template = TEMPLATES[index]
        path = self.cache_dir / "templates" / f"v{MEDIA_VERSION}" / f"{template.name}-{template.key()}.mp4"
        return self._ensure(path, lambda tmp: _encode(template, tmp))

    def picture_path(self, index: int, picture_recipe: int) -> Path:
        """Template ``index`` with a picture recipe's text, cuts and motion, without sound (encoded on first use)."""
        template = TEMPLATES[index]
        key = template.key(picture_recipe)
        path = self.cache_dir / "templates" / f"v{MEDIA_VERSION}" / f"{template.name}-p{picture_recipe}-{key}.mp4"
        return self._ensure(path, lambda tmp: _encode(template, tmp, picture_recipe))

    def sound_path(self, index: int) -> Path:
        """Soundtrack ``index`` of the content pool (encoded on first use)."""
        path = self.cache_dir / "sounds" / f"v{MEDIA_VERSION}" / f"sound-{index:02d}.mp4"
        return self._ensure(path, lambda tmp: content.encode_sound(index, tmp))

    def path(self, spec: MediaSpec) -> Path:
        """The file to serve for ``spec``, made on first use."""
        stem = f"{spec.video_id}-{self._content_key(spec)}-{spec.seconds}s"
        folder = self.cache_dir / "media" / f"v{MEDIA_VERSION}" / spec.video_id[-2:]
        if spec.kind == "empty":
            return self._ensure(folder / f"{spec.video_id}.empty.mp4", lambda tmp: tmp.write_bytes(b""))
        if spec.kind == "html":
            return self._ensure(folder / f"{spec.video_id}.html.mp4", lambda tmp: tmp.write_bytes(error_page(spec.video_id)))
        if spec.kind == "truncated":
            layout = "fs" if spec.faststart else "tail"
            whole = self._ensure(folder / f"{stem}.{layout}.full.mp4", lambda tmp: self._remux(spec, tmp, spec.faststart))
            return self._ensure(folder / f"{stem}.{layout}.truncated.mp4", lambda tmp: _cut(whole, tmp, TRUNCATE_AT))
        return self._ensure(folder / f"{stem}.mp4", lambda tmp: self._remux(spec, tmp, True))

    def _content_key(self, spec: MediaSpec) -> str:
        template = TEMPLATES[spec.template]
        if spec.recipe is None:
            return template.key()
        recipe = content.RECIPES[spec.recipe]
        return f"{template.key(recipe.picture)}-r{spec.recipe}"

    def _remux(self, spec: MediaSpec, out: Path, faststart: bool) -> None:
        template = TEMPLATES[spec.template]
        if spec.recipe is None:
            remux(self.template_path(spec.template), out, spec.video_id, spec.seconds, template.seconds, faststart)
            return
        recipe = content.RECIPES[spec.recipe]
        sources = [(self.picture_path(spec.template, recipe.picture), template.seconds)]
        if template.audio_hz:
            sources.append((self.sound_path(recipe.sound), content.AUDIO_SECONDS))
        remux_sources(sources, out, spec.video_id, spec.seconds, faststart)

    def _ensure(self, path: Path, make) -> Path:
        if path.exists():
            return path
        with self._guard:
            lock = self._locks[path]
        with lock:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                try:
                    make(tmp)
                    os.replace(tmp, path)
                finally:
                    tmp.unlink(missing_ok=True)
        return path


def _encode(template: Template, out: Path, picture_recipe: int | None = None) -> None:
    if shutil.which("ffmpeg") is None:
        raise MissingComponent("the sandbox makes its videos with ffmpeg, which is not installed: apt-get install ffmpeg (or ./run setup)")
    if picture_recipe and picture_recipe & 4:
        content.check_font()
    done = subprocess.run(template.ffmpeg_args(out, picture_recipe), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MissingComponent(f"ffmpeg could not encode the sandbox template {template.name}: {done.stderr.strip()[-300:]}")


def _cut(source: Path, out: Path, fraction: float) -> None:
    data = source.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])


def remux(template: Path, out: Path, video_id: str, seconds: int, loop_s: int, faststart: bool = True) -> None:
    """Writes ``seconds`` of ``template`` (looped as needed) to ``out`` by stream copy, tagged with the id."""
    import av

    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(out), "w", format="mp4", options=options) as dst:
        dst.metadata["comment"] = f"viralcurate sandbox video {video_id}"
        streams: dict[int, object] = {}
        for loop in range(-(-seconds // loop_s)):
            with av.open(str(template)) as src:
                if not streams:
                    streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
                _copy_loop(src, dst, streams, loop * loop_s, seconds)


def remux_sources(sources: list[tuple[Path, int]], out: Path, video_id: str, seconds: int, faststart: bool = True) -> None:
    """Writes ``seconds`` of each source's streams (each looped on its own length) into one file, by stream copy."""
    import av

    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(out), "w", format="mp4", options=options) as dst:
        dst.metadata["comment"] = f"viralcurate sandbox video {video_id}"
        maps = []
        for source, _ in sources:  # every stream is declared before the first packet is written
            with av.open(str(source)) as src:
                maps.append({s.index: dst.add_stream_from_template(s) for s in src.streams})
        for (source, loop_s), streams in zip(sources, maps, strict=True):
            for loop in range(-(-seconds // loop_s)):
                with av.open(str(source)) as src:
                    _copy_loop(src, dst, streams, loop * loop_s, seconds)


def _copy_loop(src, dst, streams: dict, offset_s: int, end_s: int) -> None:
    # packets before 0 are the encoder's priming: kept out so that looped timestamps stay increasing
    for packet in src.demux():
        if packet.pts is None or packet.pts < 0:
            continue
        shift = int(offset_s / packet.time_base)
        if Fraction(packet.pts + shift) * packet.time_base >= end_s:
            continue
        packet.pts += shift
        packet.dts = (packet.dts if packet.dts is not None else packet.pts - shift) + shift
        packet.stream = streams[packet.stream.index]
        dst.mux(packet)
