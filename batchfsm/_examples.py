"""The builders of the rules' minimal examples: each takes a copy of `base_payload()` and
breaks one thing in it. docs/violations.md shows them, and a test checks that each
example reports exactly its code."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

Build = Callable[[dict[str, Any]], Any]


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


def setting(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def build(payload: dict[str, Any]) -> dict[str, Any]:
        payload.update(changes)
        return payload

    return build


def dropping(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def build(payload: dict[str, Any]) -> dict[str, Any]:
        del payload[key]
        return payload

    return build


def inside(key: str, **changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def build(payload: dict[str, Any]) -> dict[str, Any]:
        payload[key].update(changes)
        return payload

    return build


def hand_set(**values: Any) -> Callable[[dict[str, Any]], Any]:
    """A `Batch` decoded from the payload, with attributes then set by hand to `values`."""

    def build(payload: dict[str, Any]) -> Any:
        from ._codec import structure  # the codec reads the rules: import it when used

        batch = structure(payload)
        for name, value in values.items():
            object.__setattr__(batch, name, value)
        return batch

    return build


def raw(text: bytes) -> Callable[[dict[str, Any]], bytes]:
    return lambda payload: text


def validating(payload: dict[str, Any]) -> dict[str, Any]:
    payload.update(
        status="validating", in_progress_at=None, finalizing_at=None, completed_at=None,
        output_file_id=None, error_file_id=None,
        request_counts={"total": 0, "completed": 0, "failed": 0},
    )  # fmt: skip
    return payload


def camel(payload: dict[str, Any]) -> dict[str, Any]:
    payload["inputFileId"] = payload.pop("input_file_id")
    return payload


def history(*steps: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    def build(payload: dict[str, Any]) -> list[dict[str, Any]]:
        first = copy.deepcopy(payload)
        second = copy.deepcopy(payload)
        for step in steps:
            second = step(second)
        return [first, second]

    return build


def counts_went_down(payload: dict[str, Any]) -> list[dict[str, Any]]:
    payload.update(status="in_progress", finalizing_at=None, completed_at=None,
                   output_file_id=None, error_file_id=None)  # fmt: skip
    earlier = copy.deepcopy(payload)
    earlier["request_counts"] = {"total": 100, "completed": 50, "failed": 0}
    payload["request_counts"] = {"total": 100, "completed": 40, "failed": 0}
    return [earlier, payload]


def failed(payload: dict[str, Any]) -> dict[str, Any]:
    payload.update(status="failed", finalizing_at=None, completed_at=None, failed_at=1711471540,
                   output_file_id=None, error_file_id=None, in_progress_at=None)  # fmt: skip
    return payload


def errors_on_completed(payload: dict[str, Any]) -> dict[str, Any]:
    payload["errors"] = {"object": "list", "data": [{"code": "x", "message": "m"}]}
    return payload


def with_bom(payload: dict[str, Any]) -> bytes:
    """The payload as JSON text after a UTF-8 byte order mark."""
    return b"\xef\xbb\xbf" + json.dumps(payload).encode()


def listed(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the one item of a list envelope, as ``GET /v1/batches`` answers."""
    return {"object": "list", "data": [payload], "first_id": payload["id"],
            "last_id": payload["id"], "has_more": False}  # fmt: skip


def cancelled(payload: dict[str, Any]) -> dict[str, Any]:
    payload.update(status="cancelled", finalizing_at=None, completed_at=None,
                   cancelling_at=1711480000, cancelled_at=1711480600,
                   output_file_id=None, error_file_id=None,
                   request_counts={"total": 100, "completed": 40, "failed": 0})  # fmt: skip
    return payload
