"""Where the ``batchfsm validate`` command reads payloads: files, directories and stdin.

A ``.jsonl`` or ``.ndjson`` file is JSON Lines. Any other file, and stdin, is JSON Lines when
its first non-blank line holds a whole JSON object, and otherwise one JSON document: an
object, or an array of objects. JSON Lines are read a line at a time, so a file of any size
is read in constant memory, and no line (nor document) larger than ``max_bytes`` is ever
held in memory: it is skipped and reported instead.
"""

from __future__ import annotations

import itertools
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from . import _json
from ._errors import Violation

__all__ = ["Item", "Place", "Unreadable", "discover", "read", "size"]

STDIN = "-"
_LINE_SUFFIXES = frozenset({".jsonl", ".ndjson"})
_DIRECTORY_PATTERNS = ("*.json", *(f"*{suffix}" for suffix in sorted(_LINE_SUFFIXES)))
# Lines beyond this are skipped in pieces of this size, so a huge line costs no memory.
_SKIP_CHUNK = 1 << 20

Advance = Callable[[int], object]


# Plain (not frozen) records: one of each is made per payload, and a frozen attrs
# class costs three times as much to make.
@attrs.define
class Place:
    """Where a payload was read: its source, and its line (JSON Lines) or index (array)."""

    source: str
    line: int | None = None
    index: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.index is not None:
            return f"{self.source}[{self.index}]"
        return self.source


@attrs.define
class Item:
    """One payload as read: JSON text, or an array element's value; or why it was not read."""

    place: Place
    data: object
    refused: Violation | None = None


@attrs.frozen
class Unreadable:
    """A path that could not be read, and why."""

    path: str
    reason: str


def discover(paths: Iterable[str]) -> Iterator[str | Unreadable]:
    """The sources `paths` name, in order: ``-``, files, and each directory's payload files
    (recursively, sorted), or an `Unreadable` for what cannot be listed."""
    for name in paths:
        path = Path(name)
        if name == STDIN or not path.is_dir():
            yield name
            continue
        problems: list[OSError] = []
        found: set[Path] = set()
        for root, _, files in os.walk(path, onerror=problems.append):
            found.update(
                Path(root, file)
                for file in files
                if any(Path(file).match(pattern) for pattern in _DIRECTORY_PATTERNS)
            )
        yield from (str(file) for file in sorted(found))
        for problem in problems:
            yield Unreadable(str(problem.filename or name), problem.strerror or str(problem))


def size(source: str) -> int | None:
    """The bytes `source` holds, when that is known in advance (a regular file)."""
    try:
        info = os.fstat(sys.stdin.fileno()) if source == STDIN else os.stat(source)
    except (OSError, ValueError):  # no such file, or a stdin without a descriptor
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def read(source: str, max_bytes: int, advance: Advance = int) -> Iterator[Item]:
    """The payloads of one source, read lazily.

    Args:
        max_bytes: The largest line (or document) read; larger ones give an `Item` whose
            `refused` says so.
        advance: Called with the number of bytes consumed, for a progress bar.

    Raises:
        OSError: when the source cannot be opened or read (the caller reports it).
    """
    if source == STDIN:
        yield from _items(STDIN, sys.stdin.buffer, max_bytes, advance, lines=False)
        return
    with open(source, "rb") as stream:
        lines = Path(source).suffix.lower() in _LINE_SUFFIXES
        yield from _items(source, stream, max_bytes, advance, lines=lines)


def _too_large(place: Place, size: int, max_bytes: int) -> Item:
    what = "line" if place.line is not None else "document"
    message = f"the {what} holds {size} bytes, more than --max-bytes {max_bytes}"
    return Item(place, None, Violation("input.too_large", "$", message))


def _items(
    source: str, stream: BinaryIO, max_bytes: int, advance: Advance, *, lines: bool
) -> Iterator[Item]:
    numbered = _lines(stream, max_bytes, advance)
    # Blank lines separate nothing and are not payloads.
    first = next((each for each in numbered if each[1] is None or each[1].strip()), None)
    if first is None:
        return
    if not lines and not _holds_object(first[1]):
        yield from _document(source, stream, first[1], first[2], max_bytes, advance)
        return
    for number, line, length in itertools.chain([first], numbered):
        if line is None:
            yield _too_large(Place(source, line=number), length, max_bytes)
        elif line.strip():
            # Without its line break, so that a syntax error's position is on this line.
            yield Item(Place(source, line=number), line.rstrip(b"\r\n"))


def _holds_object(line: bytes | None) -> bool:
    if line is None:
        return False
    try:
        return type(_json.quick_parse(line)) is dict
    except ValueError:
        return False


def _document(
    source: str,
    stream: BinaryIO,
    first: bytes | None,
    length: int,
    max_bytes: int,
    advance: Advance,
) -> Iterator[Item]:
    """The rest of `stream` read as one document, whose first line is `first`."""
    place = Place(source)
    if first is None:  # the first line alone is too large already
        yield _too_large(place, length + _skip(stream, advance), max_bytes)
        return
    rest = stream.read(max_bytes - len(first) + 1)
    advance(len(rest))
    document = first + rest
    if len(document) > max_bytes:
        yield _too_large(place, len(document) + _skip(stream, advance), max_bytes)
        return
    try:
        value = _json.quick_parse(document)
    except ValueError:
        value = None  # validate says what is wrong with it
    if type(value) is list:
        for index, element in enumerate(value):
            yield Item(Place(source, index=index), element)
    else:
        yield Item(place, document)


def _skip(stream: BinaryIO, advance: Advance) -> int:
    skipped = 0
    while chunk := stream.read(_SKIP_CHUNK):
        advance(len(chunk))
        skipped += len(chunk)
    return skipped


def _lines(
    stream: BinaryIO, max_bytes: int, advance: Advance
) -> Iterator[tuple[int, bytes | None, int]]:
    """``(number, line, length)`` for each line; a line longer than `max_bytes` is None."""
    number = 0
    while line := stream.readline(max_bytes + 1):
        number += 1
        advance(len(line))
        length = len(line)
        if length > max_bytes and not line.endswith(b"\n"):
            while not line.endswith(b"\n"):
                line = stream.readline(_SKIP_CHUNK)
                if not line:
                    break
                advance(len(line))
                length += len(line)
            yield number, None, length
        else:
            yield number, line, length
