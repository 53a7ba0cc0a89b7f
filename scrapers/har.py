"""``curate crawl --record-har FILE``: the session's traffic as a HAR 1.2 file, with every secret scrubbed.

Each backend hands its traffic to one :class:`HarLog`: the playwright-driven ones
(playwright, tiktokapi) through Playwright's own HAR recorder (``record_har_path``
on their browser context), selenium from Chrome's network events, ytdlp from
yt-dlp's ``urlopen``. :meth:`HarLog.write` scrubs, then writes the file under a
temporary name and renames it into place (never half a file):

- the values of request and response headers that carry credentials (``Cookie``,
  ``Set-Cookie``, ``Authorization``, ``Proxy-Authorization``, signature headers);
- every cookie value, and the query parameters that carry tokens, signatures or
  device ids (``msToken``, ``X-Bogus``, ``X-Gnarly``, ``device_id`` …);
- then every value so found, and every secret the crawl was given (token,
  cookies, proxy credentials, in their URL-encoded forms too), wherever else it
  appears — in page bodies, URLs, redirects.

Each becomes ``scrubbed``. What is left is what the site answered, which is what a
replay (``curate sandbox serve --replay FILE``) needs.
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import orjson

from scrapers.source import SourceSecrets

SCRUBBED = "scrubbed"
SECRET_HEADERS = frozenset({
    "cookie", "set-cookie", "authorization", "proxy-authorization", "x-bogus", "x-gnarly", "x-secsdk-csrf-token",
    "x-tt-params", "tt-csrf-token", "x-csrftoken", "x-argus", "x-ladon", "x-gorgon", "x-khronos",
})
SECRET_PARAMS = frozenset({
    "msToken", "X-Bogus", "X-Gnarly", "_signature", "verifyFp", "fp", "device_id", "odinId", "WebIdLastTime", "webid",
    "tt_chain_token", "s_v_web_id", "sessionid", "sid_tt", "ttwid", "user_id", "secUid_self",
})
#: scrubbed values shorter than this are not searched for elsewhere (they would hit ordinary text)
MIN_SECRET = 6
CREATOR = {"name": "viralcurate", "version": "0.1"}


class HarLog:
    """The entries of one crawl session; ``write`` scrubs them and writes the file."""

    def __init__(self, path: Path | str, secrets: SourceSecrets | None = None) -> None:
        self.path = Path(path)
        self.secrets = secrets or SourceSecrets()
        self.entries: list[dict[str, Any]] = []
        #: where the playwright-driven backends have Playwright write its own HAR (read in at the end)
        self.playwright_file = self.path.with_name(f".{self.path.name}.{os.getpid()}.playwright.har")

    def playwright_options(self) -> dict[str, Any]:
        """``new_context`` options that make Playwright record this session."""
        return {"record_har_path": str(self.playwright_file), "record_har_content": "embed"}

    def collect_playwright(self) -> None:
        """Reads the HAR Playwright wrote when its context closed (then removes it)."""
        if not self.playwright_file.is_file():
            return
        try:
            self.entries += orjson.loads(self.playwright_file.read_bytes()).get("log", {}).get("entries", [])
        finally:
            self.playwright_file.unlink(missing_ok=True)

    def add(self, method: str, url: str, request_headers: dict[str, str] | Iterable[tuple[str, str]], status: int,
            response_headers: dict[str, str] | Iterable[tuple[str, str]], body: bytes | str | None, started: datetime | None = None,
            mime: str | None = None) -> None:
        """One exchange, from a backend that sees requests itself."""
        response_headers = list(_pairs(response_headers))
        mime = mime or next((v for k, v in response_headers if k.lower() == "content-type"), "") or ""
        self.entries.append({
            "startedDateTime": (started or datetime.now(timezone.utc)).isoformat(), "time": 0,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "headers": _header_list(request_headers),
                        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
                        "headersSize": -1, "bodySize": 0},
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": _header_list(response_headers), "content": content(body, mime), "redirectURL": "",
                         "headersSize": -1, "bodySize": len(body or b"")},
            "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0},
        })

    def write(self) -> int:
        """Scrubs and writes the file (atomically); returns the number of entries."""
        self.collect_playwright()
        text = scrub(self.entries, self.secrets)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temp.write_bytes(text)
        os.replace(temp, self.path)
        return len(self.entries)


def content(body: bytes | str | None, mime: str) -> dict[str, Any]:
    """A HAR ``content`` object: text when the body decodes as UTF-8, else base64."""
    raw = body.encode() if isinstance(body, str) else (body or b"")
    try:
        return {"size": len(raw), "mimeType": mime, "text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"size": len(raw), "mimeType": mime, "text": base64.b64encode(raw).decode(), "encoding": "base64"}


def scrub(entries: list[dict[str, Any]], secrets: SourceSecrets) -> bytes:
    """The HAR document of ``entries`` with every secret replaced by ``scrubbed``, as bytes."""
    found: set[str] = set(secrets.values())
    if secrets.cookies and not Path(secrets.cookies).is_file():
        found |= {part.split("=", 1)[1].strip() for part in secrets.cookies.split(";") if "=" in part}
    for entry in entries:
        found |= _scrub_message(entry.get("request", {}), request=True)
        found |= _scrub_message(entry.get("response", {}), request=False)
    document = {"log": {"version": "1.2", "creator": CREATOR, "pages": [], "entries": entries}}
    text = orjson.dumps(document).decode()
    values = {v for v in found if len(v) >= MIN_SECRET and v != SCRUBBED}
    values |= {quote(v, safe="") for v in list(values)}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, SCRUBBED)
        escaped = orjson.dumps(value).decode()[1:-1]
        if escaped != value:
            text = text.replace(escaped, SCRUBBED)
    return text.encode()


def _scrub_message(message: dict[str, Any], request: bool) -> set[str]:
    """Scrubs one request or response in place; returns the secret values it held."""
    found: set[str] = set()
    for header in message.get("headers", []):
        name = str(header.get("name", "")).lower()
        if name in SECRET_HEADERS:
            found |= _header_secrets(name, str(header.get("value", "")))
            header["value"] = _scrubbed_header(name, str(header.get("value", "")))
    for cookie in message.get("cookies", []):
        found.add(str(cookie.get("value", "")))
        cookie["value"] = SCRUBBED
    if request:
        for param in message.get("queryString", []):
            if param.get("name") in SECRET_PARAMS:
                found.add(str(param.get("value", "")))
                param["value"] = SCRUBBED
        message["url"], more = _scrub_url(str(message.get("url", "")))
        found |= more
    return found


def _header_secrets(name: str, value: str) -> set[str]:
    if name == "cookie":
        return {part.split("=", 1)[1].strip() for part in value.split(";") if "=" in part}
    if name == "set-cookie":
        return {line.split(";", 1)[0].split("=", 1)[1].strip() for line in value.splitlines() if "=" in line.split(";", 1)[0]}
    if name in ("authorization", "proxy-authorization"):
        return {value, *value.split(" ", 1)[1:]}
    return {value}


def _scrubbed_header(name: str, value: str) -> str:
    if name == "cookie":
        return "; ".join(f"{part.split('=', 1)[0].strip()}={SCRUBBED}" for part in value.split(";") if "=" in part)
    if name == "set-cookie":
        return "\n".join(re.sub(r"^([^=;]+)=[^;]*", rf"\1={SCRUBBED}", line) for line in value.splitlines())
    return SCRUBBED


def _scrub_url(url: str) -> tuple[str, set[str]]:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    found = {v for k, v in pairs if k in SECRET_PARAMS}
    if not found:
        return url, set()
    query = urlencode([(k, SCRUBBED if k in SECRET_PARAMS else v) for k, v in pairs])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment)), found


def _pairs(headers: dict[str, str] | Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, dict) else headers


def _header_list(headers: dict[str, str] | Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": str(k), "value": str(v)} for k, v in _pairs(headers)]


def record_ytdlp(ydl: Any, har: HarLog) -> None:
    """Makes ``ydl.urlopen`` add each exchange (error answers too) to ``har``."""
    from yt_dlp.networking import Response
    from yt_dlp.networking.exceptions import HTTPError

    urlopen = ydl.urlopen

    def recording(request: Any) -> Any:
        url = request if isinstance(request, str) else request.url
        method = "GET" if isinstance(request, str) else request.method
        headers = {} if isinstance(request, str) else dict(request.headers)
        started = datetime.now(timezone.utc)
        try:
            response = urlopen(request)
        except HTTPError as exc:
            body = _read_quietly(exc.response)
            har.add(method, url, headers, exc.status, dict(exc.response.headers), body, started)
            raise
        body = response.read()
        har.add(method, url, headers, response.status, dict(response.headers), body, started)
        return Response(io.BytesIO(body), response.url, response.headers, response.status, response.reason, response.extensions)

    ydl.urlopen = recording


def _read_quietly(response: Any) -> bytes:
    try:
        return response.read()
    except Exception:  # noqa: BLE001 - an error answer whose body is gone: record it without one
        return b""


class CdpRecorder:
    """Builds HAR entries from Chrome's network events (selenium's performance log); bodies fetched on finish."""

    def __init__(self, har: HarLog, fetch_body: Any) -> None:
        self.har, self.fetch_body = har, fetch_body
        self._open: dict[str, dict[str, Any]] = {}

    def event(self, message: dict[str, Any]) -> None:
        """Takes one ``Network.*`` event."""
        method, params = message.get("method"), message.get("params", {})
        rid = params.get("requestId")
        if rid is None or not str(method).startswith("Network."):
            return
        seen = self._open.setdefault(rid, {})
        if method == "Network.requestWillBeSent":
            seen["request"] = params.get("request", {})
        elif method == "Network.responseReceived":
            seen["response"] = params.get("response", {})
        elif method in ("Network.requestWillBeSentExtraInfo", "Network.responseReceivedExtraInfo"):
            # the headers as sent and received on the wire: cookies are only in these
            seen["request_wire" if method == "Network.requestWillBeSentExtraInfo" else "response_wire"] = params.get("headers", {})
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self._finish(rid, self._open.pop(rid), failed=method == "Network.loadingFailed")

    def _finish(self, rid: str, seen: dict[str, Any], failed: bool) -> None:
        request, response = seen.get("request"), seen.get("response")
        if not request or request.get("url", "").startswith("data:"):
            return
        body = b""
        if response and not failed:
            try:
                got = self.fetch_body(rid)
                body = base64.b64decode(got["body"]) if got.get("base64Encoded") else got.get("body", "").encode()
            except Exception:  # noqa: BLE001 - a body Chrome no longer holds: the entry keeps its status and headers
                body = b""
        status = int(response.get("status", 0)) if response else 0
        sent = {**request.get("headers", {}), **seen.get("request_wire", {})}
        received = {**(response or {}).get("headers", {}), **seen.get("response_wire", {})}
        self.har.add(request.get("method", "GET"), request["url"], sent, status, received, body, mime=(response or {}).get("mimeType"))
