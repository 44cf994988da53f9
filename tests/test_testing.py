"""batchfsm.testing: the clock, and the ready state machine, run as our own test and
subclassed with a system under test."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import batchfsm
import batchfsm.testing
from batchfsm import (
    IDEMPOTENT,
    ArgumentError,
    Batch,
    Event,
    GuardError,
    IllegalTransition,
    Lifecycle,
    Profile,
    Status,
    TransitionError,
)
from batchfsm import strategies as bst
from batchfsm._table import RECORD_PROGRESS, transitions_for
from batchfsm.testing import BatchLifecycleMachine, ManualClock


class TestManualClock:
    def test_reads_what_it_is_set_to(self) -> None:
        """The clock reads `now`, as set at creation or by hand; the default is late 2023."""
        clock = ManualClock(5)
        assert (clock(), clock.now) == (5, 5)
        clock.now = 9
        assert clock() == 9
        assert ManualClock()() == 1_700_000_000

    def test_advance(self) -> None:
        """advance moves the clock on (or back) and returns the new reading."""
        clock = ManualClock(100)
        assert clock.advance(30) == 130
        assert clock.advance(-50) == 80
        assert clock() == 80

    def test_advance_stops_at_zero(self) -> None:
        """Moving back past the epoch stops at 0: a clock never reads a negative time."""
        clock = ManualClock(10)
        assert clock.advance(-11) == 0
        assert clock() == 0

    @pytest.mark.parametrize("value", [-1, 1.5, "1", None, True])
    def test_refuses_what_is_not_unix_seconds(self, value: Any) -> None:
        """A start that is not non-negative int seconds is an ArgumentError."""
        with pytest.raises(ArgumentError):
            ManualClock(value)

    @pytest.mark.parametrize("seconds", [1.5, "1", None, True])
    def test_advance_refuses_what_is_not_seconds(self, seconds: Any) -> None:
        """A step that is not int seconds is an ArgumentError, and the clock stays."""
        clock = ManualClock(10)
        with pytest.raises(ArgumentError):
            clock.advance(seconds)
        assert clock() == 10

    def test_drives_an_engine(self) -> None:
        """The engine stamps each event with the clock's reading."""
        clock = ManualClock(1_000)
        lifecycle = Lifecycle(clock)
        batch = lifecycle.create(input_file_id="file-in", endpoint="/v1/chat/completions")
        clock.advance(60)
        lifecycle.start(batch)
        assert (batch.created_at, batch.in_progress_at) == (1_000, 1_060)


class TestLazyImport:
    def test_clock_without_hypothesis(self) -> None:
        """Importing batchfsm.testing for its clock imports no Hypothesis; the machine
        brings it in on first use."""
        code = (
            "import sys\n"
            "from batchfsm.testing import ManualClock\n"
            "clock = ManualClock(5)\n"
            "clock.advance(3)\n"
            "print(clock(), 'hypothesis' in sys.modules)\n"
            "import batchfsm.testing as t\n"
            "print(t.BatchLifecycleMachine.__name__, 'hypothesis' in sys.modules)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["8", "False", "BatchLifecycleMachine", "True"]

    def test_unknown_name(self) -> None:
        """Other names are an AttributeError, as from any module; dir lists the machine."""
        with pytest.raises(AttributeError):
            batchfsm.testing.Nothing  # noqa: B018
        assert {"BatchLifecycleMachine", "ManualClock"} <= set(dir(batchfsm.testing))


_QUICK = settings(max_examples=40, stateful_step_count=30, deadline=None)
# A run that must fail need not shrink its failure.
_UNSHRUNK = settings(_QUICK, max_examples=200, phases=[Phase.generate])

TestLifecycle = pytest.mark.slow(BatchLifecycleMachine.TestCase)
TestLifecycle.settings = _QUICK


class StrictMachine(BatchLifecycleMachine):
    profile = Profile.STRICT


TestStrictLifecycle = StrictMachine.TestCase
TestStrictLifecycle.settings = settings(_QUICK, max_examples=25)


class CompatMachine(BatchLifecycleMachine):
    profile = "compat"


TestCompatLifecycle = CompatMachine.TestCase
TestCompatLifecycle.settings = settings(_QUICK, max_examples=15)


class Mirror(BatchLifecycleMachine):
    """A toy system under test: it keeps the status of each accepted event."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.status: Status | None = None
        super().__init__()

    def apply_to_system(self, event: Event, batch: Batch, *, accepted: bool) -> None:
        self.seen.append(event)
        if accepted:
            self.status = batch.status

    def check_system(self, batch: Batch) -> None:
        assert self.status is batch.status
        assert all(type(event) is Event for event in self.seen)


TestMirror = Mirror.TestCase
TestMirror.settings = settings(_QUICK, max_examples=20)


class Broken(Mirror):
    """A system with a bug: it thinks cancelling is instant."""

    def apply_to_system(self, event: Event, batch: Batch, *, accepted: bool) -> None:
        super().apply_to_system(event, batch, accepted=accepted)
        if accepted and event is Event.CANCEL:
            self.status = Status.CANCELLED


class _Leaky(Lifecycle):
    """An engine with a bug: a refused event still stamps the batch."""

    def fire(self, batch: Batch, event: Event | str, /, **data: Any) -> None:
        try:
            super().fire(batch, event, **data)
        except TransitionError:
            batch.failed_at = batch.created_at
            raise


class LeakyMachine(BatchLifecycleMachine):
    def __init__(self) -> None:
        super().__init__()
        self.lifecycle = _Leaky(self.clock, profile=self.profile)


class TestHarnessFindsBugs:
    def test_a_system_that_disagrees(self) -> None:
        """A subclass whose system disagrees with the lifecycle fails the run."""
        with pytest.raises(AssertionError):
            run_state_machine_as_test(Broken, settings=_UNSHRUNK)

    def test_an_engine_whose_refusals_change_the_batch(self) -> None:
        """A refused event that changed the batch fails the run."""
        with pytest.raises(AssertionError, match="changed the batch"):
            run_state_machine_as_test(LeakyMachine, settings=_UNSHRUNK)


class TestMachineHooks:
    """A subclass supplies its own engine and keeps one batch object all run long."""

    def test_own_lifecycle_and_one_batch(self) -> None:
        """make_lifecycle's engine (with its hooks) drives the batch, and the batch the
        machine created is the one it holds at every step."""
        seen: list[int] = []

        class Hooked(BatchLifecycleMachine):
            def make_lifecycle(self, clock: ManualClock) -> Lifecycle:
                return Lifecycle(clock, hooks=[lambda batch, *_: seen.append(id(batch))])

            def check_system(self, batch: Batch) -> None:
                assert batch is self.first

            def apply_to_system(self, event: Event, batch: Batch, *, accepted: bool) -> None:
                if event is Event.CREATE:
                    self.first = batch

        run_state_machine_as_test(Hooked, settings=settings(max_examples=10, deadline=None))
        assert seen

    def test_own_clock_and_profile(self) -> None:
        """An engine with its own clock and profile drives the batch, and the batch is
        validated under that engine's profile."""
        profiles: list[Profile] = []

        class Strict(BatchLifecycleMachine):
            def make_lifecycle(self, clock: ManualClock) -> Lifecycle:
                return Lifecycle(ManualClock(5_000), profile="strict")

            def check_system(self, batch: Batch) -> None:
                profiles.append(self.lifecycle.profile)
                assert batch.created_at == 5_000

        run_state_machine_as_test(Strict, settings=settings(max_examples=10, deadline=None))
        assert set(profiles) == {Profile.STRICT}

    def test_make_lifecycle_must_make_a_lifecycle(self) -> None:
        """A make_lifecycle returning anything but a Lifecycle is an ArgumentError."""

        class Wrong(BatchLifecycleMachine):
            def make_lifecycle(self, clock: ManualClock) -> Lifecycle:
                return "openai"  # type: ignore[return-value]

        with pytest.raises(ArgumentError, match="make_lifecycle"):
            Wrong()


def _allowed(profile: Profile | str, status: Status) -> set[Event]:
    """The events `status` allows in the table under `profile`."""
    allowed = {t.event for t in transitions_for(profile) if t.source is status}
    allowed |= {event for event, source in IDEMPOTENT if source is status}
    if status in RECORD_PROGRESS.statuses:
        allowed.add(RECORD_PROGRESS.event)
    return allowed


def _replay(pairs: list[tuple[Event, dict[str, Any]]], batch: Batch, profile: str) -> list[bool]:
    """Fire the pairs on `batch` with a fresh engine of `profile`; whether each was accepted.
    A refused event must be one the status does not allow, refused as illegal."""
    lifecycle = Lifecycle(profile=profile)
    accepted = []
    for event, data in pairs:
        allowed = _allowed(profile, batch.status)
        try:
            lifecycle.fire(batch, event, **data)
        except IllegalTransition:
            assert event not in allowed, (event, batch.status)
            accepted.append(False)
        else:
            assert event in allowed, (event, batch.status)
            accepted.append(True)
        report = batchfsm.validate(batch, profile=profile)
        assert report.ok, report.errors
    return accepted


class TestEventSequences:
    """event_sequences(with_data=True): events with the data they need, along the table."""

    @given(bst.event_sequences(with_data=True))
    def test_pairs_fit_the_machines_batch(self, pairs: list[tuple[Event, dict[str, Any]]]) -> None:
        """Fired in order on a batch made as the machine makes it, every event its status
        allows is accepted and every other is refused as illegal (never by a guard)."""
        clock = ManualClock()
        batch = Lifecycle(clock).create(input_file_id="file-in", endpoint="/v1/chat/completions")
        assert len(pairs) <= 20
        _replay(pairs, batch, "openai")

    @given(st.sampled_from(["strict", "openai", "compat"]), st.data())
    def test_pairs_fit_any_batch(self, profile: str, data: st.DataObject) -> None:
        """For any valid batch and profile, the pairs drawn for it fit it: allowed events
        are accepted, the others refused as illegal, the batch stays valid."""
        batch = data.draw(bst.batches(profile=profile), label="batch")
        pairs = data.draw(
            bst.event_sequences(8, with_data=True, batch=batch, profile=profile), label="pairs"
        )
        assert len(pairs) <= 8
        _replay(pairs, copy.deepcopy(batch), profile)

    @given(bst.event_sequences(6, with_data=True))
    def test_pairs_are_events_with_data(self, pairs: list[tuple[Event, dict[str, Any]]]) -> None:
        """Every pair is an Event with a dict of keyword data, at most max_size of them."""
        assert len(pairs) <= 6
        assert all(type(e) is Event and type(d) is dict for e, d in pairs)

    @pytest.mark.slow
    @pytest.mark.parametrize(
        "event", sorted({*(t.event for t in transitions_for("openai")), RECORD_PROGRESS.event})
    )
    def test_reaches_every_event(self, event: Event) -> None:
        """Every event of the table is drawn, with data, in a sequence that gets the batch
        to where its status allows it, and is accepted there."""

        def accepted(pairs: list[tuple[Event, dict[str, Any]]]) -> bool:
            clock = ManualClock()
            batch = Lifecycle(clock).create(input_file_id="file-in", endpoint="/v1/embeddings")
            done = _replay(pairs, batch, "openai")
            return any(ok and e is event for (e, _), ok in zip(pairs, done, strict=True))

        # No shrinking: finding one is the point.
        quick = settings(max_examples=5_000, database=None, phases=[Phase.generate])
        assert accepted(find(bst.event_sequences(12, with_data=True), accepted, settings=quick))

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"max_size": -1},
            {"max_size": 1.5},
            {"batch": "batch"},
            {"with_data": True, "batch": "batch"},
            {"profile": "strict"},
            {"with_data": True, "profile": "nope"},
        ],
    )
    def test_arguments(self, kwargs: dict[str, Any]) -> None:
        """A bad size, a batch or profile without with_data, or a batch that is no Batch is
        an ArgumentError when the strategy is made."""
        with pytest.raises(ArgumentError):
            bst.event_sequences(**kwargs)

    @given(st.data())
    def test_no_deadline_under_compat(self, data: st.DataObject) -> None:
        """For a compat batch without a deadline, expire is never drawn as an allowed event;
        fired, it is the one event its status allows that a guard refuses."""
        lifecycle = Lifecycle(ManualClock(), profile="compat")
        batch = lifecycle.create(input_file_id="file-in", endpoint="/v1/embeddings")
        lifecycle.start(batch, total=3)
        batch.expires_at = None
        pairs = data.draw(bst.event_sequences(8, with_data=True, batch=batch, profile="compat"))
        replay = Lifecycle(profile="compat")
        for event, kwargs in pairs:
            allowed = _allowed("compat", batch.status)
            refused: TransitionError | None = None
            try:
                replay.fire(batch, event, **kwargs)
            except TransitionError as error:
                refused = error
            if isinstance(refused, GuardError):
                assert (event, refused.code) == (Event.EXPIRE, "expires_at.missing")
            else:
                assert (event in allowed) == (refused is None), (event, batch.status)

    def test_invalid_batch(self) -> None:
        """A batch that does not validate under the profile is refused, naming its codes."""
        batch = Lifecycle(ManualClock()).create(input_file_id="file-in", endpoint="/v1/embeddings")
        batch.expires_at = None
        with pytest.raises(ArgumentError, match=r"expires_at\.missing"):
            bst.event_sequences(with_data=True, batch=batch)
