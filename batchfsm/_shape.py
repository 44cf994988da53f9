"""The careful writer: a record's wire object with every value checked, or the first value
that has no place in it, named at its path.

Records are plain attrs classes without validators (validators would tax every decode),
so a caller may put anything anywhere: a `str` where a `Status` belongs, a `None` among
the error entries, a datetime or a NaN among the unknown keys, an unknown key named like a
field. The generated writer (`_fastpath.encoder`) answers only for records holding what
the decoder makes; this one answers for every other record. It writes a value the wire
object can hold as it is, even where `validate` would object (a string as a timestamp),
and refuses, with `encode.unsupported`, a value that is not JSON (`_strict.trouble`: the
reader refuses the same), a record of the wrong class, and an unknown key that would
overwrite a field.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import ArgumentError, PayloadError, Violation
from ._jsonpath import ROOT, child, join
from ._record import DEPTHS, Batch, Status, wire_names
from ._strict import bounded_repr, problems

__all__ = ["wire"]

_NONE = type(None)


class _Misfit(Exception):
    """The first value that cannot be written, as the violation that says so."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation)
        self.violation = violation


@functools.cache
def _hints(cl: type) -> dict[str, Any]:
    return typing.get_type_hints(cl)


def wire(batch: Batch) -> dict[str, Any]:
    """The wire object of `batch`, every value checked.

    Raises:
        PayloadError: with one `encode.unsupported` violation, at the first value (in
            field order, then ``omitted``, then ``extra``, record by record) that cannot be
            written.
        ArgumentError: for a `batch` that is not a Batch.
    """
    if not isinstance(batch, Batch):
        raise ArgumentError("batch", f"expected a Batch, got {type(batch).__name__}")
    try:
        return _record(batch, Batch, ROOT)
    except _Misfit as misfit:
        batch_id = getattr(batch, "id", None)
        raise PayloadError(
            [misfit.violation], batch_id if type(batch_id) is str else None
        ) from None


def _record(record: Any, cl: type, path: str) -> dict[str, Any]:
    depth = DEPTHS[cl]
    names = _names(cl)
    hints = _hints(cl)
    out = {
        name: _value(getattr(record, name), hints[name], child(path, name), depth)
        for name in wire_names(cl)
    }
    if "omitted" in attrs.fields_dict(cl):
        for name in _omitted(record.omitted, names, cl, path):
            if out[name] is None:
                del out[name]
    out.update(_extra(record.extra, names, cl, path, depth))
    return out


@functools.cache
def _names(cl: type) -> frozenset[str]:
    return frozenset(wire_names(cl))


def _value(value: Any, tp: Any, path: str, depth: int) -> Any:
    """`value`, written as a field of type `tp` (at `path`, in an object `depth` deep)."""
    args = typing.get_args(tp)
    if _NONE in args:
        if value is None:
            return None
        (tp,) = (arg for arg in args if arg is not _NONE)
        expected = f"{_name(tp)} or None"
    else:
        expected = _name(tp)
    origin = typing.get_origin(tp)
    if attrs.has(tp):
        if not isinstance(value, tp):
            raise _wrong(path, expected, value)
        return _record(value, tp, path)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _wrong(path, expected, value)
        (element,) = typing.get_args(tp)
        return [
            _value(item, element, child(path, index), depth + 1) for index, item in enumerate(value)
        ]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _wrong(path, expected, value)
        pairs = _pairs(value, path, expected)
        _check(pairs, path, depth + 1)
        return pairs
    if tp is Status:
        if type(value) is not Status:
            raise _wrong(path, expected, value)
        return value.value
    # A scalar: any JSON value is written as it is (`validate` reports a wrong one).
    found = problems({"": value}, depth)
    if found:
        keys, _, message = found[0]
        if len(keys) == 1:  # the value itself, not something inside it
            raise _wrong(path, expected, value)
        raise _Misfit(Violation("encode.unsupported", join(path, keys[1:]), message))
    return value


def _omitted(omitted: Any, names: frozenset[str], cl: type, path: str) -> frozenset[str]:
    """The names in `omitted`, each a wire key of `cl` (a set or list of them works)."""
    try:
        listed = frozenset(omitted)
        strangers = sorted(bounded_repr(name) for name in listed if name not in names)
    except Exception:  # not an iterable of hashable names
        raise _wrong(child(path, "omitted"), "frozenset", omitted) from None
    if strangers:
        message = f"omitted names {', '.join(strangers)}, not keys of a {cl.__name__} object"
        raise _Misfit(Violation("encode.unsupported", child(path, "omitted"), message))
    return listed


def _extra(extra: Any, names: frozenset[str], cl: type, path: str, depth: int) -> dict[str, Any]:
    """The unknown keys `extra` (a dict, or anything `dict()` takes), checked."""
    pairs = _pairs(extra, child(path, "extra"), "dict")
    if not pairs:
        return pairs
    _check(pairs, path, depth)
    for key in pairs:
        if key in names:
            message = (
                f"unknown key {key!r} is the name of a {cl.__name__} field: it would"
                " overwrite the field's value (set the field instead)"
            )
            raise _Misfit(Violation("encode.unsupported", child(path, key), message))
    return pairs


def _pairs(value: Any, path: str, expected: str) -> dict[Any, Any]:
    if type(value) is dict:
        return value
    try:
        return dict(value)
    except Exception:  # not a mapping, nor pairs; or a caller's object that raises
        raise _wrong(path, expected, value) from None


def _check(pairs: dict[Any, Any], path: str, depth: int) -> None:
    """Refuse the first member of `pairs` (an object's, `depth` deep) not a JSON value."""
    found = problems(pairs, depth)
    if found:
        keys, _, message = found[0]
        raise _Misfit(Violation("encode.unsupported", join(path, keys), message))


def _name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    return (origin or tp).__name__  # type: ignore[no-any-return]


def _wrong(path: str, expected: str, value: Any) -> _Misfit:
    message = f"expected {expected}, got {type(value).__name__} {bounded_repr(value)[:80]}"
    return _Misfit(Violation("encode.unsupported", path, message))
