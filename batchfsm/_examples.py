"""Every violation code the validator reports, with what it means and a minimal payload
that triggers it. docs/violations.md is generated from this catalog, and a test checks
that each example really reports its code."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import attrs

from ._compat import COMPAT_CODES

__all__ = ["CODES", "Code", "base_payload", "example"]


@attrs.frozen
class Code:
    """A violation code: its meaning, and how to make a payload that breaks its rule."""

    name: str
    summary: str
    profile: str
    build: Callable[[dict[str, Any]], Any] = attrs.field(repr=False)
    history: bool = False


def base_payload() -> dict[str, Any]:
    """A small, consistent completed batch: the start of every example."""
    return {
        "id": "batch_abc123",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "errors": None,
        "input_file_id": "file-abc123",
        "completion_window": "24h",
        "status": "completed",
        "output_file_id": "file-out",
        "error_file_id": "file-err",
        "created_at": 1711471533,
        "in_progress_at": 1711471538,
        "expires_at": 1711557933,
        "finalizing_at": 1711493133,
        "completed_at": 1711493163,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 100, "completed": 95, "failed": 5},
        "metadata": {"customer_id": "user_123456789"},
        "usage": {
            "input_tokens": 1500,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens": 500,
            "output_tokens_details": {"reasoning_tokens": 300},
            "total_tokens": 2000,
        },
    }


def _set(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def build(payload: dict[str, Any]) -> dict[str, Any]:
        payload.update(changes)
        return payload

    return build


def _drop(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def build(payload: dict[str, Any]) -> dict[str, Any]:
        del payload[key]
        return payload

    return build


def _in(key: str, **changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def build(payload: dict[str, Any]) -> dict[str, Any]:
        payload[key].update(changes)
        return payload

    return build


def _text(text: bytes) -> Callable[[dict[str, Any]], bytes]:
    return lambda payload: text


def _validating(payload: dict[str, Any]) -> dict[str, Any]:
    payload.update(
        status="validating", in_progress_at=None, finalizing_at=None, completed_at=None,
        output_file_id=None, error_file_id=None,
        request_counts={"total": 0, "completed": 0, "failed": 0},
    )  # fmt: skip
    return payload


def _camel(payload: dict[str, Any]) -> dict[str, Any]:
    payload["inputFileId"] = payload.pop("input_file_id")
    return payload


def _history(*steps: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    def build(payload: dict[str, Any]) -> list[dict[str, Any]]:
        first = copy.deepcopy(payload)
        second = copy.deepcopy(payload)
        for step in steps:
            second = step(second)
        return [first, second]

    return build


def _counts_went_down(payload: dict[str, Any]) -> list[dict[str, Any]]:
    payload.update(status="in_progress", finalizing_at=None, completed_at=None,
                   output_file_id=None, error_file_id=None)  # fmt: skip
    earlier = copy.deepcopy(payload)
    earlier["request_counts"] = {"total": 100, "completed": 50, "failed": 0}
    payload["request_counts"] = {"total": 100, "completed": 40, "failed": 0}
    return [earlier, payload]


def _failed(payload: dict[str, Any]) -> dict[str, Any]:
    payload.update(status="failed", finalizing_at=None, completed_at=None, failed_at=1711471540,
                   output_file_id=None, error_file_id=None, in_progress_at=None)  # fmt: skip
    return payload


def _errors_on_completed(payload: dict[str, Any]) -> dict[str, Any]:
    payload["errors"] = {"object": "list", "data": [{"code": "x", "message": "m"}]}
    return payload


_ENTRIES: list[tuple[str, str, str, Callable[[dict[str, Any]], Any]]] = [
    # decoding (the codec)
    ("json.empty", "the input is empty or blank", "openai", _text(b"")),
    ("json.encoding", "the bytes are not UTF-8", "openai", _text(b'{"id": "\xff"}')),
    ("json.syntax", "the text is not JSON", "openai", _text(b'{"id": ')),
    ("json.not_object", "the JSON value is not an object", "openai", _text(b"[]")),
    ("field.missing", "a required key is absent", "openai", _drop("status")),
    ("field.type", "a value has the wrong JSON type", "openai", _set(created_at="1711471533")),
    (
        "field.range",
        "an integer is outside 64 bits, or a timestamp is negative",
        "openai",
        _set(completed_at=-1),
    ),
    ("status.unknown", "status is not one of the eight statuses", "openai", _set(status="done")),
    ("file_id.empty", "a file id is the empty string", "openai", _set(input_file_id="")),
    # wire values
    ("object.invalid", "object is not 'batch'", "openai", _set(object="job")),
    (
        "endpoint.unknown",
        "endpoint is not one OpenAI accepts (a warning except under strict)",
        "openai",
        _set(endpoint="/chat/completions"),
    ),
    (
        "window.unknown",
        "completion_window is not '24h' (a warning for other hours except under strict)",
        "openai",
        _set(completion_window="1d"),
    ),
    ("id.prefix", "the id does not start with 'batch_' (a warning)", "openai", _set(id="abc123")),
    (
        "file_id.prefix",
        "a file id does not start with 'file-' (a warning)",
        "openai",
        _set(output_file_id="file_out"),
    ),
    # stamps
    (
        "stamp.missing",
        "a stamp every path to the status sets is null",
        "openai",
        _set(finalizing_at=None),
    ),
    (
        "stamp.unexpected",
        "a stamp no path to the status sets is present",
        "openai",
        _set(cancelled_at=1711493170),
    ),
    (
        "stamp.order",
        "a stamp is earlier than one the lifecycle sets before it",
        "openai",
        _set(completed_at=1711493100),
    ),
    (
        "expires_at.missing",
        "expires_at is null (it is set at creation)",
        "openai",
        _set(expires_at=None),
    ),
    (
        "expires_at.window",
        "expires_at is not created_at + completion_window (± 60 s)",
        "openai",
        _set(expires_at=1711471533 + 3600),
    ),
    (
        "stamp.expired_early",
        "expired_at is before expires_at",
        "openai",
        _set(
            status="expired",
            completed_at=None,
            finalizing_at=None,
            expired_at=1711557000,
            request_counts={"total": 100, "completed": 10, "failed": 0},
        ),
    ),
    # counts, files, errors
    (
        "counts.negative",
        "a request count is negative",
        "openai",
        _set(
            status="in_progress",
            finalizing_at=None,
            completed_at=None,
            request_counts={"total": 100, "completed": -1, "failed": 0},
        ),
    ),
    (
        "counts.exceeds_total",
        "completed + failed exceeds total",
        "openai",
        _in("request_counts", completed=99),
    ),
    (
        "counts.unaccounted",
        "a completed batch does not account for every request",
        "openai",
        _in("request_counts", completed=90),
    ),
    (
        "files.output_missing",
        "a completed batch with completed requests has no output file",
        "openai",
        _set(output_file_id=None),
    ),
    (
        "files.error_missing",
        "a completed batch with failed requests has no error file",
        "openai",
        _set(error_file_id=None),
    ),
    ("errors.missing", "a failed batch lists no error", "openai", _failed),
    (
        "errors.unexpected",
        "a batch that did not fail lists errors (a warning)",
        "openai",
        _errors_on_completed,
    ),
    # metadata and usage
    (
        "metadata.too_many",
        "more than 16 metadata pairs",
        "openai",
        _set(metadata={f"k{i}": "v" for i in range(17)}),
    ),
    (
        "metadata.key_too_long",
        "a metadata key longer than 64 characters",
        "openai",
        _set(metadata={"k" * 65: "v"}),
    ),
    (
        "metadata.value_too_long",
        "a metadata value longer than 512 characters",
        "openai",
        _set(metadata={"k": "v" * 513}),
    ),
    (
        "usage.negative",
        "a token count is negative",
        "openai",
        _in("usage", input_tokens_details={"cached_tokens": -1}),
    ),
    (
        "usage.total_mismatch",
        "total_tokens is not input_tokens + output_tokens",
        "openai",
        _in("usage", total_tokens=2001),
    ),
    (
        "usage.cached_exceeds_input",
        "cached_tokens exceeds input_tokens",
        "openai",
        _in("usage", input_tokens_details={"cached_tokens": 1501}),
    ),
    (
        "usage.reasoning_exceeds_output",
        "reasoning_tokens exceeds output_tokens",
        "openai",
        _in("usage", output_tokens_details={"reasoning_tokens": 501}),
    ),
    # compat normalisations (warnings, only under the compat profile)
    ("compat.camel_case", COMPAT_CODES["compat.camel_case"], "compat", _camel),
    ("compat.status_case", COMPAT_CODES["compat.status_case"], "compat", _set(status="Completed")),
    (
        "compat.timestamp_iso",
        COMPAT_CODES["compat.timestamp_iso"],
        "compat",
        _set(created_at="2024-03-26T16:45:33Z"),
    ),
    (
        "compat.timestamp_string",
        COMPAT_CODES["compat.timestamp_string"],
        "compat",
        _set(created_at="1711471533"),
    ),
    (
        "compat.file_id_empty",
        COMPAT_CODES["compat.file_id_empty"],
        "compat",
        _set(output_file_id="", request_counts={"total": 100, "completed": 0, "failed": 100}),
    ),
    (
        "compat.count_null",
        COMPAT_CODES["compat.count_null"],
        "compat",
        lambda p: _validating(p) | {"request_counts": {"total": None, "completed": 0, "failed": 0}},
    ),
    ("compat.endpoint_null", COMPAT_CODES["compat.endpoint_null"], "compat", _set(endpoint=None)),
    (
        "compat.endpoint_missing",
        COMPAT_CODES["compat.endpoint_missing"],
        "compat",
        _drop("endpoint"),
    ),
]

_HISTORY: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
    ("history.id_changed", "a later snapshot has another id", _history(_set(id="batch_other"))),
    (
        "history.unreachable",
        "a status cannot follow the one before, even skipping polls",
        _history(_failed, _set(errors={"object": "list", "data": [{"code": "x"}]})),
    ),
    (
        "history.stamp_changed",
        "a stamp changed or disappeared",
        _history(_set(in_progress_at=1711471539)),
    ),
    (
        "history.field_changed",
        "created_at, expires_at, input_file_id or endpoint changed",
        _history(_set(input_file_id="file-other")),
    ),
    ("history.counts_decreased", "a request count went down", _counts_went_down),
]


def _catalog() -> dict[str, Code]:
    codes = {
        name: Code(name, summary, profile, build) for name, summary, profile, build in _ENTRIES
    }
    for name, summary, build in _HISTORY:
        codes[name] = Code(name, summary, "openai", build, history=True)
    return codes


#: Every code `validate` and `check_history` can report, in catalog order.
CODES: dict[str, Code] = _catalog()


def example(name: str) -> Any:
    """A minimal payload (or, for history codes, list of snapshots) that reports `name`."""
    return CODES[name].build(base_payload())
