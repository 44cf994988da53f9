"""Batches stored in a database, shared by many workers: every change goes through the
`Lifecycle` and is written by compare-and-set on the batch's version, with an audit row.

`SQLiteStore` needs nothing beyond the standard library; `PostgresStore` needs psycopg 3
(``pip install 'batchfsm[postgres]'``), imported when the first one is made. See
docs/scheduler.md.
"""

from ._base import Store
from ._errors import AdoptionError, ConflictError, StoreError, UnknownBatchError
from ._postgres import PostgresStore
from ._records import Change, Claim
from ._schema import SCHEMA_VERSION
from ._sqlite import SQLiteStore

__all__ = [
    "AdoptionError",
    "Change",
    "Claim",
    "ConflictError",
    "PostgresStore",
    "SCHEMA_VERSION",
    "SQLiteStore",
    "Store",
    "StoreError",
    "UnknownBatchError",
]
