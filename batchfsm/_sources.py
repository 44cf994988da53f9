"""Where the ``batchfsm validate`` command reads payloads: files, directories and stdin.

A ``.jsonl`` or ``.ndjson`` file is JSON Lines. Any other file, and stdin, is JSON Lines when
its first non-blank line holds a whole JSON object, and otherwise one JSON document: an
object, or an array of objects. JSON Lines are read a line at a time, so a file of any size
is read in constant memory, and no line (nor document) larger than ``max_bytes`` is ever
held in memory: it is skipped and reported instead.
"""

from __future__ import annotations

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
# JSON Lines are read in blocks of this size and split into lines.
_BLOCK = 1 << 18

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
    """One payload as read: JSON text, or an array element's value; or why it was not read.

    The place is kept as plain fields, and `place` made only when asked for: an item is
    made per payload, and most are never shown.
    """

    source: str
    line: int | None
    index: int | None
    data: object
    refused: Violation | None = None

    @property
    def place(self) -> Place:
        return Place(self.source, self.line, self.index)


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


def read(source: str, max_bytes: int, advance: Advance | None = None) -> Iterator[Item]:
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


def _too_large(source: str, line: int | None, size: int, max_bytes: int) -> Item:
    what = "line" if line is not None else "document"
    message = f"the {what} holds {size} bytes, more than --max-bytes {max_bytes}"
    return Item(source, line, None, None, Violation("input.too_large", "$", message))


def _items(
    source: str, stream: BinaryIO, max_bytes: int, advance: Advance | None, *, lines: bool
) -> Iterator[Item]:
    # The first line that is not blank decides, for a source that is not .jsonl, whether
    # it is JSON Lines or one document.
    number = 0
    while True:
        first, size = _line(stream, max_bytes, advance)
        number += 1
        if first is None or first.strip():
            break
        if not first:
            return  # nothing but blank lines
    if not lines and not _holds_object(first):
        yield from _document(source, stream, first, size, max_bytes, advance)
        return
    if first is None:
        yield _too_large(source, number, size, max_bytes)
    else:
        yield Item(source, number, None, first.rstrip(b"\r\n"))
    yield from _rest(source, stream, number, max_bytes, advance)


def _rest(
    source: str, stream: BinaryIO, number: int, max_bytes: int, advance: Advance | None
) -> Iterator[Item]:
    """The lines after line `number`, as items.

    This runs once per payload of a JSON Lines file, the command's main case: the stream
    is read in blocks split by C code, rather than a call per line. Memory stays bounded:
    a line longer than `max_bytes` is dropped as it grows, and only its size is kept.
    """
    carry = b""  # the start of a line the last block cut
    skipped = -1  # bytes of a refused line so far, while skipping it; else -1
    while block := stream.read(_BLOCK):
        if advance is not None:
            advance(len(block))
        lines = block.split(b"\n")
        if skipped >= 0:  # in the middle of a refused line
            if len(lines) == 1:
                skipped += len(block)
                continue
            number += 1
            yield _too_large(source, number, skipped + len(lines[0]) + 1, max_bytes)
            skipped = -1
            del lines[0]
        else:
            lines[0] = carry + lines[0]
        carry = lines.pop()
        for line in lines:
            number += 1
            if len(line) > max_bytes:
                yield _too_large(source, number, len(line) + 1, max_bytes)
            elif line and not line.isspace():  # blank lines separate nothing
                yield Item(source, number, None, line)
        if len(carry) > max_bytes:
            skipped, carry = len(carry), b""
    if skipped >= 0:
        yield _too_large(source, number + 1, skipped, max_bytes)
    elif carry and not carry.isspace():  # a last line without a line break
        yield Item(source, number + 1, None, carry)


_NEWLINE = ord("\n")


def _line(stream: BinaryIO, max_bytes: int, advance: Advance | None) -> tuple[bytes | None, int]:
    """The next line and its size: ``b""`` at the end, None when it passes `max_bytes`."""
    line = stream.readline(max_bytes + 1)
    size = len(line)
    if advance is not None:
        advance(size)
    if size > max_bytes and line[-1] != _NEWLINE:
        return None, size + _skip_line(stream, advance)
    return line, size


def _skip_line(stream: BinaryIO, advance: Advance | None) -> int:
    """Read past the rest of a line, a piece at a time; the bytes skipped."""
    skipped = 0
    while piece := stream.readline(_SKIP_CHUNK):
        skipped += len(piece)
        if advance is not None:
            advance(len(piece))
        if piece[-1] == _NEWLINE:
            break
    return skipped


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
    size: int,
    max_bytes: int,
    advance: Advance | None,
) -> Iterator[Item]:
    """The rest of `stream` read as one document, whose first line is `first`."""
    if first is None:  # the first line alone is too large already
        yield _too_large(source, None, size + _skip(stream, advance), max_bytes)
        return
    rest = stream.read(max_bytes - len(first) + 1)
    if advance is not None:
        advance(len(rest))
    document = first + rest
    if len(document) > max_bytes:
        yield _too_large(source, None, len(document) + _skip(stream, advance), max_bytes)
        return
    try:
        value = _json.quick_parse(document)
    except ValueError:
        value = None  # validate says what is wrong with it
    if type(value) is list:
        for index, element in enumerate(value):
            yield Item(source, None, index, element)
    else:
        yield Item(source, None, None, document)


def _skip(stream: BinaryIO, advance: Advance | None) -> int:
    skipped = 0
    while chunk := stream.read(_SKIP_CHUNK):
        if advance is not None:
            advance(len(chunk))
        skipped += len(chunk)
    return skipped
