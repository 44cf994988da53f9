"""The state machine of `batchfsm.testing`, apart so that importing that module for its clock
does not import Hypothesis."""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ._clock import ManualClock
from ._codec import dumps, loads
from ._engine import Lifecycle
from ._errors import ArgumentError, GuardError, TransitionError
from ._profile import Profile
from ._record import Batch
from ._table import RECORD_PROGRESS, TRANSITIONS, Event, Operation, Transition
from ._validate import validate
from .strategies import _DATA, _FIREABLE, _accepts

__all__ = ["BatchLifecycleMachine"]

_ANY_EVENT = st.sampled_from(_FIREABLE)


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

    After every step it checks that the batch validates under the engine's profile, that a
    refused event changed nothing (and that a guard refused it with a validator code), and
    that the batch survives a round trip through the codec.

    A subclass tests its own system: it sets the system up in ``__init__`` (before calling
    ``super().__init__()``, which creates the batch and reports it), mirrors each event
    into it in `apply_to_system`, compares it with the batch in `check_system`, and may
    drive the batch with an engine of its own (`make_lifecycle`: hooks, a clock). The batch
    object is the same from creation to the end of the run: the machine never replaces it
    (its round trip through the codec compares a copy), so a system may hold it.

    Attributes:
        profile: The profile of the engine `make_lifecycle` makes by default: a `Profile`
            or a preset's name.
        clock: The `ManualClock` the machine moves (the default engine reads it).
        lifecycle: The engine driving the batch; the batch is validated under its profile.
        batch: The batch under test.
    """

    profile: ClassVar[Profile | str] = "openai"

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(1_700_000_000)
        lifecycle = self.make_lifecycle(self.clock)
        if not isinstance(lifecycle, Lifecycle):
            raise ArgumentError("make_lifecycle", f"must return a Lifecycle, got {lifecycle!r}")
        self.lifecycle = lifecycle
        self.batch = self.lifecycle.create(input_file_id="file-in", endpoint="/v1/chat/completions")
        self.apply_to_system(Event.CREATE, self.batch, accepted=True)

    # -- the hooks for a system under test ---------------------------------------------

    def make_lifecycle(self, clock: ManualClock) -> Lifecycle:
        """The engine the machine drives its batch with; override it to add hooks (your
        system, persisting each change), another profile or a clock of your own. The
        machine's clock rule moves `clock`: an engine reading another clock sees time move
        only as that clock moves it.

        Raises:
            ArgumentError: (from the machine) when it returns anything but a `Lifecycle`.
        """
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
        legal = _accepts(self.lifecycle, self.batch)
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
        report = validate(self.batch, profile=self.lifecycle.profile)
        assert report.errors == (), report.errors

    @invariant()
    def system_agrees(self) -> None:
        """Invariant: `check_system` passes."""
        self.check_system(self.batch)
