"""Test helpers that drive batches along the lifecycle table, and a settable clock."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from batchfsm import TRANSITIONS, Batch, BatchError, Event, Lifecycle, Status, Transition
from batchfsm.testing import ManualClock


class Clock(ManualClock):
    """A clock the test sets (it may step back), starting in late 2023 by default."""

    def __init__(self, now: int = 1_700_000_000) -> None:
        super().__init__(now)


def path_to(status: Status, edges: tuple[Transition, ...] = TRANSITIONS) -> list[Transition]:
    """The shortest list of edges from validating to `status` (documented edges first)."""
    ordered = sorted(edges, key=lambda t: t.provenance.value)  # "documented" < "tolerated"
    queue: deque[tuple[Status, list[Transition]]] = deque([(Status.VALIDATING, [])])
    seen = {Status.VALIDATING}
    while queue:
        current, path = queue.popleft()
        if current is status:
            return path
        for edge in ordered:
            if edge.source is current and edge.dest not in seen:
                seen.add(edge.dest)
                queue.append((edge.dest, [*path, edge]))
    raise LookupError(status)


def satisfying(event: Event, batch: Batch) -> dict[str, Any]:
    """Data for `event` that meets its guards on a batch that was driven here."""
    data: dict[Event, dict[str, Any]] = {
        Event.START: {"total": 2},
        Event.FAIL: {"errors": [BatchError(code="invalid_json_line", line=2)]},
        Event.COMPLETE: {"output_file_id": "file-out", "error_file_id": "file-err"},
        Event.EXPIRE: {"now": batch.expires_at},
    }
    return data.get(event, {})


def fire(lifecycle: Lifecycle, batch: Batch, event: Event | str) -> None:
    """Fire `event` with data that meets its guards on a batch that was driven here."""
    event = Event(event)
    if event is Event.FINALIZE and batch.status is Status.IN_PROGRESS:
        counts = batch.request_counts
        assert counts is not None
        missing = counts.total - counts.completed - counts.failed
        if missing > 0:
            lifecycle.fire(batch, Event.RECORD_PROGRESS, completed=missing)
    lifecycle.fire(batch, event, **satisfying(event, batch))


def batch_in(status: Status, lifecycle: Lifecycle | None = None) -> tuple[Lifecycle, Batch]:
    """A lifecycle and a batch it drove from creation to `status`."""
    lifecycle = lifecycle or Lifecycle(Clock())
    batch = lifecycle.create(input_file_id="file-in", endpoint="/v1/chat/completions")
    for edge in path_to(status, lifecycle.transitions):
        fire(lifecycle, batch, edge.event)
    assert batch.status is status
    return lifecycle, batch


def stamp_order_problems(batch: Batch) -> list[str]:
    """Which of the lifecycle's ordering invariants `batch` breaks."""
    problems = []
    chains = (
        ("created_at", "in_progress_at", "finalizing_at", "completed_at"),
        ("created_at", "cancelling_at", "cancelled_at"),
        ("created_at", "in_progress_at", "cancelling_at"),
        ("created_at", "in_progress_at", "expired_at"),
        ("created_at", "in_progress_at", "failed_at"),
    )
    for chain in chains:
        values = [
            (name, getattr(batch, name)) for name in chain if getattr(batch, name) is not None
        ]
        for (a, x), (b, y) in itertools.pairwise(values):
            if x > y:
                problems.append(f"{a}={x} > {b}={y}")
    return problems
