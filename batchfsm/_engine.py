"""The engine: one shared transitions machine that drives any number of `Batch` records.

transitions keeps per-model state in the model itself when a machine is shared and events
are fired with ``machine.events[name].trigger(record)``; records are never registered with
``add_model`` (which costs kilobytes per record, refuses slotted classes and confuses
records equal by value; see docs/engine.md). Each event is check-and-apply atomic per
batch under a striped lock, so events on different batches do not wait for each other.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn, Protocol

import attrs
from transitions import Machine

from ._codec import check_profile
from ._errors import ArgumentError, GuardError, HookError, IllegalTransition, TransitionError
from ._record import (
    ENDPOINTS,
    METADATA_MAX_KEY,
    METADATA_MAX_PAIRS,
    METADATA_MAX_VALUE,
    TIMESTAMP_FIELDS,
    Batch,
    BatchError,
    BatchErrors,
    RequestCounts,
    Status,
    window_seconds,
)
from ._strict import INT64_MAX
from ._table import IDEMPOTENT, INITIAL, Transition, carried_stamps, transitions_for

__all__ = ["Lifecycle", "TransitionHook"]

_STRIPES = 64


class TransitionHook(Protocol):
    """Called after each change a `Lifecycle` makes: ``hook(batch, event, source, dest)``.

    ``source`` is None for ``create``. A hook that raises rolls the change back.
    """

    def __call__(self, batch: Batch, event: str, source: Status | None, dest: Status) -> None: ...


class ManualClock:
    """A clock that reads what it is set to, for tests and generated histories."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _wall_clock() -> int:
    return int(time.time())


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
_NO_FILES: Changes = {}


def _files(output_file_id: str | None, error_file_id: str | None) -> Changes:
    """The file ids given to an event, checked; the shared empty dict when there are none."""
    if output_file_id is None and error_file_id is None:
        return _NO_FILES
    files: Changes = {}
    if _file_id("output_file_id", output_file_id) is not None:
        files["output_file_id"] = output_file_id
    if _file_id("error_file_id", error_file_id) is not None:
        files["error_file_id"] = error_file_id
    return files


# The conditions of the events: each checks its event's guard, before anything is written,
# and returns what the event writes besides the status and the stamp (never mutated later).


def _unmet(batch: Batch, event: str, condition: str, detail: str) -> GuardError:
    return GuardError(batch.id, batch.status.value, event, condition, detail)


def _set_total(batch: Batch, now: int, total: int) -> Changes:
    counts = batch.request_counts or _NO_COUNTS
    done = counts.completed + counts.failed
    if total < done:
        raise _unmet(
            batch,
            "start",
            "counts.below_progress",
            f"total {total} is less than completed + failed = {done}",
        )
    if counts is _NO_COUNTS:  # never evolve the shared stand-in: its extra dict is shared
        return {"request_counts": RequestCounts(total=total)}
    return {"request_counts": attrs.evolve(counts, total=total)}


def _store_errors(batch: Batch, now: int, errors: list[BatchError]) -> Changes:
    if not errors:
        raise _unmet(batch, "fail", "errors.empty", "a failed batch needs at least one error")
    return {"errors": BatchErrors(data=errors)}


def _check_accounted(batch: Batch, now: int, _: None) -> Changes:
    counts = batch.request_counts or _NO_COUNTS
    if counts.completed + counts.failed != counts.total:
        raise _unmet(
            batch,
            "finalize",
            "counts.unaccounted",
            f"completed {counts.completed} + failed {counts.failed} = "
            f"{counts.completed + counts.failed}, but total is {counts.total}",
        )
    return {}


def _check_files(batch: Batch, now: int, files: Changes) -> Changes:
    counts = batch.request_counts or _NO_COUNTS
    if counts.completed > 0 and files.get("output_file_id", batch.output_file_id) is None:
        raise _unmet(
            batch,
            "complete",
            "files.output_missing",
            f"{counts.completed} requests completed, but there is no output_file_id",
        )
    if counts.failed > 0 and files.get("error_file_id", batch.error_file_id) is None:
        raise _unmet(
            batch,
            "complete",
            "files.error_missing",
            f"{counts.failed} requests failed, but there is no error_file_id",
        )
    return files


def _check_due(batch: Batch, now: int, files: Changes) -> Changes:
    deadline = batch.expires_at
    if deadline is None:
        raise _unmet(batch, "expire", "expires_at.missing", "the batch has no expires_at")
    if now < deadline:
        raise _unmet(
            batch,
            "expire",
            "expires_at.not_due",
            f"the clock reads {now}, expires_at is {deadline} ({deadline - now} s to go)",
        )
    return files


def _given_files(batch: Batch, now: int, files: Changes) -> Changes:
    return files


Step = Callable[[Batch, int], None]


def _compile_step(
    edge: Transition, trigger: Callable[[Batch], bool], carried: Iterable[str]
) -> Step:
    """A function that moves a batch along `edge` and stamps it, clamped to its latest stamp.

    Generated per edge, as attrs generates ``__init__``: attribute reads and writes by name
    in straight-line code cost a fraction of ``attrgetter`` + ``max`` + ``setattr``, and this
    runs on every event.
    """
    stamps = sorted(carried, key=TIMESTAMP_FIELDS.index)
    lines = ["def step(batch, now):", "    latest = now"]
    for name in stamps:
        lines += [
            f"    stamp = batch.{name}",
            "    if stamp is not None and stamp > latest:",
            "        latest = stamp",
        ]
    lines += ["    trigger(batch)", f"    batch.{edge.stamp} = latest"]
    namespace: dict[str, Any] = {"trigger": trigger}
    exec(
        compile("\n".join(lines), f"<batchfsm step {edge.event} from {edge.source.value}>", "exec"),
        namespace,
    )
    step: Step = namespace["step"]
    return step


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


class Lifecycle:
    """Drives `Batch` records through the lifecycle table: only legal changes, each stamped.

    Args:
        clock: A zero-argument callable returning Unix seconds as an int; the wall clock
            by default. A stamp is never earlier than the batch's latest stamp, so a clock
            that steps back cannot break the order of stamps (the stamp is clamped).
        profile: ``strict`` allows only the edges OpenAI documents; ``openai`` (default)
            and ``compat`` also the tolerated ones.
        id_factory: Makes the id of each new batch; ``batch_`` + 32 hex digits by default.
        hooks: Called after each change, in order; see `TransitionHook`.

    Raises:
        ArgumentError: for an unknown profile.
    """

    def __init__(
        self,
        clock: Callable[[], int] | None = None,
        *,
        profile: str = "openai",
        id_factory: Callable[[], str] | None = None,
        hooks: Iterable[TransitionHook] = (),
    ) -> None:
        check_profile(profile)
        self.profile = profile
        self._clock = clock if clock is not None else _wall_clock
        self._id_factory = id_factory if id_factory is not None else _new_id
        self._hooks: list[TransitionHook] = list(hooks)
        self.transitions: tuple[Transition, ...] = transitions_for(profile)
        self._allowed = {
            status: tuple(
                sorted(
                    {t.event for t in self.transitions if t.source is status}
                    | {event for event, source in IDEMPOTENT if source is status}
                )
            )
            for status in Status
        }
        self._machine = Machine(
            model=None,
            states=Status,
            transitions=[
                {"trigger": t.event, "source": t.source, "dest": t.dest} for t in self.transitions
            ],
            initial=INITIAL,
            auto_transitions=False,
            model_attribute="status",
            ignore_invalid_triggers=False,
        )
        # One lookup per event gives the edge and the step that moves the batch along it.
        carried = carried_stamps(self.transitions)
        self._steps: dict[tuple[str, Status], tuple[Transition, Step]] = {
            (t.event, t.source): (
                t,
                _compile_step(t, self._machine.events[t.event].trigger, carried[t.source]),
            )
            for t in self.transitions
        }
        self._locks = tuple(threading.RLock() for _ in range(_STRIPES))

    # -- creation ----------------------------------------------------------------------

    def create(
        self,
        *,
        input_file_id: str,
        endpoint: str,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        model: str | None = None,
    ) -> Batch:
        """A new batch in ``validating``, created now and due ``completion_window`` later.

        Raises:
            ArgumentError: for an empty file id, an unknown window, metadata that OpenAI
                would refuse (more than 16 pairs, keys over 64 or values over 512
                characters, non-strings), or, under ``strict``, an unknown endpoint.
            HookError: when a hook raised; the batch is not returned.
        """
        if _file_id("input_file_id", input_file_id) is None:
            raise ArgumentError("input_file_id", "expected a non-empty file id, got None")
        if type(endpoint) is not str or not endpoint:
            raise ArgumentError("endpoint", f"expected an endpoint path, got {endpoint!r}")
        if self.profile == "strict" and endpoint not in ENDPOINTS:
            known = ", ".join(sorted(ENDPOINTS))
            raise ArgumentError("endpoint", f"expected one of {known}, got {endpoint!r}")
        window = self._window_seconds(completion_window)
        if model is not None and type(model) is not str:
            raise ArgumentError("model", f"expected a string or None, got {model!r}")
        pairs = self._metadata(metadata)
        created = self._now()
        batch_id = self._id_factory()
        if type(batch_id) is not str or not batch_id:
            raise ArgumentError(
                "id_factory", f"must return a non-empty string, returned {batch_id!r}"
            )
        batch = Batch(
            id=batch_id,
            endpoint=endpoint,
            model=model,
            input_file_id=input_file_id,
            completion_window=completion_window,
            status=INITIAL,
            created_at=created,
            expires_at=created + window,
            request_counts=RequestCounts(),
            metadata=pairs,
        )
        for hook in self._hooks:
            try:
                hook(batch, "create", None, INITIAL)
            except Exception as exc:
                raise HookError(batch.id, INITIAL.value, "create", hook) from exc
        return batch

    def _window_seconds(self, window: object) -> int:
        seconds = window_seconds(window) if type(window) is str else None
        if seconds is None or (self.profile == "strict" and window != "24h"):
            expected = "'24h'" if self.profile == "strict" else "hours such as '24h'"
            raise ArgumentError("completion_window", f"expected {expected}, got {window!r}")
        return seconds

    @staticmethod
    def _metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
        if metadata is None:
            return None
        if not isinstance(metadata, Mapping):
            raise ArgumentError("metadata", f"expected a mapping, got {type(metadata).__name__}")
        if len(metadata) > METADATA_MAX_PAIRS:
            raise ArgumentError(
                "metadata", f"at most {METADATA_MAX_PAIRS} pairs, got {len(metadata)}"
            )
        for key, value in metadata.items():
            if type(key) is not str or len(key) > METADATA_MAX_KEY:
                raise ArgumentError(
                    "metadata",
                    f"keys are strings of at most {METADATA_MAX_KEY} characters: {key!r}",
                )
            if type(value) is not str or len(value) > METADATA_MAX_VALUE:
                shown = value if type(value) is not str else value[:20] + "…"
                raise ArgumentError(
                    "metadata",
                    f"values are strings of at most {METADATA_MAX_VALUE} characters:"
                    f" {key!r}: {shown!r}",
                )
        return dict(metadata)

    # -- events ------------------------------------------------------------------------

    def start(self, batch: Batch, total: int | None = None) -> None:
        """validating → in_progress; ``total``, when given, becomes ``request_counts.total``."""
        if total is None:
            self._fire(batch, "start", None, None)
        else:
            self._fire(batch, "start", _set_total, _count("total", total))

    def fail(self, batch: Batch, errors: Sequence[BatchError]) -> None:
        """→ failed, storing `errors` (at least one) in ``batch.errors``."""
        if isinstance(errors, (str, bytes)) or not isinstance(errors, Sequence):
            raise ArgumentError("errors", f"expected a sequence of BatchError, got {errors!r}")
        for error in errors:
            if not isinstance(error, BatchError):
                raise ArgumentError("errors", f"expected BatchError items, got {error!r}")
        self._fire(batch, "fail", _store_errors, list(errors))

    def finalize(self, batch: Batch) -> None:
        """in_progress → finalizing, once every request is accounted for."""
        self._fire(batch, "finalize", _check_accounted, None)

    def complete(
        self, batch: Batch, output_file_id: str | None = None, error_file_id: str | None = None
    ) -> None:
        """finalizing → completed, with the files the counts call for."""
        self._fire(batch, "complete", _check_files, _files(output_file_id, error_file_id))

    def expire(
        self,
        batch: Batch,
        output_file_id: str | None = None,
        error_file_id: str | None = None,
        *,
        now: int | None = None,
    ) -> None:
        """→ expired, once the clock (or `now`) has reached ``expires_at``.

        Partial result files may be given.
        """
        files = _files(output_file_id, error_file_id)
        moment = None if now is None else _count("now", now)
        self._fire(batch, "expire", _check_due, files, moment)

    def cancel(self, batch: Batch) -> None:
        """→ cancelling; on a batch already cancelling or cancelled, nothing happens."""
        self._fire(batch, "cancel", None, None)

    def finish_cancel(
        self, batch: Batch, output_file_id: str | None = None, error_file_id: str | None = None
    ) -> None:
        """cancelling → cancelled; partial result files may be given."""
        files = _files(output_file_id, error_file_id)
        self._fire(batch, "finish_cancel", _given_files if files else None, files)

    def record_progress(self, batch: Batch, completed: int = 0, failed: int = 0) -> None:
        """Add finished and failed requests to the counts of an in-progress batch.

        Raises:
            IllegalTransition: unless the batch is in progress.
            GuardError: if the counts would pass ``total``.
            ArgumentError: for a negative or non-integer delta.
        """
        _count("completed", completed)
        _count("failed", failed)
        self._check_batch(batch)
        with self._lock(batch):
            if batch.status is not Status.IN_PROGRESS:
                raise IllegalTransition(
                    batch.id, batch.status.value, "record_progress", self._allowed[batch.status]
                )
            counts = batch.request_counts or _NO_COUNTS
            try:
                done = counts.completed + completed + counts.failed + failed
                beyond = done > counts.total
            except (AttributeError, TypeError):
                _reraise_unreadable(batch)
            if beyond:
                raise _unmet(
                    batch,
                    "record_progress",
                    "counts.exceeds_total",
                    f"completed {counts.completed}+{completed} + failed {counts.failed}+{failed} "
                    f"= {done} would pass total {counts.total}",
                )
            if completed or failed:
                batch.request_counts = attrs.evolve(
                    counts, completed=counts.completed + completed, failed=counts.failed + failed
                )

    def allowed_events(self, batch: Batch) -> tuple[str, ...]:
        """The events `batch` accepts in its status, sorted (a no-op cancel included)."""
        self._check_batch(batch)
        return self._allowed[batch.status]

    def expire_overdue(self, batches: Iterable[Batch], now: int | None = None) -> list[Batch]:
        """Expire every batch whose deadline has passed, for a scheduler's sweep.

        Batches that cannot expire (no deadline, not yet due, or in a status that does not
        allow it, including one another thread moved on meanwhile) are left alone.

        Returns:
            The batches this call expired, in the order given.
        """
        moment = self._now() if now is None else _count("now", now)
        expired = []
        for batch in batches:
            self._check_batch(batch)
            if ("expire", batch.status) not in self._steps:
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
            except TransitionError:
                continue
            expired.append(batch)
        return expired

    # -- hooks and diagram -------------------------------------------------------------

    def on_transition(self, hook: TransitionHook) -> TransitionHook:
        """Add a hook (usable as a decorator); hooks run in the order they were added."""
        if not callable(hook):
            raise ArgumentError("hook", f"expected a callable, got {hook!r}")
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

    def _lock(self, batch: Batch) -> threading.RLock:
        # Object ids are 16-byte aligned; the low bits carry no information.
        return self._locks[(id(batch) >> 4) % _STRIPES]

    def _now(self) -> int:
        now = self._clock()
        if type(now) is not int or not 0 <= now <= INT64_MAX:
            raise ArgumentError(
                "clock", f"must return non-negative int Unix seconds, returned {now!r}"
            )
        return now

    @staticmethod
    def _check_batch(batch: Batch) -> None:
        if not isinstance(batch, Batch):
            raise ArgumentError("batch", f"expected a Batch, got {type(batch).__name__}")
        if type(batch.status) is not Status:
            raise ArgumentError(
                "batch", f"batch {batch.id!r} has status {batch.status!r}, not a Status"
            )

    def _fire(
        self,
        batch: Batch,
        event: str,
        prepare: Callable[[Batch, int, Any], Changes] | None,
        data: Any,
        now: int | None = None,
    ) -> None:
        """Check and apply one event atomically. ``prepare(batch, now, data)`` checks the
        event's condition and returns what it writes besides the status and the stamp."""
        if type(batch) is not Batch:
            self._check_batch(batch)
        lock = self._locks[(id(batch) >> 4) % _STRIPES]
        lock.acquire()
        try:
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
                raise IllegalTransition(batch.id, source.value, event, self._allowed[source])
            edge, move = step
            if source is not edge.source:  # a plain string equal to the status's value
                self._check_batch(batch)
            if now is None:
                now = self._clock()
                if type(now) is not int or not 0 <= now <= INT64_MAX:
                    self._now()  # raises the clock's ArgumentError
            # Everything that can fail happens before the first write. A value set by hand
            # that is not an int fails the guard's arithmetic or the clamp, before the move.
            try:
                changes = prepare(batch, now, data) if prepare is not None else _NO_FILES
                saved = None
                if self._hooks:
                    saved = {name: getattr(batch, name) for name in changes}
                    saved[edge.stamp] = getattr(batch, edge.stamp)
                move(batch, now)
            except (AttributeError, TypeError):
                _reraise_unreadable(batch)
            if changes:
                for name, value in changes.items():
                    setattr(batch, name, value)
            if saved is not None:
                self._run_hooks(batch, event, edge, saved)
        finally:
            lock.release()

    def _run_hooks(self, batch: Batch, event: str, edge: Transition, saved: Changes) -> None:
        for hook in self._hooks:
            try:
                hook(batch, event, edge.source, edge.dest)
            except Exception as exc:
                batch.status = edge.source
                for name, value in saved.items():
                    setattr(batch, name, value)
                raise HookError(batch.id, edge.source.value, event, hook) from exc
