"""Strict scalar checks: no coercion, so a string is never read as a number or vice versa.

Each check returns the value unchanged or raises `Invalid`, which the codec turns into a
`Violation` at the JSONPath where the value stood. `trouble` decides, for the reader and
the writers alike, whether a value kept as it is (an unknown key's) is a JSON value.
`describe` shows any value in a message without running more than a bounded amount of
code, and never raises.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any, Final, NoReturn

from ._record import Status

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: orjson's limit on the nesting of a document it reads (the top object is level 1); what
#: the reader cannot read, the writers do not write.
MAX_DEPTH = 1024

_NONE = type(None)
_JSON_TYPE_NAMES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    _NONE: "null",
    dict: "object",
    list: "array",
}

Key = str | int
#: One problem: the keys that lead to it, its code and its message.
Problem = tuple[tuple[Any, ...], str, str]


#: Set while decoding with exact integers (the exact reader, or Python values from the
#: caller); unset while orjson's reading is trusted.
exact_pass: ContextVar[bool] = ContextVar("batchfsm_exact_pass", default=False)


class AmbiguousNumber(Exception):
    """orjson read an integer literal too large for 64 bits as a float: decode exactly."""


class LongLiteral:
    """An integer of more digits than Python converts (``sys.get_int_max_str_digits()``,
    4,300 by default), kept as the digits of its literal, since converting them would
    cost time quadratic in their number.

    The exact reader gives one for such a literal; it is a JSON value where any is kept (an
    unknown key's), written back digit for digit, and out of range wherever an integer of
    64 bits belongs. ``str()`` gives the literal.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        if not _INTEGER.match(text):
            raise ValueError(f"not an integer literal: {shown(text)}")
        self.text = text

    @property
    def digits(self) -> int:
        """How many digits the literal has."""
        return len(self.text) - self.text.startswith("-")

    def __eq__(self, other: object) -> bool:
        if type(other) is not LongLiteral:
            return NotImplemented
        return self.text == other.text

    def __hash__(self) -> int:
        return hash((LongLiteral, self.text))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<integer of {self.digits} digits: {self.text[:8]}…{self.text[-4:]}>"


_INTEGER = re.compile(r"-?[1-9][0-9]*\Z")
_JSON_TYPE_NAMES[LongLiteral] = "integer"


def ambiguous(value: Any) -> bool:
    """Whether `value` may be an integer literal beyond 64 bits that orjson made a float."""
    return (
        type(value) is float and abs(value) >= 2**63 and value.is_integer() and not exact_pass.get()
    )


#: What `trouble` answers for a float that may be a rounded integer while floats are not
#: trusted: decode again, exactly, before judging anything.
AMBIGUOUS: Final = "ambiguous"

# The types of a JSON value's leaves, but float (which must be finite).
_LEAVES = frozenset({str, int, bool, _NONE, LongLiteral})
_TOO_DEEP = f"nests deeper than the {MAX_DEPTH} levels JSON text may have"


def trouble(
    items: dict[Any, Any], depth: int, *, floats_exact: bool = True
) -> str | list[Problem] | None:
    """What keeps the members of `items` (an object's, that object `depth` levels deep in
    its document) from being JSON values; each list and dict is walked once.

    A JSON value is made of exact ``dict`` (with exact ``str`` keys), ``list``, ``str``,
    ``int``, ``bool``, None and finite ``float``; it is a tree (no list or dict is reached
    twice, so none holds itself) and no deeper than `MAX_DEPTH` levels in all. Two things
    Python strings and ints can be but text cannot carry — lone surrogates and more digits
    than Python converts — are left to `dumps` to refuse.

    Returns:
        None if all are JSON values; `AMBIGUOUS` if one holds a float that may be a rounded
        integer and `floats_exact` is false; else the problems, at most one per member.
    """
    if clean(items, depth, floats_exact=floats_exact):
        return None
    found: list[Problem] = []
    seen: set[int] = {id(items)}
    for top, value in items.items():
        if type(top) is not str:
            found.append(((top,), "field.type", f"expected a string key, got {describe(top)}"))
            continue
        problem = _walk(top, value, depth, seen, floats_exact)
        if problem == AMBIGUOUS:
            return AMBIGUOUS
        if problem is not None:
            found.append(problem)  # type: ignore[arg-type]
    return found or None


def clean(items: dict[Any, Any], depth: int, *, floats_exact: bool = True) -> bool:
    """Whether `trouble` finds nothing in `items`, answered the cheap way: no path is kept,
    and nesting is measured only where there are enough containers to nest too deep. False
    means `trouble` must look closer (this runs for every unknown key of every record the
    shortcuts read or write)."""
    todo: list[Any] | None = None
    for key, value in items.items():
        if type(key) is not str:
            return False
        kind = type(value)
        if kind in _LEAVES:
            continue
        if kind is dict or kind is list:
            if todo is None:
                todo = [value]
            else:
                todo.append(value)
        elif kind is not float or not _kept(value, floats_exact):
            return False
    if todo is None:
        return True
    seen = {id(items)}
    room = MAX_DEPTH - depth  # fewer containers than this cannot nest past the limit
    while todo:
        container = todo.pop()
        if id(container) in seen:
            return False
        seen.add(id(container))
        room -= 1
        if room < 0:
            return False
        if type(container) is dict:
            if len(container) > _MANY:
                if not _STRINGS.issuperset(map(type, container)):
                    return False
            else:
                for key in container:
                    if type(key) is not str:
                        return False
            container = container.values()
        # A long run of leaves is checked in C, at half the cost per item of the loop
        # (which pays off past a few items: the check builds a set of the types).
        if len(container) > _MANY and _LEAVES.issuperset(map(type, container)):
            continue
        for value in container:
            kind = type(value)
            if kind in _LEAVES:
                continue
            if kind is dict or kind is list:
                todo.append(value)
            elif kind is not float or not _kept(value, floats_exact):
                return False
    return True


_MANY = 8
_STRINGS = frozenset({str})


def problems(items: dict[Any, Any], depth: int) -> list[Problem]:
    """`trouble` of `items` with floats trusted (as the writers take them): the problems."""
    found = trouble(items, depth)
    return found if isinstance(found, list) else []


def plain(items: dict[Any, Any], depth: int) -> bool:
    """Whether `trouble` finds nothing in `items` (floats trusted only on an exact pass)."""
    return clean(items, depth, floats_exact=exact_pass.get())


def _kept(value: float, floats_exact: bool) -> bool:
    """Whether a float is kept as it is: finite, and (unless floats are exact) not what
    orjson may have made of an integer literal beyond 64 bits."""
    return value - value == 0.0 and (floats_exact or abs(value) < 2**63 or not value.is_integer())


def _walk(
    top: str, value: Any, depth: int, seen: set[int], floats_exact: bool
) -> str | Problem | None:
    """`trouble` of the member `top`, walking its containers from a stack."""
    kind = type(value)
    if kind in _LEAVES:
        return None
    if kind is not dict and kind is not list:
        return _leaf_trouble((top,), value, floats_exact)
    if id(value) in seen:
        return (top,), "field.type", _shared(value)
    if depth + 1 > MAX_DEPTH:
        return (top,), "field.type", _TOO_DEEP
    seen.add(id(value))
    # Each container on the stack has a node (its parent's node and its key there), so
    # that the path of a problem is built only when there is one.
    nodes: list[tuple[int, Any]] = [(-1, top)]
    todo: list[tuple[Any, int, int]] = [(value, 0, depth + 1)]
    while todo:
        container, node, level = todo.pop()
        pairs: Iterable[tuple[Any, Any]]
        if type(container) is dict:
            for key in container:
                if type(key) is not str:
                    message = f"expected a string key, got {describe(key)}"
                    return _path(nodes, node, key), "field.type", message
            pairs = container.items()
        else:
            pairs = enumerate(container)
        for key, item in pairs:
            kind = type(item)
            if kind in _LEAVES:
                continue
            if kind is dict or kind is list:
                if id(item) in seen:
                    return _path(nodes, node, key), "field.type", _shared(item)
                if level + 1 > MAX_DEPTH:
                    return (top,), "field.type", _TOO_DEEP
                seen.add(id(item))
                nodes.append((node, key))
                todo.append((item, len(nodes) - 1, level + 1))
                continue
            leaf = _leaf_trouble((), item, floats_exact)
            if leaf == AMBIGUOUS:
                return AMBIGUOUS
            if leaf is not None:
                return _path(nodes, node, key), leaf[1], leaf[2]
    return None


def _leaf_trouble(keys: tuple[Any, ...], value: Any, floats_exact: bool) -> str | Problem | None:
    if type(value) is float:
        if value - value != 0.0:  # inf or nan, which JSON has no number for
            return keys, "field.type", f"expected a JSON value, got {describe(value)}"
        if not floats_exact and abs(value) >= 2**63 and value.is_integer():
            return AMBIGUOUS
        return None
    return keys, "field.type", f"expected a JSON value, got {describe(value)}"


def _shared(value: Any) -> str:
    kind = "an array" if type(value) is list else "an object"
    return (
        f"expected a JSON value, got {kind} met before in the same value"
        " (one that holds itself, or a part shared)"
    )


def _path(nodes: list[tuple[int, Any]], node: int, key: Any) -> tuple[Any, ...]:
    """The keys from the object `trouble` walks to `key`, in the container of `node`."""
    keys = [key]
    while node >= 0:
        node, step = nodes[node]
        keys.append(step)
    return tuple(reversed(keys))


class Invalid(Exception):
    """One or more problems at (or below) the value being structured.

    Each problem is ``(keys, code, message)`` where ``keys`` lead from that value to
    the culprit.
    """

    def __init__(self, problems: Sequence[tuple[tuple[Any, ...], str, str]]) -> None:
        super().__init__(problems)
        self.problems = tuple(problems)

    @classmethod
    def one(cls, code: str, message: str, *keys: Key) -> Invalid:
        return cls([(keys, code, message)])


def describe(value: Any) -> str:
    """``integer 5`` or ``string 'abc'``: the JSON type and a short repr of a value."""
    kind = _JSON_TYPE_NAMES.get(type(value))
    if kind is None:
        kind = "object" if issubclass(type(value), dict) else type(value).__name__
    if value is None:
        return kind
    return f"{kind} {shown(value)}"


def shown(value: Any, width: int = 60) -> str:
    """A repr of `value` at most about `width` characters long, made in bounded time
    whatever `value` holds (a huge or self-holding container, an int past Python's
    conversion limit, a ``__repr__`` that raises)."""
    text = bounded_repr(value)
    if len(text) > width:
        text = text[: width - 15] + "…" + text[-10:]
    return text


def bounded_repr(value: Any) -> str:
    """``repr(value)`` where that is short; else a longer text whose first and last
    characters are those of ``repr(value)`` (within reason), made in bounded time."""
    return _repr(value, 2)


_ITEMS = 4  # items of a container shown; the rest is "…"


def _repr(value: Any, levels: int) -> str:
    kind = type(value)
    if issubclass(kind, str):
        text = str.__str__(value)  # the characters, whatever a subclass does
        return repr(text) if len(text) <= 200 else repr(text[:100] + text[-20:])
    if kind is bool or value is None:
        return repr(value)
    if issubclass(kind, int):
        try:
            return int.__repr__(value)
        except ValueError:  # past the digits Python converts
            return f"<integer of more than {_max_digits()} digits>"
    if issubclass(kind, float):
        return float.__repr__(value)
    if kind is LongLiteral:
        return repr(value)
    if issubclass(kind, dict):
        if levels == 0:
            return "{…}"
        pairs = [
            f"{_repr(key, 0)}: {_repr(item, levels - 1)}"
            for _, (key, item) in zip(range(_ITEMS), dict.items(value), strict=False)
        ]
        return "{" + ", ".join(pairs) + (", …" if dict.__len__(value) > _ITEMS else "") + "}"
    for base, left, right in ((list, "[", "]"), (tuple, "(", ")")):
        if issubclass(kind, base):
            if levels == 0:
                return f"{left}…{right}"
            size = base.__len__(value)
            items = [_repr(base.__getitem__(value, i), levels - 1) for i in range(min(size, 4))]
            return left + ", ".join(items) + (", …" if size > _ITEMS else "") + right
    try:
        text = repr(value)
    except Exception:  # a caller's __repr__ may raise anything
        return f"<{kind.__name__}>"
    return text if len(text) <= 200 else text[:200]


def _max_digits() -> int:
    limit: int = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
    return limit


def wrong_type(expected: str, value: Any) -> Invalid:
    """The problem of finding `value` where a value of type `expected` belongs."""
    return Invalid.one("field.type", f"expected {expected}, got {describe(value)}")


def string(value: Any, _: Any = None) -> str:
    if type(value) is str:
        return value
    raise wrong_type("string", value)


def optional_string(value: Any, _: Any = None) -> str | None:
    if value is None or type(value) is str:
        return value
    raise wrong_type("string or null", value)


def _int_problem(value: Any, expected: str, low: int) -> NoReturn:
    if type(value) is int or type(value) is LongLiteral:
        bound = "non-negative 64-bit integer" if low == 0 else "64-bit integer"
        raise Invalid.one("field.range", f"expected a {bound}, got {shown(value)}")
    if ambiguous(value):
        raise AmbiguousNumber
    raise wrong_type(expected, value)


def integer(value: Any, _: Any = None) -> int:
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    _int_problem(value, "integer", INT64_MIN)


def optional_integer(value: Any, _: Any = None) -> int | None:
    if value is None or (type(value) is int and INT64_MIN <= value <= INT64_MAX):
        return value
    _int_problem(value, "integer or null", INT64_MIN)


def timestamp(value: Any, _: Any = None) -> int:
    if type(value) is int and 0 <= value <= INT64_MAX:
        return value
    _int_problem(value, "integer Unix seconds", 0)


def optional_timestamp(value: Any, _: Any = None) -> int | None:
    if value is None or (type(value) is int and 0 <= value <= INT64_MAX):
        return value
    _int_problem(value, "integer Unix seconds or null", 0)


# A caller's object may answer `==` with anything (an array of booleans, say): only exact
# strings are compared.


def file_id(value: Any, _: Any = None) -> str:
    if type(value) is str:
        if value:
            return value
        raise Invalid.one("file_id.empty", "expected a file id, got empty string ''")
    raise wrong_type("string", value)


def optional_file_id(value: Any, _: Any = None) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        if value:
            return value
        raise Invalid.one("file_id.empty", "expected a file id or null, got empty string ''")
    raise wrong_type("string or null", value)


_STATUSES = {status.value: status for status in Status}
#: The statuses a status must be one of, as messages list them.
STATUS_LIST = ", ".join(repr(value) for value in _STATUSES)


def unknown_status_message(value: str) -> str:
    """What ``status.unknown`` says of `value`: the eight statuses, and what it got."""
    return f"expected one of {STATUS_LIST}, got {shown(value, 80)}"


def status(value: Any, _: Any = None) -> Status:
    if type(value) is Status:
        return value
    if type(value) is str:
        found = _STATUSES.get(value)
        if found is not None:
            return found
        raise Invalid.one("status.unknown", unknown_status_message(value))
    raise wrong_type("string", value)
