"""The generated shortcut agrees with the cattrs converter wherever it answers."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from batchfsm import PayloadError
from batchfsm import strategies as bst
from batchfsm._codec import _checked_structure
from batchfsm._fastpath import MISS, decoder
from batchfsm._strict import exact_pass

from wire import json_values, wire_batches

DECODERS = {"openai": decoder(), "compat": decoder(nullable_endpoint=True)}


def reference(value: Any, profile: str) -> Any:
    """The converter's answer, as `structure` gets it (Python values are exact)."""
    token = exact_pass.set(True)
    try:
        return _checked_structure(value, profile)
    except PayloadError:
        return None
    finally:
        exact_pass.reset(token)


@given(wire_batches(unknown=False), st.sampled_from(["openai", "compat"]))
def test_valid_payloads_decode_alike(wire: dict[str, Any], profile: str) -> None:
    """On any type-correct payload without unknown keys, the shortcut answers, and equally."""
    fast = DECODERS[profile](wire)
    assert fast is not MISS
    slow = reference(wire, profile)
    assert fast == slow
    assert fast.omitted == slow.omitted


@given(wire_batches(), st.data())
def test_broken_payloads_are_left_to_the_converter(
    wire: dict[str, Any], data: st.DataObject
) -> None:
    """Whenever the converter refuses a payload, the shortcut does not answer for it."""
    key = data.draw(st.sampled_from(sorted(wire)))
    broken = {**wire, key: data.draw(json_values)}
    fast = DECODERS["openai"](broken)
    slow = reference(broken, "openai")
    if slow is None:
        assert fast is MISS
    elif fast is not MISS:
        assert fast == slow


@given(bst.payloads(unknown_keys=False))
def test_engine_payloads_take_the_shortcut(payload: dict[str, Any]) -> None:
    """Payloads of engine-made batches are decoded by the shortcut, to the same record."""
    fast = DECODERS["openai"](json.loads(json.dumps(payload)))
    assert fast is not MISS
    assert fast == reference(payload, "openai")
