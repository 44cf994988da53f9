"""The store on PostgreSQL (psycopg 3): for workers on many machines.

`apply` reads without a lock and writes with one statement, ``UPDATE … WHERE version = ?``
and the audit row's INSERT: a writer that lost the race decides again on what the winner
stored, and its last try reads ``FOR UPDATE`` in a transaction, so it cannot lose again.
`claim` leases rows ``FOR UPDATE SKIP LOCKED``: two workers claiming at once take different
batches and never wait for each other.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from batchfsm._engine import Lifecycle
from batchfsm._errors import ArgumentError
from batchfsm._profile import Profile

from ._base import Queries, Row, Store, Tx, filters
from ._errors import StoreError
from ._schema import POSTGRES, ensure

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

# Serializes the first uses of one database, which would otherwise race to create tables.
_SCHEMA_LOCK = 0x62617463_68667331  # "batchfs1"

_COLUMNS = "SELECT {} FROM batchfsm_batches WHERE id = ?"

_QUERIES = Queries(
    read=_COLUMNS.format("version, doc::text"),
    read_locked=_COLUMNS.format("version, doc::text") + " FOR UPDATE",
    insert_batch="INSERT INTO batchfsm_batches (id, version, status, expires_at, doc)"
    " VALUES (?, 1, ?, ?, ?::jsonb) ON CONFLICT (id) DO NOTHING",
    insert_change="INSERT INTO batchfsm_changes (batch_id, version, event, source, dest, at, doc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?::jsonb)",
    version=_COLUMNS.format("version"),
    get=_COLUMNS.format("doc::text"),
    history="SELECT doc::text FROM batchfsm_changes WHERE batch_id = ? ORDER BY version",
    changes="SELECT version, event, source, dest, at FROM batchfsm_changes"
    " WHERE batch_id = ? ORDER BY version",
    renew="UPDATE batchfsm_batches SET lease_until = ? WHERE id = ? AND lease_token = ?",
    release="UPDATE batchfsm_batches SET lease_token = NULL, lease_until = ?"
    " WHERE id = ? AND lease_token = ?",
)


def _driver() -> Any:
    """psycopg, or the ImportError that says how to install it."""
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            "PostgresStore needs psycopg 3: pip install 'batchfsm[postgres]'"
        ) from exc
    return psycopg


@functools.lru_cache(maxsize=256)
def _spelled(sql: str) -> str:
    """`sql` with psycopg's placeholders (the store writes ``?``, as sqlite3 does)."""
    return sql.replace("?", "%s")


class _Tx:
    """Statements on one psycopg connection."""

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        return self._connection.execute(_spelled(sql), params).fetchone()

    def all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return self._connection.execute(_spelled(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        return self._connection.execute(_spelled(sql), params).rowcount


class PostgresStore(Store):
    """A `Store` in a PostgreSQL database (psycopg 3, ``pip install 'batchfsm[postgres]'``),
    for workers in any number of processes and machines.

    The wire JSON is kept as JSONB: the same keys and values, in JSONB's order. Each thread
    and each process opens its own connection on first use; none is used across ``fork``.

    Args:
        dsn: A libpq connection string or URI (``postgresql://user@host/db``). The tables
            are created, on first use, in the first schema of the ``search_path``.
        lifecycle: See `Store`.
        clock: See `Store`.
        profile: See `Store`.
        connect_timeout: Seconds to wait for the server when connecting.

    Raises:
        ImportError: when psycopg is not installed.
        ArgumentError: for a bad dsn or setting.
        StoreError: when the server cannot be reached, or the database holds a newer
            schema.
    """

    _sql = _QUERIES
    _attempts = 3

    def __init__(
        self,
        dsn: str,
        *,
        lifecycle: Lifecycle | None = None,
        clock: Callable[[], int | float] | None = None,
        profile: Profile | str | None = None,
        connect_timeout: int = 10,
    ) -> None:
        self._psycopg = _driver()
        if type(dsn) is not str:
            raise ArgumentError("dsn", f"expected a connection string, got {type(dsn).__name__}")
        if type(connect_timeout) is not int or connect_timeout < 1:
            raise ArgumentError("connect_timeout", f"expected seconds, got {connect_timeout!r}")
        super().__init__(lifecycle=lifecycle, clock=clock, profile=profile)
        self._dsn = dsn
        self._connect_timeout = connect_timeout
        self._error: type[Exception] = self._psycopg.Error
        try:
            with self._session("open", None, write=True) as tx:
                tx.one("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                ensure(tx, POSTGRES, "SELECT to_regclass('batchfsm_schema') IS NOT NULL")
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return "PostgresStore(...)"  # the dsn may hold a password

    def _connect(self) -> psycopg.Connection[Row]:
        connection: psycopg.Connection[Row] = self._psycopg.connect(
            self._dsn, autocommit=True, connect_timeout=self._connect_timeout
        )
        return connection

    def _close_connection(self, connection: Any) -> None:
        with contextlib.suppress(Exception):
            connection.close()

    @contextlib.contextmanager
    def _session(self, operation: str, batch_id: str | None, *, write: bool) -> Iterator[Tx]:
        connection: psycopg.Connection[Row] | None = None
        try:
            connection = self._connection(operation, batch_id)
            if write:
                with connection.transaction():
                    yield _Tx(connection)
            else:
                yield _Tx(connection)
        except self._error as exc:
            if connection is not None and (
                connection.closed or getattr(connection, "broken", False)
            ):
                self._forget(connection)
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(operation, batch_id, reason) from exc

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
        # One statement: atomic on its own, so the optimistic tries need no transaction.
        return (
            tx.run(
                "WITH moved AS (UPDATE batchfsm_batches"
                " SET version = ?, status = ?, expires_at = ?, doc = ?::jsonb"
                " WHERE id = ? AND version = ? RETURNING id, version, status, doc)"
                " INSERT INTO batchfsm_changes (batch_id, version, event, source, dest, at, doc)"
                " SELECT id, version, ?, ?, status, ?, doc FROM moved",
                (version + 1, status, deadline, doc, batch_id, version, *change),
            )
            == 1
        )

    def _overdue(self, tx: Tx, statuses: tuple[str, ...], now: int) -> list[str]:
        rows = tx.all(
            "SELECT id FROM batchfsm_batches WHERE status = ANY(?) AND expires_at <= ?"
            " ORDER BY expires_at, id",
            (list(statuses), now),
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
        # SKIP LOCKED: a row another claim (or an apply) holds is passed over, not waited for;
        # the lease check is made again on the row as it is once locked.
        rows = tx.all(
            "WITH picked AS (SELECT id FROM batchfsm_batches WHERE status = ANY(?)"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY lease_until NULLS FIRST, id LIMIT ? FOR UPDATE SKIP LOCKED)"
            " UPDATE batchfsm_batches AS b SET lease_token = ?, lease_owner = ?, lease_until = ?"
            " FROM picked WHERE b.id = picked.id RETURNING b.id, b.version, b.doc::text",
            (list(statuses), now, limit, *lease),
        )
        return [(int(version), doc) for _, version, doc in sorted(rows)]

    def _list(self, tx: Tx, status: str | None, after: str | None, limit: int) -> list[Row]:
        where, params = filters(status, after)
        return tx.all(
            f"SELECT doc::text FROM batchfsm_batches{where} ORDER BY id LIMIT ?",
            (*params, limit),
        )
