"""How a session of a run ends: one ladder from what stopped it to the status and reason the run records,
shared by the crawl, the creators run and the Research API query."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from scrapers.source import Blocked, SoftBlocked, SourceError, TransientError

INTERRUPTED = "interrupted by the user"


@dataclass
class Outcome:
    """The status and reason a session ends with (``failed`` until the session says otherwise)."""

    status: str = "failed"
    reason: str = "unexpected error"


@contextlib.contextmanager
def session_outcome(attempts: int, stop_requested: Callable[[], bool], record: Callable[[Outcome], None]) -> Iterator[Outcome]:
    """Yields the :class:`Outcome` the session fills in; whatever stops it instead becomes one, and ``record``
    is called with it on every path.

    A block (a soft block that outlasted its retries too: never "failed", never "finished") ends it
    ``blocked``; retries given up or another source error, ``failed``; Ctrl-C, ``interrupted`` (and goes on
    up); any other error, ``failed`` with its name (and goes on up). A stop the user asked for reads as
    ``interrupted`` whatever cut the step short: a Ctrl-C also reaches the browser."""
    end = Outcome()
    try:
        yield end
    except (Blocked, SoftBlocked) as exc:
        end.status, end.reason = "blocked", str(exc)
    except TransientError as exc:
        end.status, end.reason = "failed", f"gave up after {attempts} attempts: {exc}"
    except SourceError as exc:
        end.status, end.reason = "failed", str(exc)
    except KeyboardInterrupt:
        end.status, end.reason = "interrupted", INTERRUPTED
        raise
    except Exception as exc:
        end.status, end.reason = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if stop_requested() and end.status != "interrupted":
            end.status, end.reason = "interrupted", INTERRUPTED
        record(end)
