"""JSON text ⇄ Python values, with orjson where it is available and the stdlib elsewhere.

Every decoding failure becomes a `PayloadError` here, so no decoder exception reaches a
caller. The set of values read and the set written are the same: orjson reads documents
nested up to 1024 levels but writes only 254, and reads an integer literal outside 64
bits as a float (or refuses it, past 1.8e308), so

* `parse_exact` reads such literals exactly: it puts a marker string in place of each long
  integer literal, lets orjson read the rest, and puts the integers back; and
* `encode` writes what orjson will not (deep values, big integers) with `_write`, a writer
  that keeps no Python stack, as deep as orjson reads.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from ._errors import ArgumentError, PayloadError, Violation
from ._jsonpath import ROOT, child
from ._strict import LongLiteral, bounded_repr, shown

try:
    import orjson
except ImportError:  # pragma: no cover - only on interpreters orjson does not support
    orjson = None  # type: ignore[assignment]

__all__ = ["Text", "encode", "parse", "parse_exact", "quick_dump", "quick_parse", "text"]

Text = bytes | bytearray | memoryview | str


def text(data: object) -> bytes | str:
    """`data` as exact ``bytes`` or ``str``, whatever buffer or subclass it came as.

    Raises:
        ArgumentError: for anything that is not text, and for a released memoryview.
    """
    try:
        if isinstance(data, str):
            return str.__str__(data)  # the characters, whatever a subclass does
        if isinstance(data, memoryview):
            return data.tobytes()
        if isinstance(data, (bytes, bytearray)):
            return bytes(memoryview(data))
    except ValueError as exc:  # a released memoryview
        raise ArgumentError("data", f"cannot read the buffer: {exc}") from None
    raise ArgumentError("data", f"expected JSON text as bytes or str, got {type(data).__name__}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode_problem(data: Text, exc: Exception) -> PayloadError:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if not raw.strip():
        return PayloadError(
            [Violation("json.empty", ROOT, "expected a JSON object, got empty input")]
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        message = f"input is not valid UTF-8: byte {raw[bad.start]:#04x} at offset {bad.start}"
        return PayloadError([Violation("json.encoding", ROOT, message)])
    return PayloadError([Violation("json.syntax", ROOT, f"input is not valid JSON: {exc}")])


def _parse_stdlib(data: Text) -> Any:
    """Decode JSON text with the stdlib, keeping integers of any size exact."""
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        if isinstance(data, str):
            text.encode("utf-8")  # lone surrogates are not valid text
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _decode_problem(data, exc) from None


if orjson is not None:
    #: The bare reader for the hot path: raises a ValueError on bad input, which `parse`
    #: then explains.
    quick_parse = orjson.loads

    def parse(data: Text) -> Any:
        """Decode JSON text; an integer literal beyond 64 bits may come back as a float, or
        (where orjson refuses it, past 1.8e308) exact."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            source = _exact_type(data)
            if _RUN[type(source) is str].search(source) is None:
                raise _decode_problem(data, exc) from None
        return parse_exact(data)

    def parse_exact(data: Text) -> Any:
        """Decode JSON text, keeping integer literals of any size exact (one of more digits
        than Python converts as a `LongLiteral`).

        orjson reads the text with a marker string in place of each long integer literal,
        and the integers are put back in place of the markers. The text is JSON exactly
        when the rewritten one is (a marker is a string value where a number value was),
        and a marker starts with a random part no string of the text can know.
        """
        source = _exact_type(data)
        spans = _long_literals(source)
        if not spans:
            try:
                return orjson.loads(source)
            except orjson.JSONDecodeError as exc:
                raise _decode_problem(data, exc) from None
        marker = "\\u0000" + secrets.token_hex(8) + ":"
        rewritten = _replaced(source, spans, lambda index, _: f'"{marker}{index}"')
        try:
            value = orjson.loads(rewritten)
        except orjson.JSONDecodeError:
            # Say what is wrong at the offsets of the text as given: each long literal
            # becomes a string of its width, which reads as the marker does.
            padded = _replaced(source, spans, lambda _, width: '"' + " " * (width - 2) + '"')
            try:
                orjson.loads(padded)
            except orjson.JSONDecodeError as exc:
                raise _decode_problem(data, exc) from None
            raise AssertionError("a marker and a blank string read alike") from None
        numbers = [source[start:end] for start, end in spans]
        return _restore(value, "\x00" + marker[len("\\u0000") :], numbers)

else:  # pragma: no cover - exercised only without orjson
    parse = quick_parse = parse_exact = _parse_stdlib


# A run of 19 digits or more: orjson reads an integer literal that long beyond 64 bits as
# a float, or refuses it.
_RUN: dict[bool, re.Pattern[Any]] = {
    True: re.compile(r"[0-9]{19,}"),
    False: re.compile(rb"[0-9]{19,}"),
}
_AFTER_KEY: dict[bool, re.Pattern[Any]] = {
    True: re.compile(r"[ \t\n\r]*:"),
    False: re.compile(rb"[ \t\n\r]*:"),
}


def _exact_type(data: Text) -> Any:
    """`data` as exact bytes or str (`text`), the types the scans below take."""
    return data if type(data) is bytes or type(data) is str else text(data)


def _long_literals(source: Any) -> list[tuple[int, int]]:
    """The spans of the long integer literals of `source` that are values: not inside a
    string, not part of another number (a fraction, an exponent), not a key.

    Found by a scan for runs of digits and the quotes before each, so that the work is
    linear in the text (a regular expression alone either tries each digit of a run, or
    calls back for each string).
    """
    is_text = type(source) is str
    quote, minus, exponent, before_digits, after_digits = (
        ('"', "-", "eE", ".eE+", ".eE") if is_text else (b'"', b"-", b"eE", b".eE+", b".eE")
    )
    # Escaped backslashes, then escaped quotes, as two other characters each: every quote
    # left delimits a string (in JSON text), so a quote count says whether one is open.
    scan: Any = None
    spans: list[tuple[int, int]] = []
    counted = 0
    inside = False
    for match in _RUN[is_text].finditer(source):
        start, end = match.span()
        before = source[start - 1 : start]
        if before == minus:
            sign = source[start - 2 : start - 1]
            if sign and sign in exponent:
                continue  # an exponent
            start -= 1
        elif before and before in before_digits:
            continue  # a fraction or an exponent
        if source[match.start() : match.start() + 1] in ("0", b"0"):
            continue  # a leading zero: not JSON, and orjson says so
        after = source[end : end + 1]
        if (after and after in after_digits) or _AFTER_KEY[is_text].match(source, end):
            continue  # the integer part of a fraction, or a key: not JSON either
        if scan is None:
            double, escaped, blank = ("\\\\", '\\"', "__") if is_text else (b"\\\\", b'\\"', b"__")
            scan = source.replace(double, blank).replace(escaped, blank)
        inside ^= scan.count(quote, counted, start) % 2 == 1
        counted = start
        if not inside:
            spans.append((start, end))
    return spans


def _replaced(
    source: bytes | str, spans: list[tuple[int, int]], by: Callable[[int, int], str]
) -> bytes | str:
    """`source` with the text at each span replaced by ``by(index, width)``."""
    pieces: list[Any] = []
    last = 0
    for index, (start, end) in enumerate(spans):
        pieces.append(source[last:start])
        piece = by(index, end - start)
        pieces.append(piece if type(source) is str else piece.encode())
        last = end
    pieces.append(source[last:])
    return source[:0].join(pieces)


def _restore(value: Any, prefix: str, numbers: list[Any]) -> Any:
    """`value` with each marker string (`prefix` and an index) replaced by the integer of
    the literal it stands for."""
    left = len(numbers)

    def number(item: str) -> Any:
        digits = numbers[int(item[len(prefix) :])]
        try:
            return int(digits)
        except ValueError:  # more digits than Python converts: kept as they are
            return LongLiteral(digits if type(digits) is str else digits.decode())

    if type(value) is str:
        return number(value) if value.startswith(prefix) else value
    todo = [value] if type(value) is dict or type(value) is list else []
    while todo and left:
        container = todo.pop()
        pairs = container.items() if type(container) is dict else enumerate(container)
        for key, item in pairs:
            kind = type(item)
            if kind is str:
                if item.startswith(prefix):
                    container[key] = number(item)
                    left -= 1
            elif kind is dict or kind is list:
                todo.append(item)
    return value


# -- writing --------------------------------------------------------------------------


if orjson is not None:
    #: The bare writer for the hot path: UTF-8 bytes, or a TypeError for what it does not
    #: write (then `encode` does).
    quick_dump: Callable[[Any], bytes] = orjson.dumps

    def encode(value: Any) -> str:
        """Encode a JSON value (one `_strict.trouble` finds nothing in) as compact text.

        Raises:
            PayloadError: for what text cannot carry, at its path: a string with a lone
                surrogate, an integer of more digits than Python converts.
        """
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError:  # deeper than 254 levels, an integer beyond 64 bits, or unwritable
            return _write(value)

else:  # pragma: no cover - exercised only without orjson

    def encode(value: Any) -> str:
        """Encode a JSON value (one `_strict.trouble` finds nothing in) as compact text."""
        return _write(value)

    def quick_dump(value: Any) -> bytes:
        """UTF-8 JSON text of `value`."""
        return _write(value).encode()


_string = json.encoder.encode_basestring
_CONSTANTS: dict[Any, str] = {True: "true", False: "false", None: "null"}


class _Unwritable(Exception):
    """A value `_write` cannot write: what it is."""


def _write(value: Any) -> str:
    """Compact JSON text of `value`, written from a stack rather than by recursion, so that
    it writes as deep as orjson reads.

    Raises:
        PayloadError: at the path of the first value text cannot carry.
    """
    try:
        return _written(value)
    except _Unwritable as problem:
        what = str(problem)
    path = _locate(value, what)
    return _raise(path, what)


def _raise(path: str, what: str) -> NoReturn:
    message = f"JSON text cannot carry {what}"
    raise PayloadError([Violation("encode.unsupported", path, message)])


def _written(value: Any) -> str:
    out: list[str] = []
    todo: list[Any] = [_Value(value)]
    # A str on the stack is copied as it is (punctuation, keys written ahead); any other
    # entry is a `_Value` to write.
    while todo:
        item = todo.pop()
        if type(item) is str:
            out.append(item)
            continue
        item = item.value
        text = _scalar(item)
        if text is not None:
            out.append(text)
        elif type(item) is list:
            todo.append("]")
            for index in range(len(item) - 1, -1, -1):
                todo.append(_Value(item[index]))
                if index:
                    todo.append(",")
            out.append("[")
        else:  # a dict: `_scalar` refuses anything else
            todo.append("}")
            pairs = list(item.items())
            for index in range(len(pairs) - 1, -1, -1):
                key, member = pairs[index]
                if type(key) is not str:
                    raise _Unwritable(f"the key {bounded_repr(key)[:80]}")
                todo.append(_Value(member))
                todo.append(_text(key) + ":")
                if index:
                    todo.append(",")
            out.append("{")
    return "".join(out)


class _Value:
    """A value on `_written`'s stack (where a plain str is punctuation)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _scalar(item: Any) -> str | None:
    """The text of `item` if it is no container, None for a list or a dict.

    Raises:
        _Unwritable: for a value no JSON text can carry.
    """
    kind = type(item)
    if kind is str:
        return _text(item)
    if kind is LongLiteral:
        return item.text  # type: ignore[no-any-return]
    if kind is bool or item is None:
        return _CONSTANTS[item]
    if kind is int:
        try:
            return int.__repr__(item)
        except ValueError:
            limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
            raise _Unwritable(f"an integer of more than {limit} digits") from None
    if kind is float:
        if item - item != 0.0:
            raise _Unwritable(f"the number {item!r}")
        return float.__repr__(item)
    if kind is list or kind is dict:
        return None
    raise _Unwritable(f"{kind.__name__} {bounded_repr(item)[:80]}")


def _text(item: str) -> str:
    try:
        item.encode("utf-8")
    except UnicodeEncodeError:
        raise _Unwritable(f"a lone surrogate in string {shown(item)}") from None
    return _string(item)


def _locate(value: Any, what: str) -> str:
    """The path of the first place in `value` (in `_written`'s order) where writing fails
    with `what`."""
    todo: list[tuple[Any, str]] = [(value, ROOT)]
    while todo:
        item, path = todo.pop()
        try:
            _scalar(item)
        except _Unwritable as problem:
            if str(problem) == what:
                return path
        if type(item) is list:
            todo.extend((item[i], child(path, i)) for i in range(len(item) - 1, -1, -1))
        elif type(item) is dict:
            for key, member in reversed(list(item.items())):
                if type(key) is not str:
                    if f"the key {bounded_repr(key)[:80]}" == what:
                        return path
                    continue
                try:
                    _text(key)
                except _Unwritable as problem:
                    if str(problem) == what:
                        return child(path, key)
                todo.append((member, child(path, key)))
    return ROOT  # pragma: no cover - `_written` failed somewhere in `value`
