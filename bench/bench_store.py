"""Store cost: the store's apply against a hand-written versioned UPDATE; PostgreSQL scaling.

What it measures:

1. apply: µs per ``store.apply(batch_id, "record_progress", completed=1)`` on `SQLiteStore`
   and on `PostgresStore`, against a hand-written versioned update doing the same write on the
   same database, in the store's own tables (so both write the same rows, indexes and all):

   * hand-written (the baseline): read ``version, doc`` of the row; ``json.loads`` it, add 1
     to ``request_counts.completed``, ``json.dumps`` it; then write it back with
     ``UPDATE batchfsm_batches SET version = ?, status = ?, expires_at = ?, doc = ? WHERE id
     = ? AND version = ?`` and append the audit row (version, event, source, dest, at, doc),
     atomically. On SQLite that is ``BEGIN IMMEDIATE`` … ``COMMIT`` around the four
     statements, as the store does; on PostgreSQL the read, then the UPDATE and the INSERT
     in one statement (a CTE), as the store's optimistic try does. No lifecycle rules, no
     validation of the row, no argument checks.
   * batchfsm: the store's apply: the same statements, plus decoding the row into a `Batch`,
     `Lifecycle.fire` (status, guards, counts), encoding it, and the store's checks.

   Both use the same connection settings (SQLite: WAL, ``synchronous=NORMAL``, the store's
   default). Target: batchfsm <= 1.5x hand-written, judged on the paired ratio (the median
   over rounds of the ratio within a round): each round times both, in an order rotated per
   round, moments apart.

2. Scaling: applies per second on PostgreSQL from 1 to 8 worker processes, each applying
   progress for --seconds to batches of its own (so they never collide), after a barrier.
   Shown without a target; the machine's cores bound it (``os.cpu_count()`` is printed).

PostgreSQL: give a server with ``--dsn`` (or ``BATCHFSM_BENCH_POSTGRES_DSN``); the tables go
in a new schema, dropped at the end. Without one, the PostgreSQL parts are SKIPPED. The
server's settings (``fsync``, ``synchronous_commit``) are printed: they decide what a commit
costs. The exit code is 0 regardless of the verdicts.

Run it from the repository root, with batchfsm[postgres] installed::

    python bench/bench_store.py --dsn "host=127.0.0.1 user=me dbname=bench"
    python bench/bench_store.py --quick                    # smoke run, SQLite only
    python bench/bench_store.py --rounds 20 --json results.json
"""

import json
import multiprocessing
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _stats import Cell, bench_parser, fmt_ratio, rotated, verdict, versions, write_report

from batchfsm import Event
from batchfsm.store import PostgresStore, SQLiteStore, Store

DEFAULT_ROUNDS = 15
QUICK_ROUNDS = 3
TARGET_MS = 150.0
QUICK_TARGET_MS = 40.0
RATIO_TARGET = 1.5
SCALING = (1, 2, 4, 8)
DEFAULT_SECONDS = 3.0

BATCHFSM, HAND = "batchfsm", "hand-written"
READ = "SELECT version, {} FROM batchfsm_batches WHERE id = ?"
UPDATE = (
    "UPDATE batchfsm_batches SET version = ?, status = ?, expires_at = ?, doc = ?"
    " WHERE id = ? AND version = ?"
)
INSERT = (
    "INSERT INTO batchfsm_changes (batch_id, version, event, source, dest, at, doc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def progressed(doc: str) -> tuple[str, str, int | None]:
    """The hand-written decision: one more completed request. (text, status, expires_at)."""
    wire = json.loads(doc)
    wire["request_counts"]["completed"] += 1
    return json.dumps(wire, separators=(",", ":")), wire["status"], wire.get("expires_at")


def sqlite_hand(path: str) -> Callable[[str], None]:
    """A versioned update on SQLite, written by hand, with the store's connection settings."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    read = READ.format("doc")

    def apply(batch_id: str) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            version, doc = db.execute(read, (batch_id,)).fetchone()
            text, status, deadline = progressed(doc)
            params = (version + 1, status, deadline, text, batch_id, version)
            if db.execute(UPDATE, params).rowcount != 1:
                raise RuntimeError("lost a race nobody runs")
            now = int(time.time())
            db.execute(
                INSERT, (batch_id, version + 1, "record_progress", status, status, now, text)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    return apply


def postgres_hand(dsn: str) -> Callable[[str], None]:
    """A versioned update on PostgreSQL, written by hand: the read, then one statement."""
    import psycopg

    db = psycopg.connect(dsn, autocommit=True)
    read = READ.format("doc::text").replace("?", "%s")
    write = (
        "WITH moved AS (UPDATE batchfsm_batches"
        " SET version = %s, status = %s, expires_at = %s, doc = %s::jsonb"
        " WHERE id = %s AND version = %s RETURNING id, version, status, doc)"
        " INSERT INTO batchfsm_changes (batch_id, version, event, source, dest, at, doc)"
        " SELECT id, version, %s, status, status, %s, doc FROM moved"
    )

    def apply(batch_id: str) -> None:
        row = db.execute(read, (batch_id,)).fetchone()
        assert row is not None
        version, doc = row
        text, status, deadline = progressed(doc)
        params = (version + 1, status, deadline, text, batch_id, version)
        if db.execute(write, (*params, "record_progress", int(time.time()))).rowcount != 1:
            raise RuntimeError("lost a race nobody runs")

    return apply


def started(store: Store) -> str:
    """A stored batch in progress with room for any number of completed requests."""
    batch = store.create(input_file_id="file-bench", endpoint="/v1/chat/completions")
    store.apply(batch.id, Event.START, total=2**62)
    return batch.id


def store_apply(store: Store) -> Callable[[str], None]:
    def apply(batch_id: str) -> None:
        store.apply(batch_id, Event.RECORD_PROGRESS, completed=1)

    return apply


def timed(apply: Callable[[str], None], batch_id: str, n: int) -> float:
    """µs per call over `n` calls."""
    began = time.perf_counter()
    for _ in range(n):
        apply(batch_id)
    return (time.perf_counter() - began) / n * 1e6


def compare(
    store: Store, hand: Callable[[str], None], rounds: int, target_ms: float
) -> dict[str, Any]:
    """Interleaved rounds of the store's apply and the hand-written one, each on a batch of
    its own; the cells and the paired ratio."""
    impls = {BATCHFSM: store_apply(store), HAND: hand}
    batches = {name: started(store) for name in impls}
    for name, apply in impls.items():  # warm up: connections, prepared statements, caches
        timed(apply, batches[name], 20)
    probe = statistics.median(timed(apply, batches[n], 20) for n, apply in impls.items())
    n = max(10, int(target_ms * 1000 / probe))
    cells = {name: Cell(n) for name in impls}
    ratios = []
    for round_ in range(rounds):
        took = {}
        for name in rotated(list(impls), round_):
            took[name] = timed(impls[name], batches[name], n)
            cells[name].samples_us.append(took[name])
        ratios.append(took[BATCHFSM] / took[HAND])
    ratio = statistics.median(ratios)
    for name, cell in cells.items():
        per_second = 1e6 / cell.median_us
        print(
            f"  {name:<13} {cell.median_us:8.1f} µs/apply  {per_second:8.0f}/s"
            f"  (spread {cell.spread:.0%}, {n} per round)"
        )
    print(f"  ratio         {fmt_ratio(ratio)}  target <= {RATIO_TARGET}x: ", end="")
    print(verdict(ratio, RATIO_TARGET))
    return {
        "per_round": n,
        "median_us": {name: cell.median_us for name, cell in cells.items()},
        "spread": {name: cell.spread for name, cell in cells.items()},
        "ratio": ratio,
        "met": ratio <= RATIO_TARGET,
    }


def _scaling_worker(dsn: str, seconds: float, barrier: Any, results: Any) -> None:
    store = PostgresStore(dsn)
    batch_ids = [started(store) for _ in range(4)]
    apply = store_apply(store)
    barrier.wait()
    done, ends = 0, time.perf_counter() + seconds
    while time.perf_counter() < ends:
        apply(batch_ids[done % len(batch_ids)])
        done += 1
    results.put(done)
    store.close()


def scaling(dsn: str, seconds: float, counts: Sequence[int]) -> dict[int, float]:
    """Applies per second on PostgreSQL with each number of worker processes."""
    context = multiprocessing.get_context("spawn")
    found = {}
    for workers in counts:
        barrier = context.Barrier(workers)
        results = context.Queue()
        processes = [
            context.Process(target=_scaling_worker, args=(dsn, seconds, barrier, results))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        total = sum(results.get(timeout=seconds + 120) for _ in processes)
        for process in processes:
            process.join()
        found[workers] = total / seconds
        speedup = found[workers] / found[counts[0]]
        noun = "processes" if workers > 1 else "process  "
        print(f"  {workers} {noun}  {found[workers]:8.0f}/s  x{speedup:.2f}")
    return found


@contextmanager
def postgres_schema(dsn: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A DSN whose search_path is a new schema (dropped at the end), and the server's
    settings that decide what a commit costs."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = "bench_" + secrets.token_hex(4)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
        settings = {
            key: str(admin.execute(f"SHOW {key}").fetchone()[0])  # type: ignore[index]
            for key in ("server_version", "fsync", "synchronous_commit")
        }
    try:
        yield make_conninfo(dsn, options=f"-c search_path={name}"), settings
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser(__doc__, DEFAULT_ROUNDS, "few rounds, SQLite only without --dsn")
    parser.add_argument("--dsn", default=os.environ.get("BATCHFSM_BENCH_POSTGRES_DSN"))
    parser.add_argument(
        "--seconds", type=float, help=f"per scaling step (default {DEFAULT_SECONDS})"
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    target_ms = QUICK_TARGET_MS if args.quick else TARGET_MS
    seconds = args.seconds or (1.0 if args.quick else DEFAULT_SECONDS)
    found_versions = versions("batchfsm", "psycopg")
    print(
        " ".join(f"{k} {v}" for k, v in found_versions.items()), f"sqlite {sqlite3.sqlite_version}"
    )
    print(f"cpus {os.cpu_count()}, {rounds} rounds")
    report: dict[str, Any] = {"versions": found_versions, "rounds": rounds}

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        print("\nSQLite (WAL, synchronous=NORMAL), one process:")
        with SQLiteStore(path) as store:
            report["sqlite"] = compare(store, sqlite_hand(path), rounds, target_ms)

    if not args.dsn:
        print("\nPostgreSQL: SKIPPED (no --dsn or BATCHFSM_BENCH_POSTGRES_DSN)")
    else:
        with postgres_schema(args.dsn) as (dsn, settings):
            shown = ", ".join(f"{k} {v}" for k, v in settings.items())
            print(f"\nPostgreSQL ({shown}), one process:")
            with PostgresStore(dsn) as store:
                report["postgres"] = compare(store, postgres_hand(dsn), rounds, target_ms)
            report["postgres"]["settings"] = settings
            print(f"\nPostgreSQL, worker processes applying for {seconds:g} s each:")
            report["scaling"] = scaling(dsn, seconds, SCALING)
    if args.json is not None:
        write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
