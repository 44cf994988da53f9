"""The ``compat`` profile: each provider quirk normalised and recorded as a warning."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import PayloadError, Severity, Status
from batchfsm._compat import normalize

from helpers.payloads import minimal_payload, wire_batches

PAYLOADS = Path(__file__).parent / "payloads"

# Every test here runs on both of the codec's paths (see `codec_path` in conftest.py).
pytestmark = pytest.mark.usefixtures("codec_path")


def notes(batch: batchfsm.Batch) -> set[tuple[str, str]]:
    assert all(n.severity is Severity.WARNING for n in batch.normalizations)
    return {(n.path, n.code) for n in batch.normalizations}


class TestQuirks:
    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("Validating", Status.VALIDATING),
            ("IN_PROGRESS", Status.IN_PROGRESS),
            ("InProgress", Status.IN_PROGRESS),
            ("Cancelled", Status.CANCELLED),
            ("COMPLETED", Status.COMPLETED),
        ],
    )
    def test_status_casing(self, status: str, expected: Status) -> None:
        """Capitalised, upper-case and CamelCase statuses read as the canonical one."""
        batch = batchfsm.structure(minimal_payload(status=status), profile="compat")
        assert batch.status is expected
        assert notes(batch) == {("$.status", "compat.status_case")}

    def test_unknown_status_still_refused(self) -> None:
        """compat does not invent statuses: an unknown one is still an error."""
        with pytest.raises(PayloadError) as info:
            batchfsm.structure(minimal_payload(status="Done"), profile="compat")
        assert [(v.path, v.code) for v in info.value.violations] == [("$.status", "status.unknown")]

    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("2024-07-19T17:13:57.2491382+00:00", 1721409237),
            ("2024-07-19T17:13:57Z", 1721409237),
            ("2024-07-19T17:13:57.999999999Z", 1721409237),
            ("2024-07-19T19:13:57+02:00", 1721409237),
            ("2024-07-19T12:13:57.5-0500", 1721409237),
            ("2024-07-19 17:13:57", 1721409237),
        ],
    )
    def test_iso_timestamps(self, text: str, seconds: int) -> None:
        """ISO-8601 times (fractions, offsets, nanoseconds) read as the second they fall in."""
        batch = batchfsm.structure(
            minimal_payload(created_at=text, in_progress_at=text), profile="compat"
        )
        assert batch.created_at == seconds
        assert batch.in_progress_at == seconds
        assert notes(batch) == {
            ("$.created_at", "compat.timestamp_iso"),
            ("$.in_progress_at", "compat.timestamp_iso"),
        }

    @given(st.integers(0, 2**40))
    def test_numeric_string_timestamps(self, seconds: int) -> None:
        """A timestamp written as a numeric string reads as that integer."""
        batch = batchfsm.structure(minimal_payload(created_at=str(seconds)), profile="compat")
        assert batch.created_at == seconds
        assert notes(batch) == {("$.created_at", "compat.timestamp_string")}

    @pytest.mark.parametrize(
        "text", ["yesterday", "2024-13-01T00:00:00Z", "2024-07-19T17:13", "-5"]
    )
    def test_unreadable_timestamp_strings_are_errors(self, text: str) -> None:
        """A string that is neither ISO-8601 nor numeric stays an error under compat."""
        with pytest.raises(PayloadError) as info:
            batchfsm.structure(minimal_payload(created_at=text), profile="compat")
        assert [v.path for v in info.value.violations] == ["$.created_at"]

    def test_empty_file_ids(self) -> None:
        """ "" as output/error file id reads as null."""
        batch = batchfsm.structure(
            minimal_payload(output_file_id="", error_file_id=""), profile="compat"
        )
        assert batch.output_file_id is None
        assert batch.error_file_id is None
        assert notes(batch) == {
            ("$.output_file_id", "compat.file_id_empty"),
            ("$.error_file_id", "compat.file_id_empty"),
        }

    @pytest.mark.parametrize(
        ("key", "value", "code"),
        [
            ("created_at", -1, "field.range"),
            ("created_at", None, "field.type"),
            ("in_progress_at", -5, "field.range"),
            ("expires_at", 2**63, "field.range"),
            ("input_file_id", "", "file_id.empty"),
            ("input_file_id", None, "field.type"),
            ("error_file_id", 7, "field.type"),
            ("endpoint", 7, "field.type"),
        ],
    )
    def test_what_is_not_a_quirk_is_refused_as_openai_refuses_it(
        self, key: str, value: Any, code: str
    ) -> None:
        """compat normalises only the listed quirks: other broken timestamps and file ids are
        refused with the codes openai uses, at their paths."""
        with pytest.raises(PayloadError) as info:
            batchfsm.structure(minimal_payload(**{key: value}), profile="compat")
        assert [(v.path, v.code) for v in info.value.violations] == [(f"$.{key}", code)]

    def test_null_request_counts(self) -> None:
        """Null request-count members read as 0."""
        counts = {"total": None, "completed": None, "failed": 2}
        batch = batchfsm.structure(minimal_payload(request_counts=counts), profile="compat")
        assert batch.request_counts == batchfsm.RequestCounts(total=0, completed=0, failed=2)
        assert notes(batch) == {
            ("$.request_counts.total", "compat.count_null"),
            ("$.request_counts.completed", "compat.count_null"),
        }

    def test_null_endpoint(self) -> None:
        """A null endpoint is accepted and noted."""
        batch = batchfsm.structure(minimal_payload(endpoint=None), profile="compat")
        assert batch.endpoint is None
        assert notes(batch) == {("$.endpoint", "compat.endpoint_null")}
        assert batchfsm.unstructure(batch)["endpoint"] is None

    def test_missing_endpoint_stays_missing(self) -> None:
        """A missing endpoint is accepted, noted, and not written back while unset."""
        wire = minimal_payload()
        del wire["endpoint"]
        batch = batchfsm.structure(wire, profile="compat")
        assert batch.endpoint is None
        assert notes(batch) == {("$.endpoint", "compat.endpoint_missing")}
        assert "endpoint" not in batchfsm.unstructure(batch)

    def test_camel_case_keys_at_every_depth(self) -> None:
        """camelCase keys of a generated JavaScript client are renamed, nested ones too."""
        wire = {
            "id": "batch_1",
            "object": "batch",
            "endpoint": "/v1/responses",
            "inputFileId": "file-1",
            "completionWindow": "24h",
            "status": "completed",
            "createdAt": 10,
            "inProgressAt": 11,
            "outputFileId": "file-2",
            "requestCounts": {"total": 1, "completed": 1, "failed": 0},
            "usage": {
                "inputTokens": 3,
                "inputTokensDetails": {"cachedTokens": 1},
                "outputTokens": 2,
                "outputTokensDetails": {"reasoningTokens": 0},
                "totalTokens": 5,
            },
        }
        batch = batchfsm.structure(wire, profile="compat")
        assert (batch.input_file_id, batch.created_at, batch.in_progress_at) == ("file-1", 10, 11)
        assert batch.usage is not None
        assert batch.usage.input_tokens_details.cached_tokens == 1
        assert ("$.usage.inputTokensDetails.cachedTokens", "compat.camel_case") in notes(batch)
        assert ("$.requestCounts", "compat.camel_case") in notes(batch)
        assert batch.extra == {}

    def test_camel_case_does_not_override_snake_case(self) -> None:
        """With both spellings present, snake_case wins and the other is kept as unknown."""
        batch = batchfsm.structure(minimal_payload(createdAt=5), profile="compat")
        assert batch.created_at == 1711471533
        assert batch.extra == {"createdAt": 5}
        assert notes(batch) == set()

    def test_openai_rejects_every_quirk(self) -> None:
        """Each quirk that compat normalises is an error under openai."""
        wire = minimal_payload(
            status="Validating",
            created_at="2024-07-19T17:13:57Z",
            output_file_id="",
            request_counts={"total": None, "completed": 0, "failed": 0},
            endpoint=None,
        )
        with pytest.raises(PayloadError) as info:
            batchfsm.structure(wire)
        assert {v.path for v in info.value.violations} == {
            "$.status",
            "$.created_at",
            "$.output_file_id",
            "$.request_counts.total",
            "$.endpoint",
        }

    def test_codes_are_catalogued(self) -> None:
        """Every code compat records is a quirk rule of the registry."""
        wire = json.loads((PAYLOADS / "005_validating_azure-docs-rest-create.json").read_bytes())
        wire["output_file_id"] = ""
        wire["inputFileId"] = wire.pop("input_file_id")
        batch = batchfsm.structure(wire, profile="compat")
        quirks = {rule.code for rule in batchfsm.RULES if rule.quirk}
        assert {code for _, code in notes(batch)} <= quirks
        assert len({code for _, code in notes(batch)}) == 6


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        (
            "005_validating_azure-docs-rest-create.json",
            {
                "compat.status_case",
                "compat.timestamp_iso",
                "compat.count_null",
                "compat.endpoint_missing",
            },
        ),
        (
            "006_validating_azure-docs-rest-retrieve.json",
            {
                "compat.status_case",
                "compat.timestamp_iso",
                "compat.count_null",
                "compat.endpoint_missing",
            },
        ),
        ("007_validating_azure-docs-python-create.json", {"compat.endpoint_null"}),
        ("008_completed_azure-docs-python.json", {"compat.endpoint_null"}),
        ("011_validating_azure-docs-python-failfast.json", {"compat.file_id_empty"}),
    ],
)
def test_published_azure_payloads(name: str, codes: set[str]) -> None:
    """Each published Azure payload loads under compat with exactly its quirks noted."""
    batch = batchfsm.loads((PAYLOADS / name).read_bytes(), profile="compat")
    assert {code for _, code in notes(batch)} == codes


@given(wire_batches())
def test_canonical_payloads_are_untouched(wire: dict[str, Any]) -> None:
    """A canonical payload decodes under compat exactly as under openai, with no notes."""
    batch = batchfsm.structure(wire, profile="compat")
    assert batch == batchfsm.structure(wire)
    assert batch.normalizations == ()
    assert batchfsm.unstructure(batch) == wire


def test_normalisations_do_not_affect_equality() -> None:
    """A normalised record equals the canonical one: normalizations is provenance, not value."""
    quirky = batchfsm.structure(minimal_payload(status="VALIDATING"), profile="compat")
    assert quirky == batchfsm.structure(minimal_payload())


def test_compat_of_a_non_object() -> None:
    """Under compat too, a value that is not an object is a field.type error at $."""
    with pytest.raises(PayloadError) as info:
        batchfsm.structure([1], profile="compat")  # type: ignore[arg-type]
    assert [(v.path, v.code) for v in info.value.violations] == [("$", "field.type")]


@pytest.mark.parametrize(
    "text", ["2024-07-19T25:00:00Z", "2024-07-32T00:00:00Z", "2024-07-19T10:61:00Z"]
)
def test_impossible_iso_times_stay_errors(text: str) -> None:
    """An ISO-looking time with an impossible field is not normalised."""
    with pytest.raises(PayloadError):
        batchfsm.structure(minimal_payload(created_at=text), profile="compat")


class TestHostileQuirks:
    def test_a_numeric_string_past_the_conversion_limit_is_out_of_range(self) -> None:
        """A numeric-string timestamp of more digits than Python converts is noted and then
        refused as out of range, like a 25-digit one, never a ValueError."""
        for digits in (25, 5000):
            value = minimal_payload(created_at="9" * digits)
            with pytest.raises(PayloadError) as info:
                batchfsm.structure(value, profile="compat")
            assert [(v.path, v.code) for v in info.value.violations] == [
                ("$.created_at", "field.range")
            ]
            assert len(info.value.violations[0].message) < 200
            assert normalize(value)[1][0].code == "compat.timestamp_string"

    def test_only_exact_strings_are_rewritten(self) -> None:
        """A str subclass is no quirk to rewrite: whatever its methods do, it is left for the
        decoder to refuse as a wrong type."""

        class Odd(str):
            def strip(self, chars: Any = None) -> str:
                raise RuntimeError("no strip")

            def __eq__(self, other: object) -> bool:
                raise RuntimeError("no eq")

            __hash__ = str.__hash__

        value = minimal_payload(status=Odd("Validating"), output_file_id=Odd(""))
        out, found, _ = normalize(value)
        assert found == []
        assert out["status"] is value["status"]

    def test_a_mapping_that_cannot_be_read_is_left_alone(self) -> None:
        """A mapping whose methods raise is not rewritten: the decoder reports it."""

        class Broken(Mapping[str, Any]):
            def __getitem__(self, key: str) -> Any:
                raise RuntimeError("no item")

            def __iter__(self) -> Iterator[str]:
                raise RuntimeError("no iter")

            def __len__(self) -> int:
                raise RuntimeError("no len")

        top = Broken()
        assert normalize(top) == (top, [], frozenset())
        counts = Broken()
        out, _, _ = normalize(minimal_payload(request_counts=counts))
        assert out["request_counts"] is counts
