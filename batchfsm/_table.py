"""The lifecycle of a batch as data: the one table every other part is derived from.

The engine builds its transitions machine from `TRANSITIONS`; the validator derives which
stamps a status may carry and which statuses follow which; the strategies walk it; the
diagram and the reference page docs/lifecycle.md are drawn from it. Facts and sources:
docs/research.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from ._record import Status

__all__ = [
    "CREATE_STAMP",
    "EVENTS",
    "IDEMPOTENT",
    "INITIAL",
    "TERMINAL",
    "TRANSITIONS",
    "Provenance",
    "Transition",
    "transitions_for",
]


class Provenance(str, enum.Enum):
    """Where an edge comes from: OpenAI's own spec or docs, or compatible services only."""

    DOCUMENTED = "documented"
    TOLERATED = "tolerated"


@attrs.frozen
class Transition:
    """One edge of the lifecycle: `event` moves a batch from `source` to `dest`.

    Attributes:
        event: The event's name, also the `Lifecycle` method that fires it.
        source: The status the batch must have.
        dest: The status it gets.
        stamp: The timestamp field the event sets.
        provenance: Documented by OpenAI, or tolerated (seen in compatible services).
        requires: The condition the event checks, in words (empty when there is none).
        evidence: The sources (keys of docs/research.md) that show the edge.
    """

    event: str
    source: Status
    dest: Status
    stamp: str
    provenance: Provenance
    requires: str = ""
    evidence: str = ""


_D, _T = Provenance.DOCUMENTED, Provenance.TOLERATED
S = Status

#: Every edge of the lifecycle, in the order of docs/research.md §2.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "start",
        S.VALIDATING,
        S.IN_PROGRESS,
        "in_progress_at",
        _D,
        "total, when given, is a non-negative integer",
        "[ZJ] [AZ-LIST]",
    ),
    Transition(
        "fail",
        S.VALIDATING,
        S.FAILED,
        "failed_at",
        _D,
        "a non-empty list of errors",
        "[LS-err] [STDAPI-240] [PY-2084]",
    ),
    Transition(
        "fail",
        S.IN_PROGRESS,
        S.FAILED,
        "failed_at",
        _T,
        "a non-empty list of errors",
        "[LS-ref] (internal errors mid-run)",
    ),
    Transition(
        "fail",
        S.FINALIZING,
        S.FAILED,
        "failed_at",
        _T,
        "a non-empty list of errors",
        "[LS-ref] (output_failed)",
    ),
    Transition(
        "finalize",
        S.IN_PROGRESS,
        S.FINALIZING,
        "finalizing_at",
        _D,
        "every request accounted for: completed + failed == total",
        "[AZ-PY] [AZ-LIST] [KAAPI]",
    ),
    Transition(
        "complete",
        S.FINALIZING,
        S.COMPLETED,
        "completed_at",
        _D,
        "output_file_id when completed > 0, error_file_id when failed > 0",
        "[OAS] [AZ-LIST] [KAAPI]",
    ),
    Transition(
        "expire",
        S.IN_PROGRESS,
        S.EXPIRED,
        "expired_at",
        _D,
        "the clock has reached expires_at",
        "[GUIDE-expired] [OAS-webhooks]",
    ),
    Transition(
        "expire",
        S.FINALIZING,
        S.EXPIRED,
        "expired_at",
        _T,
        "the clock has reached expires_at",
        "[LITELLM-docs-1571]",
    ),
    Transition(
        "cancel",
        S.IN_PROGRESS,
        S.CANCELLING,
        "cancelling_at",
        _D,
        "",
        "[OAS-cancel] [LITELLM-36034]",
    ),
    Transition("cancel", S.VALIDATING, S.CANCELLING, "cancelling_at", _T, "", "[LS-ref]"),
    Transition("cancel", S.FINALIZING, S.CANCELLING, "cancelling_at", _T, "", "(unobserved)"),
    Transition(
        "finish_cancel",
        S.CANCELLING,
        S.CANCELLED,
        "cancelled_at",
        _D,
        "",
        "[OAS-cancel] [LITELLM-36034]",
    ),
)

#: The status a new batch has, and the stamp its creation sets (with ``expires_at``).
INITIAL: Status = Status.VALIDATING
CREATE_STAMP = "created_at"

#: (event, status) pairs that are accepted and change nothing: cancelling a batch that is
#: already cancelling or cancelled answers 200 on OpenAI ([LS-err] [LITELLM-36034]).
IDEMPOTENT: frozenset[tuple[str, Status]] = frozenset(
    {("cancel", Status.CANCELLING), ("cancel", Status.CANCELLED)}
)

#: Every event name, in table order.
EVENTS: tuple[str, ...] = tuple(dict.fromkeys(t.event for t in TRANSITIONS))

#: The statuses no edge leaves.
TERMINAL: frozenset[Status] = frozenset(Status) - {t.source for t in TRANSITIONS}

#: Which edges each engine profile allows.
_PROFILE_PROVENANCE: dict[str, frozenset[Provenance]] = {
    "strict": frozenset({_D}),
    "openai": frozenset({_D, _T}),
    "compat": frozenset({_D, _T}),
}


def transitions_for(profile: str) -> tuple[Transition, ...]:
    """The edges a profile allows: ``strict`` only documented ones, the others all."""
    allowed = _PROFILE_PROVENANCE[profile]
    return tuple(t for t in TRANSITIONS if t.provenance in allowed)


def reachable(edges: Iterable[Transition], start: Status) -> frozenset[Status]:
    """The statuses reachable from `start` by zero or more of `edges`."""
    edges = tuple(edges)
    seen = {start}
    frontier = [start]
    while frontier:
        status = frontier.pop()
        for edge in edges:
            if edge.source is status and edge.dest not in seen:
                seen.add(edge.dest)
                frontier.append(edge.dest)
    return frozenset(seen)


def carried_stamps(edges: Iterable[Transition]) -> dict[Status, frozenset[str]]:
    """The stamps a batch in each status may carry: those on some path that reaches it.

    ``created_at`` always; plus, for each edge into a status, the stamps its source may
    carry and the edge's own stamp. (``expires_at`` is a deadline, not a stamp of a path.)
    """
    edges = tuple(edges)
    carried: dict[Status, frozenset[str]] = dict.fromkeys(Status, frozenset())
    carried[INITIAL] = frozenset({CREATE_STAMP})
    # The lifecycle is acyclic, so no path has more edges than there are statuses: that
    # many passes reach the fixed point.
    for _ in Status:
        for edge in edges:
            if carried[edge.source]:
                carried[edge.dest] = carried[edge.dest] | carried[edge.source] | {edge.stamp}
    return carried


def required_stamps(edges: Iterable[Transition]) -> dict[Status, frozenset[str]]:
    """The stamps a batch in each status must carry: those on every path that reaches it."""
    edges = tuple(edges)
    everything = frozenset().union(*(carried_stamps(edges).values()))
    required: dict[Status, frozenset[str]] = dict.fromkeys(Status, everything)
    required[INITIAL] = frozenset({CREATE_STAMP})
    for _ in Status:  # passes enough for the acyclic lifecycle to reach the fixed point
        for status in Status:
            if status is not INITIAL:
                # Every status has an entering edge (tests/test_table.py checks that).
                required[status] = frozenset.intersection(
                    *(required[t.source] | {t.stamp} for t in edges if t.dest is status)
                )
    return required


def stamp_order(edges: Iterable[Transition]) -> frozenset[tuple[str, str]]:
    """Pairs (earlier, later) of stamps that every path sets in that order.

    An edge stamps after every stamp its source may carry, so along any path stamps never
    decrease; this lists each such pair once.
    """
    edges = tuple(edges)
    carried = carried_stamps(edges)
    return frozenset(
        (earlier, t.stamp) for t in edges for earlier in carried[t.source] if earlier != t.stamp
    )
