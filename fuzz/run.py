"""The long fuzzing run: a million inputs and more, outside CI (docs/guarantees.md).

Drives the property tests of ``tests/test_fuzz.py`` with Hypothesis's ``fuzz_one_input``:
each input is a random buffer that Hypothesis turns into a value of the test's strategy,
without the search and shrinking of a normal run, which makes an input cost what the code
under test costs plus drawing it. A failing input raises at once, with the test's own
assertion (re-run it with ``pytest tests/test_fuzz.py`` and the printed buffer to shrink).

    python fuzz/run.py                    # 1,000,000 inputs, split over the targets below
    python fuzz/run.py --inputs 20000     # a quick look
    python fuzz/run.py --seed 7           # another stream of buffers

Targets (their shares of the inputs are in TARGETS; the cheap ones get more):

* loads and validate of arbitrary bytes and text, and of mutated payloads' JSON text;
* structure and validate of arbitrary JSON values and of mutated payloads;
* check_history of lists of those;
* the ``validate`` command, in-process, on a file of up to three of them;
* dumps, unstructure and the engine's events on driven batches changed by hand.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_fuzz as suite  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import batchfsm  # noqa: E402

from records import hand_changed_batches  # noqa: E402
from wire import json_values  # noqa: E402

QUIET = settings(
    database=None, deadline=None, suppress_health_check=list(HealthCheck), max_examples=1
)


@QUIET
@given(suite.arbitrary_bytes | suite.arbitrary_text, suite.PROFILES)
def loads_text(data: Any, profile: str) -> None:
    suite.TestDecoding.test_loads.hypothesis.inner_test(None, data, profile)  # type: ignore[attr-defined]


@QUIET
@given(suite.mutated_text(), suite.PROFILES)
def loads_mutated(data: Any, profile: str) -> None:
    suite.TestDecoding.test_loads.hypothesis.inner_test(None, data, profile)  # type: ignore[attr-defined]


@QUIET
@given(suite.arbitrary_bytes | suite.arbitrary_text, suite.PROFILES)
def validate_text(data: Any, profile: str) -> None:
    suite.TestValidating.test_validate_never_raises.hypothesis.inner_test(None, data, profile)  # type: ignore[attr-defined]


@QUIET
@given(json_values, suite.PROFILES)
def structure_json(value: Any, profile: str) -> None:
    suite.TestDecoding.test_structure.hypothesis.inner_test(None, value, profile)  # type: ignore[attr-defined]


@QUIET
@given(suite.any_value, suite.PROFILES)
def structure_values(value: Any, profile: str) -> None:
    suite.TestDecoding.test_structure.hypothesis.inner_test(None, value, profile)  # type: ignore[attr-defined]


@QUIET
@given(suite.any_text | suite.any_value, suite.PROFILES)
def validate_anything(data: Any, profile: str) -> None:
    suite.TestValidating.test_validate_never_raises.hypothesis.inner_test(None, data, profile)  # type: ignore[attr-defined]


@QUIET
@given(st.lists(suite.any_text | suite.mutated_payloads(), max_size=4), suite.PROFILES)
def history(snapshots: list[Any], profile: str) -> None:
    suite.TestValidating.test_check_history_never_raises.hypothesis.inner_test(  # type: ignore[attr-defined]
        None, snapshots, profile
    )


@QUIET
@given(st.lists(suite.any_text, min_size=1, max_size=3), st.booleans(), st.booleans())
def command(documents: list[Any], history: bool, lines: bool) -> None:
    suite.TestCommand.test_validate_command.hypothesis.inner_test(  # type: ignore[attr-defined]
        None, documents, history, lines
    )


@QUIET
@given(hand_changed_batches())
def encode_hand_set(batch: Any) -> None:
    suite.TestEncoding.test_encoders_never_crash.hypothesis.inner_test(None, batch)  # type: ignore[attr-defined]


@QUIET
@given(
    hand_changed_batches(),
    st.sampled_from([*batchfsm.EVENTS, "record_progress", "allowed_events", "sweep"]),
    st.data(),
)
def drive_hand_set(batch: Any, event: str, data: Any) -> None:
    suite.TestDriving.test_events_never_crash.hypothesis.inner_test(None, batch, event, data)  # type: ignore[attr-defined]


# (target, share of the inputs). Inputs built from mutated payloads cost 10-30 ms each (the
# engine drives each valid batch first), arbitrary bytes and values well under 1 ms.
TARGETS: list[tuple[Callable[..., None], float]] = [
    (loads_text, 0.49),
    (validate_text, 0.27),
    (structure_json, 0.15),
    (validate_anything, 0.03),
    (loads_mutated, 0.01),
    (structure_values, 0.01),
    (history, 0.01),
    (command, 0.01),
    (encode_hand_set, 0.01),
    (drive_hand_set, 0.01),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only", nargs="+", metavar="TARGET", help="run these targets (their shares) alone"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    total = 0
    started = time.perf_counter()
    for target, share in TARGETS:
        if args.only and target.__name__ not in args.only:
            continue
        wanted = max(1, round(args.inputs * share))
        fuzz = target.hypothesis.fuzz_one_input  # type: ignore[attr-defined]
        ran = tried = 0
        began = time.perf_counter()
        while ran < wanted:
            tried += 1
            buffer = rng.randbytes(rng.choice([16, 64, 256, 1024, 4096]))
            try:
                used = fuzz(buffer)
            except BaseException:
                print(f"{target.__name__} failed on buffer {buffer.hex()}", file=sys.stderr)
                raise
            if used is not None:  # None: Hypothesis could not use the buffer
                ran += 1
        total += ran
        spent = time.perf_counter() - began
        print(f"{target.__name__:<18} {ran:>9,} inputs ({tried:,} buffers) in {spent:7.1f} s")
    print(f"{'total':<18} {total:>9,} inputs in {time.perf_counter() - started:.1f} s: no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
