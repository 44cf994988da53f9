"""Hypothesis strategies for batches, wire payloads, broken payloads and histories.

Needs the ``hypothesis`` extra (``pip install batchfsm[hypothesis]``). Every valid batch is
produced by driving the real engine along a random path of the lifecycle table, so it is
reachable by construction and shrinks towards short paths, small counts and no extras.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from ._catalog import CODES, example
from ._codec import check_profile, unstructure
from ._engine import Lifecycle, ManualClock
from ._errors import ArgumentError
from ._record import (
    ENDPOINTS,
    METADATA_MAX_KEY,
    METADATA_MAX_PAIRS,
    TIMESTAMP_FIELDS,
    Batch,
    BatchError,
    InputTokensDetails,
    OutputTokensDetails,
    Status,
    Usage,
)
from ._table import EVENTS, reachable, transitions_for

__all__ = [
    "batches",
    "event_sequences",
    "histories",
    "invalid_payloads",
    "payloads",
]

_OPTIONAL_KEYS = (
    "model",
    "errors",
    "output_file_id",
    "error_file_id",
    *(name for name in TIMESTAMP_FIELDS if name != "created_at"),
    "request_counts",
    "usage",
    "metadata",
)
_ERROR_CODES = ("invalid_json_line", "missing_required_parameter", "token_limit_exceeded",
                "invalid_request", "model_not_found")  # fmt: skip

_hex = st.text("0123456789abcdef", min_size=32, max_size=32)
_ids = _hex.map(lambda digits: "batch_" + digits)
_file_ids = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6,
                    max_size=24).map(lambda tail: "file-" + tail)  # fmt: skip
_metadata = st.none() | st.dictionaries(
    st.text(min_size=1, max_size=METADATA_MAX_KEY),
    st.text(max_size=64),
    max_size=METADATA_MAX_PAIRS,
)
_models = st.none() | st.sampled_from(["gpt-4o-mini", "gpt-5-2025-08-07", "text-embedding-3-small"])
_errors = st.lists(
    st.builds(
        BatchError,
        code=st.sampled_from(_ERROR_CODES),
        message=st.text(max_size=40),
        param=st.none() | st.sampled_from(["custom_id", "body.model", "url"]),
        line=st.none() | st.integers(1, 50_000),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def _usage(draw: st.DrawFn) -> Usage:
    input_tokens = draw(st.integers(0, 10**7))
    output_tokens = draw(st.integers(0, 10**7))
    return Usage(
        input_tokens=input_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=draw(st.integers(0, input_tokens))),
        output_tokens=output_tokens,
        output_tokens_details=OutputTokensDetails(
            reasoning_tokens=draw(st.integers(0, output_tokens))
        ),
        total_tokens=input_tokens + output_tokens,
    )


@st.composite
def _driven(draw: st.DrawFn, status: Status | None, profile: str) -> list[Batch]:
    """Snapshots (copies) of one batch after creation and after each event of a random path."""
    edges = transitions_for(profile)
    target = draw(st.sampled_from(list(Status))) if status is None else status
    clock = ManualClock(draw(st.integers(1_700_000_000, 1_800_000_000)))
    batch_id = draw(_ids)
    lifecycle = Lifecycle(clock, profile=profile, id_factory=lambda: batch_id)
    endpoint = draw(st.sampled_from(sorted(ENDPOINTS)))
    batch = lifecycle.create(
        input_file_id=draw(_file_ids),
        endpoint=endpoint,
        metadata=draw(_metadata),
        model=draw(_models),
    )
    if draw(st.booleans()):
        batch.usage = draw(_usage())
    snapshots = [copy.deepcopy(batch)]
    while batch.status is not target:
        options = [
            t for t in edges if t.source is batch.status and target in reachable(edges, t.dest)
        ]
        edge = draw(st.sampled_from(options))
        clock.now += draw(st.integers(0, 3_600))
        _fire(draw, lifecycle, batch, edge.event, clock)
        snapshots.append(copy.deepcopy(batch))
    return snapshots


def _fire(
    draw: st.DrawFn, lifecycle: Lifecycle, batch: Batch, event: str, clock: ManualClock
) -> None:
    if event == "start":
        lifecycle.start(batch, total=draw(st.integers(0, 50_000)))
    elif event == "fail":
        lifecycle.fail(batch, draw(_errors))
    elif event == "finalize":
        counts = batch.request_counts
        assert counts is not None
        left = counts.total - counts.completed - counts.failed
        failed = draw(st.integers(0, left))
        lifecycle.record_progress(batch, completed=left - failed, failed=failed)
        lifecycle.finalize(batch)
    elif event == "complete":
        counts = batch.request_counts
        assert counts is not None
        output = draw(_file_ids) if counts.completed or draw(st.booleans()) else None
        errors = draw(_file_ids) if counts.failed or draw(st.booleans()) else None
        lifecycle.complete(batch, output, errors)
    elif event == "expire":
        assert batch.expires_at is not None
        clock.now = max(clock.now, batch.expires_at) + draw(st.integers(0, 600))
        lifecycle.expire(batch, draw(st.none() | _file_ids), draw(st.none() | _file_ids))
    elif event == "cancel":
        lifecycle.cancel(batch)
    else:
        lifecycle.finish_cancel(batch, draw(st.none() | _file_ids), draw(st.none() | _file_ids))


def batches(*, status: Status | None = None, profile: str = "openai") -> st.SearchStrategy[Batch]:
    """Valid `Batch` records, each produced by driving the engine along a path of the table.

    Args:
        status: Only batches in this status; any status by default.
        profile: ``strict`` walks only documented edges; ``openai`` and ``compat`` all.
    """
    check_profile(profile)
    return _driven(status, profile).map(lambda snapshots: snapshots[-1])


@st.composite
def _with_unknown_keys(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    extra_value = st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=5,
    )
    names = st.text(min_size=1, max_size=12).filter(lambda name: name not in payload)
    payload.update(draw(st.dictionaries(names.map(lambda n: "x_" + n), extra_value, max_size=2)))
    counts = payload.get("request_counts")
    if counts is not None and draw(st.booleans()):
        counts["x_" + draw(st.text(max_size=6))] = draw(extra_value)
    return payload


def payloads(
    *,
    status: Status | None = None,
    unknown_keys: bool = True,
    absent_keys: bool = True,
    as_bytes: bool = False,
    profile: str = "openai",
) -> st.SearchStrategy[Any]:
    """Wire dicts (or JSON bytes) of valid batches, with unknown keys and absent optional keys.

    Args:
        unknown_keys: Mix in keys batchfsm does not know, at the top and nested.
        absent_keys: Leave out some optional keys that are null.
        as_bytes: Give the JSON text as UTF-8 bytes instead of the dict.
    """

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        payload = unstructure(draw(batches(status=status, profile=profile)))
        payload = copy.deepcopy(payload)
        if absent_keys:
            for key in _OPTIONAL_KEYS:
                if payload.get(key, 0) is None and draw(st.booleans()):
                    del payload[key]
        if unknown_keys:
            payload = draw(_with_unknown_keys(payload))
        if as_bytes:
            return json.dumps(payload).encode("utf-8")
        return payload

    return build()


def invalid_payloads(*, code: str | None = None) -> st.SearchStrategy[tuple[Any, str]]:
    """``(payload, code)`` pairs where the payload breaks the rule the validator code names.

    History codes give a list of snapshots (for `check_history`); ``compat.*`` codes are
    warnings reported under the ``compat`` profile. The payload is the catalog's minimal
    example of the code (docs/violations.md).
    """
    if code is not None and code not in CODES:
        raise ArgumentError("code", f"unknown violation code {code!r}")
    names = [code] if code is not None else list(CODES)
    return st.sampled_from(names).map(lambda name: (example(name), name))


def histories(*, profile: str = "openai") -> st.SearchStrategy[list[dict[str, Any]]]:
    """Polled snapshots of one batch, in order, some statuses skipped as real polls do."""
    check_profile(profile)

    @st.composite
    def build(draw: st.DrawFn) -> list[dict[str, Any]]:
        snapshots = draw(_driven(None, profile))
        kept = [snapshots[0]] + [s for s in snapshots[1:] if draw(st.booleans())]
        return [unstructure(s) for s in kept]

    return build()


def event_sequences(max_size: int = 20) -> st.SearchStrategy[list[str]]:
    """Lists of event names (legal and illegal), to drive an engine with."""
    return st.lists(st.sampled_from([*EVENTS, "record_progress"]), max_size=max_size)
