"""The codec: lossless round trips, strict types, and every problem reported at its path."""

from __future__ import annotations

import contextlib
import copy
import datetime
import decimal
import enum
import json
import math
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from cattrs.errors import AttributeValidationNote, ClassValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, Batch, PayloadError, Status, Violation
from batchfsm import strategies as bst
from batchfsm._codec import _violations

from helpers.odd_values import ArrayLike, BrokenMapping
from helpers.payloads import STAMP_KEYS, json_values, minimal_payload, wire_batches

PAYLOADS = Path(__file__).parent / "payloads"
CANONICAL = (
    sorted(PAYLOADS.glob("00[1-4]_*.json"))
    + sorted(PAYLOADS.glob("01[0]_*.json"))
    + [PAYLOADS / "009_completed_azure-docs-python-list-a.json"]
)
AZURE_QUIRKS = {
    "005_validating_azure-docs-rest-create.json",
    "006_validating_azure-docs-rest-retrieve.json",
    "007_validating_azure-docs-python-create.json",
    "008_completed_azure-docs-python.json",
    "011_validating_azure-docs-python-failfast.json",
}


USAGE = {
    "input_tokens": 1,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 1,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 2,
}

# Every test here runs on both of the codec's paths (see `codec_path` in conftest.py).
pytestmark = pytest.mark.usefixtures("codec_path")


def codes_at(error: PayloadError) -> set[tuple[str, str]]:
    return {(v.path, v.code) for v in error.violations}


def decode_error(data: Any, **kwargs: Any) -> PayloadError:
    decode = batchfsm.loads if isinstance(data, (bytes, str)) else batchfsm.structure
    with pytest.raises(PayloadError) as info:
        decode(data, **kwargs)
    return info.value


class TestRoundTrip:
    @given(wire_batches())
    def test_structure_unstructure_is_identity(self, wire: dict[str, Any]) -> None:
        """unstructure(structure(W)) == W for every type-correct wire object."""
        assert batchfsm.unstructure(batchfsm.structure(wire)) == wire

    @given(wire_batches())
    def test_dumps_loads_is_identity_on_json(self, wire: dict[str, Any]) -> None:
        """json.loads(dumps(loads(W))) == W: absent keys stay absent, nulls stay null."""
        text = json.dumps(wire)
        assert json.loads(batchfsm.dumps(batchfsm.loads(text))) == wire

    @given(wire_batches())
    def test_loads_of_dumps_is_equal_record(self, wire: dict[str, Any]) -> None:
        """Decoding what was encoded gives an equal record."""
        batch = batchfsm.structure(wire)
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch

    @given(wire_batches(), st.sampled_from(["str", "bytes", "bytearray", "memoryview"]))
    def test_every_text_type_decodes_alike(self, wire: dict[str, Any], kind: str) -> None:
        """str, bytes, bytearray and memoryview input decode to the same record."""
        text = json.dumps(wire)
        data: Any = {
            "str": text,
            "bytes": text.encode(),
            "bytearray": bytearray(text.encode()),
            "memoryview": memoryview(text.encode()),
        }[kind]
        assert batchfsm.loads(data) == batchfsm.loads(text)

    @pytest.mark.parametrize("path", CANONICAL, ids=lambda p: p.name)
    def test_published_payloads_round_trip(self, path: Path) -> None:
        """Every published payload with canonical types round-trips unchanged."""
        raw = path.read_bytes()
        assert json.loads(batchfsm.dumps(batchfsm.loads(raw))) == json.loads(raw)

    def test_unknown_keys_are_kept_at_every_depth(self) -> None:
        """Unknown keys at the top, in nested objects and in array items are written back."""
        wire = json.loads((PAYLOADS / "004_completed_openapi-batch-object.json").read_bytes())
        wire["x_top"] = {"deep": [1, {"deeper": None}]}
        wire["request_counts"]["x_counts"] = 1.5
        wire["usage"]["input_tokens_details"]["x_details"] = "kept"
        wire["errors"] = {
            "object": "list",
            "data": [{"code": "c", "x_item": [True]}],
            "x_errors": 0,
        }
        batch = batchfsm.loads(json.dumps(wire))
        assert batch.extra == {"x_top": {"deep": [1, {"deeper": None}]}}
        assert batch.errors is not None
        assert batch.errors.data is not None
        assert batch.errors.data[0].extra == {"x_item": [True]}
        assert json.loads(batchfsm.dumps(batch)) == wire

    @pytest.mark.parametrize("profile", ["openai", "compat"])
    def test_unknown_keys_named_like_record_attributes_are_kept(self, profile: str) -> None:
        """Unknown keys called extra, omitted or normalizations, at any level, are unknown
        keys like any other: kept and written back, never read into the record's own."""
        wire = {
            **minimal_payload(),
            "extra": {"a": 1},
            "omitted": ["model"],
            "normalizations": 3,
            "request_counts": {"total": 1, "completed": 0, "failed": 0, "extra": 2},
            "errors": {"data": [{"code": "x", "omitted": ["code"]}], "omitted": 1},
        }
        batch = batchfsm.loads(json.dumps(wire), profile=profile)
        assert batch.extra == {"extra": {"a": 1}, "omitted": ["model"], "normalizations": 3}
        assert "model" in batch.omitted
        assert batch.errors is not None
        assert batch.errors.data is not None
        assert batch.errors.data[0].extra == {"omitted": ["code"]}
        assert batch.errors.data[0].omitted == {"message", "param", "line"}
        assert batchfsm.unstructure(batch) == wire
        assert batchfsm.unstructure(batchfsm.structure(wire, profile=profile)) == wire

    def test_absent_key_given_a_value_is_written(self) -> None:
        """An optional key the source omitted is written once the record gives it a value."""
        wire = minimal_payload()
        batch = batchfsm.structure(wire)
        assert "in_progress_at" in batch.omitted
        assert "in_progress_at" not in batchfsm.unstructure(batch)
        batch.in_progress_at = 1711471540
        assert batchfsm.unstructure(batch)["in_progress_at"] == 1711471540

    def test_null_stays_null(self) -> None:
        """A key sent as null comes back as null, not absent."""
        wire = {**minimal_payload(), "model": None, "errors": None}
        assert batchfsm.unstructure(batchfsm.structure(wire)) == wire

    @pytest.mark.parametrize("profile", ["openai", "compat"])
    def test_huge_integer_in_unknown_key_stays_exact(self, profile: str) -> None:
        """An integer beyond 64 bits in an unknown key survives exactly (orjson reads a float),
        on the shortcut and on the converter's way (compat)."""
        text = json.dumps({**minimal_payload(), "x_big": 2**70 + 1, "x_float": 1e300})
        batch = batchfsm.loads(text, profile=profile)
        assert batch.extra["x_big"] == 2**70 + 1
        assert type(batch.extra["x_big"]) is int
        assert json.loads(batchfsm.dumps(batch)) == json.loads(text)

    @pytest.mark.parametrize("profile", ["openai", "compat"])
    @pytest.mark.parametrize("broken", [False, True])
    def test_python_floats_in_unknown_keys_are_taken_as_they_are(
        self, profile: str, broken: bool
    ) -> None:
        """structure() takes integral floats beyond 64 bits in unknown keys as the floats they
        are (Python values need no second, exact decode), valid payload or not."""
        wire = {**minimal_payload(), "x": 1e300, "y": [float(2**70)], "z": {"w": -1e19}}
        if broken:
            wire["created_at"] = "soon"
            with pytest.raises(PayloadError) as info:
                batchfsm.structure(wire, profile=profile)
            assert [v.path for v in info.value.violations] == ["$.created_at"]
        else:
            batch = batchfsm.structure(wire, profile=profile)
            assert batch.extra == {"x": 1e300, "y": [float(2**70)], "z": {"w": -1e19}}
            assert type(batch.extra["x"]) is float

    def test_large_float_in_unknown_key_stays_float(self) -> None:
        """A float literal that looks integral stays a float through the exact second pass."""
        text = '{"id":"batch_1","object":"batch","endpoint":"/v1/responses","input_file_id":"f",'
        text += (
            '"completion_window":"24h","status":"validating","created_at":1,"x":1e19,"y":[2e19]}'
        )
        batch = batchfsm.loads(text)
        assert batch.extra == {"x": 1e19, "y": [2e19]}
        assert type(batch.extra["x"]) is float

    def test_unstructure_shares_unknown_values(self) -> None:
        """unstructure returns the record's own unknown values (documented: no deep copy)."""
        batch = batchfsm.structure({**minimal_payload(), "x": [1]})
        assert batchfsm.unstructure(batch)["x"] is batch.extra["x"]

    def test_structure_does_not_modify_its_input(self) -> None:
        """structure leaves the caller's mapping as it was, under every profile."""
        wire = {**minimal_payload(), "status": "Completed", "createdAt": "2024-01-01T00:00:00Z"}
        del wire["created_at"]
        before = copy.deepcopy(wire)
        batchfsm.structure(wire, profile="compat")
        assert wire == before


class TestRecordValues:
    def test_published_payload_fields(self) -> None:
        """A published payload decodes to the values it holds, nested records included."""
        batch = batchfsm.loads((PAYLOADS / "004_completed_openapi-batch-object.json").read_bytes())
        assert batch.status is Status.COMPLETED
        assert batch.model == "gpt-5-2025-08-07"
        assert batch.request_counts == batchfsm.RequestCounts(total=100, completed=95, failed=5)
        assert batch.usage is not None
        assert batch.usage.input_tokens_details.cached_tokens == 1024
        assert batch.usage.output_tokens_details.reasoning_tokens == 300
        assert batch.metadata == {
            "customer_id": "user_123456789",
            "batch_description": "Nightly eval job",
        }

    def test_two_decodes_are_equal(self) -> None:
        """Two decodes of the same JSON are equal but distinct objects."""
        raw = (PAYLOADS / "002_completed_openapi-retrieve.json").read_bytes()
        first, second = batchfsm.loads(raw), batchfsm.loads(raw)
        assert first == second
        assert first is not second
        assert first.request_counts is not second.request_counts

    def test_unknown_keys_take_part_in_equality(self) -> None:
        """Records that differ only in an unknown key are not equal: they encode differently."""
        assert batchfsm.structure({**minimal_payload(), "x": 1}) != batchfsm.structure(
            {**minimal_payload(), "x": 2}
        )


class TestStrictTypes:
    @pytest.mark.parametrize(
        ("key", "value", "code"),
        [
            ("created_at", "1711471533", "field.type"),
            ("created_at", 1711471533.0, "field.type"),
            ("created_at", 1711471533.9, "field.type"),
            ("created_at", True, "field.type"),
            ("created_at", -1, "field.range"),
            ("created_at", 2**63, "field.range"),
            ("in_progress_at", "5", "field.type"),
            ("in_progress_at", -5, "field.range"),
            ("id", 42, "field.type"),
            ("id", None, "field.type"),
            ("endpoint", None, "field.type"),
            ("object", ["batch"], "field.type"),
            ("status", "Completed", "status.unknown"),
            ("status", "done", "status.unknown"),
            ("status", 3, "field.type"),
            ("model", False, "field.type"),
            ("input_file_id", "", "file_id.empty"),
            ("output_file_id", "", "file_id.empty"),
            ("error_file_id", "", "file_id.empty"),
            ("output_file_id", 7, "field.type"),
            ("error_file_id", 7, "field.type"),
            ("metadata", "tags", "field.type"),
            ("metadata", ["a"], "field.type"),
            ("request_counts", [1, 2, 3], "field.type"),
            ("usage", "none", "field.type"),
            ("errors", 1, "field.type"),
        ],
    )
    def test_no_coercion(self, key: str, value: Any, code: str) -> None:
        """A value of the wrong JSON type is an error at its key, never coerced."""
        error = decode_error(json.dumps({**minimal_payload(), key: value}))
        assert codes_at(error) == {(f"$.{key}", code)}

    @pytest.mark.parametrize(
        ("member", "value", "path", "code"),
        [
            (
                "request_counts",
                {"total": "1", "completed": 0, "failed": 0},
                "$.request_counts.total",
                "field.type",
            ),
            (
                "request_counts",
                {"total": 1, "completed": None, "failed": 0},
                "$.request_counts.completed",
                "field.type",
            ),
            (
                "request_counts",
                {"total": 1, "completed": 0, "failed": 2**64},
                "$.request_counts.failed",
                "field.range",
            ),
            ("metadata", {"tags": ["a", "b"]}, "$.metadata.tags", "field.type"),
            ("metadata", {"odd key": 1}, "$.metadata['odd key']", "field.type"),
            ("errors", {"data": {"code": "x"}}, "$.errors.data", "field.type"),
            ("errors", {"data": [{"line": "2"}]}, "$.errors.data[0].line", "field.type"),
            ("errors", {"data": [{}, {"code": 5}]}, "$.errors.data[1].code", "field.type"),
            ("errors", {"object": 1}, "$.errors.object", "field.type"),
        ],
    )
    def test_nested_wrong_types_name_the_nested_path(
        self, member: str, value: Any, path: str, code: str
    ) -> None:
        """A wrong type inside a nested object or array is reported at its exact JSONPath."""
        error = decode_error(json.dumps({**minimal_payload(), member: value}))
        assert codes_at(error) == {(path, code)}

    @pytest.mark.parametrize(
        ("member", "value", "path", "message"),
        [
            ("metadata", [], "$.metadata", "expected object, got array []"),
            ("metadata", {"k": 1}, "$.metadata.k", "expected string, got integer 1"),
            ("errors", [], "$.errors", "expected object, got array []"),
            ("errors", {"data": {}}, "$.errors.data", "expected array, got object {}"),
            ("errors", {"data": [7]}, "$.errors.data[0]", "expected object, got integer 7"),
            ("errors", {"data": [None]}, "$.errors.data[0]", "expected object, got null"),
            ("request_counts", "3", "$.request_counts", "expected object, got string '3'"),
            (
                "usage",
                {"input_tokens": 1},
                "$.usage.input_tokens_details",
                "missing required key 'input_tokens_details'",
            ),
            (
                "usage",
                {**USAGE, "output_tokens_details": None},
                "$.usage.output_tokens_details",
                "expected object, got null",
            ),
        ],
    )
    def test_nested_breaks_are_reported_where_they_are(
        self, member: str, value: Any, path: str, message: str
    ) -> None:
        """A broken nested value, null where an object must be included, is reported at its
        path with a message saying what was expected and what came."""
        error = decode_error({**minimal_payload(), member: value})
        assert (path, message) in [(v.path, v.message) for v in error.violations]

    def test_usage_detail_path(self) -> None:
        """A wrong type two objects deep names both levels."""
        usage = {**USAGE, "input_tokens_details": {"cached_tokens": "0"}}
        error = decode_error(json.dumps({**minimal_payload(), "usage": usage}))
        assert codes_at(error) == {("$.usage.input_tokens_details.cached_tokens", "field.type")}

    @given(wire_batches(unknown=False), st.data())
    def test_any_wrong_typed_field_is_reported_at_its_path(
        self, wire: dict[str, Any], data: st.DataObject
    ) -> None:
        """Replacing any top-level field with a value of another JSON type is reported there."""
        key = data.draw(
            st.sampled_from(sorted(set(wire) - {"metadata", "errors", "usage", "request_counts"}))
        )
        bad: Any = data.draw(st.sampled_from([[], {}, True, 1.5, "x", None]))
        string_keys = {"id", "object", "endpoint", "input_file_id", "completion_window", "model"}
        string_keys |= {"output_file_id", "error_file_id", "status"}
        assume(not (key in string_keys and isinstance(bad, str)))
        assume(
            not (
                bad is None
                and key
                not in {"id", "object", "endpoint", "input_file_id"}
                | {"completion_window", "status", "created_at"}
            )
        )
        error = decode_error({**wire, key: bad})
        assert [v.path for v in error.violations] == [f"$.{key}"]

    def test_bool_is_not_an_integer_anywhere(self) -> None:
        """true/false are refused wherever an integer belongs."""
        wire = {
            **minimal_payload(),
            "request_counts": {"total": True, "completed": False, "failed": 0},
        }
        error = decode_error(json.dumps(wire))
        assert codes_at(error) == {
            ("$.request_counts.total", "field.type"),
            ("$.request_counts.completed", "field.type"),
        }

    def test_numbers_beyond_64_bits_in_known_fields(self) -> None:
        """Integer literals beyond 64 bits are refused in known fields, with their paths."""
        text = json.dumps({**minimal_payload(), "created_at": 2**64 + 1, "expires_at": -(2**70)})
        error = decode_error(text)
        assert {v.path for v in error.violations} == {"$.created_at", "$.expires_at"}
        assert all("64" in v.message for v in error.violations)


class TestMalformedInput:
    @pytest.mark.parametrize("data", [b"", "", b"   \n\t", "  "])
    def test_empty_input(self, data: Any) -> None:
        """Empty or blank input is a json.empty violation at $."""
        assert codes_at(decode_error(data)) == {("$", "json.empty")}

    @pytest.mark.parametrize(
        "data", [b"{", b"{'id': 1}", b"{}}", b"nul", b"[1,]", b'{"a": NaN}', b"\xef\xbb\xbf{}"]
    )
    def test_not_json(self, data: bytes) -> None:
        """Text that is not JSON is a json.syntax violation at $."""
        assert codes_at(decode_error(data)) == {("$", "json.syntax")}

    @pytest.mark.parametrize("data", [b'{"id": "\xff"}', b"\xc3\x28", '{"id": "\ud800"}'])
    def test_invalid_utf8(self, data: Any) -> None:
        """Bytes (or a str with lone surrogates) that are not UTF-8 give json.encoding."""
        error = decode_error(data)
        assert codes_at(error) == {("$", "json.encoding")}

    def test_encoding_message_names_the_offset(self) -> None:
        """The json.encoding message names the offending byte and where it is."""
        (violation,) = decode_error(b'{"id": "\xff"}').violations
        assert "0xff" in violation.message
        assert "offset 8" in violation.message

    @pytest.mark.parametrize("data", [b"[]", b"1", b'"batch"', b"null", b"true", b'[{"id": "x"}]'])
    def test_json_that_is_not_an_object(self, data: bytes) -> None:
        """A JSON value that is not an object is json.not_object at $."""
        assert codes_at(decode_error(data)) == {("$", "json.not_object")}

    def test_structure_of_a_non_mapping(self) -> None:
        """structure() of something that is not a mapping is field.type at $."""
        assert codes_at(decode_error([1, 2])) == {("$", "field.type")}

    def test_every_missing_required_key_is_reported(self) -> None:
        """All seven required keys are reported when absent, each at its own path."""
        error = decode_error(b"{}")
        expected = {
            "id",
            "object",
            "endpoint",
            "input_file_id",
            "completion_window",
            "status",
            "created_at",
        }
        assert codes_at(error) == {(f"$.{key}", "field.missing") for key in expected}

    def test_missing_and_wrong_reported_together(self) -> None:
        """A missing key and a wrong type elsewhere are both reported, not just the first."""
        wire = {
            **minimal_payload(),
            "created_at": "x",
            "request_counts": {"total": 1, "completed": 0},
        }
        del wire["id"]
        error = decode_error(json.dumps(wire))
        assert codes_at(error) == {
            ("$.id", "field.missing"),
            ("$.created_at", "field.type"),
            ("$.request_counts.failed", "field.missing"),
        }
        assert error.batch_id is None

    def test_error_names_the_batch(self) -> None:
        """PayloadError carries the payload's id and names it in the message."""
        error = decode_error(json.dumps({**minimal_payload(), "created_at": "soon"}))
        assert error.batch_id == "batch_abc123"
        assert "'batch_abc123'" in str(error)
        assert "$.created_at" in str(error)
        assert "'soon'" in str(error)

    def test_deeply_nested_unknown_value(self) -> None:
        """Nested unknown values are kept; nesting past the parser limit is json.syntax."""
        shallow = json.dumps({**minimal_payload(), "x": [[[[{"a": [[1]]}]]]]})
        assert batchfsm.loads(shallow).extra["x"] == [[[[{"a": [[1]]}]]]]
        deep = '{"id":"b","x":' + "[" * 5000 + "]" * 5000 + "}"
        assert codes_at(decode_error(deep)) == {("$", "json.syntax")}

    @given(st.binary(max_size=64))
    def test_arbitrary_bytes_give_a_record_or_payload_error(self, data: bytes) -> None:
        """Whatever bytes arrive, loads gives a Batch or a PayloadError, nothing else."""
        try:
            batch = batchfsm.loads(data)
        except PayloadError as error:
            violations = error.violations
            assert violations
        else:
            assert isinstance(batch, Batch)

    @given(json_values)
    def test_arbitrary_json_gives_a_record_or_payload_error(self, value: Any) -> None:
        """Whatever JSON value arrives, loads and structure raise only PayloadError."""
        calls: list[Callable[[], Batch]] = [
            lambda: batchfsm.loads(json.dumps(value)),
            lambda: batchfsm.structure(value),
        ]
        for call in calls:
            with pytest.raises(PayloadError):
                call()


class TestArguments:
    def test_loads_refuses_non_text(self) -> None:
        """loads of a dict is an ArgumentError (a TypeError) naming `data` and the type given."""
        with pytest.raises(ArgumentError) as info:
            batchfsm.loads(minimal_payload())  # type: ignore[arg-type]
        assert isinstance(info.value, TypeError)
        assert info.value.argument == "data"
        assert info.value.reason == "expected JSON text as bytes or str, got dict"

    @pytest.mark.parametrize("call", [batchfsm.loads, batchfsm.structure])
    @pytest.mark.parametrize("profile", ["azure", None, 1])
    def test_unknown_profile(self, call: Any, profile: Any) -> None:
        """An unknown profile, of any type, is an ArgumentError naming `profile` that lists
        the known ones and shows the culprit."""
        with pytest.raises(ArgumentError) as info:
            call("{}" if call is batchfsm.loads else {}, profile=profile)
        assert isinstance(info.value, TypeError)
        assert info.value.argument == "profile"
        assert info.value.reason == (
            f"expected a Profile or one of ('strict', 'openai', 'compat'), got {profile!r}"
        )

    @pytest.mark.parametrize("call", [batchfsm.unstructure, batchfsm.dumps])
    def test_encoders_refuse_non_batch(self, call: Any) -> None:
        """unstructure and dumps of something that is not a Batch are ArgumentErrors naming
        `batch` and the type given."""
        with pytest.raises(ArgumentError) as info:
            call(minimal_payload())
        assert info.value.argument == "batch"
        assert info.value.reason == "expected a Batch, got dict"


class TestProfiles:
    @given(wire_batches(), st.data())
    def test_strict_decodes_as_openai(self, wire: dict[str, Any], data: st.DataObject) -> None:
        """strict and openai decode alike (they differ only in validation): the same record
        for a good payload, the same violations for one with a value broken."""
        key = data.draw(st.sampled_from(sorted(wire)))
        broken = {**wire, key: data.draw(json_values)}
        for payload in (wire, broken):
            answers: list[Any] = []
            for profile in ("openai", "strict"):
                try:
                    answers.append(batchfsm.structure(payload, profile=profile))
                except PayloadError as error:
                    answers.append(error.violations)
                try:
                    answers.append(batchfsm.loads(json.dumps(payload), profile=profile))
                except PayloadError as error:
                    answers.append(error.violations)
            assert answers[0] == answers[2]
            assert answers[1] == answers[3]


class TestEncoding:
    def test_dumps_of_unencodable_value(self) -> None:
        """A value with no JSON form, set by hand, is a PayloadError from dumps, at its path."""
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"x": {1, 2}}
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert codes_at(info.value) == {("$.x", "encode.unsupported")}

    def test_dumps_is_compact_text(self) -> None:
        """dumps returns str without insignificant whitespace."""
        text = batchfsm.dumps(batchfsm.structure(minimal_payload()))
        assert isinstance(text, str)
        assert ": " not in text
        assert ", " not in text

    def test_status_is_written_as_its_wire_string(self) -> None:
        """The status enum is written as its plain value."""
        batch = batchfsm.structure(minimal_payload())
        assert type(batchfsm.unstructure(batch)["status"]) is str
        assert '"status":"validating"' in batchfsm.dumps(batch)


@pytest.mark.parametrize("name", sorted(AZURE_QUIRKS))
def test_azure_quirks_are_refused_under_openai(name: str) -> None:
    """Each published Azure payload with quirks is refused by the default profile."""
    with pytest.raises(PayloadError):
        batchfsm.loads((PAYLOADS / name).read_bytes())


@given(wire_batches(), st.sampled_from(STAMP_KEYS))
def test_stamps_accept_zero_and_null(wire: dict[str, Any], key: str) -> None:
    """0 and null are valid for every optional stamp."""
    for value in (0, None):
        assert getattr(batchfsm.structure({**wire, key: value}), key) == value


class TestEdges:
    def test_structure_takes_any_mapping(self) -> None:
        """structure accepts a read-only mapping, nested ones included."""
        from types import MappingProxyType

        wire = {
            **minimal_payload(),
            "request_counts": MappingProxyType({"total": 1, "completed": 0, "failed": 0}),
        }
        batch = batchfsm.structure(MappingProxyType(wire))
        assert batch.request_counts == batchfsm.RequestCounts(total=1, completed=0, failed=0)

    def test_an_unforeseen_problem_is_still_reported_where_it_happened(self) -> None:
        """A hook failing in a way nobody foresaw is reported as `field.invalid` at the path
        cattrs noted, not raised."""
        problem = RuntimeError("boom")
        note = AttributeValidationNote("Structuring Batch @ model", "model", str)
        problem.__notes__ = [note]  # type: ignore[attr-defined]  # Python 3.10 has no notes
        group = ClassValidationError("While structuring Batch", [problem], Batch)
        assert _violations(group) == [Violation("field.invalid", "$.model", "RuntimeError: boom")]

    def test_tuples_are_arrays(self) -> None:
        """Python tuples are arrays to structure(), as lists are."""
        errors = {"object": "list", "data": ({"code": "x"},)}
        batch = batchfsm.structure({**minimal_payload(), "errors": errors})
        assert batchfsm.unstructure(batch)["errors"]["data"] == [{"code": "x"}]

    def test_non_json_python_value_is_named(self) -> None:
        """A Python value with no JSON type is described by its type name."""
        error = decode_error({**minimal_payload(), "id": {1, 2}})
        assert "got set" in error.violations[0].message

    def test_exact_pass_on_deep_nesting(self) -> None:
        """A huge integer beside nesting as deep as orjson reads is kept exactly, and written
        back (the exact reading is orjson's too, whatever the stdlib's depth limit)."""
        deep = "[" * 1022 + "]" * 1022
        text = (
            json.dumps({**minimal_payload(), "x_big": 2**70}).rstrip("}") + f', "x_deep": {deep}}}'
        )
        batch = batchfsm.loads(text)
        assert batch.extra["x_big"] == 2**70
        assert batchfsm.dumps(batch).endswith(f'"x_deep":{deep}}}')

    def test_stdlib_encoder_failure(self) -> None:
        """A batch needing the exact encoder and holding a non-JSON value is a PayloadError."""
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"a": 2**70, "b": {1}}
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert info.value.violations[0].code == "encode.unsupported"


# -- issue 14: what is read is what is written, and the reader never hangs or leaks -----

PROFILES = ("strict", "openai", "compat")


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`, failing the test if it runs past `seconds` (a hang, or exponential work):
    it runs in a daemon thread, so that a hang does not take the suite with it."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    (result,) = outcome
    return result


def refusal(result: Any) -> set[tuple[str, str]]:
    """The (path, code) pairs of a PayloadError `result`; a foreign exception fails."""
    assert isinstance(result, PayloadError), f"{type(result).__name__}: {result}"
    return codes_at(result)


def with_unknown(text: str, name: str = "x") -> str:
    """A minimal payload with `text` (JSON) as the value of the unknown key `name`."""
    return json.dumps(minimal_payload())[:-1] + f', "{name}": {text}}}'


class TestReadAndWrittenAlike:
    @pytest.mark.parametrize("depth", [253, 254, 255, 1000, 1023])
    def test_unknown_values_as_deep_as_loads_reads_are_written(self, depth: int) -> None:
        """An unknown value nested as deep as loads reads (1024 levels in all) is written
        back by dumps, as it came."""
        deep = "[" * depth + "]" * depth
        batch = batchfsm.loads(with_unknown(deep))
        assert batchfsm.dumps(batch).endswith(f'"x":{deep}}}')

    def test_nesting_past_what_loads_reads_is_refused_by_every_reader_and_writer(self) -> None:
        """1025 levels in all: loads refuses the text, structure the value, and both writers
        a record holding it, each at the unknown key."""
        deep: list[Any] = []
        for _ in range(1023):
            deep = [deep]
        assert codes_at(decode_error(with_unknown("[" * 1024 + "]" * 1024))) == {
            ("$", "json.syntax")
        }
        assert codes_at(decode_error({**minimal_payload(), "x": deep})) == {("$.x", "field.type")}
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"x": deep}
        for write in (batchfsm.unstructure, batchfsm.dumps):
            with pytest.raises(PayloadError) as info:
                write(batch)
            assert codes_at(info.value) == {("$.x", "encode.unsupported")}

    def test_the_depth_limit_counts_from_the_document(self) -> None:
        """An unknown key of request_counts sits a level deeper: it may nest one level less."""
        fits, too_deep = ("[" * n + "]" * n for n in (1022, 1023))
        for deep, refused in ((fits, False), (too_deep, True)):
            text = json.dumps(
                minimal_payload(request_counts={"total": 0, "completed": 0, "failed": 0})
            )
            text = text.replace('"failed": 0}', f'"failed": 0, "x": {deep}}}')
            if refused:
                assert codes_at(decode_error(text)) == {("$", "json.syntax")}
            else:
                assert batchfsm.dumps(batchfsm.loads(text)).endswith(f'"x":{deep}}}}}')

    @pytest.mark.parametrize("digits", [19, 20, 308, 309, 310, 400, 4300, 4301, 20_000])
    @pytest.mark.parametrize("sign", ["", "-"])
    @pytest.mark.parametrize("profile", PROFILES)
    def test_integers_of_any_size_in_unknown_keys_survive(
        self, digits: int, sign: str, profile: str
    ) -> None:
        """An integer literal of any size (310 digits and more, which orjson refuses, and
        more than Python converts) is kept exactly and written back as it came."""
        literal = sign + "9" * digits
        batch = batchfsm.loads(with_unknown(f"[{literal}]"), profile=profile)
        assert [str(item) for item in batch.extra["x"]] == [literal]
        assert batchfsm.dumps(batch).endswith(f'"x":[{literal}]}}')

    @pytest.mark.parametrize("sign", ["", "-"])
    def test_an_integer_past_the_conversion_limit_survives_as_its_digits(self, sign: str) -> None:
        """An integer literal of more digits than Python converts is kept in an unknown key
        as its digits (converting them would take time quadratic in their number) and
        written back digit for digit; in a known field it is out of range."""
        literal = sign + "7" * 5000
        batch = batchfsm.loads(with_unknown(f"[1, {literal}]"))
        (kept,) = batch.extra["x"][1:]
        assert str(kept) == literal
        assert batchfsm.dumps(batch).endswith(f'"x":[1,{literal}]}}')
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch
        assert batchfsm.structure(batchfsm.unstructure(batch)) == batch
        text = json.dumps(minimal_payload()).replace("1711471533", "9" * 5000)
        assert codes_at(decode_error(text)) == {("$.created_at", "field.range")}
        text = json.dumps(minimal_payload()).replace("1711471533", "9" * 400)
        assert codes_at(decode_error(text)) == {("$.created_at", "field.range")}

    def test_a_number_past_the_double_range_is_refused_by_reader_and_writer(self) -> None:
        """1e400 is no float: loads refuses it, as dumps refuses the infinity it would be."""
        assert codes_at(decode_error(with_unknown("1e400"))) == {("$", "json.syntax")}
        assert codes_at(decode_error(with_unknown("[1e400, " + "9" * 30 + "]"))) == {
            ("$", "json.syntax")
        }
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"x": math.inf}
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert codes_at(info.value) == {("$.x", "encode.unsupported")}

    def test_a_lone_surrogate_escape_is_refused_beside_a_big_integer(self) -> None:
        """A lone surrogate escape is refused by loads with or without a big integer in the
        text (a text orjson refuses is read again, exactly, when it holds one)."""
        for value in ('["\\ud800"]', '["\\ud800", ' + "9" * 30 + "]"):
            assert codes_at(decode_error(with_unknown(value))) == {("$", "json.syntax")}

    @given(wire_batches(), st.data())
    def test_loads_and_dumps_take_the_same_values(
        self, wire: dict[str, Any], data: st.DataObject
    ) -> None:
        """Whatever JSON value an unknown key holds (integers of any size, nesting as deep as
        loads reads), dumps writes back what loads read."""
        value = data.draw(json_values | st.integers() | st.integers(10**18, 10**600))
        depth = data.draw(st.integers(0, 1000))
        nested = "[" * depth + json.dumps(value) + "]" * depth
        text = json.dumps({**wire, "x_deep": None}).replace('"x_deep": null', f'"x_deep": {nested}')
        batch = batchfsm.loads(text)
        written = batchfsm.dumps(batch)
        assert batchfsm.dumps(batchfsm.loads(written)) == written
        if depth < 500:  # deeper, Python's own == runs out of stack
            assert batchfsm.loads(written) == batch


class TestOmittedKeys:
    def test_a_driven_record_round_trips(self) -> None:
        """A record decoded from a payload that leaves out optional keys, then started, equals
        its own round trip (in_progress_at, set by start, was among the omitted)."""
        batch = batchfsm.loads(json.dumps(minimal_payload()))
        batchfsm.Lifecycle(lambda: 1_711_471_600).start(batch, total=2)
        assert batch.in_progress_at == 1_711_471_600
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch

    def test_a_field_set_and_cleared_round_trips(self) -> None:
        """Setting an omitted field writes it and counts in equality; setting it back to
        None leaves the key out again, as decoded."""
        decoded = batchfsm.loads(json.dumps(minimal_payload()))
        batch = batchfsm.loads(json.dumps(minimal_payload()))
        batch.model = "gpt-x"
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch
        assert batch != decoded
        batch.model = None
        assert "model" not in batchfsm.unstructure(batch)
        assert batch == decoded

    def test_nested_omitted_keys_go_stale_no_more(self) -> None:
        """The errors object and its entries track omitted keys too; setting them counts."""
        errors = {"data": [{"code": "x"}]}
        batch = batchfsm.structure({**minimal_payload(), "errors": errors})
        assert batch.errors is not None
        assert batch.errors.data is not None
        batch.errors.object = "list"
        batch.errors.data[0].line = 3
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch

    @given(bst.payloads(), bst.event_sequences(max_size=6), st.data())
    def test_equality_agrees_with_the_wire(
        self, payload: dict[str, Any], events: list[Any], data: st.DataObject
    ) -> None:
        """A decoded record, driven by any events and with optional fields set or cleared by
        hand, equals its own round trip, and equals the fresh decode of its payload exactly
        when both write the same wire object."""
        text = json.dumps(payload)
        batch = batchfsm.loads(text)
        lifecycle = batchfsm.Lifecycle(lambda: 1_900_000_000)
        for event in events:
            with contextlib.suppress(batchfsm.BatchfsmError):
                lifecycle.fire(batch, event, **({"total": 1} if event == "start" else {}))
        for name in data.draw(st.lists(st.sampled_from(["model", "error_file_id"]), max_size=2)):
            setattr(batch, name, data.draw(st.none() | st.just("set")))
        assert batchfsm.loads(batchfsm.dumps(batch)) == batch
        fresh = batchfsm.loads(text)
        assert (batch == fresh) == (batchfsm.unstructure(batch) == batchfsm.unstructure(fresh))


class TestUnknownKeysNamedLikeFields:
    @pytest.mark.parametrize(
        ("change", "path"),
        [
            (lambda b: setattr(b, "extra", {"status": "completed"}), "$.status"),
            (lambda b: setattr(b, "extra", {"x": 1, "in_progress_at": 5}), "$.in_progress_at"),
            (
                lambda b: setattr(b, "request_counts", batchfsm.RequestCounts(extra={"total": 9})),
                "$.request_counts.total",
            ),
        ],
        ids=["status", "omitted stamp", "nested"],
    )
    @pytest.mark.parametrize("write", [batchfsm.unstructure, batchfsm.dumps])
    def test_are_refused_by_both_writers(
        self, write: Callable[[Batch], Any], change: Callable[[Batch], Any], path: str
    ) -> None:
        """An unknown key named like a field of its record would overwrite the field on the
        way out: both writers refuse it, at its path."""
        batch = batchfsm.structure(minimal_payload())
        change(batch)
        with pytest.raises(PayloadError) as info:
            write(batch)
        assert codes_at(info.value) == {(path, "encode.unsupported")}
        assert "set the field instead" in info.value.violations[0].message

    def test_validate_of_the_record_reports_the_key(self) -> None:
        """validate of such a record reports the key the writers refuse, not the lifecycle
        of a status the record does not have."""
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"status": "completed"}
        report = batchfsm.validate(batch)
        found = [(v.path, v.code) for v in report.violations]
        assert found == [("$.status", "encode.unsupported")]

    def test_bookkeeping_names_are_ordinary_unknown_keys(self) -> None:
        """Unknown keys called extra, omitted or normalizations are written like any other."""
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"extra": 1, "omitted": [], "normalizations": None}
        assert batchfsm.unstructure(batch)["omitted"] == []


class _Color(enum.Enum):
    RED = "red"


class _Level(enum.IntEnum):
    HIGH = 1


class _Text(str):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("compared")

    __hash__ = str.__hash__


class _Number(int):
    def __repr__(self) -> str:
        return "not a number"


class _Object(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("no items")


NOT_JSON = [
    math.inf,
    -math.inf,
    math.nan,
    datetime.datetime(2024, 1, 1),
    datetime.date(2024, 1, 1),
    uuid.UUID(int=1),
    decimal.Decimal("1.5"),
    _Color.RED,
    _Level.HIGH,
    Status.COMPLETED,
    (1, 2),
    {1, 2},
    frozenset({1}),
    b"x",
    bytearray(b"x"),
    object(),
    orjson.Fragment(b"1"),
    _Text("x"),
    _Number(3),
    _Object(a=1),
    {1: "a"},
    {"k": {("t",): 1}},
]


class TestNotJsonValues:
    @pytest.mark.parametrize("value", NOT_JSON, ids=lambda v: type(v).__name__)
    def test_are_refused_alike_by_readers_and_writers(self, value: Any) -> None:
        """A value that is not JSON, as an unknown value or deep inside one, is refused by
        structure (field.type) and by both writers (encode.unsupported), at its path."""
        for held, path in (
            (value, "$.x_key"),
            ([0, {"a": 1}, value], "$.x_key[2]"),
            ({"in": [value]}, "$.x_key.in[0]"),
        ):
            read = within(10, lambda: batchfsm.structure({**minimal_payload(), "x_key": held}))  # noqa: B023
            found = refusal(read)
            assert [code for _, code in found] == ["field.type"]
            (where,) = (p for p, _ in found)
            assert where.startswith(path)  # a bad key inside is named below it
            batch = batchfsm.structure(minimal_payload())
            batch.extra = {"x_key": held}
            for write in (batchfsm.unstructure, batchfsm.dumps):
                written = refusal(within(10, lambda: write(batch)))  # noqa: B023
                assert written == {(where, "encode.unsupported")}

    @pytest.mark.parametrize("value", [math.nan, uuid.UUID(int=1), _Color.RED, (1,)])
    @pytest.mark.parametrize("field", ["model", "created_at", "metadata"])
    def test_known_fields_are_refused_too(self, value: Any, field: str) -> None:
        """A non-JSON value set by hand on a known field (or a metadata value) is refused by
        both writers, not written as something else."""
        batch = batchfsm.structure(minimal_payload())
        setattr(batch, field, {"k": value} if field == "metadata" else value)
        where = "$.metadata.k" if field == "metadata" else f"$.{field}"
        for write in (batchfsm.unstructure, batchfsm.dumps):
            with pytest.raises(PayloadError) as info:
                write(batch)
            assert codes_at(info.value) == {(where, "encode.unsupported")}

    @given(st.data())
    def test_structure_takes_what_the_writers_take(self, data: st.DataObject) -> None:
        """For any Python value in an unknown key, structure accepts the payload exactly
        when both writers accept a record holding it; what is accepted round-trips."""
        leaves = st.sampled_from(NOT_JSON) | json_values
        value = data.draw(
            st.recursive(
                leaves,
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.tuples(inner)
                    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
                ),
                max_leaves=6,
            )
        )
        try:
            read: Any = batchfsm.structure({**minimal_payload(), "x": value})
        except PayloadError:
            read = None
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"x": value}
        answers = []
        for write in (batchfsm.unstructure, batchfsm.dumps):
            try:
                write(batch)
            except PayloadError:
                answers.append(False)
            else:
                answers.append(True)
        assert answers == [read is not None] * 2
        if read is not None:
            assert batchfsm.loads(batchfsm.dumps(read)) == read

    def test_the_writers_accept_what_loads_makes(self) -> None:
        """Sharing is refused, but equal values in two places are fine, and two records'
        unknown keys may hold the same object."""
        batch = batchfsm.structure(
            minimal_payload(request_counts={"total": 0, "completed": 0, "failed": 0})
        )
        tags = ["a"]
        batch.extra = {"a": ["a"], "b": ["a"], "c": tags}
        assert batch.request_counts is not None
        batch.request_counts.extra = {"d": tags}
        assert json.loads(batchfsm.dumps(batch))["request_counts"]["d"] == ["a"]
        batch.extra["e"] = tags
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert {v.path for v in info.value.violations} <= {"$.c", "$.e"}


def _self_holding_list() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


def _self_holding_dict() -> dict[str, Any]:
    value: dict[str, Any] = {}
    value["d"] = value
    return value


def _shared(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value, value]
    return value


def _errors_holding_themselves() -> dict[str, Any]:
    errors: dict[str, Any] = {"object": "list"}
    errors["data"] = [errors]
    return errors


class _StrangeStatus(str):
    def strip(self, chars: Any = None) -> str:
        raise RuntimeError("no strip")


class _Colliding:
    """A key that hashes like "model" (an optional key) and raises when compared with it."""

    def __hash__(self) -> int:
        return hash("model")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("compared")


class TestHostileValues:
    @pytest.mark.parametrize(
        ("make", "paths"),
        [
            (lambda: {"x": _self_holding_list()}, {"$.x[0]"}),
            (lambda: {"x": _self_holding_dict()}, {"$.x.d"}),
            (lambda: {"x": _shared(22)}, {"$.x[1]"}),
            (lambda: {"x": _shared(200)}, {"$.x[1]"}),
            (lambda: {"errors": _errors_holding_themselves()}, {"$.errors.data[0].data[0].data"}),
        ],
        ids=["list", "dict", "shared 22", "shared 200", "errors"],
    )
    @pytest.mark.parametrize("profile", PROFILES)
    def test_what_holds_itself_or_shares_a_part_is_reported_at_once(
        self, make: Callable[[], dict[str, Any]], paths: set[str], profile: str
    ) -> None:
        """A value holding itself, or sharing a part (exponential to walk as a tree), is
        field.type at the place met twice: each object is walked once."""
        value = {**minimal_payload(), **make()}
        found = refusal(within(10, lambda: batchfsm.structure(value, profile=profile)))
        assert {path for path, _ in found} & paths
        assert {code for _, code in found} == {"field.type"}

    @pytest.mark.parametrize("profile", PROFILES)
    def test_a_numeric_string_past_the_conversion_limit(self, profile: str) -> None:
        """A numeric-string timestamp of 4,301+ digits is out of range under compat (a string
        elsewhere), never a ValueError."""
        value = {**minimal_payload(), "created_at": "9" * 5000}
        found = refusal(within(10, lambda: batchfsm.structure(value, profile=profile)))
        code = "field.range" if profile == "compat" else "field.type"
        assert found == {("$.created_at", code)}

    @pytest.mark.parametrize("profile", PROFILES)
    @pytest.mark.parametrize("field", ["input_file_id", "output_file_id", "status", "endpoint"])
    def test_array_likes_are_wrong_types(self, profile: str, field: str) -> None:
        """A value whose == answers with a non-bool is a field.type, wherever it is."""
        value = {**minimal_payload(), field: ArrayLike(), "x": ArrayLike()}
        found = refusal(within(10, lambda: batchfsm.structure(value, profile=profile)))
        assert found == {(f"$.{field}", "field.type"), ("$.x", "field.type")}

    @pytest.mark.parametrize("profile", PROFILES)
    def test_mappings_that_raise(self, profile: str) -> None:
        """A mapping whose methods raise is a field.type where it stands (or at the top)."""
        for value, path in (
            (BrokenMapping(), "$"),
            ({**minimal_payload(), "request_counts": BrokenMapping()}, "$.request_counts"),
            ({**minimal_payload(), "metadata": BrokenMapping()}, "$.metadata"),
        ):
            found = refusal(within(10, lambda: batchfsm.structure(value, profile=profile)))  # noqa: B023
            assert found == {(path, "field.type")}

    @pytest.mark.parametrize("profile", PROFILES)
    def test_subclasses_with_odd_methods(self, profile: str) -> None:
        """A str subclass whose methods raise is a field.type; a dict subclass is read by
        its contents, whatever its methods do."""
        value = {**minimal_payload(), "status": _StrangeStatus("Validating")}
        found = refusal(within(10, lambda: batchfsm.structure(value, profile=profile)))
        assert found == {("$.status", "field.type")}
        batch = within(10, lambda: batchfsm.structure(_Object(minimal_payload()), profile=profile))
        assert batch == batchfsm.structure(minimal_payload())

    @pytest.mark.parametrize("profile", PROFILES)
    def test_a_key_that_raises_when_compared(self, profile: str) -> None:
        """Whatever a caller's key does when compared, structure raises a PayloadError."""
        value: dict[Any, Any] = {**minimal_payload(), _Colliding(): 1}
        result = within(10, lambda: batchfsm.structure(value, profile=profile))
        assert isinstance(result, (Batch, PayloadError)), result

    @pytest.mark.parametrize("profile", PROFILES)
    def test_integers_past_the_conversion_limit_in_known_fields(self, profile: str) -> None:
        """An int Python cannot print is out of range, with a message that says so."""
        value = {**minimal_payload(), "created_at": 10**5000, "model": 10**5000}
        found = refusal(within(10, lambda: batchfsm.structure(value, profile=profile)))
        assert found == {("$.created_at", "field.range"), ("$.model", "field.type")}

    def test_shared_parts_in_known_fields_are_described_at_once(self) -> None:
        """A shared structure where a string belongs is described in bounded time."""
        value = {**minimal_payload(), "model": _shared(200)}
        found = refusal(within(10, lambda: batchfsm.structure(value)))
        assert found == {("$.model", "field.type")}

    def test_a_released_memoryview_is_an_argument_error(self) -> None:
        """loads of a released memoryview raises ArgumentError instead of reading freed
        memory."""
        view = memoryview(json.dumps(minimal_payload()).encode())
        view.release()
        with pytest.raises(ArgumentError, match="released"):
            batchfsm.loads(view)

    def test_text_of_any_buffer_or_subclass_decodes(self) -> None:
        """A strided memoryview and a str subclass decode as the text they hold."""
        raw = json.dumps(minimal_payload()).encode()
        spaced = bytes(b for pair in zip(raw, b" " * len(raw), strict=True) for b in pair)
        assert batchfsm.loads(memoryview(spaced)[::2]) == batchfsm.loads(raw)
        assert batchfsm.loads(_Text(raw.decode())) == batchfsm.loads(raw)

    @given(st.data())
    def test_any_python_value_is_answered(self, data: st.DataObject) -> None:
        """structure answers any Python value, anywhere in a payload, with a Batch or a
        PayloadError, under every profile, at once."""
        leaves = (
            st.sampled_from([*NOT_JSON, ArrayLike(), BrokenMapping(), _StrangeStatus("x")])
            | json_values
        )
        value = data.draw(
            st.recursive(
                leaves,
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3)
                ),
                max_leaves=6,
            )
        )
        if data.draw(st.booleans()) and isinstance(value, list):
            value.append(value)
        key = data.draw(st.sampled_from([*sorted(minimal_payload()), "metadata", "x"]))
        payload = {**minimal_payload(), key: value}
        for profile in PROFILES:
            result = within(10, lambda: batchfsm.structure(payload, profile=profile))  # noqa: B023
            assert isinstance(result, (Batch, PayloadError)), repr(result)
