"""Commands of the crawl group (being built)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
