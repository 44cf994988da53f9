"""The fake Batch API's cost per batch, against canned JSON served by httpx's MockTransport.

What it measures, in one process, interleaved round by round: µs per batch cycle, the cycle a
batch client runs, with the real ``openai`` client (``max_retries=0``) on both sides:

    upload the input file (10 requests) -> create the batch -> poll it 10 times, 10 virtual
    seconds apart -> download the output file

* fake: ``FakeBatchAPI(fate=Fate(validating=10, running=60, finalizing=10))`` reached through
  ``api.transport()``, one API for every cycle of a run (as a test module would share one);
  ``wait`` is ``api.advance(10)``. The batch is created validating; the polls see it in
  progress (its counts growing), finalizing and completed; the output file is generated from
  the input's lines. Every answer is made by the engine and the fake's routing.
* canned (the baseline): the same calls on an ``httpx.MockTransport`` (``httpx2``'s, the module
  the ``openai`` client uses) whose handler answers each route with bytes prepared beforehand:
  the very answers the fake gave in a cycle recorded before timing, the n-th poll answered with
  the n-th recorded poll. It does nothing but pick the bytes; ``wait`` does nothing.

Both sides pay the ``openai`` client's own cost (building requests, parsing responses into its
models), which is most of the canned side. Target: fake <= 3x canned per batch, judged on the
paired ratio (the median over rounds of the ratio within a round): each round times both, in
an order rotated per round, moments apart. The exit code is 0 regardless of the verdict.

Run it from the repository root, with batchfsm[testing] and openai installed::

    python bench/bench_fake.py                    # 15 rounds, under a minute
    python bench/bench_fake.py --quick            # smoke run
    python bench/bench_fake.py --rounds 30 --json results.json
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import openai
from _stats import Cell, bench_parser, fmt_ratio, rotated, verdict, versions, write_report

from batchfsm.testing import FakeBatchAPI, Fate

DEFAULT_ROUNDS = 15
QUICK_ROUNDS = 3
TARGET_MS = 200.0
QUICK_TARGET_MS = 50.0
RATIO_TARGET = 3.0
POLLS = 10
STEP = 10
REQUESTS = 10

FAKE, CANNED = "fake", "canned"
ENDPOINT = "/v1/chat/completions"
FINAL = ("completed", "failed", "expired", "cancelled")
INPUT = b"".join(
    json.dumps(
        {"custom_id": f"r{i}", "method": "POST", "url": ENDPOINT,
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": str(i)}]}}
    ).encode() + b"\n"
    for i in range(REQUESTS)
)  # fmt: skip

Cycle = Callable[[], None]


def http_module() -> Any:
    """The httpx module the openai client is built on (``httpx2`` today, or ``httpx``)."""
    return sys.modules[type(openai.DefaultHttpxClient()).__mro__[1].__module__.partition(".")[0]]


def sdk(transport: Any) -> openai.OpenAI:
    http = openai.DefaultHttpxClient(transport=transport)
    return openai.OpenAI(
        api_key="test", base_url="https://fake/v1", http_client=http, max_retries=0
    )


def run_cycle(client: openai.OpenAI, wait: Callable[[int], object]) -> bytes:
    """The client's cycle: upload, create, poll POLLS times STEP seconds apart, download."""
    upload = client.files.create(file=("in.jsonl", INPUT), purpose="batch")
    batch = client.batches.create(
        input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
    )
    for _ in range(POLLS):
        wait(STEP)
        batch = client.batches.retrieve(batch.id)
    if batch.status != "completed" or batch.output_file_id is None:
        raise RuntimeError(f"the batch ended {batch.status}, not completed with output")
    return client.files.content(batch.output_file_id).content


def fake_cycle() -> tuple[Cycle, FakeBatchAPI]:
    api = FakeBatchAPI(fate=Fate(validating=10, running=60, finalizing=10))
    client = sdk(api.transport())

    def cycle() -> None:
        run_cycle(client, api.advance)

    return cycle, api


def recorded() -> dict[str, Any]:
    """The fake's answers in one cycle, as bytes, by route: what the canned side serves."""
    api = FakeBatchAPI(fate=Fate(validating=10, running=60, finalizing=10))
    module = http_module()
    answers: dict[str, Any] = {"polls": []}
    inner = api.transport()

    def record(request: Any) -> Any:
        response = inner.handle_request(request)
        body = response.read()
        kind = route(request.method, request.url.path)
        if kind == "poll":
            answers["polls"].append(body)
        else:
            answers[kind] = (body, response.headers.get("content-type"))
        return response

    run_cycle(sdk(module.MockTransport(record)), api.advance)
    statuses = [json.loads(body)["status"] for body in answers["polls"]]
    if set(statuses) != {"in_progress", "finalizing", "completed"}:
        raise RuntimeError(f"expected polls in progress, finalizing, completed: {statuses}")
    return answers


def route(method: str, path: str) -> str:
    if method == "POST" and path == "/v1/files":
        return "upload"
    if method == "POST" and path == "/v1/batches":
        return "create"
    if method == "GET" and re.fullmatch(r"/v1/files/[^/]+/content", path):
        return "content"
    if method == "GET" and path.startswith("/v1/batches/"):
        return "poll"
    raise RuntimeError(f"no canned answer for {method} {path}")


def canned_cycle(answers: dict[str, Any]) -> Cycle:
    module = http_module()
    polls: list[bytes] = answers["polls"]
    state = {"poll": 0}

    def handler(request: Any) -> Any:
        kind = route(request.method, request.url.path)
        if kind == "poll":
            body, kind_type = polls[state["poll"] % POLLS], "application/json"
            state["poll"] += 1
        else:
            body, kind_type = answers[kind]
        return module.Response(200, headers={"content-type": kind_type}, content=body)

    client = sdk(module.MockTransport(handler))

    def cycle() -> None:
        run_cycle(client, lambda seconds: None)

    return cycle


def timed(cycle: Cycle, n: int) -> float:
    """µs per cycle over `n` cycles."""
    began = time.perf_counter()
    for _ in range(n):
        cycle()
    return (time.perf_counter() - began) / n * 1e6


def compare(rounds: int, target_ms: float) -> dict[str, Any]:
    fake, api = fake_cycle()
    impls = {FAKE: fake, CANNED: canned_cycle(recorded())}
    for cycle in impls.values():  # warm up: imports, the client's caches
        timed(cycle, 5)
    probe = statistics.median(timed(cycle, 5) for cycle in impls.values())
    n = max(3, int(target_ms * 1000 / probe))
    cells = {name: Cell(n) for name in impls}
    ratios = []
    for round_ in range(rounds):
        took = {}
        for name in rotated(list(impls), round_):
            took[name] = timed(impls[name], n)
            cells[name].samples_us.append(took[name])
        ratios.append(took[FAKE] / took[CANNED])
    ratio = statistics.median(ratios)
    for name, cell in cells.items():
        print(
            f"  {name:<7} {cell.median_us:9.1f} µs/batch  ({cell.median_us / (POLLS + 3):7.1f}"
            f" µs/call, spread {cell.spread:.0%}, {n} per round)"
        )
    print(
        f"  ratio   {fmt_ratio(ratio)}  target <= {RATIO_TARGET}x: {verdict(ratio, RATIO_TARGET)}"
    )
    print(f"  ({len(api.batches())} batches in the fake at the end)")
    return {
        "per_round": n,
        "calls_per_batch": POLLS + 3,
        "median_us": {name: cell.median_us for name, cell in cells.items()},
        "spread": {name: cell.spread for name, cell in cells.items()},
        "ratio": ratio,
        "ratios": ratios,
        "met": ratio <= RATIO_TARGET,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser(__doc__, DEFAULT_ROUNDS, "few rounds, shorter cells")
    args = parser.parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    target_ms = QUICK_TARGET_MS if args.quick else TARGET_MS
    found_versions = versions("batchfsm", "openai", http_module().__name__)
    print(" ".join(f"{k} {v}" for k, v in found_versions.items()), f"{rounds} rounds")
    print(
        f"\nupload, create, {POLLS} polls, download ({REQUESTS} requests), per batch,"
        " openai client on both sides:"
    )
    report: dict[str, Any] = {"versions": found_versions, "rounds": rounds}
    report["cycle"] = compare(rounds, target_ms)
    if args.json is not None:
        write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
