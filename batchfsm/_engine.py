"""The engine: one shared transitions machine that drives any number of `Batch` records.

transitions keeps per-model state in the model itself when a machine is shared and events
are fired with ``machine.events[name].trigger(record)``; records are never registered with
``add_model`` (which costs kilobytes per record, refuses slotted classes and confuses
records equal by value; see docs/engine.md). Each event is check-and-apply atomic per
batch under a striped lock, so events on different batches do not wait for each other.
What an event may do, and the guards it must pass, come from the table (`_table`); the
guards are generated from the rules (`_checks`), as the validator's checks are.
"""

from __future__ import annotations

import copy
import enum
import inspect
import math
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn, Protocol

import attrs
from transitions import Machine, State

from ._checks import Guard, guard_lines, writer
from ._clock import wall_clock
from ._errors import (
    ArgumentError,
    BatchfsmError,
    GuardError,
    HookError,
    IllegalTransition,
    ReentryError,
)
from ._generated import compile_lines
from ._profile import PRESETS, Profile, Provenance, resolve
from ._record import (
    MILLISECONDS_FROM,
    TIMESTAMP_FIELDS,
    Batch,
    BatchError,
    BatchErrors,
    RequestCounts,
    Status,
    window_seconds,
)
from ._strict import INT64_MAX
from ._table import (
    CREATE,
    IDEMPOTENT,
    INITIAL,
    RECORD_PROGRESS,
    TRANSITIONS,
    Event,
    Operation,
    Transition,
    carried_stamps,
    transitions_for,
)

__all__ = ["Lifecycle", "Sweep", "TransitionHook"]

_STRIPES = 64
E = Event

# One set of lock stripes for every Lifecycle in the process: an event is atomic per batch
# whichever Lifecycle fires it (a worker and a sweeper may each hold their own).
_LOCKS = tuple(threading.RLock() for _ in range(_STRIPES))
# The ids of the batches whose hooks are running, guarded by each batch's own stripe: an
# event fired on such a batch from inside one of its hooks is refused (`ReentryError`).
_IN_HOOKS: set[int] = set()


def _lock_of(batch: object) -> threading.RLock:
    # Object ids are 16-byte aligned; the low bits carry no information.
    return _LOCKS[(id(batch) >> 4) % _STRIPES]


class TransitionHook(Protocol):
    """Called after each change a `Lifecycle` makes: ``hook(batch, event, source, dest)``.

    The arguments are passed by position, so a hook may name them as it likes. ``source``
    is None for ``create``. A hook that raises rolls the change back.
    """

    def __call__(
        self, batch: Batch, event: Event, source: Status | None, dest: Status, /
    ) -> None: ...


@attrs.frozen
class Sweep:
    """What `Lifecycle.expire_overdue` did.

    Attributes:
        expired: The batches it expired, in the order given.
        failed: The items it could not expire, each with the error that stopped it (an
            `ArgumentError` for one that is not a Batch or holds values set by hand, a
            `HookError` when a hook raised and the expiry was rolled back).
    """

    expired: tuple[Batch, ...]
    failed: tuple[tuple[object, BatchfsmError], ...] = ()


#: The last second a clock may read: later ones are milliseconds (stamp.milliseconds).
_LAST_SECOND = MILLISECONDS_FROM - 1


def _reading(now: object) -> int:
    """A clock's reading as int Unix seconds: a float (``time.time``) floored to its second.

    Raises:
        ArgumentError: for anything else, or a time before 1970 or from 10**11 (the year
            5138 in seconds: a clock that reads milliseconds).
    """
    seconds = math.floor(now) if type(now) is float and math.isfinite(now) else now
    if type(seconds) is not int or not 0 <= seconds <= _LAST_SECOND:
        raise ArgumentError(
            "clock", f"must return Unix seconds from 0 to {_LAST_SECOND}, returned {now!r}"
        )
    return seconds


def _second(name: str, value: object) -> int:
    if type(value) is int and 0 <= value <= _LAST_SECOND:
        return value
    raise ArgumentError(name, f"expected Unix seconds from 0 to {_LAST_SECOND}, got {value!r}")


def _new_id() -> str:
    return "batch_" + secrets.token_hex(16)


def _file_id(name: str, value: object) -> str | None:
    if value is None or (type(value) is str and value):
        return value
    raise ArgumentError(name, f"expected a non-empty file id or None, got {value!r}")


def _count(name: str, value: object) -> int:
    if type(value) is int and 0 <= value <= INT64_MAX:
        return value
    raise ArgumentError(name, f"expected a non-negative integer, got {value!r}")


Changes = dict[str, Any]
# Shared read-only stand-ins, so the common paths allocate nothing; never mutated.
_NO_COUNTS = RequestCounts()
_NO_CHANGES: Changes = {}


# -- the data of each event: checked before the batch is locked -----------------------


def _no_data() -> None:
    return None


def _start_data(total: int | None = None) -> int | None:
    return None if total is None else _count("total", total)


def _fail_data(errors: Sequence[BatchError]) -> list[BatchError]:
    if isinstance(errors, (str, bytes)) or not isinstance(errors, Sequence):
        raise ArgumentError("errors", f"expected a sequence of BatchError, got {errors!r}")
    for error in errors:
        if not isinstance(error, BatchError):
            raise ArgumentError("errors", f"expected BatchError items, got {error!r}")
    return list(errors)


def _file_data(output_file_id: str | None = None, error_file_id: str | None = None) -> Changes:
    """The file ids given to an event, checked; the shared empty dict when there are none."""
    if output_file_id is None and error_file_id is None:
        return _NO_CHANGES
    files: Changes = {}
    if _file_id("output_file_id", output_file_id) is not None:
        files["output_file_id"] = output_file_id
    if _file_id("error_file_id", error_file_id) is not None:
        files["error_file_id"] = error_file_id
    return files


def _progress_data(completed: int = 0, failed: int = 0) -> tuple[int, int]:
    return _count("completed", completed), _count("failed", failed)


#: For each event, the keyword data it takes (`Lifecycle.fire`), checked.
_DATA: dict[Event, Callable[..., Any]] = {
    E.START: _start_data,
    E.FAIL: _fail_data,
    E.FINALIZE: _no_data,
    E.COMPLETE: _file_data,
    E.EXPIRE: _file_data,
    E.CANCEL: _no_data,
    E.FINISH_CANCEL: _file_data,
    E.RECORD_PROGRESS: _progress_data,
}

_SIGNATURES = {event: inspect.signature(parse) for event, parse in _DATA.items()}


# -- what each event writes besides the status and the stamp, under the lock -----------


def _nothing(batch: Batch, data: Any) -> Changes:
    return _NO_CHANGES


def _total(batch: Batch, total: int | None) -> Changes:
    if total is None:
        return _NO_CHANGES
    counts = batch.request_counts
    if counts is None:
        return {"request_counts": RequestCounts(total=total)}
    if not isinstance(counts, RequestCounts):  # set by hand: `_reraise_unreadable` names it
        raise TypeError(counts)
    return {"request_counts": attrs.evolve(counts, total=total)}


def _errors(batch: Batch, errors: list[BatchError]) -> Changes:
    return {"errors": BatchErrors(data=errors)}


def _given(batch: Batch, files: Changes) -> Changes:
    return files


def _progress(batch: Batch, delta: tuple[int, int]) -> Changes:
    counts = batch.request_counts or _NO_COUNTS
    if not isinstance(counts, RequestCounts):  # set by hand: `_reraise_unreadable` names it
        raise TypeError(counts)
    completed, failed = delta
    return {
        "request_counts": attrs.evolve(
            counts, completed=counts.completed + completed, failed=counts.failed + failed
        )
    }


_WRITES: dict[Event, Callable[[Batch, Any], Changes]] = {
    E.START: _total,
    E.FAIL: _errors,
    E.FINALIZE: _nothing,
    E.COMPLETE: _given,
    E.EXPIRE: _given,
    E.CANCEL: _nothing,
    E.FINISH_CANCEL: _given,
    E.RECORD_PROGRESS: _progress,
}

#: ``step(batch, now, changes)``: checks the edge's guards on the batch as it would be,
#: and moves and stamps it if they hold; returns the broken guard's (code, message).
Step = Callable[[Batch, int, Changes], "tuple[str, str] | None"]


def _compile_step(
    profile: Profile, edge: Transition, trigger: Callable[[Batch], bool], carried: Iterable[str]
) -> Step:
    """A function that checks `edge`'s guards, then moves a batch along it and stamps it,
    clamped to its latest stamp.

    Generated per edge, as attrs generates ``__init__``: attribute reads and writes by name
    in straight-line code cost a fraction of ``attrgetter`` + ``max`` + ``setattr``, and this
    runs on every event.
    """
    out = writer()
    stamps = sorted(carried, key=TIMESTAMP_FIELDS.index)
    lines = ["def step(batch, now, changes):", "    stamp = now"]
    for name in stamps:
        lines += [
            f"    latest = batch.{name}",
            "    if latest is not None and latest > stamp:",
            "        stamp = latest",
        ]
    lines += [f"    {line}" for line in guard_lines(profile, edge, out)]
    lines += ["    trigger(batch)", f"    batch.{edge.stamp} = stamp", "    return None"]
    title = f"step {edge.event.value} from {edge.source.value} ({profile.name})"
    step: Step = compile_lines(lines, title, {**out.names, "trigger": trigger})["step"]
    return step


def _compile_guard(profile: Profile, operation: Operation) -> Guard:
    """``guard(batch, stamp, changes)`` for an operation: its guards on the batch as it
    would be."""
    out = writer()
    lines = ["def guard(batch, stamp, changes):"]
    lines += [f"    {line}" for line in guard_lines(profile, operation, out)]
    lines.append("    return None")
    title = f"guard {operation.event.value} ({profile.name})"
    guard: Guard = compile_lines(lines, title, out.names)["guard"]
    return guard


def _unreadable_values(batch: Batch) -> dict[str, object]:
    """The stamps and counts of `batch`, set by hand, that are not the ints they must be."""
    bad: dict[str, object] = {
        name: value
        for name in TIMESTAMP_FIELDS
        if (value := getattr(batch, name)) is not None and type(value) is not int
    }
    counts = batch.request_counts
    if counts is not None and not isinstance(counts, RequestCounts):
        bad["request_counts"] = counts
    elif counts is not None:
        for name in ("total", "completed", "failed"):
            if type(value := getattr(counts, name)) is not int:
                bad[f"request_counts.{name}"] = value
    return bad


def _unreadable(batch: Batch, bad: dict[str, object]) -> ArgumentError:
    reason = f"batch {batch.id!r} holds values that are not ints where ints belong: {bad!r}"
    return ArgumentError("batch", reason)


def _reraise_unreadable(batch: Batch) -> NoReturn:
    """Within an ``except`` block for the engine's arithmetic: raise the ArgumentError that
    names the values set by hand it failed on, or, if there are none, the failure itself
    (then it is the engine's own bug, and is not to be dressed up as the caller's)."""
    bad = _unreadable_values(batch)
    if not bad:  # pragma: no cover - only a bug of the engine's own gets here
        raise
    raise _unreadable(batch, bad) from None


class _State(State):
    """A transitions state whose name is a plain attribute: transitions reads it about eight
    times per event, and on an Enum state each read is two Python-level property calls (a
    sixth of the cost of an event, measured by bench/bench_instructions.py)."""

    name = ""  # a plain class attribute, so that the instance's own is what is read

    def __init__(self, name: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, *args, **kwargs)
        self.name = name.name if isinstance(name, enum.Enum) else name


class _Machine(Machine):
    """transitions' Machine with `_State`s, finding a `Status`'s state by one dict lookup.

    It relies on ``state_cls``, ``get_state`` and ``State.name``, all of transitions' 0.9
    series, to which pyproject.toml pins it.
    """

    state_cls = _State

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._of_status: dict[Status, State] = {}
        super().__init__(*args, **kwargs)
        self._of_status = {status: self.states[status.name] for status in Status}

    def get_state(self, state: Any) -> Any:
        # A plain str is a state's name ("IN_PROGRESS"); one equal to a Status's value is
        # not, and goes to super(), which refuses it as before.
        if type(state) is Status:
            found = self._of_status.get(state)
        elif type(state) is str:
            found = self.states.get(state)
        else:
            found = None
        return found if found is not None else super().get_state(state)


class Lifecycle:
    """Drives `Batch` records through the lifecycle table: only legal changes, each stamped.

    Each change is guarded by the rules the validator checks. Every event method raises
    `IllegalTransition`, `GuardError`, `HookError` or `ReentryError` (all
    `TransitionError`s) and leaves the batch as it was when it does; wrong arguments raise
    `ArgumentError`. ``now``, where a method takes it, is the Unix second to stamp instead
    of the clock's reading, clamped as the clock is.

    Threads: each event is atomic per batch across every `Lifecycle` of the process (they
    share one set of per-batch locks). A hook runs inside its event: an event it fires on
    its own batch raises `ReentryError` and changes nothing, and any exception it raises
    (``KeyboardInterrupt`` and ``SystemExit`` included, which propagate as they are) rolls
    the change back. A clock reading that would put the deadline of a new batch past
    2**63 - 1 is refused before anything is made.

    Attributes:
        profile: The `Profile` this engine drives batches under.
        transitions: The `Transition`s it allows: every edge, or under ``strict`` only the
            documented ones.

    Args:
        clock: A zero-argument callable returning Unix seconds (an int, or a float such as
            ``time.time`` gives, floored to the second); the wall clock by default. A stamp
            is never earlier than the batch's latest stamp, so a clock that steps back
            cannot break the order of stamps (the stamp is clamped).
        profile: A `Profile` or a preset's name: ``strict`` allows only the edges OpenAI
            documents; ``openai`` (default) and ``compat`` also the tolerated ones.
        id_factory: Makes the id of each new batch; ``batch_`` + 32 hex digits by default.
        hooks: Called after each change, in order; see `TransitionHook`.

    Raises:
        ArgumentError: for an unknown profile.
    """

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        *,
        profile: Profile | str = "openai",
        id_factory: Callable[[], str] | None = None,
        hooks: Iterable[TransitionHook] = (),
    ) -> None:
        self.profile: Profile = resolve(profile)
        self._clock = clock if clock is not None else wall_clock
        self._id_factory = id_factory if id_factory is not None else _new_id
        self._hooks: list[TransitionHook] = []
        for hook in hooks:
            self.on_transition(hook)
        self.transitions: tuple[Transition, ...] = transitions_for(self.profile)
        self._allowed = {
            status: tuple(
                sorted(
                    {t.event for t in self.transitions if t.source is status}
                    | {event for event, source in IDEMPOTENT if source is status}
                )
            )
            for status in Status
        }
        self._machine = _Machine(
            model=None,
            states=Status,
            transitions=[
                {"trigger": t.event.value, "source": t.source, "dest": t.dest}
                for t in self.transitions
            ],
            initial=INITIAL,
            auto_transitions=False,
            model_attribute="status",
            ignore_invalid_triggers=False,
        )
        # One lookup per event gives the edge and the step that moves the batch along it.
        carried = carried_stamps(self.transitions)
        self._steps: dict[tuple[Event, Status], tuple[Transition, Step]] = {
            (t.event, t.source): (
                t,
                _compile_step(
                    self.profile, t, self._machine.events[t.event.value].trigger, carried[t.source]
                ),
            )
            for t in self.transitions
        }
        self._create_guard = _compile_guard(self.profile, CREATE)
        self._progress_guard = _compile_guard(self.profile, RECORD_PROGRESS)

    @property
    def clock(self) -> Callable[[], float]:
        """The clock this engine stamps from (the wall clock unless one was given)."""
        return self._clock

    # -- creation ----------------------------------------------------------------------

    def create(
        self,
        *,
        input_file_id: str,
        endpoint: str,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        model: str | None = None,
        now: int | None = None,
    ) -> Batch:
        """A new batch, created now and due ``completion_window`` later.

        Raises:
            ArgumentError: for an empty file id, a value of the wrong type, or metadata
                that is not a mapping of strings.
            GuardError: (event ``create``) for what the create call refuses, with the
                code the validator reports for it: an unreadable window, metadata past
                OpenAI's limits, a window other than ``24h`` (except under ``compat``,
                where the deadline follows any window of hours or days: ``7d``), or,
                under ``strict``, an unknown endpoint.
            HookError: when a hook raised; the batch is not returned.
        """
        if _file_id("input_file_id", input_file_id) is None:
            raise ArgumentError("input_file_id", "expected a non-empty file id, got None")
        if type(endpoint) is not str or not endpoint:
            raise ArgumentError("endpoint", f"expected an endpoint path, got {endpoint!r}")
        if type(completion_window) is not str:
            raise ArgumentError(
                "completion_window", f"expected a window such as '24h', got {completion_window!r}"
            )
        if model is not None and type(model) is not str:
            raise ArgumentError("model", f"expected a string or None, got {model!r}")
        pairs = self._metadata(metadata)
        created = self._now() if now is None else _second("now", now)
        batch_id = self._id_factory()
        if type(batch_id) is not str or not batch_id:
            raise ArgumentError(
                "id_factory", f"must return a non-empty string, returned {batch_id!r}"
            )
        window = window_seconds(completion_window)
        if window is not None and created + window > _LAST_SECOND:
            raise ArgumentError(
                "clock" if now is None else "now",
                f"created_at {created} + {completion_window} passes the largest timestamp,"
                f" {_LAST_SECOND}",
            )
        batch = Batch(
            id=batch_id,
            endpoint=endpoint,
            model=model,
            input_file_id=input_file_id,
            completion_window=completion_window,
            status=INITIAL,
            created_at=created,
            expires_at=None if window is None else created + window,
            request_counts=RequestCounts(),
            metadata=pairs,
        )
        refused = self._create_guard(batch, created, _NO_CHANGES)
        if refused is not None:
            raise GuardError(batch_id, INITIAL, E.CREATE, *refused)
        if self._hooks:
            with _lock_of(batch):
                _IN_HOOKS.add(id(batch))
                try:
                    for hook in self._hooks:
                        try:
                            hook(batch, E.CREATE, None, INITIAL)
                        except Exception as exc:
                            raise HookError(batch.id, INITIAL, E.CREATE, hook) from exc
                finally:
                    _IN_HOOKS.discard(id(batch))
        return batch

    @staticmethod
    def _metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
        if metadata is None:
            return None
        if not isinstance(metadata, Mapping):
            raise ArgumentError("metadata", f"expected a mapping, got {type(metadata).__name__}")
        for key, value in metadata.items():
            if type(key) is not str or type(value) is not str:
                raise ArgumentError(
                    "metadata", f"keys and values are strings, got {key!r}: {value!r:.40}"
                )
        return dict(metadata)

    # -- events ------------------------------------------------------------------------

    def fire(
        self, batch: Batch, event: Event | str, /, *, now: int | None = None, **data: Any
    ) -> None:
        """Apply `event` to `batch` with the event's keyword `data`: the one entry point
        every named event method (`start`, `fail` …) stands for.

        Args:
            batch: The batch; changed in place, or not at all.
            event: An `Event` (or its name); not ``create``, which makes a batch.
            now: The Unix seconds to stamp instead of the clock's reading (not for
                ``record_progress``, which stamps nothing).
            data: What the event takes: ``total`` for start; ``errors`` for fail;
                ``output_file_id`` and ``error_file_id`` for complete, expire and
                finish_cancel; ``completed`` and ``failed`` for record_progress.

        Raises:
            IllegalTransition: when the batch's status does not allow the event.
            GuardError: when the change would break a rule that guards it (its ``code``
                is the one the validator reports for it).
            HookError: when a hook raised; the change was rolled back.
            ArgumentError: for an unknown event, data it does not take, or a ``now`` for
                ``record_progress``.
        """
        try:
            known = Event(event)
            parse = _DATA[known]
        except (ValueError, KeyError):
            names = ", ".join(sorted(e.value for e in _DATA))
            raise ArgumentError("event", f"expected one of {names}, got {event!r}") from None
        try:
            checked = parse(**data)
        except TypeError:
            try:  # a keyword the event does not take, or one missing: say which
                _SIGNATURES[known].bind(**data)
            except TypeError as exc:
                raise ArgumentError("data", f"{known.value} {exc}") from None
            raise
        if known is E.RECORD_PROGRESS:
            if now is not None:
                raise ArgumentError("now", "record_progress stamps nothing; it takes no now")
            self._record(batch, checked)
        else:
            self._fire(batch, known, checked, now)

    def start(self, batch: Batch, total: int | None = None, *, now: int | None = None) -> None:
        """Start the batch's requests; ``total``, when given, becomes ``request_counts.total``."""
        self._fire(batch, E.START, _start_data(total), now)

    def fail(self, batch: Batch, errors: Sequence[BatchError], *, now: int | None = None) -> None:
        """Fail the batch, storing `errors` (at least one) in ``batch.errors``."""
        self._fire(batch, E.FAIL, _fail_data(errors), now)

    def finalize(self, batch: Batch, *, now: int | None = None) -> None:
        """Finalize the batch, once every request is accounted for."""
        self._fire(batch, E.FINALIZE, None, now)

    def complete(
        self,
        batch: Batch,
        *,
        output_file_id: str | None = None,
        error_file_id: str | None = None,
        now: int | None = None,
    ) -> None:
        """Complete the batch, with the files the counts call for."""
        self._fire(batch, E.COMPLETE, _file_data(output_file_id, error_file_id), now)

    def expire(
        self,
        batch: Batch,
        *,
        output_file_id: str | None = None,
        error_file_id: str | None = None,
        now: int | None = None,
    ) -> None:
        """Expire the batch, once the clock (or `now`) has reached ``expires_at``.

        Partial result files may be given.
        """
        self._fire(batch, E.EXPIRE, _file_data(output_file_id, error_file_id), now)

    def cancel(self, batch: Batch, *, now: int | None = None) -> None:
        """Start cancelling the batch."""
        self._fire(batch, E.CANCEL, None, now)

    def finish_cancel(
        self,
        batch: Batch,
        *,
        output_file_id: str | None = None,
        error_file_id: str | None = None,
        now: int | None = None,
    ) -> None:
        """Finish cancelling the batch; partial result files may be given."""
        self._fire(batch, E.FINISH_CANCEL, _file_data(output_file_id, error_file_id), now)

    def record_progress(self, batch: Batch, completed: int = 0, failed: int = 0) -> None:
        """Add finished and failed requests to the counts of a batch whose requests run.

        Raises:
            IllegalTransition: unless the batch's status allows it.
            GuardError: if the counts would pass ``total`` (``counts.exceeds_total``).
            ArgumentError: for a negative or non-integer delta.
        """
        self._record(batch, _progress_data(completed, failed))

    def snapshot(self, batch: Batch) -> Batch:
        """A consistent copy of `batch`, taken while no event is half applied to it: the way
        to read (serve, validate, store) a batch that other threads drive.

        Any `Lifecycle` of the process takes the same per-batch lock, so the copy never
        shows a status without its stamp, whichever of them drives the batch. The copy is
        deep: changing it does not change the batch.

        Raises:
            ArgumentError: for anything but a `Batch`.
        """
        if not isinstance(batch, Batch):
            raise ArgumentError("batch", f"expected a Batch, got {type(batch).__name__}")
        with _lock_of(batch):
            return copy.deepcopy(batch)

    def allowed_events(self, batch: Batch) -> tuple[Event, ...]:
        """The events `batch` accepts in its status, sorted (a no-op cancel included)."""
        self._check_batch(batch)
        return self._allowed.get(batch.status, ())

    def expire_overdue(self, batches: Iterable[Batch], *, now: int | None = None) -> Sweep:
        """Expire every batch whose deadline has passed, for a scheduler's sweep.

        Every batch is tried, whatever happens to the others. Batches that cannot expire
        (no deadline, not yet due, or in a status that does not allow it, including one
        another thread moved on meanwhile) are left alone; a batch that should have expired
        but could not (a value set by hand, a hook that raised) is reported with its error.

        Returns:
            A `Sweep`: the batches expired and those that could not be, in the order given.

        Raises:
            ArgumentError: for a `now` that is not Unix seconds, or a clock that misreads.
        """
        moment = self._now() if now is None else _count("now", now)
        expired: list[Batch] = []
        failed: list[tuple[object, BatchfsmError]] = []
        for batch in batches:
            try:
                self._check_batch(batch)
                if (E.EXPIRE, batch.status) not in self._steps:
                    continue
                deadline = batch.expires_at
                if deadline is None:
                    continue
                if type(deadline) is not int:
                    raise _unreadable(batch, _unreadable_values(batch))
                if moment < deadline:
                    continue
                try:
                    self.expire(batch, now=moment)
                except (IllegalTransition, GuardError):  # moved on, or re-dated, meanwhile
                    continue
            except BatchfsmError as error:
                failed.append((batch, error))
                continue
            expired.append(batch)
        return Sweep(tuple(expired), tuple(failed))

    # -- hooks and diagram -------------------------------------------------------------

    def on_transition(self, hook: TransitionHook) -> TransitionHook:
        """Add a hook (usable as a decorator); hooks run in the order they were added.

        Raises:
            ArgumentError: for something that is not callable, or a coroutine function
                (the engine is synchronous: its coroutine would never run).
        """
        if not callable(hook):
            raise ArgumentError("hook", f"expected a callable, got {hook!r}")
        call = getattr(hook, "__call__", None)  # noqa: B004 - an async __call__ counts too
        if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(call):
            raise ArgumentError(
                "hook", f"expected a plain callable, got the coroutine function {hook!r}"
            )
        self._hooks.append(hook)
        return hook

    def diagram(self, format: str = "mermaid") -> str:
        """The lifecycle this engine drives, drawn by transitions' mermaid engine.

        Tolerated edges carry ``(tolerated)`` in their label.
        """
        # Imported here: transitions' diagram extension is only needed by those who draw.
        from ._diagram import mermaid

        if format != "mermaid":
            raise ArgumentError("format", f"expected 'mermaid', got {format!r}")
        return mermaid(self.transitions)

    # -- the machinery -----------------------------------------------------------------

    def _now(self) -> int:
        return _reading(self._clock())

    @staticmethod
    def _check_batch(batch: Batch) -> None:
        if not isinstance(batch, Batch):
            raise ArgumentError("batch", f"expected a Batch, got {type(batch).__name__}")
        if type(batch.status) is not Status:
            raise ArgumentError(
                "batch", f"batch {batch.id!r} has status {batch.status!r}, not a Status"
            )

    def _fire(self, batch: Batch, event: Event, data: Any, now: int | None) -> None:
        """Check and apply one edge's event atomically, with its checked `data`."""
        if type(batch) is not Batch:
            self._check_batch(batch)
        if now is not None and (type(now) is not int or not 0 <= now <= _LAST_SECOND):
            _second("now", now)  # raises the ArgumentError
        lock = _LOCKS[(id(batch) >> 4) % _STRIPES]
        lock.acquire()
        try:
            if _IN_HOOKS and id(batch) in _IN_HOOKS:
                raise ReentryError(batch.id, batch.status, event)
            source = batch.status
            try:
                step = self._steps[event, source]
            except (KeyError, TypeError):  # not a legal edge, or an unhashable status set by hand
                step = None
            if step is None:
                # Off the common path: a status set by hand to something that is not a
                # Status is reported here (or just below, if it equals a Status's value).
                self._check_batch(batch)
                if (event, source) in IDEMPOTENT:
                    return
                raise IllegalTransition(batch.id, source, event, self._allowed.get(source, ()))
            edge, move = step
            if source is not edge.source:  # a plain string equal to the status's value
                self._check_batch(batch)
            if now is None:
                reading = self._clock()
                if type(reading) is int and 0 <= reading <= _LAST_SECOND:
                    now = reading
                else:  # floors a float, or raises the clock's ArgumentError
                    now = _reading(reading)
            # Everything that can fail happens before the first write. A value set by hand
            # that is not an int fails the guard's arithmetic or the clamp, before the move.
            try:
                changes = _WRITES[event](batch, data)
                saved = None
                if self._hooks:
                    saved = {name: getattr(batch, name) for name in changes}
                    saved[edge.stamp] = getattr(batch, edge.stamp)
                refused = move(batch, now, changes)
            except (AttributeError, TypeError):
                _reraise_unreadable(batch)
            if refused is not None:
                raise GuardError(batch.id, source, event, *refused)
            if changes:
                for name, value in changes.items():
                    setattr(batch, name, value)
            if saved is not None:
                self._run_hooks(batch, event, edge, saved)
        finally:
            lock.release()

    def _record(self, batch: Batch, delta: tuple[int, int]) -> None:
        """Apply record_progress's checked `delta` atomically."""
        self._check_batch(batch)
        with _lock_of(batch):
            if id(batch) in _IN_HOOKS:
                raise ReentryError(batch.id, batch.status, E.RECORD_PROGRESS)
            status = batch.status
            if status not in RECORD_PROGRESS.statuses:
                allowed = self._allowed.get(status, ())
                raise IllegalTransition(batch.id, status, E.RECORD_PROGRESS, allowed)
            try:
                changes = _progress(batch, delta)
                refused = self._progress_guard(batch, 0, changes)
            except (AttributeError, TypeError):
                _reraise_unreadable(batch)
            if refused is not None:
                raise GuardError(batch.id, status, E.RECORD_PROGRESS, *refused)
            if delta != (0, 0):
                batch.request_counts = changes["request_counts"]

    def _run_hooks(self, batch: Batch, event: Event, edge: Transition, saved: Changes) -> None:
        _IN_HOOKS.add(id(batch))
        try:
            for hook in self._hooks:
                try:
                    hook(batch, event, edge.source, edge.dest)
                except BaseException as exc:
                    batch.status = edge.source
                    for name, value in saved.items():
                        setattr(batch, name, value)
                    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit …
                        raise
                    raise HookError(batch.id, edge.source, event, hook) from exc
        finally:
            _IN_HOOKS.discard(id(batch))


# -- the statuses each event method works from, in its docstring, read from the table --------


def _either(statuses: Iterable[Status]) -> str:
    given = set(statuses)
    names = [status.value for status in Status if status in given]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _works_from(event: Event) -> str:
    """What the table says of `event`: the statuses it works from, and where it leads."""
    for operation in (CREATE, RECORD_PROGRESS):
        if operation.event is event:
            if not operation.statuses:
                return f"Makes a batch in {INITIAL.value}."
            return f"Works in {_either(operation.statuses)}; the status stays."
    edges = [t for t in TRANSITIONS if t.event is event]
    documented = [t.source for t in edges if t.provenance is Provenance.DOCUMENTED]
    tolerated = [t.source for t in edges if t.provenance is Provenance.TOLERATED]
    text = f"Works from {_either(documented)}"
    if tolerated:
        refusing = [p.name for p in PRESETS.values() if Provenance.TOLERATED not in p.provenances]
        text += f", and (not under {' or '.join(refusing)}) from {_either(tolerated)}"
    text += f"; the batch becomes {_either(t.dest for t in edges)}."
    idle = [status for kind, status in IDEMPOTENT if kind is event]
    if idle:
        text += f" On a batch already {_either(idle)}, nothing happens."
    return text


def _document_events() -> None:
    """Put after the summary of each event method's docstring what the table says of its
    event, so that ``help(Lifecycle.cancel)`` tells from which statuses it works."""
    for event in Event:
        method = getattr(Lifecycle, event.value)
        summary, _, rest = (method.__doc__ or "").partition("\n\n")
        said = f"\n\n        {_works_from(event)}"
        method.__doc__ = summary + said + (f"\n\n{rest}" if rest else "")


_document_events()
