"""``curate doctor --live``: one feed call and one related call per backend, and what the answers say.

Each call ends as one :class:`LiveResult`:

- ``ok`` — videos came back and the parser found every field it expects in them;
- ``blocked (why)`` — a captcha, an empty body, a page without data, a 403 or 429,
  a feed withheld or answered with no videos: the site refuses this session;
- ``drift (fields)`` — videos came back but fields the parser expects are missing
  from every one of them, or records were rejected: the site changed its shapes;
- ``unreachable``, ``failed (why)`` (a transient error: try again) or
  ``unavailable`` (the backend's browser or library cannot start).

The backends are built by a factory the caller passes (the command line's own
``build_source``), so this module neither picks backends nor imports typer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: videos asked of each call (what a crawl asks)
FEED_COUNT = 30
RELATED_COUNT = 16
#: records a real list carries and the crawl skips by design (ads, photo posts without a video): never drift
BY_DESIGN = frozenset({"ad", "photo_post"})


@dataclass(frozen=True)
class LiveResult:
    """How one live call of one backend ended."""

    source: str
    call: str
    status: str
    detail: str

    @property
    def line(self) -> str:
        """``live SOURCE CALL: status (detail)``."""
        return f"live {self.source} {self.call}: {self.status} ({self.detail})"

    @property
    def ok(self) -> bool:
        """True for ``ok``."""
        return self.status == "ok"


def live_checks(names: Iterable[str], factory: Callable[[str], Any], redact: Callable[[str], str] = str) -> Iterator[LiveResult]:
    """For each backend: start it, ask the feed once and the related list of the feed's first video once."""
    from scrapers.source import BackendUnavailable

    for name in names:
        try:
            with factory(name) as source:
                yield from _backend(name, source, redact)
        except BackendUnavailable as exc:
            yield LiveResult(name, "start", "unavailable", redact(str(exc)))


def _backend(name: str, source: Any, redact: Callable[[str], str]) -> Iterator[LiveResult]:
    feed, result = _ask(name, "feed", lambda: source.feed(FEED_COUNT), redact)
    yield result
    if feed is None or not feed.items:
        yield LiveResult(name, "related", "not tried", "the feed gave no video to ask about")
        return
    video_id = feed.items[0].video.id
    _, related = _ask(name, f"related of {video_id}", lambda: source.related(video_id, RELATED_COUNT), redact)
    yield related


def _ask(name: str, call: str, ask: Callable[[], Any], redact: Callable[[str], str]) -> tuple[Any, LiveResult]:
    """Runs one call; its page (or None) and how it ended."""
    from scrapers import source as answers
    from scrapers.source import Blocked, RateLimited, Skip, SourceError, TransientError, Unreachable, Withheld

    # a 200-level refusal the engine retries before it calls it a block (an empty body, statusCode 0 without a
    # list), where the sources tell it apart: for one call, as here, it is a block
    soft = tuple(c for c in (getattr(answers, "SoftBlocked", None),) if c is not None)
    try:
        page = ask()
    except (Blocked, Withheld, *soft) as exc:
        return None, LiveResult(name, call, "blocked", f"{exc.reason}: {redact(str(exc))}")
    except RateLimited as exc:
        after = f"; Retry-After {exc.retry_after:g} s" if exc.retry_after is not None else ""
        return None, LiveResult(name, call, "blocked", f"rate limited{after}: {redact(str(exc))}")
    except Unreachable as exc:
        return None, LiveResult(name, call, "unreachable", redact(str(exc)))
    except TransientError as exc:
        return None, LiveResult(name, call, "failed", f"{exc.reason}, try again: {redact(str(exc))}")
    except (Skip, SourceError) as exc:
        return None, LiveResult(name, call, "failed", f"{exc.reason}: {redact(str(exc))}")
    return page, judge(name, call, page)


def judge(name: str, call: str, page: Any) -> LiveResult:
    """``ok``, ``drift`` or ``blocked`` for a page that came back without an error."""
    rejected, by_design = _rejected(page, drift=True), _rejected(page, drift=False)
    if not page.items:
        if rejected:
            return LiveResult(name, call, "drift", f"every record was rejected by the parser ({rejected})")
        return LiveResult(name, call, "blocked", "the answer holds no videos (a soft block: the site answers a session it "
                          "distrusts with an empty list)")
    missing = sorted(set.intersection(*(set(item.missing) for item in page.items)))
    if missing or rejected:
        said = [f"expected and not found in any of {len(page.items)} videos: {', '.join(missing)}"] if missing else []
        said += [f"records rejected: {rejected}"] if rejected else []
        return LiveResult(name, call, "drift", "; ".join(said))
    also = f"; skipped by design: {by_design}" if by_design else ""
    return LiveResult(name, call, "ok", f"{len(page.items)} videos, every expected field present{also}")


def _rejected(page: Any, drift: bool) -> str:
    """The parser's rejections, counted by reason: those that mean drift, or those made by design."""
    counts: dict[str, int] = {}
    for reason in page.skipped:
        if (reason in BY_DESIGN) != drift:
            counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{reason} ×{n}" for reason, n in sorted(counts.items()))
