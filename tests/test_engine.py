"""The engine: legal changes only, stamps from the clock, atomic refusals, hooks, threads."""

from __future__ import annotations

import contextlib
import pickle
import random
import re
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import (
    EVENTS,
    IDEMPOTENT,
    TRANSITIONS,
    ArgumentError,
    Batch,
    BatchError,
    Event,
    GuardError,
    HookError,
    IllegalTransition,
    Lifecycle,
    RequestCounts,
    Status,
    Sweep,
    Transition,
)
from batchfsm import strategies as bst
from batchfsm._record import TIMESTAMP_FIELDS
from batchfsm._table import RECORD_PROGRESS, carried_stamps

from helpers.driving import Clock, batch_in, fire, path_to, satisfying, stamp_order_problems

PAYLOADS = Path(__file__).parent / "payloads"
EDGES: dict[tuple[str, Status], Transition] = {(t.event, t.source): t for t in TRANSITIONS}
STAMPS = [name for name in TIMESTAMP_FIELDS if name != "expires_at"]


def snapshot(batch: Batch) -> str:
    return batchfsm.dumps(batch)


class TestCreate:
    def test_new_batch(self) -> None:
        """create gives a validating batch stamped now, due a window later, counts at zero."""
        lifecycle = Lifecycle(Clock(1000))
        batch = lifecycle.create(
            input_file_id="file-1", endpoint="/v1/responses", metadata={"k": "v"}
        )
        assert re.fullmatch(r"batch_[0-9a-f]{32}", batch.id)
        assert (batch.status, batch.created_at, batch.expires_at) == (
            Status.VALIDATING,
            1000,
            87400,
        )
        assert batch.request_counts == batchfsm.RequestCounts(total=0, completed=0, failed=0)
        assert batch.metadata == {"k": "v"}
        assert batch.object == "batch"

    def test_ids_are_unique_and_injectable(self) -> None:
        """Default ids differ; an id factory replaces them."""
        lifecycle = Lifecycle(Clock())
        first = lifecycle.create(input_file_id="f", endpoint="/v1/responses")
        second = lifecycle.create(input_file_id="f", endpoint="/v1/responses")
        assert first.id != second.id
        numbered = Lifecycle(Clock(), id_factory=iter(["batch_a", "batch_b"]).__next__)
        assert numbered.create(input_file_id="f", endpoint="/v1/responses").id == "batch_a"

    def test_wire_form_has_every_key(self) -> None:
        """A created batch encodes every key, as OpenAI's create response does."""
        batch = Lifecycle(Clock()).create(input_file_id="f", endpoint="/v1/responses")
        wire = batchfsm.unstructure(batch)
        assert {"in_progress_at", "cancelled_at", "output_file_id", "errors"} <= wire.keys()
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch

    @pytest.mark.parametrize(
        ("kwargs", "argument"),
        [
            ({"input_file_id": ""}, "input_file_id"),
            ({"endpoint": ""}, "endpoint"),
            ({"completion_window": 24}, "completion_window"),
            ({"metadata": {"tags": ["a"]}}, "metadata"),
            ({"metadata": [("k", "v")]}, "metadata"),
            ({"model": 5}, "model"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], argument: str) -> None:
        """Arguments of the wrong type raise ArgumentError naming the argument."""
        call = {"input_file_id": "f", "endpoint": "/v1/responses", **kwargs}
        with pytest.raises(ArgumentError) as info:
            Lifecycle(Clock()).create(**call)
        assert info.value.argument == argument

    @pytest.mark.parametrize(
        ("kwargs", "code"),
        [
            ({"completion_window": "1d"}, "window.unknown"),
            ({"completion_window": "0h"}, "window.unknown"),
            ({"metadata": {str(i): "v" for i in range(17)}}, "metadata.too_many"),
            ({"metadata": {"k" * 65: "v"}}, "metadata.key_too_long"),
            ({"metadata": {"k": "v" * 513}}, "metadata.value_too_long"),
        ],
    )
    def test_refused_values(self, kwargs: dict[str, Any], code: str) -> None:
        """What OpenAI's create call refuses is a GuardError of event create, with the code
        validate reports for a batch holding it."""
        call = {"input_file_id": "file-f", "endpoint": "/v1/responses", **kwargs}
        with pytest.raises(GuardError) as info:
            Lifecycle(Clock(), id_factory=lambda: "batch_x").create(**call)
        assert (info.value.code, info.value.event, info.value.batch_id) == (
            code,
            Event.CREATE,
            "batch_x",
        )

    def test_strict_create(self) -> None:
        """Under strict only known endpoints are accepted; another window than 24h only
        under compat, where the deadline follows it."""
        strict = Lifecycle(Clock(), profile="strict")
        with pytest.raises(GuardError, match=r"\[endpoint.unknown\]"):
            strict.create(input_file_id="f", endpoint="/v1/unknown")
        for profile in ("strict", "openai"):
            with pytest.raises(GuardError, match=r"\[window.unknown\]"):
                Lifecycle(Clock(), profile=profile).create(
                    input_file_id="f", endpoint="/v1/responses", completion_window="7d"
                )
        loose = Lifecycle(Clock(0)).create(input_file_id="f", endpoint="/v1/unknown")
        assert loose.endpoint == "/v1/unknown"
        for window, seconds in (("12h", 12 * 3600), ("7d", 7 * 86400)):
            compat = Lifecycle(Clock(0), profile="compat").create(
                input_file_id="f", endpoint="/v1/responses", completion_window=window
            )
            assert compat.expires_at == seconds
            assert batchfsm.validate(compat, profile="compat").ok
        with pytest.raises(GuardError, match=r"\[window.unknown\]"):
            Lifecycle(Clock(), profile="compat").create(
                input_file_id="f", endpoint="/v1/responses", completion_window="24hrs"
            )

    def test_bad_id_factory(self) -> None:
        """An id factory that returns no string is an ArgumentError."""
        with pytest.raises(ArgumentError, match="id_factory"):
            Lifecycle(Clock(), id_factory=lambda: 5).create(input_file_id="f", endpoint="/v1/x")  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize("status", list(Status), ids=str)
@pytest.mark.parametrize("event", EVENTS)
def test_every_status_event_pair(status: Status, event: str) -> None:
    """Legal pairs reach the table's status with the stamp set to now; others change nothing."""
    lifecycle, batch = batch_in(status)
    clock = lifecycle._clock
    assert isinstance(clock, Clock)
    clock.now += 10
    before = snapshot(batch)
    edge = EDGES.get((event, status))
    if edge is not None:
        fire(lifecycle, batch, event)
        assert batch.status is edge.dest
        expected = max(clock.now, batch.expires_at or 0) if event == "expire" else clock.now
        assert getattr(batch, edge.stamp) == expected
        assert not stamp_order_problems(batch)
    elif (event, status) in IDEMPOTENT:
        fire(lifecycle, batch, event)
        assert snapshot(batch) == before
    else:
        with pytest.raises(IllegalTransition) as info:
            fire(lifecycle, batch, event)
        assert snapshot(batch) == before
        error = info.value
        assert (error.batch_id, error.status, error.event) == (batch.id, status.value, event)
        assert error.allowed == lifecycle.allowed_events(batch)
        assert event not in error.allowed


class TestMessages:
    def test_illegal_transition_message(self) -> None:
        """The message names the event, the batch, its status and what it allows."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        with pytest.raises(IllegalTransition) as info:
            lifecycle.complete(batch, output_file_id="file-o")
        assert str(info.value) == (
            f"cannot complete {batch.id}: status is in_progress "
            "(allowed: cancel, expire, fail, finalize)"
        )

    def test_final_status_message(self) -> None:
        """A final status says it allows nothing."""
        lifecycle, batch = batch_in(Status.COMPLETED)
        with pytest.raises(IllegalTransition, match=r"status is completed \(allowed: none"):
            lifecycle.cancel(batch)

    @pytest.mark.parametrize(
        "error",
        [
            IllegalTransition("batch_1", Status.COMPLETED, "cancel", ["a"]),
            GuardError(
                "batch_1", Status.IN_PROGRESS, "finalize", "counts.unaccounted", "1 + 0 != 2"
            ),
            HookError("batch_1", Status.IN_PROGRESS, "finalize", len),
        ],
    )
    def test_errors_pickle(self, error: Exception) -> None:
        """Transition errors survive pickling with their message."""
        assert str(pickle.loads(pickle.dumps(error))) == str(error)


class TestGuards:
    def test_start_total(self) -> None:
        """start stores a total; a negative or non-integer total is an ArgumentError."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        for bad in (-1, 1.5, True, "3"):
            with pytest.raises(ArgumentError, match="total"):
                lifecycle.start(batch, total=bad)  # type: ignore[arg-type]
        assert batch.status is Status.VALIDATING
        lifecycle.start(batch, total=7)
        assert batch.request_counts is not None
        assert batch.request_counts.total == 7

    def test_start_total_below_progress(self) -> None:
        """A total below what is already counted is refused, with the numbers."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        batch.request_counts = batchfsm.RequestCounts(total=5, completed=3, failed=1)
        before = snapshot(batch)
        with pytest.raises(
            GuardError, match="completed 3 \\+ failed 1 = 4 exceeds total 2"
        ) as info:
            lifecycle.start(batch, total=2)
        assert info.value.code == "counts.exceeds_total"
        assert isinstance(info.value, ValueError)
        assert snapshot(batch) == before

    def test_fail_needs_errors(self) -> None:
        """fail with no errors is refused; with errors they are stored as an error list."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        with pytest.raises(GuardError) as info:
            lifecycle.fail(batch, [])
        assert info.value.code == "errors.missing"
        with pytest.raises(ArgumentError):
            lifecycle.fail(batch, ["not an error"])  # type: ignore[list-item]
        lifecycle.fail(
            batch, [BatchError(code="token_limit_exceeded", message="Enqueued token limit")]
        )
        assert batch.errors is not None
        assert batch.errors.object == "list"
        assert batch.errors.data is not None
        assert batch.errors.data[0].code == "token_limit_exceeded"

    def test_finalize_needs_every_request_accounted(self) -> None:
        """finalize is refused while completed + failed != total, with the numbers."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=3)
        lifecycle.record_progress(batch, completed=1, failed=1)
        before = snapshot(batch)
        with pytest.raises(GuardError, match="completed 1 \\+ failed 1 = 2, total 3") as info:
            lifecycle.finalize(batch)
        assert info.value.code == "counts.unaccounted"
        assert snapshot(batch) == before

    def test_complete_needs_the_files_the_counts_call_for(self) -> None:
        """complete needs output_file_id when completed > 0 and error_file_id when failed > 0."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=2)
        lifecycle.record_progress(batch, completed=1, failed=1)
        lifecycle.finalize(batch)
        before = snapshot(batch)
        with pytest.raises(GuardError) as info:
            lifecycle.complete(batch, error_file_id="file-e")
        assert info.value.code == "files.output_missing"
        with pytest.raises(GuardError) as info:
            lifecycle.complete(batch, output_file_id="file-o")
        assert info.value.code == "files.error_missing"
        assert snapshot(batch) == before
        lifecycle.complete(batch, output_file_id="file-o", error_file_id="file-e")
        assert (batch.output_file_id, batch.error_file_id) == ("file-o", "file-e")

    def test_complete_with_every_request_failed(self) -> None:
        """A batch whose every request failed completes with only an error file."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=2)
        lifecycle.record_progress(batch, failed=2)
        lifecycle.finalize(batch)
        lifecycle.complete(batch, error_file_id="file-e")
        assert batch.status is Status.COMPLETED
        assert batch.output_file_id is None

    @pytest.mark.parametrize("bad", ["", 5])
    def test_file_ids_are_checked(self, bad: Any) -> None:
        """An empty or non-string file id is an ArgumentError."""
        lifecycle, batch = batch_in(Status.FINALIZING)
        with pytest.raises(ArgumentError, match="output_file_id"):
            lifecycle.complete(batch, output_file_id=bad)

    def test_expire_only_when_due(self) -> None:
        """expire waits for expires_at, saying how early it is; then stamps expired_at."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        assert batch.expires_at is not None
        clock = lifecycle._clock
        assert isinstance(clock, Clock)
        clock.now = batch.expires_at - 5
        before = snapshot(batch)
        with pytest.raises(GuardError, match="5 s early") as info:
            lifecycle.expire(batch)
        assert info.value.code == "stamp.expired_early"
        assert snapshot(batch) == before
        clock.now = batch.expires_at
        lifecycle.expire(batch, output_file_id="file-partial")
        assert (batch.status, batch.expired_at, batch.output_file_id) == (
            Status.EXPIRED,
            batch.expires_at,
            "file-partial",
        )

    def test_expire_without_deadline(self) -> None:
        """A batch with no expires_at (the spec's create example) cannot expire."""
        batch = batchfsm.loads((PAYLOADS / "001_validating_openapi-create.json").read_bytes())
        lifecycle = Lifecycle(Clock(2_000_000_000))
        lifecycle.start(batch)
        with pytest.raises(GuardError) as info:
            lifecycle.expire(batch)
        assert info.value.code == "expires_at.missing"


class TestProgress:
    def test_adds_to_the_counts(self) -> None:
        """record_progress adds its deltas to the counts."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=10)
        lifecycle.record_progress(batch, completed=3)
        lifecycle.record_progress(batch, completed=2, failed=1)
        assert batch.request_counts == batchfsm.RequestCounts(total=10, completed=5, failed=1)

    def test_never_past_total(self) -> None:
        """Progress that would pass total is refused and changes nothing."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=2)
        lifecycle.record_progress(batch, completed=1)
        with pytest.raises(GuardError) as info:
            lifecycle.record_progress(batch, completed=1, failed=1)
        assert info.value.code == "counts.exceeds_total"
        assert batch.request_counts == batchfsm.RequestCounts(total=2, completed=1, failed=0)

    @pytest.mark.parametrize(
        "status", [s for s in Status if s not in RECORD_PROGRESS.statuses], ids=str
    )
    def test_only_while_requests_run(self, status: Status) -> None:
        """Progress outside in_progress and cancelling is an IllegalTransition."""
        lifecycle, batch = batch_in(status)
        with pytest.raises(IllegalTransition, match="cannot record_progress"):
            lifecycle.record_progress(batch, completed=1)

    @pytest.mark.parametrize("bad", [-1, 1.0, None, True])
    def test_deltas_are_non_negative_integers(self, bad: Any) -> None:
        """A negative or non-integer delta is an ArgumentError."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        with pytest.raises(ArgumentError):
            lifecycle.record_progress(batch, completed=bad)

    def test_keeps_unknown_keys_of_the_counts(self) -> None:
        """Unknown keys a server put in request_counts survive progress."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        assert batch.request_counts is not None
        batch.request_counts.extra = {"x_pending": 2}
        lifecycle.record_progress(batch, completed=1)
        assert batch.request_counts.extra == {"x_pending": 2}


class TestClock:
    def test_backwards_clock_is_clamped(self) -> None:
        """A stamp is never earlier than the latest stamp the batch carries."""
        clock = Clock(5000)
        lifecycle, batch = batch_in(Status.VALIDATING, Lifecycle(clock))
        lifecycle.start(batch, total=1)
        clock.now = 10
        lifecycle.cancel(batch)
        assert batch.cancelling_at == batch.in_progress_at == 5000

    @pytest.mark.parametrize(
        "reading", [-1, -0.5, float("nan"), "now", None, True, 2**63, 1_700_000_000_000]
    )
    def test_bad_clock(self, reading: Any) -> None:
        """A clock that does not return Unix seconds (a clock in milliseconds among them)
        is an ArgumentError, and the batch is unchanged."""
        good = Lifecycle(Clock())
        batch = good.create(input_file_id="f", endpoint="/v1/responses")
        before = snapshot(batch)
        bad = Lifecycle(lambda: reading)
        reason = f"must return Unix seconds from 0 to {10**11 - 1}, returned {reading!r}"
        with pytest.raises(ArgumentError) as info:
            bad.start(batch)
        assert (info.value.argument, info.value.reason) == ("clock", reason)
        with pytest.raises(ArgumentError) as info:
            bad.create(input_file_id="f", endpoint="/v1/responses")
        assert (info.value.argument, info.value.reason) == ("clock", reason)
        assert snapshot(batch) == before

    @pytest.mark.parametrize("reading", [0, 10**11 - 1 - 86_400])
    def test_the_first_and_last_clock_readings(self, reading: int) -> None:
        """A clock may read anything from 0 to the last second a 24h deadline is seconds
        at (10**11 and on are milliseconds): creation and events take the stamp as it is."""
        lifecycle = Lifecycle(lambda: reading)
        batch = lifecycle.create(input_file_id="f", endpoint="/v1/responses")
        lifecycle.start(batch)
        assert batch.created_at == batch.in_progress_at == reading
        assert batchfsm.validate(batch).ok

    @pytest.mark.parametrize("reading", [10**11 - 86_400, 10**11 - 1])
    def test_a_deadline_past_the_last_second_is_refused(self, reading: int) -> None:
        """A clock so late that the deadline would reach 10**11 (milliseconds, to the
        validator) is refused before anything is made, rather than make a batch the
        validator refuses."""
        made: list[Batch] = []
        lifecycle = Lifecycle(lambda: reading, hooks=[lambda b, *_: made.append(b)])
        with pytest.raises(ArgumentError) as info:
            lifecycle.create(input_file_id="f", endpoint="/v1/responses")
        assert info.value.argument == "clock"
        assert "passes the largest timestamp" in info.value.reason
        assert made == []
        with pytest.raises(ArgumentError) as info:
            Lifecycle(Clock()).create(input_file_id="f", endpoint="/v1/responses", now=reading)
        assert info.value.argument == "now"

    @pytest.mark.parametrize("reading", [1_700_000_000.0, 1_700_000_000.999])
    def test_a_float_clock_is_floored(self, reading: float) -> None:
        """time.time is a clock: its float readings are floored to the second."""
        lifecycle = Lifecycle(lambda: reading)
        batch = lifecycle.create(input_file_id="f", endpoint="/v1/responses")
        lifecycle.start(batch)
        assert batch.created_at == batch.in_progress_at == 1_700_000_000
        assert type(batch.created_at) is int

    def test_time_time_works(self) -> None:
        """Lifecycle(clock=time.time), the obvious clock, stamps the current second."""
        import time

        before = int(time.time())
        batch = Lifecycle(time.time).create(input_file_id="f", endpoint="/v1/responses")
        assert before <= batch.created_at <= int(time.time())

    def test_wall_clock_by_default(self) -> None:
        """Without a clock, stamps come from the wall clock."""
        import time

        before = int(time.time())
        batch = Lifecycle().create(input_file_id="f", endpoint="/v1/responses")
        assert before <= batch.created_at <= int(time.time())


@st.composite
def event_steps(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Random events, each with a clock step that may go back."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from([*EVENTS, "record_progress"]), st.integers(-100_000, 100_000)
            ),
            max_size=25,
        )
    )


@given(event_steps(), st.sampled_from(["strict", "openai"]))
def test_random_histories_keep_the_invariants(steps: list[tuple[str, int]], profile: str) -> None:
    """After any sequence of events and clock moves: stamps ordered, refused events atomic,
    the stamps match the status, and the wire form round-trips."""
    clock = Clock(1_700_000_000)
    lifecycle = Lifecycle(clock, profile=profile)
    batch = lifecycle.create(input_file_id="file-in", endpoint="/v1/responses")
    carried = carried_stamps(lifecycle.transitions)
    for event, step in steps:
        clock.now = max(0, clock.now + step)
        before = snapshot(batch)
        try:
            if event == "record_progress":
                lifecycle.record_progress(batch, completed=1)
            elif event == "expire":
                lifecycle.expire(batch)
            else:
                fire(lifecycle, batch, event)
        except batchfsm.TransitionError:
            assert snapshot(batch) == before
        assert not stamp_order_problems(batch)
        stamped = {name for name in STAMPS if getattr(batch, name) is not None}
        assert stamped <= carried[batch.status]
        entering = {t.stamp for t in lifecycle.transitions if t.dest is batch.status}
        assert batch.status is Status.VALIDATING or stamped & entering
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch


class TestResume:
    @pytest.mark.parametrize(
        ("name", "event"),
        [
            ("001_validating_openapi-create.json", "start"),
            ("003_cancelling_openapi-cancel.json", "finish_cancel"),
            ("007_validating_azure-docs-python-create.json", "cancel"),
        ],
    )
    def test_published_payloads_drive_on(self, name: str, event: str) -> None:
        """A batch decoded from stored JSON is driven on from the status it has."""
        batch = batchfsm.loads((PAYLOADS / name).read_bytes(), profile="compat")
        lifecycle = Lifecycle(Clock(1_750_000_000))
        fire(lifecycle, batch, event)
        assert (
            batch.status
            is EDGES[
                (event, batchfsm.loads((PAYLOADS / name).read_bytes(), profile="compat").status)
            ].dest
        )

    def test_stored_and_reloaded(self) -> None:
        """dumps → loads mid-life, then the reloaded batch completes."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        again = batchfsm.loads(batchfsm.dumps(batch))
        _finish(lifecycle, again)
        assert again.status is Status.COMPLETED

    def test_equal_batches_are_independent(self) -> None:
        """Two batches equal by value are driven independently."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        twin = batchfsm.loads(batchfsm.dumps(batch))
        assert twin == batch
        lifecycle.cancel(batch)
        assert (batch.status, twin.status) == (Status.CANCELLING, Status.IN_PROGRESS)


def _finish(lifecycle: Lifecycle, batch: Batch) -> None:
    fire(lifecycle, batch, "finalize")
    fire(lifecycle, batch, "complete")


class TestProfiles:
    @pytest.mark.parametrize(
        ("event", "status"),
        [(t.event, t.source) for t in TRANSITIONS if t.provenance is batchfsm.Provenance.TOLERATED],
    )
    def test_strict_refuses_tolerated_edges(self, event: str, status: Status) -> None:
        """Under strict, each tolerated edge is an IllegalTransition."""
        lifecycle, batch = batch_in(status, Lifecycle(Clock(), profile="strict"))
        with pytest.raises(IllegalTransition):
            fire(lifecycle, batch, event)

    def test_unknown_profile(self) -> None:
        """An unknown profile is an ArgumentError."""
        with pytest.raises(ArgumentError, match="profile"):
            Lifecycle(profile="azure")


class TestSweep:
    def test_expires_only_overdue_batches(self) -> None:
        """expire_overdue expires exactly the batches whose deadline passed and may expire."""
        clock = Clock(0)
        lifecycle = Lifecycle(clock)
        due, early, finished = (
            lifecycle.create(input_file_id="f", endpoint="/v1/x") for _ in range(3)
        )
        for batch in (due, early, finished):
            lifecycle.start(batch, total=0)
        early.expires_at = 10**9
        _finish(lifecycle, finished)
        clock.now = 86_400
        assert lifecycle.expire_overdue([due, early, finished]) == Sweep((due,))
        assert (due.status, early.status, finished.status) == (
            Status.EXPIRED,
            Status.IN_PROGRESS,
            Status.COMPLETED,
        )

    def test_batches_left_alone_do_not_end_the_sweep(self) -> None:
        """Batches that cannot expire, in front of one that can, are skipped, not a stop."""
        clock = Clock(0)
        lifecycle = Lifecycle(clock)
        finished, early, no_deadline, due = (
            lifecycle.create(input_file_id="f", endpoint="/v1/x") for _ in range(4)
        )
        for batch in (finished, early, no_deadline, due):
            lifecycle.start(batch, total=0)
        _finish(lifecycle, finished)
        early.expires_at = 10**9
        no_deadline.expires_at = None
        clock.now = 86_400
        assert lifecycle.expire_overdue([finished, early, no_deadline, due]) == Sweep((due,))
        assert (early.status, no_deadline.status) == (Status.IN_PROGRESS, Status.IN_PROGRESS)

    def test_a_bad_now_names_it(self) -> None:
        """A negative `now` is an ArgumentError about `now`."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        with pytest.raises(ArgumentError, match=r"^bad argument 'now': expected a non-neg"):
            lifecycle.expire_overdue([batch], now=-1)

    def test_given_now(self) -> None:
        """expire_overdue takes the sweep's time when given."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        assert batch.expires_at is not None
        assert lifecycle.expire_overdue([batch], now=batch.expires_at - 1) == Sweep(())
        assert lifecycle.expire_overdue([batch], now=batch.expires_at) == Sweep((batch,))
        assert batch.expired_at == batch.expires_at


class TestHooks:
    def test_called_after_each_change(self) -> None:
        """Hooks see create and each transition (event, source, destination), after the change."""
        seen: list[tuple[str, Status | None, Status, Status]] = []
        lifecycle = Lifecycle(Clock())

        @lifecycle.on_transition
        def record(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            seen.append((event, source, dest, batch.status))

        batch = lifecycle.create(input_file_id="f", endpoint="/v1/responses")
        lifecycle.start(batch)
        lifecycle.cancel(batch)
        lifecycle.cancel(batch)  # a no-op: no hook call
        assert seen == [
            ("create", None, Status.VALIDATING, Status.VALIDATING),
            ("start", Status.VALIDATING, Status.IN_PROGRESS, Status.IN_PROGRESS),
            ("cancel", Status.IN_PROGRESS, Status.CANCELLING, Status.CANCELLING),
        ]

    def test_raising_hook_rolls_back(self) -> None:
        """A raising hook undoes the transition, HookError carries the cause, later hooks skip."""
        calls: list[str] = []

        def persist(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            if event == "finalize":
                raise OSError("disk full")

        def notify(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            calls.append(event)

        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        lifecycle.on_transition(persist)
        lifecycle.on_transition(notify)
        lifecycle.record_progress(batch, completed=2)
        before = snapshot(batch)
        with pytest.raises(HookError) as info:
            lifecycle.finalize(batch)
        assert snapshot(batch) == before
        assert isinstance(info.value.__cause__, OSError)
        assert info.value.hook is persist
        assert calls == []
        assert "finalize was rolled back" in str(info.value)
        assert (info.value.batch_id, info.value.status, info.value.event) == (
            batch.id,
            "in_progress",
            "finalize",
        )

    def test_rollback_restores_the_files_a_batch_held(self) -> None:
        """A refused complete puts back the file ids the batch held before, not nulls."""
        lifecycle, batch = batch_in(Status.FINALIZING)
        batch.output_file_id, batch.error_file_id = "file-old", "file-olderr"

        @lifecycle.on_transition
        def refuse(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            raise RuntimeError("store down")

        with pytest.raises(HookError):
            lifecycle.complete(batch, output_file_id="file-new", error_file_id="file-newerr")
        assert (batch.output_file_id, batch.error_file_id) == ("file-old", "file-olderr")
        assert (batch.status, batch.completed_at) == (Status.FINALIZING, None)

    def test_raising_hook_on_create(self) -> None:
        """A hook that raises on create makes create raise HookError."""

        def refuse(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            raise RuntimeError("no")

        with pytest.raises(HookError):
            Lifecycle(Clock(), hooks=[refuse]).create(input_file_id="f", endpoint="/v1/x")

    def test_hook_must_be_callable(self) -> None:
        """on_transition refuses what it cannot call."""
        with pytest.raises(ArgumentError):
            Lifecycle().on_transition(5)  # type: ignore[arg-type]


class TestThreads:
    def test_complete_races_cancel(self) -> None:
        """Threads racing complete against cancel: exactly one wins each batch, nothing is lost."""
        lifecycle = Lifecycle(Clock())
        batches = []
        for _ in range(50):
            _, batch = batch_in(Status.FINALIZING, lifecycle)
            batches.append(batch)
        barrier = threading.Barrier(8)
        outcomes: list[tuple[int, str, bool]] = []
        lock = threading.Lock()

        def worker(index: int) -> None:
            barrier.wait()
            for number, batch in enumerate(batches):
                event = "complete" if (index + number) % 2 else "cancel"
                try:
                    fire(lifecycle, batch, event)
                    won = True
                except IllegalTransition:
                    won = False
                with lock:
                    outcomes.append((number, event, won))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for number, batch in enumerate(batches):
            winners = [event for n, event, won in outcomes if n == number and won]
            assert batch.status in {Status.COMPLETED, Status.CANCELLING}
            if batch.status is Status.COMPLETED:
                assert winners == ["complete"]
                assert batch.cancelling_at is None
            else:
                # cancel won; later cancels are no-ops and count as won
                assert set(winners) == {"cancel"}
                assert batch.completed_at is None
            assert not stamp_order_problems(batch)

    def test_progress_is_not_lost(self) -> None:
        """Concurrent record_progress calls add up exactly."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=8 * 500)

        def worker() -> None:
            for _ in range(500):
                lifecycle.record_progress(batch, completed=1)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert batch.request_counts is not None
        assert batch.request_counts.completed == 8 * 500

    def test_stress_threads_events_batches_and_a_persisting_hook(self) -> None:
        """8 threads fire random events at the same few batches, round after round, while a
        hook stores each change: every batch validates, its stored snapshots form a clean
        history (no stamp lost or rewritten, counts never down), and its counts are exactly
        the progress that was applied."""
        clock = Clock()
        lifecycle = Lifecycle(clock)
        guard = threading.Lock()
        stored: dict[str, list[str]] = {}

        @lifecycle.on_transition
        def persist(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            with guard:
                stored.setdefault(batch.id, []).append(batchfsm.dumps(batch))

        batches: list[Batch] = []
        applied: dict[str, int] = {}
        calls: dict[str, Any] = {
            "start": lambda b: lifecycle.start(b, total=6),
            "finalize": lifecycle.finalize,
            "complete": lambda b: lifecycle.complete(
                b, output_file_id="file-out", error_file_id="file-err"
            ),
            "fail": lambda b: lifecycle.fail(b, [BatchError(code="server_error")]),
            "expire": lambda b: lifecycle.expire(b, now=b.expires_at),
            "cancel": lifecycle.cancel,
            "finish_cancel": lifecycle.finish_cancel,
        }
        events = [*calls, *["record_progress"] * 4, "start", "finalize", "complete"]

        def new_round() -> None:  # run by the last thread to reach the barrier
            for _ in range(3):
                batch = lifecycle.create(input_file_id="file-in", endpoint="/v1/x")
                batches.append(batch)
                applied[batch.id] = 0

        barrier = threading.Barrier(8, action=new_round)
        unexpected: list[BaseException] = []

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(150):
                barrier.wait()
                current = batches[-3:]
                for _ in range(8):
                    batch = rng.choice(current)
                    event = rng.choice(events)
                    try:
                        if event == "record_progress":
                            lifecycle.record_progress(batch, completed=1)
                            with guard:
                                applied[batch.id] += 1
                        else:
                            calls[event](batch)
                    except batchfsm.TransitionError:
                        pass  # refused: illegal now, or a guard not met
                    except BaseException as error:  # anything else fails the test below
                        unexpected.append(error)
                    with guard:
                        clock.now += rng.choice([0, 1, 1, 2, -1])  # it may step back

        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
        assert unexpected == []
        for batch in batches:
            assert batchfsm.validate(batch).errors == ()
            history = [*stored.get(batch.id, []), batchfsm.dumps(batch)]
            assert batchfsm.check_history(history).errors == ()
            assert batch.request_counts is not None
            assert batch.request_counts.completed == applied[batch.id]
        finished = sum(batch.status in batchfsm.TERMINAL for batch in batches)
        assert finished > len(batches) // 2  # the run drove batches, not only refused


class TestArguments:
    def test_not_a_batch(self) -> None:
        """Events on something that is not a Batch raise ArgumentError, not AttributeError."""
        lifecycle = Lifecycle(Clock())
        for call in (lifecycle.start, lifecycle.cancel, lifecycle.allowed_events):
            with pytest.raises(ArgumentError):
                call({"status": "validating"})  # type: ignore[arg-type]

    def test_unhashable_status(self) -> None:
        """A batch whose status was set to a list is refused with ArgumentError, not TypeError."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        batch.status = ["validating"]  # type: ignore[assignment]
        with pytest.raises(ArgumentError, match="not a Status"):
            lifecycle.start(batch)

    def test_status_not_an_enum(self) -> None:
        """A batch whose status was set to a plain string is refused with a clear message."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        batch.status = "in_progress"  # type: ignore[assignment]
        with pytest.raises(ArgumentError, match="not a Status"):
            lifecycle.finalize(batch)


class TestDiagram:
    def test_mermaid_has_every_edge(self) -> None:
        """The diagram draws every edge, tolerated ones labelled, from the table."""
        text = Lifecycle().diagram()
        assert "stateDiagram-v2" in text
        for edge in TRANSITIONS:
            label = (
                edge.event
                if edge.provenance is batchfsm.Provenance.DOCUMENTED
                else f"{edge.event} (tolerated)"
            )
            assert f"{edge.source.name} --> {edge.dest.name}: {label}" in text
        assert 'state "in_progress" as IN_PROGRESS' in text

    def test_strict_diagram_has_no_tolerated_edges(self) -> None:
        """The strict engine's diagram shows documented edges only."""
        assert "(tolerated)" not in Lifecycle(profile="strict").diagram()

    def test_unknown_format(self) -> None:
        """Only mermaid is drawn; another format is an ArgumentError that names it."""
        with pytest.raises(ArgumentError) as info:
            Lifecycle().diagram(format="dot")
        assert (info.value.argument, info.value.reason) == (
            "format",
            "expected 'mermaid', got 'dot'",
        )


def test_path_helper_reaches_every_status() -> None:
    """The test helper drives a batch to every status (so the pair test covers them all)."""
    assert path_to(Status.VALIDATING) == []
    for status in set(Status) - {Status.VALIDATING}:
        assert path_to(status)[-1].dest is status


def test_evolve_copies_are_driven_alone() -> None:
    """attrs.evolve copies share no state with the original through the engine."""
    lifecycle, batch = batch_in(Status.IN_PROGRESS)
    copy = attrs.evolve(batch)
    lifecycle.cancel(copy)
    assert batch.status is Status.IN_PROGRESS


class TestMoreArguments:
    def test_create_needs_a_file(self) -> None:
        """create without an input file id is an ArgumentError."""
        with pytest.raises(ArgumentError, match="input_file_id"):
            Lifecycle(Clock()).create(input_file_id=None, endpoint="/v1/x")  # type: ignore[arg-type]

    def test_metadata_must_be_a_mapping(self) -> None:
        """Metadata that is not a mapping is an ArgumentError."""
        with pytest.raises(ArgumentError, match="metadata"):
            Lifecycle(Clock()).create(input_file_id="f", endpoint="/v1/x", metadata=[("k", "v")])  # type: ignore[arg-type]

    def test_fail_needs_a_sequence(self) -> None:
        """fail with a single error, not a list, is an ArgumentError."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        with pytest.raises(ArgumentError, match="errors"):
            lifecycle.fail(batch, BatchError(code="x"))  # type: ignore[arg-type]

    def test_start_with_total_on_a_batch_without_counts(self) -> None:
        """A decoded batch with no request_counts gets fresh counts on start."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        batch.request_counts = None
        lifecycle.start(batch, total=4)
        assert batch.request_counts == batchfsm.RequestCounts(total=4, completed=0, failed=0)
        lifecycle2, other = batch_in(Status.VALIDATING)
        other.request_counts = None
        lifecycle2.start(other, total=5)
        assert batch.request_counts is not None
        assert other.request_counts is not None
        assert batch.request_counts.extra is not other.request_counts.extra

    def test_sweep_reports_a_batch_whose_expiry_is_refused(self) -> None:
        """expire_overdue reports a batch whose expiry a hook refused, rolled back, with its
        HookError, and goes on with the next."""
        clock = Clock(0)
        lifecycle = Lifecycle(clock)
        refused = lifecycle.create(input_file_id="f", endpoint="/v1/x")
        other = lifecycle.create(input_file_id="f", endpoint="/v1/x")
        lifecycle.start(refused)
        lifecycle.start(other)

        @lifecycle.on_transition
        def refuse(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            if event == "expire" and batch is refused:
                raise RuntimeError("store unavailable")

        sweep = lifecycle.expire_overdue([refused, other], now=10**6)
        assert sweep.expired == (other,)
        ((batch, error),) = sweep.failed
        assert batch is refused
        assert isinstance(error, HookError)
        assert refused.status is Status.IN_PROGRESS

    @pytest.mark.parametrize("event", ["start", "cancel", "fail"])
    def test_a_stamp_set_by_hand_to_a_string_is_refused_unchanged(self, event: str) -> None:
        """A batch whose timestamp is not an int gets an ArgumentError naming it, unmoved."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        batch.created_at = "yesterday"  # type: ignore[assignment]
        before = attrs.evolve(batch)
        with pytest.raises(ArgumentError) as info:
            fire(lifecycle, batch, event)
        assert info.value.reason == (
            f"batch {batch.id!r} holds values that are not ints where ints belong: "
            "{'created_at': 'yesterday'}"
        )
        assert batch == before

    # What the events below are given, besides the batch.
    ARGUMENTS: ClassVar[dict[str, dict[str, int]]] = {
        "start": {"total": 5},
        "record_progress": {"completed": 1},
    }

    @pytest.mark.parametrize(
        ("status", "event", "counts", "named"),
        [
            (Status.VALIDATING, "start", "3", "{'request_counts': '3'}"),
            (
                Status.IN_PROGRESS,
                "finalize",
                RequestCounts(completed=None),  # type: ignore[arg-type]
                "{'request_counts.completed': None}",
            ),
            (
                Status.FINALIZING,
                "complete",
                RequestCounts(total=1, completed="1"),  # type: ignore[arg-type]
                "{'request_counts.completed': '1'}",
            ),
            (
                Status.IN_PROGRESS,
                "record_progress",
                RequestCounts(failed=None),  # type: ignore[arg-type]
                "{'request_counts.failed': None}",
            ),
        ],
    )
    def test_counts_set_by_hand_to_non_ints_are_refused_unchanged(
        self, status: Status, event: str, counts: Any, named: str
    ) -> None:
        """A batch whose request counts are not ints gets an ArgumentError naming them, and
        nothing moves, whichever guard meets them."""
        lifecycle, batch = batch_in(status)
        batch.request_counts = counts
        before = attrs.evolve(batch)
        act = getattr(lifecycle, event)
        with pytest.raises(ArgumentError) as info:
            act(batch, **self.ARGUMENTS.get(event, {}))
        assert info.value.argument == "batch"
        assert info.value.reason == (
            f"batch {batch.id!r} holds values that are not ints where ints belong: {named}"
        )
        assert batch == before

    def test_a_deadline_set_by_hand_to_a_string_is_reported(self) -> None:
        """expire_overdue reports a batch whose expires_at is not an int, naming it, rather
        than skip it silently as not due, and still expires the batches after it."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        _, due = batch_in(Status.IN_PROGRESS, lifecycle)
        batch.expires_at = "tomorrow"  # type: ignore[assignment]
        sweep = lifecycle.expire_overdue([batch, "batch_x", due], now=10**10)  # type: ignore[list-item]
        assert sweep.expired == (due,)
        assert [item for item, _ in sweep.failed] == [batch, "batch_x"]
        assert all(isinstance(error, ArgumentError) for _, error in sweep.failed)
        assert "'expires_at': 'tomorrow'" in str(sweep.failed[0][1])
        assert batch.status is Status.IN_PROGRESS

    def test_base_transition_error_pickles(self) -> None:
        """A TransitionError survives pickling with its fields."""
        error = batchfsm.TransitionError("batch_1", Status.COMPLETED, "cancel", "no")
        again = pickle.loads(pickle.dumps(error))
        assert (again.batch_id, again.event, str(again)) == ("batch_1", "cancel", "no")


@given(bst.batches(), st.sampled_from(EVENTS))
def test_every_event_on_generated_batches(batch: Batch, event: str) -> None:
    """On any reachable batch (from the package's strategy), a legal event moves it along its
    edge and stamps it; any other event is refused and changes nothing."""
    lifecycle = Lifecycle(Clock(1_900_000_000))
    source = batch.status
    before = snapshot(batch)
    edge = EDGES.get((event, source))
    if edge is None and (event, source) not in IDEMPOTENT:
        with pytest.raises(IllegalTransition):
            fire(lifecycle, batch, event)
        assert snapshot(batch) == before
        return
    fire(lifecycle, batch, event)
    if edge is None:
        assert snapshot(batch) == before
    else:
        assert batch.status is edge.dest
        assert getattr(batch, edge.stamp) is not None
        assert batchfsm.validate(batch).errors == ()


def _in_progress(total: int, completed: int = 0, failed: int = 0) -> tuple[Lifecycle, Batch]:
    lifecycle, batch = batch_in(Status.VALIDATING)
    lifecycle.start(batch, total=total)
    lifecycle.record_progress(batch, completed=completed, failed=failed)
    return lifecycle, batch


def _finalizing(completed: int, failed: int) -> tuple[Lifecycle, Batch]:
    lifecycle, batch = _in_progress(completed + failed, completed, failed)
    lifecycle.finalize(batch)
    return lifecycle, batch


# (what is done, the event's status, event, condition, detail) for every guard of the engine
GUARDS: list[tuple[str, Any, str, str, str, str]] = [
    (
        "fail without errors",
        lambda: batch_in(Status.VALIDATING),
        "validating",
        "fail",
        "errors.missing",
        "a failed batch lists at least one error",
    ),
    (
        "finalize too early",
        lambda: _in_progress(3, 2),
        "in_progress",
        "finalize",
        "counts.unaccounted",
        "every request is accounted for once a batch is finalized:"
        " completed 2 + failed 0 = 2, total 3",
    ),
    (
        "complete without output",
        lambda: _finalizing(2, 0),
        "finalizing",
        "complete",
        "files.output_missing",
        "2 requests completed, but output_file_id is null",
    ),
    (
        "complete without error file",
        lambda: _finalizing(0, 3),
        "finalizing",
        "complete",
        "files.error_missing",
        "3 requests failed, but error_file_id is null",
    ),
    (
        "expire before the deadline",
        lambda: batch_in(Status.IN_PROGRESS),
        "in_progress",
        "expire",
        "stamp.expired_early",
        "expired_at {now} is before expires_at {due} (86400 s early)",
    ),
    (
        "expire without a deadline",
        lambda: batch_in(Status.IN_PROGRESS),
        "in_progress",
        "expire",
        "expires_at.missing",
        "expires_at is null; it is set at creation",
    ),
    (
        "start below the progress",
        lambda: batch_in(Status.VALIDATING),
        "validating",
        "start",
        "counts.exceeds_total",
        "completed 2 + failed 0 = 2 exceeds total 1",
    ),
    (
        "progress past the total",
        lambda: _in_progress(3, 2),
        "in_progress",
        "record_progress",
        "counts.exceeds_total",
        "completed 4 + failed 0 = 4 exceeds total 3",
    ),
]


class TestErrorFields:
    """Every refusal carries the batch, status, event and condition, and says them."""

    @pytest.mark.parametrize(
        ("case", "make", "status", "event", "condition", "detail"),
        GUARDS,
        ids=[case for case, *_ in GUARDS],
    )
    def test_guard_errors(
        self, case: str, make: Any, status: str, event: str, condition: str, detail: str
    ) -> None:
        """A GuardError names the batch, its status, the event and the unmet condition."""
        lifecycle, batch = make()
        data: dict[str, dict[str, Any]] = {
            "fail": {"errors": []},
            "expire": {"now": batch.created_at},
            "start": {"total": 1},
            "record_progress": {"completed": 2},
        }
        if condition == "expires_at.missing":
            batch.expires_at = None
        if case == "start below the progress":
            batch.request_counts = batchfsm.RequestCounts(total=0, completed=2, failed=0)
        expected = detail.format(now=batch.created_at, due=batch.expires_at)
        with pytest.raises(GuardError) as info:
            lifecycle.fire(batch, event, **data.get(event, {}))
        error = info.value
        fields = (error.batch_id, error.status, error.event, error.code, error.detail)
        assert fields == (batch.id, status, event, condition, expected)
        assert str(error) == f"cannot {event} {batch.id} ({status}): {expected} [{condition}]"

    @pytest.mark.parametrize(
        ("call", "argument", "reason"),
        [
            (
                lambda lc, b: lc.complete(b, output_file_id=""),
                "output_file_id",
                "expected a non-empty file id or None, got ''",
            ),
            (
                lambda lc, b: lc.complete(b, error_file_id=""),
                "error_file_id",
                "expected a non-empty file id or None, got ''",
            ),
            (
                lambda lc, b: lc.fail(b, "boom"),
                "errors",
                "expected a sequence of BatchError, got 'boom'",
            ),
            (lambda lc, b: lc.fail(b, [1]), "errors", "expected BatchError items, got 1"),
        ],
    )
    def test_argument_errors(self, call: Any, argument: str, reason: str) -> None:
        """An ArgumentError names the argument and says what was expected and given."""
        lifecycle, batch = _finalizing(1, 1)
        with pytest.raises(ArgumentError) as info:
            call(lifecycle, batch)
        assert (info.value.argument, info.value.reason) == (argument, reason)

    def test_files_already_on_the_batch_count(self) -> None:
        """complete needs no file id argument when the batch holds one already (resumed)."""
        lifecycle, batch = _finalizing(2, 1)
        batch.output_file_id, batch.error_file_id = "file-out", "file-err"
        lifecycle.complete(batch)
        assert (batch.status, batch.output_file_id) == (Status.COMPLETED, "file-out")

    def test_errors_are_stored_as_a_list_object(self) -> None:
        """fail stores the errors as the wire's ``{"object": "list", "data": [...]}``."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.fail(batch, [BatchError(code="x")])
        assert batch.errors == batchfsm.BatchErrors(object="list", data=[BatchError(code="x")])


def _create(lifecycle: Lifecycle, **overrides: Any) -> Batch:
    arguments: dict[str, Any] = {"input_file_id": "file-in", "endpoint": "/v1/responses"}
    return lifecycle.create(**{**arguments, **overrides})


# (call, argument, reason): every ArgumentError the engine raises for a caller's value
ARGUMENTS: list[tuple[Any, str, str]] = [
    (
        lambda lc, b: _create(lc, input_file_id=None),
        "input_file_id",
        "expected a non-empty file id, got None",
    ),
    (
        lambda lc, b: _create(lc, input_file_id=""),
        "input_file_id",
        "expected a non-empty file id or None, got ''",
    ),
    (
        lambda lc, b: _create(lc, completion_window=24),
        "completion_window",
        "expected a window such as '24h', got 24",
    ),
    (lambda lc, b: _create(lc, metadata=[("k", "v")]), "metadata", "expected a mapping, got list"),
    (
        lambda lc, b: _create(lc, metadata={"k": 7}),
        "metadata",
        "keys and values are strings, got 'k': 7",
    ),
    (
        lambda lc, b: _create(lc, metadata={7: "v"}),
        "metadata",
        "keys and values are strings, got 7: 'v'",
    ),
    (lambda lc, b: lc.start(b, total=-1), "total", "expected a non-negative integer, got -1"),
    (
        lambda lc, b: lc.start(b, total=2**63),
        "total",
        f"expected a non-negative integer, got {2**63}",
    ),
    (
        lambda lc, b: lc.record_progress(b, completed=-1),
        "completed",
        "expected a non-negative integer, got -1",
    ),
    (
        lambda lc, b: lc.record_progress(b, failed=1.0),
        "failed",
        "expected a non-negative integer, got 1.0",
    ),
    (
        lambda lc, b: lc.expire(b, now=-5),
        "now",
        f"expected Unix seconds from 0 to {10**11 - 1}, got -5",
    ),
    (
        lambda lc, b: lc.finish_cancel(b, error_file_id=""),
        "error_file_id",
        "expected a non-empty file id or None, got ''",
    ),
]


class TestArgumentMessages:
    @pytest.mark.parametrize(("call", "argument", "reason"), ARGUMENTS)
    def test_each_names_the_argument_and_says_why(
        self, call: Any, argument: str, reason: str
    ) -> None:
        """Each wrong argument gives an ArgumentError naming it, with what was given."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        with pytest.raises(ArgumentError) as info:
            call(lifecycle, batch)
        assert (info.value.argument, info.value.reason) == (argument, reason)

    def test_strict_windows(self) -> None:
        """Under strict, only '24h' is a window, and the message says so."""
        with pytest.raises(GuardError) as info:
            _create(Lifecycle(Clock(), profile="strict"), completion_window="48h")
        assert (info.value.code, info.value.detail) == (
            "window.unknown",
            "'48h': OpenAI accepts only '24h'",
        )

    def test_limits_are_inclusive(self) -> None:
        """Metadata at its limits and counts up to 2**63 - 1 are accepted."""
        lifecycle = Lifecycle(Clock())
        metadata = {"k" * 64: "v" * 512, **{str(i): "v" for i in range(15)}}
        batch = _create(lifecycle, metadata=metadata)
        assert batch.metadata == metadata
        lifecycle.start(batch, total=2**63 - 1)
        assert batch.request_counts == batchfsm.RequestCounts(total=2**63 - 1)


class TestPartialFiles:
    def test_finish_cancel_keeps_partial_files(self) -> None:
        """finish_cancel stores the partial result files it is given."""
        lifecycle, batch = batch_in(Status.CANCELLING)
        lifecycle.finish_cancel(batch, output_file_id="file-part", error_file_id="file-errs")
        assert (batch.output_file_id, batch.error_file_id) == ("file-part", "file-errs")

    def test_expire_keeps_partial_files(self) -> None:
        """expire stores the partial result files it is given."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        lifecycle.expire(
            batch, output_file_id="file-part", error_file_id="file-errs", now=batch.expires_at
        )
        assert (batch.output_file_id, batch.error_file_id) == ("file-part", "file-errs")


class TestMoreRefusals:
    def test_progress_on_a_batch_not_in_progress(self) -> None:
        """record_progress outside in_progress is an IllegalTransition with every field."""
        lifecycle, batch = batch_in(Status.FINALIZING)
        with pytest.raises(IllegalTransition) as info:
            lifecycle.record_progress(batch, completed=1)
        error = info.value
        fields = (error.batch_id, error.status, error.event, error.allowed)
        assert fields == (
            batch.id,
            "finalizing",
            "record_progress",
            ("cancel", "complete", "expire", "fail"),
        )

    def test_a_hook_that_is_not_callable(self) -> None:
        """on_transition refuses what it cannot call, naming the hook argument."""
        with pytest.raises(ArgumentError) as info:
            Lifecycle(Clock()).on_transition("persist")  # type: ignore[arg-type]
        assert (info.value.argument, info.value.reason) == (
            "hook",
            "expected a callable, got 'persist'",
        )

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("batch_1", "expected a Batch, got str"),
            (None, "expected a Batch, got NoneType"),
        ],
    )
    def test_not_a_batch(self, value: Any, reason: str) -> None:
        """Anything but a Batch is an ArgumentError about `batch`, whatever the method."""
        lifecycle = Lifecycle(Clock())
        for call in (lifecycle.start, lifecycle.allowed_events, lifecycle.record_progress):
            with pytest.raises(ArgumentError) as info:
                call(value)
            assert (info.value.argument, info.value.reason) == ("batch", reason)

    def test_a_status_that_is_not_a_status(self) -> None:
        """A status set by hand to a string is an ArgumentError naming it."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        batch.status = "bogus"  # type: ignore[assignment]
        with pytest.raises(ArgumentError) as info:
            lifecycle.start(batch)
        assert (info.value.argument, info.value.reason) == (
            "batch",
            f"batch {batch.id!r} has status 'bogus', not a Status",
        )


def test_events_on_other_batches_do_not_wait() -> None:
    """While one batch's hook is blocked, events on other batches still go through: the
    lock is per batch (striped), not one for all."""
    lifecycle = Lifecycle(Clock())
    held = threading.Event()
    release = threading.Event()
    blocked = lifecycle.create(input_file_id="file-in", endpoint="/v1/x")
    others = [lifecycle.create(input_file_id="file-in", endpoint="/v1/x") for _ in range(8)]

    @lifecycle.on_transition
    def slow_store(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
        if batch is blocked:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=lifecycle.start, args=(blocked,))
    holder.start()
    assert held.wait(10)
    done: list[Batch] = []

    def start_others() -> None:
        for batch in others:
            lifecycle.start(batch)
            done.append(batch)

    worker = threading.Thread(target=start_others)
    worker.start()
    worker.join(5)
    finished = len(done)
    release.set()
    holder.join()
    worker.join()
    # With 64 stripes, eight other batches all sharing the held batch's lock is unlikely
    # (1 in 64**8); with one lock for all, none would get through.
    assert finished >= 1


class TestCreateFields:
    def test_every_argument_lands_in_the_batch(self) -> None:
        """create puts model, window and metadata where they belong; the deadline follows."""
        lifecycle = Lifecycle(Clock(1_000), profile="compat")
        batch = _create(
            lifecycle, model="gpt-5", completion_window="48h", metadata={"team": "evals"}
        )
        assert (batch.model, batch.completion_window, batch.metadata) == (
            "gpt-5",
            "48h",
            {"team": "evals"},
        )
        assert (batch.created_at, batch.expires_at) == (1_000, 1_000 + 48 * 3600)

    @pytest.mark.parametrize(
        ("overrides", "argument", "reason"),
        [
            ({"endpoint": ""}, "endpoint", "expected an endpoint path, got ''"),
            ({"model": 5}, "model", "expected a string or None, got 5"),
        ],
    )
    def test_bad_arguments(self, overrides: dict[str, Any], argument: str, reason: str) -> None:
        """create names the argument it refuses and says what it got."""
        with pytest.raises(ArgumentError) as info:
            _create(Lifecycle(Clock()), **overrides)
        assert (info.value.argument, info.value.reason) == (argument, reason)

    def test_strict_endpoints(self) -> None:
        """Under strict an unknown endpoint is refused with the rule the validator reports."""
        with pytest.raises(GuardError) as info:
            _create(Lifecycle(Clock(), profile="strict"), endpoint="/v1/other")
        assert (info.value.code, info.value.detail) == (
            "endpoint.unknown",
            "'/v1/other' is not an endpoint OpenAI accepts",
        )

    def test_a_bad_id_factory(self) -> None:
        """An id factory that returns no string is an ArgumentError about id_factory."""
        with pytest.raises(ArgumentError) as info:
            _create(Lifecycle(Clock(), id_factory=lambda: 7))  # type: ignore[arg-type,return-value]
        assert (info.value.argument, info.value.reason) == (
            "id_factory",
            "must return a non-empty string, returned 7",
        )

    def test_a_refusing_hook_on_create(self) -> None:
        """A hook that raises on create gives a HookError with the new batch's fields."""
        lifecycle = Lifecycle(Clock(), id_factory=lambda: "batch_new")

        def refuse(batch: Batch, event: str, source: Status | None, dest: Status) -> None:
            raise RuntimeError("store down")

        lifecycle.on_transition(refuse)
        with pytest.raises(HookError) as info:
            _create(lifecycle)
        error = info.value
        assert (error.batch_id, error.status, error.event, error.hook) == (
            "batch_new",
            "validating",
            "create",
            refuse,
        )


class TestFire:
    """`Lifecycle.fire` is the one entry point; the named methods stand for it."""

    @pytest.mark.parametrize("status", list(Status), ids=str)
    @pytest.mark.parametrize("event", EVENTS, ids=str)
    def test_fire_and_the_named_method_agree(self, status: Status, event: Event) -> None:
        """For every event on every status, fire with the event's data does what the named
        method does: the same change, or the same refusal."""
        outcomes: list[tuple[type[Exception] | None, str]] = []
        for use_fire in (True, False):
            lifecycle, batch = batch_in(status, Lifecycle(Clock(), id_factory=lambda: "batch_1"))
            data = satisfying(event, batch)
            try:
                if use_fire:
                    lifecycle.fire(batch, event.value, **data)
                else:
                    getattr(lifecycle, event.value)(batch, **data)
            except batchfsm.TransitionError as error:
                outcomes.append((type(error), str(error)))
            else:
                outcomes.append((None, batchfsm.dumps(batch)))
        assert outcomes[0] == outcomes[1]

    def test_progress_through_fire(self) -> None:
        """record_progress is fired like the edges' events."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        lifecycle.fire(batch, Event.RECORD_PROGRESS, completed=1, failed=1)
        assert batch.request_counts == RequestCounts(total=2, completed=1, failed=1)

    @pytest.mark.parametrize(
        ("event", "data", "argument", "reason"),
        [
            ("explode", {}, "event", "expected one of cancel, complete, expire, fail, finalize,"),
            ("create", {}, "event", "expected one of"),
            ("start", {"totl": 2}, "data", "start got an unexpected keyword argument 'totl'"),
            ("fail", {}, "data", "fail missing a required argument: 'errors'"),
            ("record_progress", {"now": 5}, "now", "record_progress stamps nothing"),
        ],
    )
    def test_what_fire_refuses(
        self, event: str, data: dict[str, Any], argument: str, reason: str
    ) -> None:
        """An unknown event, create, or data the event does not take is an ArgumentError
        naming it, and the batch is unchanged."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        before = snapshot(batch)
        with pytest.raises(ArgumentError) as info:
            lifecycle.fire(batch, event, **data)
        assert info.value.argument == argument
        assert info.value.reason.startswith(reason)
        assert snapshot(batch) == before

    def test_now_on_every_event(self) -> None:
        """Every event takes `now` instead of the clock's reading."""
        lifecycle, batch = batch_in(Status.VALIDATING)
        lifecycle.start(batch, total=1, now=1_700_000_500)
        lifecycle.cancel(batch, now=1_700_000_600)
        lifecycle.finish_cancel(batch, now=1_700_000_700)
        assert (batch.in_progress_at, batch.cancelling_at, batch.cancelled_at) == (
            1_700_000_500,
            1_700_000_600,
            1_700_000_700,
        )

    def test_statuses_and_events_of_errors_are_enum_members(self) -> None:
        """A refusal carries the Status and the Event, not their strings."""
        lifecycle, batch = batch_in(Status.COMPLETED)
        with pytest.raises(IllegalTransition) as info:
            lifecycle.cancel(batch)
        assert info.value.status is Status.COMPLETED
        assert info.value.event is Event.CANCEL


def _attempt(event: Any, batch: Batch, errors: list[BaseException]) -> None:
    """Fire `event` on `batch` (with the files complete needs), keeping any error that is
    not a refusal."""
    try:
        if event.__name__ == "complete":
            event(batch, output_file_id="file-out", error_file_id="file-err")
        else:
            event(batch)
    except batchfsm.TransitionError:
        pass
    except BaseException as error:  # pragma: no cover - the promise broken
        errors.append(error)


class TestManyLifecycles:
    """Issue 13: the engine's promises hold for any number of threads and Lifecycles."""

    def test_sixteen_threads_two_lifecycles_one_batch(self) -> None:
        """16 threads, half on each of two Lifecycles, fire every event at one batch while
        snapshots are taken: only legal outcomes, only batchfsm's errors, and every
        snapshot validates."""
        for _ in range(20):
            self._one_round()

    @staticmethod
    def _one_round() -> None:
        clock = Clock()
        first, second = Lifecycle(clock), Lifecycle(clock)
        batch = first.create(input_file_id="file-in", endpoint="/v1/chat/completions")
        first.start(batch, total=40)
        foreign: list[BaseException] = []
        invalid: list[object] = []
        accepted: list[int] = []
        barrier = threading.Barrier(17)

        def work(lifecycle: Lifecycle, seed: int) -> None:
            chooser = random.Random(seed)
            barrier.wait()
            for _ in range(30):
                event = chooser.choice([*EVENTS, Event.RECORD_PROGRESS])
                data = {"completed": 1} if event is Event.RECORD_PROGRESS else {}
                data |= satisfying(event, batch) if event is not Event.EXPIRE else {}
                try:
                    lifecycle.fire(batch, event, **data)
                except batchfsm.BatchfsmError:
                    continue
                except BaseException as error:  # pragma: no cover - the promise broken
                    foreign.append(error)
                else:
                    if event is Event.RECORD_PROGRESS:
                        accepted.append(1)

        def read() -> None:
            barrier.wait()
            for _ in range(200):
                report = batchfsm.validate(first.snapshot(batch))
                if report.errors:  # pragma: no cover - the promise broken
                    invalid.append(report.errors)

        threads = [
            threading.Thread(target=work, args=((first, second)[i % 2], i)) for i in range(16)
        ]
        threads.append(threading.Thread(target=read))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert foreign == []
        assert invalid == []
        assert batchfsm.validate(batch).errors == ()
        assert batch.request_counts is not None
        assert batch.request_counts.completed == len(accepted)

    def test_progress_from_two_lifecycles_is_not_lost(self) -> None:
        """Progress recorded through two Lifecycles at once adds up exactly."""
        first, second = Lifecycle(Clock()), Lifecycle(Clock())
        batch = first.create(input_file_id="f", endpoint="/v1/responses")
        first.start(batch, total=80_000)

        def count(lifecycle: Lifecycle) -> None:
            for _ in range(5_000):
                lifecycle.record_progress(batch, completed=1)

        threads = [threading.Thread(target=count, args=(lc,)) for lc in (first, second) * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert batch.request_counts == RequestCounts(total=80_000, completed=40_000)

    def test_complete_and_cancel_from_two_lifecycles(self) -> None:
        """complete on one Lifecycle racing cancel on another: one wins, the other is
        refused with a TransitionError, and the batch is never both."""
        worker, sweeper = Lifecycle(Clock()), Lifecycle(Clock())
        for _ in range(200):
            _, batch = batch_in(Status.FINALIZING, worker)
            errors: list[BaseException] = []
            racers = [
                threading.Thread(target=_attempt, args=(worker.complete, batch, errors)),
                threading.Thread(target=_attempt, args=(sweeper.cancel, batch, errors)),
            ]
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join()
            assert errors == []
            assert batchfsm.validate(batch).errors == ()
            assert (batch.completed_at is None) or (batch.cancelling_at is None)

    def test_snapshot_is_a_deep_copy(self) -> None:
        """A snapshot equals the batch and shares nothing with it."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        copy = lifecycle.snapshot(batch)
        assert copy == batch
        assert copy is not batch
        assert copy.request_counts is not batch.request_counts
        lifecycle.record_progress(batch, completed=1)
        assert copy != batch
        with pytest.raises(ArgumentError, match="expected a Batch"):
            lifecycle.snapshot("batch_1")  # type: ignore[arg-type]


class TestHookDiscipline:
    def test_an_event_from_inside_a_hook_is_refused(self) -> None:
        """A hook that fires an event on its own batch gets a ReentryError, and that
        event changes nothing; the outer event completes."""
        lifecycle, batch = batch_in(Status.FINALIZING)
        seen: list[batchfsm.ReentryError] = []

        @lifecycle.on_transition
        def nested(b: Batch, event: str, source: Status | None, dest: Status) -> None:
            if event == "complete":
                with pytest.raises(batchfsm.ReentryError) as info:
                    lifecycle.cancel(b)
                seen.append(info.value)
                with pytest.raises(batchfsm.ReentryError):
                    lifecycle.record_progress(b)

        fire(lifecycle, batch, "complete")
        assert batch.status is Status.COMPLETED
        assert batch.cancelling_at is None
        (error,) = seen
        assert (error.batch_id, error.event, error.status) == (batch.id, "cancel", "completed")
        assert "from inside one of its own hooks" in str(error)

    def test_a_refused_nested_event_and_a_failing_hook_roll_back_whole(self) -> None:
        """When a later hook fails after an earlier one tried a nested event, the batch is
        exactly as before: no stamp of either event is left."""
        lifecycle, batch = batch_in(Status.FINALIZING)
        before = snapshot(batch)

        def nest(b: Batch, event: str, source: Status | None, dest: Status) -> None:
            with contextlib.suppress(batchfsm.ReentryError):
                lifecycle.cancel(b)

        def fail(b: Batch, event: str, source: Status | None, dest: Status) -> None:
            raise RuntimeError("store down")

        lifecycle.on_transition(nest)
        lifecycle.on_transition(fail)
        with pytest.raises(HookError):
            fire(lifecycle, batch, "complete")
        assert snapshot(batch) == before

    @pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
    def test_base_exceptions_roll_back_and_propagate(self, raised: type[BaseException]) -> None:
        """A hook raising KeyboardInterrupt or SystemExit rolls the change back, and the
        exception goes on as it is (it is not the caller's mistake)."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        before = snapshot(batch)

        def interrupt(b: Batch, event: str, source: Status | None, dest: Status) -> None:
            raise raised

        lifecycle.on_transition(interrupt)
        with pytest.raises(raised):
            lifecycle.cancel(batch)
        assert snapshot(batch) == before
        lifecycle._hooks.clear()
        lifecycle.cancel(batch)  # the batch is not left marked as inside a hook
        assert batch.status is Status.CANCELLING

    def test_coroutine_hooks_are_refused(self) -> None:
        """An async hook would never run: it is refused when registered, however given."""

        async def persist(b: Batch, event: str, source: Status | None, dest: Status) -> None:
            pass  # pragma: no cover - never awaited

        class Persist:
            async def __call__(
                self, b: Batch, event: str, source: Status | None, dest: Status
            ) -> None:
                pass  # pragma: no cover - never awaited

        for hook in (persist, Persist()):
            with pytest.raises(ArgumentError, match="coroutine function"):
                Lifecycle(Clock()).on_transition(hook)  # type: ignore[arg-type]
            with pytest.raises(ArgumentError, match="coroutine function"):
                Lifecycle(Clock(), hooks=[hook])  # type: ignore[list-item]


class TestProgressWhileCancelling:
    def test_requests_in_flight_finish_while_cancelling(self) -> None:
        """Progress is recorded while a cancel winds down, and the cancelled batch keeps it."""
        lifecycle, batch = batch_in(Status.IN_PROGRESS)
        lifecycle.cancel(batch)
        lifecycle.record_progress(batch, completed=1, failed=1)
        lifecycle.finish_cancel(batch, output_file_id="file-part")
        assert batch.request_counts == RequestCounts(total=2, completed=1, failed=1)
        assert batchfsm.validate(batch).ok
