"""Engine cost of batchfsm against a bare transitions machine, python-statemachine and a floor.

What it measures, all interleaved in one process (wall-clock speed here changes by 2x between
phases of a run, so only ratios taken moments apart mean anything):

1. Path: start -> finalize -> complete on fresh batches, per path, for

   * batchfsm: ``Lifecycle.start`` / ``finalize`` / ``complete`` on `Batch` records, copies
     (``attrs.evolve``) of one made by ``Lifecycle.create``. The copies are shallow, which is
     fine: the path replaces fields of the batch and mutates no nested record.
   * bare (the peer): one shared ``transitions.Machine`` built as the engine builds its own
     (``model=None``, ``states=Status``, the same three transitions, ``initial`` validating,
     ``auto_transitions=False``, ``model_attribute="status"``), fired with
     ``machine.events[name].trigger(obj)`` on a slotted attrs object whose only attribute is
     ``status``: the move alone, without the argument checks, the lock, the guards and the
     timestamps batchfsm adds.

   Target: batchfsm <= 1.15x bare.

2. Event: one event on a fresh subject in the event's source status (start on validating,
   finalize on in_progress, complete on finalizing), per call, for batchfsm, bare, and

   * python-statemachine (``psm``): a ``StateMachine`` subclass with the `Status` states
     (``States.from_enum``) and the same three transitions, fired as ``sm.start()``. Its state
     lives in a machine instance bound to one model, so there is one machine per object (over
     an object like bare's, ``state_field="status"``); the machines are built outside the timed
     region, which times event sending only. Building one costs about as much as sending
     one event (its engine runs a statechart macrostep per event: ~450 Python calls).
   * table (the floor): a function doing ``obj.status = TABLE[event, obj.status]``, a legality
     check by dict lookup and the write, on bare's objects.

   Ratios against bare and against the floor, with geometric means over the three events.

3. Memory, with tracemalloc: the bytes retained (traced memory after building a list of
   10,000 minus before, ``gc.collect()`` before each reading, the list preallocated) by

   * driven: batches made by ``Lifecycle.create`` and driven start -> finalize -> complete;
   * record (the baseline, "the record's memory"): the same records made without the engine,
     ``attrs.evolve`` of one driven batch with a fresh copy of each object ``create`` makes
     per batch: the id string (same 38-character form), the ``expires_at`` int
     (``created_at + window``, a new int as in ``create``), a new ``RequestCounts()`` with its
     own ``extra`` dict, and a new ``extra`` dict. Everything else is shared by both, as
     ``create`` and the clock share it: the endpoint, file id and window strings passed in, the
     clock's int for every stamp, the `Status` members, the empty ``omitted`` frozenset and
     ``normalizations`` tuple. Each record equals (``==``) a driven batch with its id.

   Target: driven <= 1.1x record, i.e. driving stores nothing per batch. Shown too, without a
   target: the same batches decoded from their JSON (``batchfsm.loads(batchfsm.dumps(b))``),
   which own all their strings and ints.

4. Scale (a sanity line): the path over 100,000 live batches (20,000 with --quick) per
   implementation, built first, driven in chunks of 1,000 with batchfsm and bare alternating,
   against the calibrated size timed just before and after. Per-path cost should stay roughly
   constant, and the last tenth of the chunks should cost what the first did (nothing is kept
   per batch: the locks are striped, the machine is shared).

Each timing runs its callables over a list of fresh subjects sized to take ~10 ms (5 ms with
--quick), built before the timer starts, with the collector off. Every round visits every
cell, with the implementations in an order rotated per round. Tables show the medians across
rounds; the summary shows ratios of medians and the medians of the per-round ratios ("paired").
The path verdict uses the paired ratio: a round's two samples are taken moments apart, while the
medians come from samples whose interquartile range here is often half the median or more, so
their ratio wanders by +-10% from run to run where the paired one holds within a few percent
(the scale line's per-chunk ratio is a third estimate of the same thing). The exit code is 0
regardless of the verdicts.

Run it from the repository root, with batchfsm importable (installed, or ``PYTHONPATH=.``) and
python-statemachine from the ``bench`` extra::

    python bench/bench_engine.py                  # 40 rounds, under a minute
    python bench/bench_engine.py --quick          # smoke run
    python bench/bench_engine.py --rounds 60 --json results.json

python-statemachine, when not importable, is reported and skipped.
"""

import argparse
import gc
import itertools
import operator
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
from _stats import (
    Cell,
    bench_parser,
    fmt_ratio,
    fmt_us,
    geomean,
    present,
    rotated,
    verdict,
    versions,
    write_report,
)
from transitions import Machine

import batchfsm
from batchfsm import Batch, Lifecycle, RequestCounts, Status

BATCHFSM, BARE, PSM, TABLE = "batchfsm", "bare", "psm", "table"
PATH = "path"

DEFAULT_ROUNDS = 40
QUICK_ROUNDS = 3
# 10 ms: well above the timer's resolution and the loop's overhead, short enough that a round
# (2 path cells and 12 event cells, each psm one also building its ~60 machines) takes a few
# tenths of a second.
TARGET_MS = 10.0
QUICK_TARGET_MS = 5.0
# The floor runs ~100x faster than the rest: cap its lists so they stay a few MB.
MAX_SUBJECTS = 50_000

MEMORY_BATCHES = 10_000
# tracemalloc makes building slow (~1.5 s per 10,000), and the counts come out identical.
MEMORY_REPEATS = 3
QUICK_MEMORY_REPEATS = 1
SCALE_BATCHES = 100_000
QUICK_SCALE_BATCHES = 20_000
SCALE_CHUNK = 1_000

PATH_TARGET = 1.15
MEMORY_TARGET = 1.1

NOW = 1_700_000_000
FILE_ID = "file-1"
ENDPOINT = "/v1/responses"

S = Status
# (event, source, dest): the path's three edges, the same in every implementation.
EDGES: tuple[tuple[str, Status, Status], ...] = (
    ("start", S.VALIDATING, S.IN_PROGRESS),
    ("finalize", S.IN_PROGRESS, S.FINALIZING),
    ("complete", S.FINALIZING, S.COMPLETED),
)
SOURCE = {event: source for event, source, _ in EDGES}
DEST = {event: dest for event, _, dest in EDGES}
EVENTS: tuple[str, ...] = tuple(event for event, _, _ in EDGES)

Fire = Callable[[Any], object]


@dataclass(frozen=True)
class Case:
    """What one timing does to each subject: fire `events` on a subject in `source`."""

    name: str
    source: Status
    events: tuple[str, ...]


PATH_CASE = Case(PATH, S.VALIDATING, EVENTS)
EVENT_CASES: tuple[Case, ...] = tuple(Case(event, SOURCE[event], (event,)) for event in EVENTS)


@dataclass(frozen=True)
class Impl:
    """One state machine under test: how to make fresh subjects, and how to fire an event."""

    name: str
    make: Callable[[Status, int], list[Any]]  # (status, n) -> n fresh subjects in status
    fire: Callable[[str], Fire]  # event -> the callable that fires it on one subject


# (case name, implementation name) -> Cell
Cells = dict[tuple[str, str], Cell]


# --- implementations ---------------------------------------------------------------------


@attrs.define(slots=True)
class Plain:
    """The subject of bare, table and psm: a slotted record with the state attribute only."""

    status: Status = Status.VALIDATING


def clock() -> int:
    return NOW


def lifecycle(id_factory: Callable[[], str] | None = None) -> Lifecycle:
    return Lifecycle(clock=clock, id_factory=id_factory)


def drive_to(lc: Lifecycle, batch: Batch, status: Status) -> Batch:
    """Drive a created `batch` along the path until it reaches `status`."""
    for event, source, _ in EDGES:
        if batch.status is status:
            break
        assert batch.status is source
        getattr(lc, event)(batch)
    assert batch.status is status, (batch.status, status)
    return batch


def batchfsm_impl() -> Impl:
    lc = lifecycle()
    prototypes = {
        status: drive_to(lc, lc.create(input_file_id=FILE_ID, endpoint=ENDPOINT), status)
        for status in (S.VALIDATING, *DEST.values())
    }

    def make(status: Status, n: int) -> list[Any]:
        prototype = prototypes[status]
        return [attrs.evolve(prototype) for _ in range(n)]

    def fire(event: str) -> Fire:
        method: Fire = getattr(lc, event)
        return method

    return Impl(BATCHFSM, make, fire)


def bare_machine() -> Machine:
    """A shared machine built the way `Lifecycle` builds its own, with the path's edges."""
    return Machine(
        model=None,
        states=Status,
        transitions=[{"trigger": e, "source": s, "dest": d} for e, s, d in EDGES],
        initial=Status.VALIDATING,
        auto_transitions=False,
        model_attribute="status",
    )


def plain_subjects(status: Status, n: int) -> list[Any]:
    return [Plain(status) for _ in range(n)]


def bare_impl() -> Impl:
    machine = bare_machine()

    def fire(event: str) -> Fire:
        trigger: Fire = machine.events[event].trigger
        return trigger

    return Impl(BARE, plain_subjects, fire)


def table_impl() -> Impl:
    table = {(event, source): dest for event, source, dest in EDGES}

    def fire(event: str) -> Fire:
        def table_fire(obj: Plain) -> None:
            obj.status = table[event, obj.status]

        return table_fire

    return Impl(TABLE, plain_subjects, fire)


def psm_impl() -> Impl | None:
    try:
        from statemachine import StateMachine
        from statemachine.states import States
    except ImportError as exc:
        print(f"python-statemachine is not importable ({exc}): skipping it.")
        print("  Install the bench extra: pip install -e '.[bench]'")
        return None

    try:

        class BatchMachine(StateMachine):
            # Four of the eight statuses are not on the path: without these flags (3.x) the
            # class is refused for unreachable states and states without a way out.
            validate_disconnected_states = False
            validate_trap_states = False
            validate_final_reachability = False

            _ = States.from_enum(Status, initial=Status.VALIDATING)
            start = _.VALIDATING.to(_.IN_PROGRESS)
            finalize = _.IN_PROGRESS.to(_.FINALIZING)
            complete = _.FINALIZING.to(_.COMPLETED)

    # An older python-statemachine may refuse the definition (InvalidDefinition).
    except Exception as exc:
        print(f"python-statemachine refuses the machine ({exc}): skipping it.")
        return None

    def make(status: Status, n: int) -> list[Any]:
        # The machine takes the model's current status as its state.
        return [BatchMachine(model=Plain(status), state_field="status") for _ in range(n)]

    def fire(event: str) -> Fire:
        # ``sm.start()``: the bound event, the cheapest of the documented ways to send one
        # (``sm.send("start")`` looks the event up first, then does the same).
        return operator.methodcaller(event)

    return Impl(PSM, make, fire)


def available_impls() -> list[Impl]:
    found = [batchfsm_impl(), bare_impl(), psm_impl(), table_impl()]
    return [impl for impl in found if impl is not None]


def subject_status(subject: Any) -> Status:
    # A psm machine keeps the status in its model; the others are their own model.
    model = subject if isinstance(subject, (Batch, Plain)) else subject.model
    status: Status = model.status
    return status


def check(impl: Impl, case: Case) -> None:
    """Run `case` once and check that it lands where it should (a wrong setup is a bug here)."""
    (subject,) = impl.make(case.source, 1)
    for event in case.events:
        impl.fire(event)(subject)
    dest = DEST[case.events[-1]]
    if subject_status(subject) is not dest:
        raise SystemExit(f"{impl.name} {case.name}: ended in {subject_status(subject)}, not {dest}")
    if isinstance(subject, Batch):
        stamps = (subject.in_progress_at, subject.finalizing_at, subject.completed_at)
        reached = EVENTS.index(case.events[-1])
        expected = tuple(NOW if i <= reached else None for i in range(len(EVENTS)))
        if stamps != expected:
            raise SystemExit(f"{impl.name} {case.name}: stamps {stamps}, expected {expected}")


# --- timing ------------------------------------------------------------------------------


def time_steps(steps: Sequence[Fire], subjects: Sequence[Any]) -> float:
    """µs per subject of calling each of `steps` (one or three) on each of `subjects`.

    The collector is off while timing, as in timeit: a collection triggered by garbage an
    earlier measurement left behind would otherwise land on whoever runs next.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if len(steps) == 1:
            (fire,) = steps
            start = time.perf_counter_ns()
            for subject in subjects:
                fire(subject)
            elapsed = time.perf_counter_ns() - start
        else:
            first, second, third = steps
            start = time.perf_counter_ns()
            for subject in subjects:
                first(subject)
                second(subject)
                third(subject)
            elapsed = time.perf_counter_ns() - start
    finally:
        if was_enabled:
            gc.enable()
    return elapsed / len(subjects) / 1000


def measure(impl: Impl, case: Case, n: int) -> float:
    subjects = impl.make(case.source, n)  # outside the timed region
    return time_steps([impl.fire(event) for event in case.events], subjects)


def calibrate(impl: Impl, case: Case, target_ms: float) -> int:
    """Subjects per measurement so that one takes about `target_ms`; also warms caches up."""
    n = 1
    while True:
        per_subject_us = measure(impl, case, n)
        if per_subject_us * n >= 1000 or n >= MAX_SUBJECTS:  # 1 ms for a stable estimate
            break
        n *= 4
    return max(1, min(MAX_SUBJECTS, round(target_ms * 1000 / per_subject_us)))


def plan(impls: Sequence[Impl]) -> list[tuple[Case, list[Impl]]]:
    """The cases and who runs each: the path is batchfsm against bare only."""
    on_path = [impl for impl in impls if impl.name in (BATCHFSM, BARE)]
    return [(PATH_CASE, on_path), *((case, list(impls)) for case in EVENT_CASES)]


def prepare(work: Sequence[tuple[Case, list[Impl]]], target_ms: float) -> Cells:
    cells: Cells = {}
    for case, impls in work:
        for impl in impls:
            check(impl, case)
            cells[case.name, impl.name] = Cell(calibrate(impl, case, target_ms))
    return cells


def run_rounds(work: Sequence[tuple[Case, list[Impl]]], cells: Cells, rounds: int) -> None:
    for r in range(rounds):
        gc.collect()  # once per round: the psm machines hold reference cycles
        for case, impls in work:
            for impl in rotated(impls, r):
                cell = cells[case.name, impl.name]
                cell.samples_us.append(measure(impl, case, cell.n))
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr)


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
    completed = drive_to(lc, lc.create(input_file_id=FILE_ID, endpoint=ENDPOINT), S.COMPLETED)
    created = completed.created_at
    window = completed.expires_at - created if completed.expires_at is not None else 0

    def driven(out: list[Any]) -> None:
        for i in range(len(out)):
            batch = lc.create(input_file_id=FILE_ID, endpoint=ENDPOINT)
            start(batch)
            finalize(batch)
            complete(batch)
            out[i] = batch

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
    probe: list[Any] = [None]
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
            for name in [*names[r % 3 :], *names[: r % 3]]:
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


# --- scale -------------------------------------------------------------------------------


def measure_scale(impls: Sequence[Impl], cells: Cells, large: int) -> dict[str, Any]:
    """The path over `large` fresh subjects per implementation, against the calibrated size.

    All `large` subjects of every implementation are built first and stay alive; they are
    then driven in consecutive chunks of `SCALE_CHUNK`, the implementations alternating chunk
    by chunk (order rotated), so the paired ratio at scale is as drift-proof as the rounds'.
    The calibrated size is timed just before and just after. If something were kept per
    batch, the last chunks would cost more than the first.
    """
    on_path = [impl for impl in impls if (PATH, impl.name) in cells]
    chunk = min(SCALE_CHUNK, large)
    chunks = max(1, large // chunk)
    gc.collect()
    population = {impl.name: impl.make(PATH_CASE.source, chunks * chunk) for impl in on_path}
    steps = {impl.name: [impl.fire(event) for event in PATH_CASE.events] for impl in on_path}
    small: dict[str, list[float]] = {impl.name: [] for impl in on_path}
    at_scale: dict[str, list[float]] = {impl.name: [] for impl in on_path}
    for impl in on_path:
        small[impl.name].append(measure(impl, PATH_CASE, cells[PATH, impl.name].n))
    for i in range(chunks):
        for impl in rotated(on_path, i):
            subjects = population[impl.name][i * chunk : (i + 1) * chunk]
            at_scale[impl.name].append(time_steps(steps[impl.name], subjects))
    for impl in on_path:
        small[impl.name].append(measure(impl, PATH_CASE, cells[PATH, impl.name].n))
    tenth = max(1, chunks // 10)
    result: dict[str, Any] = {"large": chunks * chunk, "chunk": chunk}
    for impl in on_path:
        samples = at_scale[impl.name]
        result[impl.name] = {
            "small_n": cells[PATH, impl.name].n,
            "small_us": statistics.fmean(small[impl.name]),
            "large_us": statistics.median(samples),
            "first_tenth_us": statistics.median(samples[:tenth]),
            "last_tenth_us": statistics.median(samples[-tenth:]),
            "chunk_samples_us": samples,
        }
        entry = result[impl.name]
        entry["large/small"] = entry["large_us"] / entry["small_us"]
        entry["last/first"] = entry["last_tenth_us"] / entry["first_tenth_us"]
    if BATCHFSM in at_scale and BARE in at_scale:
        # Per-chunk ratios: the machine's drift over the run cancels out of these.
        ratios = [a / b for a, b in zip(at_scale[BATCHFSM], at_scale[BARE], strict=True)]
        result["batchfsm/bare large"] = statistics.median(ratios)
        result["batchfsm/bare first tenth"] = statistics.median(ratios[:tenth])
        result["batchfsm/bare last tenth"] = statistics.median(ratios[-tenth:])
        result["batchfsm/bare small"] = result[BATCHFSM]["small_us"] / result[BARE]["small_us"]
    return result


# --- report ------------------------------------------------------------------------------


def ratio(cells: Cells, case: str, num: str, den: str) -> float | None:
    top, bottom = cells.get((case, num)), cells.get((case, den))
    if top is None or bottom is None:
        return None
    return top.median_us / bottom.median_us


def paired_ratio(cells: Cells, case: str, num: str, den: str) -> float | None:
    """Median over rounds of the ratio within each round: a cross-check on `ratio`.

    Samples of one round were taken moments apart, so this cancels drift slower than a
    round (this kind of machine can change speed by half mid-run) better than medians do.
    """
    top, bottom = cells.get((case, num)), cells.get((case, den))
    if top is None or bottom is None:
        return None
    pairs = zip(top.samples_us, bottom.samples_us, strict=True)
    return statistics.median(a / b for a, b in pairs)


def print_path(cells: Cells, rounds: int) -> None:
    print(f"\nPath start -> finalize -> complete, us per path (median of {rounds} rounds)")
    for name in (BATCHFSM, BARE):
        cell = cells.get((PATH, name))
        if cell is not None:
            print(f"  {name:<10}{fmt_us(cell):>9}   n={cell.n}, IQR {cell.spread:.0%} of median")


# (numerator, denominator) of the ratios the event table and summary show.
EVENT_RATIOS: tuple[tuple[str, str], ...] = (
    (BATCHFSM, BARE),
    (PSM, BARE),
    (BATCHFSM, TABLE),
    (BARE, TABLE),
    (PSM, TABLE),
)
SHORT = {BATCHFSM: "bf", BARE: "bare", PSM: "psm", TABLE: "table"}


def print_events(cells: Cells, rounds: int) -> None:
    print(f"\nOne event on a fresh subject, us per call (median of {rounds} rounds)")
    names = (BATCHFSM, BARE, PSM, TABLE)
    labels = [f"{SHORT[num]}/{SHORT[den]}" for num, den in EVENT_RATIOS]
    print(
        f"  {'event':<10}"
        + "".join(f"{n:>10}" for n in names)
        + "".join(f"{x:>13}" for x in labels)
    )
    for case in EVENT_CASES:
        times = "".join(f"{fmt_us(cells.get((case.name, n))):>10}" for n in names)
        ratios = "".join(
            f"{fmt_ratio(ratio(cells, case.name, num, den)):>13}" for num, den in EVENT_RATIOS
        )
        print(f"  {case.name:<10}{times}{ratios}")


def summary(cells: Cells) -> dict[str, Any]:
    result: dict[str, Any] = {
        "path batchfsm/bare": {
            "ratio": ratio(cells, PATH, BATCHFSM, BARE),
            "paired": paired_ratio(cells, PATH, BATCHFSM, BARE),
        }
    }
    for num, den in EVENT_RATIOS:
        values = present(ratio(cells, case.name, num, den) for case in EVENT_CASES)
        paired = present(paired_ratio(cells, case.name, num, den) for case in EVENT_CASES)
        result[f"event {num}/{den}"] = {
            "geomean": geomean(values),
            "paired_geomean": geomean(paired),
            "min": min(values, default=None),
            "max": max(values, default=None),
        }
    return result


def print_memory(memory: dict[str, Any]) -> None:
    per_batch = memory["bytes_per_batch"]
    print(f"\nMemory retained per batch, {memory['batches']} batches (tracemalloc)")
    print(f"  driven   {per_batch['driven']:>8.0f} B   created by Lifecycle, driven to completed")
    print(f"  record   {per_batch['record']:>8.0f} B   the same records, made without the engine")
    print(f"  decoded  {per_batch['decoded']:>8.0f} B   loads(dumps(batch)): owns all its values")


def print_scale(scale: dict[str, Any]) -> None:
    print(
        f"\nScale: the path over {scale['large']} live batches, in chunks of {scale['chunk']},"
        " vs at the calibrated size"
    )
    for name in (BATCHFSM, BARE):
        entry = scale.get(name)
        if entry is None:
            continue
        print(
            f"  {name:<10}{entry['small_us']:>7.2f} us at n={entry['small_n']:<6}"
            f"{entry['large_us']:>7.2f} us at scale (large/small {entry['large/small']:.2f}x),"
            f" last/first tenth {entry['last/first']:.2f}x"
        )
    if "batchfsm/bare large" in scale:
        print(
            f"  batchfsm/bare: {scale['batchfsm/bare small']:.2f}x at the calibrated size,"
            f" {scale['batchfsm/bare large']:.2f}x at scale (paired over chunks);"
            f" first tenth {scale['batchfsm/bare first tenth']:.2f}x,"
            f" last tenth {scale['batchfsm/bare last tenth']:.2f}x"
        )


def print_summary(
    stats: dict[str, Any],
    cells: Cells,
    memory: dict[str, Any] | None,
    scale: dict[str, Any] | None,
    rounds: int,
) -> None:
    print(f"\nSummary: ratios of medians ({rounds} rounds); paired = median of per-round ratios")
    path = stats["path batchfsm/bare"]
    paired = fmt_ratio(path["paired"])
    print(f"  {'path batchfsm/bare':<24}{fmt_ratio(path['ratio']):>7}  paired {paired}")
    for num, den in EVENT_RATIOS:
        entry = stats[f"event {num}/{den}"]
        span = ""
        if entry["geomean"] is not None:
            span = (
                f"  range {fmt_ratio(entry['min'])}-{fmt_ratio(entry['max'])}"
                f" over {len(EVENT_CASES)} events,"
                f" paired {fmt_ratio(entry['paired_geomean'])}"
            )
        print(f"  {f'event {num}/{den}':<24}{fmt_ratio(entry['geomean']):>7}{span}")
    if memory is not None:
        print(f"  {'memory driven/record':<24}{fmt_ratio(memory['driven/record']):>7}")
        print(f"  {'memory decoded/record':<24}{fmt_ratio(memory['decoded/record']):>7}")
    if scale is not None and "batchfsm/bare large" in scale:
        at_scale = fmt_ratio(scale["batchfsm/bare large"])
        print(f"  {'path at scale':<24}{at_scale:>7}  paired over chunks")
    print(f"  target path <= {PATH_TARGET}x bare (paired): {verdict(path['paired'], PATH_TARGET)}")
    if memory is not None:
        driven = memory["driven/record"]
        print(f"  target memory <= {MEMORY_TARGET}x record: {verdict(driven, MEMORY_TARGET)}")
    if cells:
        (case, impl), cell = max(cells.items(), key=lambda item: item[1].spread)
        print(f"  noisiest cell: {impl} {case}, IQR {cell.spread:.0%} of median")


# The packages whose versions the report names.
VERSIONED = ("batchfsm", "transitions", "statemachine", "attrs")


def write_json(
    path: Path,
    cells: Cells,
    stats: dict[str, Any],
    memory: dict[str, Any] | None,
    scale: dict[str, Any] | None,
    rounds: int,
) -> None:
    report = {
        "versions": versions(*VERSIONED),
        "platform": platform.platform(),
        "rounds": rounds,
        "cells": [
            {
                "case": case,
                "impl": impl,
                "n": cell.n,
                "median_us": cell.median_us,
                "iqr_over_median": cell.spread,
                "samples_us": cell.samples_us,
            }
            for (case, impl), cell in cells.items()
        ],
        "summary": stats,
        "memory": memory,
        "scale": scale,
        "targets": {"path": PATH_TARGET, "memory": MEMORY_TARGET},
    }
    write_report(path, report)


# --- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = bench_parser(__doc__, DEFAULT_ROUNDS, f"{QUICK_ROUNDS} rounds, shorter batches")
    parser.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help=f"batches for the scale line, 0 to skip (default {SCALE_BATCHES},"
        f" {QUICK_SCALE_BATCHES} with --quick)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.scale is not None and args.scale < 0:
        parser.error("--scale must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    target_ms = QUICK_TARGET_MS if args.quick else TARGET_MS
    large = (
        args.scale
        if args.scale is not None
        else (QUICK_SCALE_BATCHES if args.quick else SCALE_BATCHES)
    )
    print(" ".join(f"{k} {v}" for k, v in versions(*VERSIONED).items()))

    started = time.perf_counter()
    impls = available_impls()
    work = plan(impls)
    cells = prepare(work, target_ms)
    run_rounds(work, cells, rounds)
    scale = measure_scale(impls, cells, large) if large else None
    repeats = QUICK_MEMORY_REPEATS if args.quick else MEMORY_REPEATS
    memory = None if args.no_memory else measure_memory(MEMORY_BATCHES, repeats)

    print_path(cells, rounds)
    print_events(cells, rounds)
    if memory is not None:
        print_memory(memory)
    if scale is not None:
        print_scale(scale)
    stats = summary(cells)
    print_summary(stats, cells, memory, scale, rounds)
    print(f"  wall time {time.perf_counter() - started:.1f} s")
    if args.json is not None:
        write_json(args.json, cells, stats, memory, scale, rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
