"""The state machine of `batchfsm.testing`, apart so that importing that module for its clock
does not import Hypothesis."""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ._clock import ManualClock
from ._codec import dumps, loads
from ._engine import Lifecycle
from ._errors import GuardError, TransitionError
from ._profile import Profile
from ._record import Batch
from ._table import EVENTS, RECORD_PROGRESS, TRANSITIONS, Event, Operation, Transition
from ._validate import validate
from .strategies import _DATA

__all__ = ["BatchLifecycleMachine"]

#: Every event `Lifecycle.fire` takes: the edges' and recording progress.
_ANY_EVENT = st.sampled_from([*EVENTS, RECORD_PROGRESS.event])


def _guarded(event: Event) -> set[str]:
    """The codes of the rules that guard `event` in the table: a refusal names one."""
    operations: list[Transition | Operation] = [*TRANSITIONS, RECORD_PROGRESS]
    return {rule.code for op in operations if op.event is event for rule in op.guards}


@st.composite
def _data(draw: st.DrawFn, event: Event, batch: Batch) -> dict[str, Any]:
    """Data for `event` that meets its guards on `batch` (`strategies`), or that same data
    loosened so that it may not: fewer errors, a file or a deadline left out, more requests."""
    data = dict(draw(_DATA[event](batch)))
    if draw(st.booleans()):
        return data
    for key, value in list(data.items()):
        if isinstance(value, list):
            data[key] = value[: draw(st.integers(0, len(value)))]
        elif draw(st.booleans()):
            if isinstance(value, int) and draw(st.booleans()):
                data[key] = value + draw(st.integers(1, 5))
            else:
                del data[key]
    return data


class BatchLifecycleMachine(RuleBasedStateMachine):
    """Fires every event, legal or not, at one batch through `Lifecycle.fire`, with data that
    meets the event's guards or may break them, and a fake clock that may step back.

    After every step it checks that the batch validates under `profile`, that a refused
    event changed nothing (and that a guard refused it with a validator code), and that the
    batch survives a round trip through the codec.

    Attributes:
        profile: The engine's and validator's profile: a `Profile` or a preset's name.
        clock: The `ManualClock` the engine reads.
        lifecycle: The engine driving the batch.
        batch: The batch under test.
    """

    profile: ClassVar[Profile | str] = "openai"

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(1_700_000_000)
        self.lifecycle = self.make_lifecycle(self.clock)
        self.batch = self.lifecycle.create(input_file_id="file-in", endpoint="/v1/chat/completions")
        self.apply_to_system(Event.CREATE, self.batch, accepted=True)

    # -- the hooks for a system under test ---------------------------------------------

    def make_lifecycle(self, clock: ManualClock) -> Lifecycle:
        """The engine the machine drives its batch with; override it to add hooks (your
        system, persisting each change) or a clock of your own. It must read `clock` for
        the clock rule to move time."""
        return Lifecycle(clock, profile=self.profile)

    def apply_to_system(self, event: Event, batch: Batch, *, accepted: bool) -> None:
        """Called after each event with whether the engine accepted it; mirror it here."""

    def check_system(self, batch: Batch) -> None:
        """Called after every step; assert that your system agrees with `batch` here."""

    # -- rules -------------------------------------------------------------------------

    @rule(data=st.data())
    def fire(self, data: st.DataObject) -> None:
        """Rule: fire an event, legal or not, with data that meets its guards or may not."""
        # Half the time an event that moves the batch on from its status (or records
        # progress), or a run would seldom get past the first refusals.
        status = self.batch.status
        legal = [t.event for t in self.lifecycle.transitions if t.source is status]
        if status in RECORD_PROGRESS.statuses:
            legal.append(RECORD_PROGRESS.event)
        events = st.sampled_from(legal) | _ANY_EVENT if legal else _ANY_EVENT
        event = data.draw(events, label="event")
        kwargs = data.draw(_data(event, self.batch), label=f"{event.value} data")
        before = dumps(self.batch)
        refused: TransitionError | None = None
        try:
            self.lifecycle.fire(self.batch, event, **kwargs)
        except TransitionError as error:
            refused = error
        if refused is not None:
            assert dumps(self.batch) == before, f"a refused {event.value} changed the batch"
            if isinstance(refused, GuardError):
                assert refused.code in _guarded(event), f"{event.value} refused: {refused.code}"
        self.apply_to_system(event, self.batch, accepted=refused is None)

    @rule(seconds=st.integers(-3_600, 90_000))
    def move_clock(self, seconds: int) -> None:
        """Rule: move the clock on, or back by up to an hour."""
        self.clock.advance(seconds)

    @rule()
    def round_trip(self) -> None:
        """Rule: the batch survives a round trip through the codec."""
        # The batch object is never swapped: a system under test may hold it, or its
        # identity (the engine's per-batch lock, hooks keyed by it), for the whole run.
        assert loads(dumps(self.batch)) == self.batch

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def batch_is_valid(self) -> None:
        """Invariant: the batch validates under the engine's profile."""
        report = validate(self.batch, profile=self.profile)
        assert report.errors == (), report.errors

    @invariant()
    def system_agrees(self) -> None:
        """Invariant: `check_system` passes."""
        self.check_system(self.batch)
