"""Hypothesis strategies for type-correct wire objects, for the codec's own tests.

These are objects the codec must accept, whatever their lifecycle consistency: any
status with any stamps, unknown keys at every depth and absent optional keys. The
lifecycle-valid strategies of ``batchfsm.strategies`` build on the engine instead.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from batchfsm._record import MILLISECONDS_FROM, TIMESTAMP_FIELDS, Status


def minimal_payload(**changes: Any) -> dict[str, Any]:
    """A valid payload with only the required keys (a batch just created), with `changes`."""
    return {
        "id": "batch_abc123",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": "file-abc123",
        "completion_window": "24h",
        "status": "validating",
        "created_at": 1711471533,
        **changes,
    }


INT64 = st.integers(-(2**63), 2**63 - 1)
# Timestamps compat reads as they are: not those of 12 to 14 digits, which it reads as
# milliseconds (the openai profile reports them: stamp.milliseconds).
STAMP = st.integers(0, MILLISECONDS_FROM - 1) | st.integers(MILLISECONDS_FROM * 1000, 2**63 - 1)
STATUSES = tuple(status.value for status in Status)
STAMP_KEYS = tuple(name for name in TIMESTAMP_FIELDS if name != "created_at")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _object(
    required: dict[str, st.SearchStrategy[Any]],
    optional: dict[str, st.SearchStrategy[Any]] | None = None,
    *,
    unknown: bool = True,
) -> st.SearchStrategy[dict[str, Any]]:
    known = set(required) | set(optional or {})
    base = st.fixed_dictionaries(required, optional=optional or {})
    if not unknown:
        return base
    extra = st.dictionaries(
        st.text(max_size=10).filter(lambda key: key not in known), json_values, max_size=2
    )
    return st.tuples(base, extra).map(lambda pair: {**pair[0], **pair[1]})


def _nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def wire_batches(*, unknown: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Type-correct wire batch objects, canonical for the ``openai`` profile."""
    error = _object(
        {},
        {
            "code": _nullable(st.text(max_size=20)),
            "message": _nullable(st.text(max_size=40)),
            "param": _nullable(st.text(max_size=10)),
            "line": _nullable(INT64),
        },
        unknown=unknown,
    )
    errors = _object(
        {},
        {"object": _nullable(st.just("list")), "data": _nullable(st.lists(error, max_size=3))},
        unknown=unknown,
    )
    counts = _object({"total": INT64, "completed": INT64, "failed": INT64}, unknown=unknown)
    usage = _object(
        {
            "input_tokens": INT64,
            "input_tokens_details": _object({"cached_tokens": INT64}, unknown=unknown),
            "output_tokens": INT64,
            "output_tokens_details": _object({"reasoning_tokens": INT64}, unknown=unknown),
            "total_tokens": INT64,
        },
        unknown=unknown,
    )
    file_id = st.text(min_size=1, max_size=30)
    optional: dict[str, st.SearchStrategy[Any]] = {
        "model": _nullable(st.text(max_size=20)),
        "errors": _nullable(errors),
        "output_file_id": _nullable(file_id),
        "error_file_id": _nullable(file_id),
        "request_counts": _nullable(counts),
        "usage": _nullable(usage),
        "metadata": _nullable(
            st.dictionaries(st.text(max_size=64), st.text(max_size=20), max_size=4)
        ),
    }
    optional.update({key: _nullable(STAMP) for key in STAMP_KEYS})
    return _object(
        {
            "id": st.text(max_size=40),
            "object": st.just("batch"),
            "endpoint": st.sampled_from(
                ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"]
            ),
            "input_file_id": file_id,
            "completion_window": st.just("24h"),
            "status": st.sampled_from(STATUSES),
            "created_at": STAMP,
        },
        optional,
        unknown=unknown,
    )
