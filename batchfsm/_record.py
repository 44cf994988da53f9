"""The attrs records that model the wire `batch` object, field for field.

The top-level `Batch` is mutable on purpose: the engine changes ``status`` and the
timestamps in place, and transitions writes the state attribute with ``setattr``, so a
frozen record cannot be driven (see docs/engine.md). Every record keeps the keys it does
not know in ``extra`` and remembers in ``omitted`` which optional keys the source left
out, so that encoding gives back what was decoded. A name in ``omitted`` counts only while
its value is None (that is when the key is left out), so records are equal exactly when
their wire objects are.
"""

from __future__ import annotations

import builtins
import enum
import functools
import operator
import re
import typing
from typing import Any

import attrs

from ._errors import Violation

__all__ = [
    "Batch",
    "BatchError",
    "BatchErrors",
    "InputTokensDetails",
    "KNOWN_STATUSES",
    "OutputTokensDetails",
    "RequestCounts",
    "Status",
    "Usage",
]


class Status(str, enum.Enum):
    """The eight statuses of a batch; each value is the wire string, and ``str(status)``
    gives it."""

    VALIDATING = "validating"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


KNOWN_STATUSES: frozenset[Status] = frozenset(Status)
"""The eight statuses. Under ``compat`` a record may hold a status no profile knows, kept
as the service sent it (``status.unknown`` reports it): ``batch.status in KNOWN_STATUSES``
tells it apart."""


def unknown_status(value: str) -> Status:
    """A `Status` that is none of the eight: `value`, as a service sent it.

    The ``compat`` profile keeps a status no profile knows this way, so that the record
    still loads and a scheduler can store and show it: its ``value`` (and the wire) is the
    status as sent, it is in no table (no event moves it; every check reports it as
    ``status.unknown``), and ``status in KNOWN_STATUSES`` is false.
    """
    member = str.__new__(Status, value)
    member._name_ = "UNKNOWN"
    member._value_ = value
    return member


@attrs.define(slots=True, kw_only=True)
class BatchError:
    """One entry of ``errors.data``: why (part of) a batch failed. Every member is optional."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    line: int | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
    omitted: frozenset[str] = attrs.field(default=frozenset(), repr=False)

    def __eq__(self, other: builtins.object) -> bool:
        return _equal(self, other)


@attrs.define(slots=True, kw_only=True)
class BatchErrors:
    """The ``errors`` object of a failed batch: ``{"object": "list", "data": [...]}``."""

    object: str | None = "list"
    data: list[BatchError] | None = attrs.field(factory=list)
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
    omitted: frozenset[str] = attrs.field(default=frozenset(), repr=False)

    def __eq__(self, other: builtins.object) -> bool:
        return _equal(self, other)


@attrs.define(slots=True, kw_only=True)
class RequestCounts:
    """How many requests the batch holds, and how many finished or failed so far."""

    total: int = 0
    completed: int = 0
    failed: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.define(slots=True, kw_only=True)
class InputTokensDetails:
    """The ``usage.input_tokens_details`` object: how many input tokens came from the cache."""

    cached_tokens: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.define(slots=True, kw_only=True)
class OutputTokensDetails:
    """The ``usage.output_tokens_details`` object: how many output tokens were reasoning."""

    reasoning_tokens: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.define(slots=True, kw_only=True)
class Usage:
    """Token usage of a batch (only on batches created after 2025-09-07)."""

    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.define(slots=True, kw_only=True)
class Batch:
    """An OpenAI-style batch object, with every field of the wire object.

    Timestamps are Unix seconds. ``extra`` holds the keys this version does not know,
    verbatim; ``omitted`` names the optional keys the source left out (such a key is
    written back only once it has a value); ``normalizations`` lists what the ``compat``
    profile changed while decoding, as warning `Violation`s, and takes no part in equality.
    Equality compares the wire content: two records are equal when they encode alike. The
    record is mutable (the engine changes ``status`` and the stamps in place), so it is
    not hashable.
    """

    id: str
    object: str = "batch"
    endpoint: str | None
    model: str | None = None
    errors: BatchErrors | None = None
    input_file_id: str
    completion_window: str = "24h"
    status: Status
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: RequestCounts | None = None
    usage: Usage | None = None
    metadata: dict[str, str] | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
    omitted: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    normalizations: tuple[Violation, ...] = attrs.field(default=(), eq=False, repr=False)

    def __eq__(self, other: builtins.object) -> bool:
        return _equal(self, other)


#: The wire keys that carry a lifecycle timestamp, in lifecycle order.
TIMESTAMP_FIELDS: tuple[str, ...] = (
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)

#: The wire keys that hold a file id: a non-empty string (or null, where optional).
FILE_ID_FIELDS: tuple[str, ...] = ("input_file_id", "output_file_id", "error_file_id")

#: The keys the OpenAI spec requires on every batch object.
REQUIRED_FIELDS: frozenset[str] = frozenset(
    {"id", "object", "endpoint", "input_file_id", "completion_window", "status", "created_at"}
)

ENDPOINTS: frozenset[str] = frozenset(
    {
        "/v1/responses",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/completions",
        "/v1/moderations",
        "/v1/images/generations",
        "/v1/images/edits",
        "/v1/videos",
    }
)
"""The endpoints OpenAI's create call accepts (docs/research.md §1).

``Lifecycle(profile="strict")`` creates batches for these only; `validate` reports any
other endpoint (an error under ``strict``, a warning otherwise).
"""

#: The attributes that are bookkeeping of the codec, not wire keys.
BOOKKEEPING: frozenset[str] = frozenset({"extra", "omitted", "normalizations"})


def wire_names(cls: type) -> list[str]:
    """The wire keys of a record class, in field order."""
    return [a.name for a in attrs.fields(cls) if a.name not in BOOKKEEPING]


# Equality of the records that track `omitted`: every wire value and `extra`, then the
# omitted names that still leave a key out (a name whose value is set no longer does).
_COMPARED = {
    cls: operator.attrgetter(*wire_names(cls), "extra") for cls in (Batch, BatchErrors, BatchError)
}
_NAMES = {cls: frozenset(wire_names(cls)) for cls in _COMPARED}


def _equal(record: Any, other: Any) -> bool:
    cls = record.__class__
    if other.__class__ is not cls:
        return NotImplemented  # type: ignore[no-any-return]
    values = _COMPARED[cls]
    return bool(values(record) == values(other)) and _leaving_out(record) == _leaving_out(other)


def _leaving_out(record: Any) -> object:
    """The names in ``record.omitted`` that leave a key out of its wire object: those whose
    value is None, and (set by hand) any that name no key, which the encoders refuse."""
    omitted = record.omitted
    if not omitted:
        return frozenset()
    names = _NAMES[record.__class__]
    try:
        return frozenset(
            name for name in omitted if name not in names or getattr(record, name) is None
        )
    except Exception:  # set by hand to something that is not a set of names
        return omitted


def wire_keys(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """The (required, optional) wire keys of a record class.

    A record that tracks ``omitted`` has optional keys (all of them but `Batch`'s required
    ones); the others (request counts, usage and its details) require every key.
    """
    names = frozenset(wire_names(cls))
    if cls is Batch:
        return REQUIRED_FIELDS, names - REQUIRED_FIELDS
    if "omitted" in attrs.fields_dict(cls):
        return frozenset(), names
    return names, frozenset()


#: OpenAI's limits on metadata: pairs, characters of a key, characters of a value.
METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY = 64
METADATA_MAX_VALUE = 512

#: The least timestamp that must be milliseconds: 10**11 seconds is in the year 5138,
#: 10**11 milliseconds in March 1973 (Zhipu writes ``created_at`` in milliseconds).
MILLISECONDS_FROM = 10**11

_WINDOW = re.compile(r"([1-9][0-9]{0,5})([hd])\Z")
#: How `window_seconds` reads a window: 1 to 999999 hours or days, as ``24h`` or ``7d``
#: (group 1 the number, group 2 the unit). OpenAI takes ``24h`` alone; Groq takes ``24h``
#: to ``7d``, Voyage ``12h`` (docs/research.md).
WINDOW_PATTERN: re.Pattern[str] = _WINDOW
_UNIT_SECONDS = {"h": 3600, "d": 86400}


@functools.lru_cache(maxsize=64)
def window_seconds(window: str) -> int | None:
    """The seconds of a completion window in hours or days (``"24h"`` → 86400, ``"7d"`` →
    604800), else None."""
    match = _WINDOW.match(window)
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else None


def _depths() -> dict[type, int]:
    """How deep each record class's object lies in a batch document (the batch is level 1;
    an error object is level 4, inside ``errors`` and its ``data`` array)."""
    found: dict[type, int] = {}
    todo: list[tuple[type, int]] = [(Batch, 1)]
    while todo:
        cls, depth = todo.pop()
        found[cls] = depth
        hints = typing.get_type_hints(cls)
        for name in wire_names(cls):
            for arg in (hints[name], *typing.get_args(hints[name])):
                if typing.get_origin(arg) is list and attrs.has(typing.get_args(arg)[0]):
                    todo.append((typing.get_args(arg)[0], depth + 2))
                elif isinstance(arg, type) and attrs.has(arg):
                    todo.append((arg, depth + 1))
    return found


#: The depth of each record class's object in a batch document.
DEPTHS: dict[type, int] = _depths()
