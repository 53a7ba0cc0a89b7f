"""A screen for ``--headed`` browsers on a machine without one: Debian's Xvfb on a free display.

Some sites refuse headless browsers (the ``HeadlessChrome`` user agent and its other tells);
a visible browser under a virtual framebuffer is not headless. Xvfb picks a free display
number itself and writes it to ``-displayfd`` once it accepts clients, so nothing here
guesses numbers or waits a fixed time.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from scrapers.source import BackendUnavailable


class VirtualDisplay:
    """The display a visible browser draws on: ``$DISPLAY`` when there is one, else an Xvfb of our own."""

    def __init__(self) -> None:
        self.display: str | None = None
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> VirtualDisplay:
        existing = os.environ.get("DISPLAY")
        if existing:
            self.display = existing
            return self
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise BackendUnavailable("--headed needs a screen and there is none: apt-get install xvfb (./run does)")
        read, write = os.pipe()
        try:
            self._process = subprocess.Popen(
                [xvfb, "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                pass_fds=(write,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        finally:
            os.close(write)
        with os.fdopen(read) as announced:
            number = announced.readline().strip()
        if not number.isdigit():
            self.__exit__()
            raise BackendUnavailable("Xvfb did not start (no display number announced)")
        self.display = f":{number}"
        return self

    def env(self) -> dict[str, str]:
        """The environment for the browser process: ours, with ``DISPLAY`` set."""
        return {**os.environ, "DISPLAY": self.display or ""}

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
