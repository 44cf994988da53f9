"""The ready state machine, run as our own test and subclassed with a system under test."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from batchfsm import Batch, Status
from batchfsm.testing import BatchLifecycleMachine

TestLifecycle = BatchLifecycleMachine.TestCase
TestLifecycle.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)


class StrictMachine(BatchLifecycleMachine):
    profile = "strict"


TestStrictLifecycle = StrictMachine.TestCase
TestStrictLifecycle.settings = settings(max_examples=30, stateful_step_count=30, deadline=None)


class Mirror(BatchLifecycleMachine):
    """A toy system under test: it keeps the status of each accepted event."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.status: Status | None = None
        super().__init__()

    def apply_to_system(self, event: str, batch: Batch, *, accepted: bool) -> None:
        self.seen.append(event)
        if accepted:
            self.status = batch.status

    def check_system(self, batch: Batch) -> None:
        assert self.status is batch.status


TestMirror = Mirror.TestCase
TestMirror.settings = settings(max_examples=20, stateful_step_count=20, deadline=None)


class Broken(Mirror):
    """A system with a bug: it thinks cancelling is instant."""

    def apply_to_system(self, event: str, batch: Batch, *, accepted: bool) -> None:
        super().apply_to_system(event, batch, accepted=accepted)
        if accepted and event == "cancel":
            self.status = Status.CANCELLED


def test_harness_finds_a_broken_system() -> None:
    """A subclass whose system disagrees with the lifecycle fails the run."""
    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            Broken, settings=settings(max_examples=200, stateful_step_count=30, deadline=None)
        )
