"""Hand-set values of the wrong type: the encoders name them instead of crashing."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given

import batchfsm
from batchfsm import Batch, BatchError, BatchErrors, PayloadError, RequestCounts, Usage
from batchfsm._fastpath import MISS, encoder
from batchfsm._record import InputTokensDetails, OutputTokensDetails
from batchfsm._shape import wire
from batchfsm.strategies import batches

from helpers.payloads import minimal_payload

# Every test here runs on both of the codec's paths (see `codec_path` in conftest.py).
pytestmark = pytest.mark.usefixtures("codec_path")


def _batch() -> Batch:
    return batchfsm.structure(minimal_payload(id="batch_1"))


def _usage(**changes: Any) -> Usage:
    usage = Usage(
        input_tokens=1,
        input_tokens_details=InputTokensDetails(),
        output_tokens=1,
        output_tokens_details=OutputTokensDetails(),
        total_tokens=2,
    )
    return attrs.evolve(usage, **changes)


# (what is set on a fresh batch, where it is reported, the message)
MISFITS: list[tuple[str, Callable[[Batch], Any], str, str]] = [
    (
        "status",
        lambda b: setattr(b, "status", "completed"),
        "$.status",
        "expected Status, got str 'completed'",
    ),
    (
        "record",
        lambda b: setattr(b, "request_counts", "3"),
        "$.request_counts",
        "expected RequestCounts or None, got str '3'",
    ),
    (
        "nested record",
        lambda b: setattr(b, "usage", _usage(output_tokens_details=None)),
        "$.usage.output_tokens_details",
        "expected OutputTokensDetails, got NoneType None",
    ),
    (
        "array",
        lambda b: setattr(b, "errors", BatchErrors(data="ab")),  # type: ignore[arg-type]
        "$.errors.data",
        "expected list or None, got str 'ab'",
    ),
    (
        "array entry",
        lambda b: setattr(b, "errors", BatchErrors(data=[BatchError(), None])),  # type: ignore[list-item]
        "$.errors.data[1]",
        "expected BatchError, got NoneType None",
    ),
    (
        "object",
        lambda b: setattr(b, "metadata", [1]),
        "$.metadata",
        "expected dict or None, got list [1]",
    ),
    (
        "unknown keys",
        lambda b: setattr(b, "extra", 5),
        "$.extra",
        "expected dict, got int 5",
    ),
    (
        "nested unknown keys",
        lambda b: setattr(b, "request_counts", RequestCounts(extra=5)),  # type: ignore[arg-type]
        "$.request_counts.extra",
        "expected dict, got int 5",
    ),
    (
        "omitted keys",
        lambda b: setattr(b, "omitted", 5),
        "$.omitted",
        "expected frozenset, got int 5",
    ),
    (
        "omitted unhashable",
        lambda b: setattr(b, "omitted", [["model"]]),
        "$.omitted",
        "expected frozenset, got list [['model']]",
    ),
    (
        "unknown pairs",
        lambda b: setattr(b, "extra", [1, 2]),
        "$.extra",
        "expected dict, got list [1, 2]",
    ),
    (
        "omitted names",
        lambda b: setattr(b, "omitted", frozenset({"model", "extra", "nope"})),
        "$.omitted",
        "omitted names 'extra', 'nope', not keys of a Batch object",
    ),
    (
        "long value",
        lambda b: setattr(b, "status", "x" * 200),
        "$.status",
        f"expected Status, got str {('x' * 200)!r:.80}",
    ),
]


class TestEncoders:
    @pytest.mark.parametrize(
        ("change", "path", "message"),
        [case[1:] for case in MISFITS],
        ids=[case[0] for case in MISFITS],
    )
    @pytest.mark.parametrize("encode", [batchfsm.dumps, batchfsm.unstructure])
    def test_hand_set_misfit_is_a_payload_error_at_its_path(
        self,
        encode: Callable[[Batch], Any],
        change: Callable[[Batch], Any],
        path: str,
        message: str,
    ) -> None:
        """dumps and unstructure refuse a value of the wrong type set by hand with one
        `encode.unsupported` violation at its path, naming the batch."""
        batch = _batch()
        change(batch)
        with pytest.raises(PayloadError) as info:
            encode(batch)
        assert info.value.batch_id == "batch_1"
        assert [(v.code, v.path, v.message) for v in info.value.violations] == [
            ("encode.unsupported", path, message)
        ]

    def test_a_batch_with_a_bad_id_is_named_by_none(self) -> None:
        """A misfit in a batch whose id is not a string is reported without a batch id."""
        batch = _batch()
        batch.id = 7  # type: ignore[assignment]
        batch.status = "completed"  # type: ignore[assignment]
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert info.value.batch_id is None
        assert info.value.violations[0].path == "$.status"

    @pytest.mark.parametrize(
        ("change", "read", "expected"),
        [
            (
                lambda b: setattr(b, "metadata", MappingProxyType({"k": "v"})),
                lambda wire: wire["metadata"],
                {"k": "v"},
            ),
            (
                lambda b: setattr(b, "errors", BatchErrors(data=(BatchError(code="x"),))),  # type: ignore[arg-type]
                lambda wire: wire["errors"]["data"][0]["code"],
                "x",
            ),
            (lambda b: setattr(b, "created_at", "soon"), lambda wire: wire["created_at"], "soon"),
            (lambda b: setattr(b, "omitted", {"model"}), lambda wire: "model" in wire, False),
            (lambda b: setattr(b, "omitted", ["model"]), lambda wire: "model" in wire, False),
            (lambda b: setattr(b, "extra", [("x", 1)]), lambda wire: wire["x"], 1),
        ],
        ids=["mapping", "tuple", "wrong scalar", "set", "list of names", "list of pairs"],
    )
    def test_values_with_a_wire_form_are_written(
        self, change: Callable[[Batch], Any], read: Callable[[Any], Any], expected: Any
    ) -> None:
        """Values the wire object can hold are written, even where `validate` would object
        (a scalar of the wrong type): only what cannot be written is refused."""
        batch = _batch()
        change(batch)
        assert read(json.loads(batchfsm.dumps(batch))) == expected
        assert read(batchfsm.unstructure(batch)) == expected

    def test_odd_but_working_values_are_not_blamed_for_anothers_failure(self) -> None:
        """A list of omitted names and a list of unknown pairs work, so the value that does
        not (a str status) is the one reported."""
        batch = _batch()
        batch.omitted = ["model"]  # type: ignore[assignment]
        batch.extra = [("x", 1)]  # type: ignore[assignment]
        batch.status = "completed"  # type: ignore[assignment]
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert [v.path for v in info.value.violations] == ["$.status"]


class TestWriters:
    @given(batches())
    def test_both_writers_write_what_the_engine_makes_alike(self, batch: Batch) -> None:
        """The generated writer answers for every batch the engine drives, with the wire
        object the careful writer gives."""
        written = encoder()(batch)
        assert written is not MISS
        assert written == wire(batch)
