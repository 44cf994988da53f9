"""Cost of validating crafted, hostile payloads, against merely parsing them.

What it measures: for payloads built to hurt, at 1, 4 and 16 MiB, the time and the peak
memory of ``batchfsm.validate(raw)`` divided by those of ``orjson.loads(raw)`` on the same
bytes, under the ``openai`` and ``compat`` profiles. The cases:

* ``errors-ok``: a failed batch with that many well-formed error entries;
* ``errors-null``: ``"errors": {"data": [null, null, ...]}`` (a violation per entry);
* ``metadata-keys``: that many metadata pairs (``metadata.too_many``);
* ``metadata-long``: that many metadata keys of 70 characters (a violation per key);
* ``deep``: an unknown key holding many arrays nested 200 deep;
* ``long-string``: one model name of that size;
* ``unknown-keys``: that many unknown top-level keys.

A validator whose work is linear in its input keeps each ratio flat as the size grows;
issue 14's goal is ≤ 20x the time and ≤ 10x the memory of parsing. Time is the fastest
of ``--repeat`` runs (so other load on the machine shows up less); memory is the peak
``tracemalloc`` sees during one call, which counts every Python object orjson and
batchfsm allocate. The exit code is 0 regardless of the numbers.

Run it from the repository root, with batchfsm and orjson importable::

    python bench/bench_hostile.py                # 1, 4 and 16 MiB, ~2 minutes
    python bench/bench_hostile.py --sizes 1 4    # smaller sizes only
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import batchfsm
from batchfsm._examples import base_payload

MIB = 1 << 20


def _failed() -> dict[str, Any]:
    payload = base_payload()
    payload.update(
        status="failed",
        in_progress_at=None,
        finalizing_at=None,
        completed_at=None,
        failed_at=payload["created_at"] + 10,
        output_file_id=None,
        error_file_id=None,
        request_counts={"total": 0, "completed": 0, "failed": 0},
        usage=None,
    )
    return payload


def _fill(make: Callable[[int], Any], size: int, per_item: int) -> Any:
    """`make(n)` for the n that brings the payload near `size` bytes (`per_item` each)."""
    return make(max(1, size // per_item))


def _errors_ok(size: int) -> dict[str, Any]:
    entry = {"code": "invalid_json_line", "message": "line is not JSON", "param": None}
    items = _fill(lambda n: [{**entry, "line": i} for i in range(n)], size, 90)
    return {**_failed(), "errors": {"object": "list", "data": items}}


def _errors_null(size: int) -> dict[str, Any]:
    return {**_failed(), "errors": {"object": "list", "data": [None] * (size // 5)}}


def _metadata_keys(size: int) -> dict[str, Any]:
    return {**base_payload(), "metadata": {f"k{i}": "v" for i in range(size // 16)}}


def _metadata_long(size: int) -> dict[str, Any]:
    return {**base_payload(), "metadata": {f"{'k' * 70}{i}": "v" for i in range(size // 85)}}


def _deep(size: int) -> dict[str, Any]:
    def nested(depth: int) -> Any:
        value: Any = []
        for _ in range(depth):
            value = [value]
        return value

    return {**base_payload(), "x_deep": [nested(200) for _ in range(size // 402)]}


def _long_string(size: int) -> dict[str, Any]:
    return {**base_payload(), "model": "m" * size}


def _unknown_keys(size: int) -> dict[str, Any]:
    return {**base_payload(), **{f"x_{i}": i for i in range(size // 14)}}


CASES: dict[str, Callable[[int], dict[str, Any]]] = {
    "errors-ok": _errors_ok,
    "errors-null": _errors_null,
    "metadata-keys": _metadata_keys,
    "metadata-long": _metadata_long,
    "deep": _deep,
    "long-string": _long_string,
    "unknown-keys": _unknown_keys,
}


def _seconds(call: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _peak(call: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16], metavar="MIB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profiles", nargs="+", default=["openai", "compat"])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()

    print(f"batchfsm {batchfsm.__version__}, orjson {orjson.__version__}, {sys.version.split()[0]}")
    header = f"{'case':<14} {'MiB':>4} {'profile':<7} {'parse ms':>9} {'validate ms':>12}"
    header += f" {'time x':>7} {'parse MiB':>10} {'validate MiB':>13} {'memory x':>9}  report"
    print(header)
    worst_time = worst_memory = 0.0
    for case in args.cases:
        for mib in args.sizes:
            raw = json.dumps(CASES[case](mib * MIB)).encode()
            parse = functools.partial(orjson.loads, raw)
            parse_s, parse_peak = _seconds(parse, args.repeat), _peak(parse)
            for profile in args.profiles:
                judge = functools.partial(batchfsm.validate, raw, profile=profile)
                validate_s, validate_peak = _seconds(judge, args.repeat), _peak(judge)
                report = judge()
                time_ratio = validate_s / parse_s
                memory_ratio = validate_peak / parse_peak
                worst_time = max(worst_time, time_ratio)
                worst_memory = max(worst_memory, memory_ratio)
                shown = f"{'ok' if report.ok else 'not ok'}, {len(report.violations)} violations"
                print(
                    f"{case:<14} {len(raw) / MIB:>4.1f} {profile:<7} {parse_s * 1e3:>9.1f}"
                    f" {validate_s * 1e3:>12.1f} {time_ratio:>6.1f}x {parse_peak / MIB:>10.1f}"
                    f" {validate_peak / MIB:>13.1f} {memory_ratio:>8.1f}x  {shown}",
                    flush=True,
                )
    print(
        f"worst: {worst_time:.1f}x the time (goal <= 20x),"
        f" {worst_memory:.1f}x the memory (goal <= 10x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
