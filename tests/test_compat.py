"""The ``compat`` profile: each provider quirk normalised and recorded as a warning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import PayloadError, Severity, Status
from batchfsm._compat import normalize
from batchfsm._record import MILLISECONDS_FROM

from helpers.odd_values import BrokenMapping
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
        """compat does not invent statuses: an unknown one is an error naming the eight,
        though the record loads."""
        report = batchfsm.validate(minimal_payload(status="Done"), profile="compat")
        assert [(v.path, v.code) for v in report.errors] == [("$.status", "status.unknown")]
        assert "'validating', 'failed'" in report.errors[0].message
        assert report.batch is not None

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

    @given(st.integers(0, MILLISECONDS_FROM - 1))
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

        top = BrokenMapping()
        assert normalize(top) == (top, [], frozenset())
        counts = BrokenMapping()
        out, _, _ = normalize(minimal_payload(request_counts=counts))
        assert out["request_counts"] is counts


def _codes(report: batchfsm.Report) -> list[tuple[str, str, str]]:
    return sorted((v.path, v.code, v.severity.value) for v in report.violations)


class TestServiceSpellings:
    """What OpenAI-compatible services spell or leave out, read under compat (issue 15)."""

    @given(st.integers(10**9, 3 * 10**9), st.integers(0, 999))
    def test_millisecond_timestamps(self, seconds: int, millis: int) -> None:
        """A 13-digit timestamp (Zhipu's created_at) reads as the second it falls in."""
        payload = minimal_payload(created_at=seconds * 1000 + millis)
        batch = batchfsm.structure(payload, profile="compat")
        assert batch.created_at == seconds
        assert notes(batch) == {("$.created_at", "compat.timestamp_ms")}

    def test_milliseconds_are_an_error_elsewhere(self) -> None:
        """Under openai a timestamp in milliseconds decodes, and is an error at its path."""
        report = batchfsm.validate(minimal_payload(created_at=1715674031399, expires_at=None))
        assert ("$.created_at", "stamp.milliseconds", "error") in _codes(report)

    def test_microseconds_are_not_read_as_milliseconds(self) -> None:
        """A 16-digit timestamp is no millisecond count: compat leaves it for the rule."""
        report = batchfsm.validate(minimal_payload(created_at=1715674031399000), profile="compat")
        assert ("$.created_at", "stamp.milliseconds", "error") in _codes(report)
        assert not report.ok

    @given(st.integers(10**9, 3 * 10**9), st.integers(0, 999).map(lambda ms: ms / 1000))
    def test_float_timestamps_are_floored(self, seconds: int, fraction: float) -> None:
        """A timestamp with a fraction reads as the whole second it falls in."""
        batch = batchfsm.structure(minimal_payload(created_at=seconds + fraction), profile="compat")
        assert batch.created_at == seconds
        assert notes(batch) == {("$.created_at", "compat.timestamp_float")}

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.5])
    def test_floats_that_are_no_time_are_refused(self, value: float) -> None:
        """NaN, infinity and negative times are still refused, at their path."""
        with pytest.raises(PayloadError) as info:
            batchfsm.structure(minimal_payload(created_at=value), profile="compat")
        assert [v.path for v in info.value.violations] == ["$.created_at"]

    @pytest.mark.parametrize(
        ("spelled", "status", "code"),
        [
            ("pending", Status.VALIDATING, "compat.status_queued"),
            ("created", Status.VALIDATING, "compat.status_queued"),
            ("Queued", Status.VALIDATING, "compat.status_queued"),
            ("canceled", Status.CANCELLED, "compat.status_canceled"),
            ("CANCELED", Status.CANCELLED, "compat.status_canceled"),
        ],
    )
    def test_statuses_of_other_services(self, spelled: str, status: Status, code: str) -> None:
        """A status before validation reads as validating, 'canceled' as cancelled; under
        openai each is still an unknown status."""
        stamps = {"cancelled_at": 1711471600} if status is Status.CANCELLED else {}
        payload = minimal_payload(status=spelled, **stamps)
        batch = batchfsm.structure(payload, profile="compat")
        assert batch.status is status
        assert notes(batch) == {("$.status", code)}
        assert "status.unknown" in {v.code for v in batchfsm.validate(payload).errors}

    @pytest.mark.parametrize(
        ("spelled", "window"),
        [("24hrs", "24h"), ("24 hours", "24h"), ("7 Days", "7d"), ("12H", "12h"), ("1day", "1d")],
    )
    def test_window_spellings(self, spelled: str, window: str) -> None:
        """A window in hours or days spelled otherwise reads as such."""
        batch = batchfsm.structure(minimal_payload(completion_window=spelled), profile="compat")
        assert batch.completion_window == window
        assert notes(batch) == {("$.completion_window", "compat.window_spelling")}

    @pytest.mark.parametrize("window", ["soon", "24", "0h", "1440m", "h24"])
    def test_unreadable_windows_stay_errors(self, window: str) -> None:
        """A window that is no number of hours or days is an error under every profile."""
        for profile in batchfsm.PROFILES:
            payload = minimal_payload(completion_window=window, expires_at=1711557933)
            report = batchfsm.validate(payload, profile=profile)
            assert [v.code for v in report.errors] == ["window.unknown"], profile

    @given(st.integers(1, 999), st.sampled_from([("h", 3600), ("d", 86400)]))
    def test_any_window_checks_the_deadline(self, number: int, unit: tuple[str, int]) -> None:
        """Under compat any window of hours or days is a warning and sets the deadline the
        payload is checked against; under openai it is an error."""
        letter, seconds = unit
        window = f"{number}{letter}"
        deadline = 1711471533 + number * seconds
        payload = minimal_payload(completion_window=window, expires_at=deadline)
        report = batchfsm.validate(payload, profile="compat")
        if window == "24h" or window == "1d":
            assert report.violations == () if window == "24h" else report.ok
        else:
            assert _codes(report) == [("$.completion_window", "window.unknown", "warning")]
        late = batchfsm.validate({**payload, "expires_at": deadline + 3600}, profile="compat")
        assert [v.code for v in late.errors] == ["expires_at.window"]
        assert not batchfsm.validate(payload).ok or window == "24h"

    @pytest.mark.parametrize("absent", [True, False])
    def test_no_deadline_is_a_warning(self, absent: bool) -> None:
        """expires_at null or absent (DashScope, Voyage) is a warning under compat alone."""
        payload = minimal_payload() if absent else minimal_payload(expires_at=None)
        under_compat = batchfsm.validate(payload, profile="compat")
        assert _codes(under_compat) == [("$.expires_at", "expires_at.missing", "warning")]
        assert [v.code for v in batchfsm.validate(payload).errors] == ["expires_at.missing"]

    def test_failures_without_an_error_file(self) -> None:
        """failed > 0 with no error_file_id (DashScope) is a warning under compat alone."""
        from batchfsm._examples import base_payload

        payload = {**base_payload(), "error_file_id": None}
        under_compat = batchfsm.validate(payload, profile="compat")
        assert _codes(under_compat) == [("$.error_file_id", "files.error_missing", "warning")]
        assert [v.code for v in batchfsm.validate(payload).errors] == ["files.error_missing"]

    def test_lifecycle_contradictions_stay_errors(self) -> None:
        """A status whose stamps are missing is an error under compat too."""
        payload = minimal_payload(status="completed", expires_at=1711557933)
        codes = {v.code for v in batchfsm.validate(payload, profile="compat").errors}
        assert "stamp.missing" in codes


class TestByteOrderMark:
    @pytest.mark.parametrize("as_text", [False, True])
    def test_is_skipped_and_noted(self, as_text: bool) -> None:
        """A UTF-8 BOM before the JSON text is skipped by loads and validate under compat."""
        raw = b"\xef\xbb\xbf" + json.dumps(minimal_payload(expires_at=1711557933)).encode()
        data: bytes | str = raw.decode() if as_text else raw
        batch = batchfsm.loads(data, profile="compat")
        assert notes(batch) == {("$", "compat.bom")}
        report = batchfsm.validate(data, profile="compat")
        assert report.ok
        assert _codes(report) == [("$", "compat.bom", "warning")]
        assert report.batch is not None
        assert report.batch.normalizations == batch.normalizations

    def test_is_an_error_elsewhere(self) -> None:
        """Under openai a BOM is no JSON: json.syntax, and loads refuses it."""
        raw = b"\xef\xbb\xbf" + json.dumps(minimal_payload()).encode()
        assert [v.code for v in batchfsm.validate(raw).errors] == ["json.syntax"]
        with pytest.raises(PayloadError):
            batchfsm.loads(raw)


class TestListEnvelope:
    def _envelope(self, *items: object) -> dict[str, Any]:
        return {"object": "list", "data": list(items), "has_more": False}

    def test_each_item_is_judged_on_its_own(self) -> None:
        """validate of a list under compat has one report per item, in order, each as if
        validated alone; the list is ok only if every item is."""
        good = minimal_payload(expires_at=1711557933)
        bad = minimal_payload(status="completed", expires_at=1711557933)
        report = batchfsm.validate(self._envelope(good, bad, "x"), profile="compat")
        assert _codes(report) == [("$", "compat.list_envelope", "warning")]
        assert report.batch is None
        assert not report.ok
        assert [item.violations for item in report.items[:2]] == [
            batchfsm.validate(item, profile="compat").violations for item in (good, bad)
        ]
        assert [v.code for v in report.items[2].violations] == ["json.not_object"]
        assert report.items[0].batch == batchfsm.structure(good)
        assert [i["ok"] for i in report.to_dict()["items"]] == [True, False, False]

    def test_read_from_text(self) -> None:
        """A list read from JSON text, after a BOM, is judged item by item too."""
        raw = b"\xef\xbb\xbf" + json.dumps(self._envelope(minimal_payload(expires_at=1))).encode()
        report = batchfsm.validate(raw, profile="compat")
        assert {v.code for v in report.violations} == {"compat.bom", "compat.list_envelope"}
        assert len(report.items) == 1

    def test_is_no_batch_elsewhere(self) -> None:
        """Under openai a list is judged as a batch, and is not one."""
        report = batchfsm.validate(self._envelope(minimal_payload()))
        assert report.items == ()
        assert not report.ok
        assert "object.invalid" in {v.code for v in report.errors}


class TestUnknownStatus:
    """A status no profile knows: an error, but the record loads under compat (issue 15)."""

    def test_the_record_keeps_it(self) -> None:
        """loads under compat keeps the status as sent, and dumps writes it back."""
        raw = json.dumps(minimal_payload(status="archived", x_vendor=[1])).encode()
        batch = batchfsm.loads(raw, profile="compat")
        assert batch.status.value == "archived"
        assert batch.status not in batchfsm.KNOWN_STATUSES
        assert isinstance(batch.status, Status)
        assert json.loads(batchfsm.dumps(batch)) == json.loads(raw)
        assert batchfsm.loads(batchfsm.dumps(batch), profile="compat") == batch
        assert [(v.code, v.severity) for v in batch.normalizations] == [
            ("status.unknown", Severity.ERROR)
        ]

    @pytest.mark.parametrize("profile", ["strict", "openai"])
    def test_other_profiles_refuse_it(self, profile: str) -> None:
        """Under strict and openai the payload does not decode at all, as before."""
        with pytest.raises(PayloadError) as info:
            batchfsm.structure(minimal_payload(status="archived"), profile=profile)
        assert [v.code for v in info.value.violations] == ["status.unknown"]

    def test_no_event_moves_it(self) -> None:
        """Every event on such a batch is an IllegalTransition that says no table knows it."""
        batch = batchfsm.structure(minimal_payload(status="archived"), profile="compat")
        lifecycle = batchfsm.Lifecycle(profile="compat")
        assert lifecycle.allowed_events(batch) == ()
        data: dict[str, dict[str, Any]] = {"fail": {"errors": [batchfsm.BatchError(code="x")]}}
        for event in batchfsm.EVENTS:
            with pytest.raises(batchfsm.IllegalTransition, match="no table knows the status"):
                lifecycle.fire(batch, event, **data.get(event, {}))
        with pytest.raises(batchfsm.IllegalTransition):
            lifecycle.record_progress(batch, completed=1)
        assert batch.status.value == "archived"

    def test_histories_report_it(self) -> None:
        """In a history, the status is an error and follows nothing."""
        known = minimal_payload(expires_at=1711557933)
        unknown = {**known, "status": "archived"}
        report = batchfsm.check_history([known, unknown], profile="compat")
        assert [(v.path, v.code) for v in report.errors] == [
            ("$[1].status", "status.unknown"),
            ("$[1].status", "history.unreachable"),
        ]
