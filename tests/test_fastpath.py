"""The generated shortcuts agree with the converter (decoding) and the careful writer
(encoding) wherever they answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from cattrs.errors import BaseValidationError
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import Batch
from batchfsm import strategies as bst
from batchfsm._codec import _make_converter, _violations
from batchfsm._examples import base_payload
from batchfsm._fastpath import MISS, _Source, decoder, encoder
from batchfsm._rules import BY_CODE
from batchfsm._shape import wire as careful
from batchfsm._strict import AMBIGUOUS, Invalid, exact_pass, trouble

from helpers.hand_changed import hand_changed_batches
from helpers.hypothesis_settings import FIXTURE_PER_TEST
from helpers.payloads import json_values, wire_batches

DECODERS = {"openai": decoder(), "compat": decoder(nullable_endpoint=True)}
WRITE = encoder()


@pytest.fixture
def hooks() -> dict[str, Any]:
    """The record hooks of a converter built for this test (not when batchfsm was imported),
    so that a change to how the codec builds its converter shows up here. They hold no state,
    so one set serves every example of a Hypothesis test."""
    return _make_converter()[1]


# A fixture per test function is what these tests want: see `hooks`.


def reference(value: Any, profile: str, hooks: dict[str, Any]) -> Any:
    """The converter's answer, as `structure` gets it (Python values are exact); None when
    it refuses the payload."""
    token = exact_pass.set(True)
    try:
        return hooks[profile](value, Batch)
    except (Invalid, BaseValidationError):
        return None
    finally:
        exact_pass.reset(token)


def _rounded(value: Any) -> bool:
    """Whether `value` holds, at any depth, a float orjson could have made of a big int."""
    return trouble({"": value}, 1, floats_exact=False) == AMBIGUOUS


@FIXTURE_PER_TEST
@given(wire_batches(), st.sampled_from(["openai", "compat"]))
def test_valid_payloads_decode_alike(
    hooks: dict[str, Any], wire: dict[str, Any], profile: str
) -> None:
    """On any type-correct payload, unknown keys and all, the shortcut answers, and equally
    (it leaves only a possibly rounded number in an unknown value to the converter)."""
    fast = DECODERS[profile](wire)
    if fast is MISS:
        assert _rounded(wire)
        return
    slow = reference(wire, profile, hooks)
    assert fast == slow
    assert fast.omitted == slow.omitted
    assert fast.extra == slow.extra


def test_unknown_keys_are_kept_at_every_level(hooks: dict[str, Any]) -> None:
    """Unknown keys at the top and in nested records are kept by the shortcut itself."""
    wire = json.loads(json.dumps(base_payload()))
    wire["new_top"] = {"a": [1, 2.5]}
    wire["request_counts"]["pending"] = 3
    wire["usage"]["input_tokens_details"]["audio_tokens"] = 7
    fast = DECODERS["openai"](wire)
    assert fast is not MISS
    assert fast.extra == {"new_top": {"a": [1, 2.5]}}
    assert fast.request_counts.extra == {"pending": 3}
    assert fast.usage.input_tokens_details.extra == {"audio_tokens": 7}
    assert fast == reference(wire, "openai", hooks)


def test_a_rounded_number_in_an_unknown_value_is_left_to_the_converter() -> None:
    """A float orjson may have made of a 2**70 literal is not vouched for."""
    wire = {**base_payload(), "new_top": [float(2**70)]}
    assert DECODERS["openai"](wire) is MISS


@FIXTURE_PER_TEST
@given(wire_batches(), st.data())
def test_broken_payloads_are_left_to_the_converter(
    hooks: dict[str, Any], wire: dict[str, Any], data: st.DataObject
) -> None:
    """Whenever the converter refuses a payload, the shortcut does not answer for it."""
    key = data.draw(st.sampled_from(sorted(wire)))
    broken = {**wire, key: data.draw(json_values)}
    fast = DECODERS["openai"](broken)
    slow = reference(broken, "openai", hooks)
    if slow is None:
        assert fast is MISS
    elif fast is not MISS:
        assert fast == slow


@FIXTURE_PER_TEST
@given(bst.payloads(unknown_keys=False))
def test_engine_payloads_take_the_shortcut(hooks: dict[str, Any], payload: dict[str, Any]) -> None:
    """Payloads of engine-made batches are decoded by the shortcut, to the same record."""
    fast = DECODERS["openai"](json.loads(json.dumps(payload)))
    assert fast is not MISS
    assert fast == reference(payload, "openai", hooks)


@given(bst.payloads(unknown_keys=False))
def test_records_own_their_bookkeeping(payload: dict[str, Any]) -> None:
    """Two decodes never share an ``extra`` dict: the shortcut makes each as attrs would."""
    value = json.loads(json.dumps(payload))
    first, second = DECODERS["openai"](value), DECODERS["openai"](value)
    assert first is not MISS
    pairs = [(first, second)]
    if first.request_counts is not None:
        pairs.append((first.request_counts, second.request_counts))
    if first.usage is not None:
        pairs.append((first.usage, second.usage))
        pairs.append((first.usage.input_tokens_details, second.usage.input_tokens_details))
    for one, other in pairs:
        assert one.extra == {}
        assert one.extra is not other.extra


class TestInitHooks:
    """The shortcut fills slots without ``__init__``; it refuses classes where that differs."""

    def test_a_validator_is_refused(self) -> None:
        """A field with a validator would be skipped: building such a class is refused."""

        # Without on_setattr hooks, so that only the field's validator tells.
        @attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
        class Checked:
            count: int = attrs.field(validator=attrs.validators.ge(0))

        with pytest.raises(TypeError, match=r"Checked\.count"):
            _Source().build(Checked, "record", "v_", "extra")

    def test_a_setattr_hook_is_refused(self) -> None:
        """A class whose attribute writes run hooks is refused."""

        @attrs.define(kw_only=True)
        class Converted:
            count: int = attrs.field(converter=int)

        with pytest.raises(TypeError, match="Converted has an init hook"):
            _Source().build(Converted, "record", "v_", "extra")

    def test_a_post_init_is_refused(self) -> None:
        """An ``__attrs_post_init__`` would be skipped: building such a class is refused."""

        @attrs.define(kw_only=True)
        class Hooked:
            count: int

            def __attrs_post_init__(self) -> None:
                self.count += 1

        with pytest.raises(TypeError, match="Hooked"):
            _Source().build(Hooked, "record", "v_", "extra")


DECODE_CODES = ["field.missing", "field.type", "field.range", "status.unknown", "file_id.empty"]


@pytest.mark.parametrize("name", DECODE_CODES)
def test_the_converter_reports_each_decode_problem(hooks: dict[str, Any], name: str) -> None:
    """A converter built now reports each decoding code's catalog example at its path."""
    payload = BY_CODE[name].build_example()
    token = exact_pass.set(True)
    try:
        with pytest.raises((Invalid, BaseValidationError)) as info:
            hooks["openai"](payload, Batch)
    finally:
        exact_pass.reset(token)
    found = {(v.code, v.path) for v in _violations(info.value)}
    assert name in {code for code, _ in found}
    assert all(path.startswith("$.") for _, path in found)


class TestWriter:
    """The generated writer agrees with the careful one (`_shape.wire`) wherever it answers."""

    @given(wire_batches(), st.sampled_from(["openai", "compat"]))
    def test_decoded_records_are_written_alike(self, wire: dict[str, Any], profile: str) -> None:
        """Every record a payload decodes to (unknown and absent keys at every level) is
        written by the shortcut, as the careful writer writes it: the payload itself."""
        batch = batchfsm.structure(wire, profile=profile)
        written = WRITE(batch)
        assert written is not MISS
        assert written == careful(batch) == wire

    @given(hand_changed_batches())
    def test_records_changed_by_hand_are_written_alike_or_left(self, batch: Batch) -> None:
        """Whatever a record holds, the shortcut writes what the careful writer writes, or
        leaves it to the careful writer."""
        written = WRITE(batch)
        try:
            expected: Any = careful(batch)
        except batchfsm.PayloadError:
            expected = MISS
        if written is not MISS:
            assert written == expected

    @pytest.mark.parametrize(
        "change",
        [
            lambda b: setattr(b, "model", 1.5),
            lambda b: setattr(b, "model", True),
            lambda b: setattr(b, "extra", [("x", 1)]),
            lambda b: setattr(b, "omitted", {"model"}),
            lambda b: setattr(
                b,
                "errors",
                batchfsm.BatchErrors(data=(batchfsm.BatchError(),)),  # type: ignore[arg-type]
            ),
            lambda b: setattr(b, "metadata", {"k": 1}),
            lambda b: setattr(b, "extra", {"x": [{"a": float("nan")}]}),
            lambda b: setattr(b, "extra", {"status": "completed"}),
        ],
        ids=["float", "bool", "pairs", "set", "tuple", "int value", "nan", "field name"],
    )
    def test_anything_unusual_is_left_to_the_careful_writer(
        self, change: Callable[[Batch], Any]
    ) -> None:
        """Values the decoder never makes (even where they can be written) are not vouched
        for."""
        batch = batchfsm.structure(base_payload())
        change(batch)
        assert WRITE(batch) is MISS
