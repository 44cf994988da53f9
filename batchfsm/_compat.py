"""The ``compat`` profile: provider quirks rewritten to the canonical wire form.

Each rewrite is recorded as a warning-severity `Violation` with its own code, so that a
validator can say what was odd about a payload it accepted. The caller's mapping is never
modified. The quirks (see docs/codec.md): camelCase keys, capitalised or upper-case
statuses, statuses of other services (``pending``, ``canceled``), ISO-8601, numeric-string,
millisecond and float timestamps, windows spelled ``24hrs``, ``""`` file ids, null request
counts, a null or missing ``endpoint``, and a byte order mark before the JSON text. Only
exact strings, numbers and dicts are rewritten: a caller's subclass or mapping object may do
anything when asked, so it is left for the decoder to report.
"""

from __future__ import annotations

import calendar
import re
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import Severity, Violation
from ._json import Text
from ._jsonpath import ROOT, child
from ._record import (
    MILLISECONDS_FROM,
    TIMESTAMP_FIELDS,
    WINDOW_PATTERN,
    Batch,
    Status,
    unknown_status,
    wire_names,
)
from ._strict import LongLiteral, shown, unknown_status_message
from ._table import INITIAL

__all__ = ["bom_note", "normalize", "without_bom"]

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\Z"
)
_NUMERIC = re.compile(r"\d+(?:\.\d+)?\Z")
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[\s-]+")
_STATUS_VALUES = {status.value for status in Status}
#: Statuses other services send for one of ours: the spelling (read as `_status` reads
#: it), the status it is, and the code that reports the reading. Llumnix answers a new
#: batch ``pending``, AIBrix ``created``, others ``queued``: all before validation.
_STATUS_ALIASES: dict[str, tuple[Status, str]] = {
    **dict.fromkeys(("pending", "created", "queued"), (INITIAL, "compat.status_queued")),
    "canceled": (Status.CANCELLED, "compat.status_canceled"),
}
#: A window in hours or days spelled otherwise: ``24hrs``, ``24 hours``, ``7 Days``.
_WINDOW_SPELLED = re.compile(r"\s*([1-9][0-9]{0,5})\s*(h|hrs?|hours?|d|days?)\s*\Z", re.I)
#: Milliseconds are read below this (microseconds and the like stay errors).
_MILLISECONDS_TO = MILLISECONDS_FROM * 1000
#: The byte order marks a text may start with, as bytes and as str.
_BOMS = (b"\xef\xbb\xbf", "\ufeff")
_FILE_IDS = ("output_file_id", "error_file_id")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@attrs.frozen
class _Shape:
    """The wire keys of one record class, its camelCase aliases, and its nested records."""

    aliases: dict[str, str]
    children: dict[str, tuple[_Shape, bool]]  # key -> (shape, is an array of it)


def _record_class(tp: Any) -> tuple[type | None, bool]:
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)] or [tp]
    inner = args[0]
    if typing.get_origin(inner) is list:
        element = typing.get_args(inner)[0]
        return (element if attrs.has(element) else None), True
    return (inner if isinstance(inner, type) and attrs.has(inner) else None), False


def _shape(cl: type) -> _Shape:
    hints = typing.get_type_hints(cl)
    names = wire_names(cl)
    children = {}
    for name in names:
        nested, is_array = _record_class(hints[name])
        if nested is not None:
            children[name] = (_shape(nested), is_array)
    aliases = {_camel(name): name for name in names if _camel(name) != name}
    return _Shape(aliases, children)


_BATCH_SHAPE = _shape(Batch)


def _note(notes: list[Violation], code: str, path: str, message: str) -> None:
    notes.append(Violation(code, path, message, Severity.WARNING))


def _as_dict(value: Any) -> dict[Any, Any] | None:
    """`value` as a dict, if it is a mapping that can be read."""
    if type(value) is dict:
        return value
    if not isinstance(value, Mapping):
        return None
    try:
        return dict(value)
    except Exception:  # a caller's mapping may raise anything: the decoder reports it
        return None


_NOT_MAPPINGS = frozenset({type(None), str, int, float, bool, list})


def _rename(value: Any, shape: _Shape, path: str, notes: list[Violation]) -> Any:
    plain = _as_dict(value)
    if plain is None:
        return value
    out: dict[Any, Any] = {}
    spelled: dict[str, str] = {}  # wire key -> the key as the source wrote it, for paths
    for key, item in plain.items():
        snake = shape.aliases.get(key) if type(key) is str else None
        if snake is not None and snake not in plain:
            _note(notes, "compat.camel_case", child(path, key), f"key {key!r} read as {snake!r}")
            spelled[snake] = key
            key = snake
        out[key] = item
    for key, (nested, is_array) in shape.children.items():
        if key not in out:
            continue
        item = out[key]
        where = child(path, spelled.get(key, key))
        if is_array and type(item) is list:
            # JSON's scalars and arrays cannot hold a key to rename: passed over without a
            # path, which a megabyte of nulls would otherwise make 250,000 of (and an array
            # of nothing else is left as it is, not copied).
            if _NOT_MAPPINGS.issuperset(map(type, item)):
                continue
            out[key] = [
                e if type(e) in _NOT_MAPPINGS else _rename(e, nested, child(where, i), notes)
                for i, e in enumerate(item)
            ]
        elif not is_array:
            out[key] = _rename(item, nested, where, notes)
    return out


def _iso_seconds(text: str) -> int | None:
    match = _ISO.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, _zulu, sign, off_h, off_m = match.groups()
    try:
        seconds = calendar.timegm(
            (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
        )
    except (ValueError, OverflowError):  # pragma: no cover - timegm checks little
        return None
    if not (
        1 <= int(month) <= 12
        and 1 <= int(day) <= 31
        and int(hour) < 24
        and int(minute) < 60
        and int(second) < 61
    ):
        return None
    if sign is not None:
        offset = int(off_h) * 3600 + int(off_m) * 60
        seconds -= offset if sign == "+" else -offset
    # The fraction is dropped: the result is the whole second the instant falls in.
    return seconds


def _timestamp(value: str, path: str, notes: list[Violation]) -> Any:
    if _NUMERIC.match(value):
        whole = value.split(".")[0].lstrip("0") or "0"
        seconds: int | LongLiteral
        try:
            seconds = int(whole)
        except ValueError:  # more digits than Python converts: refused as out of range
            if not whole.isascii():
                return value
            seconds = LongLiteral(whole)
        message = f"numeric string {shown(value, 80)} read as {shown(seconds, 80)}"
        _note(notes, "compat.timestamp_string", path, message)
        return seconds
    instant = _iso_seconds(value)
    if instant is None:
        return value
    message = f"ISO-8601 time {shown(value, 80)} read as {instant}"
    _note(notes, "compat.timestamp_iso", path, message)
    return instant


def _status(value: str) -> str:
    return _WORD_BREAK.sub("_", value.strip()).lower()


def _read_status(status: str, notes: list[Violation]) -> str | Status:
    canonical = _status(status)
    where = child(ROOT, "status")
    if canonical in _STATUS_VALUES:
        message = f"status {shown(status, 80)} read as {canonical!r}"
        _note(notes, "compat.status_case", where, message)
        return canonical
    alias = _STATUS_ALIASES.get(canonical)
    if alias is None:  # kept as sent: the record loads, and the status is an error
        message = unknown_status_message(status)
        notes.append(Violation("status.unknown", where, message, Severity.ERROR))
        return unknown_status(status)
    known, code = alias
    _note(notes, code, where, f"status {shown(status, 80)} read as {known.value!r}")
    return known.value


def _number_stamp(value: int | float, path: str, notes: list[Violation]) -> int | float:
    """A float timestamp floored, then one in milliseconds read as seconds."""
    seconds: int | float = value
    if type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            return value  # not a number of seconds: the decoder reports it
        seconds = int(value // 1)
        _note(notes, "compat.timestamp_float", path, f"{value!r} read as {seconds}")
    if MILLISECONDS_FROM <= seconds < _MILLISECONDS_TO:
        whole = int(seconds) // 1000
        _note(notes, "compat.timestamp_ms", path, f"{seconds} milliseconds read as {whole} s")
        seconds = whole
    return seconds


def _window(window: str, notes: list[Violation]) -> str:
    if WINDOW_PATTERN.match(window):
        return window
    match = _WINDOW_SPELLED.match(window)
    if match is None:
        return window  # unreadable: the window rule reports it
    spelled = match.group(1) + match.group(2)[0].lower()
    where = child(ROOT, "completion_window")
    _note(notes, "compat.window_spelling", where, f"{shown(window, 80)} read as {spelled!r}")
    return spelled


def without_bom(text: Text) -> Text | None:
    """`text` after the byte order mark it starts with, or None if it starts with none."""
    mark = _BOMS[isinstance(text, str)]
    return text[len(mark) :] if text[: len(mark)] == mark else None


def bom_note() -> Violation:
    """The warning for a byte order mark read before the JSON text."""
    return Violation(
        "compat.bom", ROOT, "a byte order mark before the JSON text was skipped", Severity.WARNING
    )


def normalize(value: Any) -> tuple[Any, list[Violation], frozenset[str]]:
    """Rewrite the quirks of `value` to canonical form.

    Returns:
        The rewritten value (a new dict; `value` is left alone), the warnings that say
        what was rewritten, and the optional keys the result must keep omitted.
    """
    notes: list[Violation] = []
    out = _rename(value, _BATCH_SHAPE, ROOT, notes)
    if type(out) is not dict:  # not a mapping, or one that cannot be read
        return value, notes, frozenset()

    status = out.get("status")
    if type(status) is str and status not in _STATUS_VALUES:
        out["status"] = _read_status(status, notes)

    window = out.get("completion_window")
    if type(window) is str:
        out["completion_window"] = _window(window, notes)

    for key in TIMESTAMP_FIELDS:
        stamp = out.get(key)
        if type(stamp) is str:
            stamp = out[key] = _timestamp(stamp, child(ROOT, key), notes)
        if (type(stamp) is int and stamp >= MILLISECONDS_FROM) or type(stamp) is float:
            out[key] = _number_stamp(stamp, child(ROOT, key), notes)

    for key in _FILE_IDS:
        file_id = out.get(key)
        if type(file_id) is str and not file_id:
            _note(notes, "compat.file_id_empty", child(ROOT, key), f"{key} '' read as null")
            out[key] = None

    counts = _as_dict(out.get("request_counts"))
    if counts is not None and any(
        counts.get(k, 0) is None for k in ("total", "completed", "failed")
    ):
        counts = dict(counts)
        for key in ("total", "completed", "failed"):
            if key in counts and counts[key] is None:
                where = child(child(ROOT, "request_counts"), key)
                _note(notes, "compat.count_null", where, f"request_counts.{key} null read as 0")
                counts[key] = 0
        out["request_counts"] = counts

    absent: frozenset[str] = frozenset()
    if "endpoint" not in out:
        _note(
            notes,
            "compat.endpoint_missing",
            child(ROOT, "endpoint"),
            "endpoint is missing; read as null",
        )
        out["endpoint"] = None
        absent = frozenset({"endpoint"})
    elif out["endpoint"] is None:
        _note(notes, "compat.endpoint_null", child(ROOT, "endpoint"), "endpoint is null")
    return out, notes, absent
