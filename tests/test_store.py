"""The store: changes by compare-and-set only, an audit row per version, exclusive leases, and
no lost or half-written update across threads, processes and kill -9, on SQLite and PostgreSQL.

Every test that takes ``target`` runs on both stores. The PostgreSQL ones need a server:
CI's (``BATCHFSM_TEST_POSTGRES_DSN``), else one started here (tests/helpers/postgres.py).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import batchfsm
from batchfsm import (
    ArgumentError,
    Batch,
    BatchfsmError,
    Event,
    GuardError,
    HookError,
    IllegalTransition,
    Lifecycle,
    Status,
    check_history,
    validate,
)
from batchfsm.store import (
    SCHEMA_VERSION,
    AdoptionError,
    Change,
    Claim,
    ConflictError,
    PostgresStore,
    SQLiteStore,
    Store,
    StoreError,
    UnknownBatchError,
)
from batchfsm.testing import ManualClock

from helpers import postgres, store_workers

T0 = 1_700_000_000
SPAWN = multiprocessing.get_context("spawn")


@attrs.frozen
class Target:
    """Where a test's store lives: ``sqlite`` and a file, or ``postgres`` and a DSN whose
    search_path is a schema of the test's own."""

    kind: str
    where: str

    def open(self, **options: Any) -> Store:
        if self.kind == "sqlite":
            return SQLiteStore(self.where, **options)
        return PostgresStore(self.where, **options)

    def rows(self) -> dict[str, tuple[int, str, int | None, str]]:
        """Each stored row as the database holds it: (version, status, expires_at, doc)."""
        query = "SELECT id, version, status, expires_at, {} FROM batchfsm_batches"
        if self.kind == "sqlite":
            with sqlite3.connect(self.where) as db:
                found = db.execute(query.format("doc")).fetchall()
        else:
            import psycopg

            with psycopg.connect(self.where) as db:
                found = db.execute(query.format("doc::text")).fetchall()
        return {row[0]: tuple(row[1:]) for row in found}


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    yield from postgres.postgres_dsn()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield Target("sqlite", str(tmp_path / "batches.sqlite3"))
        return
    with postgres.schema(request.getfixturevalue("postgres_dsn")) as dsn:
        yield Target("postgres", dsn)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store(target: Target, clock: ManualClock) -> Iterator[Store]:
    opened = target.open(clock=clock)
    yield opened
    opened.close()


def due_in(seconds: int) -> dict[str, Any]:
    """create's arguments for a 24h batch due `seconds` after T0 (OpenAI has no shorter
    window)."""
    return {"now": T0 + seconds - 86_400}


def running(store: Store, total: int = 10, **create: Any) -> Batch:
    """A stored batch, started with `total` requests."""
    batch = store.create(input_file_id="file-in", endpoint="/v1/chat/completions", **create)
    return store.apply(batch.id, Event.START, total=total)


def counts(batch: Batch) -> tuple[int, int]:
    """The batch's completed and failed counts."""
    assert batch.request_counts is not None
    return batch.request_counts.completed, batch.request_counts.failed


def check_whole(store: Store, target: Target) -> None:
    """Every stored batch is whole: its row validates and agrees with its columns and with
    its last audit row; its versions run 1, 2, 3 … one per audit row; its history passes
    check_history, each change following from the one before."""
    for batch_id, (version, status, deadline, doc) in target.rows().items():
        wire = json.loads(doc)
        assert validate(doc).ok, validate(doc).violations
        assert (status, deadline) == (wire["status"], wire.get("expires_at"))
        history = store.history(batch_id)
        changes = store.events(batch_id)
        assert [change.version for change in changes] == list(range(1, version + 1))
        assert len(history) == version
        assert history[-1] == wire
        report = check_history(history)
        assert report.ok, report.violations
        for before, after in itertools.pairwise(changes):
            assert after.source is before.dest


class TestErrors:
    """Each store error is a BatchfsmError with at most one builtin base, structured fields,
    a message built from them, and pickles whole."""

    @pytest.mark.parametrize(
        ("error", "builtin", "fields", "message"),
        [
            (
                ConflictError("batch_1", 3, 4),
                None,
                {"batch_id": "batch_1", "expected": 3, "actual": 4},
                "batch 'batch_1' is at version 4, not 3",
            ),
            (
                ConflictError("batch_1", 0, 2),
                None,
                {"batch_id": "batch_1", "expected": 0, "actual": 2},
                "batch 'batch_1' is already stored, at version 2",
            ),
            (
                UnknownBatchError("batch_x"),
                LookupError,
                {"batch_id": "batch_x"},
                "no batch 'batch_x' in the store",
            ),
            (
                StoreError("apply", "batch_1", "database is locked"),
                None,
                {"operation": "apply", "batch_id": "batch_1", "reason": "database is locked"},
                "'apply' of batch 'batch_1' failed: database is locked",
            ),
            (
                StoreError("claim", None, "server closed the connection"),
                None,
                {"operation": "claim", "batch_id": None},
                "'claim' failed: server closed the connection",
            ),
        ],
        ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
    )
    def test_fields_message_and_pickling(
        self, error: BatchfsmError, builtin: type | None, fields: dict[str, Any], message: str
    ) -> None:
        """Fields, message and a pickle round trip that keeps both."""
        builtins = {
            base
            for base in type(error).__mro__
            if base.__module__ == "builtins" and base not in (Exception, BaseException, object)
        }
        assert builtins == (set() if builtin is None else {builtin})
        assert str(error) == message
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == message
        for name, value in fields.items():
            assert getattr(error, name) == getattr(copy, name) == value

    def test_adoption_error_carries_the_report(self) -> None:
        """AdoptionError is a ValueError whose report says every problem; it pickles."""
        report = validate(b'{"id": "batch_1", "status": "bogus"}')
        error = AdoptionError(report)
        assert isinstance(error, ValueError)
        assert error.batch_id == "batch_1"
        assert error.report is report
        assert not report.ok
        assert str(error).startswith(f"cannot adopt 'batch_1': {len(report.errors)} problems: ")
        copy = pickle.loads(pickle.dumps(error))
        assert str(copy) == str(error)
        assert copy.report.violations == report.violations


class TestSurface:
    """batchfsm.store's names are sorted, documented, and need neither psycopg nor the
    store to import batchfsm."""

    def test_all_is_sorted_and_documented(self) -> None:
        """__all__ is sorted; every name exists and documents itself."""
        import batchfsm.store as module

        assert list(module.__all__) == sorted(module.__all__)
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value):
                assert value.__doc__, name

    def test_imports_without_psycopg(self) -> None:
        """`import batchfsm` imports no store; `import batchfsm.store` imports no psycopg,
        and PostgresStore says how to install it."""
        code = (
            "import sys; sys.modules['psycopg'] = None\n"
            "import batchfsm; assert 'batchfsm.store' not in sys.modules\n"
            "from batchfsm.store import PostgresStore\n"
            "try: PostgresStore('dbname=x')\n"
            "except ImportError as e: print(e)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "pip install 'batchfsm[postgres]'" in out.stdout


class TestCreateAndRead:
    """A created batch is version 1 with one audit row, and reads back as it was made."""

    def test_create(self, store: Store) -> None:
        """create stores what Lifecycle.create makes, at version 1, its creation audited."""
        batch = store.create(
            input_file_id="file-in", endpoint="/v1/embeddings", metadata={"team": "a"}
        )
        assert batch.status is Status.VALIDATING
        assert batch.created_at == T0
        assert store.get(batch.id) == batch
        assert store.version(batch.id) == 1
        assert store.history(batch.id) == [batchfsm.unstructure(batch)]
        assert store.events(batch.id) == [Change(1, "create", None, Status.VALIDATING, T0)]

    def test_create_refused_stores_nothing(self, store: Store) -> None:
        """A create the lifecycle refuses raises its error and stores nothing."""
        with pytest.raises(GuardError) as raised:
            store.create(input_file_id="file-in", endpoint="/v1/x", metadata={"k" * 65: "v"})
        assert raised.value.code == "metadata.key_too_long"
        assert store.list() == []

    def test_unknown_ids(self, store: Store) -> None:
        """Every read and apply of an id not stored raises UnknownBatchError with the id."""
        calls: list[Callable[[str], object]] = [
            store.get,
            store.version,
            store.history,
            store.events,
            lambda batch_id: store.apply(batch_id, Event.CANCEL),
        ]
        for call in calls:
            with pytest.raises(UnknownBatchError) as raised:
                call("batch_missing")
            assert raised.value.batch_id == "batch_missing"

    @pytest.mark.parametrize("bad", ["", None, 7, b"batch_1"])
    def test_bad_ids(self, store: Store, bad: Any) -> None:
        """An id that is not a non-empty string is an ArgumentError, before any query."""
        for call in (store.get, store.version, store.history, store.events):
            with pytest.raises(ArgumentError) as raised:
                call(bad)
            assert raised.value.argument == "batch_id"

    def test_list_pages_in_id_order(self, target: Target, clock: ManualClock) -> None:
        """list gives batches by id, `limit` at a time from after `after`, by status if asked."""
        ids = iter(f"batch_{n:02}" for n in range(10))
        store = target.open(lifecycle=Lifecycle(clock, id_factory=ids.__next__), clock=clock)
        made = [store.create(input_file_id="file-in", endpoint="/v1/responses") for _ in range(7)]
        for batch in made[:3]:
            store.apply(batch.id, Event.START)
        assert [b.id for b in store.list()] == [b.id for b in made]
        assert [b.id for b in store.list(limit=3)] == ["batch_00", "batch_01", "batch_02"]
        assert [b.id for b in store.list(limit=3, after="batch_02")] == [
            "batch_03",
            "batch_04",
            "batch_05",
        ]
        assert [b.id for b in store.list(Status.IN_PROGRESS, after="batch_00")] == [
            "batch_01",
            "batch_02",
        ]
        assert [b.id for b in store.list("validating", limit=2)] == ["batch_03", "batch_04"]
        with pytest.raises(ArgumentError):
            store.list("bogus")
        with pytest.raises(ArgumentError):
            store.list(limit=0)
        store.close()


class TestApply:
    """apply changes the stored batch only through the lifecycle, one version and one audit
    row per change; a refusal or a no-op writes nothing."""

    def test_each_change_is_a_version(self, store: Store, clock: ManualClock) -> None:
        """Each accepted event adds one version and its audit row, stamped by the clock."""
        batch = running(store, total=3)
        clock.advance(60)
        after = store.apply(batch.id, "record_progress", completed=2, failed=1)
        clock.advance(60)
        store.apply(batch.id, Event.FINALIZE)
        done = store.apply(batch.id, "complete", output_file_id="f-o", error_file_id="f-e")
        assert counts(after) == (2, 1)
        assert done == store.get(batch.id)
        assert done.completed_at == T0 + 120
        assert store.version(batch.id) == 5
        P, F, C = Status.IN_PROGRESS, Status.FINALIZING, Status.COMPLETED
        assert store.events(batch.id)[1:] == [
            Change(2, "start", Status.VALIDATING, P, T0),
            Change(3, "record_progress", P, P, T0 + 60),
            Change(4, "finalize", P, F, T0 + 120),
            Change(5, "complete", F, C, T0 + 120),
        ]
        history = store.history(batch.id)
        assert [h["status"] for h in history] == [
            "validating",
            "in_progress",
            "in_progress",
            "finalizing",
            "completed",
        ]
        assert check_history(history).ok

    def test_refused_event_writes_nothing(self, store: Store, target: Target) -> None:
        """A refused event raises the engine's own error; row, version and history stay."""
        batch = running(store, total=2)
        before = target.rows()
        with pytest.raises(GuardError) as guard:
            store.apply(batch.id, Event.FINALIZE)
        assert guard.value.code == "counts.unaccounted"
        with pytest.raises(GuardError) as exceeds:
            store.apply(batch.id, Event.RECORD_PROGRESS, completed=3)
        assert exceeds.value.code == "counts.exceeds_total"
        with pytest.raises(IllegalTransition):
            store.apply(batch.id, Event.COMPLETE)
        with pytest.raises(ArgumentError):
            store.apply(batch.id, Event.START, total=-1)
        assert target.rows() == before
        assert len(store.events(batch.id)) == 2

    def test_no_op_keeps_the_version(self, store: Store) -> None:
        """A cancel of a cancelling batch and progress of zero change nothing: no version."""
        batch = running(store)
        store.apply(batch.id, Event.CANCEL)
        assert store.version(batch.id) == 3
        store.apply(batch.id, Event.CANCEL)
        store.apply(batch.id, Event.RECORD_PROGRESS)
        assert store.version(batch.id) == 3

    def test_progress_while_cancelling(self, store: Store) -> None:
        """Requests in flight when a cancel came still finish: progress is stored."""
        batch = running(store, total=4)
        store.apply(batch.id, Event.CANCEL)
        cancelling = store.apply(batch.id, Event.RECORD_PROGRESS, completed=1)
        assert cancelling.status is Status.CANCELLING
        assert counts(cancelling) == (1, 0)
        assert store.version(batch.id) == 4

    def test_if_version(self, store: Store) -> None:
        """With if_version the change is made only on that version; else ConflictError."""
        batch = running(store)
        with pytest.raises(ConflictError) as raised:
            store.apply(batch.id, Event.CANCEL, if_version=1)
        assert (raised.value.batch_id, raised.value.expected, raised.value.actual) == (
            batch.id,
            1,
            2,
        )
        assert store.get(batch.id).status is Status.IN_PROGRESS
        assert store.apply(batch.id, Event.CANCEL, if_version=2).status is Status.CANCELLING

    @pytest.mark.parametrize(
        ("call", "argument"),
        [
            ({"event": "create"}, "event"),
            ({"event": "bogus"}, "event"),
            ({"event": "cancel", "if_version": 0}, "if_version"),
            ({"event": "cancel", "if_version": True}, "if_version"),
            ({"event": "cancel", "now": -1}, "now"),
            ({"event": "cancel", "total": 3}, "data"),
            ({"event": "record_progress", "now": T0}, "now"),
        ],
    )
    def test_bad_calls(self, store: Store, call: dict[str, Any], argument: str) -> None:
        """A call that is wrong whatever the batch is an ArgumentError naming the argument."""
        batch = running(store)
        with pytest.raises(ArgumentError) as raised:
            store.apply(batch.id, **call)
        assert raised.value.argument == argument
        assert store.version(batch.id) == 2

    def test_now_and_float_clock(self, target: Target) -> None:
        """`now` stamps instead of the clock; a float clock (time.time) is floored."""
        store = target.open(clock=lambda: T0 + 0.9)
        batch = running(store)
        assert batch.in_progress_at == T0
        assert store.apply(batch.id, "cancel", now=T0 + 5).cancelling_at == T0 + 5
        assert store.events(batch.id)[-1].at == T0 + 5
        store.close()
        broken = target.open(clock=lambda: "noon")
        with pytest.raises(ArgumentError) as raised:
            broken.create(input_file_id="file-in", endpoint="/v1/responses")
        assert raised.value.argument == "clock"
        broken.close()

    def test_hooks_run_before_the_write(self, target: Target, clock: ManualClock) -> None:
        """The store's lifecycle hooks see each change before it is stored; one that raises
        means HookError and nothing stored."""
        seen: list[tuple[str, Event, int]] = []
        store = target.open(lifecycle=Lifecycle(clock), clock=clock)
        batch = running(store)

        def hook(changed: Batch, event: Event, source: Status | None, dest: Status) -> None:
            seen.append((changed.id, event, store.version(changed.id)))
            if event is Event.CANCEL:
                raise RuntimeError("the queue is down")

        store.lifecycle.on_transition(hook)
        with pytest.raises(HookError) as raised:
            store.apply(batch.id, Event.CANCEL)
        assert isinstance(raised.value.__cause__, RuntimeError)
        assert seen == [(batch.id, Event.CANCEL, 2)]
        assert store.version(batch.id) == 2
        assert store.get(batch.id).status is Status.IN_PROGRESS
        store.close()


# A batch a gateway started: keys of its own, optional keys left out.
GATEWAY: dict[str, Any] = {
    "id": "batch_gw_1",
    "object": "batch",
    "endpoint": "/v1/embeddings",
    "input_file_id": "file-gw",
    "completion_window": "24h",
    "status": "in_progress",
    "created_at": T0,
    "in_progress_at": T0,
    "expires_at": T0 + 86_400,
    "request_counts": {"total": 5, "completed": 1, "failed": 0, "x_retried": 2},
    "x_gateway": {"region": "eu-west", "priority": 2},
}


class TestAdopt:
    """adopt stores a valid third-party payload as it is, and refuses an invalid one with
    its report."""

    def test_adopt_keeps_every_key(self, store: Store) -> None:
        """The stored row is the payload: unknown keys kept, absent keys still absent."""
        adopted = store.adopt(json.dumps(GATEWAY))
        assert adopted.extra == {"x_gateway": {"region": "eu-west", "priority": 2}}
        assert store.history("batch_gw_1") == [GATEWAY]
        assert store.events("batch_gw_1") == [Change(1, "adopt", None, Status.IN_PROGRESS, T0)]
        done = store.apply("batch_gw_1", Event.RECORD_PROGRESS, completed=4)
        assert batchfsm.unstructure(done)["request_counts"]["x_retried"] == 2
        assert check_history(store.history("batch_gw_1")).ok

    def test_adopt_takes_a_batch_and_copies_it(self, store: Store) -> None:
        """A Batch is adopted as a copy: changing the caller's object changes nothing stored."""
        batch = batchfsm.structure(GATEWAY)
        adopted = store.adopt(batch)
        assert adopted == batch
        assert adopted is not batch
        batch.status = Status.FAILED
        assert store.get("batch_gw_1").status is Status.IN_PROGRESS

    def test_invalid_payload_refused_with_report(self, store: Store) -> None:
        """An invalid payload raises AdoptionError with the validator's report; nothing stored."""
        broken = {**GATEWAY, "request_counts": {"total": 1, "completed": 3, "failed": 0}}
        with pytest.raises(AdoptionError) as raised:
            store.adopt(broken)
        assert [v.code for v in raised.value.report.errors] == ["counts.exceeds_total"]
        with pytest.raises(AdoptionError):
            store.adopt(b"{not json")
        assert store.list() == []

    def test_profile(self, store: Store) -> None:
        """The lifecycle's profile reads the payload unless another is given."""
        azure = {**GATEWAY, "created_at": "2023-11-14T22:13:20Z"}
        with pytest.raises(AdoptionError):
            store.adopt(azure)
        adopted = store.adopt(azure, profile="compat")
        assert adopted.created_at == T0
        assert store.get(adopted.id).created_at == T0

    def test_taken_id_conflicts(self, store: Store) -> None:
        """A payload whose id is stored already raises ConflictError (expected 0)."""
        store.adopt(GATEWAY)
        store.apply("batch_gw_1", Event.CANCEL)
        with pytest.raises(ConflictError) as raised:
            store.adopt(GATEWAY)
        assert (raised.value.expected, raised.value.actual) == (0, 2)
        assert store.get("batch_gw_1").status is Status.CANCELLING


class TestClaim:
    """claim hands each open batch to one claimant at a time, until its lease ends or is
    released; renew keeps it only while the lease is still the claimant's."""

    def test_claims_are_exclusive(self, store: Store, clock: ManualClock) -> None:
        """A leased batch is not handed out again; a claim names its owner, version, end."""
        batches = [running(store) for _ in range(3)]
        first = store.claim(2, lease_seconds=60, owner="worker-a")
        second = store.claim(5, lease_seconds=60, owner="worker-b")
        assert len(first) == 2
        assert len(second) == 1
        ids = {claim.batch.id for claim in first + second}
        assert ids == {batch.id for batch in batches}
        assert all(c.owner == "worker-a" and c.until == T0 + 60 for c in first)
        assert all(c.version == 2 for c in first + second)
        assert store.claim(5, lease_seconds=60) == []

    def test_lease_runs_out(self, store: Store, clock: ManualClock) -> None:
        """Once its lease has run out a batch is claimable again, and the old claim cannot
        be renewed or released."""
        running(store)
        (old,) = store.claim(1, lease_seconds=60, owner="a")
        clock.advance(59)
        assert store.claim(1, lease_seconds=60) == []
        clock.advance(1)
        (new,) = store.claim(1, lease_seconds=60, owner="b")
        assert new.batch.id == old.batch.id
        assert new.token != old.token
        assert store.renew(old, lease_seconds=60) is None
        assert store.release(old) is False
        renewed = store.renew(new, lease_seconds=600)
        assert renewed is not None
        assert renewed.until == clock.now + 600
        clock.advance(300)
        assert store.claim(1, lease_seconds=60) == []

    def test_release(self, store: Store) -> None:
        """A released batch is claimable at once, after those leased less recently."""
        batches = [running(store) for _ in range(2)]
        claims = store.claim(2, lease_seconds=60)
        assert store.release(claims[0]) is True
        assert [c.batch.id for c in store.claim(2, lease_seconds=60)] == [claims[0].batch.id]
        assert {b.id for b in batches} == {c.batch.id for c in claims}

    def test_statuses(self, store: Store) -> None:
        """Only open batches by default; `statuses` narrows the choice."""
        validating = store.create(input_file_id="file-in", endpoint="/v1/responses")
        cancelled = running(store)
        store.apply(cancelled.id, Event.CANCEL)
        store.apply(cancelled.id, Event.FINISH_CANCEL)
        started = running(store)
        (claim,) = store.claim(5, lease_seconds=60, statuses=[Status.IN_PROGRESS])
        assert claim.batch.id == started.id
        assert [c.batch.id for c in store.claim(5, lease_seconds=60)] == [validating.id]
        with pytest.raises(ArgumentError):
            store.claim(1, lease_seconds=60, statuses="in_progress")
        with pytest.raises(ArgumentError):
            store.claim(1, lease_seconds=0)

    def test_many_at_once(
        self, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SQLite leases a large claim in chunks of ids (older builds take 999 parameters)."""
        from batchfsm.store import _sqlite

        monkeypatch.setattr(_sqlite, "_CHUNK", 2)
        store = SQLiteStore(tmp_path / "many.sqlite3", clock=clock)
        ids = {running(store).id for _ in range(5)}
        assert {claim.batch.id for claim in store.claim(10, lease_seconds=60)} == ids
        assert store.claim(10, lease_seconds=60) == []
        store.close()

    def test_claim_in_threads(self, store: Store) -> None:
        """Eight threads claiming at once never get the same batch."""
        ids = {running(store).id for _ in range(40)}
        got: list[list[Claim]] = []
        barrier = threading.Barrier(8)

        def claimant() -> None:
            barrier.wait()
            mine: list[Claim] = []
            for _ in range(len(ids)):  # bounded: a store that hands out leased rows ends too
                found = store.claim(3, lease_seconds=60)
                if not found:
                    break
                mine.extend(found)
            got.append(mine)

        threads = [threading.Thread(target=claimant) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        claimed = [claim.batch.id for mine in got for claim in mine]
        assert sorted(claimed) == sorted(ids)


class TestExpireOverdue:
    """expire_overdue expires every overdue batch, each with its audit row, and reports what
    it could not expire without stopping."""

    def test_sweep(self, store: Store, clock: ManualClock) -> None:
        """Overdue running batches expire at `now`; others stay as they are."""
        short = running(store, **due_in(3600))
        finalizing = running(store, total=0, **due_in(7200))
        store.apply(finalizing.id, Event.FINALIZE)
        later = running(store)
        cancelling = running(store, **due_in(3600))
        store.apply(cancelling.id, Event.CANCEL)
        assert store.expire_overdue(now=T0 + 3599).expired == ()
        clock.advance(7200)
        sweep = store.expire_overdue()
        assert [b.id for b in sweep.expired] == [short.id, finalizing.id]
        assert sweep.failed == ()
        for batch in sweep.expired:
            assert batch.status is Status.EXPIRED
            assert batch.expired_at == T0 + 7200
            assert store.get(batch.id) == batch
            (*_, change) = store.events(batch.id)
            assert (change.event, change.dest, change.at) == ("expire", Status.EXPIRED, T0 + 7200)
        assert store.get(later.id).status is Status.IN_PROGRESS
        assert store.get(cancelling.id).status is Status.CANCELLING
        assert store.expire_overdue().expired == ()

    def test_sweep_goes_on_past_a_failure(self, target: Target, clock: ManualClock) -> None:
        """A batch whose hook refuses the expiry is reported; the others still expire."""
        store = target.open(clock=clock)
        batches = [running(store, **due_in(3600)) for _ in range(3)]
        refused = batches[1].id

        def hook(batch: Batch, event: Event, source: Status | None, dest: Status) -> None:
            if batch.id == refused:
                raise RuntimeError("no")

        store.lifecycle.on_transition(hook)
        sweep = store.expire_overdue(now=T0 + 3600)
        assert {b.id for b in sweep.expired} == {batches[0].id, batches[2].id}
        ((failed_id, error),) = sweep.failed
        assert failed_id == refused
        assert isinstance(error, HookError)
        assert store.get(refused).status is Status.IN_PROGRESS
        store.close()


class TestSchema:
    """The tables are made on first use and the layout is versioned; a store refuses a
    newer layout, and what was stored survives closing and reopening."""

    def test_reopen(self, target: Target, clock: ManualClock) -> None:
        """A second store on the same database sees every batch and its history."""
        first = target.open(clock=clock)
        batch = running(first)
        first.apply(batch.id, Event.CANCEL)
        first.close()
        with pytest.raises(StoreError) as raised:
            first.get(batch.id)
        assert raised.value.reason == "the store is closed"
        with target.open(clock=clock) as second:
            assert second.get(batch.id).status is Status.CANCELLING
            assert len(second.history(batch.id)) == 3

    def test_schema_version(self, target: Target) -> None:
        """The layout's version is recorded; a newer one is refused with StoreError."""
        target.open().close()
        bump = "UPDATE batchfsm_schema SET version = version + 1"
        if target.kind == "sqlite":
            with sqlite3.connect(target.where) as db:
                assert db.execute("SELECT version FROM batchfsm_schema").fetchall() == [
                    (SCHEMA_VERSION,)
                ]
                db.execute(bump)
        else:
            import psycopg

            with psycopg.connect(target.where) as db:
                db.execute(bump)
        with pytest.raises(StoreError) as raised:
            target.open()
        assert raised.value.operation == "open"
        assert f"store schema {SCHEMA_VERSION + 1}" in raised.value.reason


class TestDatabaseErrors:
    """What the database refuses is a StoreError naming the operation and batch, with the
    driver's exception as cause; no driver exception escapes."""

    def test_sqlite_locked(self, tmp_path: Path, clock: ManualClock) -> None:
        """A write that waits past the busy timeout is a StoreError; nothing is written."""
        path = tmp_path / "locked.sqlite3"
        store = SQLiteStore(path, clock=clock, busy_timeout=0.05)
        batch = running(store)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as raised:
            store.apply(batch.id, Event.CANCEL)
        assert (raised.value.operation, raised.value.batch_id) == ("apply", batch.id)
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        assert store.get(batch.id).status is Status.IN_PROGRESS  # readers go on (WAL)
        blocker.execute("ROLLBACK")
        blocker.close()
        assert store.apply(batch.id, Event.CANCEL).status is Status.CANCELLING
        store.close()

    def test_sqlite_not_a_database(self, tmp_path: Path) -> None:
        """A file that is not a database is a StoreError when opened."""
        path = tmp_path / "notes.txt"
        path.write_text("not a database" * 100)
        with pytest.raises(StoreError) as raised:
            SQLiteStore(path)
        assert raised.value.operation == "open"
        with pytest.raises(ArgumentError):
            SQLiteStore(":memory:")

    def test_postgres_unreachable(self, postgres_dsn: str) -> None:
        """A server that cannot be reached is a StoreError when opened."""
        with pytest.raises(StoreError) as raised:
            PostgresStore("host=127.0.0.1 port=1 user=nobody connect_timeout=2")
        assert raised.value.operation == "open"

    @pytest.mark.parametrize("target", ["postgres"], indirect=True)
    def test_postgres_reconnects(self, target: Target, clock: ManualClock) -> None:
        """A connection the server dropped fails one call with StoreError; the next call
        connects again."""
        import psycopg
        from psycopg.conninfo import make_conninfo

        # Only this store's connections are dropped: other tests may share the server (under
        # pytest -n, on other workers).
        name = f"batchfsm-reconnects-{os.getpid()}"
        store = PostgresStore(make_conninfo(target.where, application_name=name), clock=clock)
        batch = running(store)
        with psycopg.connect(target.where, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (name,),
            )
        with pytest.raises(StoreError) as raised:
            store.get(batch.id)
        assert isinstance(raised.value.__cause__, psycopg.OperationalError)
        assert store.get(batch.id).status is Status.IN_PROGRESS
        store.close()


class TestProcesses:
    """Connections are per thread and per process: a forked child opens its own, and the
    parent's goes on working."""

    def test_fork(self, target: Target, clock: ManualClock) -> None:
        """A child forked after the parent used the store writes through its own connection."""
        store = target.open(clock=clock)
        batch = running(store)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, 3.12+
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                store.apply(batch.id, Event.RECORD_PROGRESS, completed=1)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert counts(store.apply(batch.id, Event.RECORD_PROGRESS, completed=2)) == (3, 0)
        assert counts(store.get(batch.id)) == (3, 0)
        store.close()


# 8 processes x 4 threads x OPS events at 200 batches: about 3,000 events per store.
PROCESSES, THREADS, OPS, BATCHES = 8, 4, 24, 200


class TestRace:
    """8 processes x 4 threads firing random events at 200 batches: no lost update, every
    row valid and whole, versions one per change, no batch leased twice at once."""

    def test_race(self, target: Target) -> None:
        """The stored counts are the sum of the accepted progress; every batch is whole."""
        store = target.open()
        now = int(time.time())
        ids = []
        for n in range(BATCHES):
            # Every fourth is overdue, so that expire (which aims at them) and the sweep
            # have work.
            overdue = n % 4 == 0
            batch = store.create(
                input_file_id=f"file-{n}",
                endpoint="/v1/chat/completions",
                now=now - 86_400 - 3600 if overdue else now,
            )
            store.apply(batch.id, Event.START, total=2 + n % 5 if n % 10 else 0)
            if n % 10 == 0:  # one in ten is finalizing already: claims contend for these
                store.apply(batch.id, Event.FINALIZE)
            ids.append(batch.id)
        barrier = SPAWN.Barrier(PROCESSES)
        holders = SPAWN.Array("i", BATCHES)
        results = SPAWN.Queue()
        workers = [
            SPAWN.Process(
                target=store_workers.race_worker,
                args=(target.kind, target.where, ids, n, OPS, THREADS, barrier, holders, results),
            )
            for n in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        reports = [results.get(timeout=240) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        unexpected = [text for report in reports for text in report["unexpected"]]
        assert unexpected == [], unexpected[0]
        assert sum(report["overlaps"] for report in reports) == 0
        outcomes: dict[str, int] = {}
        for report in reports:
            for key, count in report["outcomes"].items():
                outcomes[key] = outcomes.get(key, 0) + count
        # It was a race: writers collided, and every kind of event got through.
        assert sum(n for key, n in outcomes.items() if key.endswith(":conflict")) > 0, outcomes
        for kind in ("progress", "cancel", "finalize", "complete", "expire", "claim"):
            assert outcomes.get(kind, 0) > 0, (kind, outcomes)
        accepted: dict[str, list[int]] = {}
        for report in reports:
            for batch_id, (completed, failed) in report["progress"].items():
                tally = accepted.setdefault(batch_id, [0, 0])
                tally[0] += completed
                tally[1] += failed
        for batch_id in ids:
            stored = list(counts(store.get(batch_id)))
            assert stored == accepted.get(batch_id, [0, 0]), batch_id
        check_whole(store, target)
        store.close()


def _wait_for(path: Path, process: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.is_alive(), "the worker died before it got there"
        assert time.monotonic() < deadline, "the worker never got there"
        time.sleep(0.01)


class TestCrash:
    """A worker killed with SIGKILL mid-apply leaves each batch at its old version or its
    new one, whole, and the store usable."""

    # SQLite always writes in a transaction; PostgreSQL's last try does (attempts=1 makes
    # every try the last), its optimistic ones write in one statement.
    @pytest.mark.parametrize(
        ("target", "attempts"),
        [("sqlite", 1), ("postgres", 1), ("postgres", 3)],
        indirect=["target"],
        ids=["sqlite", "postgres-in-transaction", "postgres-one-statement"],
    )
    def test_killed_after_the_write(self, target: Target, tmp_path: Path, attempts: int) -> None:
        """Killed after its write, a worker leaves its change rolled back (in a transaction)
        or committed whole (one statement); the next writer is not kept waiting."""
        store = target.open()
        batch = running(store)
        before = target.rows()
        signal_file = tmp_path / "written"
        worker = SPAWN.Process(
            target=store_workers.stopped_mid_apply,
            args=(target.kind, target.where, batch.id, str(signal_file), attempts),
        )
        worker.start()
        _wait_for(signal_file, worker)
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        if attempts == 1:  # the write was inside the transaction: rolled back
            assert target.rows() == before
        else:  # PostgreSQL's optimistic write is one statement, committed before the seam
            ((version, *_),) = target.rows().values()
            assert version == 3
        started = time.monotonic()
        store.apply(batch.id, Event.RECORD_PROGRESS, completed=1)
        assert time.monotonic() - started < 5
        check_whole(store, target)
        store.close()

    def test_killed_at_random(self, target: Target, tmp_path: Path) -> None:
        """Workers killed at random moments of a stream of applies leave every batch whole:
        its count is exactly one per progress version."""
        store = target.open()
        ids = [running(store, total=1_000_000).id for _ in range(4)]
        for round_ in range(3):
            signal_file = tmp_path / f"running-{round_}"
            worker = SPAWN.Process(
                target=store_workers.churn, args=(target.kind, target.where, ids, str(signal_file))
            )
            worker.start()
            _wait_for(signal_file, worker)
            time.sleep(0.05 + 0.1 * round_)
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            worker.join()
        total = 0
        for batch_id in ids:
            completed, _ = counts(store.get(batch_id))
            assert completed == store.version(batch_id) - 2  # create, start, then progress
            total += completed
        assert total > 0
        check_whole(store, target)
        store.close()
