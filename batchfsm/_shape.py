"""Find the value, set on a record by hand, that has no place in the wire object.

Records are plain attrs classes without validators (validators would tax every decode),
so a caller may put a `str` where a `Status` belongs or a `None` among the error entries.
The encoders meet such a value only as an AttributeError or TypeError deep in generated
code; this walk, run only then, says which value it was and where.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import Violation
from ._jsonpath import ROOT, child
from ._record import BOOKKEEPING, Batch, Status

__all__ = ["misfit"]

_NONE = type(None)


@functools.cache
def _hints(cl: type) -> dict[str, Any]:
    return typing.get_type_hints(cl)


def misfit(batch: Batch, exc: Exception) -> Violation:
    """The first value in `batch` whose type the wire object has no form for.

    Args:
        batch: A record the encoders failed on.
        exc: How they failed; reported as it is if the walk finds no culprit.
    """
    found = _misfit(batch, Batch, ROOT)
    if found is None:  # pragma: no cover - the walk knows every field of every record
        message = f"batch cannot be written: {type(exc).__name__}: {exc}"
        return Violation("encode.unsupported", ROOT, message)
    return found


def _misfit(value: Any, tp: Any, path: str) -> Violation | None:
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
            return _wrong(path, expected, value)
        return _record_misfit(value, tp, path)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            return _wrong(path, expected, value)
        (element,) = typing.get_args(tp)
        for index, item in enumerate(value):
            found = _misfit(item, element, child(path, index))
            if found is not None:
                return found
        return None
    if origin is dict and not isinstance(value, Mapping):
        return _wrong(path, expected, value)
    if tp is Status and not isinstance(value, Status):
        return _wrong(path, expected, value)
    # Scalars are written as they are; `validate` reports a wrong one.
    return None


def _record_misfit(record: Any, cl: type, path: str) -> Violation | None:
    # `extra` and `omitted` are judged by what the encoder does with them (it updates the
    # wire object with `extra` and deletes each omitted key), so that a value that works,
    # if oddly typed, is never blamed for another's failure.
    extra = record.extra
    if extra:
        try:
            dict(extra)
        except (TypeError, ValueError):
            return _wrong(child(path, "extra"), "dict", extra)
    names = attrs.fields_dict(cl).keys() - BOOKKEEPING
    omitted = getattr(record, "omitted", ())
    try:
        strangers = sorted(repr(name) for name in omitted if name not in names)
    except TypeError:
        return _wrong(child(path, "omitted"), "frozenset", omitted)
    if strangers:
        message = f"omitted names {', '.join(strangers)}, not keys of a {cl.__name__} object"
        return Violation("encode.unsupported", child(path, "omitted"), message)
    for name, tp in _hints(cl).items():
        if name in BOOKKEEPING:
            continue
        found = _misfit(getattr(record, name), tp, child(path, name))
        if found is not None:
            return found
    return None


def _name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    return (origin or tp).__name__  # type: ignore[no-any-return]


def _wrong(path: str, expected: str, value: Any) -> Violation:
    message = f"expected {expected}, got {type(value).__name__} {value!r:.80}"
    return Violation("encode.unsupported", path, message)
