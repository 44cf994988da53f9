"""Records changed by hand: attributes of driven batches set to anything at all.

`Batch` and its nested records have no validators (they would tax every decode), so a
caller can put any value anywhere; the encoders, `validate` and the engine must still answer.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

import batchfsm
from batchfsm import Batch
from batchfsm import strategies as bst

from helpers.payloads import json_values

# Anything a caller may assign to a record's attribute by hand.
hand_set_values = (
    json_values
    | st.sampled_from([None, (), frozenset({"id"}), frozenset({"nope"}), b"x", 1.5, object()])
    | st.builds(batchfsm.BatchError)
    | st.builds(batchfsm.RequestCounts)
    | st.sampled_from(list(batchfsm.Status))
)


@st.composite
def hand_changed_batches(draw: st.DrawFn) -> Batch:
    """A driven batch with one or two attributes, at the top or in a nested record, set by
    hand to anything."""
    batch = draw(bst.batches())
    for _ in range(draw(st.integers(1, 2))):
        records: list[Any] = [batch] + [
            value
            for value in (batch.errors, batch.request_counts, batch.usage)
            if attrs.has(type(value))
        ]
        record = draw(st.sampled_from(records))
        name = draw(st.sampled_from(sorted(attrs.fields_dict(type(record)))))
        object.__setattr__(record, name, draw(hand_set_values))
    return batch
