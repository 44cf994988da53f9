"""Strict scalar checks: no coercion, so a string is never read as a number or vice versa.

Each check returns the value unchanged or raises `Invalid`, which the codec turns into a
`Violation` at the JSONPath where the value stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, NoReturn

from ._record import Status

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    dict: "object",
    list: "array",
}

Key = str | int


#: Set while decoding with exact integers (the stdlib reader, or Python values from the
#: caller); unset while orjson's reading is trusted.
exact_pass: ContextVar[bool] = ContextVar("batchfsm_exact_pass", default=False)


class AmbiguousNumber(Exception):
    """orjson read an integer literal too large for 64 bits as a float: decode exactly."""


def ambiguous(value: Any) -> bool:
    """Whether `value` may be an integer literal beyond 64 bits that orjson made a float."""
    return (
        type(value) is float and abs(value) >= 2**63 and value.is_integer() and not exact_pass.get()
    )


def exact(extra: dict[str, Any]) -> bool:
    """Whether no value in `extra`, at any depth, may be a number orjson made a float."""
    stack: list[Any] = list(extra.values())
    while stack:
        value = stack.pop()
        if ambiguous(value):
            return False
        if type(value) is dict:
            stack.extend(value.values())
        elif type(value) is list:
            stack.extend(value)
    return True


class Invalid(Exception):
    """One or more problems at (or below) the value being structured.

    Each problem is ``(keys, code, message)`` where ``keys`` lead from that value to
    the culprit.
    """

    def __init__(self, problems: Sequence[tuple[tuple[Key, ...], str, str]]) -> None:
        super().__init__(problems)
        self.problems = tuple(problems)

    @classmethod
    def one(cls, code: str, message: str, *keys: Key) -> Invalid:
        return cls([(keys, code, message)])


def describe(value: Any) -> str:
    """``integer 5`` or ``string 'abc'``: the JSON type and a short repr of a value."""
    kind = _JSON_TYPE_NAMES.get(type(value))
    if kind is None:
        kind = "object" if isinstance(value, dict) else type(value).__name__
    if value is None:
        return kind
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:45] + "…" + shown[-10:]
    return f"{kind} {shown}"


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
    if type(value) is int:
        bound = "non-negative 64-bit integer" if low == 0 else "64-bit integer"
        raise Invalid.one("field.range", f"expected a {bound}, got {value!r}")
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


def file_id(value: Any, _: Any = None) -> str:
    if type(value) is str and value:
        return value
    if value == "":
        raise Invalid.one("file_id.empty", "expected a file id, got empty string ''")
    raise wrong_type("string", value)


def optional_file_id(value: Any, _: Any = None) -> str | None:
    if value is None or (type(value) is str and value):
        return value
    if value == "":
        raise Invalid.one("file_id.empty", "expected a file id or null, got empty string ''")
    raise wrong_type("string or null", value)


_STATUSES = {status.value: status for status in Status}
_STATUS_LIST = ", ".join(repr(value) for value in _STATUSES)


def status(value: Any, _: Any = None) -> Status:
    try:
        return _STATUSES[value]
    except (KeyError, TypeError):
        pass
    if type(value) is str:
        raise Invalid.one("status.unknown", f"expected one of {_STATUS_LIST}, got {value!r}")
    raise wrong_type("string", value)
