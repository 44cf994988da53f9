"""The worker processes of the store's race and crash tests.

They are spawned (never forked), so they live in a module the child imports by name, and
they report through the queue and shared memory they are given.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchfsm import Status, TransitionError
from batchfsm.store import Claim, ConflictError, PostgresStore, SQLiteStore, Store

#: How the race's random events are weighted.
WEIGHTS: dict[str, int] = {
    "progress": 30,
    "versioned": 10,
    "cancel": 5,
    "finalize": 12,
    "complete": 10,
    "expire": 8,
    "finish_cancel": 5,
    "claim": 20,
}
#: The statuses most claims are for.
FINISHING = (Status.FINALIZING, Status.CANCELLING)
#: The share of events aimed at the first `HOT` batches, so that writers collide.
HOT, HOT_SHARE = 16, 0.3


def open_store(kind: str, where: str) -> Store:
    """The store of `kind` (``sqlite`` or ``postgres``) at `where` (a path or a DSN)."""
    if kind == "sqlite":
        return SQLiteStore(where)
    return PostgresStore(where)


class _Thread:
    """One thread's share of the race: its random events, and what was accepted."""

    def __init__(self, store: Store, ids: list[str], seed: int, wid: int, holders: Any) -> None:
        self.store = store
        self.ids = ids
        self.index = {batch_id: i for i, batch_id in enumerate(ids)}
        self.rng = random.Random(seed)
        self.wid = wid
        self.holders = holders
        self.progress: dict[str, list[int]] = {}
        self.outcomes: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.overlaps = 0
        self.claimed = 0

    def pick(self) -> str:
        if self.rng.random() < HOT_SHARE:
            return self.ids[self.rng.randrange(HOT)]
        return self.rng.choice(self.ids)

    def run(self, ops: int, sweeper: bool) -> None:
        """Fire `ops` random events; a sweeper sweeps once, late, amid the others."""
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        for n in range(ops):
            kind = "sweep" if sweeper and n == ops * 3 // 4 else self.rng.choices(kinds, weights)[0]
            try:
                getattr(self, "do_" + kind)()
            except TransitionError:
                self.outcomes[kind + ":refused"] += 1
            except ConflictError:
                self.outcomes[kind + ":conflict"] += 1
            except Exception:
                self.unexpected.append(traceback.format_exc())
            else:
                self.outcomes[kind] += 1

    def _progress(
        self, batch_id: str, if_version: int | None, delta: tuple[int, int] | None = None
    ) -> None:
        if delta is None:
            delta = (self.rng.randint(0, 2), int(self.rng.random() < 0.2))
        completed, failed = delta
        self.store.apply(
            batch_id, "record_progress", completed=completed, failed=failed, if_version=if_version
        )
        tally = self.progress.setdefault(batch_id, [0, 0])
        tally[0] += completed
        tally[1] += failed

    def do_progress(self) -> None:
        self._progress(self.pick(), None)

    def do_versioned(self) -> None:
        batch_id = self.pick()
        version = self.store.version(batch_id)
        time.sleep(0.005)  # deciding takes a while: others may write meanwhile
        self._progress(batch_id, version)

    def do_cancel(self) -> None:
        self.store.apply(self.pick(), "cancel")

    def do_finalize(self) -> None:
        """The last results came in: count what is missing, then finalize."""
        batch_id = self.pick()
        counts = self.store.get(batch_id).request_counts
        if counts is not None and counts.completed + counts.failed < counts.total:
            self._progress(batch_id, None, (counts.total - counts.completed - counts.failed, 0))
        self.store.apply(batch_id, "finalize")

    def do_complete(self) -> None:
        self.store.apply(
            self.pick(), "complete", output_file_id="file-out", error_file_id="file-err"
        )

    def do_expire(self) -> None:
        # Every fourth batch is overdue (the race sets them up so): aim at those.
        self.store.apply(self.rng.choice(self.ids[::4]), "expire")

    def do_finish_cancel(self) -> None:
        self.store.apply(self.pick(), "finish_cancel")

    def do_sweep(self) -> None:
        sweep = self.store.expire_overdue()
        if sweep.failed:
            raise AssertionError(f"the sweep failed: {sweep.failed!r}")

    def do_claim(self) -> None:
        # Mostly from the few batches finishing (finalizing or cancelling), where claimants
        # outnumber the batches: a lease handed out twice would show there.
        statuses = None if self.rng.random() < 0.25 else FINISHING
        claims = self.store.claim(
            4, lease_seconds=120, statuses=statuses, owner=f"worker-{self.wid}"
        )
        self.claimed += len(claims)
        try:
            for claim in claims:
                self._hold(claim, True)
            for claim in claims:
                try:
                    self._progress(claim.batch.id, claim.version)
                except TransitionError:
                    pass
                except ConflictError:
                    self.outcomes["claim:conflict"] += 1
            time.sleep(0.002)  # a poll takes a while: the leases overlap in time
        finally:
            for claim in claims:
                self._hold(claim, False)
                self.store.release(claim)

    def _hold(self, claim: Claim, holding: bool) -> None:
        """Mark the batch held by this worker (counting an overlap if another holds it), or
        unmark it: inside the lease, so a lease handed out twice shows as an overlap."""
        index = self.index[claim.batch.id]
        with self.holders.get_lock():
            if holding:
                if self.holders[index] != 0:
                    self.overlaps += 1
                self.holders[index] = self.wid
            elif self.holders[index] == self.wid:
                self.holders[index] = 0


def race_worker(
    kind: str,
    where: str,
    ids: list[str],
    seed: int,
    ops: int,
    threads: int,
    barrier: Any,
    holders: Any,
    results: Any,
) -> None:
    """One process of the race: `threads` threads firing `ops` random events each at the
    batches `ids` through one store; puts what they did on `results`."""
    store = open_store(kind, where)
    workers = [
        _Thread(store, ids, seed * 1000 + n, seed * threads + n + 1, holders)
        for n in range(threads)
    ]
    barrier.wait()  # every process is up: the race starts at once
    running = [
        threading.Thread(target=worker.run, args=(ops, n == 0)) for n, worker in enumerate(workers)
    ]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    store.close()
    progress: dict[str, list[int]] = {}
    outcomes: Counter[str] = Counter()
    for worker in workers:
        outcomes.update(worker.outcomes)
        for batch_id, (completed, failed) in worker.progress.items():
            tally = progress.setdefault(batch_id, [0, 0])
            tally[0] += completed
            tally[1] += failed
    results.put(
        {
            "progress": progress,
            "outcomes": dict(outcomes),
            "unexpected": [text for worker in workers for text in worker.unexpected],
            "overlaps": sum(worker.overlaps for worker in workers),
            "claimed": sum(worker.claimed for worker in workers),
        }
    )


def _signal(path: str) -> Callable[[], None]:
    def pause() -> None:
        Path(path).write_text("written")
        time.sleep(120)  # killed long before

    return pause


def stopped_mid_apply(kind: str, where: str, batch_id: str, signal: str, attempts: int) -> None:
    """Apply one progress, stopping for good once it is written and before it commits
    (the parent kills the process there); `attempts` 1 makes PostgreSQL write inside a
    transaction, as its last try does."""
    store = open_store(kind, where)
    store._after_write = _signal(signal)
    store._attempts = attempts
    store.apply(batch_id, "record_progress", completed=1)


def churn(kind: str, where: str, ids: list[str], signal: str) -> None:
    """Apply progress of one to `ids`, round and round, until killed."""
    store = open_store(kind, where)
    Path(signal).write_text("running")
    while True:
        for batch_id in ids:
            store.apply(batch_id, "record_progress", completed=1)
