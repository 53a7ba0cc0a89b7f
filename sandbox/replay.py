"""``curate sandbox serve --replay FILE``: answer from a HAR recording, so a user's failure becomes a test here.

A crawl recorded with ``curate crawl --record-har FILE`` — on the real site, where a
block or a changed shape was met — is served back on loopback: each request is
matched by its method, path and the query parameters that name what is asked
(:func:`sandbox.faults.request_key`: not tokens, signatures or device ids, which
the recording scrubbed anyway), and gets the recorded answers for that key in
their recorded order; asked more often than recorded, the last answer repeats.
A recorded failed request (status 0: the connection broke) is answered by closing
the connection. A request the recording does not hold gets a 404 whose body says
so, and is counted in ``stats["unmatched"]``: a replay never invents an answer.

    with serve_replay("crawl.har") as site:
        curate crawl --base-url site.base_url --source SAME_BACKEND …
"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from core.errors import ConfigError
from sandbox.faults import request_key
from sandbox.routes import Reply, Request
from sandbox.server import Served, SiteServer as _Server

#: response headers a replay does not repeat (the server sets its own, or they describe the recorded transfer)
DROPPED_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date",
                             "server", "access-control-allow-origin", "content-type", ":status"})


class Recording:
    """A HAR file's answers, by ``METHOD key``, in recorded order."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self._answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in entries:
            request = entry.get("request", {})
            parts = urlsplit(str(request.get("url", "")))
            self._answers[key_of(str(request.get("method", "GET")), parts.path, dict(parse_qsl(parts.query)))].append(entry["response"])
        self._asked: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str) -> Recording:
        """The recording in a HAR file; ConfigError when it is missing or not a HAR."""
        try:
            entries = orjson.loads(Path(path).read_bytes())["log"]["entries"]
        except FileNotFoundError:
            raise ConfigError(f"--replay {path}: no such file") from None
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ConfigError(f"--replay {path}: not a HAR file (expected {{\"log\": {{\"entries\": […]}}}})") from None
        if not isinstance(entries, list) or not all(isinstance(e, dict) and "response" in e for e in entries):
            raise ConfigError(f"--replay {path}: its entries have no responses")
        return cls(entries)

    def __len__(self) -> int:
        return sum(len(v) for v in self._answers.values())

    def next_answer(self, key: str) -> dict[str, Any] | None:
        """The recorded response for the next asking of ``key`` (the last one again once all were given)."""
        answers = self._answers.get(key)
        if not answers:
            return None
        with self._lock:
            n = self._asked[key]
            self._asked[key] += 1
        return answers[min(n, len(answers) - 1)]


def key_of(method: str, path: str, query: dict[str, str]) -> str:
    """``METHOD path?named=params``: what a request asks, whatever its tokens."""
    return f"{method.upper()} {request_key(path.rstrip('/') or '/', query)}"


def reply_of(response: dict[str, Any]) -> Reply | None:
    """The recorded response as a Reply (None: the recorded request failed, close the connection)."""
    status = int(response.get("status") or 0)
    if status <= 0:
        return None
    content = response.get("content") or {}
    text = content.get("text") or ""
    body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()
    headers = {h["name"]: h["value"] for h in response.get("headers", []) if str(h.get("name", "")).lower() not in DROPPED_HEADERS}
    return Reply(status, body, content.get("mimeType") or "application/octet-stream", headers)


class ReplaySite(Served):
    """A loopback server answering from a :class:`Recording` (it stands where a :class:`sandbox.Site` would)."""

    thread_name = "sandbox-replay"

    def __init__(self, recording: Recording, host: str = "127.0.0.1", port: int = 0) -> None:
        self.recording = recording
        self._lock = threading.Lock()
        self._stats: dict[str, Any] = {"requests": 0, "answered": 0, "statuses": Counter(), "unmatched": [], "unmatched_total": 0}
        self._server = _Server((host, port), self)
        self.host, self.port = self._server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"

    @property
    def stats(self) -> dict[str, Any]:
        """``{requests, answered, statuses, unmatched, unmatched_total}`` (unmatched: the last 20 keys not recorded)."""
        with self._lock:
            return {**self._stats, "statuses": dict(self._stats["statuses"]), "unmatched": list(self._stats["unmatched"])}

    def answer(self, handler: Any, request: Request) -> None:
        """Answers one request from the recording."""
        if request.path.rstrip("/") == "/__sandbox/stats":
            return handler.send(Reply(body=orjson.dumps(self.stats)), counted=False)
        key = key_of(request.method, request.path, request.query)
        with self._lock:
            self._stats["requests"] += 1
        response = self.recording.next_answer(key)
        if response is None:
            with self._lock:
                self._stats["unmatched"] = [*self._stats["unmatched"][-19:], key]
                self._stats["unmatched_total"] += 1
            return handler.send(Reply(404, orjson.dumps({"replay": f"no recorded answer for {key}"})))
        reply = reply_of(response)
        if reply is None:
            return handler.drop()
        handler.send(reply)

    def count_answer(self, status: int, size: int) -> None:
        """Counts one response (the handler calls it)."""
        with self._lock:
            self._stats["answered"] += 1
            self._stats["statuses"][str(status)] += 1

@contextlib.contextmanager
def serve_replay(path: Path | str, host: str = "127.0.0.1", port: int = 0) -> Iterator[ReplaySite]:
    """Serves the recording in ``path`` for the ``with`` block."""
    site = ReplaySite(Recording.load(path), host, port).start()
    try:
        yield site
    finally:
        site.close()
