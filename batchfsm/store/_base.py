"""The store's logic, whatever the database: load a batch, drive a copy through the
`Lifecycle`, write it back if its version did not move, and log the change.

The SQLite and PostgreSQL stores only say how to open a connection, run a transaction and
spell the few statements that differ; every decision is made here, once.
"""

from __future__ import annotations

import abc
import builtins
import json
import math
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import attrs

from batchfsm._codec import dumps, loads
from batchfsm._engine import Lifecycle, Sweep
from batchfsm._errors import ArgumentError, BatchfsmError, IllegalTransition
from batchfsm._profile import Profile
from batchfsm._record import Batch, Status
from batchfsm._strict import INT64_MAX
from batchfsm._table import IDEMPOTENT, TERMINAL, Event
from batchfsm._validate import validate

from ._errors import AdoptionError, ConflictError, StoreError, UnknownBatchError
from ._records import Change, Claim

__all__ = ["OPEN", "Queries", "Store", "Tx", "filters"]

#: The statuses `Store.claim` hands out by default: every one a batch can still leave.
OPEN: tuple[Status, ...] = tuple(status for status in Status if status not in TERMINAL)

Row = tuple[Any, ...]


class Tx(Protocol):
    """One connection's statements, inside a transaction when one was asked for."""

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None: ...

    def all(self, sql: str, params: Sequence[object] = ()) -> builtins.list[Row]: ...

    def run(self, sql: str, params: Sequence[object] = ()) -> int: ...


@attrs.frozen
class Queries:
    """The statements both databases run, in their own spelling: the row's wire JSON is read
    as text from the column ``doc``."""

    read: str  # (id) -> (version, doc)
    read_locked: str  # the same, holding the row until the transaction ends
    insert_batch: str  # (id, status, expires_at, doc) -> 1 row, or 0 for a taken id
    insert_change: str  # (batch_id, version, event, source, dest, at, doc)
    version: str  # (id) -> (version,)
    get: str  # (id) -> (doc,)
    history: str  # (batch_id) -> (doc,) per change, oldest first
    changes: str  # (batch_id) -> (version, event, source, dest, at) per change
    renew: str  # (until, id, token) -> rows changed
    release: str  # (now, id, token) -> rows changed


class _Lost(Exception):
    """Another writer moved the batch between our read and our write (not a caller's error)."""


def _batch_id(batch_id: object) -> str:
    if type(batch_id) is not str or not batch_id:
        raise ArgumentError("batch_id", f"expected a non-empty string, got {batch_id!r}")
    return batch_id


def _positive(name: str, value: object) -> int:
    if type(value) is not int or not 0 < value <= INT64_MAX:
        raise ArgumentError(name, f"expected a positive integer, got {value!r}")
    return value


def _instant(name: str, value: object) -> int:
    """Unix seconds as the engine takes them: a float is floored, anything else refused."""
    if type(value) is float and math.isfinite(value):
        value = math.floor(value)
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        raise ArgumentError(name, f"expected non-negative int Unix seconds, got {value!r}")
    return value


def _event(event: object) -> Event:
    try:
        known = Event(event)
    except ValueError:
        known = None
    if known is None or known is Event.CREATE:
        names = ", ".join(sorted(e.value for e in Event if e is not Event.CREATE))
        raise ArgumentError("event", f"expected one of {names}, got {event!r}")
    return known


def _statuses(statuses: Iterable[Status | str] | None) -> tuple[str, ...]:
    if statuses is None:
        return tuple(status.value for status in OPEN)
    if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Iterable):
        raise ArgumentError("statuses", f"expected an iterable of statuses, got {statuses!r}")
    found = []
    for status in statuses:
        try:
            found.append(Status(status).value)
        except ValueError:
            raise ArgumentError("statuses", f"expected statuses, got {status!r}") from None
    if not found:
        raise ArgumentError("statuses", "expected at least one status")
    return tuple(sorted(set(found)))


def _columns(batch: Batch) -> tuple[str, int | None]:
    """The indexed columns of a batch's row: its status and deadline."""
    deadline = batch.expires_at
    if deadline is not None and not 0 <= deadline <= INT64_MAX:
        raise ArgumentError(
            "batch", f"batch {batch.id!r} expires at {deadline!r}, past a 64-bit integer"
        )
    return batch.status.value, deadline


def _unchanged(event: Event, source: Status, counts: object, batch: Batch) -> bool:
    """Whether an event the lifecycle accepted changed nothing: a cancel of a batch already
    cancelling or cancelled, or progress of zero (the engine's only no-ops)."""
    if event is Event.RECORD_PROGRESS:
        return batch.request_counts == counts
    return (event, source) in IDEMPOTENT


class Store(abc.ABC):
    """Batches in a database, changed only through the `Lifecycle` and only by
    compare-and-set on their version, with an audit row for every change.

    Any number of threads and processes may share one database: each change is decided on
    the stored batch and written only if no other writer changed it meanwhile, in one
    transaction with its audit row. Each thread and process gets its own connection.

    Args:
        lifecycle: The rules, profile and hooks every change goes through. Hooks run on the
            store's copy before the change is written: a hook that raises means nothing is
            written; a change decided again after a lost race runs them again.
        clock: The store's time, read once per change: the event's stamp, the audit row's
            ``at``, leases and sweeps. By default the lifecycle's clock (the wall clock).
            A float is floored.
        profile: The profile of the lifecycle the store makes when none is given.

    Raises:
        ArgumentError: for a lifecycle given together with a profile, or values of the
            wrong type.
        StoreError: when the database cannot be opened or holds a newer schema.
    """

    #: Test seam: called once `apply` wrote a change, before its transaction (if it runs
    #: in one) commits; tests/test_store.py kills a worker there.
    _after_write: Callable[[], None] | None = None
    #: How many times `apply` decides a change; the last try runs in a transaction that
    #: holds the row, so it cannot lose a race.
    _attempts = 1
    _sql: Queries

    def __init__(
        self,
        *,
        lifecycle: Lifecycle | None = None,
        clock: Callable[[], int | float] | None = None,
        profile: Profile | str | None = None,
    ) -> None:
        if lifecycle is None:
            lifecycle = Lifecycle(profile="openai" if profile is None else profile)
        elif not isinstance(lifecycle, Lifecycle):
            raise ArgumentError("lifecycle", f"expected a Lifecycle, got {lifecycle!r}")
        elif profile is not None:
            raise ArgumentError("profile", "give the profile to the Lifecycle the store takes")
        if clock is not None and not callable(clock):
            raise ArgumentError("clock", f"expected a callable, got {clock!r}")
        self.lifecycle: Lifecycle = lifecycle
        self._clock: Callable[[], object] = clock if clock is not None else lifecycle.clock
        self._local = threading.local()
        self._opened: builtins.list[tuple[int, Any]] = []
        self._opened_lock = threading.Lock()
        self._closed = False

    # -- connections, per thread and per process -----------------------------------------

    @abc.abstractmethod
    def _connect(self) -> Any:
        """A new connection to the database."""

    @abc.abstractmethod
    def _close_connection(self, connection: Any) -> None:
        """Close one of this process's connections, quietly."""

    @abc.abstractmethod
    def _session(
        self, operation: str, batch_id: str | None, *, write: bool
    ) -> AbstractContextManager[Tx]:
        """The calling thread's connection; with `write`, one transaction that commits when
        the block ends and rolls back if it raises. Driver errors become `StoreError`."""

    def _connection(self, operation: str, batch_id: str | None) -> Any:
        if self._closed:
            raise StoreError(operation, batch_id, "the store is closed")
        local = self._local
        pid = os.getpid()
        connection = getattr(local, "connection", None)
        # A connection is never used across fork: the child opens its own.
        if connection is None or local.pid != pid:
            connection = self._connect()
            local.connection, local.pid = connection, pid
            with self._opened_lock:
                self._opened.append((pid, connection))
        return connection

    def _forget(self, connection: Any) -> None:
        """Drop a broken connection, so that the thread's next call opens a new one."""
        if getattr(self._local, "connection", None) is connection:
            del self._local.connection
        with self._opened_lock:
            self._opened = [(p, c) for p, c in self._opened if c is not connection]
        self._close_connection(connection)

    def close(self) -> None:
        """Close every connection this process opened; the store refuses calls afterwards.

        Call it once the threads that use the store are done with it.
        """
        self._closed = True
        pid = os.getpid()
        with self._opened_lock:
            mine = [c for p, c in self._opened if p == pid]
            # Another process's connections are left alone: closing them would end its
            # sessions, which share the socket or file lock.
            self._opened = [(p, c) for p, c in self._opened if p != pid]
        for connection in mine:
            self._close_connection(connection)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- time ------------------------------------------------------------------------------

    def _now(self) -> int:
        reading = self._clock()
        if type(reading) is float and math.isfinite(reading):
            reading = math.floor(reading)
        if type(reading) is not int or not 0 <= reading <= INT64_MAX:
            raise ArgumentError(
                "clock", f"must return non-negative Unix seconds, returned {reading!r}"
            )
        return reading

    # -- creating and adopting -------------------------------------------------------------

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
        """Create a batch with the lifecycle (in ``validating``) and store it as version 1.

        Args:
            now: The Unix seconds to create it at instead of the store's clock.

        Returns:
            The new batch, as stored.

        Raises:
            ArgumentError, GuardError, HookError: as `Lifecycle.create` raises them; nothing
                is stored.
            ConflictError: when the lifecycle's id factory made an id already stored.
            StoreError: when the database failed.
        """
        moment = self._now() if now is None else _instant("now", now)
        with self._session("create", None, write=True) as tx:
            batch = self.lifecycle.create(
                input_file_id=input_file_id,
                endpoint=endpoint,
                completion_window=completion_window,
                metadata=metadata,
                model=model,
                now=moment,
            )
            self._insert(tx, batch, Event.CREATE.value, moment)
        return batch

    def adopt(self, payload: object, *, profile: Profile | str | None = None) -> Batch:
        """Store a batch another system made, from its payload, as version 1; it is
        validated first and refused if invalid.

        Args:
            payload: JSON text, a decoded mapping or a `Batch`, as `batchfsm.validate`
                takes it.
            profile: The profile to read it with; the lifecycle's by default.

        Returns:
            The batch as stored (a copy, when `payload` is a `Batch`).

        Raises:
            AdoptionError: with the report, when the payload is not a valid batch.
            ConflictError: when a batch with its id is already stored (``expected`` 0).
            ArgumentError: for a payload of another type, or an unknown profile.
            StoreError: when the database failed.
        """
        report = validate(payload, profile=self.lifecycle.profile if profile is None else profile)
        batch = report.batch
        if batch is None or not report.ok:
            raise AdoptionError(report)
        if batch is payload:
            batch = loads(dumps(batch))
        moment = self._now()
        with self._session("adopt", batch.id, write=True) as tx:
            self._insert(tx, batch, "adopt", moment)
        return batch

    def _insert(self, tx: Tx, batch: Batch, event: str, moment: int) -> None:
        status, deadline = _columns(batch)
        doc = dumps(batch)
        if tx.run(self._sql.insert_batch, (batch.id, status, deadline, doc)) != 1:
            row = tx.one(self._sql.version, (batch.id,))
            raise ConflictError(batch.id, 0, row[0] if row is not None else 0)
        tx.run(self._sql.insert_change, (batch.id, 1, event, None, status, moment, doc))

    # -- changing --------------------------------------------------------------------------

    def apply(
        self,
        batch_id: str,
        event: Event | str,
        *,
        if_version: int | None = None,
        now: int | None = None,
        **data: Any,
    ) -> Batch:
        """Fire `event` on the stored batch: load it, drive a copy through the lifecycle,
        write it back as the next version if nobody changed it meanwhile, and append the
        audit row, in one transaction.

        Without `if_version`, a change that lost a race to another writer is decided again
        on the batch that writer stored; the last try holds the row, so it cannot lose. An
        event that changes nothing (a cancel of a cancelling batch, progress of zero) writes
        nothing and keeps the version.

        Args:
            batch_id: The stored batch's id.
            event: An `Event` or its name; not ``create``.
            if_version: Apply only to this version, the one the caller decided on.
            now: The Unix seconds to stamp instead of the store's clock (not for
                ``record_progress``, which stamps nothing).
            data: The event's data, as `Lifecycle.fire` takes it (``completed=3``,
                ``output_file_id="file-x"`` …).

        Returns:
            The batch as stored after the event.

        Raises:
            IllegalTransition, GuardError, HookError: the lifecycle refused the event;
                nothing was written.
            ConflictError: the batch is not at `if_version`.
            UnknownBatchError: no batch has this id.
            ArgumentError: for an unknown event, data it does not take, or a bad value.
            StoreError: when the database failed; nothing was written.
        """
        batch_id = _batch_id(batch_id)
        known = _event(event)
        if if_version is not None:
            _positive("if_version", if_version)
        if now is not None:
            now = _instant("now", now)
        for attempt in range(self._attempts):
            # Every try but the last reads and writes without a transaction around them
            # (the write is one statement, compare-and-set); the last holds the row.
            locked = attempt == self._attempts - 1
            try:
                with self._session("apply", batch_id, write=locked) as tx:
                    return self._decide(tx, batch_id, known, if_version, now, data, locked)
            except _Lost:
                continue
        raise AssertionError("the last attempt holds the row and cannot lose")  # pragma: no cover

    def _decide(
        self,
        tx: Tx,
        batch_id: str,
        event: Event,
        if_version: int | None,
        now: int | None,
        data: dict[str, Any],
        locked: bool,
    ) -> Batch:
        """One try of `apply`, inside its transaction."""
        sql = self._sql
        row = tx.one(sql.read_locked if locked else sql.read, (batch_id,))
        if row is None:
            raise UnknownBatchError(batch_id)
        version, text = row
        if if_version is not None and version != if_version:
            raise ConflictError(batch_id, if_version, version)
        batch = loads(text)
        source = batch.status
        counts = batch.request_counts
        moment = self._now() if now is None else now
        if event is Event.RECORD_PROGRESS and now is None:
            self.lifecycle.fire(batch, event, **data)  # it stamps nothing, and takes no now
        else:
            self.lifecycle.fire(batch, event, now=moment, **data)
        if _unchanged(event, source, counts, batch):  # no version, no audit row
            return batch
        doc = dumps(batch)
        status, deadline = _columns(batch)
        change = (event.value, source.value, moment)
        if not self._write(tx, batch_id, version, status, deadline, doc, change):
            if if_version is not None:
                current = tx.one(sql.version, (batch_id,))
                raise ConflictError(batch_id, if_version, current[0] if current else 0)
            raise _Lost
        if self._after_write is not None:
            self._after_write()
        return batch

    @abc.abstractmethod
    def _write(
        self,
        tx: Tx,
        batch_id: str,
        version: int,
        status: str,
        deadline: int | None,
        doc: str,
        change: tuple[str, str, int],
    ) -> bool:
        """Replace version `version` of the row by the next, with its audit row (event,
        source, at), atomically; False, writing nothing, when the row is no longer at
        `version`."""

    def expire_overdue(self, now: int | None = None) -> Sweep:
        """Expire every stored batch whose deadline has passed, each in its own transaction
        with its audit row, for a scheduler's sweep; it goes through all of them.

        Args:
            now: The Unix seconds to judge and stamp by instead of the store's clock.

        Returns:
            A `batchfsm.Sweep`: the batches expired, as stored, soonest deadline first; and
            each overdue batch it could not expire, by id, with the error that stopped it
            (a hook's `HookError`, a `StoreError`). A batch another worker moved on
            meanwhile is in neither.

        Raises:
            ArgumentError: for a bad `now` or clock reading.
            StoreError: when the database failed to list the overdue batches.
        """
        moment = self._now() if now is None else _instant("now", now)
        expiring = tuple(
            sorted({t.source.value for t in self.lifecycle.transitions if t.event is Event.EXPIRE})
        )
        with self._session("expire_overdue", None, write=False) as tx:
            due = self._overdue(tx, expiring, moment)
        expired: builtins.list[Batch] = []
        failed: builtins.list[tuple[object, BatchfsmError]] = []
        for batch_id in due:
            try:
                expired.append(self.apply(batch_id, Event.EXPIRE, now=moment))
            except (IllegalTransition, UnknownBatchError):
                continue  # another worker moved it on (or removed it) meanwhile
            except BatchfsmError as error:
                failed.append((batch_id, error))
        return Sweep(tuple(expired), tuple(failed))

    # -- leases ----------------------------------------------------------------------------

    def claim(
        self,
        limit: int,
        *,
        lease_seconds: int,
        statuses: Iterable[Status | str] | None = None,
        owner: str | None = None,
    ) -> builtins.list[Claim]:
        """Hand up to `limit` batches to the caller for `lease_seconds`: each only if no
        other lease on it runs, so that one worker at a time polls each batch.

        Batches whose lease ran out (or never had one) are claimable; the least recently
        leased go first.

        Args:
            limit: How many batches at most.
            lease_seconds: How long the lease runs; renew it to keep the batch longer.
            statuses: Which statuses to hand out; every status but the final ones by default.
            owner: The claimant's name, kept on the row; ``host:pid`` by default.

        Returns:
            A `Claim` per batch handed out; none when every open batch is leased.

        Raises:
            ArgumentError: for a bad limit, lease, status or owner.
            StoreError: when the database failed.
        """
        _positive("limit", limit)
        _positive("lease_seconds", lease_seconds)
        wanted = _statuses(statuses)
        if owner is None:
            owner = f"{socket.gethostname()}:{os.getpid()}"
        elif type(owner) is not str or not owner:
            raise ArgumentError("owner", f"expected a non-empty string, got {owner!r}")
        now = self._now()
        until = now + lease_seconds
        if until > INT64_MAX:
            raise ArgumentError("lease_seconds", f"{lease_seconds!r} runs past a 64-bit integer")
        token = secrets.token_hex(8)
        with self._session("claim", None, write=True) as tx:
            rows = self._claim(tx, wanted, now, limit, (token, owner, until))
        return [Claim(loads(doc), version, owner, token, until) for version, doc in rows]

    def renew(self, claim: Claim, *, lease_seconds: int) -> Claim | None:
        """Extend a lease to `lease_seconds` from now, if the batch still holds it.

        Returns:
            The claim with its new end; None when the lease was released or ran out and
            another worker claimed the batch (stop working on it).

        Raises:
            ArgumentError: for a bad claim or lease.
            StoreError: when the database failed.
        """
        if not isinstance(claim, Claim):
            raise ArgumentError("claim", f"expected a Claim, got {claim!r}")
        _positive("lease_seconds", lease_seconds)
        until = self._now() + lease_seconds
        if until > INT64_MAX:
            raise ArgumentError("lease_seconds", f"{lease_seconds!r} runs past a 64-bit integer")
        with self._session("renew", claim.batch.id, write=True) as tx:
            renewed = tx.run(self._sql.renew, (until, claim.batch.id, claim.token))
        return attrs.evolve(claim, until=until) if renewed else None

    def release(self, claim: Claim) -> bool:
        """End a lease early, so that the next `claim` may hand the batch out again.

        Returns:
            Whether the batch still held this lease.

        Raises:
            ArgumentError: for a bad claim.
            StoreError: when the database failed.
        """
        if not isinstance(claim, Claim):
            raise ArgumentError("claim", f"expected a Claim, got {claim!r}")
        now = self._now()
        with self._session("release", claim.batch.id, write=True) as tx:
            return tx.run(self._sql.release, (now, claim.batch.id, claim.token)) == 1

    # -- reading ---------------------------------------------------------------------------

    def get(self, batch_id: str) -> Batch:
        """The stored batch, decoded from its row.

        Raises:
            UnknownBatchError: no batch has this id.
            StoreError: when the database failed.
        """
        batch_id = _batch_id(batch_id)
        with self._session("get", batch_id, write=False) as tx:
            row = tx.one(self._sql.get, (batch_id,))
        if row is None:
            raise UnknownBatchError(batch_id)
        return loads(row[0])

    def version(self, batch_id: str) -> int:
        """The stored batch's version: 1 when stored, one more for each change since.

        Raises:
            UnknownBatchError: no batch has this id.
            StoreError: when the database failed.
        """
        batch_id = _batch_id(batch_id)
        with self._session("version", batch_id, write=False) as tx:
            row = tx.one(self._sql.version, (batch_id,))
        if row is None:
            raise UnknownBatchError(batch_id)
        return int(row[0])

    def history(self, batch_id: str) -> builtins.list[dict[str, Any]]:
        """The batch's wire object after each change, oldest first (``check_history``
        accepts them).

        Raises:
            UnknownBatchError: no batch has this id.
            StoreError: when the database failed.
        """
        batch_id = _batch_id(batch_id)
        with self._session("history", batch_id, write=False) as tx:
            rows = tx.all(self._sql.history, (batch_id,))
        if not rows:
            raise UnknownBatchError(batch_id)
        return [self._wire(doc) for (doc,) in rows]

    def events(self, batch_id: str) -> builtins.list[Change]:
        """The batch's audit rows, oldest first: one per version.

        Raises:
            UnknownBatchError: no batch has this id.
            StoreError: when the database failed.
        """
        batch_id = _batch_id(batch_id)
        with self._session("events", batch_id, write=False) as tx:
            rows = tx.all(self._sql.changes, (batch_id,))
        if not rows:
            raise UnknownBatchError(batch_id)
        return [
            Change(
                int(version),
                event,
                None if source is None else Status(source),
                Status(dest),
                int(at),
            )
            for version, event, source, dest, at in rows
        ]

    def list(
        self,
        status: Status | str | None = None,
        *,
        limit: int = 100,
        after: str | None = None,
    ) -> builtins.list[Batch]:
        """Stored batches in order of id, a page at a time.

        Args:
            status: Only batches in this status.
            limit: How many at most.
            after: Only ids after this one: the last id of the previous page.

        Raises:
            ArgumentError: for a bad status, limit or id.
            StoreError: when the database failed.
        """
        wanted = None if status is None else _statuses([status])[0]
        _positive("limit", limit)
        if after is not None:
            _batch_id(after)
        with self._session("list", None, write=False) as tx:
            rows = self._list(tx, wanted, after, limit)
        return [loads(doc) for (doc,) in rows]

    # -- what each database spells its own way -----------------------------------------------

    @staticmethod
    def _wire(doc: str) -> dict[str, Any]:
        wire: dict[str, Any] = json.loads(doc)
        return wire

    @abc.abstractmethod
    def _overdue(self, tx: Tx, statuses: tuple[str, ...], now: int) -> builtins.list[str]:
        """The ids of batches in `statuses` whose deadline is at or before `now`, soonest
        first."""

    @abc.abstractmethod
    def _claim(
        self,
        tx: Tx,
        statuses: tuple[str, ...],
        now: int,
        limit: int,
        lease: tuple[str, str, int],
    ) -> builtins.list[tuple[int, str]]:
        """Lease up to `limit` unleased batches in `statuses` as (token, owner, until);
        (version, doc) of each."""

    @abc.abstractmethod
    def _list(
        self, tx: Tx, status: str | None, after: str | None, limit: int
    ) -> builtins.list[Row]:
        """(doc,) of up to `limit` batches by id, after `after`, in `status` if given."""


def filters(status: str | None, after: str | None) -> tuple[str, tuple[object, ...]]:
    """The WHERE clause of `Store.list` and its parameters."""
    clauses, params = [], []
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    if after is not None:
        clauses.append("id > ?")
        params.append(after)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
