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
* dumps, unstructure and the engine's events on driven batches changed by hand;
* validate, structure and check_history of any Python value, alone or in a payload
  (``tests/test_hostile.py``: work bounded by the value's size, no foreign exception).
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
import test_hostile as hostile  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from helpers.hand_changed import hand_changed_batches  # noqa: E402
from helpers.payloads import json_values  # noqa: E402

QUIET = settings(
    database=None, deadline=None, suppress_health_check=list(HealthCheck), max_examples=1
)


def target(name: str, test: Any, *strategies: st.SearchStrategy[Any]) -> Callable[..., None]:
    """A fuzz target named `name`: the body of the suite's property `test`, run on one input
    drawn from `strategies` per call of its ``fuzz_one_input``."""
    body = test.hypothesis.inner_test

    @QUIET
    @given(st.tuples(*strategies))
    def run(arguments: tuple[Any, ...]) -> None:
        body(None, *arguments)

    run.__name__ = run.__qualname__ = name
    return run


texts = suite.arbitrary_bytes | suite.arbitrary_text
profiles = suite.PROFILES

# (target, share of the inputs). Inputs built from mutated payloads cost 10-30 ms each (the
# engine drives each valid batch first), arbitrary bytes and values well under 1 ms.
TARGETS: list[tuple[Callable[..., None], float]] = [
    (target("loads_text", suite.TestDecoding.test_loads, texts, profiles), 0.40),
    (
        target(
            "validate_python",
            hostile.TestAnyPythonValue.test_validate_reports,
            hostile.payload_shaped(),
            profiles,
        ),
        0.03,
    ),
    (
        target(
            "validate_any_python",
            hostile.TestAnyPythonValue.test_validate_any_value,
            hostile.python_values(),
            profiles,
        ),
        0.03,
    ),
    (
        target(
            "structure_python",
            hostile.TestAnyPythonValue.test_structure_and_history,
            hostile.payload_shaped(),
            profiles,
        ),
        0.03,
    ),
    (
        target("validate_text", suite.TestValidating.test_validate_never_raises, texts, profiles),
        0.27,
    ),
    (target("structure_json", suite.TestDecoding.test_structure, json_values, profiles), 0.15),
    (
        target(
            "validate_anything",
            suite.TestValidating.test_validate_never_raises,
            suite.any_text | suite.any_value,
            profiles,
        ),
        0.03,
    ),
    (target("loads_mutated", suite.TestDecoding.test_loads, suite.mutated_text(), profiles), 0.01),
    (
        target("structure_values", suite.TestDecoding.test_structure, suite.any_value, profiles),
        0.01,
    ),
    (
        target(
            "history",
            suite.TestValidating.test_check_history_never_raises,
            st.lists(suite.any_text | suite.mutated_payloads(), max_size=4),
            profiles,
        ),
        0.01,
    ),
    (
        target(
            "command",
            suite.TestCommand.test_validate_command,
            st.lists(suite.any_text, min_size=1, max_size=3),
            st.booleans(),
            st.booleans(),
        ),
        0.01,
    ),
    (
        target(
            "encode_hand_set", suite.TestEncoding.test_encoders_never_crash, hand_changed_batches()
        ),
        0.01,
    ),
    (
        target(
            "drive_hand_set",
            suite.TestDriving.test_events_never_crash,
            hand_changed_batches(),
            suite.DRIVER_CALLS,
            st.data(),
        ),
        0.01,
    ),
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
