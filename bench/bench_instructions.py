"""CPU instructions per codec call, counted by callgrind: a deterministic bench_codec.py.

Wall-clock timings on a shared machine drift (by 2x between runs here); instruction counts
do not. For each measurement a child Python (``sys.executable``) runs one operation in a
loop under ``valgrind --tool=callgrind``, twice: with N1 and with N2 iterations (1000 and
5000 by default). The per-call count is ``(I(N2) - I(N1)) / (N2 - N1)``, which cancels
interpreter start-up, imports, reading the payload and the first calls (cache fills,
specialisation). The loop's own cost stays in, as it does in bench_codec.py: ~400
instructions per call (a loop calling ``id(b"")`` counts that): under 1% of the batchfsm
and openai counts, ~1.5% of orjson's.

Repeated runs give the very same totals for batchfsm and orjson (between invocations of
this script, per-call counts moved by <0.1%). openai's totals jitter by up to ~1.3e6
instructions in start-up (the jitter does not grow with N), which N2 - N1 = 4000 calls
turn into up to ~0.8% of its per-call count; ``--repeat K`` runs each child K times and
uses the median total at each N.

Operations, on ``tests/payloads/004_completed_openapi-batch-object.json`` by default:

* batchfsm: ``batchfsm.loads(raw)`` / ``batchfsm.dumps(batch)``, and
  ``batchfsm.validate(raw)``, compared with openai's decode (checking the model is all it does);
* openai (the peer): ``openai.types.Batch.model_validate_json(raw)`` /
  ``model.model_dump_json()``;
* orjson (reference, a JSON parse and nothing else): ``orjson.loads(raw)``;
* the engine path start -> finalize -> complete on a fresh subject, exactly as
  bench_engine.py drives it (its code is imported): batchfsm's named methods, ``fire``, and
  the peer, a shared transitions machine with string states on plain records whose caller
  sets the three stamps by hand. Each path costs ~20 codec calls, so these runs make a fifth
  of N1 and N2 paths; every run makes N2 / 5 fresh subjects, so that making them cancels out.

The summary compares batchfsm with its peers against the targets (loads <= 1.3x openai,
goal 1.0x; validate <= 1.8x openai's decode, goal 1.5x; dumps <= 1.0x openai; path <= 1.3x
the peer); with several payloads, as geometric means over them. Instructions are not time
(cache misses, branch mispredictions and the cost of each instruction differ), but a change
in the count is a change in the work done, without the noise. The exit code is 0
regardless of the verdicts, and also when valgrind or a peer is missing.

Run it from the repository root, with batchfsm importable (installed, or ``PYTHONPATH=.``)
and the ``bench`` extra installed (openai; orjson comes with batchfsm on CPython)::

    python bench/bench_instructions.py                 # one payload, about two minutes
    python bench/bench_instructions.py --payload some.json
    python bench/bench_instructions.py --all           # every canonical payload, ~13 min
    python bench/bench_instructions.py --path-only     # the engine path alone, ~2 minutes

Child processes run with PYTHONHASHSEED=0, and each is run once without valgrind first:
that checks it works and leaves its bytecode caches written, so that neither counted run
pays for compiling.
"""

import argparse
import itertools
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench_engine import FIRE, PATH_TARGET, PEER

import batchfsm

BATCHFSM, OPENAI, ORJSON = "batchfsm", "openai", "orjson"
LOADS, DUMPS, VALIDATE, PATH = "loads", "dumps", "validate", "path"
# (implementation, operation), the slowest to run under callgrind first: openai's imports
# take ~40 s there, so starting them first keeps both cores busy to the end.
OPERATIONS: tuple[tuple[str, str], ...] = (
    (OPENAI, LOADS),
    (OPENAI, DUMPS),
    (BATCHFSM, LOADS),
    (BATCHFSM, DUMPS),
    (BATCHFSM, VALIDATE),
    (ORJSON, LOADS),
)
PATH_OPERATIONS: tuple[tuple[str, str], ...] = ((BATCHFSM, PATH), (FIRE, PATH), (PEER, PATH))
PATH_SHARE = 5  # a path run makes N / PATH_SHARE paths

DEFAULT_N1 = 1000
DEFAULT_N2 = 5000
WARMUP_CALLS = 20

LOADS_TARGET = 1.3
DUMPS_TARGET = 1.0
VALIDATE_TARGET = 1.8  # batchfsm.validate against openai's decode, which is all it checks
TARGETS: dict[str, float] = {LOADS: LOADS_TARGET, DUMPS: DUMPS_TARGET, VALIDATE: VALIDATE_TARGET}
GOALS: dict[str, float] = {LOADS: 1.0, VALIDATE: 1.5}

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PAYLOAD_DIR = REPO_ROOT / "tests" / "payloads"
DEFAULT_PAYLOAD = PAYLOAD_DIR / "004_completed_openapi-batch-object.json"

VALGRIND_ARGS: tuple[str, ...] = ("--tool=callgrind", "--callgrind-out-file=/dev/null")
# "pydantic_core._pydantic_core.ValidationError: 1 validation error for Batch"
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*: ")
COLLECTED = re.compile(r"^==\d+== Collected\s*:\s*([\d,]+)\s*$", re.MULTILINE)

# The child: sets up one operation, warms it up, then calls it n times with the collector
# off (as bench_codec.py times). It imports only what its implementation needs: openai's
# imports alone are ~2.2e9 instructions, ~40 s under callgrind. The bound methods are called
# directly, not through lambdas, as in bench_codec.py. The loop is in a function, where
# its variables are locals: at module level it costs ~850 instructions per call, not ~400.
CHILD = """\
import gc, itertools, sys
impl, op, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(path, "rb") as f:
    raw = f.read()
if impl == "batchfsm":
    import batchfsm
    loads, dumps = batchfsm.loads, batchfsm.dumps
    if op == "validate":
        loads, op = batchfsm.validate, "loads"
elif impl == "openai":
    from openai.types import Batch
    loads, dumps = Batch.model_validate_json, Batch.model_dump_json
elif impl == "orjson":
    import orjson
    loads, dumps = orjson.loads, orjson.dumps
else:
    raise SystemExit(f"unknown implementation {impl!r}")
def calls(fn, arg, n):
    for _ in itertools.repeat(None, n):
        fn(arg)
fn, arg = (loads, raw) if op == "loads" else (dumps, loads(raw))
calls(fn, arg, WARMUP)
gc.collect()
gc.disable()
calls(fn, arg, n)
""".replace("WARMUP", str(WARMUP_CALLS))

# The child of a path run: bench_engine.py's own implementations, `made` subjects made in
# every run alike, `n` of them driven along the path.
PATH_CHILD = """\
import gc, sys
impl, n, made = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, BENCH_DIR)
import bench_engine
impls = (*bench_engine.batchfsm_impls(), bench_engine.peer_impl())
(chosen,) = [i for i in impls if i.name == impl]
chosen.drive(chosen.make(WARMUP))
driven = chosen.make(made)[:n]
gc.collect()
gc.disable()
chosen.drive(driven)
""".replace("WARMUP", str(WARMUP_CALLS)).replace("BENCH_DIR", repr(str(BENCH_DIR)))


@dataclass(frozen=True)
class Job:
    """One child run: `n` calls of `op` of `impl` on `payload`, under callgrind or not.

    A path run has no payload; it makes `made` subjects and drives `n` of them.
    """

    impl: str
    op: str
    payload: Path | None
    n: int
    made: int = 0

    @property
    def subject(self) -> str:
        return PATH if self.payload is None else self.payload.stem


@dataclass(frozen=True)
class Outcome:
    instructions: int | None
    error: str | None = None


# (payload name, implementation, operation) -> instructions per call
Counts = dict[tuple[str, str, str], float]
# (payload name, implementation, operation) -> (totals of the runs at N1, at N2)
Totals = dict[tuple[str, str, str], tuple[list[int], list[int]]]


# --- child processes ---------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment of a child: deterministic hashing, and the parent's batchfsm."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    # The directory batchfsm was imported from, first: the child measures the same code.
    source = str(Path(batchfsm.__file__).resolve().parents[1])
    paths = [source, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def child_command(job: Job) -> list[str]:
    if job.payload is None:
        return [sys.executable, "-c", PATH_CHILD, job.impl, str(job.n), str(max(job.made, 1))]
    return [sys.executable, "-c", CHILD, job.impl, job.op, str(job.n), str(job.payload)]


def exception_summary(stderr: str, limit: int = 160) -> str:
    """The exception a child died of, from its stderr: its line and the two after it."""
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("==")]
    starts = [i for i, line in enumerate(lines) if EXCEPTION_LINE.match(line)]
    first = starts[-1] if starts else max(len(lines) - 1, 0)
    text = " | ".join(line.strip() for line in lines[first : first + 3]) or "(no output)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_plain(job: Job, env: dict[str, str]) -> Outcome:
    """Run a job without valgrind: does it work? (It also writes the bytecode caches.)"""
    done = subprocess.run(child_command(job), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return Outcome(None, exception_summary(done.stderr))
    return Outcome(0)


def run_callgrind(job: Job, valgrind: str, env: dict[str, str]) -> Outcome:
    command = [valgrind, *VALGRIND_ARGS, *child_command(job)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return Outcome(None, f"exit {done.returncode}: {exception_summary(done.stderr)}")
    found = COLLECTED.search(done.stderr)
    if found is None:
        return Outcome(
            None, f"no 'Collected' line in valgrind's output: {exception_summary(done.stderr)}"
        )
    return Outcome(int(found.group(1).replace(",", "")))


# --- payloads ----------------------------------------------------------------------------


def canonical_payloads(directory: Path) -> list[Path]:
    """The example payloads batchfsm accepts under the default profile."""
    kept: list[Path] = []
    for path in sorted(directory.glob("*.json")):
        try:
            batchfsm.loads(path.read_bytes())
        except batchfsm.PayloadError as exc:
            print(f"skip {path.name}: not canonical ({len(exc.violations)} problem(s))")
            continue
        kept.append(path)
    return kept


# --- measuring ---------------------------------------------------------------------------


def check_jobs(jobs: Sequence[Job], env: dict[str, str], workers: int) -> list[Job]:
    """The jobs whose child runs; the others are reported (a peer may reject a payload)."""
    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(lambda job: run_plain(job, env), jobs))
    kept: list[Job] = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome.error is None:
            kept.append(job)
        else:
            print(f"note: {job.impl} {job.op} fails on {job.subject}: {outcome.error}")
    return kept


def measure(
    jobs: Sequence[Job], n1: int, n2: int, repeat: int, valgrind: str, workers: int
) -> tuple[Counts, Totals]:
    """Per-call instruction counts of `jobs`, and the totals of every run behind them.

    Each count uses the median total at n1 and at n2 over `repeat` runs: openai's runs
    differ by up to ~1.3e6 instructions, either way, in start-up.
    """
    env = child_env()

    def sizes(job: Job) -> tuple[int, int]:
        return (n1, n2) if job.payload is not None else (n1 // PATH_SHARE, n2 // PATH_SHARE)

    runs = [
        Job(job.impl, job.op, job.payload, n, made=sizes(job)[1])
        for job in jobs
        for n in sizes(job)
        for _ in range(repeat)
    ]
    finished = itertools.count(1)

    def run(job: Job) -> Outcome:
        outcome = run_callgrind(job, valgrind, env)
        done = next(finished)  # next() on a count is atomic in CPython
        print(f"  {done}/{len(runs)}: {job.impl} {job.op} x{job.n}", file=sys.stderr)
        return outcome

    with ThreadPoolExecutor(workers) as pool:
        outcomes = iter(list(pool.map(run, runs)))
    counts: Counts = {}
    totals: Totals = {}
    for job in jobs:
        small = [next(outcomes) for _ in range(repeat)]
        large = [next(outcomes) for _ in range(repeat)]
        errors = [o.error for o in (*small, *large) if o.instructions is None]
        if errors:
            print(f"note: {job.impl} {job.op} on {job.subject}: {errors[0]}")
            continue
        key = (job.subject, job.impl, job.op)
        totals[key] = ([o.instructions or 0 for o in small], [o.instructions or 0 for o in large])
        at_n1, at_n2 = (statistics.median(runs) for runs in totals[key])
        low, high = sizes(job)
        counts[key] = (at_n2 - at_n1) / (high - low)
    return counts, totals


# --- report ------------------------------------------------------------------------------


def ratio(counts: Counts, payload: str, op: str, num: str = BATCHFSM) -> float | None:
    # validate is compared with openai's decode: checking the model is all openai does.
    peer_op = LOADS if op == VALIDATE else op
    top, bottom = counts.get((payload, num, op)), counts.get((payload, OPENAI, peer_op))
    if top is None or bottom is None or bottom <= 0:
        return None
    return top / bottom


def fmt_count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}x"


def print_payload(path: Path, counts: Counts) -> None:
    name = path.stem
    print(f"\n{name}  ({path.stat().st_size} B in)  instructions per call")
    print(f"  {'op':<6}{'batchfsm':>11}{'openai':>11}{'orjson':>10}{'bf/openai':>11}")
    for op in (LOADS, DUMPS, VALIDATE):
        print(
            f"  {op:<6}"
            f"{fmt_count(counts.get((name, BATCHFSM, op))):>11}"
            f"{fmt_count(counts.get((name, OPENAI, op))):>11}"
            f"{fmt_count(counts.get((name, ORJSON, op))):>10}"
            f"{fmt_ratio(ratio(counts, name, op)):>11}"
        )


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "SKIPPED (no openai or batchfsm count)"
    return f"{value:.3f}x {'MET' if value <= limit else 'MISSED'}"


def print_path(counts: Counts) -> None:
    print("\nPath start -> finalize -> complete, instructions per path")
    peer = counts.get((PATH, PEER, PATH))
    for impl, _ in PATH_OPERATIONS:
        count = counts.get((PATH, impl, PATH))
        share = None if count is None or not peer else count / peer
        print(f"  {impl:<10}{fmt_count(count):>11}{fmt_ratio(share):>9} of {PEER}")


def path_ratio(counts: Counts) -> float | None:
    top, bottom = counts.get((PATH, BATCHFSM, PATH)), counts.get((PATH, PEER, PATH))
    return None if top is None or not bottom else top / bottom


def print_summary(counts: Counts, payloads: Sequence[Path]) -> None:
    if not payloads:
        print("\nSummary")
    several = len(payloads) > 1
    if payloads:
        print("\nSummary: batchfsm/openai instructions per call", end="")
        print(f" (geometric mean over {len(payloads)} payloads)" if several else "")
    for op in (LOADS, DUMPS, VALIDATE) if payloads else ():
        values = [r for p in payloads if (r := ratio(counts, p.stem, op)) is not None]
        mean = statistics.geometric_mean(values) if values else None
        span = f"  (range {min(values):.3f}x-{max(values):.3f}x)" if several and values else ""
        print(f"  target {op} <= {TARGETS[op]}x openai: {verdict(mean, TARGETS[op])}{span}")
        if op in GOALS:
            print(f"  goal   {op} <= {GOALS[op]}x openai: {verdict(mean, GOALS[op])}")
    floors = [r for p in payloads if (r := ratio(counts, p.stem, LOADS, ORJSON)) is not None]
    if floors:
        print(f"  reference: orjson.loads / openai loads {statistics.geometric_mean(floors):.3f}x")
    if any(key[0] == PATH for key in counts):
        met = verdict(path_ratio(counts), PATH_TARGET)
        print(f"  target path <= {PATH_TARGET}x {PEER}: {met}")


def versions() -> str:
    found = {"python": platform.python_version(), "batchfsm": batchfsm.__version__}
    for distribution in ("openai", "pydantic", "pydantic-core", "orjson", "cattrs", "attrs"):
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return " ".join(f"{k} {v}" for k, v in found.items())


def valgrind_version(valgrind: str) -> str:
    done = subprocess.run([valgrind, "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "valgrind (unknown version)"


# --- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--payload",
        type=Path,
        default=DEFAULT_PAYLOAD,
        metavar="PATH",
        help=f"the payload to measure (default {DEFAULT_PAYLOAD.relative_to(REPO_ROOT)})",
    )
    which.add_argument(
        "--all",
        action="store_true",
        help=f"every payload in {PAYLOAD_DIR.relative_to(REPO_ROOT)} that loads (default profile)",
    )
    parser.add_argument("--n1", type=int, default=DEFAULT_N1, help="calls in the short run")
    parser.add_argument("--n2", type=int, default=DEFAULT_N2, help="calls in the long run")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="child runs in parallel"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs at each of N1 and N2; the median counts"
    )
    parser.add_argument("--raw", action="store_true", help="also print the total counts")
    part = parser.add_mutually_exclusive_group()
    part.add_argument("--no-path", action="store_true", help="skip the engine path")
    part.add_argument("--path-only", action="store_true", help="only the engine path")
    args = parser.parse_args(argv)
    if not 0 < args.n1 < args.n2:
        parser.error("need 0 < --n1 < --n2")
    if not args.no_path and not 0 < args.n1 // PATH_SHARE < args.n2 // PATH_SHARE:
        parser.error(f"the path runs need 0 < --n1 / {PATH_SHARE} < --n2 / {PATH_SHARE}")
    if args.jobs < 1 or args.repeat < 1:
        parser.error("--jobs and --repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(versions())
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed (apt-get install valgrind): nothing measured.")
        return 0
    print(f"{valgrind_version(valgrind)}, N1={args.n1}, N2={args.n2}, {args.jobs} in parallel")

    payloads: list[Path] = []
    if args.path_only:
        pass
    elif args.all:
        payloads = canonical_payloads(PAYLOAD_DIR)
    elif args.payload.is_file():
        payloads = [args.payload.resolve()]
    else:
        print(f"no such payload file: {args.payload}")
        return 0
    if not payloads and not args.path_only:
        print("no payload to measure")
        return 0

    started = time.perf_counter()
    wanted = [Job(impl, op, path, 1) for path in payloads for impl, op in OPERATIONS]
    if not args.no_path:
        # After the first payload's openai runs, the slowest, and before the rest.
        first = sum(1 for impl, _ in OPERATIONS if impl == OPENAI) if payloads else 0
        wanted[first:first] = [Job(impl, op, None, 1) for impl, op in PATH_OPERATIONS]
    jobs = check_jobs(wanted, child_env(), args.jobs)
    counts, totals = measure(jobs, args.n1, args.n2, args.repeat, valgrind, args.jobs)
    for path in payloads:
        print_payload(path, counts)
    if not args.no_path:
        print_path(counts)
    if args.raw:
        print("\nTotal instructions of the runs (N1 runs; N2 runs):")
        for (name, impl, op), (small, large) in totals.items():
            listed = "; ".join(" ".join(f"{total:,}" for total in runs) for runs in (small, large))
            print(f"  {name} {impl} {op}: {listed}")
    print_summary(counts, payloads)
    print(f"  wall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
