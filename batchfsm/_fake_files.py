"""The fake API's files: uploads, the input file's requests, and the output and error files
written in OpenAI's batch output format, one JSON line per request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import attrs

from ._fake_fate import VALIDATION_CODES
from ._record import BatchError

__all__ = [
    "BAD_BATCH_FILE",
    "FakeFile",
    "Request",
    "fated_problem",
    "first_model",
    "jsonl_head",
    "outcome_line",
    "problems",
    "read_requests",
    "unknown_file",
]

#: OpenAI's 400 for a ``batch`` upload that is not JSONL (docs/research.md §10).
BAD_BATCH_FILE = "Invalid file format for Batch API. Must be .jsonl"
#: The organization a missing input file is said not to be visible to.
ORGANIZATION = "org-batchfsm-fake"


@attrs.define(slots=True, kw_only=True)
class FakeFile:
    """One stored file and the ``file`` object the API serves for it."""

    id: str
    filename: str
    purpose: str
    created_at: int
    content: bytes

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@attrs.frozen(slots=True)
class Request:
    """One line of an input file: its 1-based line number and what it parsed to (None when
    it is not a JSON object)."""

    line: int
    body: dict[str, Any] | None


def jsonl_head(content: bytes) -> bool:
    """Whether `content` is UTF-8 text whose first non-blank line is a JSON object: what
    OpenAI checks of a ``batch`` file at upload (the other lines are checked while the batch
    validates, each bad one failing it with its line number)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    first = next((line for line in text.split("\n") if line.strip()), None)
    if first is None:
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def first_model(requests: Sequence[Request]) -> str | None:
    """The model of the first request that names one: the batch's ``model``."""
    for request in requests:
        params = request.body.get("body") if request.body is not None else None
        if isinstance(params, dict) and isinstance(params.get("model"), str):
            model: str = params["model"]
            return model
    return None


def unknown_file(file_id: str) -> BatchError:
    """The error a batch fails validation with when its input file cannot be read."""
    return BatchError(
        code="invalid_request",
        message=f"Cannot find file {file_id}, or organization {ORGANIZATION} does not have"
        " access to it.",
        param="file_id",
        line=None,
    )


def read_requests(content: bytes) -> list[Request]:
    """The non-blank lines of a JSONL input file, each parsed if it is a JSON object."""
    found: list[Request] = []
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        found.append(Request(number, parsed if isinstance(parsed, dict) else None))
    return found


def _error(code: str, line: int | None, message: str | None = None) -> BatchError:
    text, param, _ = VALIDATION_CODES[code]
    return BatchError(code=code, message=message or text, param=param, line=line)


def problems(requests: Sequence[Request], endpoint: str) -> list[BatchError]:
    """What OpenAI's validation reports for these requests, one error per bad line: a line
    that is not a JSON object, a missing ``custom_id``, ``method``, ``url`` or ``body``, a
    URL other than the endpoint, a repeated ``custom_id``, a streaming request, a request
    naming no model."""
    if not requests:
        return [_error("empty_file", None)]
    found: list[BatchError] = []
    seen: set[object] = set()
    for request in requests:
        body = request.body
        if body is None:
            found.append(_error("invalid_json_line", request.line))
            continue
        missing = next((k for k in ("custom_id", "method", "url", "body") if k not in body), None)
        if missing is not None:
            message = f"Missing required parameter: '{missing}'."
            error = BatchError(
                code="missing_required_parameter",
                message=message,
                param=missing,
                line=request.line,
            )
            found.append(error)
        elif body["url"] != endpoint:
            found.append(_error("invalid_url", request.line))
        elif not isinstance(body["custom_id"], str) or body["custom_id"] in seen:
            found.append(_error("duplicate_custom_id", request.line))
        elif isinstance(body["body"], dict) and body["body"].get("stream") is True:
            found.append(_error("streaming_unsupported", request.line))
        elif not isinstance(body["body"], dict) or "model" not in body["body"]:
            error = BatchError(
                code="invalid_request",
                message="Model parameter is required.",
                param="body.model",
                line=request.line,
            )
            found.append(error)
        if missing is None and isinstance(body["custom_id"], str):
            seen.add(body["custom_id"])
    return found


def fated_problem(code: str, requests: Sequence[Request]) -> BatchError:
    """The error a fate that fails validation with `code` reports, at the last line."""
    line = requests[-1].line if requests and VALIDATION_CODES[code][2] else None
    if code == "model_not_found":
        model = first_model(requests[-1:]) or "gpt-4o-mini"
        message = f"The provided model '{model}' is not supported by the Batch API."
        return _error(code, line, message)
    return _error(code, line)


def _hex(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _body(endpoint: str, request: dict[str, Any], stamp: int, rid: str) -> dict[str, Any]:
    """A small response body of the kind `endpoint` answers, echoing the request's model."""
    params = request.get("body")
    model = params.get("model", "gpt-4o-mini") if isinstance(params, dict) else "gpt-4o-mini"
    usage = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    if endpoint == "/v1/embeddings":
        item = {"object": "embedding", "index": 0, "embedding": [0.0, 0.5, -0.5]}
        return {"object": "list", "data": [item], "model": model, "usage": usage}
    if endpoint == "/v1/responses":
        text = {"type": "output_text", "text": "ok", "annotations": []}
        message = {
            "type": "message",
            "id": f"msg_{rid}",
            "status": "completed",
            "role": "assistant",
            "content": [text],
        }
        return {
            "id": f"resp_{rid}",
            "object": "response",
            "created_at": stamp,
            "status": "completed",
            "model": model,
            "output": [message],
        }
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": "ok"},
        "finish_reason": "stop",
        "logprobs": None,
    }
    return {
        "id": f"chatcmpl-{rid}",
        "object": "chat.completion",
        "created": stamp,
        "model": model,
        "choices": [choice],
        "usage": usage,
    }


#: Why a request did not run: its error's code and message in the error file.
UNRUN = {
    "expired": (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
    "cancelled": (
        "batch_cancelled",
        "This request was not executed because the batch was cancelled.",
    ),
}


def outcome_line(batch_id: str, endpoint: str, request: Request, outcome: str, stamp: int) -> bytes:
    """One line of an output or error file for `request`: ``succeeded``, ``failed`` (the
    request was run and refused), or why it did not run (``expired``, ``cancelled``)."""
    body = request.body or {}
    rid = _hex(batch_id, request.line)
    line: dict[str, Any] = {"id": f"batch_req_{rid}", "custom_id": body.get("custom_id")}
    if outcome == "succeeded":
        reply = _body(endpoint, body, stamp, rid)
        line["response"] = {"status_code": 200, "request_id": rid, "body": reply}
        line["error"] = None
    elif outcome == "failed":
        error = {
            "message": "The model produced invalid content.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
        line["response"] = {"status_code": 400, "request_id": rid, "body": {"error": error}}
        line["error"] = None
    else:
        code, message = UNRUN[outcome]
        line["response"] = None
        line["error"] = {"code": code, "message": message}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"
