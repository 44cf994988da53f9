"""Engine cost of batchfsm's start -> finalize -> complete against what a user would write instead.

What it measures, in one process, interleaved round by round (wall-clock speed here changes by
2x between phases of a run, so only ratios taken moments apart mean anything):

1. Path: start -> finalize -> complete on fresh subjects, µs per path, for

   * batchfsm: ``Lifecycle.start`` / ``finalize`` / ``complete`` (the named methods, the
     default ``Profile.OPENAI``) on `Batch` records, copies (``attrs.evolve``) of one made by
     ``Lifecycle.create``. The copies are shallow, which is fine: the path replaces fields of
     the batch and mutates no nested record. Its counts are all 0, so ``complete`` needs no
     file id (both sides would otherwise set one).
   * fire: the same through ``Lifecycle.fire(batch, Event.START)`` and so on, the generic
     entry point the named methods stand for (shown, without a target).
   * peer (what the target is measured against): one shared
     ``transitions.Machine(model=None, states=[the eight statuses as strings],
     transitions=[the engine's own edges, as strings], initial="validating",
     auto_transitions=False, model_attribute="status")``, fired with
     ``machine.events[name].trigger(record)`` on a slotted attrs record (``status`` and the
     three stamps), the caller then setting the event's stamp by hand from the same clock:
     ``record.in_progress_at = clock()``, in a function per event as a user would write it.
     No argument checks, lock, guards, hooks or stamp clamping.

   Target: batchfsm <= 1.3x peer, judged on the paired ratio (the median over rounds of the
   ratio within a round): a round's samples are taken moments apart, while the medians come
   from samples whose interquartile range here is often a third of the median or more.
   ``bench_instructions.py --path-only`` counts the instructions of these same three drivers.

2. Memory, with tracemalloc: the bytes retained (traced memory after building a list of
   10,000 minus before, ``gc.collect()`` before each reading, the list preallocated) by

   * driven: batches made by ``Lifecycle.create`` and driven start -> finalize -> complete;
   * record (the baseline, "the record's memory"): the same records made without the engine,
     ``attrs.evolve`` of one driven batch with a fresh copy of each object ``create`` makes
     per batch: the id string (same form), the ``expires_at`` int, a new ``RequestCounts()``
     with its own ``extra`` dict, and a new ``extra`` dict. Everything else is shared by both,
     as ``create`` and the clock share it. Each record equals (``==``) a driven batch with
     its id.

   Target: driven <= 1.1x record, i.e. driving stores nothing per batch. Shown too, without a
   target: the same batches decoded from their JSON (``batchfsm.loads(batchfsm.dumps(b))``),
   which own all their strings and ints.

Each timing runs the three steps over a list of fresh subjects sized to take ~10 ms (5 ms with
--quick), built before the timer starts, with the collector off; every round times every
implementation, in an order rotated per round. The exit code is 0 regardless of the verdicts.

Run it from the repository root, with batchfsm importable (installed, or ``PYTHONPATH=.``)::

    python bench/bench_engine.py                  # 100 rounds, under a minute
    python bench/bench_engine.py --quick          # smoke run
    python bench/bench_engine.py --rounds 80 --json results.json
"""

import argparse
import gc
import itertools
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
from _stats import Cell, bench_parser, fmt_ratio, fmt_us, rotated, verdict, versions, write_report
from transitions import Machine

import batchfsm
from batchfsm import Event, Lifecycle, Profile, RequestCounts, Status

BATCHFSM, FIRE, PEER = "batchfsm", "fire", "peer"

DEFAULT_ROUNDS = 100
QUICK_ROUNDS = 5
TARGET_MS = 10.0
QUICK_TARGET_MS = 5.0

MEMORY_BATCHES = 10_000
# tracemalloc makes building slow (~1.5 s per 10,000), and the counts come out identical.
MEMORY_REPEATS = 3
QUICK_MEMORY_REPEATS = 1

PATH_TARGET = 1.3
MEMORY_TARGET = 1.1

NOW = 1_700_000_000
FILE_ID = "file-1"
ENDPOINT = "/v1/responses"
PROFILE = Profile.OPENAI

# The stamps the path sets, in order.
STAMPS: tuple[str, ...] = ("in_progress_at", "finalizing_at", "completed_at")

Step = Callable[[Any], object]


@dataclass(frozen=True)
class Impl:
    """One way to drive the path: how to make fresh subjects, and how to drive a list of them."""

    name: str
    make: Callable[[int], list[Any]]  # n -> n fresh subjects in validating
    drive: Callable[[list[Any]], None]  # the path on each subject, in order


def driver(start: Step, finalize: Step, complete: Step) -> Callable[[list[Any]], None]:
    """A loop calling the three steps on each subject; the steps are its locals."""

    def drive(subjects: list[Any]) -> None:
        for subject in subjects:
            start(subject)
            finalize(subject)
            complete(subject)

    return drive


# implementation name -> Cell
Cells = dict[str, Cell]


# --- implementations ---------------------------------------------------------------------


def clock() -> int:
    return NOW


def lifecycle(id_factory: Callable[[], str] | None = None) -> Lifecycle:
    return Lifecycle(clock, profile=PROFILE, id_factory=id_factory)


def batchfsm_impls() -> list[Impl]:
    lc = lifecycle()
    prototype = lc.create(input_file_id=FILE_ID, endpoint=ENDPOINT)

    def make(n: int) -> list[Any]:
        return [attrs.evolve(prototype) for _ in range(n)]

    fire, start, finalize, complete = lc.fire, Event.START, Event.FINALIZE, Event.COMPLETE

    def drive_fired(batches: list[Any]) -> None:
        for batch in batches:
            fire(batch, start)
            fire(batch, finalize)
            fire(batch, complete)

    named = driver(lc.start, lc.finalize, lc.complete)
    return [Impl(BATCHFSM, make, named), Impl(FIRE, make, drive_fired)]


@attrs.define
class Record:
    """The peer's subject: a user's own slotted record with the status and the path's stamps."""

    status: str = "validating"
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None


def peer_machine() -> Machine:
    """The machine a user would share over their records: string states, the engine's edges."""
    return Machine(
        model=None,
        states=[status.value for status in Status],
        transitions=[
            {"trigger": t.event.value, "source": t.source.value, "dest": t.dest.value}
            for t in lifecycle().transitions
        ],
        initial=Status.VALIDATING.value,
        auto_transitions=False,
        model_attribute="status",
    )


def peer_impl() -> Impl:
    events = peer_machine().events
    to_in_progress = events["start"].trigger
    to_finalizing = events["finalize"].trigger
    to_completed = events["complete"].trigger

    def start(record: Record) -> None:
        to_in_progress(record)
        record.in_progress_at = clock()

    def finalize(record: Record) -> None:
        to_finalizing(record)
        record.finalizing_at = clock()

    def complete(record: Record) -> None:
        to_completed(record)
        record.completed_at = clock()

    def make(n: int) -> list[Any]:
        return [Record() for _ in range(n)]

    return Impl(PEER, make, driver(start, finalize, complete))


def check(impl: Impl) -> None:
    """Drive one subject along the path: it must end completed with the three stamps set."""
    (subject,) = subjects = impl.make(1)
    impl.drive(subjects)
    stamps = tuple(getattr(subject, name) for name in STAMPS)
    if subject.status != Status.COMPLETED or stamps != (NOW, NOW, NOW):
        raise SystemExit(f"{impl.name}: ended {subject.status!r} with stamps {stamps}")


# --- timing ------------------------------------------------------------------------------


def time_path(impl: Impl, n: int) -> float:
    """µs per subject of the path on `n` fresh subjects, made before the timer starts.

    The collector is off while timing, as in timeit: a collection triggered by garbage an
    earlier measurement left behind would otherwise land on whoever runs next.
    """
    subjects = impl.make(n)
    drive = impl.drive
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        drive(subjects)
        elapsed = time.perf_counter_ns() - start
    finally:
        if was_enabled:
            gc.enable()
    return elapsed / n / 1000


def calibrate(impl: Impl, target_ms: float) -> int:
    """Subjects per measurement so that one takes about `target_ms`; also warms caches up."""
    n = 1
    while True:
        per_path_us = time_path(impl, n)
        if per_path_us * n >= 1000:  # 1 ms for a stable estimate
            break
        n *= 4
    return max(1, round(target_ms * 1000 / per_path_us))


def run_rounds(impls: Sequence[Impl], cells: Cells, rounds: int) -> None:
    for r in range(rounds):
        gc.collect()  # once per round, outside the timed regions
        for impl in rotated(impls, r):
            cells[impl.name].samples_us.append(time_path(impl, cells[impl.name].n))
    print(f"  {rounds} rounds done", file=sys.stderr)


def paired_ratio(cells: Cells, num: str, den: str) -> float:
    """Median over rounds of the ratio within each round: cancels drift slower than a round."""
    pairs = zip(cells[num].samples_us, cells[den].samples_us, strict=True)
    return statistics.median(a / b for a, b in pairs)


def ratio(cells: Cells, num: str, den: str) -> float:
    return cells[num].median_us / cells[den].median_us


# --- memory ------------------------------------------------------------------------------


def id_maker() -> Callable[[], str]:
    """Distinct ids of the default form (``batch_`` + 32 hex digits), each a new string."""
    counter = itertools.count(1)
    return lambda: f"batch_{next(counter):032x}"


def retained_bytes(build: Callable[[list[Any]], None], n: int) -> int:
    """Traced bytes still allocated after `build` filled a list of `n` (the list excluded)."""
    out: list[Any] = [None] * n
    gc.collect()
    before, _ = tracemalloc.get_traced_memory()
    build(out)
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    assert all(item is not None for item in out)
    return after - before


def memory_builders() -> dict[str, Callable[[list[Any]], None]]:
    make_id = id_maker()
    lc = lifecycle(make_id)
    start, finalize, complete = lc.start, lc.finalize, lc.complete

    def driven(out: list[Any]) -> None:
        for i in range(len(out)):
            batch = lc.create(input_file_id=FILE_ID, endpoint=ENDPOINT)
            start(batch)
            finalize(batch)
            complete(batch)
            out[i] = batch

    probe: list[Any] = [None]
    driven(probe)
    completed = probe[0]
    created = completed.created_at
    window = completed.expires_at - created if completed.expires_at is not None else 0

    def record(out: list[Any]) -> None:
        for i in range(len(out)):
            out[i] = attrs.evolve(
                completed,
                id=make_id(),
                expires_at=created + window,
                request_counts=RequestCounts(),
                extra={},
            )

    # Outside every measurement: the JSON of as many driven batches as any measurement needs.
    sample: list[Any] = [None] * MEMORY_BATCHES
    driven(sample)
    raws = [batchfsm.dumps(batch) for batch in sample]

    def decoded(out: list[Any]) -> None:
        loads = batchfsm.loads
        for i in range(len(out)):
            out[i] = loads(raws[i])

    # The baseline holds the same values: a record equals the driven batch with its id.
    record(probe)
    if attrs.evolve(probe[0], id=sample[0].id) != sample[0]:
        raise SystemExit("memory: the record baseline differs from a driven batch")
    if batchfsm.loads(raws[0]) != sample[0]:
        raise SystemExit("memory: a decoded batch differs from the driven one")
    return {"driven": driven, "record": record, "decoded": decoded}


def measure_memory(n: int, repeats: int) -> dict[str, Any]:
    """Bytes per batch retained by each builder: the median of `repeats`, rotated."""
    builders = memory_builders()
    names = list(builders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    tracemalloc.start()
    try:
        for name in names:  # warm-up: caches and free lists filled before anything counts
            retained_bytes(builders[name], 100)
        for r in range(repeats):
            for name in rotated(names, r):
                samples[name].append(retained_bytes(builders[name], n) / n)
    finally:
        tracemalloc.stop()
    per_batch = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "batches": n,
        "bytes_per_batch": per_batch,
        "samples": samples,
        "driven/record": per_batch["driven"] / per_batch["record"],
        "decoded/record": per_batch["decoded"] / per_batch["record"],
    }


# --- report ------------------------------------------------------------------------------


def summary(cells: Cells) -> dict[str, Any]:
    return {
        f"{num}/{PEER}": {
            "ratio": ratio(cells, num, PEER),
            "paired": paired_ratio(cells, num, PEER),
        }
        for num in (BATCHFSM, FIRE)
    }


def print_report(
    cells: Cells, stats: dict[str, Any], memory: dict[str, Any] | None, rounds: int
) -> None:
    print(f"\nPath start -> finalize -> complete, us per path (median of {rounds} rounds)")
    for name, cell in cells.items():
        print(f"  {name:<10}{fmt_us(cell):>9}   n={cell.n}, IQR {cell.spread:.0%} of median")
    if memory is not None:
        per_batch = memory["bytes_per_batch"]
        print(f"\nMemory retained per batch, {memory['batches']} batches (tracemalloc)")
        print(f"  driven   {per_batch['driven']:>8.0f} B   created by Lifecycle, driven")
        print(f"  record   {per_batch['record']:>8.0f} B   the same records, without the engine")
        print(f"  decoded  {per_batch['decoded']:>8.0f} B   loads(dumps(batch))")
    print(f"\nSummary: ratio of medians; paired = median of per-round ratios ({rounds} rounds)")
    for key, entry in stats.items():
        print(f"  {key:<16}{fmt_ratio(entry['ratio']):>7}  paired {fmt_ratio(entry['paired'])}")
    if memory is not None:
        print(f"  {'driven/record':<16}{fmt_ratio(memory['driven/record']):>7}")
        print(f"  {'decoded/record':<16}{fmt_ratio(memory['decoded/record']):>7}")
    paired = stats[f"{BATCHFSM}/{PEER}"]["paired"]
    print(f"  target path <= {PATH_TARGET}x peer (paired): {verdict(paired, PATH_TARGET)}")
    if memory is not None:
        driven = memory["driven/record"]
        print(f"  target memory <= {MEMORY_TARGET}x record: {verdict(driven, MEMORY_TARGET)}")


# The packages whose versions the report names.
VERSIONED = ("batchfsm", "transitions", "attrs")


def write_json(
    path: Path,
    cells: Cells,
    stats: dict[str, Any],
    memory: dict[str, Any] | None,
    rounds: int,
) -> None:
    report = {
        "versions": versions(*VERSIONED),
        "platform": platform.platform(),
        "rounds": rounds,
        "cells": [
            {
                "impl": name,
                "n": cell.n,
                "median_us": cell.median_us,
                "iqr_over_median": cell.spread,
                "samples_us": cell.samples_us,
            }
            for name, cell in cells.items()
        ],
        "summary": stats,
        "memory": memory,
        "targets": {"path": PATH_TARGET, "memory": MEMORY_TARGET},
    }
    write_report(path, report)


# --- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = bench_parser(__doc__, DEFAULT_ROUNDS, f"{QUICK_ROUNDS} rounds, shorter batches")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    target_ms = QUICK_TARGET_MS if args.quick else TARGET_MS
    print(" ".join(f"{k} {v}" for k, v in versions(*VERSIONED).items()))

    started = time.perf_counter()
    impls = [*batchfsm_impls(), peer_impl()]
    for impl in impls:
        check(impl)
    cells = {impl.name: Cell(calibrate(impl, target_ms)) for impl in impls}
    run_rounds(impls, cells, rounds)
    repeats = QUICK_MEMORY_REPEATS if args.quick else MEMORY_REPEATS
    memory = None if args.no_memory else measure_memory(MEMORY_BATCHES, repeats)

    stats = summary(cells)
    print_report(cells, stats, memory, rounds)
    print(f"  wall time {time.perf_counter() - started:.1f} s")
    if args.json is not None:
        write_json(args.json, cells, stats, memory, rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
