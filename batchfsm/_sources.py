"""Where the ``batchfsm`` command reads payloads: files, directories and stdin.

A ``.jsonl`` or ``.ndjson`` file is JSON Lines. Any other file, and stdin, is JSON Lines when
its first non-blank line holds a whole JSON object, and otherwise one JSON document: an
object, or an array of objects. JSON Lines are read a line at a time, each handed on as soon
as it has arrived, so a file of any size is read in constant memory and a slow pipe is
judged as it goes; no line (nor document) larger than ``max_bytes`` is ever held in memory:
it is skipped and reported instead.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs

from . import _json
from ._errors import Violation

__all__ = ["Item", "Place", "Skipped", "Unreadable", "discover", "read", "size"]

STDIN = "-"
_LINE_SUFFIXES = frozenset({".jsonl", ".ndjson"})
_DIRECTORY_PATTERNS = ("*.json", *(f"*{suffix}" for suffix in sorted(_LINE_SUFFIXES)))
# Lines beyond this are skipped in pieces of this size, so a huge line costs no memory.
_SKIP_CHUNK = 1 << 20
# The most read at once: JSON Lines are read in blocks of up to this size (whatever has
# arrived, on a pipe) and split into lines.
_BLOCK = 1 << 18

Advance = Callable[[int], object]
BeforeRead = Callable[[], object]


# Plain (not frozen) records: one of each is made per payload, and a frozen attrs
# class costs three times as much to make.
@attrs.define
class Place:
    """Where a payload was read: its source, and its line (JSON Lines) or index (array);
    for a batch in a list of batches (``{"object": "list", "data": [...]}``), its index
    in ``data`` too."""

    source: str
    line: int | None = None
    index: int | None = None
    item: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            where = f"{self.source}:{self.line}"
        elif self.index is not None:
            where = f"{self.source}[{self.index}]"
        else:
            where = self.source
        return where if self.item is None else f"{where}:$.data[{self.item}]"


@attrs.define
class Item:
    """One payload as read: its JSON text, or why it was not read.

    The place is kept as plain fields, and `place` made only when asked for: an item is
    made per payload, and most are never shown.
    """

    source: str
    line: int | None
    index: int | None
    data: bytes | None
    refused: Violation | None = None

    @property
    def place(self) -> Place:
        return Place(self.source, self.line, self.index)


@attrs.frozen
class Unreadable:
    """A path that could not be read, and why."""

    path: str
    reason: str


@attrs.frozen
class Skipped:
    """A file in a directory that is not read, and why (it is not a regular file)."""

    path: str
    reason: str


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def discover(paths: Iterable[str]) -> Iterator[str | Unreadable | Skipped]:
    """The sources `paths` name, in order: ``-``, files, and each directory's payload files
    (recursively, sorted), or an `Unreadable` for what cannot be listed.

    In a directory only regular files are read (or links to one): a FIFO named ``x.json``
    would block the run until something writes to it, and a device may never end. Each
    other match is a `Skipped`. A path given by name is read whatever it is, so
    ``<(command)`` and named pipes work.
    """
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
        for file in sorted(found):
            try:
                mode = os.stat(file).st_mode
            except OSError as error:  # a dangling link, or removed since it was listed
                yield Unreadable(str(file), error.strerror or str(error))
                continue
            if stat.S_ISREG(mode):
                yield str(file)
            else:
                kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
                yield Skipped(str(file), f"not a regular file ({kind})")
        for problem in problems:
            yield Unreadable(str(problem.filename or name), problem.strerror or str(problem))


def size(source: str) -> int | None:
    """The bytes `source` holds, when that is known in advance (a regular file)."""
    try:
        info = os.fstat(sys.stdin.fileno()) if source == STDIN else os.stat(source)
    except (OSError, ValueError, AttributeError):  # no such file; stdin closed or not a file
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def read(
    source: str,
    max_bytes: int,
    advance: Advance | None = None,
    before_read: BeforeRead | None = None,
) -> Iterator[Item]:
    """The payloads of one source, read lazily: each is handed on as soon as its last byte
    has been read, never after more input.

    Args:
        max_bytes: The largest line (or document) read; larger ones give an `Item` whose
            `refused` says so.
        advance: Called with the number of bytes consumed, for a progress bar.
        before_read: Called before each read that may wait for input, so that what was
            written about the payloads before it can be flushed first.

    Raises:
        OSError: when the source cannot be opened or read (the caller reports it); for
            ``-`` when stdin is closed.
    """
    if source == STDIN:
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # started with stdin closed (`<&-`): Python sets sys.stdin to None
            raise OSError(errno.EBADF, "standard input is closed")
        yield from _items(STDIN, _Stream(stdin, advance, before_read), max_bytes, lines=False)
        return
    with open(source, "rb") as stream:
        lines = Path(source).suffix.lower() in _LINE_SUFFIXES
        yield from _items(source, _Stream(stream, advance, before_read), max_bytes, lines=lines)


class _Stream:
    """A binary stream read only as far as what has arrived, counting what it consumed."""

    def __init__(
        self, stream: io.BufferedIOBase, advance: Advance | None, before_read: BeforeRead | None
    ) -> None:
        self.stream = stream
        self.advance = advance
        self.before_read = before_read
        self.consumed = 0

    def readline(self, limit: int) -> bytes:
        """Up to `limit` bytes, stopping after a line break."""
        if self.before_read is not None:
            self.before_read()
        line = self.stream.readline(limit)
        self._count(len(line))
        return line

    def read1(self, limit: int) -> bytes:
        """What has arrived, up to `limit` bytes, waiting only when nothing has; ``b""`` at
        the end. One call per block, not per line: the hot path of JSON Lines."""
        if self.before_read is not None:
            self.before_read()
        block = self.stream.read1(limit)
        self._count(len(block))
        return block

    def _count(self, size: int) -> None:
        self.consumed += size
        if self.advance is not None:
            self.advance(size)


def _too_large(source: str, line: int | None, size: int, max_bytes: int) -> Item:
    what = "line" if line is not None else "document"
    message = f"the {what} holds {size} bytes, more than --max-bytes {max_bytes}"
    return Item(source, line, None, None, Violation("input.too_large", "$", message))


def _items(source: str, stream: _Stream, max_bytes: int, *, lines: bool) -> Iterator[Item]:
    # The first line that is not blank decides, for a source that is not .jsonl, whether
    # it is JSON Lines or one document.
    number, first, size = _filled_line(stream, max_bytes, 0)
    start = stream.consumed - size
    if first == b"":
        return  # nothing but blank lines
    if lines or _holds_object(first):
        yield _line_item(source, number, first, size, max_bytes)
        yield from _rest(source, stream, number, max_bytes)
    elif first is not None:
        yield from _document(source, stream, first, max_bytes)
    else:
        # A first line past the limit says nothing of what the source is, and reading on
        # as one document would swallow every line after it (all of a stdin that never
        # ends): the next line decides instead. Another line past the limit, or a whole
        # object, is JSON Lines, whose first line is refused alone.
        after_number, after, after_size = _filled_line(stream, max_bytes, number)
        if after is None or (after and _holds_object(after)):
            yield _too_large(source, number, size, max_bytes)
            yield _line_item(source, after_number, after, after_size, max_bytes)
            yield from _rest(source, stream, after_number, max_bytes)
        else:  # the end, or the next line of a document too large already
            _skip(stream)
            yield _too_large(source, None, stream.consumed - start, max_bytes)


def _filled_line(stream: _Stream, max_bytes: int, number: int) -> tuple[int, bytes | None, int]:
    """The next line that is not blank, its number and size: ``b""`` at the end, None when
    it passes `max_bytes` (and was skipped)."""
    while True:
        line, size = _line(stream, max_bytes)
        number += 1
        if line is None or line.strip() or not line:
            return number, line, size


def _line_item(source: str, number: int, line: bytes | None, size: int, max_bytes: int) -> Item:
    if line is None:
        return _too_large(source, number, size, max_bytes)
    return Item(source, number, None, line.rstrip(b"\r\n"))


def _rest(source: str, stream: _Stream, number: int, max_bytes: int) -> Iterator[Item]:
    """The lines after line `number`, as items.

    This runs once per payload of a JSON Lines file, the command's main case: the stream
    is read in blocks split by C code, rather than a call per line. Memory stays bounded:
    a line longer than `max_bytes` is dropped as it grows, and only its size is kept.
    """
    carry = b""  # the start of a line the last block cut
    skipped = -1  # bytes of a refused line so far, while skipping it; else -1
    while block := stream.read1(_BLOCK):
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


def _line(stream: _Stream, max_bytes: int) -> tuple[bytes | None, int]:
    """The next line and its size: ``b""`` at the end, None when it passes `max_bytes`."""
    line = stream.readline(max_bytes + 1)
    size = len(line)
    if size > max_bytes and line[-1] != _NEWLINE:
        return None, size + _skip_line(stream)
    return line, size


def _skip_line(stream: _Stream) -> int:
    """Read past the rest of a line, a piece at a time; the bytes skipped."""
    skipped = 0
    while piece := stream.readline(_SKIP_CHUNK):
        skipped += len(piece)
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


def _document(source: str, stream: _Stream, first: bytes, max_bytes: int) -> Iterator[Item]:
    """The rest of `stream` read as one document, whose first line is `first`."""
    # Read in blocks, never with read(max_bytes): a buffered read of n bytes allocates n
    # up front, which a --max-bytes of a terabyte turns into a MemoryError.
    parts = [first]
    held = len(first)
    while held <= max_bytes and (block := stream.read1(min(_BLOCK, max_bytes - held + 1))):
        parts.append(block)
        held += len(block)
    if held > max_bytes:
        yield _too_large(source, None, held + _skip(stream), max_bytes)
        return
    document = b"".join(parts)
    spans = _elements(document)
    if spans is None:  # an object, another value, or text validate says is broken
        yield Item(source, None, None, document)
        return
    for index, (begin, end) in enumerate(spans):
        yield Item(source, None, index, document[begin:end])


def _skip(stream: _Stream) -> int:
    skipped = 0
    while chunk := stream.read1(_SKIP_CHUNK):
        skipped += len(chunk)
    return skipped


_OPENING = re.compile(rb"[ \t\r\n]*\[")
_BLANK = re.compile(rb"[ \t\r\n]*")
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
# What lies between two brackets, strings whole; it ends at a bracket, or at a quote that
# opens a string that never ends.
_RUN = re.compile(rb'(?:[^"\[\]{}]+|' + _STRING + rb")*", re.DOTALL)
_TOKEN = re.compile(_STRING + rb'|[,"]', re.DOTALL)
_OPENERS = re.compile(rb"[\[{]+")
_CLOSERS = re.compile(rb"[\]}]+")
_CLOSING = bytes.maketrans(b"[{", b"]}")
_QUOTE, _CLOSE = ord('"'), ord("]")


def _elements(document: bytes) -> list[tuple[int, int]] | None:
    """Where each element of the JSON array `document` lies, or None when it is not an
    array of well-placed brackets.

    Each element is handed on as its own text, so that it is judged exactly as the same
    payload alone would be: decoding the array first would turn integers past 64 bits into
    floats, and one element nested or numbered past what the reader takes would make the
    whole array unreadable. What lies between two commas is not checked here: an element
    that is not JSON is reported at its index. Brackets are taken a run at a time, so that
    deep nesting costs no more than the bytes it takes.
    """
    opening = _OPENING.match(document)
    if opening is None:
        return None
    spans: list[tuple[int, int]] = []
    brackets = bytearray(b"[")  # those open, the array's own first
    begin = at = opening.end()
    while True:
        end = _RUN.match(document, at).end()  # type: ignore[union-attr]
        if len(brackets) == 1:  # between elements: a comma ends one
            for token in _TOKEN.finditer(document, at, end):
                comma = token.start()
                if document[comma] == _QUOTE:
                    continue
                if _BLANK.fullmatch(document, begin, comma):
                    return None  # `[,` or `,,`: no element
                spans.append(_trimmed(document, begin, comma))
                begin = token.end()
        if end == len(document) or document[end] == _QUOTE:
            return None  # never closed, or a string that never ends
        if (opened := _OPENERS.match(document, end)) is not None:
            brackets += document[end : opened.end()]
            at = opened.end()
            continue
        inner = len(brackets) - 1  # how many may close before the array itself
        closers = _CLOSERS.match(document, end).end() - end  # type: ignore[union-attr]
        if (count := min(closers, inner)) > 0:
            if document[end : end + count] != brackets[-count:][::-1].translate(_CLOSING):
                return None
            del brackets[-count:]
            at = end + count
            continue
        if document[end] != _CLOSE:
            return None
        # The array's own end: nothing may follow it.
        if _BLANK.fullmatch(document, end + 1) is None:
            return None
        if _BLANK.fullmatch(document, begin, end) is None:
            spans.append(_trimmed(document, begin, end))
        elif spans:
            return None  # `,]`
        return spans


_WHITESPACE = frozenset(b" \t\r\n")


def _trimmed(document: bytes, begin: int, end: int) -> tuple[int, int]:
    """The span without the JSON whitespace around it: an element's text is then the same
    as the payload's alone, and so are the positions in its messages."""
    begin = _BLANK.match(document, begin, end).end()  # type: ignore[union-attr]
    while document[end - 1] in _WHITESPACE:
        end -= 1
    return begin, end
