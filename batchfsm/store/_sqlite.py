"""The store on SQLite: one database file, shared by the threads and processes of a machine.

Every write runs in ``BEGIN IMMEDIATE``, which takes the database's one write lock before it
reads: the batch a change is decided on is the one it replaces. WAL lets readers go on
meanwhile. A writer that finds the lock taken waits up to the busy timeout.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from batchfsm._engine import Lifecycle
from batchfsm._errors import ArgumentError
from batchfsm._profile import Profile

from ._base import Queries, Row, Store, Tx, filters
from ._errors import StoreError
from ._schema import SQLITE, ensure

__all__ = ["SQLiteStore"]

_COLUMNS = "SELECT {} FROM batchfsm_batches WHERE id = ?"

_QUERIES = Queries(
    read=_COLUMNS.format("version, doc"),
    read_locked=_COLUMNS.format("version, doc"),  # BEGIN IMMEDIATE holds the database
    insert_batch="INSERT INTO batchfsm_batches (id, version, status, expires_at, doc)"
    " VALUES (?, 1, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    insert_change="INSERT INTO batchfsm_changes (batch_id, version, event, source, dest, at, doc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
    version=_COLUMNS.format("version"),
    get=_COLUMNS.format("doc"),
    history="SELECT doc FROM batchfsm_changes WHERE batch_id = ? ORDER BY version",
    changes="SELECT version, event, source, dest, at FROM batchfsm_changes"
    " WHERE batch_id = ? ORDER BY version",
    renew="UPDATE batchfsm_batches SET lease_until = ? WHERE id = ? AND lease_token = ?",
    release="UPDATE batchfsm_batches SET lease_token = NULL, lease_until = ?"
    " WHERE id = ? AND lease_token = ?",
)


# Ids per UPDATE: older SQLite builds allow 999 parameters to a statement.
_CHUNK = 500


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


class _Session:
    """One call's statements on its thread's connection: with `write`, one transaction
    (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if the block raises). sqlite3's errors
    become `StoreError`. A class rather than a generator: it runs on every call."""

    __slots__ = ("_batch_id", "_connection", "_operation", "_store", "_write")

    def __init__(
        self, store: SQLiteStore, operation: str, batch_id: str | None, write: bool
    ) -> None:
        self._store = store
        self._operation = operation
        self._batch_id = batch_id
        self._write = write
        self._connection: sqlite3.Connection | None = None

    def __enter__(self) -> _Session:
        try:
            connection = self._store._connection(self._operation, self._batch_id)
            if self._write:
                connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        self._connection = connection
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: object
    ) -> None:
        connection = self._connection
        assert connection is not None
        if kind is None:
            if not self._write:
                return
            try:
                connection.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        self._store._rollback(connection)
        if isinstance(exc, sqlite3.Error):
            raise self._failed(exc) from exc

    def _failed(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(self._operation, self._batch_id, str(exc))

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        assert self._connection is not None
        row: Row | None = self._connection.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        assert self._connection is not None
        return self._connection.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        assert self._connection is not None
        return self._connection.execute(sql, params).rowcount


class SQLiteStore(Store):
    """A `Store` in one SQLite file (stdlib ``sqlite3``, WAL): the embedded default, for
    any number of threads and processes on one machine.

    Each thread and each process opens its own connection on first use; none is used
    across ``fork``. The file must be on a local disk (WAL needs shared memory).

    Args:
        path: The database file; created, with its tables, on first use.
        lifecycle: See `Store`.
        clock: See `Store`.
        profile: See `Store`.
        busy_timeout: Seconds a write waits for another's to finish before it fails with
            `StoreError` (``database is locked``).
        synchronous: SQLite's ``synchronous`` setting. ``NORMAL`` (default): a commit
            survives the process crashing, and the database stays whole on power loss, but
            a power loss may undo the last commits. ``FULL``: every commit is on disk when
            `apply` returns, at an fsync per commit (a few ms each on many disks).

    Raises:
        ArgumentError: for a path that is not a file (``:memory:`` would be one database
            per connection), or a bad setting.
        StoreError: when the file cannot be opened as a database, or holds a newer schema.
    """

    _sql = _QUERIES

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lifecycle: Lifecycle | None = None,
        clock: Callable[[], int | float] | None = None,
        profile: Profile | str | None = None,
        busy_timeout: float = 10.0,
        synchronous: str = "NORMAL",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)) or os.fspath(path) in ("", ":memory:"):
            raise ArgumentError("path", f"expected the path of a database file, got {path!r}")
        if type(busy_timeout) not in (int, float) or not 0 <= busy_timeout < 2**31 / 1000:
            raise ArgumentError("busy_timeout", f"expected seconds, got {busy_timeout!r}")
        if synchronous not in ("FULL", "NORMAL"):
            raise ArgumentError("synchronous", f"expected 'FULL' or 'NORMAL', got {synchronous!r}")
        super().__init__(lifecycle=lifecycle, clock=clock, profile=profile)
        self.path: str = os.fspath(path)
        self._busy_timeout = float(busy_timeout)
        self._synchronous = synchronous
        try:
            with self._session("open", None, write=False) as tx:
                tx.one("PRAGMA journal_mode = WAL")
            with self._session("open", None, write=True) as tx:
                exists = "SELECT count(*) FROM sqlite_master WHERE name = 'batchfsm_schema'"
                ensure(tx, SQLITE, exists)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: the store issues BEGIN and COMMIT itself.
        # check_same_thread=False: only `close` touches another thread's connection.
        connection = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def _close_connection(self, connection: Any) -> None:
        with contextlib.suppress(sqlite3.Error):
            connection.close()

    def _session(self, operation: str, batch_id: str | None, *, write: bool) -> _Session:
        return _Session(self, operation, batch_id, write)

    def _rollback(self, connection: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            self._forget(connection)

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
        moved = tx.run(
            "UPDATE batchfsm_batches SET version = ?, status = ?, expires_at = ?, doc = ?"
            " WHERE id = ? AND version = ?",
            (version + 1, status, deadline, doc, batch_id, version),
        )
        if moved != 1:
            return False
        event, source, moment = change
        tx.run(self._sql.insert_change, (batch_id, version + 1, event, source, status, moment, doc))
        return True

    def _overdue(self, tx: Tx, statuses: tuple[str, ...], now: int) -> list[str]:
        rows = tx.all(
            f"SELECT id FROM batchfsm_batches WHERE status IN ({_marks(statuses)})"
            " AND expires_at <= ? ORDER BY expires_at, id",
            (*statuses, now),
        )
        return [batch_id for (batch_id,) in rows]

    def _claim(
        self,
        tx: Tx,
        statuses: tuple[str, ...],
        now: int,
        limit: int,
        lease: tuple[str, str, int],
    ) -> list[tuple[int, str]]:
        # BEGIN IMMEDIATE holds the write lock: no other claim reads between these two.
        rows = tx.all(
            f"SELECT id, version, doc FROM batchfsm_batches WHERE status IN ({_marks(statuses)})"
            " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY lease_until, id LIMIT ?",
            (*statuses, now, limit),
        )
        ids = [row[0] for row in rows]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            tx.run(
                "UPDATE batchfsm_batches SET lease_token = ?, lease_owner = ?, lease_until = ?"
                f" WHERE id IN ({_marks(chunk)})",
                (*lease, *chunk),
            )
        return [(int(version), doc) for _, version, doc in rows]

    def _list(self, tx: Tx, status: str | None, after: str | None, limit: int) -> list[Row]:
        where, params = filters(status, after)
        return tx.all(
            f"SELECT doc FROM batchfsm_batches{where} ORDER BY id LIMIT ?", (*params, limit)
        )
