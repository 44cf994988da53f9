"""Codec speed of batchfsm against openai's pydantic model and a msgspec floor.

What it measures: for every example payload that loads under the default (``openai``)
profile, plus three generated ones (16 metadata pairs; a failed batch with 5 errors;
unknown keys at top level and nested), the per-call time of

* batchfsm: ``batchfsm.loads(raw)`` / ``batchfsm.dumps(batch)``, and
  ``batchfsm.validate(raw)`` (decode plus every lifecycle check; target 1.8x openai's decode,
  goal 1.5x);
* openai (the peer): ``openai.types.Batch.model_validate_json(raw)`` /
  ``model.model_dump_json()``;
* msgspec (the floor): ``msgspec.json.Decoder(BatchStruct).decode(raw)`` /
  ``msgspec.json.Encoder().encode(struct)``, with Structs mirroring the wire object.

Each measurement times a batch of N calls sized to take ~10 ms (5 ms with --quick). All
implementations are timed interleaved in one process: every round visits every payload
and, within it, every implementation in an order rotated per round, so drift (CPU
frequency, other load) hits all of them alike. The table shows the median across rounds,
the batchfsm/openai and msgspec/openai ratios, and how many bytes each encoder writes
(they differ in whether absent keys come back as nulls and unknown keys are kept). The
summary gives, over the payloads, the geometric means of the ratios of medians and of the
per-round ratios ("paired": a round's two samples are taken moments apart, so drift slower
than a round cancels out of them), and judges the paired ones against the targets (loads
<= 1.3x openai, goal 1.0x; validate <= 1.8x openai's decode, goal 1.5x; dumps <= 1.0x
openai). The exit code is 0 regardless of the verdicts.

Run it from the repository root, with batchfsm importable (installed, or ``PYTHONPATH=.``)
and the ``bench`` extra installed (openai, msgspec)::

    python bench/bench_codec.py                  # 15 rounds, well under two minutes
    python bench/bench_codec.py --quick          # smoke run
    python bench/bench_codec.py --rounds 30 --json results.json

A peer that is not importable is reported and skipped.
"""

import argparse
import copy
import gc
import itertools
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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

import batchfsm

OPS: tuple[str, ...] = ("loads", "dumps", "validate")
BATCHFSM, OPENAI, MSGSPEC = "batchfsm", "openai", "msgspec"

DEFAULT_ROUNDS = 15
QUICK_ROUNDS = 3
# 10 ms keeps the timer's resolution and the loop overhead negligible, yet lets 15 rounds
# over ~9 payloads x 3 implementations x 2 operations finish in well under a minute.
TARGET_MS = 10.0
QUICK_TARGET_MS = 5.0

VALIDATE_TARGET = 1.8
VALIDATE_GOAL = 1.5
LOADS_TARGET = 1.3
LOADS_GOAL = 1.0
DUMPS_TARGET = 1.0

REPO_ROOT = Path(__file__).resolve().parents[1]
PAYLOAD_DIRS: tuple[Path, ...] = (REPO_ROOT / "tests" / "payloads", Path("/work/shared/payloads"))

WireStatus = Literal[
    "validating",
    "failed",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
]


@dataclass(frozen=True)
class Impl:
    """One codec under test: raw JSON bytes -> object -> JSON text."""

    name: str
    loads: Callable[[bytes], Any]
    dumps: Callable[[Any], str | bytes]
    # batchfsm.validate for batchfsm; for openai its decode again (what it checks is all
    # it has); None where there is nothing to compare.
    validate: Callable[[bytes], Any] | None = None


@dataclass(frozen=True)
class Payload:
    name: str
    raw: bytes


# (payload name, implementation name, operation) -> Cell
Cells = dict[tuple[str, str, str], Cell]


# --- implementations ---------------------------------------------------------------------


def batchfsm_impl() -> Impl:
    return Impl(BATCHFSM, batchfsm.loads, batchfsm.dumps, batchfsm.validate)


def openai_impl() -> Impl | None:
    try:
        from openai.types import Batch as OpenAIBatch
    except ImportError as exc:
        print(f"openai is not importable ({exc}): skipping the pydantic peer.")
        print("  Install the bench extra: pip install -e '.[bench]'")
        return None
    # Bound/unbound methods directly, not lambdas: a wrapper call would tax the peer only.
    return Impl(
        OPENAI,
        OpenAIBatch.model_validate_json,
        OpenAIBatch.model_dump_json,
        OpenAIBatch.model_validate_json,
    )


def msgspec_impl() -> Impl | None:
    try:
        import msgspec
    except ImportError as exc:
        print(f"msgspec is not importable ({exc}): skipping the msgspec floor.")
        print("  Install the bench extra: pip install -e '.[bench]'")
        return None
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(msgspec_batch_type())
    encoder = msgspec.json.Encoder()
    return Impl(MSGSPEC, decoder.decode, encoder.encode)


def msgspec_batch_type() -> type:
    """Structs mirroring the wire Batch (as strict as openai's model: same required keys).

    Defined in a function so the script still runs without msgspec. Unknown keys are
    ignored, not kept, which is part of why this is a floor rather than a peer.
    """
    import msgspec

    class BatchError(msgspec.Struct, kw_only=True):
        code: str | None = None
        message: str | None = None
        param: str | None = None
        line: int | None = None

    class Errors(msgspec.Struct, kw_only=True):
        object: str | None = None
        data: list[BatchError] | None = None

    class RequestCounts(msgspec.Struct, kw_only=True):
        total: int
        completed: int
        failed: int

    class InputTokensDetails(msgspec.Struct, kw_only=True):
        cached_tokens: int

    class OutputTokensDetails(msgspec.Struct, kw_only=True):
        reasoning_tokens: int

    class Usage(msgspec.Struct, kw_only=True):
        input_tokens: int
        input_tokens_details: InputTokensDetails
        output_tokens: int
        output_tokens_details: OutputTokensDetails
        total_tokens: int

    class Batch(msgspec.Struct, kw_only=True):
        id: str
        object: Literal["batch"]
        endpoint: str
        model: str | None = None
        errors: Errors | None = None
        input_file_id: str
        completion_window: str
        status: WireStatus
        output_file_id: str | None = None
        error_file_id: str | None = None
        created_at: int
        in_progress_at: int | None = None
        expires_at: int | None = None
        finalizing_at: int | None = None
        completed_at: int | None = None
        failed_at: int | None = None
        expired_at: int | None = None
        cancelling_at: int | None = None
        cancelled_at: int | None = None
        request_counts: RequestCounts | None = None
        usage: Usage | None = None
        metadata: dict[str, str] | None = None

    return Batch


def available_impls() -> list[Impl]:
    found = [batchfsm_impl(), openai_impl(), msgspec_impl()]
    return [impl for impl in found if impl is not None]


# --- payloads ----------------------------------------------------------------------------


def payload_dir(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    for candidate in PAYLOAD_DIRS:
        if any(candidate.glob("*.json")):
            return candidate
    raise SystemExit(f"no payloads found in {', '.join(map(str, PAYLOAD_DIRS))}")


def canonical_payloads(directory: Path) -> list[Payload]:
    """The example payloads batchfsm accepts under the default profile."""
    kept: list[Payload] = []
    for path in sorted(directory.glob("*.json")):
        raw = path.read_bytes()
        try:
            batchfsm.loads(raw)
        except batchfsm.PayloadError as exc:
            print(f"skip {path.name}: not canonical ({len(exc.violations)} problem(s))")
            continue
        kept.append(Payload(path.stem, raw))
    return kept


def leaf_count(value: Any) -> int:
    """Non-null scalars in a JSON value: a rough measure of how much a payload carries."""
    if isinstance(value, dict):
        return sum(leaf_count(item) for item in value.values())
    if isinstance(value, list):
        return sum(leaf_count(item) for item in value)
    return 0 if value is None else 1


def encode_payload(name: str, value: dict[str, Any]) -> Payload:
    raw = json.dumps(value, indent=2).encode()
    batchfsm.loads(raw)  # a generated payload that is not canonical is a bug in this script
    return Payload(name, raw)


def with_metadata(base: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(base)
    # 16 is the most the API allows; keys and values stay well inside its 64/512 limits.
    value["metadata"] = {
        f"meta_key_{i:02d}": f"value {i:02d} for a nightly evaluation job, shard {i}"
        for i in range(16)
    }
    return value


def failed_with_errors(base: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(base)
    created = int(value["created_at"])
    errors = [
        {
            "code": "invalid_request",
            "message": f"Line {line}: the request body is missing the required 'model' field.",
            "param": "body.model" if line % 2 else None,
            "line": line,
        }
        for line in (3, 17, 42, 108, 256)
    ]
    value.update(
        status="failed",
        errors={"object": "list", "data": errors},
        output_file_id=None,
        error_file_id=None,
        in_progress_at=None,
        finalizing_at=None,
        completed_at=None,
        failed_at=created + 5,
        request_counts={"total": 0, "completed": 0, "failed": 0},
        usage=None,
    )
    return value


def with_unknown_keys(base: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(base)
    value["x_region"] = "eu-west-1"
    value["x_trace"] = {"span": "a1b2c3", "hops": [1, 2, 3], "sampled": True}
    value["request_counts"] = {**(value.get("request_counts") or {}), "x_extra": 1}
    if value.get("usage"):
        details = value["usage"]["input_tokens_details"]
        value["usage"]["input_tokens_details"] = {**details, "x_audio_tokens": 0}
    return value


def generated_payloads(canonical: Sequence[Payload]) -> list[Payload]:
    decoded = [json.loads(p.raw) for p in canonical]
    richest = max(decoded, key=leaf_count)
    return [
        encode_payload("gen_metadata16", with_metadata(richest)),
        encode_payload("gen_failed_errors5", failed_with_errors(richest)),
        encode_payload("gen_unknown_keys", with_unknown_keys(richest)),
    ]


# --- timing ------------------------------------------------------------------------------


def time_calls(fn: Callable[[Any], object], arg: Any, n: int) -> float:
    """Per-call µs of `n` calls of ``fn(arg)``.

    The collector is off while timing, as in timeit: a collection triggered by garbage
    an earlier measurement left behind would otherwise land on whoever runs next. The
    allocations counted meanwhile trigger a collection after the timer has stopped.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in itertools.repeat(None, n):
            fn(arg)
        elapsed = time.perf_counter_ns() - start
    finally:
        if was_enabled:
            gc.enable()
    return elapsed / n / 1000


def calibrate(fn: Callable[[Any], object], arg: Any, target_ms: float) -> int:
    """Calls per measurement so that one takes about `target_ms`; also warms caches up."""
    n = 1
    while True:
        per_call_us = time_calls(fn, arg, n)
        if per_call_us * n >= 1000 or n >= 1 << 20:  # at least 1 ms for a stable estimate
            break
        n *= 4
    return max(1, round(target_ms * 1000 / per_call_us))


def operation(impl: Impl, op: str, raw: bytes) -> tuple[Callable[[Any], object], Any]:
    if op == "loads":
        return impl.loads, raw
    if op == "validate":
        assert impl.validate is not None
        return impl.validate, raw
    return impl.dumps, impl.loads(raw)


def accepted(impl: Impl, payload: Payload) -> bool:
    """Whether `impl` decodes and encodes the payload; a peer may reject one batchfsm takes."""
    try:
        impl.dumps(impl.loads(payload.raw))
    # Any failure means: do not time this pair (the peers raise different exception types).
    except Exception as exc:
        print(f"note: {impl.name} rejects {payload.name}: {type(exc).__name__}: {exc}")
        return False
    return True


def prepare(payloads: Sequence[Payload], impls: Sequence[Impl], target_ms: float) -> Cells:
    cells: Cells = {}
    for payload in payloads:
        for impl in impls:
            if not accepted(impl, payload):
                continue
            for op in OPS:
                if op == "validate" and impl.validate is None:
                    continue
                fn, arg = operation(impl, op, payload.raw)
                cells[payload.name, impl.name, op] = Cell(calibrate(fn, arg, target_ms))
    return cells


def run_rounds(
    payloads: Sequence[Payload], impls: Sequence[Impl], cells: Cells, rounds: int
) -> None:
    for r in range(rounds):
        # Once per round, not per measurement: a full collection costs ~30 ms with openai
        # loaded, and would triple the run time while also evicting the caches.
        gc.collect()
        for payload in payloads:
            for impl in rotated(impls, r):
                for op in OPS:
                    cell = cells.get((payload.name, impl.name, op))
                    if cell is None:
                        continue
                    fn, arg = operation(impl, op, payload.raw)
                    cell.samples_us.append(time_calls(fn, arg, cell.n))
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr)


# --- report ------------------------------------------------------------------------------


def ratio(cells: Cells, payload: str, num: str, den: str, op: str) -> float | None:
    top, bottom = cells.get((payload, num, op)), cells.get((payload, den, op))
    if top is None or bottom is None:
        return None
    return top.median_us / bottom.median_us


def paired_ratio(cells: Cells, payload: str, num: str, op: str) -> float | None:
    """Median over rounds of the ratio within each round: a cross-check on `ratio`.

    Samples of one round were taken moments apart, so this cancels drift slower than a
    round (this kind of machine can change speed by half mid-run) better than medians do.
    """
    top, bottom = cells.get((payload, num, op)), cells.get((payload, OPENAI, op))
    if top is None or bottom is None:
        return None
    pairs = zip(top.samples_us, bottom.samples_us, strict=True)
    return statistics.median(a / b for a, b in pairs)


def output_sizes(payload: Payload, impls: Sequence[Impl], cells: Cells) -> str:
    """Bytes each encoder writes: they differ in what they emit (nulls, unknown keys)."""
    sizes = []
    for impl in impls:
        if (payload.name, impl.name, "dumps") in cells:
            out = impl.dumps(impl.loads(payload.raw))
            size = len(out.encode() if isinstance(out, str) else out)
            sizes.append(f"{impl.name} {size}")
    return ", ".join(sizes)


def print_payload(payload: Payload, impls: Sequence[Impl], cells: Cells) -> None:
    print(f"\n{payload.name}  ({len(payload.raw)} B in)")
    print(
        f"  {'op':<6}{'batchfsm us':>13}{'openai us':>11}{'msgspec us':>12}"
        f"{'bf/openai':>11}{'ms/openai':>11}"
    )
    for op in OPS:
        print(
            f"  {op[:6]:<6}"
            f"{fmt_us(cells.get((payload.name, BATCHFSM, op))):>13}"
            f"{fmt_us(cells.get((payload.name, OPENAI, op))):>11}"
            f"{fmt_us(cells.get((payload.name, MSGSPEC, op))):>12}"
            f"{fmt_ratio(ratio(cells, payload.name, BATCHFSM, OPENAI, op)):>11}"
            f"{fmt_ratio(ratio(cells, payload.name, MSGSPEC, OPENAI, op)):>11}"
        )
    print(f"  out bytes: {output_sizes(payload, impls, cells)}")


def summary(cells: Cells, payloads: Sequence[Payload]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for num in (BATCHFSM, MSGSPEC):
        for op in OPS:
            values = present(ratio(cells, p.name, num, OPENAI, op) for p in payloads)
            paired = present(paired_ratio(cells, p.name, num, op) for p in payloads)
            result[f"{num}/openai {op}"] = {
                "geomean": geomean(values),
                "paired_geomean": geomean(paired),
                "min": min(values, default=None),
                "max": max(values, default=None),
                "payloads": len(values),
            }
    return result


def print_summary(stats: dict[str, Any], cells: Cells, rounds: int) -> None:
    print(
        f"\nSummary: geometric mean over payloads of the ratios of medians ({rounds} rounds);"
        " the targets are judged on the paired means"
    )
    for key, entry in stats.items():
        span = ""
        if entry["geomean"] is not None:
            span = (
                f"  range {entry['min']:.2f}x-{entry['max']:.2f}x over {entry['payloads']},"
                f" paired {fmt_ratio(entry['paired_geomean'])}"
            )
        print(f"  {key:<22}{fmt_ratio(entry['geomean']):>7}{span}")
    loads = stats["batchfsm/openai loads"]["paired_geomean"]
    dumps = stats["batchfsm/openai dumps"]["paired_geomean"]
    met = verdict(loads, LOADS_TARGET, "SKIPPED (no openai)")
    print(f"  target loads <= {LOADS_TARGET}x openai: {met}")
    print(f"  goal   loads <= {LOADS_GOAL}x openai: {verdict(loads, LOADS_GOAL)}")
    print(f"  target dumps <= {DUMPS_TARGET}x openai: {verdict(dumps, DUMPS_TARGET)}")
    checked = stats["batchfsm/openai validate"]["paired_geomean"]
    print(
        f"  target validate <= {VALIDATE_TARGET}x openai decode:"
        f" {verdict(checked, VALIDATE_TARGET)}"
    )
    print(f"  goal   validate <= {VALIDATE_GOAL}x openai decode: {verdict(checked, VALIDATE_GOAL)}")
    if cells:
        (name, impl, op), cell = max(cells.items(), key=lambda item: item[1].spread)
        print(f"  noisiest cell: {impl} {op} on {name}, IQR {cell.spread:.0%} of median")


# The packages whose versions the report names.
VERSIONED = ("batchfsm", "openai", "pydantic", "msgspec", "orjson", "cattrs", "attrs")


def write_json(
    path: Path, payloads: Sequence[Payload], cells: Cells, stats: dict[str, Any], rounds: int
) -> None:
    report = {
        "versions": versions(*VERSIONED),
        "platform": platform.platform(),
        "rounds": rounds,
        "payloads": {p.name: len(p.raw) for p in payloads},
        "cells": [
            {
                "payload": name,
                "impl": impl,
                "op": op,
                "n": cell.n,
                "median_us": cell.median_us,
                "iqr_over_median": cell.spread,
                "samples_us": cell.samples_us,
            }
            for (name, impl, op), cell in cells.items()
        ],
        "summary": stats,
        "targets": {
            "loads": LOADS_TARGET,
            "loads_goal": LOADS_GOAL,
            "dumps": DUMPS_TARGET,
            "validate": VALIDATE_TARGET,
            "validate_goal": VALIDATE_GOAL,
        },
    }
    write_report(path, report)


# --- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = bench_parser(__doc__, DEFAULT_ROUNDS, f"{QUICK_ROUNDS} rounds, shorter batches")
    parser.add_argument("--payloads", type=Path, metavar="DIR", help="directory of *.json")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    target_ms = QUICK_TARGET_MS if args.quick else TARGET_MS
    print(" ".join(f"{k} {v}" for k, v in versions(*VERSIONED).items()))

    impls = available_impls()
    canonical = canonical_payloads(payload_dir(args.payloads))
    if not canonical:
        print("no payload loads under the default profile: nothing to measure")
        return 0
    payloads = [*canonical, *generated_payloads(canonical)]

    started = time.perf_counter()
    cells = prepare(payloads, impls, target_ms)
    run_rounds(payloads, impls, cells, rounds)
    for payload in payloads:
        print_payload(payload, impls, cells)
    stats = summary(cells, payloads)
    print_summary(stats, cells, rounds)
    print(f"  wall time {time.perf_counter() - started:.1f} s")
    if args.json is not None:
        write_json(args.json, payloads, cells, stats, rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
