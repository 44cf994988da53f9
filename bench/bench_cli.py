"""Throughput and memory of ``batchfsm validate`` on a large JSON Lines file, against in-process.

What it measures, all in one run (timings interleaved round by round, so drift in the
machine's speed hits both sides alike):

0. The input: a JSON Lines file of N payloads (200,000; 20,000 with --quick; ``--count``),
   built without Hypothesis from the example payloads in ``tests/payloads/``: the clean ones
   (002 completed, 003 cancelling, 004 completed with usage and model), the two that carry an
   ``endpoint.unknown`` warning (009, 010) and the invalid one (001: a validating batch
   without ``expires_at``), each line a variation of one of them: a distinct id
   (``batch_`` + 24 hex digits), every timestamp shifted by one random offset (order and
   window kept), random ``request_counts`` that fit the status (completed + failed = total
   for a completed batch, <= total otherwise), a distinct ``customer_id`` where there is
   metadata, and for a fifth of them unknown keys at top level and nested (kept in
   ``extra``, reported by nothing). A few percent are invalid on purpose: 3% have
   completed + failed > total (``counts.exceeds_total``), 1% are the 001 variation. Each is
   written with ``json.dumps(payload, separators=(",", ":"))``, one per line, to a temporary
   directory (``TMPDIR`` decides where; the memory part also writes a 4N file, ~530 MB at
   the default N). The script prints the file's size, the payload count and the mix, and
   checks that ``batchfsm.validate`` judges every line as the mix says.

1. Checks (not timed): the command exists (``batchfsm validate --help`` exits 0; if it does
   not, the in-process rate is measured alone and the command reported missing); on the
   first 2,000 lines, ``--format jsonl`` writes one record per line whose ``valid`` (or
   ``ok``) and ``batch_id`` agree with ``batchfsm.validate``, and the same from stdin
   (``-``); ``--quiet`` prints lines for the invalid payloads and only for them (by the
   ``PATH:LINE:`` their lines start with, else by batch id); exit codes:
   1 for that mixed file, 0 for a one-line clean file, 2 for a missing path and for a bad
   ``--format``. A failed check is printed as ``CHECK FAILED`` and the run goes on.

2. Rate, interleaved over 5 rounds (3 with --quick; ``--rounds``), each round running, in
   this order on even rounds and the reverse on odd ones:

   * cli: ``batchfsm validate --quiet --no-progress FILE`` (the ``batchfsm`` script next to
     ``sys.executable``, else the one on PATH), stdout to /dev/null: the wall time of the
     whole child process, start-up and imports included (amortised over N);
   * in-process: this process opens the same file, reads it line by line as bytes and calls
     ``batchfsm.validate(line).ok`` on each, the work the command must do at the least
     (reading included, with the garbage collector on as in the command, after one
     ``gc.collect()``);
   * jsonl: ``batchfsm validate --format jsonl --no-progress FILE`` to /dev/null (no target:
     it also encodes one record per payload);
   * start-up: the cli command on a one-line file, i.e. what start-up and imports cost.

   Rates are payloads per second from the median time across rounds. Target: cli rate >=
   0.8x the in-process rate, judged on the paired ratio (the median over rounds of
   in-process time / cli time, two runs taken moments apart); the ratio of the medians is
   shown too, and, without a target, the cli rate with that round's start-up taken off.

3. Memory: the peak RSS of each command child, for the cli on N payloads (median over the
   rounds) and on 4N (the first N lines are the same, the rest new, every id distinct), run
   once after the rounds; the same for jsonl, without a target, and the one-line run as the
   floor. Every command child runs under GNU time (``/usr/bin/time -f %M -o FILE``, ~1 ms
   more per run, in every round alike), which reports the child's own peak. Not
   ``os.wait4`` / ``RUSAGE_CHILDREN`` from this process: Linux carries the parent's
   high-water mark across fork and exec, so any child spawned from here reports at least
   this process's own peak RSS (a ``/bin/true`` spawned from a 200 MB parent reports 213
   MB): measured that way, every figure here came out as this script's own peak. Without
   GNU time the script falls back to ``os.wait4`` and says that its figures are floored
   at its own peak. Target: flat memory, peak(4N) / peak(N) <= 1.1. With the command's
   floor at ~24 MB (the one-line run), that fails only when it keeps more than ~4 bytes
   per payload at the default N (~40 bytes with --quick), so the growth per payload,
   (peak(4N) - peak(N)) / 3N, is printed as well. ``--no-memory`` skips this part and the
   4N file.

The exit code is 0 regardless of the verdicts and of failed checks.

Run it from the repository root, with batchfsm installed so that its ``batchfsm`` script
sits next to the interpreter (a virtualenv with ``pip install -e .``)::

    python bench/bench_cli.py                   # 200,000 payloads, 5 rounds, ~2 minutes
    python bench/bench_cli.py --quick           # smoke run: 20,000 payloads, 3 rounds
    python bench/bench_cli.py --rounds 9 --json results.json
"""

import argparse
import gc
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from _stats import Cell, bench_parser, fmt_ratio, versions, write_report

import batchfsm
from batchfsm._record import TIMESTAMP_FIELDS

DEFAULT_COUNT = 200_000
QUICK_COUNT = 20_000
DEFAULT_ROUNDS = 5
QUICK_ROUNDS = 3
MEMORY_FACTOR = 4
CHECK_LINES = 2_000
SEED = 20_240_601

RATE_TARGET = 0.8  # cli rate / in-process rate, at least
MEMORY_TARGET = 1.1  # peak RSS at 4N / at N, at most

REPO_ROOT = Path(__file__).resolve().parents[1]
PAYLOAD_DIR = REPO_ROOT / "tests" / "payloads"

CLI, INPROC, JSONL, STARTUP = "cli", "in-process", "jsonl", "start-up"
CLEAN, WARNING, INVALID = "clean", "warning", "invalid"


@dataclass(frozen=True)
class Kind:
    """One part of the mix: variations of one example payload, and what validate says."""

    name: str
    template: str  # the example's number in tests/payloads/
    expect: str  # CLEAN, WARNING or INVALID
    weight: float
    exceed: bool = False  # completed + failed > total


MIX: tuple[Kind, ...] = (
    Kind("002 completed", "002", CLEAN, 0.30),
    Kind("003 cancelling", "003", CLEAN, 0.26),
    Kind("004 completed, usage", "004", CLEAN, 0.30),
    Kind("009 endpoint warning", "009", WARNING, 0.05),
    Kind("010 endpoint warning", "010", WARNING, 0.05),
    Kind("002/003/004 counts > total", "002", INVALID, 0.03, exceed=True),
    Kind("001 no expires_at", "001", INVALID, 0.01),
)
EXTRA_SHARE = 0.2  # of the lines get unknown keys
EXCEED_TEMPLATES = ("002", "003", "004")


# --- the input ---------------------------------------------------------------------------


def templates() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for number in {kind.template for kind in MIX} | set(EXCEED_TEMPLATES):
        (path,) = PAYLOAD_DIR.glob(f"{number}_*.json")
        found[number] = json.loads(path.read_bytes())
    return found


def fill_counts(payload: dict[str, Any], rng: random.Random, exceed: bool) -> None:
    total = rng.randrange(1, 50_001)
    if payload["status"] == "completed":
        failed = rng.randrange(0, total // 10 + 1)
        completed = total - failed
    else:
        completed = rng.randrange(0, total + 1)
        failed = rng.randrange(0, total - completed + 1)
    if exceed:
        completed = total - failed + rng.randrange(1, 100)
    payload["request_counts"] = {"total": total, "completed": completed, "failed": failed}


def variation(
    base: dict[str, Any], i: int, rng: random.Random, kind: Kind, extra: bool
) -> dict[str, Any]:
    payload = dict(base)
    payload["id"] = f"batch_{i:08x}{rng.getrandbits(64):016x}"
    shift = rng.randrange(0, 30_000_000)
    for name in TIMESTAMP_FIELDS:
        if payload.get(name) is not None:
            payload[name] += shift
    fill_counts(payload, rng, kind.exceed)
    if payload.get("metadata"):
        payload["metadata"] = {**payload["metadata"], "customer_id": f"user_{i:09d}"}
    if extra:
        payload["x_region"] = rng.choice(("eu-west-1", "us-east-2", "ap-south-1"))
        payload["x_trace"] = {"span": f"{rng.getrandbits(48):012x}", "attempt": i % 5}
    return payload


def generate(count: int, seed: int) -> Iterator[tuple[Kind, bool, bytes]]:
    """`count` lines of the mix: (kind, has unknown keys, the JSON line with its newline)."""
    rng = random.Random(seed)
    bases = templates()
    weights = [kind.weight for kind in MIX]
    dumps = json.dumps
    for i in range(count):
        (kind,) = rng.choices(MIX, weights)
        number = EXCEED_TEMPLATES[i % 3] if kind.exceed else kind.template
        extra = rng.random() < EXTRA_SHARE
        payload = variation(bases[number], i, rng, kind, extra)
        yield kind, extra, (dumps(payload, separators=(",", ":")) + "\n").encode()


@dataclass
class Input:
    """The files written, and what is in them."""

    path: Path  # N lines
    count: int
    large: Path | None  # MEMORY_FACTOR * N lines, the first N those of `path`
    one: Path  # one clean line
    check: Path  # the first CHECK_LINES lines of `path`
    mix: Counter[str] = field(default_factory=Counter)
    extra: int = 0
    expect: list[str] = field(default_factory=list)  # of the check file's lines
    ids: list[str] = field(default_factory=list)  # of the check file's lines

    @property
    def invalid(self) -> int:
        return sum(n for name, n in self.mix.items() if name.startswith(INVALID))


def build_input(directory: Path, count: int, large: bool) -> Input:
    total = count * MEMORY_FACTOR if large else count
    data = Input(
        path=directory / f"payloads_{count}.jsonl",
        count=count,
        large=directory / f"payloads_{total}.jsonl" if large else None,
        one=directory / "one.jsonl",
        check=directory / "check.jsonl",
    )
    with (
        data.path.open("wb") as small,
        data.check.open("wb") as check,
        data.large.open("wb") if data.large is not None else open(os.devnull, "wb") as big,
    ):
        for i, (kind, extra, line) in enumerate(generate(total, SEED)):
            big.write(line)
            if i >= count:
                continue
            small.write(line)
            data.mix[f"{kind.expect}: {kind.name}"] += 1
            data.extra += extra
            if i < CHECK_LINES:
                check.write(line)
                data.expect.append(kind.expect)
                data.ids.append(json.loads(line)["id"])
    clean = next(line for kind, _, line in generate(100, SEED + 1) if kind.expect == CLEAN)
    data.one.write_bytes(clean)
    return data


def print_input(data: Input) -> None:
    size = data.path.stat().st_size
    print(
        f"\nInput: {data.path.name}, {data.count:,} payloads, {size / 1e6:.1f} MB"
        f" ({size / data.count:.0f} bytes per line)"
    )
    for name, n in sorted(data.mix.items()):
        print(f"  {name:<40}{n:>9,}  {n / data.count:6.1%}")
    label = "with unknown keys (any of the above)"
    print(f"  {label:<40}{data.extra:>9,}  {data.extra / data.count:6.1%}")
    if data.large is not None:
        print(f"  memory file: {data.large.name}, {data.large.stat().st_size / 1e6:.1f} MB")


def check_mix(data: Input) -> list[str]:
    """Judge every line in process: each kind must come out as the mix says (else: our bug)."""
    found: Counter[str] = Counter()
    with data.path.open("rb") as stream:
        for line in stream:
            report = batchfsm.validate(line)
            found[INVALID if not report.ok else WARNING if report.violations else CLEAN] += 1
    expected: Counter[str] = Counter()
    for name, n in data.mix.items():
        expected[name.split(":")[0]] += n
    if found != expected:
        return [f"in-process validate judged {dict(found)}, the mix says {dict(expected)}"]
    return []


# --- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One child process: wall time, exit code, its own peak RSS, what it wrote to stderr."""

    seconds: float
    code: int
    maxrss: int | None  # bytes
    stderr: str


def gnu_time(workdir: Path) -> str | None:
    """GNU time, if it is there and reports a peak RSS with ``-f %M -o FILE``."""
    found = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if found is None:
        return None
    report = workdir / "probe-rss.txt"
    argv = [found, "-f", "%M", "-o", str(report), sys.executable, "-c", "pass"]
    try:
        done = subprocess.run(argv, capture_output=True, check=False, timeout=60)
        kilobytes = int(report.read_text().split()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None
    return found if done.returncode == 0 and kilobytes > 0 else None


@dataclass(frozen=True)
class Launcher:
    """How command children are started: under GNU time (their own peak RSS) or not."""

    workdir: Path
    time: str | None  # GNU time's path; None: os.wait4, floored at this process's peak

    def run(
        self,
        argv: Sequence[str],
        stdout: int | IO[bytes] = subprocess.DEVNULL,
        stdin: int | IO[bytes] = subprocess.DEVNULL,
    ) -> Run:
        """Run `argv` to the end; timed from before the fork to after the reaping."""
        report = self.workdir / "rss.txt"
        if self.time is not None:
            argv = [self.time, "-f", "%M", "-o", str(report), *argv]
        with (self.workdir / "stderr.txt").open("w+b") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=stdout, stdin=stdin, stderr=err)
            maxrss: int | None = None
            if self.time is None and hasattr(os, "wait4"):
                _, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: tell Popen
                # Linux reports kilobytes, macOS bytes.
                maxrss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
            else:
                code = proc.wait()  # GNU time exits with the command's status
                seconds = time.perf_counter() - start
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        if self.time is not None:
            # "Command exited with non-zero status N" comes first when the status is not 0.
            try:
                maxrss = int(report.read_text().split()[-1]) * 1024
            except (OSError, ValueError, IndexError):
                maxrss = None
        return Run(seconds, code, maxrss, stderr)


def find_command() -> str | None:
    beside = Path(sys.executable).parent / "batchfsm"
    if beside.exists():
        return str(beside)
    return shutil.which("batchfsm")


def command_ready(command: str | None) -> bool:
    if command is None:
        return False
    done = subprocess.run(
        [command, "validate", "--help"], capture_output=True, check=False, timeout=60
    )
    return done.returncode == 0


def in_process(path: Path) -> tuple[float, int]:
    """Seconds to validate every line of `path` here, and how many were ok."""
    validate = batchfsm.validate
    ok = 0
    gc.collect()
    start = time.perf_counter()
    with path.open("rb") as stream:
        for line in stream:
            if validate(line).ok:
                ok += 1
    return time.perf_counter() - start, ok


# --- checks -------------------------------------------------------------------------------


def expect_code(problems: list[str], what: str, run: Run, code: int) -> None:
    if run.code != code:
        tail = f"; stderr: {run.stderr.strip()[-300:]!r}" if run.stderr.strip() else ""
        problems.append(f"{what}: exit code {run.code}, expected {code}{tail}")


def check_jsonl(problems: list[str], what: str, out: bytes, data: Input) -> None:
    lines = out.decode(errors="replace").splitlines()
    if len(lines) != len(data.expect):
        problems.append(f"{what}: {len(lines)} records for {len(data.expect)} payloads")
    try:
        records = [json.loads(line) for line in lines]
    except ValueError as error:
        problems.append(f"{what}: a record is not JSON ({error})")
        return
    key = next((k for k in ("valid", "ok") if records and k in records[0]), None)
    if key is None or not all(isinstance(r, dict) and key in r for r in records):
        first = lines[0][:200] if lines else ""
        problems.append(f"{what}: records without 'valid' or 'ok' (first: {first})")
        return
    wrong = [
        i + 1
        for i, (r, e) in enumerate(zip(records, data.expect, strict=False))
        if bool(r[key]) != (e != INVALID)
        or ("batch_id" in r and r["batch_id"] is not None and r["batch_id"] != data.ids[i])
    ]
    if wrong:
        problems.append(
            f"{what}: {len(wrong)} records disagree with batchfsm.validate (ok or batch_id),"
            f" first at lines {wrong[:5]}"
        )


def check_quiet(problems: list[str], text: str, data: Input) -> None:
    """--quiet must speak of the invalid payloads, and of them only."""
    lines = text.splitlines()
    invalid = {n for n, e in enumerate(data.expect, 1) if e == INVALID}
    prefix = re.compile(re.escape(str(data.check)) + r":(\d+):")
    numbers = [m.group(1) for m in map(prefix.match, lines) if m is not None]
    if lines and len(numbers) == len(lines):  # every line starts with PATH:LINE:
        shown = {int(n) for n in numbers}
        what = "lines"
    else:  # else look for the batch ids
        shown = {n for n, i in enumerate(data.ids, 1) if i in text}
        what = "ids"
    if shown - invalid:
        problems.append(f"--quiet: shows {len(shown - invalid)} valid payloads (by {what})")
    if invalid - shown:
        problems.append(
            f"--quiet: {len(invalid - shown)} of {len(invalid)} invalid payloads not shown"
            f" (by {what}; {len(lines)} lines of output)"
        )


def run_checks(command: str, data: Input, launcher: Launcher) -> list[str]:
    problems: list[str] = []
    base = [command, "validate", "--no-progress"]
    out_path = launcher.workdir / "out.txt"
    mixed_code = 1 if INVALID in data.expect else 0

    with out_path.open("w+b") as out:
        run = launcher.run([*base, "--format", "jsonl", str(data.check)], stdout=out)
        out.seek(0)
        expect_code(problems, "--format jsonl on the check file", run, mixed_code)
        check_jsonl(problems, "--format jsonl", out.read(), data)

    with out_path.open("w+b") as out, data.check.open("rb") as source:
        run = launcher.run([*base, "--format", "jsonl", "-"], stdout=out, stdin=source)
        out.seek(0)
        expect_code(problems, "--format jsonl from stdin", run, mixed_code)
        check_jsonl(problems, "--format jsonl from stdin", out.read(), data)

    with out_path.open("w+b") as out:
        run = launcher.run([*base, "--quiet", str(data.check)], stdout=out)
        out.seek(0)
        text = out.read().decode(errors="replace")
        expect_code(problems, "--quiet on the check file", run, mixed_code)
        check_quiet(problems, text, data)
        if run.stderr.strip():
            problems.append(f"--quiet: wrote to stderr: {run.stderr.strip()[:300]!r}")

    expect_code(problems, "one clean line", launcher.run([*base, "--quiet", str(data.one)]), 0)
    missing_path = launcher.workdir / "no-such-file.jsonl"
    run = launcher.run([*base, "--quiet", str(missing_path)])
    expect_code(problems, "a missing path", run, 2)
    run = launcher.run([*base, "--format", "bogus", str(data.one)])
    expect_code(problems, "--format bogus", run, 2)
    return problems


# --- rounds -------------------------------------------------------------------------------


@dataclass
class Results:
    count: int
    cells: dict[str, Cell]  # µs per payload (start-up: µs per run)
    rss: dict[str, list[int]]  # bytes, per command run
    codes: dict[str, Counter[int]]
    stderr: dict[str, str] = field(default_factory=dict)  # the first non-empty, per run kind
    in_process_ok: Counter[int] = field(default_factory=Counter)


def run_rounds(command: str | None, data: Input, launcher: Launcher, rounds: int) -> Results:
    names = [CLI, INPROC, JSONL, STARTUP] if command else [INPROC]
    res = Results(
        count=data.count,
        cells={name: Cell(1 if name == STARTUP else data.count) for name in names},
        rss={name: [] for name in names if name != INPROC},
        codes={name: Counter() for name in names if name != INPROC},
    )
    argv = {}
    if command:
        quiet = [command, "validate", "--quiet", "--no-progress"]
        argv = {
            CLI: [*quiet, str(data.path)],
            JSONL: [command, "validate", "--format", "jsonl", "--no-progress", str(data.path)],
            STARTUP: [*quiet, str(data.one)],
        }
        launcher.run(argv[STARTUP])  # warm-up: bytecode caches, page cache
    in_process(data.check)  # warm-up
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        line = []
        for name in order:
            if name == INPROC:
                seconds, ok = in_process(data.path)
                res.in_process_ok[ok] += 1
            else:
                run = launcher.run(argv[name])
                seconds = run.seconds
                res.codes[name][run.code] += 1
                if run.maxrss is not None:
                    res.rss[name].append(run.maxrss)
                if run.stderr.strip() and name not in res.stderr:
                    res.stderr[name] = run.stderr.strip()[:500]
            cell = res.cells[name]
            cell.samples_us.append(seconds * 1e6 / cell.n)
            line.append(f"{name} {seconds:.2f} s")
        print(f"  round {r + 1}/{rounds}: " + ", ".join(line), file=sys.stderr)
    return res


@dataclass
class Memory:
    """Peak RSS in bytes of the command children, and what the large runs took."""

    one: int | None
    cli_n: int | None
    cli_large: int | None
    jsonl_n: int | None
    jsonl_large: int | None
    large_count: int
    large_seconds: dict[str, float]
    large_codes: dict[str, int]
    method: str  # how the peaks were read


def measure_memory(command: str, data: Input, res: Results, launcher: Launcher) -> Memory:
    assert data.large is not None
    large_count = data.count * MEMORY_FACTOR
    seconds: dict[str, float] = {}
    codes: dict[str, int] = {}
    peaks: dict[str, int | None] = {}
    for name, argv in (
        (CLI, [command, "validate", "--quiet", "--no-progress", str(data.large)]),
        (JSONL, [command, "validate", "--format", "jsonl", "--no-progress", str(data.large)]),
    ):
        run = launcher.run(argv)
        seconds[name], codes[name], peaks[name] = run.seconds, run.code, run.maxrss
        print(f"  memory: {name} on {large_count:,} payloads {run.seconds:.2f} s", file=sys.stderr)

    def median(name: str) -> int | None:
        values = res.rss.get(name)
        return int(statistics.median(values)) if values else None

    return Memory(
        one=median(STARTUP),
        cli_n=median(CLI),
        cli_large=peaks[CLI],
        jsonl_n=median(JSONL),
        jsonl_large=peaks[JSONL],
        large_count=large_count,
        large_seconds=seconds,
        large_codes=codes,
        method=(
            f"GNU time %M ({launcher.time})"
            if launcher.time is not None
            else f"os.wait4, floored at this process's peak {mb(self_peak())}"
        ),
    )


# --- report -------------------------------------------------------------------------------


def at_least(value: float | None, limit: float, missing: str = "SKIPPED") -> str:
    """`_stats.verdict` for a target where higher is better: MET when `value` >= `limit`."""
    if value is None:
        return missing
    return f"{value:.3f}x {'MET' if value >= limit else 'MISSED'}"


def at_most(value: float | None, limit: float, missing: str = "SKIPPED") -> str:
    if value is None:
        return missing
    return f"{value:.3f}x {'MET' if value <= limit else 'MISSED'}"


def self_peak() -> int:
    """This process's peak RSS in bytes (Linux reports kilobytes, macOS bytes)."""
    import resource  # Unix only, as is the fallback that needs it

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024)


def mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MB"


def rate(cell: Cell | None) -> float | None:
    return None if cell is None else 1e6 / cell.median_us


def summarise(res: Results, memory: Memory | None) -> dict[str, Any]:
    cells = res.cells
    inproc, cli, jsonl, startup = (cells.get(name) for name in (INPROC, CLI, JSONL, STARTUP))
    out: dict[str, Any] = {
        "payloads": res.count,
        "rate": {name: rate(cell) for name, cell in cells.items() if name != STARTUP},
        "startup_s": startup.median_us / 1e6 if startup else None,
    }
    if inproc and cli:
        out["cli/in-process"] = inproc.median_us / cli.median_us
        out["cli/in-process paired"] = statistics.median(
            i / c for i, c in zip(inproc.samples_us, cli.samples_us, strict=True)
        )
    if inproc and jsonl:
        out["jsonl/in-process"] = inproc.median_us / jsonl.median_us
        out["jsonl/in-process paired"] = statistics.median(
            i / j for i, j in zip(inproc.samples_us, jsonl.samples_us, strict=True)
        )
    if inproc and cli and startup:
        # The command's rate once start-up is paid, per round with that round's start-up.
        n = res.count
        net = [
            n / (c * n / 1e6 - s / 1e6)
            for c, s in zip(cli.samples_us, startup.samples_us, strict=True)
        ]
        out["rate"]["cli without start-up"] = statistics.median(net)
        out["cli without start-up/in-process paired"] = statistics.median(
            (n / (c * n / 1e6 - s / 1e6)) / (1e6 / i)
            for c, s, i in zip(cli.samples_us, startup.samples_us, inproc.samples_us, strict=True)
        )
    if memory is not None:
        out["memory"] = {
            "peak_bytes": {
                "one line": memory.one,
                f"cli {res.count}": memory.cli_n,
                f"cli {memory.large_count}": memory.cli_large,
                f"jsonl {res.count}": memory.jsonl_n,
                f"jsonl {memory.large_count}": memory.jsonl_large,
            },
            "cli large/n": ratio_of(memory.cli_large, memory.cli_n),
            "jsonl large/n": ratio_of(memory.jsonl_large, memory.jsonl_n),
            "cli growth bytes/payload": growth(memory.cli_large, memory.cli_n, res.count),
            "jsonl growth bytes/payload": growth(memory.jsonl_large, memory.jsonl_n, res.count),
            "large seconds": memory.large_seconds,
            "large rate": {k: memory.large_count / v for k, v in memory.large_seconds.items()},
            "large exit codes": memory.large_codes,
            "method": memory.method,
        }
    return out


def ratio_of(top: int | None, bottom: int | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def growth(large: int | None, small: int | None, n: int) -> float | None:
    if large is None or small is None:
        return None
    return (large - small) / ((MEMORY_FACTOR - 1) * n)


def print_summary(
    res: Results,
    stats: dict[str, Any],
    memory: Memory | None,
    problems: list[str],
    rounds: int,
    command: str | None,
) -> None:
    n = res.count
    print(f"\nRates, {n:,} payloads (median of {rounds} rounds)")
    labels = {
        INPROC: "in-process validate(line)",
        CLI: "cli --quiet",
        JSONL: "cli --format jsonl",
    }
    for name, label in labels.items():
        cell = res.cells.get(name)
        if cell is None:
            continue
        print(
            f"  {label:<28}{1e6 / cell.median_us:>10,.0f} payloads/s"
            f"{cell.median_us:>8.2f} us/payload  {cell.median_us * n / 1e6:>6.2f} s"
            f"  IQR {cell.spread:.0%}"
        )
    startup = res.cells.get(STARTUP)
    if startup is not None:
        print(
            f"  {'start-up (1-line file)':<28}{startup.median_us / 1e3:>10.0f} ms"
            f"  ({startup.median_us / (res.cells[CLI].median_us * n):.1%} of the cli run)"
        )
    if "cli without start-up" in stats["rate"]:
        print(
            f"  {'cli without start-up':<28}{stats['rate']['cli without start-up']:>10,.0f}"
            " payloads/s"
        )
    for name, codes in res.codes.items():
        print(f"  exit codes of {name}: {dict(codes)}")
    print(f"  in-process ok per round: {dict(res.in_process_ok)} (of {n:,})")

    if memory is not None:
        large = memory.large_count
        print(f"\nPeak RSS of the command, by {memory.method}")
        print(f"  one line                  {mb(memory.one):>10}")
        print(f"  cli --quiet, {n:>9,}    {mb(memory.cli_n):>10}")
        print(
            f"  cli --quiet, {large:>9,}    {mb(memory.cli_large):>10}"
            f"   {memory.large_seconds[CLI]:.2f} s,"
            f" {large / memory.large_seconds[CLI]:,.0f} payloads/s, exit {memory.large_codes[CLI]}"
        )
        print(f"  jsonl,       {n:>9,}    {mb(memory.jsonl_n):>10}")
        print(
            f"  jsonl,       {large:>9,}    {mb(memory.jsonl_large):>10}"
            f"   {memory.large_seconds[JSONL]:.2f} s,"
            f" {large / memory.large_seconds[JSONL]:,.0f} payloads/s,"
            f" exit {memory.large_codes[JSONL]}"
        )

    if res.stderr:
        print("\nstderr of the timed runs (first non-empty, per kind)")
        for name, text in res.stderr.items():
            print(f"  {name}: {text!r}")

    print(f"\nChecks: {'all passed' if not problems else f'{len(problems)} failed'}")
    for problem in problems:
        print(f"  CHECK FAILED: {problem}")

    print(f"\nSummary ({rounds} rounds; paired = median of per-round ratios)")
    if command is None:
        print("  the batchfsm validate command is not available: in-process rate only")
    inproc_rate = stats["rate"].get(INPROC)
    print(f"  {'in-process rate':<36}{inproc_rate:>10,.0f} payloads/s")
    if CLI in res.cells:
        print(f"  {'cli rate':<36}{stats['rate'][CLI]:>10,.0f} payloads/s")
        print(
            f"  {'cli/in-process':<36}{fmt_ratio(stats['cli/in-process']):>10}"
            f"  paired {fmt_ratio(stats['cli/in-process paired'])}"
        )
        print(
            f"  {'cli without start-up/in-process':<36}"
            f"{fmt_ratio(stats['cli without start-up/in-process paired']):>10}  paired"
        )
        print(
            f"  {'jsonl/in-process':<36}{fmt_ratio(stats['jsonl/in-process']):>10}"
            f"  paired {fmt_ratio(stats['jsonl/in-process paired'])}  (no target)"
        )
        print(f"  {'start-up':<36}{stats['startup_s'] * 1e3:>7.0f} ms")
    if memory is not None:
        mem = stats["memory"]
        for name in ("cli", "jsonl"):
            per = mem[f"{name} growth bytes/payload"]
            per_text = "-" if per is None else f"{per:.1f} B/payload"
            print(
                f"  {f'memory {name} {MEMORY_FACTOR}N/N':<36}"
                f"{fmt_ratio(mem[f'{name} large/n']):>10}  growth {per_text}"
            )
    paired = stats.get("cli/in-process paired")
    print(
        f"  target cli rate >= {RATE_TARGET}x in-process (paired):"
        f" {at_least(paired, RATE_TARGET, 'SKIPPED (no command)')}"
    )
    if memory is not None:
        print(
            f"  target peak RSS {MEMORY_FACTOR}N <= {MEMORY_TARGET}x N"
            f" ({mb(memory.cli_large)} vs {mb(memory.cli_n)}):"
            f" {at_most(stats['memory']['cli large/n'], MEMORY_TARGET)}"
        )
    else:
        print(f"  target peak RSS {MEMORY_FACTOR}N <= {MEMORY_TARGET}x N: SKIPPED")


# The packages whose versions the report names.
VERSIONED = ("batchfsm", "orjson", "cattrs", "attrs")


def write_json(
    path: Path,
    data: Input,
    res: Results,
    stats: dict[str, Any],
    problems: list[str],
    rounds: int,
    command: str | None,
) -> None:
    report = {
        "versions": versions(*VERSIONED),
        "platform": platform.platform(),
        "command": command,
        "rounds": rounds,
        "input": {
            "payloads": data.count,
            "bytes": data.path.stat().st_size,
            "mix": dict(data.mix),
            "with_unknown_keys": data.extra,
        },
        "cells": {
            name: {
                "n": cell.n,
                "median_us": cell.median_us,
                "iqr_over_median": cell.spread,
                "samples_us": cell.samples_us,
            }
            for name, cell in res.cells.items()
        },
        "peak_rss_bytes": res.rss,
        "exit_codes": {name: dict(codes) for name, codes in res.codes.items()},
        "stderr": res.stderr,
        "checks_failed": problems,
        "summary": stats,
        "targets": {"cli/in-process": RATE_TARGET, "memory large/n": MEMORY_TARGET},
    }
    write_report(path, report)


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = bench_parser(
        __doc__, DEFAULT_ROUNDS, f"{QUICK_ROUNDS} rounds, {QUICK_COUNT:,} payloads"
    )
    parser.add_argument(
        "--count",
        type=int,
        metavar="N",
        help=f"payloads in the file (default {DEFAULT_COUNT:,}, {QUICK_COUNT:,} with --quick)",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help=f"skip the peak RSS runs and the {MEMORY_FACTOR}N file",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.count is not None and args.count < CHECK_LINES:
        parser.error(f"--count must be at least {CHECK_LINES}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    count = args.count or (QUICK_COUNT if args.quick else DEFAULT_COUNT)
    print(" ".join(f"{k} {v}" for k, v in versions(*VERSIONED).items()))
    started = time.perf_counter()

    command = find_command()
    ready = command_ready(command)
    if not ready:
        print(f"`{command or 'batchfsm'} validate` is not available: measuring in-process only")
        command = None
    else:
        print(f"command: {command} validate")

    with tempfile.TemporaryDirectory(prefix="bench_cli_") as tmp:
        workdir = Path(tmp)
        launcher = Launcher(workdir, gnu_time(workdir))
        memory_wanted = command is not None and not args.no_memory
        if memory_wanted and launcher.time is None:
            if hasattr(os, "wait4"):
                print("GNU time not found: peak RSS from os.wait4, floored at this process's peak")
            else:
                print("GNU time not found and no os.wait4: skipping memory")
                memory_wanted = False
        data = build_input(workdir, count, large=memory_wanted)
        print_input(data)
        print(f"  built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        problems = check_mix(data)
        if command is not None:
            problems += run_checks(command, data, launcher)
        res = run_rounds(command, data, launcher, rounds)
        memory = None
        if memory_wanted and command is not None:
            memory = measure_memory(command, data, res, launcher)
        stats = summarise(res, memory)
        print_summary(res, stats, memory, problems, rounds, command)
        print(f"  wall time {time.perf_counter() - started:.1f} s")
        if args.json is not None:
            write_json(args.json, data, res, stats, problems, rounds, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
