"""JSON text ⇄ Python values, with orjson where it is available and the stdlib elsewhere.

Every decoding failure becomes a `PayloadError` here, so no decoder exception reaches a
caller. orjson reads an integer literal outside the 64-bit range as a float; `parse_exact`
is the slower stdlib reading that keeps such integers exact, used only when it matters.
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import PayloadError, Violation
from ._jsonpath import ROOT

try:
    import orjson
except ImportError:  # pragma: no cover - only on interpreters orjson does not support
    orjson = None  # type: ignore[assignment]

__all__ = ["Text", "encode", "parse", "parse_exact", "quick_parse"]

Text = bytes | bytearray | memoryview | str


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode_problem(data: Text, exc: Exception) -> PayloadError:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if not raw.strip():
        return PayloadError(
            [Violation("json.empty", ROOT, "expected a JSON object, got empty input")]
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        message = f"input is not valid UTF-8: byte {raw[bad.start]:#04x} at offset {bad.start}"
        return PayloadError([Violation("json.encoding", ROOT, message)])
    return PayloadError([Violation("json.syntax", ROOT, f"input is not valid JSON: {exc}")])


def parse_exact(data: Text) -> Any:
    """Decode JSON text with the stdlib, keeping integers of any size exact."""
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        if isinstance(data, str):
            text.encode("utf-8")  # lone surrogates are not valid text
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _decode_problem(data, exc) from None


if orjson is not None:
    #: The bare reader for the hot path: raises a ValueError on bad input, which `parse`
    #: then explains.
    quick_parse = orjson.loads

    def parse(data: Text) -> Any:
        """Decode JSON text; integers beyond 64 bits may come back as floats."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise _decode_problem(data, exc) from None

    def encode(value: Any) -> str:
        """Encode a JSON value as compact text."""
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError as exc:
            if str(exc) == "Integer exceeds 64-bit range":
                return _encode_stdlib(value)
            raise _encode_problem(exc) from None

else:  # pragma: no cover - exercised only without orjson
    parse = quick_parse = parse_exact

    def encode(value: Any) -> str:
        """Encode a JSON value as compact text."""
        return _encode_stdlib(value)


def _encode_stdlib(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise _encode_problem(exc) from None


def _encode_problem(exc: Exception) -> PayloadError:
    message = f"batch holds a value JSON cannot represent: {exc}"
    return PayloadError([Violation("encode.unsupported", ROOT, message)])
