"""The project's error types.

Every error meant for the user derives from :class:`CurateError`; the command line
prints its message on one line and exits non-zero. Anything else that escapes is a
bug and is reported as one.
"""

from __future__ import annotations


class CurateError(Exception):
    """An error the user can act on; its message is printed as one line."""

    exit_code = 1


class ConfigError(CurateError):
    """A setting, option or configuration file is invalid. Raised while building settings."""

    exit_code = 2


class CatalogError(CurateError):
    """The catalog cannot be opened, migrated or written. Raised by ``db``."""


class ParseError(CurateError):
    """A payload cannot be turned into a record; ``reason`` is a short, countable tag.

    Raised by the payload parser for one record (the importer skips it and counts
    the reason) or for a whole file that cannot be read at all.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class MissingComponent(CurateError):
    """An optional package, program or model weights are not installed; says how to get them."""

    exit_code = 3
