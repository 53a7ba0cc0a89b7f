"""Waiting for an event in tests: each wait is woken by the event itself (a notified condition, a file
written), never by a timer, and fails with what it waited for when the event does not come."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Watched:
    """A condition that the code under watch notifies when something changes; tests wait on it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()

    def notify(self) -> None:
        """Something changed: wake every waiter so it re-checks its predicate."""
        with self._condition:
            self._condition.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> None:
        """Returns once ``predicate()`` holds; AssertionError after ``timeout`` seconds without it."""
        with self._condition:
            if not self._condition.wait_for(predicate, timeout):
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def wait_for_writes(folder: Path, predicate: Callable[[], Any], timeout: float, what: str,
                    gone: Callable[[], bool] = lambda: False) -> None:
    """Returns once ``predicate()`` holds, re-checking it each time a file under ``folder`` is written
    (inotify, through watchfiles): how a test sees another process commit to a SQLite catalog.

    ``gone()`` says the writer has exited, so waiting on would be in vain."""
    from watchfiles import watch

    deadline = time.monotonic() + timeout
    folder.mkdir(parents=True, exist_ok=True)
    if predicate():
        return
    # the 1 s timeout only bounds how late a writer's exit (which writes nothing) is noticed
    for _ in watch(folder, debounce=20, step=10, rust_timeout=1000, yield_on_timeout=True, raise_interrupt=False):
        if predicate():
            return
        if gone():
            raise AssertionError(f"the writer exited before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def wait_on_site(site: Any, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Returns ``predicate()``'s first truthy value, re-checked each time the sandbox ``site`` answers a
    request or closes a connection: how a test sees a crawl, which talks to the site, reach a point."""
    seen: list[Any] = [None]

    def check() -> Any:
        seen[0] = predicate()
        return seen[0]

    if not site.wait_for(check, timeout):
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
    return seen[0]
