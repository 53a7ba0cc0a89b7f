"""One download, in a worker process: yt-dlp fetches the file, the checks decide, the rename stores it.

A job is fetched by yt-dlp into the worker's scratch folder: on the real site its
page, read by yt-dlp's TikTok extractor (fresh media links and the cookies they
need); anywhere else its media URL, handed to yt-dlp already resolved, so that its
downloader fetches it in one request (the generic extractor would first GET the
URL once only to learn that it is a video). The file is checked
(:func:`scrapers.media.check_media`) and only then renamed into
``media/<video_id>.<ext>``: ``media/`` never holds a partial or bogus file. Any
failure becomes the outcome's reason. This module imports no database code, so a
worker process starts quickly.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.media_root import stored_name
from core.records import is_valid_video_id
from db.download_jobs import DownloadJob, DownloadOutcome
from scrapers.media import MediaRejected, check_media

#: scratch folder inside media/ (same filesystem, so the final rename is atomic)
SCRATCH = ".partial"


@dataclass(frozen=True)
class DownloadOptions:
    """How to download: concurrency, limits, retries of failures, network settings."""

    workers: int = 4
    #: where the downloads run: local processes or a Ray cluster (core.distribute)
    engine: str = "local"
    ray_address: str | None = None
    #: videos per shard (one process call or Ray task); None: 1 locally, 4 on Ray
    shard_size: int | None = None
    limit: int | None = None
    retry_failed: bool = False
    proxy: str | None = None
    #: a Cookie header value or a path to a Netscape cookies.txt
    cookies: str | None = None
    timeout: float = 30.0
    #: a PEM file of CAs to trust besides the system's (a TLS-intercepting proxy)
    ca_cert: str | None = None


class MediaDownloader:
    """Fetches one job at a time with yt-dlp and checks the file before storing it: the download worker.

    A picklable callable (``downloader(job) -> outcome``): the distributor sends it to
    each worker process or Ray task, where it builds its yt-dlp instance on first use
    and works in a scratch folder named after its own host and process.
    """

    def __init__(self, media_root: Path, options: DownloadOptions) -> None:
        self.media_dir, self.options = media_root, options
        self._ytdl: Any = None
        self._pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"media_dir": self.media_dir, "options": self.options, "_ytdl": None, "_pid": None}

    @property
    def _scratch(self) -> Path:
        return self.media_dir / SCRATCH / f"{socket.gethostname()}-{os.getpid()}"

    def _ydl(self) -> Any:
        if self._ytdl is None or self._pid != os.getpid():
            self._ytdl, self._pid = _new_ytdl(self._scratch, self.options), os.getpid()
        return self._ytdl

    def __call__(self, job: DownloadJob) -> DownloadOutcome:
        """The worker's entry point: :meth:`fetch`."""
        return self.fetch(job)

    def fetch(self, job: DownloadJob) -> DownloadOutcome:
        """Downloads, checks and stores one video; any failure becomes the outcome's reason."""
        if not is_valid_video_id(job.video_id):
            return DownloadOutcome(job.video_id, error="bad_id: not a platform id")
        present = self._present(job.video_id)
        if present is not None:
            return present
        if not (job.url or job.media_url):
            return DownloadOutcome(job.video_id, error="no_url: the catalog has no page or media URL")
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch.mkdir(parents=True)
        try:
            return self._store(job.video_id, self._download(job))
        except MediaRejected as exc:
            return DownloadOutcome(job.video_id, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a failed sample is a row with a reason, never a dead run
            return DownloadOutcome(job.video_id, error=_reason(exc))
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _download(self, job: DownloadJob) -> Path:
        ydl = self._ydl()
        if job.url and not job.base_url and _is_real_site(job.url):
            # the real site: the page, read by yt-dlp's TikTok extractor (fresh media links, cookies)
            ydl.extract_info(job.url, download=True, ie_key="TikTok")
        else:
            # a media URL is already resolved: yt-dlp's HTTP downloader fetches it in one request (its generic
            # extractor would first GET the URL once only to find out that it is a video)
            url = job.media_url or job.url
            ext = _extension(url)
            info = {"id": job.video_id, "url": url, "ext": ext, "http_headers": dict(ydl.params["http_headers"])}
            ydl.dl(str(self._scratch / f"media.{ext}"), info)
        files = [p for p in self._scratch.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
        if not files:
            raise MediaRejected("no_file", "yt-dlp wrote nothing")
        return files[0]

    def _store(self, video_id: str, path: Path) -> DownloadOutcome:
        facts = check_media(path)
        final = self.media_dir / f"{video_id}.{facts.ext}"
        os.replace(path, final)
        return DownloadOutcome(video_id, stored_name(self.media_dir, final), facts.sha256, facts.size)

    def _present(self, video_id: str) -> DownloadOutcome | None:
        """A file already in media/ (a run that stored it but died before recording it)."""
        for path in self.media_dir.glob(f"{video_id}.*"):
            try:
                facts = check_media(path)
            except MediaRejected:
                path.unlink(missing_ok=True)
                continue
            return DownloadOutcome(video_id, stored_name(self.media_dir, path), facts.sha256, facts.size, already_present=True)
        return None


def _is_real_site(url: str) -> bool:
    return (urlsplit(url).hostname or "").endswith("tiktok.com")


def _extension(url: str) -> str:
    """The URL's file extension when it names a video container, else mp4 (the check finds the real one)."""
    ext = Path(urlsplit(url).path).suffix.lstrip(".").lower()
    return ext if ext in ("mp4", "webm", "mkv", "mov") else "mp4"


def _new_ytdl(scratch: Path, options: DownloadOptions) -> Any:
    from scrapers.trust import new_youtubedl

    params: dict[str, Any] = {
        "quiet": True, "no_warnings": True, "noprogress": True, "noplaylist": True, "overwrites": True,
        "cachedir": False, "socket_timeout": options.timeout, "retries": 2, "logger": _SilentLogger(),
        "outtmpl": {"default": str(scratch / "media.%(ext)s")},
    }
    if options.proxy:
        params["proxy"] = options.proxy
    if options.cookies and Path(options.cookies).is_file():
        params["cookiefile"] = options.cookies
    ydl = new_youtubedl(params, options.ca_cert)
    if options.cookies and not Path(options.cookies).is_file():
        # yt-dlp drops unscoped Cookie headers (GHSA-v8mc-9377-rwjj): give them the site's domain
        for part in options.cookies.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                ydl.cookiejar.set_cookie(_cookie(name, value, ".tiktok.com"))
    return ydl


def _cookie(name: str, value: str, domain: str) -> Any:
    from http.cookiejar import Cookie

    return Cookie(0, name, value, None, False, domain, True, True, "/", True, True, None, False, None, None, {})


class _SilentLogger:
    """yt-dlp's messages go nowhere: errors come back as exceptions, with URLs that may carry tokens."""

    def debug(self, msg: str) -> None:  # noqa: D102
        pass

    info = warning = error = debug


_HTTP = re.compile(r"HTTP Error (\d{3})")


def _reason(exc: Exception) -> str:
    """A short reason for a failed download (``http_404``, ``truncated``, ``unsupported`` …)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).replace("ERROR: ", "")
    if m := _HTTP.search(text):
        return f"http_{m.group(1)}: {text[:160]}"
    lowered = text.lower()
    for needle, reason in (
        ("unsupported url", "unsupported"), ("more expected", "truncated"), ("did not get any data", "empty_file"),
        ("timed out", "timeout"), ("connection", "connection"), ("private", "private"), ("not available", "unavailable"),
        # yt-dlp's TikTok extractor's words for statusCode 10216/10222 and 10204 (the real-site path)
        ("permission to view", "private"), ("ip address is blocked", "withheld"),
    ):
        if needle in lowered:
            return f"{reason}: {text[:160]}"
    return f"download_error: {text[:160]}"
