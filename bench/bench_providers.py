"""Cost of reading a native batch object with from_provider, against validating an OpenAI
payload of the same size.

What it measures: for each native batch API `from_provider` reads (Anthropic, Bedrock,
Gemini, Mistral, Vertex AI), each of its consistent objects — the published samples of
``tests/payloads/providers/`` that read without error, and the ``provider.*`` rules'
examples that do (Bedrock published no object that reads) — as JSON bytes, the
per-call time of

* ``batchfsm.from_provider(raw, profile=P)`` (recognise the provider, read the object as
  OpenAI's batch with every loss reported, then validate that batch), against
* ``batchfsm.validate(openai_raw, profile=P)`` where ``openai_raw`` is an OpenAI batch
  payload of the same number of bytes (the catalog's consistent batch, trimmed or padded
  with metadata and an unknown key until it is),

under ``compat`` (from_provider's default) and ``openai``. Each measurement times a batch of
N calls sized to take ~10 ms (5 ms with --quick); the two calls of an object are timed
interleaved, in an order rotated per round, so drift hits both alike. The table shows the
medians across rounds and the median of the per-round ratios ("paired": a round's two samples
are taken moments apart); the summary gives, per provider and profile, the geometric mean of
its objects' paired ratios, judged against issue 15's goal (<= 1.5x). The exit code is 0
regardless of the verdicts.

Run it from the repository root, with batchfsm importable (installed, or ``PYTHONPATH=.``)::

    python bench/bench_providers.py                 # 15 rounds, about a minute
    python bench/bench_providers.py --quick         # smoke run
    python bench/bench_providers.py --rounds 30 --json results.json
"""

from __future__ import annotations

import gc
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import batchfsm
from batchfsm._examples import base_payload
from batchfsm._providers import recognise
from batchfsm._rules import RULES, Stage

DEFAULT_ROUNDS = 15
QUICK_ROUNDS = 3
TARGET_MS = 10.0
QUICK_TARGET_MS = 5.0
GOAL = 1.5
PROFILES = ("compat", "openai")
PROVIDERS = frozenset(batchfsm.PROVIDERS) - {"openai"}
SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "payloads" / "providers"
READ, VALIDATE = "from_provider", "validate"


@dataclass(frozen=True)
class Case:
    """One native object and its OpenAI payload of the same size."""

    provider: str
    name: str
    native: bytes
    openai: bytes

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.name}"


# -- the objects -----------------------------------------------------------------------


def _published() -> list[tuple[str, Any]]:
    """Each published snapshot that reads without error (under compat)."""
    found = []
    for path in sorted(SAMPLES.glob("*/*.json")):
        value = json.loads(path.read_bytes())
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            name = path.stem.split("_")[0] + (f"[{index}]" if isinstance(value, list) else "")
            if batchfsm.from_provider(item).ok:
                found.append((name, item))
    return found


def _rule_objects() -> list[tuple[str, Any]]:
    """The provider rules' examples that read with no error (their losses are warnings),
    each distinct object once."""
    found: dict[str, tuple[str, Any]] = {}
    for rule in RULES:
        if rule.stage is not Stage.PROVIDER:
            continue
        example = rule.build_example()
        for item in example if isinstance(example, list) else [example]:
            if isinstance(item, dict) and batchfsm.from_provider(item).ok:
                key = json.dumps(item, sort_keys=True)
                found.setdefault(key, (f"rule:{rule.code.split('.')[1]}", item))
    return list(found.values())


def openai_of_size(size: int) -> bytes:
    """A consistent OpenAI batch payload of `size` bytes (the closest it can be below the
    catalog's smallest form), as JSON text."""
    payload = base_payload()
    for key in ("usage", "metadata"):  # optional: dropped while the payload is too large
        if len(json.dumps(payload).encode()) > size:
            payload.pop(key, None)
    raw = json.dumps(payload).encode()
    if len(raw) < size:
        payload["metadata"] = {}
        for i in range(16):  # the most pairs OpenAI allows
            pad = size - len(json.dumps(payload).encode()) - len(f', "k{i:02d}": ""')
            if pad <= 0:
                break
            payload["metadata"][f"k{i:02d}"] = "v" * min(pad, 64)
        pad = size - len(json.dumps(payload).encode()) - len(', "x_pad": ""')
        if pad > 0:
            payload["x_pad"] = "p" * pad
        raw = json.dumps(payload).encode()
    report = batchfsm.validate(raw)
    assert report.ok, report.violations  # a payload that is not consistent is a bug here
    return raw


def cases() -> list[Case]:
    found: dict[str, Case] = {}
    for name, item in [*_published(), *_rule_objects()]:
        raw = json.dumps(item).encode()
        provider = recognise(item)
        assert provider in PROVIDERS, name
        case = Case(provider, name, raw, openai_of_size(len(raw)))
        while case.key in found:  # two rules' examples of one provider: number them
            case = Case(provider, case.name + "'", raw, case.openai)
        found[case.key] = case
    return sorted(found.values(), key=lambda case: case.key)


# -- timing ------------------------------------------------------------------------------


def time_calls(fn: Callable[[bytes], object], arg: bytes, n: int) -> float:
    """Per-call µs of `n` calls of ``fn(arg)``, the collector off meanwhile (as timeit)."""
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


def calibrate(fn: Callable[[bytes], object], arg: bytes, target_ms: float) -> int:
    """Calls per measurement so that one takes about `target_ms`; also warms caches up."""
    n = 1
    while True:
        per_call_us = time_calls(fn, arg, n)
        if per_call_us * n >= 1000 or n >= 1 << 20:
            break
        n *= 4
    return max(1, round(target_ms * 1000 / per_call_us))


def operation(kind: str, case: Case, profile: str) -> tuple[Callable[[bytes], object], bytes]:
    if kind == READ:
        return lambda raw: batchfsm.from_provider(raw, profile=profile), case.native
    return lambda raw: batchfsm.validate(raw, profile=profile), case.openai


Key = tuple[str, str, str]  # (case name, profile, READ or VALIDATE)


def measure(all_cases: list[Case], rounds: int, target_ms: float) -> dict[Key, Cell]:
    cells: dict[Key, Cell] = {}
    for case in all_cases:
        for profile in PROFILES:
            for kind in (READ, VALIDATE):
                fn, arg = operation(kind, case, profile)
                cells[case.key, profile, kind] = Cell(calibrate(fn, arg, target_ms))
    for r in range(rounds):
        gc.collect()  # once per round: a full collection would land on whoever runs next
        for case in all_cases:
            for profile in PROFILES:
                for kind in rotated((READ, VALIDATE), r):
                    fn, arg = operation(kind, case, profile)
                    cell = cells[case.key, profile, kind]
                    cell.samples_us.append(time_calls(fn, arg, cell.n))
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr)
    return cells


def paired(cells: dict[Key, Cell], case: str, profile: str) -> float:
    """Median over rounds of from_provider's time over validate's within the round."""
    top, bottom = cells[case, profile, READ], cells[case, profile, VALIDATE]
    ratios = sorted(a / b for a, b in zip(top.samples_us, bottom.samples_us, strict=True))
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2


# -- report ------------------------------------------------------------------------------


def main() -> int:
    parser = bench_parser(__doc__, DEFAULT_ROUNDS, f"{QUICK_ROUNDS} rounds of ~5 ms")
    args = parser.parse_args()
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    target = QUICK_TARGET_MS if args.quick else TARGET_MS
    all_cases = cases()
    shown = ", ".join(f"{k} {v}" for k, v in versions("batchfsm").items())
    print(f"{shown}; {len(all_cases)} native objects, {rounds} rounds")
    cells = measure(all_cases, rounds, target)

    header = f"{'provider':<10} {'object':<24} {'bytes':>6}"
    for profile in PROFILES:
        header += f" | {profile + ': read µs':>16} {'validate µs':>11} {'ratio':>6}"
    print("\n" + header)
    rows: list[dict[str, Any]] = []
    for case in all_cases:
        line = f"{case.provider:<10} {case.name:<24} {len(case.native):>6}"
        row: dict[str, Any] = {"provider": case.provider, "object": case.name}
        row.update(bytes=len(case.native), openai_bytes=len(case.openai))
        for profile in PROFILES:
            read, check = cells[case.key, profile, READ], cells[case.key, profile, VALIDATE]
            pair = paired(cells, case.key, profile)
            line += f" | {fmt_us(read):>16} {fmt_us(check):>11} {fmt_ratio(pair):>6}"
            row[profile] = {
                "from_provider_us": read.median_us,
                "validate_us": check.median_us,
                "spread": max(read.spread, check.spread),
                "paired_ratio": pair,
            }
        print(line)
        rows.append(row)

    print(f"\nper provider (geometric mean of its objects' paired ratios; goal <= {GOAL}x):")
    summary: dict[str, dict[str, float | None]] = {}
    for provider in sorted({case.provider for case in all_cases}):
        mine = [case for case in all_cases if case.provider == provider]
        summary[provider] = {}
        parts = []
        for profile in PROFILES:
            value = geomean(present(paired(cells, case.key, profile) for case in mine))
            summary[provider][profile] = value
            parts.append(f"{profile} {verdict(value, GOAL)}")
        print(f"  {provider:<10} ({len(mine)} objects): {'; '.join(parts)}")
    if args.json:
        report = {
            "versions": versions("batchfsm"),
            "rounds": rounds,
            "goal": GOAL,
            "objects": rows,
            "per_provider": summary,
        }
        write_report(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
