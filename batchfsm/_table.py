"""The lifecycle of a batch as data: the one table every other part is derived from.

Each edge names the event that takes it, the stamp it sets, and the rules (`_rules`) that
guard it; creating a batch and recording progress are operations of the same table. The
engine builds its transitions machine and its guards from it; the validator derives which
stamps a status may carry, which statuses follow which, and after which edge a guard's rule
holds; the strategies walk it; the diagram and docs/lifecycle.md are drawn from it. Facts
and sources: docs/research.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from ._profile import Profile, Provenance, resolve
from ._record import Status
from ._rules import BY_CODE, Lifeline, Rule

__all__ = [
    "CREATE",
    "CREATE_STAMP",
    "EVENTS",
    "IDEMPOTENT",
    "INITIAL",
    "RECORD_PROGRESS",
    "TERMINAL",
    "TRANSITIONS",
    "Event",
    "Operation",
    "Provenance",
    "Transition",
    "transitions_for",
]


class Event(str, enum.Enum):
    """Everything that changes a batch; each value is the `Lifecycle` method's name.

    ``str(event)`` gives the value and, as a `str` enum, a member equals it
    (``Event.START == "start"``); `Lifecycle.fire` takes either.
    """

    CREATE = "create"
    START = "start"
    FAIL = "fail"
    FINALIZE = "finalize"
    COMPLETE = "complete"
    EXPIRE = "expire"
    CANCEL = "cancel"
    FINISH_CANCEL = "finish_cancel"
    RECORD_PROGRESS = "record_progress"

    def __str__(self) -> str:
        return self.value


def _guards(*codes: str) -> tuple[Rule, ...]:
    return tuple(BY_CODE[code] for code in codes)


@attrs.frozen
class Transition:
    """One edge of the lifecycle: `event` moves a batch from `source` to `dest`.

    Attributes:
        event: The event that takes the edge.
        source: The status the batch must have.
        dest: The status it gets.
        stamp: The timestamp field the event sets.
        provenance: Documented by OpenAI, or tolerated (seen in compatible services).
        guards: The rules the batch must keep once it has taken the edge; the engine
            refuses the event (`GuardError` with the rule's code) if it would break one.
        evidence: The sources (keys of docs/research.md) that show the edge.
    """

    event: Event
    source: Status
    dest: Status
    stamp: str
    provenance: Provenance
    guards: tuple[Rule, ...] = ()
    evidence: str = ""


@attrs.frozen
class Operation:
    """A change of the table that is not an edge: it creates a batch, or changes one
    without moving its status.

    The table has two: ``create`` (allowed in no status, since it makes a ``validating``
    batch; guarded by the limits of OpenAI's create call) and ``record_progress``
    (allowed while requests run; guarded by ``counts.exceeds_total``).

    Attributes:
        event: The event.
        statuses: The statuses it is allowed in (none for creation, which makes one).
        guards: The rules the result must keep, as on an edge.
    """

    event: Event
    statuses: tuple[Status, ...]
    guards: tuple[Rule, ...] = ()


_D, _T = Provenance.DOCUMENTED, Provenance.TOLERATED
S, E = Status, Event

# Every edge of the lifecycle (its docstring follows the tuple).
TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        E.START,
        S.VALIDATING,
        S.IN_PROGRESS,
        "in_progress_at",
        _D,
        _guards("counts.exceeds_total"),
        "[ZJ] [AZ-LIST]",
    ),
    Transition(
        E.FAIL,
        S.VALIDATING,
        S.FAILED,
        "failed_at",
        _D,
        _guards("errors.missing"),
        "[LS-err] [STDAPI-240] [PY-2084]",
    ),
    Transition(
        E.FAIL,
        S.IN_PROGRESS,
        S.FAILED,
        "failed_at",
        _T,
        _guards("errors.missing"),
        "[LS-ref] (internal errors mid-run)",
    ),
    Transition(
        E.FAIL,
        S.FINALIZING,
        S.FAILED,
        "failed_at",
        _T,
        _guards("errors.missing"),
        "[LS-ref] (output_failed)",
    ),
    Transition(
        E.FINALIZE,
        S.IN_PROGRESS,
        S.FINALIZING,
        "finalizing_at",
        _D,
        _guards("counts.unaccounted"),
        "[AZ-PY] [AZ-LIST] [KAAPI]",
    ),
    Transition(
        E.COMPLETE,
        S.FINALIZING,
        S.COMPLETED,
        "completed_at",
        _D,
        _guards("files.output_missing", "files.error_missing"),
        "[OAS] [AZ-LIST] [KAAPI]",
    ),
    Transition(
        E.EXPIRE,
        S.IN_PROGRESS,
        S.EXPIRED,
        "expired_at",
        _D,
        _guards("expires_at.missing", "stamp.expired_early"),
        "[GUIDE-expired] [OAS-webhooks]",
    ),
    Transition(
        E.EXPIRE,
        S.FINALIZING,
        S.EXPIRED,
        "expired_at",
        _T,
        _guards("expires_at.missing", "stamp.expired_early"),
        "[LITELLM-docs-1571]",
    ),
    Transition(
        E.CANCEL,
        S.IN_PROGRESS,
        S.CANCELLING,
        "cancelling_at",
        _D,
        (),
        "[OAS-cancel] [LITELLM-36034]",
    ),
    Transition(E.CANCEL, S.VALIDATING, S.CANCELLING, "cancelling_at", _T, (), "[LS-ref]"),
    Transition(E.CANCEL, S.FINALIZING, S.CANCELLING, "cancelling_at", _T, (), "(unobserved)"),
    Transition(
        E.FINISH_CANCEL,
        S.CANCELLING,
        S.CANCELLED,
        "cancelled_at",
        _D,
        (),
        "[OAS-cancel] [LITELLM-36034]",
    ),
)
"""Every edge of the lifecycle, in the order of docs/research.md §2.

The engine, the validator, the strategies and the lifecycle table page are all derived
from it.
"""

#: The status a new batch has, and the stamp its creation sets (with ``expires_at``).
INITIAL: Status = Status.VALIDATING
CREATE_STAMP = "created_at"

IDEMPOTENT: frozenset[tuple[Event, Status]] = frozenset(
    {(E.CANCEL, Status.CANCELLING), (E.CANCEL, Status.CANCELLED)}
)
"""The ``(event, status)`` pairs that are accepted and change nothing: cancelling a batch
that is already cancelling or cancelled answers 200 on OpenAI (docs/research.md, LS-err and
LITELLM-36034)."""

#: Creating a batch: it starts in `INITIAL`, stamped `CREATE_STAMP`, due a window later.
#: Its guards are the limits OpenAI's create call enforces.
CREATE = Operation(
    E.CREATE,
    (),
    _guards(
        "endpoint.unknown",
        "window.unknown",
        "metadata.too_many",
        "metadata.key_too_long",
        "metadata.value_too_long",
    ),
)

#: Recording finished and failed requests: allowed while requests run, and while a cancel
#: winds down (requests in flight still finish: OpenAI's cancel docs, [OAS-cancel]).
RECORD_PROGRESS = Operation(
    E.RECORD_PROGRESS, (S.IN_PROGRESS, S.CANCELLING), _guards("counts.exceeds_total")
)

EVENTS: tuple[Event, ...] = tuple(dict.fromkeys(t.event for t in TRANSITIONS))
"""The events of the edges, in table order: ``start``, ``fail``, ``finalize``,
``complete``, ``expire``, ``cancel``, ``finish_cancel`` (``create`` and
``record_progress`` are `Operation`s)."""

TERMINAL: frozenset[Status] = frozenset(Status) - {t.source for t in TRANSITIONS}
"""The statuses no edge leaves: ``completed``, ``failed``, ``expired``, ``cancelled``."""


def transitions_for(profile: Profile | str) -> tuple[Transition, ...]:
    """The edges a profile allows: all, or only the documented ones.

    Raises:
        ArgumentError: for a string that names no profile.
    """
    allowed = resolve(profile).provenances
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


def lifeline(edges: Iterable[Transition]) -> Lifeline:
    """What `edges` say about the stamps of each status."""
    edges = tuple(edges)
    return Lifeline(carried_stamps(edges), required_stamps(edges), stamp_order(edges))


def passed(edges: Iterable[Transition], rule: Rule) -> frozenset[Status]:
    """The statuses whose every path from `INITIAL` takes an edge that `rule` guards: where
    a rule that holds `after` its edges is checked."""
    edges = tuple(edges)
    every: dict[Status, bool] = dict.fromkeys(Status, True)
    every[INITIAL] = False
    for _ in Status:  # passes enough for the acyclic lifecycle to reach the fixed point
        for status in Status:
            if status is not INITIAL:
                every[status] = all(
                    rule in t.guards or every[t.source] for t in edges if t.dest is status
                )
    return frozenset(status for status, yes in every.items() if yes)
