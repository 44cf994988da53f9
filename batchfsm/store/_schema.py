"""The store's tables, in each database's spelling, and the version of their layout.

A database records the layout it holds in ``batchfsm_schema``; a store creates the tables on
first use and refuses a database whose layout is newer than it reads. A later layout adds
its steps to `MIGRATIONS`, run in order on an older database.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._base import Tx
from ._errors import StoreError

__all__ = ["MIGRATIONS", "POSTGRES", "SCHEMA_VERSION", "SQLITE", "ensure"]

SCHEMA_VERSION = 1
"""The layout of the tables this version of batchfsm writes and reads; a store refuses a
database of a newer layout (`StoreError`)."""

# One row per batch: the wire JSON is the record; status, expires_at and the lease are
# copies of it kept as columns so that queries can find open, overdue and unleased batches.
# One audit row per version, with the wire JSON after the change: the batch's history.
_TABLES = """
CREATE TABLE batchfsm_batches (
    id TEXT {id} PRIMARY KEY,
    version {int} NOT NULL,
    status TEXT NOT NULL,
    expires_at {int},
    lease_token TEXT,
    lease_owner TEXT,
    lease_until {int},
    doc {json} NOT NULL
);
CREATE INDEX batchfsm_batches_status ON batchfsm_batches (status, id);
CREATE INDEX batchfsm_batches_expires_at ON batchfsm_batches (expires_at);
CREATE INDEX batchfsm_batches_lease ON batchfsm_batches (status, lease_until);
CREATE TABLE batchfsm_changes (
    batch_id TEXT {id} NOT NULL REFERENCES batchfsm_batches (id),
    version {int} NOT NULL,
    event TEXT NOT NULL,
    source TEXT,
    dest TEXT NOT NULL,
    at {int} NOT NULL,
    doc {json} NOT NULL,
    PRIMARY KEY (batch_id, version)
);
CREATE TABLE batchfsm_schema (version INTEGER NOT NULL)
"""


def _statements(script: str) -> tuple[str, ...]:
    return tuple(" ".join(part.split()) for part in script.split(";"))


#: The tables on SQLite: ids compare bytewise, JSON is text.
SQLITE = _statements(_TABLES.format(id="", int="INTEGER", json="TEXT"))
#: The tables on PostgreSQL: ids compare bytewise (as on SQLite), JSON is JSONB.
POSTGRES = _statements(_TABLES.format(id='COLLATE "C"', int="BIGINT", json="JSONB"))

#: For each layout after the first, the statements that bring the one before it up to it.
MIGRATIONS: dict[int, tuple[str, ...]] = {}


def ensure(tx: Tx, tables: Sequence[str], exists: str) -> None:
    """Create the tables, or bring an older layout up to `SCHEMA_VERSION`, inside the
    caller's write transaction (which keeps two first uses from racing).

    Args:
        tables: The dialect's CREATE statements.
        exists: A query whose one value is true when ``batchfsm_schema`` exists.

    Raises:
        StoreError: for a layout newer than this batchfsm reads.
    """
    row = tx.one(exists)
    if row is None or not row[0]:
        for statement in tables:
            tx.run(statement)
        tx.run("INSERT INTO batchfsm_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        return
    found = tx.one("SELECT max(version) FROM batchfsm_schema")
    if found is None or found[0] is None:
        raise StoreError("open", None, "the table batchfsm_schema is empty: not a store's")
    version = int(found[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            "open",
            None,
            f"the database holds store schema {version!r}; this batchfsm reads up to"
            f" {SCHEMA_VERSION!r}: upgrade batchfsm",
        )
    for step in range(version + 1, SCHEMA_VERSION + 1):  # pragma: no cover - none yet
        for statement in MIGRATIONS[step]:
            tx.run(statement)
        tx.run("UPDATE batchfsm_schema SET version = ?", (step,))
