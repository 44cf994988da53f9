"""The attrs records that model the wire `batch` object, field for field.

The top-level `Batch` is mutable on purpose: the engine changes ``status`` and the
timestamps in place, and transitions writes the state attribute with ``setattr``, so a
frozen record cannot be driven (see docs/engine.md). Every record keeps the keys it does
not know in ``extra`` and remembers in ``omitted`` which optional keys the source left
out, so that encoding gives back what was decoded.
"""

from __future__ import annotations

import enum
import functools
import re
from typing import Any

import attrs

from ._errors import Violation

__all__ = [
    "Batch",
    "BatchError",
    "BatchErrors",
    "InputTokensDetails",
    "OutputTokensDetails",
    "RequestCounts",
    "Status",
    "Usage",
]


class Status(str, enum.Enum):
    """The eight statuses of a batch; each value is the wire string."""

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


@attrs.define(slots=True, kw_only=True)
class BatchError:
    """One entry of ``errors.data``: why (part of) a batch failed. Every member is optional."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    line: int | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
    omitted: frozenset[str] = attrs.field(default=frozenset(), repr=False)


@attrs.define(slots=True, kw_only=True)
class BatchErrors:
    """The ``errors`` object of a failed batch: ``{"object": "list", "data": [...]}``."""

    object: str | None = "list"
    data: list[BatchError] | None = attrs.field(factory=list)
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
    omitted: frozenset[str] = attrs.field(default=frozenset(), repr=False)


@attrs.define(slots=True, kw_only=True)
class RequestCounts:
    """How many requests the batch holds, and how many finished or failed so far."""

    total: int = 0
    completed: int = 0
    failed: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.define(slots=True, kw_only=True)
class InputTokensDetails:
    """``usage.input_tokens_details``."""

    cached_tokens: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.define(slots=True, kw_only=True)
class OutputTokensDetails:
    """``usage.output_tokens_details``."""

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

    ``extra`` holds the keys this version does not know, verbatim; ``omitted`` names the
    optional keys the source left out (such a key is written back only once it has a
    value); ``normalizations`` lists what the ``compat`` profile changed while decoding.
    Equality compares the wire content: two decodes of the same JSON are equal.
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

#: The keys the OpenAI spec requires on every batch object.
REQUIRED_FIELDS: frozenset[str] = frozenset(
    {"id", "object", "endpoint", "input_file_id", "completion_window", "status", "created_at"}
)

#: The endpoints OpenAI's create call accepts (docs/research.md §1).
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

#: The attributes that are bookkeeping of the codec, not wire keys.
BOOKKEEPING: frozenset[str] = frozenset({"extra", "omitted", "normalizations"})


def wire_names(cls: type) -> list[str]:
    """The wire keys of a record class, in field order."""
    return [a.name for a in attrs.fields(cls) if a.name not in BOOKKEEPING]


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

_WINDOW = re.compile(r"([1-9][0-9]{0,5})h\Z")


@functools.lru_cache(maxsize=64)
def window_seconds(window: str) -> int | None:
    """The seconds of a completion window written in hours (``"24h"`` → 86400), else None."""
    match = _WINDOW.match(window)
    return int(match.group(1)) * 3600 if match else None
