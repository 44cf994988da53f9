"""A ready Hypothesis state machine for testing code that drives or mirrors batches.

Needs the ``hypothesis`` extra. Subclass `BatchLifecycleMachine` and override
`apply_to_system` (mirror each event into your system) and `check_system` (compare your
system with the batch) to test a scheduler or client against the lifecycle.
"""

from __future__ import annotations

from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ._codec import dumps, loads
from ._engine import Lifecycle, ManualClock
from ._errors import TransitionError
from ._record import Batch, BatchError
from ._validate import validate

__all__ = ["BatchLifecycleMachine"]


_file_ids = st.none() | st.sampled_from(["file-out", "file-err", "file-partial"])


class BatchLifecycleMachine(RuleBasedStateMachine):
    """Fires every event, legal or not, at one batch, with a fake clock that may step back.

    After every step it checks that the batch validates under `profile`, that a refused
    event changed nothing, and that the batch survives a round trip through the codec.

    Attributes:
        profile: The engine and validator profile (``strict``, ``openai`` or ``compat``).
        lifecycle: The engine driving the batch.
        batch: The batch under test.
    """

    profile: ClassVar[str] = "openai"

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(1_700_000_000)
        self.lifecycle = Lifecycle(self.clock, profile=self.profile)
        self.batch = self.lifecycle.create(input_file_id="file-in", endpoint="/v1/chat/completions")
        self.apply_to_system("create", self.batch, accepted=True)

    # -- the hooks for a system under test ---------------------------------------------

    def apply_to_system(self, event: str, batch: Batch, *, accepted: bool) -> None:
        """Called after each event with whether the engine accepted it; mirror it here."""

    def check_system(self, batch: Batch) -> None:
        """Called after every step; assert that your system agrees with `batch` here."""

    # -- rules -------------------------------------------------------------------------

    def _attempt(self, event: str, action: object) -> None:
        before = dumps(self.batch)
        try:
            action()  # type: ignore[operator]
        except TransitionError:
            assert dumps(self.batch) == before, f"a refused {event} changed the batch"
            self.apply_to_system(event, self.batch, accepted=False)
        else:
            self.apply_to_system(event, self.batch, accepted=True)

    @rule(step=st.integers(-3_600, 90_000))
    def move_clock(self, step: int) -> None:
        self.clock.now = max(0, self.clock.now + step)

    @rule(total=st.none() | st.integers(0, 20))
    def start(self, total: int | None) -> None:
        self._attempt("start", lambda: self.lifecycle.start(self.batch, total))

    @rule(completed=st.integers(0, 5), failed=st.integers(0, 5))
    def record_progress(self, completed: int, failed: int) -> None:
        self._attempt(
            "record_progress", lambda: self.lifecycle.record_progress(self.batch, completed, failed)
        )

    @rule(
        codes=st.lists(st.sampled_from(["invalid_json_line", "token_limit_exceeded"]), max_size=2)
    )
    def fail(self, codes: list[str]) -> None:
        errors = [BatchError(code=code, message=code) for code in codes]
        self._attempt("fail", lambda: self.lifecycle.fail(self.batch, errors))

    @rule()
    def finalize(self) -> None:
        self._attempt("finalize", lambda: self.lifecycle.finalize(self.batch))

    @rule(output=_file_ids, error=_file_ids)
    def complete(self, output: str | None, error: str | None) -> None:
        self._attempt("complete", lambda: self.lifecycle.complete(self.batch, output, error))

    @rule(output=_file_ids, error=_file_ids)
    def expire(self, output: str | None, error: str | None) -> None:
        self._attempt("expire", lambda: self.lifecycle.expire(self.batch, output, error))

    @rule()
    def cancel(self) -> None:
        self._attempt("cancel", lambda: self.lifecycle.cancel(self.batch))

    @rule(output=_file_ids, error=_file_ids)
    def finish_cancel(self, output: str | None, error: str | None) -> None:
        self._attempt(
            "finish_cancel", lambda: self.lifecycle.finish_cancel(self.batch, output, error)
        )

    @rule()
    def round_trip(self) -> None:
        again = loads(dumps(self.batch))
        assert again == self.batch
        self.batch = again  # the engine must drive a reloaded batch as well

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def batch_is_valid(self) -> None:
        report = validate(self.batch, profile=self.profile)
        assert report.errors == (), report.errors

    @invariant()
    def system_agrees(self) -> None:
        self.check_system(self.batch)
