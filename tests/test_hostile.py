"""Any Python value at all: the validator answers with a report, never hangs, never raises a
foreign exception, and does work proportional to the size of what it was given.

Work is counted, not timed: every Python and builtin call made while judging a value is an
event of `sys.setprofile`, and the count must stay under a budget linear in the number of
distinct objects in the value (a shared object counted once), so a walk that repeats
itself (shared sub-structures) or never ends (a list holding itself) fails here at once,
on any machine, however loaded.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, BatchfsmError, Report
from batchfsm._examples import base_payload

from helpers.odd_values import ArrayLike

PROFILES = ("strict", "openai", "compat")
# Events allowed per distinct object, and for the payload around it. Judging an element
# the codec refuses costs ~140 events (cattrs' error path); a clean payload ~200 in all.
_PER_OBJECT = 400
_FIXED = 20_000
# A wall-clock backstop so that a hang fails the test instead of the suite.
_BACKSTOP = 60.0


class _OverBudget(Exception):
    """Raised from the profiler when a call does more work than its budget."""


def _size(value: object) -> int:
    """The number of distinct objects in `value`, each container's items included."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if type(current) in (list, tuple, set, frozenset):
            stack.extend(current)  # type: ignore[arg-type]
        elif type(current) is dict:
            stack.extend(current.keys())
            stack.extend(current.values())
    return len(seen)


def _bounded(call: Callable[[], object], budget: int) -> object:
    """`call()`, failing if it makes more than `budget` calls or runs past the backstop."""
    outcome: list[object] = []
    events = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal events
        events += 1
        if events > budget:
            raise _OverBudget(f"more than {budget} calls")

    def run() -> None:
        sys.setprofile(count)
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test to judge
            outcome.append(exc)
        finally:
            sys.setprofile(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(_BACKSTOP)
    assert not worker.is_alive(), f"still running after {_BACKSTOP} s"
    (result,) = outcome
    if isinstance(result, _OverBudget):
        raise AssertionError(f"work not linear in the input: {result}")
    return result


def _judged(call: Callable[[], object], value: object) -> object:
    """`call()` within the budget of `value`'s size; a foreign exception fails the test."""
    result = _bounded(call, _FIXED + _PER_OBJECT * _size(value))
    if isinstance(result, BaseException) and not isinstance(result, BatchfsmError):
        raise AssertionError(f"foreign exception {type(result).__name__}: {result}") from result
    return result


# -- values no JSON parser would make ---------------------------------------------------


class _Color(enum.Enum):
    RED = "red"


class _Hostile:
    """Every special method a walk may call raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __len__(self) -> int:
        raise RuntimeError("no len")

    def __iter__(self) -> Iterator[object]:
        raise RuntimeError("no iter")

    __hash__ = object.__hash__


class _LyingMapping(Mapping[str, object]):
    """A mapping whose contents change every time it is read."""

    def __init__(self) -> None:
        self.reads = 0

    def __getitem__(self, key: str) -> object:
        self.reads += 1
        if self.reads > 3:
            raise KeyError(key)
        return 1

    def __iter__(self) -> Iterator[str]:
        return iter(["id", "status", "created_at"])

    def __len__(self) -> int:
        return 3


class _Str(str):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    __hash__ = str.__hash__


def _released() -> memoryview:
    view = memoryview(b'{"id": "batch_1"}')
    view.release()
    return view


# str subclasses (`_Str`) are left to TestOddScalars: Hypothesis replays drawn values as
# choices and cannot record a str subclass as one.
_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    # 10**5000 is left to TestOddScalars: Hypothesis could not print it in a failure.
    st.sampled_from([2**64, -(2**70), 10**400]),
    st.floats(),
    st.text(),
    # Numeric strings around Python's int-conversion limit (4,300 digits), cheap to draw.
    st.integers(4290, 4400).map(lambda digits: "7" * digits),
    st.binary(max_size=20),
    st.datetimes(),
    st.uuids(),
    st.decimals(),
    st.complex_numbers(),
    st.just(_Color.RED),
    st.builds(ArrayLike),
    st.builds(_Hostile),
    st.builds(_LyingMapping),
    st.builds(_released),
    st.builds(object),
)
_KEYS: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
    st.tuples(st.integers()),
    st.none(),
)


def python_values() -> st.SearchStrategy[Any]:
    """Arbitrary Python values, nested: containers of every kind around odd scalars."""
    return st.recursive(
        _SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.tuples(inner, inner),
            st.dictionaries(_KEYS, inner, max_size=4),
            st.frozensets(st.integers(), max_size=3),
        ),
        max_leaves=20,
    )


_FIELDS = (*base_payload().keys(), "x_unknown")


@st.composite
def payload_shaped(draw: st.DrawFn) -> dict[Any, Any]:
    """A valid payload with some keys (known and unknown, nested too) set to any value."""
    payload: dict[Any, Any] = base_payload()
    for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=4, unique=True)):
        payload[key] = draw(python_values())
    for key in ("request_counts", "usage", "errors"):
        inner = payload.get(key)
        if isinstance(inner, dict) and draw(st.booleans()):
            inner = dict(inner)
            # An index, not sampled_from: Hypothesis cannot record a str subclass as a choice.
            keys = [*inner, "x_inner"]
            inner[keys[draw(st.integers(0, len(keys) - 1))]] = draw(python_values())
            payload[key] = inner
    return payload


# -- values that refer to themselves -----------------------------------------------------


def _self_list() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


def _self_dict() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["me"] = loop
    return loop


def _mutual() -> list[Any]:
    first: list[Any] = []
    second: dict[str, Any] = {"first": first}
    first.append(second)
    return first


def _shared(levels: int) -> list[Any]:
    """`levels` levels of a list holding the level below twice: 2**levels paths, levels
    objects."""
    value: list[Any] = []
    for _ in range(levels):
        value = [value, value]
    return value


_RECURSIVE: dict[str, Callable[[], Any]] = {
    "list holding itself": _self_list,
    "dict holding itself": _self_dict,
    "list and dict holding each other": _mutual,
    "22 levels of a list holding itself twice": lambda: _shared(22),
    "60 levels of a list holding itself twice": lambda: _shared(60),
}
_PLACES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "an unknown key": lambda value: {**base_payload(), "x_loop": value},
    "metadata": lambda value: {**base_payload(), "metadata": {"k": value}},
    "errors.data": lambda value: {**base_payload(), "errors": {"object": "list", "data": value}},
    "request_counts": lambda value: {**base_payload(), "request_counts": value},
    "usage, in an unknown key": lambda value: {
        **base_payload(),
        "usage": {**base_payload()["usage"], "x_loop": value},
    },
}


@pytest.mark.slow
class TestAnyPythonValue:
    @given(value=payload_shaped(), profile=st.sampled_from(PROFILES))
    def test_validate_reports(self, value: dict[Any, Any], profile: str) -> None:
        """validate answers a mapping holding anything at all with a Report, in work
        linear in its size, under every profile."""
        result = _judged(lambda: batchfsm.validate(value, profile=profile), value)
        assert isinstance(result, Report), result

    @given(value=python_values(), profile=st.sampled_from(PROFILES))
    def test_validate_any_value(self, value: object, profile: str) -> None:
        """validate answers any value with a Report, or an ArgumentError for a type no
        payload comes as."""
        result = _judged(lambda: batchfsm.validate(value, profile=profile), value)
        assert isinstance(result, (Report, ArgumentError)), result

    @given(value=payload_shaped(), profile=st.sampled_from(PROFILES))
    def test_structure_and_history(self, value: dict[Any, Any], profile: str) -> None:
        """structure returns a Batch or raises a PayloadError, and check_history answers
        with a Report, in work linear in the size of the value."""
        result = _judged(lambda: batchfsm.structure(value, profile=profile), value)
        assert isinstance(result, (batchfsm.Batch, batchfsm.PayloadError)), result
        history = _judged(lambda: batchfsm.check_history([value, value], profile=profile), value)
        assert isinstance(history, Report), history


class TestRecursiveValues:
    @pytest.mark.parametrize("place", list(_PLACES))
    @pytest.mark.parametrize("shape", list(_RECURSIVE))
    def test_validate_structure_history(self, shape: str, place: str) -> None:
        """A value that holds itself, or shares sub-values, is judged once per object:
        validate and check_history report, structure raises a PayloadError."""
        payload = _PLACES[place](_RECURSIVE[shape]())
        for profile in PROFILES:
            report = _judged(
                functools.partial(batchfsm.validate, payload, profile=profile), payload
            )
            assert isinstance(report, Report), report
            result = _judged(
                functools.partial(batchfsm.structure, payload, profile=profile), payload
            )
            assert isinstance(result, (batchfsm.Batch, batchfsm.PayloadError)), result
            history = _judged(
                functools.partial(batchfsm.check_history, [payload], profile=profile), payload
            )
            assert isinstance(history, Report), history

    def test_a_loop_in_an_unknown_key_is_refused(self) -> None:
        """A loop has no JSON form: validate says not ok, at the loop's path."""
        report = batchfsm.validate({**base_payload(), "x_loop": _self_list()})
        assert not report.ok
        assert any(v.path.startswith("$.x_loop") for v in report.errors)


class TestOddScalars:
    @pytest.mark.parametrize(
        "value",
        [
            "1" * 5000,
            10**5000,
            float("nan"),
            datetime.datetime(2024, 1, 1),
            uuid.UUID(int=1),
            decimal.Decimal("1.5"),
            _Color.RED,
            ArrayLike(),
            _Hostile(),
            _Str("x"),
            _LyingMapping(),
        ],
        ids=lambda value: type(value).__name__,
    )
    @pytest.mark.parametrize(
        "key", ["created_at", "id", "metadata", "request_counts", "usage", "x_unknown"]
    )
    def test_reported_everywhere(self, key: str, value: object) -> None:
        """An odd value in a known or unknown key is reported (never raised) in every
        profile, and the payload with it is not ok where JSON cannot hold it."""
        payload = {**base_payload(), key: value}
        for profile in PROFILES:
            report = _judged(
                functools.partial(batchfsm.validate, payload, profile=profile), payload
            )
            assert isinstance(report, Report), report

    def test_released_memoryview(self) -> None:
        """A released memoryview is an ArgumentError or a report of unreadable input, never
        a ValueError, and never judged ok."""
        result = _judged(lambda: batchfsm.validate(_released()), None)
        assert isinstance(result, (Report, ArgumentError)), result
        if isinstance(result, Report):
            assert not result.ok
