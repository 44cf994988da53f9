"""Hypothesis strategies for batches, wire payloads, broken payloads and histories.

Needs the ``hypothesis`` extra (``pip install batchfsm[hypothesis]``). Every valid batch is
produced by firing the real engine's events (`Lifecycle.fire`) along a random path of the
lifecycle table, so it is reachable by construction and shrinks towards short paths, small
counts and no extras. Broken payloads and histories are valid ones with one rule broken.
batchfsm registers a Hypothesis entry point, so wherever Hypothesis is installed
``st.from_type(batchfsm.Batch)`` draws from `batches`. Every ``profile`` argument is a
`Profile` or a preset's name.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from collections.abc import Callable, Collection, Iterable
from typing import Any, Literal, overload

import attrs
from hypothesis import strategies as st

from ._checks import concrete
from ._clock import ManualClock
from ._codec import unstructure
from ._compat import normalize
from ._engine import Lifecycle
from ._errors import ArgumentError, Severity, TransitionError
from ._fake_fate import VALIDATION_CODES, Fate
from ._profile import Profile, resolve
from ._record import (
    ENDPOINTS,
    METADATA_MAX_KEY,
    METADATA_MAX_PAIRS,
    METADATA_MAX_VALUE,
    MILLISECONDS_FROM,
    REQUIRED_FIELDS,
    TIMESTAMP_FIELDS,
    Batch,
    BatchError,
    InputTokensDetails,
    OutputTokensDetails,
    RequestCounts,
    Status,
    Usage,
    window_seconds,
    wire_keys,
    wire_names,
)
from ._rules import BY_CODE, EVENT_STAMPS, RULES, WINDOW_TOLERANCE, Stage
from ._table import (
    EVENTS,
    INITIAL,
    RECORD_PROGRESS,
    Event,
    lifeline,
    passed,
    reachable,
    transitions_for,
)
from ._validate import validate

__all__ = [
    "batches",
    "event_sequences",
    "fates",
    "histories",
    "invalid_histories",
    "invalid_payloads",
    "payloads",
]

_ERROR = Severity.ERROR
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
_COUNTS = tuple(sorted(wire_keys(RequestCounts)[0]))
#: Each request count with the file its requests are written to.
_FILES = (("completed", "output_file_id"), ("failed", "error_file_id"))

_hex = st.text("0123456789abcdef", min_size=32, max_size=32)
_ids = _hex.map(lambda digits: "batch_" + digits)
_file_ids = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6,
                    max_size=24).map(lambda tail: "file-" + tail)  # fmt: skip
_maybe_file_ids = st.none() | _file_ids
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


def _statuses(statuses: Iterable[Status]) -> list[Status]:
    """`statuses` in the order of `Status` (so draws are reproducible)."""
    chosen = set(statuses)
    return [status for status in Status if status in chosen]


# -- the data of each event ----------------------------------------------------------

#: Draws, for a batch, the keyword data of one event (`Lifecycle.fire`).
_EventData = Callable[[Batch], st.SearchStrategy[dict[str, Any]]]


def _counts(batch: Batch) -> RequestCounts:
    return batch.request_counts or RequestCounts()


def _left(batch: Batch) -> int:
    counts = _counts(batch)
    return max(0, counts.total - counts.completed - counts.failed)


def _no_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(dict)


def _start_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    counts = _counts(batch)
    done = counts.completed + counts.failed
    return st.fixed_dictionaries({"total": st.integers(done, done + 50_000)})


def _fail_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"errors": _errors})


def _files_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"output_file_id": _maybe_file_ids, "error_file_id": _maybe_file_ids}
    )


def _complete_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    # A file for each kind of request that finished (files.output_missing, files.error_missing).
    counts = _counts(batch)
    return st.fixed_dictionaries(
        {
            "output_file_id": _file_ids if counts.completed else _maybe_file_ids,
            "error_file_id": _file_ids if counts.failed else _maybe_file_ids,
        }
    )


def _expire_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    # Not before the deadline (stamp.expired_early).
    deadline = batch.expires_at
    if deadline is None:
        return _files_data(batch)
    return st.fixed_dictionaries(
        {
            "now": st.integers(deadline, deadline + 600),
            "output_file_id": _maybe_file_ids,
            "error_file_id": _maybe_file_ids,
        }
    )


@st.composite
def _progress(draw: st.DrawFn, left: int, *, every: bool = False) -> dict[str, Any]:
    """Finished and failed requests, at most `left` of them (all `left`, with `every`)."""
    done = left if every else draw(st.integers(0, left))
    failed = draw(st.integers(0, done))
    return {"completed": done - failed, "failed": failed}


def _progress_data(batch: Batch) -> st.SearchStrategy[dict[str, Any]]:
    # Never past the total (counts.exceeds_total); all that is left, as often as not, so
    # that a batch can be finalized.
    left = _left(batch)
    return st.booleans().flatmap(lambda every: _progress(left, every=every))


#: For each event, how to draw data that meets its guards on a given batch; the harness
#: (`batchfsm.testing`) loosens it to draw data that may break them.
_DATA: dict[Event, _EventData] = {
    Event.START: _start_data,
    Event.FAIL: _fail_data,
    Event.FINALIZE: _no_data,
    Event.COMPLETE: _complete_data,
    Event.EXPIRE: _expire_data,
    Event.CANCEL: _no_data,
    Event.FINISH_CANCEL: _files_data,
    Event.RECORD_PROGRESS: _progress_data,
}

#: The rule an edge guards with that only recorded progress can meet: its edge is taken
#: once every request is accounted for.
_ACCOUNTED = BY_CODE["counts.unaccounted"]


# -- valid batches, payloads and histories -------------------------------------------


@functools.cache
def _lifecycle(profile: Profile) -> Lifecycle:
    """One engine per profile for every draw (building one compiles its edges): each event
    is given its moment as ``now``, so its clock is never read."""
    return Lifecycle(profile=profile)


@st.composite
def _driven(
    draw: st.DrawFn, status: Status | None, profile: Profile, *, polled: bool = False
) -> list[Batch]:
    """One batch driven along a random path to `status`: with `polled`, the snapshots
    (copies) after creation and after each event; else the batch alone."""
    edges = transitions_for(profile)
    lifecycle = _lifecycle(profile)
    target = draw(st.sampled_from(list(Status))) if status is None else status
    now = draw(st.integers(1_700_000_000, 1_800_000_000))
    batch = lifecycle.create(
        input_file_id=draw(_file_ids),
        endpoint=draw(st.sampled_from(sorted(ENDPOINTS))),
        metadata=draw(_metadata),
        model=draw(_models),
        now=now,
    )
    batch.id = draw(_ids)
    if draw(st.booleans()):
        batch.usage = draw(_usage())
    snapshots = [copy.deepcopy(batch)] if polled else []
    while batch.status is not target:
        options = [
            t for t in edges if t.source is batch.status and target in reachable(edges, t.dest)
        ]
        edge = draw(st.sampled_from(options))
        if batch.status in RECORD_PROGRESS.statuses:
            progress = _progress(_left(batch), every=_ACCOUNTED in edge.guards)
            lifecycle.fire(batch, RECORD_PROGRESS.event, **draw(progress))
            if polled:
                snapshots.append(copy.deepcopy(batch))
        now += draw(st.integers(0, 3_600))
        lifecycle.fire(batch, edge.event, **{"now": now, **draw(_DATA[edge.event](batch))})
        if polled:
            snapshots.append(copy.deepcopy(batch))
    return snapshots if polled else [batch]


def batches(
    *, status: Status | None = None, profile: Profile | str = "openai"
) -> st.SearchStrategy[Batch]:
    """Valid `Batch` records, each produced by driving the engine along a path of the table.

    Args:
        status: Only batches in this status; any status by default.
        profile: A `Profile` or a preset's name: ``strict`` walks only documented edges;
            ``openai`` and ``compat`` all.
    """
    return _driven(status, resolve(profile)).map(lambda snapshots: snapshots[-1])


_extra_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
_extra_names = st.text(min_size=1, max_size=12).map(lambda name: "x_" + name)


@st.composite
def _with_unknown_keys(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    extra = draw(st.dictionaries(_extra_names, _extra_values, max_size=2))
    payload.update((name, value) for name, value in extra.items() if name not in payload)
    counts = payload.get("request_counts")
    if counts is not None and draw(st.booleans()):
        counts["x_" + draw(st.text(max_size=6))] = draw(_extra_values)
    return payload


def payloads(
    *,
    status: Status | None = None,
    unknown_keys: bool = True,
    absent_keys: bool = True,
    as_bytes: bool = False,
    profile: Profile | str = "openai",
) -> st.SearchStrategy[Any]:
    """Wire dicts (or JSON bytes) of valid batches, with unknown keys and absent optional keys.

    Args:
        status: Only payloads of this status; any status by default.
        unknown_keys: Mix in keys batchfsm does not know, at the top and nested.
        absent_keys: Leave out some optional keys that are null.
        as_bytes: Give the JSON text as UTF-8 bytes instead of the dict.
        profile: The profile whose edges the batches take (`batches`).
    """
    drawn = batches(status=status, profile=profile)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        payload = unstructure(draw(drawn))
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


@st.composite
def _polls(
    draw: st.DrawFn, profile: Profile, statuses: Collection[Status] | None = None
) -> list[dict[str, Any]]:
    """Snapshots of one batch, the first and the last always polled, some between skipped."""
    status = draw(st.sampled_from(_statuses(statuses))) if statuses else None
    snapshots = draw(_driven(status, profile, polled=True))
    between = [s for s in snapshots[1:-1] if draw(st.booleans())]
    return [unstructure(s) for s in [snapshots[0], *between, *snapshots[1:][-1:]]]


def histories(*, profile: Profile | str = "openai") -> st.SearchStrategy[list[dict[str, Any]]]:
    """Polled snapshots of one batch, in order, some statuses skipped as real polls do."""
    return _polls(resolve(profile))


#: Every event `Lifecycle.fire` takes: the edges' and recording progress.
_FIREABLE = (*EVENTS, RECORD_PROGRESS.event)


def _accepts(lifecycle: Lifecycle, batch: Batch) -> list[Event]:
    """The events the batch's status allows, in the table: its edges, a cancel that changes
    nothing, and recording progress where that is allowed."""
    allowed = list(lifecycle.allowed_events(batch))
    if batch.status in RECORD_PROGRESS.statuses:
        allowed.append(RECORD_PROGRESS.event)
    return allowed


#: The rule an edge guards with that no event data can meet: a batch without a deadline
#: (read under ``compat``) cannot take it.
_DEADLINE = BY_CODE["expires_at.missing"]


def _meetable(lifecycle: Lifecycle, batch: Batch, event: Event) -> bool:
    """Whether some data meets the guards of `event` on `batch`."""
    return batch.expires_at is not None or not any(
        _DEADLINE in t.guards
        for t in lifecycle.transitions
        if t.event is event and t.source is batch.status
    )


@st.composite
def _with_data(
    draw: st.DrawFn, max_size: int, start: Batch, profile: Profile
) -> list[tuple[Event, dict[str, Any]]]:
    """Events, each with data for the batch as the events before it leave it (fired on a
    copy of `start` to follow it)."""
    lifecycle = _lifecycle(profile)
    batch = copy.deepcopy(start)
    size = draw(st.integers(0, max_size))
    pairs: list[tuple[Event, dict[str, Any]]] = []
    while len(pairs) < size:
        legal = [e for e in _accepts(lifecycle, batch) if _meetable(lifecycle, batch, e)]
        # Half the time an event the status allows, or a sequence would seldom get far.
        events = st.sampled_from(legal) | st.sampled_from(_FIREABLE) if legal else None
        event = draw(events if events is not None else st.sampled_from(_FIREABLE))
        steps = [event]
        edges = [t for t in lifecycle.transitions if t.event is event and t.source is batch.status]
        if any(_ACCOUNTED in t.guards for t in edges) and _left(batch):
            # The edge is taken once every request is accounted for: record them first.
            steps = [RECORD_PROGRESS.event, event][: size - len(pairs)]
        for step in steps:
            if step is RECORD_PROGRESS.event and step is not event:
                data = draw(_progress(_left(batch), every=True))
            else:
                data = draw(_DATA[step](batch))
            pairs.append((step, data))
            with contextlib.suppress(TransitionError):  # an event the status does not allow
                lifecycle.fire(batch, step, **copy.deepcopy(data))
    return pairs


@overload
def event_sequences(max_size: int = ...) -> st.SearchStrategy[list[Event]]: ...


@overload
def event_sequences(
    max_size: int = ...,
    *,
    with_data: Literal[True],
    batch: Batch | None = ...,
    profile: Profile | str | None = ...,
) -> st.SearchStrategy[list[tuple[Event, dict[str, Any]]]]: ...


def event_sequences(
    max_size: int = 20,
    *,
    with_data: bool = False,
    batch: Batch | None = None,
    profile: Profile | str | None = None,
) -> st.SearchStrategy[Any]:
    """Lists of events (legal and illegal, ``record_progress`` included) to drive an engine
    with; with `with_data`, each with the keyword data `Lifecycle.fire` takes for it.

    With `with_data`, the lists are ``(event, data)`` pairs drawn along the table for
    `batch`: half the events are ones the batch's status allows at that point, and the
    data of each meets its guards on the batch as the events before it leave it (a
    ``total`` at least the requests already done, errors for ``fail``, the files the
    counts call for, a moment past the deadline for ``expire``; an edge that needs every
    request accounted for is preceded by recording them). Fired in order on a copy of
    `batch` by a `Lifecycle` of `profile` (whatever its clock), an event the status allows
    is accepted and any other raises `IllegalTransition`, never `GuardError` (under
    ``compat``, ``expire`` of a batch without a deadline is the one exception).

    Args:
        max_size: The most events in a list.
        with_data: Draw ``(event, data)`` pairs instead of events alone.
        batch: The batch the data is for (with `with_data`): a valid batch under
            `profile`, in any status; by default a new one as `BatchLifecycleMachine`
            makes it (``validating``, created at 1_700_000_000 by a `ManualClock`).
        profile: The profile whose table the events follow (with `with_data`); ``openai``
            by default.

    Raises:
        ArgumentError: for a negative `max_size`, `batch` or `profile` without
            `with_data`, or a `batch` that is not a valid `Batch` under `profile`.
    """
    if type(max_size) is not int or max_size < 0:
        raise ArgumentError("max_size", f"expected a non-negative int, got {max_size!r}")
    if not with_data:
        if batch is not None or profile is not None:
            raise ArgumentError("with_data", "batch and profile are for with_data=True")
        return st.lists(st.sampled_from(_FIREABLE), max_size=max_size)
    resolved = resolve("openai" if profile is None else profile)
    if batch is None:
        batch = Lifecycle(ManualClock(), profile=resolved).create(
            input_file_id="file-in", endpoint="/v1/chat/completions"
        )
    elif not isinstance(batch, Batch):
        raise ArgumentError("batch", f"expected a Batch, got {batch!r}")
    else:
        report = validate(batch, profile=resolved)
        if not report.ok:
            codes = ", ".join(v.code for v in report.errors)
            raise ArgumentError("batch", f"expected a valid batch, it breaks {codes}")
    return _with_data(max_size, batch, resolved)


def fates() -> st.SearchStrategy[Fate]:
    """Fates for `batchfsm.testing.FakeBatchAPI`'s batches: completing with none, some or
    all requests failing, failing validation with each of OpenAI's codes, expiring at the
    deadline, stuck in ``finalizing``, or cancelled mid-run; they shrink to a batch that
    completes at once."""
    return st.builds(
        Fate,
        validating=st.integers(0, 600),
        running=st.integers(0, 7_200) | st.just(2 * 86_400),
        finalizing=st.integers(0, 600) | st.integers(3_600, 86_400),
        cancelling=st.integers(0, 600),
        failing=st.sampled_from([0.0, 1.0]) | st.floats(0, 1),
        invalid=st.none() | st.sampled_from(sorted(VALIDATION_CODES)),
        cancel_after=st.none() | st.integers(0, 7_200),
    )


# -- broken payloads: a valid one with one rule broken -------------------------------

#: Draws a valid payload under a profile and breaks one rule in it, so that validating
#: the result under that profile reports the rule's code as an error.
_Breaker = Callable[[st.DrawFn, Profile], Any]
_BREAKERS: dict[str, _Breaker] = {}
#: The same, for histories (`invalid_histories`).
_HISTORY_BREAKERS: dict[str, _Breaker] = {}


def _breaks(code: str, into: dict[str, _Breaker] = _BREAKERS) -> Callable[[_Breaker], _Breaker]:
    def register(breaker: _Breaker) -> _Breaker:
        into[code] = breaker
        return breaker

    return register


@functools.cache
def _payloads(status: Status | None, profile: Profile) -> st.SearchStrategy[Any]:
    return payloads(status=status, profile=profile)


def _valid(
    draw: st.DrawFn, profile: Profile, statuses: Collection[Status] | None = None
) -> dict[str, Any]:
    """A valid wire payload under `profile`, in one of `statuses` (any by default)."""
    status = draw(st.sampled_from(_statuses(statuses))) if statuses else None
    payload: dict[str, Any] = draw(_payloads(status, profile))
    return payload


def _holds_after(code: str, profile: Profile) -> frozenset[Status]:
    """The statuses a rule that holds `after` its edges is checked in (`passed`)."""
    return passed(transitions_for(profile), BY_CODE[code])


def _stamp(payload: dict[str, Any], name: str) -> int | None:
    value: int | None = payload.get(name)
    return value


def _wire_usage(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload's usage, a valid one drawn and set when it has none."""
    if payload.get("usage") is None:
        usage = draw(_usage())
        payload["usage"] = {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.input_tokens_details.cached_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {
                "reasoning_tokens": usage.output_tokens_details.reasoning_tokens
            },
            "total_tokens": usage.total_tokens,
        }
    wire: dict[str, Any] = payload["usage"]
    return wire


def _text(payload: Any) -> bytes:
    return json.dumps(payload).encode("utf-8")


# What a profile that reads quirks rewrites instead of reporting, asked of the compat
# reading itself: a missing endpoint, an empty optional file id, a status in another case.
def _rewritten(change: dict[str, Any], key: str) -> bool:
    read = normalize(change)[0]
    return (key in read, read.get(key)) != (key in change, change.get(key))


_STATUS_VALUES = frozenset(status.value for status in Status)


def _status_word(word: str, profile: Profile) -> bool:
    """Whether `word` is read as no status at all under `profile`."""
    if word in _STATUS_VALUES:
        return False
    return not (profile.quirks and _rewritten({"status": word, "endpoint": None}, "status"))


# -- decoding -------------------------------------------------------------------------


@_breaks("json.empty")
def _json_empty(draw: st.DrawFn, profile: Profile) -> bytes:
    return draw(st.text(" \t\r\n", max_size=8)).encode("ascii")


_NOT_UTF8 = (b"\xff", b"\xfe", b"\x80", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf")


@_breaks("json.encoding")
def _json_encoding(draw: st.DrawFn, profile: Profile) -> bytes:
    payload = _valid(draw, profile)
    quoted = _text(payload["id"])
    broken = quoted[:-1] + draw(st.sampled_from(_NOT_UTF8)) + b'"'
    return _text(payload).replace(quoted, broken, 1)


@_breaks("json.syntax")
def _json_syntax(draw: st.DrawFn, profile: Profile) -> bytes:
    text = _text(_valid(draw, profile))
    if draw(st.booleans()):
        return text[: draw(st.integers(1, len(text) - 1))]  # cut short
    return text + draw(st.sampled_from([b"}", b",", b"x", b" {}"]))  # trailing junk


@_breaks("json.not_object")
def _json_not_object(draw: st.DrawFn, profile: Profile) -> bytes:
    payload = _valid(draw, profile)
    wrapped = draw(
        st.sampled_from([[payload], [], payload["id"], payload["created_at"], None, True, 1.5])
    )
    return _text(wrapped)


@_breaks("field.missing")
def _field_missing(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    keys = sorted(REQUIRED_FIELDS)
    if profile.quirks:
        keys = [key for key in keys if not _rewritten({}, key)]
    where = draw(st.sampled_from([*keys, *(f"request_counts.{k}" for k in _COUNTS)]))
    if where.startswith("request_counts."):
        del payload["request_counts"][where.partition(".")[2]]
    else:
        del payload[where]
    return payload


# No wire value is a bool, an array or a fraction (compat reads a fractional timestamp as
# its second: not drawn there).
_WRONG_TYPES = st.sampled_from([True, False, [], 1.5]) | st.lists(st.integers(0, 9), min_size=1)


@_breaks("field.type")
def _field_type(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    keys = [*wire_names(Batch), *(f"request_counts.{k}" for k in _COUNTS)]
    where = draw(st.sampled_from(keys))
    wrong = draw(
        _WRONG_TYPES.filter(lambda w: not (profile.quirks and _rewritten({where: w}, where)))
    )
    if where.startswith("request_counts."):
        payload["request_counts"][where.partition(".")[2]] = wrong
    else:
        payload[where] = wrong
    return payload


_INT64 = 2**63


@_breaks("field.range")
def _field_range(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    where = draw(st.sampled_from([*TIMESTAMP_FIELDS, *(f"request_counts.{k}" for k in _COUNTS)]))
    if where.startswith("request_counts."):
        beyond = st.integers(min_value=_INT64) | st.integers(max_value=-_INT64 - 1)
        payload["request_counts"][where.partition(".")[2]] = draw(beyond)
    else:
        payload[where] = draw(st.integers(max_value=-1) | st.integers(min_value=_INT64))
    return payload


@_breaks("stamp.milliseconds")
def _stamp_milliseconds(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    where = draw(st.sampled_from([name for name in TIMESTAMP_FIELDS if payload.get(name)]))
    # compat reads 12 to 14 digits as milliseconds: only more break the rule there.
    least = MILLISECONDS_FROM * 1000 if profile.quirks else MILLISECONDS_FROM
    payload[where] = draw(st.integers(least, _INT64 - 1))
    return payload


@_breaks("file_id.empty")
def _file_id_empty(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    # An optional file id only where it was null: where requests need it, '' read as
    # null would break files.*_missing too.
    keys = ["input_file_id", *(key for _, key in _FILES if payload.get(key) is None)]
    if profile.quirks:
        keys = [key for key in keys if not _rewritten({key: ""}, key)]
    payload[draw(st.sampled_from(keys))] = ""
    return payload


def _setting(
    code: str,
    key: str,
    values: st.SearchStrategy[Any],
    breaks: Callable[[Any, Profile], bool] = lambda value, profile: True,
) -> None:
    """Break `code` by setting `key` of a valid payload to a value drawn from `values`
    that `breaks` the rule under the profile."""

    def breaker(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
        payload = _valid(draw, profile)
        payload[key] = draw(values.filter(lambda value: breaks(value, profile)))
        return payload

    _BREAKERS[code] = breaker


_NOT_STATUSES = ["done", "succeeded", "canceled", "running", "queued", "error", "pending", ""]
_setting("status.unknown", "status", st.sampled_from(_NOT_STATUSES) | st.text(max_size=12),
         _status_word)  # fmt: skip

# -- one payload's rules --------------------------------------------------------------

_setting("object.invalid", "object",
         st.sampled_from(["job", "Batch", "batches", "list"]) | st.text(max_size=12),
         lambda name, _: name != "batch")  # fmt: skip
_setting("endpoint.unknown", "endpoint",
         st.sampled_from(["/chat/completions", "/v1/chat/completions/", "/v1/batches"])
         | st.text(min_size=1, max_size=24),
         lambda path, _: path not in ENDPOINTS)  # fmt: skip
_setting("expires_at.missing", "expires_at", st.none())


_UNREADABLE_WINDOWS = ["1d", "24", "", "24H", "024h", "24 h", "0h", "1440m"]


@_breaks("window.unknown")
def _window_unknown(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    # A window that cannot be read is an error under every profile; one of another number
    # of hours only where the rule itself is (its deadline then moves with it).
    unreadable = st.sampled_from(_UNREADABLE_WINDOWS) | st.text(max_size=6)
    windows = unreadable.filter(
        lambda window: (
            window_seconds(window) is None
            and not (
                profile.quirks and _rewritten({"completion_window": window}, "completion_window")
            )
        )
    )
    if BY_CODE["window.unknown"].severity_under(profile) is _ERROR:
        # A deadline that an expired batch has passed (stamp.expired_early).
        expired = _stamp(payload, "expired_at")
        most = 999_999 if expired is None else (expired - payload["created_at"]) // 3600
        hours = st.integers(1, most).filter(lambda h: h != 24).map(lambda h: f"{h}h")
        windows = hours | windows
    window = draw(windows)
    payload["completion_window"] = window
    seconds = window_seconds(window)
    if seconds is not None:
        payload["expires_at"] = payload["created_at"] + seconds
    return payload


def _non_empty(found: dict[Status, list[str]]) -> dict[Status, list[str]]:
    return {status: names for status, names in found.items() if names}


def _required_stamps(profile: Profile) -> dict[Status, list[str]]:
    """The event stamps every path to a status sets, that a payload may hold as null (not
    ``created_at``, which the codec requires): each status that has one."""
    required = lifeline(transitions_for(profile)).required
    nullable = [n for n in EVENT_STAMPS if attrs.fields_dict(Batch)[n].default is None]
    return _non_empty({s: [n for n in nullable if n in required[s]] for s in Status})


def _foreign_stamps(profile: Profile) -> dict[Status, list[str]]:
    """The event stamps no path to a status sets: each status that has one."""
    carried = lifeline(transitions_for(profile)).carried
    return _non_empty({s: [n for n in EVENT_STAMPS if n not in carried[s]] for s in Status})


@_breaks("stamp.missing")
def _stamp_missing(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    required = _required_stamps(profile)
    payload = _valid(draw, profile, required)
    payload[draw(st.sampled_from(required[Status(payload["status"])]))] = None
    return payload


@_breaks("stamp.unexpected")
def _stamp_unexpected(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    foreign = _foreign_stamps(profile)
    payload = _valid(draw, profile, foreign)
    name = draw(st.sampled_from(foreign[Status(payload["status"])]))
    payload[name] = payload["created_at"] + draw(st.integers(0, 10**6))
    return payload


@_breaks("stamp.order")
def _stamp_order(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    line = lifeline(transitions_for(profile))
    # Statuses where some ordered pair of stamps is set on every path.
    statuses = [s for s in Status if any({a, b} <= line.required[s] for a, b in line.order)]
    payload = _valid(draw, profile, statuses)
    pairs = sorted(
        (a, b)
        for a, b in line.order
        if _stamp(payload, a) is not None and _stamp(payload, b) is not None
    )
    earlier, later = draw(st.sampled_from(pairs))
    gap = draw(st.integers(1, 10**5))
    # The earlier stamp moves later; created_at stays, as the deadline is counted from it.
    if earlier == "created_at":
        payload[later] = payload[earlier] - gap
    else:
        payload[earlier] = payload[later] + gap
    return payload


@_breaks("expires_at.window")
def _expires_at_window(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    window = window_seconds(payload["completion_window"])
    assert window is not None
    off = draw(st.integers(WINDOW_TOLERANCE + 1, 10**6))
    # Earlier, never later, once it has expired: a later deadline would break
    # stamp.expired_early too.
    if _stamp(payload, "expired_at") is None and draw(st.booleans()):
        off = -off
    payload["expires_at"] = payload["created_at"] + window - off
    return payload


@_breaks("stamp.expired_early")
def _stamp_expired_early(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile, _holds_after("stamp.expired_early", profile))
    deadline = payload["expires_at"]
    latest = max(
        value
        for name in EVENT_STAMPS
        if name != "expired_at" and (value := _stamp(payload, name)) is not None
    )
    # Before the deadline, and after every other stamp where there is room for it.
    earliest = latest if latest < deadline else deadline - 1
    payload["expired_at"] = draw(st.integers(earliest, deadline - 1))
    return payload


@_breaks("counts.negative")
def _counts_negative(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    counts = payload["request_counts"]
    key = draw(st.sampled_from(_COUNTS))
    counts[key] = draw(st.integers(-(2**62), -1))
    # The counts still add up, so no other count rule breaks.
    if key == "total":
        counts["completed"] = counts["total"] - counts["failed"]
    else:
        counts["total"] = counts["completed"] + counts["failed"]
    return payload


@_breaks("counts.exceeds_total")
def _counts_exceed_total(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    counts = payload["request_counts"]
    key, file_key = draw(st.sampled_from(_FILES))
    left = counts["total"] - counts["completed"] - counts["failed"]
    counts[key] += left + draw(st.integers(1, 10**6))
    if payload.get(file_key) is None:  # the requests have their file (files.*_missing)
        payload[file_key] = draw(_file_ids)
    return payload


@_breaks("counts.unaccounted")
def _counts_unaccounted(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile, _holds_after("counts.unaccounted", profile))
    payload["request_counts"]["total"] += draw(st.integers(1, 10**6))
    return payload


def _file_missing(draw: st.DrawFn, profile: Profile, code: str, count: str, key: str) -> Any:
    payload = _valid(draw, profile, _holds_after(code, profile))
    counts = payload["request_counts"]
    if not counts[count]:
        more = draw(st.integers(1, 10**6))
        counts[count] += more
        counts["total"] += more
    payload[key] = None
    return payload


@_breaks("files.output_missing")
def _output_missing(draw: st.DrawFn, profile: Profile) -> Any:
    return _file_missing(draw, profile, "files.output_missing", "completed", "output_file_id")


@_breaks("files.error_missing")
def _error_missing(draw: st.DrawFn, profile: Profile) -> Any:
    return _file_missing(draw, profile, "files.error_missing", "failed", "error_file_id")


@_breaks("errors.missing")
def _errors_missing(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile, _holds_after("errors.missing", profile))
    payload["errors"] = draw(st.sampled_from([None, {"object": "list", "data": []}]))
    return payload


def _metadata_with(payload: dict[str, Any], key: str, value: str) -> None:
    """Put one pair in the payload's metadata, leaving room for it under the pair limit."""
    metadata = dict(payload.get("metadata") or {})
    while len(metadata) >= METADATA_MAX_PAIRS:
        metadata.pop(next(iter(metadata)))
    metadata[key] = value
    payload["metadata"] = metadata


@_breaks("metadata.too_many")
def _metadata_too_many(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    keys = st.text(min_size=1, max_size=8)
    more = st.dictionaries(keys, st.text(max_size=8), min_size=1, max_size=4)
    payload["metadata"] = {
        **{f"k{i}": "v" for i in range(METADATA_MAX_PAIRS)},
        **{"x" + key: value for key, value in draw(more).items()},
    }
    return payload


@_breaks("metadata.key_too_long")
def _metadata_key_too_long(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    key = draw(st.text(min_size=METADATA_MAX_KEY + 1, max_size=METADATA_MAX_KEY + 8))
    _metadata_with(payload, key, draw(st.text(max_size=8)))
    return payload


@_breaks("metadata.value_too_long")
def _metadata_value_too_long(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    value = draw(st.text(min_size=METADATA_MAX_VALUE + 1, max_size=METADATA_MAX_VALUE + 8))
    _metadata_with(payload, draw(st.text(min_size=1, max_size=8)), value)
    return payload


@_breaks("usage.negative")
def _usage_negative(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    usage = _wire_usage(draw, payload)
    cached, reasoning = usage["input_tokens_details"], usage["output_tokens_details"]
    fact = draw(st.sampled_from(["input", "output", "cached", "reasoning", "total"]))
    negative = draw(st.integers(-(2**62), -1))
    # The other token rules still hold: the details within their counts, the total their sum.
    if fact == "cached":
        cached["cached_tokens"] = negative
    elif fact == "reasoning":
        reasoning["reasoning_tokens"] = negative
    else:
        key = "output_tokens" if fact == "output" else "input_tokens"
        usage[key] = negative if fact != "total" else negative - usage["output_tokens"]
        cached["cached_tokens"] = min(cached["cached_tokens"], usage["input_tokens"])
        reasoning["reasoning_tokens"] = min(reasoning["reasoning_tokens"], usage["output_tokens"])
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return payload


@_breaks("usage.total_mismatch")
def _usage_total_mismatch(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
    payload = _valid(draw, profile)
    usage = _wire_usage(draw, payload)
    total = usage["input_tokens"] + usage["output_tokens"]
    usage["total_tokens"] = draw(st.integers(0, total + 10**6).filter(lambda t: t != total))
    return payload


def _detail_exceeds(code: str, count: str, details: str, detail: str) -> None:
    """Break `code` by making a token detail exceed the count it is part of."""

    def breaker(draw: st.DrawFn, profile: Profile) -> dict[str, Any]:
        payload = _valid(draw, profile)
        usage = _wire_usage(draw, payload)
        usage[details][detail] = usage[count] + draw(st.integers(1, 10**6))
        return payload

    _BREAKERS[code] = breaker


_detail_exceeds(
    "usage.cached_exceeds_input", "input_tokens", "input_tokens_details", "cached_tokens"
)
_detail_exceeds(
    "usage.reasoning_exceeds_output", "output_tokens", "output_tokens_details", "reasoning_tokens"
)


@functools.cache
def _payload_codes(profile: Profile) -> tuple[str, ...]:
    """The codes `validate` can report as errors under `profile`, in catalog order: the
    decoding rules that are errors there, and the payload rules with a check that is."""
    checked = {c.rule.code for c in concrete(profile) if c.severity is _ERROR}
    return tuple(
        rule.code
        for rule in RULES
        if (rule.stage is Stage.DECODE and rule.severity_under(profile) is _ERROR)
        or rule.code in checked
    )


def _history_codes(profile: Profile) -> tuple[str, ...]:
    """The codes `check_history` reports as errors between snapshots under `profile`."""
    return tuple(
        rule.code
        for rule in RULES
        if rule.stage is Stage.HISTORY and rule.severity_under(profile) is _ERROR
    )


def _chosen(code: str | None, codes: tuple[str, ...], profile: Profile, other: str) -> list[str]:
    if code is None:
        return list(codes)
    if code not in BY_CODE:
        raise ArgumentError("code", f"unknown violation code {code!r}")
    if code not in codes:
        reason = f"{code!r} is never an error {other} reports under the {profile.name} profile"
        raise ArgumentError("code", reason)
    return [code]


def _pairs(
    codes: list[str], breakers: dict[str, _Breaker], profile: Profile
) -> st.SearchStrategy[tuple[Any, str]]:
    @st.composite
    def pair(draw: st.DrawFn, code: str) -> tuple[Any, str]:
        return breakers[code](draw, profile), code

    return st.sampled_from(codes).flatmap(pair)


def invalid_payloads(
    *, code: str | None = None, profile: Profile | str = "openai"
) -> st.SearchStrategy[tuple[Any, str]]:
    """``(payload, code)`` pairs: a valid payload (a dict, or JSON bytes for the ``json.*``
    codes) with one rule broken, so that ``validate(payload, profile=profile)`` is not ok
    and reports `code` as an error.

    Only the codes that are errors under `profile` are drawn: not history codes (see
    `invalid_histories`) and not warnings (``id.prefix``, ``compat.*`` …).

    Args:
        code: Only this code.
        profile: A `Profile` or a preset's name, as `validate` takes it.

    Raises:
        ArgumentError: for an unknown code, or one `validate` never reports as an error
            under `profile`.
    """
    resolved = resolve(profile)
    codes = _chosen(code, _payload_codes(resolved), resolved, "validate")
    return _pairs(codes, _BREAKERS, resolved)


# -- broken histories -----------------------------------------------------------------


def _two_or_more(snapshots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The snapshots, with the last polled again if it is the only one."""
    if len(snapshots) < 2:
        snapshots.append(copy.deepcopy(snapshots[-1]))
    return snapshots


@_breaks("history.id_changed", _HISTORY_BREAKERS)
def _id_changed(draw: st.DrawFn, profile: Profile) -> list[dict[str, Any]]:
    snapshots = _two_or_more(draw(_polls(profile)))
    old = snapshots[0]["id"]
    new = draw(_ids.filter(lambda batch_id: batch_id != old))
    for snapshot in snapshots[draw(st.integers(1, len(snapshots) - 1)) :]:
        snapshot["id"] = new
    return snapshots


@_breaks("history.unreachable", _HISTORY_BREAKERS)
def _unreachable(draw: st.DrawFn, profile: Profile) -> list[dict[str, Any]]:
    edges = transitions_for(profile)
    # Statuses some earlier status cannot follow: at least the initial one cannot.
    statuses = [s for s in Status if INITIAL not in reachable(edges, s)]
    snapshots = draw(_polls(profile, statuses))
    last = snapshots[-1]
    later = reachable(edges, Status(last["status"]))
    earlier = [s for s in snapshots if Status(s["status"]) not in later]
    again = copy.deepcopy(draw(st.sampled_from(earlier)))
    again["request_counts"] = copy.deepcopy(last["request_counts"])  # counts do not go down
    return [*snapshots, again]


def _entered_by(profile: Profile) -> dict[Status, str]:
    """The stamp of the edges into each status (every edge into one status sets the same)."""
    return {t.dest: t.stamp for t in transitions_for(profile)}


@_breaks("history.stamp_changed", _HISTORY_BREAKERS)
def _stamp_changed(draw: st.DrawFn, profile: Profile) -> list[dict[str, Any]]:
    entered = _entered_by(profile)
    snapshots = draw(_polls(profile, entered))
    again = copy.deepcopy(snapshots[-1])
    # The stamp that entered the status is its latest: moving it later keeps the order.
    again[entered[Status(again["status"])]] += draw(st.integers(1, 3_600))
    return [*snapshots, again]


@_breaks("history.field_changed", _HISTORY_BREAKERS)
def _field_changed(draw: st.DrawFn, profile: Profile) -> list[dict[str, Any]]:
    snapshots = _two_or_more(draw(_polls(profile)))
    start = draw(st.integers(1, len(snapshots) - 1))
    key = draw(st.sampled_from(["input_file_id", "endpoint", "expires_at"]))
    old = snapshots[start][key]
    if key == "input_file_id":
        new = draw(_file_ids.filter(lambda file_id: file_id != old))
    elif key == "endpoint":
        new = draw(st.sampled_from(sorted(ENDPOINTS - {old})))
    else:  # earlier, within the window's tolerance: never after expired_at
        new = old - draw(st.integers(1, WINDOW_TOLERANCE))
    for snapshot in snapshots[start:]:
        snapshot[key] = new
    return snapshots


@_breaks("history.counts_decreased", _HISTORY_BREAKERS)
def _counts_decreased(draw: st.DrawFn, profile: Profile) -> list[dict[str, Any]]:
    snapshots = draw(_polls(profile))
    # Poll a copy with more requests just before a snapshot whose status lets its counts
    # grow (not one that must account for every request): the initial one always does.
    settled = _holds_after("counts.unaccounted", profile)
    where = [i for i, s in enumerate(snapshots) if Status(s["status"]) not in settled]
    index = draw(st.sampled_from(where))
    more = copy.deepcopy(snapshots[index])
    key = draw(st.sampled_from(_COUNTS))
    grown = draw(st.integers(1, 10**6))
    more["request_counts"][key] += grown
    if key != "total":
        more["request_counts"]["total"] += grown
    snapshots.insert(index, more)
    return snapshots


def invalid_histories(
    *, code: str | None = None, profile: Profile | str = "openai"
) -> st.SearchStrategy[tuple[list[dict[str, Any]], str]]:
    """``(snapshots, code)`` pairs: a valid history (`histories`) with one thing broken
    between two snapshots, so that ``check_history(snapshots, profile=profile)`` reports
    `code` as an error.

    Args:
        code: Only this ``history.*`` code.
        profile: A `Profile` or a preset's name, as `check_history` takes it.

    Raises:
        ArgumentError: for an unknown code, or one that is not a history code.
    """
    resolved = resolve(profile)
    codes = _chosen(code, _history_codes(resolved), resolved, "check_history")
    return _pairs(codes, _HISTORY_BREAKERS, resolved)
