"""A sliding window over a JSON text that decodes one value at a time, so memory stays bounded.

Measured on 100,000 real-sized items (455 MB, ``bench/import_bench.py`` prints it
again): ``json.JSONDecoder.raw_decode`` over a 1 MB window decoded 24,000 items/s,
ijson's yajl2_c backend 17,000/s and orjson on a whole line 55,000/s, all three in
about 20 MB; orjson on the whole file needed 2.3 GB. So elements are decoded with
``raw_decode`` over the window, and with orjson a line at a time while the file
has one element per line (how most exporters write arrays).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import orjson

from core.errors import ParseError
from scrapers.payloads.access import JSON_NUL, without_nul

CHUNK = 1 << 20
#: one value may not exceed this (a broken file must not be read whole into memory)
MAX_VALUE_CHARS = 256 << 20
WHITESPACE = re.compile(r"[ \t\n\r]*")
DECODER = json.JSONDecoder()


@dataclass
class ObjectHead:
    """An object read up to its array member: that member's key (None: no such member) and the members before it."""

    array_key: str | None = None
    members: dict[str, Any] = field(default_factory=dict)


class JsonStream:
    """Reads JSON values, arrays element by element and objects member by member, from a text file."""

    def __init__(self, f: TextIO, one_per_line: bool = True) -> None:
        self.f = f
        self.buf = ""
        self.pos = 0
        self.consumed = 0  # characters dropped from the window's front, for error positions
        self.eof = False
        #: try orjson on whole lines until a line turns out not to hold exactly one element
        self.one_per_line = one_per_line

    def _fill(self) -> bool:
        """Appends a chunk (the window doubles for a value larger than a chunk); False at the end."""
        if self.eof:
            return False
        more = self.f.read(max(CHUNK, len(self.buf) - self.pos))
        if not more:
            self.eof = True
            return False
        self.consumed += self.pos
        self.buf = self.buf[self.pos :] + more
        self.pos = 0
        return True

    def at(self) -> int:
        """The position in the text, in characters."""
        return self.consumed + self.pos

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end), without consuming it."""
        while True:
            self.pos = WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        """Consumes ``char`` (after whitespace) or raises ParseError ``malformed_json``."""
        found = self.peek()
        if found != char:
            raise self.error(f"expected {char!r}, found {found or 'the end of the file'!r}")
        self.pos += 1

    def error(self, message: str) -> ParseError:
        """A ``malformed_json`` error that says where."""
        return ParseError("malformed_json", f"{message} at character {self.at():,}")

    def value(self) -> Any:
        """Decodes the next value, reading more of the file as long as the value is incomplete."""
        self.peek()
        while True:
            try:
                value, end = DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._incomplete(exc) and self._fill():
                    continue
                if self._cut_short(exc):
                    raise ParseError("truncated", f"the file ends inside a value that starts at character {self.at():,}") from None
                raise ParseError("malformed_json", f"{exc.msg} at character {self.consumed + exc.pos:,}") from None
            except RecursionError:
                raise self.error("nested too deeply") from None
            # a number at the window's end may go on in the next chunk
            if end == len(self.buf) and not self.eof and self._fill():
                continue
            start, self.pos = self.pos, end
            return without_nul(value) if self.buf.find(JSON_NUL, start, end) != -1 else value

    def _incomplete(self, exc: json.JSONDecodeError) -> bool:
        if len(self.buf) - self.pos > MAX_VALUE_CHARS:
            return False
        # the decoder stops at the window's end for a cut value (or at the start of a cut string)
        return exc.pos >= len(self.buf) - 8 or exc.msg.startswith("Unterminated string")

    def _cut_short(self, exc: json.JSONDecodeError) -> bool:
        return self.eof and (exc.pos >= len(self.buf.rstrip()) or exc.msg.startswith("Unterminated string"))

    def element(self) -> Any:
        """The next array element: orjson on its line when the line holds exactly it, else :meth:`value`."""
        if not (self.one_per_line and self.peek() == "{"):
            return self.value()
        newline = self.buf.find("\n", self.pos)
        if newline == -1:
            return self.value()
        line = self.buf[self.pos : newline].rstrip()
        line = line[:-1] if line.endswith(",") else line
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            start = self.at()
            value = self.value()
            # keep the fast path when the line did hold one element that orjson refused (a huge integer)
            self.one_per_line = self.at() - start == len(line)
            return value
        self.pos += len(line)
        return without_nul(value) if JSON_NUL in line else value

    def elements(self) -> Iterator[Any]:
        """The elements of the array whose ``[`` was just consumed."""
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.element()
            found = self.peek()
            self.pos += 1
            if found == "]":
                return
            if found != ",":
                self.pos -= 1
                if not found:
                    raise ParseError("truncated", f"the file ends inside the array, at character {self.at():,}")
                raise self.error("expected ',' or ']' in the array")

    def open_array_member(self, keys: tuple[str, ...]) -> ObjectHead:
        """Walks the object whose ``{`` was just consumed up to a member in ``keys`` holding an array.

        When one is found the stream is left inside that array.
        """
        head = ObjectHead()
        if self.peek() == "}":
            self.pos += 1
            return head
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise self.error("expected a member name")
            self.expect(":")
            if key in keys and self.peek() == "[":
                self.pos += 1
                head.array_key = key
                return head
            head.members[key] = self.value()
            found = self.peek()
            self.pos += 1
            if found == "}":
                return head
            if found != ",":
                self.pos -= 1
                raise self.error("expected ',' or '}' in the object")
