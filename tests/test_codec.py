"""The codec: lossless round trips, strict types, and every problem reported at its path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cattrs.errors import AttributeValidationNote, ClassValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, Batch, PayloadError, Status, Violation
from batchfsm._codec import _violations

from wire import STAMP_KEYS, json_values, minimal_payload, wire_batches

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
        """A value with no JSON form, set by hand, is a PayloadError from dumps."""
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"x": {1, 2}}
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert codes_at(info.value) == {("$", "encode.unsupported")}

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
        """A huge integer beside deep nesting: kept exactly, or (where the stdlib reader's
        depth limit is lower than orjson's, as before Python 3.13) a json.syntax error."""
        deep = "[" * 1010 + "]" * 1010
        text = (
            json.dumps({**minimal_payload(), "x_big": 2**70}).rstrip("}")
            + f', "x_deep": {deep}'
            + "}"
        )
        try:
            json.loads(deep)
        except RecursionError:
            assert codes_at(decode_error(text)) == {("$", "json.syntax")}
        else:
            assert batchfsm.loads(text).extra["x_big"] == 2**70

    def test_stdlib_encoder_failure(self) -> None:
        """A batch needing the exact encoder and holding a non-JSON value is a PayloadError."""
        batch = batchfsm.structure(minimal_payload())
        batch.extra = {"a": 2**70, "b": {1}}
        with pytest.raises(PayloadError) as info:
            batchfsm.dumps(batch)
        assert info.value.violations[0].code == "encode.unsupported"
