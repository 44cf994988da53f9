"""The validator: verdicts on published payloads, every code, engine output always clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import EVENTS, ArgumentError, Event, Lifecycle, Profile, Severity, Status
from batchfsm import strategies as bst
from batchfsm._codec import fast_structure
from batchfsm._errors import MAX_PER_CODE
from batchfsm._examples import base_payload
from batchfsm._fastpath import MISS
from batchfsm._reference import violations_page
from batchfsm._validate import Report, _validate, check_history, validate

from helpers.driving import Clock, fire
from helpers.hand_changed import hand_changed_batches
from helpers.payloads import json_values, wire_batches

ROOT = Path(__file__).parent.parent
PAYLOADS = Path(__file__).parent / "payloads"
WARNING_CODES = {"id.prefix", "file_id.prefix", "errors.unexpected", "endpoint.unknown"}

# The verdicts tests/payloads/SOURCES.md implies: consistent -> ok under openai; Azure quirks
# -> errors under openai and ok (with warnings) under compat; real inconsistencies -> errors.
VERDICTS = {
    "001_validating_openapi-create.json": (False, True, set()),
    "002_completed_openapi-retrieve.json": (True, True, set()),
    "003_cancelling_openapi-cancel.json": (True, True, set()),
    "004_completed_openapi-batch-object.json": (True, True, set()),
    "005_validating_azure-docs-rest-create.json": (False, True, set()),
    "006_validating_azure-docs-rest-retrieve.json": (False, True, set()),
    "007_validating_azure-docs-python-create.json": (False, True, set()),
    "008_completed_azure-docs-python.json": (False, False, {"$.in_progress_at"}),
    "009_completed_azure-docs-python-list-a.json": (True, True, set()),
    "010_completed_azure-docs-python-list-b.json": (True, True, set()),
    "011_validating_azure-docs-python-failfast.json": (False, True, set()),
    # Real api.openai.com objects, each with a quirk of OpenAI's own (SOURCES.md).
    "026_expired_openai-dotnet-list-a.json": (True, True, set()),
    "029_cancelled_openai-dotnet-list.json": (True, True, set()),
    "032_completed_openai-dotnet-list-usage.json": (True, True, set()),
    # OpenAI-compatible services: errors under openai, ok under compat (QUIRKS below).
    "037_validating_voyage-docs-create.json": (False, True, set()),
    "038_cancelling_voyage-docs-cancel.json": (False, True, set()),
    "042_pending_llumnix-docs-create.json": (False, True, set()),
    "047_validating_ucloud-dashscope-create.json": (False, True, set()),
    "049_validating_zhipu-sdk-create.json": (False, True, set()),
    # OpenRouter's own shape: no input file, no deadline, no lifecycle stamps.
    "036_completed_openrouter-morph-live.json": (
        False,
        False,
        {
            "$.input_file_id",
            "$.usage.input_tokens",
            "$.usage.input_tokens_details",
            "$.usage.output_tokens",
            "$.usage.output_tokens_details",
            "$.in_progress_at",
            "$.finalizing_at",
            "$.completed_at",
            "$.output_file_id",
        },
    ),
}

# Under compat, each quirk of a compatible service is one warning with its own code.
QUIRKS = {
    "001_validating_openapi-create.json": ["expires_at.missing"],
    "037_validating_voyage-docs-create.json": [
        "compat.timestamp_iso",
        "expires_at.missing",
        "id.prefix",
        "window.unknown",
    ],
    "038_cancelling_voyage-docs-cancel.json": [
        "compat.timestamp_iso",
        "compat.timestamp_iso",
        "compat.timestamp_iso",
        "expires_at.missing",
        "id.prefix",
        "window.unknown",
    ],
    "042_pending_llumnix-docs-create.json": ["compat.status_queued", "file_id.prefix"],
    "047_validating_ucloud-dashscope-create.json": ["expires_at.missing"],
    "049_validating_zhipu-sdk-create.json": [
        "compat.count_null",
        "compat.count_null",
        "compat.count_null",
        "compat.timestamp_ms",
        "endpoint.unknown",
        "expires_at.missing",
        "file_id.prefix",
    ],
}


class TestPublishedPayloads:
    @pytest.mark.parametrize("name", sorted(VERDICTS))
    def test_verdict(self, name: str) -> None:
        """Each published payload gets the verdict its SOURCES.md line implies."""
        ok_openai, ok_compat, inconsistent_at = VERDICTS[name]
        raw = (PAYLOADS / name).read_bytes()
        under_openai, under_compat = validate(raw), validate(raw, profile="compat")
        assert (under_openai.ok, under_compat.ok) == (ok_openai, ok_compat)
        assert {v.path for v in under_compat.errors} == inconsistent_at
        if not ok_openai:
            assert under_openai.errors

    @pytest.mark.parametrize("name", [n for n in VERDICTS if n[:3] in {"005", "006", "007", "011"}])
    def test_azure_quirks_are_warnings_under_compat(self, name: str) -> None:
        """Under compat each Azure quirk is reported as a compat.* warning."""
        report = validate((PAYLOADS / name).read_bytes(), profile="compat")
        assert any(v.code.startswith("compat.") for v in report.warnings)

    @pytest.mark.parametrize("name", sorted(QUIRKS))
    def test_each_quirk_is_one_warning(self, name: str) -> None:
        """Under compat, a compatible service's payload has one warning per quirk."""
        report = validate((PAYLOADS / name).read_bytes(), profile="compat")
        assert report.ok
        assert sorted(v.code for v in report.warnings) == QUIRKS[name]

    def test_openai_history_cancelled_while_validating(self) -> None:
        """033, a real OpenAI batch cancelled while validating, polled three times, is a
        consistent history under openai."""
        snapshots = json.loads((PAYLOADS / "033_history_openai-dotnet-cancel.json").read_bytes())
        assert check_history(snapshots).violations == ()

    def test_vertex_history_via_litellm(self) -> None:
        """053: the validating snapshot reads under compat (a warning per quirk); the
        completed one, with no lifecycle stamps at all, is an error in every profile."""
        snapshots = json.loads((PAYLOADS / "053_history_litellm-vertex-docs.json").read_bytes())
        first = validate(snapshots[0], profile="compat")
        assert first.ok
        assert sorted(v.code for v in first.warnings) == [
            "compat.window_spelling",
            "endpoint.unknown",
            "expires_at.missing",
            "file_id.prefix",
            "file_id.prefix",
            "id.prefix",
        ]
        for profile in ("strict", "openai", "compat"):
            completed = validate(snapshots[1], profile=profile)
            assert "stamp.missing" in {v.code for v in completed.errors}
            assert not check_history(snapshots, profile=profile).ok

    def test_inconsistency_reported_beside_decode_errors(self) -> None:
        """Under openai, a payload that fails to decode still gets its lifecycle checked."""
        report = validate((PAYLOADS / "008_completed_azure-docs-python.json").read_bytes())
        assert {(v.path, v.code) for v in report.errors} == {
            ("$.endpoint", "field.type"),
            ("$.in_progress_at", "stamp.missing"),
        }
        assert report.batch is None
        assert report.batch_id == "batch_6caaf24d-54a5-46be-b1b7-518884fcbdde"


class TestCatalog:
    def test_base_payload_is_clean(self) -> None:
        """The payload every example starts from validates with no violation at all."""
        assert validate(base_payload(), profile="strict").violations == ()

    def test_catalog_page_is_current(self) -> None:
        """docs/violations.md is what the catalog generates."""
        page = (ROOT / "docs" / "violations.md").read_text(encoding="utf-8")
        assert page == violations_page(), "regenerate: python -m batchfsm._reference violations"


class TestSeverityByProfile:
    def test_unknown_endpoint(self) -> None:
        """An unknown endpoint is a warning under openai and an error under strict."""
        payload = {**base_payload(), "endpoint": "/v1/other"}
        assert validate(payload).ok
        assert not validate(payload, profile="strict").ok

    def test_other_windows(self) -> None:
        """A window like '12h' or '7d' is a warning under compat alone (OpenAI takes only
        '24h'); an unreadable one is an error under every profile."""
        for window, seconds in (("12h", 12 * 3600), ("7d", 7 * 86400)):
            payload = {**base_payload(), "completion_window": window}
            payload["expires_at"] = payload["created_at"] + seconds
            assert validate(payload, profile="compat").ok
            assert not validate(payload).ok
            assert not validate(payload, profile="strict").ok
        for profile in ("strict", "openai", "compat"):
            assert not validate({**base_payload(), "completion_window": "soon"}, profile=profile).ok

    def test_tolerated_edge(self) -> None:
        """A batch cancelled straight from validating is fine under openai, not under strict."""
        payload = {
            **base_payload(),
            "status": "cancelled",
            "in_progress_at": None,
            "finalizing_at": None,
            "completed_at": None,
            "cancelling_at": 1711471540,
            "cancelled_at": 1711471600,
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }
        assert validate(payload).ok
        strict = validate(payload, profile="strict")
        assert [(v.code, v.path) for v in strict.errors] == [("stamp.missing", "$.in_progress_at")]


class TestReport:
    def test_all_violations_not_the_first(self) -> None:
        """Several broken rules are all reported."""
        payload = {
            **base_payload(),
            "completed_at": 1,
            "error_file_id": None,
            "metadata": {"k": "v" * 600},
        }
        codes = {v.code for v in validate(payload).violations}
        assert {"stamp.order", "files.error_missing", "metadata.value_too_long"} <= codes

    def test_to_dict(self) -> None:
        """to_dict is JSON-serialisable and carries ok, the batch id and each violation."""
        report = validate({**base_payload(), "id": "x1"})
        data = json.loads(json.dumps(report.to_dict()))
        assert data["ok"] is True
        assert data["batch_id"] == "x1"
        assert data["violations"] == [
            {
                "code": "id.prefix",
                "path": "$.id",
                "message": "'x1' does not start with 'batch_'",
                "severity": "warning",
            }
        ]

    def test_warnings_do_not_make_it_invalid(self) -> None:
        """ok is False exactly when some violation is an error."""
        report = validate({**base_payload(), "id": "x1", "completed_at": 1})
        assert not report.ok
        assert report.errors
        assert report.warnings

    @pytest.mark.parametrize("data", [b'{"id": "batch_1"}', '{"id": "batch_1"}', {"id": "batch_1"}])
    def test_every_input_form(self, data: Any) -> None:
        """bytes, str and mappings are all accepted and decoded alike; beside the missing
        keys, what can still be judged is (no deadline)."""
        report = validate(data)
        assert not report.ok
        assert report.batch_id == "batch_1"
        assert {v.code for v in report.violations} == {"field.missing", "expires_at.missing"}

    def test_batch_input(self) -> None:
        """A Batch record is validated as it is."""
        batch = batchfsm.structure(base_payload())
        report = validate(batch)
        assert report.ok
        assert report.batch is batch

    def test_a_compat_record_keeps_its_warnings(self) -> None:
        """A record decoded under compat is validated as it is, its normalisations reported."""
        quirky = {**base_payload(), "status": base_payload()["status"].upper()}
        batch = batchfsm.structure(quirky, profile="compat")
        report = validate(batch, profile="compat")
        assert report.batch is batch
        assert [(v.code, v.path) for v in report.violations] == [("compat.status_case", "$.status")]

    def test_a_record_compat_reads_another_way_is_checked_as_read(self) -> None:
        """A record whose hand-set value compat rewrites (a null count) is checked, under
        compat, as rewritten, with the rewrite reported."""
        batch = batchfsm.structure(base_payload())
        batch.request_counts = batchfsm.RequestCounts(total=None)  # type: ignore[arg-type]
        report = validate(batch, profile="compat")
        assert [(v.code, v.path) for v in report.violations] == [
            ("compat.count_null", "$.request_counts.total")
        ]
        assert report.batch is not None
        assert report.batch.request_counts == batchfsm.RequestCounts(total=0)

    @pytest.mark.parametrize("notes", [["x"], None, ("x",)])
    def test_normalizations_set_by_hand_are_refused(self, notes: Any) -> None:
        """A record whose normalizations are not a tuple of Violations is an ArgumentError
        naming them."""
        batch = batchfsm.structure(base_payload())
        batch.normalizations = notes
        with pytest.raises(ArgumentError) as info:
            validate(batch)
        assert (info.value.argument, info.value.reason) == (
            "data",
            f"expected a Batch's normalizations to be a tuple of Violations, got {notes!r}",
        )

    @given(hand_changed_batches(), st.sampled_from(batchfsm.PROFILES))
    def test_a_record_changed_by_hand_is_judged_by_its_wire_object(
        self, batch: batchfsm.Batch, profile: str
    ) -> None:
        """validate of a record holding anything reports what validate of the record's wire
        object reports, or the one value that has no wire form; its only refusal is of
        `normalizations` that are not Violations (they have no wire form to report)."""
        notes = batch.normalizations
        if not (isinstance(notes, tuple) and all(type(n) is batchfsm.Violation for n in notes)):
            with pytest.raises(ArgumentError, match="normalizations"):
                validate(batch, profile=profile)
            return
        report = validate(batch, profile=profile)
        assert report.batch_id == (batch.id if type(batch.id) is str else None)
        refused: tuple[batchfsm.Violation, ...] = ()
        try:
            wire = batchfsm.unstructure(batch)
        except batchfsm.PayloadError as error:
            refused = error.violations
        if refused:
            assert report.violations == refused
            assert report.batch is None
        else:
            assert report.violations == validate(wire, profile=profile).violations

    @pytest.mark.parametrize(
        ("name", "value", "path", "code"),
        [
            ("created_at", "soon", "$.created_at", "field.type"),
            (
                "request_counts",
                batchfsm.RequestCounts(total="3"),  # type: ignore[arg-type]
                "$.request_counts.total",
                "field.type",
            ),
            ("metadata", {"k": 1}, "$.metadata.k", "field.type"),
            ("status", "completed", "$.status", "encode.unsupported"),
        ],
    )
    def test_a_hand_set_value_is_reported_at_its_path(
        self, name: str, value: Any, path: str, code: str
    ) -> None:
        """A value of the wrong type set on a record by hand is reported where it is, with
        the code a payload holding it would get, and the batch named."""
        batch = batchfsm.structure(base_payload())
        setattr(batch, name, value)
        report = validate(batch)
        assert [(v.path, v.code) for v in report.violations] == [(path, code)]
        assert report.batch_id == batch.id

    @pytest.mark.parametrize("data", [5, None, [base_payload()], object()])
    def test_wrong_argument_type(self, data: Any) -> None:
        """Only an argument of the wrong type raises (ArgumentError)."""
        with pytest.raises(ArgumentError):
            validate(data)

    def test_unknown_profile(self) -> None:
        """An unknown profile raises ArgumentError."""
        with pytest.raises(ArgumentError):
            validate(base_payload(), profile="azure")

    @given(
        st.one_of(
            st.binary(max_size=80),
            json_values.map(json.dumps),
            json_values.filter(lambda v: isinstance(v, dict)),
        )
    )
    def test_never_raises_on_bad_data(self, data: Any) -> None:
        """Whatever the payload, validate returns a report."""
        assert isinstance(validate(data), Report)

    @given(wire_batches())
    def test_type_correct_payloads_never_raise(self, wire: dict[str, Any]) -> None:
        """Any type-correct payload is checked without an exception, under every profile."""
        for profile in ("strict", "openai", "compat"):
            assert isinstance(validate(wire, profile=profile), Report)


@st.composite
def driven(draw: st.DrawFn, profile: str) -> list[batchfsm.Batch]:
    """Snapshots of a batch driven by random events and clock moves (some refused)."""
    clock = Clock(1_700_000_000)
    lifecycle = Lifecycle(clock, profile=profile)
    batch = lifecycle.create(input_file_id="file-in", endpoint="/v1/responses")
    snapshots = [batchfsm.loads(batchfsm.dumps(batch))]
    for _ in range(draw(st.integers(0, 12))):
        clock.now = max(0, clock.now + draw(st.integers(-3600, 50_000)))
        event = draw(st.sampled_from([*EVENTS, Event.RECORD_PROGRESS]))
        try:
            if event is Event.RECORD_PROGRESS:
                lifecycle.fire(
                    batch, event, completed=draw(st.integers(0, 2)), failed=draw(st.integers(0, 1))
                )
            elif event is Event.EXPIRE:
                lifecycle.fire(batch, event)
            else:
                fire(lifecycle, batch, event)
        except batchfsm.TransitionError:
            continue
        snapshots.append(batchfsm.loads(batchfsm.dumps(batch)))
    return snapshots


class TestEngineOutput:
    @given(st.data(), st.sampled_from(["strict", "openai"]))
    def test_every_engine_batch_is_valid(self, data: st.DataObject, profile: str) -> None:
        """Every batch the engine produces validates with no error under its own profile."""
        for snapshot in data.draw(driven(profile)):
            report = validate(snapshot, profile=profile)
            assert report.errors == (), report.errors

    @given(st.data(), st.sampled_from(["strict", "openai"]))
    def test_engine_histories_are_accepted(self, data: st.DataObject, profile: str) -> None:
        """Snapshots of one driven batch, some polls skipped, pass check_history."""
        snapshots = data.draw(driven(profile))
        kept = [s for i, s in enumerate(snapshots) if i == 0 or data.draw(st.booleans())]
        report = check_history([batchfsm.dumps(s) for s in kept], profile=profile)
        assert report.errors == (), report.errors
        assert report.batch == kept[-1]


class TestHistory:
    def test_paths_name_the_snapshot(self) -> None:
        """Violations in a history carry the snapshot's index in their path."""
        first = base_payload()
        second = {**base_payload(), "completed_at": 1}
        report = check_history([first, second])
        assert ("$[1].completed_at", "stamp.order") in {(v.path, v.code) for v in report.violations}
        assert ("$[1].completed_at", "history.stamp_changed") in {
            (v.path, v.code) for v in report.violations
        }

    def test_skipped_polls_are_fine(self) -> None:
        """validating then completed (in_progress and finalizing never polled) is accepted."""
        created = {
            **base_payload(),
            "status": "validating",
            "in_progress_at": None,
            "finalizing_at": None,
            "completed_at": None,
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }
        assert check_history([created, base_payload()]).ok

    def test_undecodable_snapshot(self) -> None:
        """A snapshot that does not decode is reported at its index and skipped."""
        report = check_history([base_payload(), b"{", base_payload()])
        assert [(v.path, v.code) for v in report.violations] == [("$[1]", "json.syntax")]

    def test_empty_history(self) -> None:
        """An empty history is trivially fine and has no batch."""
        report = check_history([])
        assert report.ok
        assert report.batch is None

    @pytest.mark.parametrize("bad", [5, "payload", {"id": "x"}])
    def test_not_a_sequence(self, bad: Any) -> None:
        """check_history of something that is not a sequence of payloads raises ArgumentError."""
        with pytest.raises(ArgumentError):
            check_history(bad)

    def test_status_order(self) -> None:
        """A status that cannot follow the previous one is history.unreachable; the stamps
        it lost going back are not reported again as history.stamp_changed."""
        cancelling = json.loads((PAYLOADS / "003_cancelling_openapi-cancel.json").read_bytes())
        later = {**cancelling, "status": "in_progress", "cancelling_at": None}
        codes = [v.code for v in check_history([cancelling, later]).violations]
        assert codes == ["history.unreachable"]

    def test_batch_id_is_reported(self) -> None:
        """A history's report names its batch, as a single payload's does."""
        report = check_history([base_payload(), base_payload()])
        assert report.batch_id == base_payload()["id"]

    def test_batch_id_of_an_undecodable_history(self) -> None:
        """A history none of whose snapshots decode still names the id it could read."""
        report = check_history([{"id": "batch_x"}])
        assert (report.batch, report.batch_id) == (None, "batch_x")


def test_strict_documented_paths_are_clean() -> None:
    """Driving only documented edges gives batches that validate clean under strict."""
    for status in Status:
        lifecycle = Lifecycle(Clock(), profile="strict")
        from helpers.driving import batch_in

        _, batch = batch_in(status, lifecycle)
        assert validate(batch, profile="strict").errors == ()


def test_history_with_counts_missing() -> None:
    """A snapshot without request_counts is not compared on counts."""
    first = {**base_payload(), "request_counts": None}
    assert not {v.code for v in check_history([first, base_payload()]).violations} & {
        "history.counts_decreased"
    }


def _full(value: Any, profile: str) -> Report:
    """The report without the shortcut: decode, then check the record."""
    return _validate(value, Profile.STRICT if profile == "strict" else Profile.OPENAI)


def _agree(value: Any, profile: str) -> bool | None:
    """Check the shortcut against the full path on `value`: None when the generated
    decoder did not answer, else whether the payload is clean."""
    full = _full(value, profile)
    assert validate(value, profile=profile) == full
    batch = fast_structure(value)
    if batch is MISS:
        return None
    assert batch == full.batch
    assert batch.omitted == full.batch.omitted
    return full.violations == ()


# Values near each rule's edge: a check off by one on either path is caught here.
_EDGE_VALUES = st.one_of(
    st.integers(-2, 2),
    st.integers(1_700_000_000 - 90_000, 1_700_000_000 + 90_000),
    st.sampled_from([None, "", "batch_x", "batch", "file-x", "file", "24h", "48h", "batch"]),
    st.text(min_size=0, max_size=3).map(lambda s: "file-" + s),
    st.sampled_from([63, 64, 65, 511, 512, 513]).map(lambda n: "x" * n),
)


class TestShortcut:
    """validate decodes canonical payloads through the generated decoder, then runs the
    same generated checks; its reports must equal the converter's path."""

    @given(bst.payloads(unknown_keys=False), st.sampled_from(["openai", "strict"]))
    def test_engine_payloads_take_it(self, payload: dict[str, Any], profile: str) -> None:
        """Every payload of an engine-made batch is decoded by the shortcut."""
        value = json.loads(json.dumps(payload))
        assert _agree(value, profile) is not None

    @given(bst.payloads(unknown_keys=False), st.data())
    def test_one_value_at_the_edge(self, payload: dict[str, Any], data: st.DataObject) -> None:
        """With one value replaced by one near a rule's edge, shortcut and full path agree."""
        value = json.loads(json.dumps(payload))
        key = data.draw(st.sampled_from(sorted(value)))
        nested = value[key]
        if isinstance(nested, dict) and nested:
            inner = data.draw(st.sampled_from(sorted(nested)))
            if isinstance(nested[inner], dict):  # usage's details
                (leaf,) = nested[inner]
                nested[inner][leaf] = data.draw(_EDGE_VALUES)
            else:
                nested[inner] = data.draw(_EDGE_VALUES)
        else:
            value[key] = data.draw(_EDGE_VALUES)
        _agree(value, data.draw(st.sampled_from(["openai", "strict"])))

    @given(wire_batches(), st.sampled_from(["openai", "strict"]))
    def test_arbitrary_wire_payloads(self, wire: dict[str, Any], profile: str) -> None:
        """On type-correct payloads of any content, shortcut and full path agree."""
        _agree(wire, profile)

    @pytest.mark.parametrize(
        "rule", [r for r in batchfsm.RULES if r.stage is batchfsm.Stage.PAYLOAD], ids=str
    )
    def test_every_catalog_example_agrees(self, rule: batchfsm.Rule) -> None:
        """On every rule's example, as a dict or as JSON text, both paths report alike."""
        payload = rule.build_example()
        assert _agree(payload, "openai") is False
        text = json.dumps(payload)
        assert validate(text) == _full(text, "openai")

    def test_published_clean_payloads_take_it(self) -> None:
        """The published payloads with no violation at all are answered by the shortcut."""
        answered = set()
        for path in sorted(PAYLOADS.glob("*.json")):
            value = json.loads(path.read_bytes())
            for item in value if type(value) is list else [value]:  # a history's snapshots
                if _agree(item, "openai"):
                    answered.add(path.name)
        # 009 and 010 name an endpoint OpenAI does not list: a warning, so not clean.
        assert answered == {
            "002_completed_openapi-retrieve.json",
            "003_cancelling_openapi-cancel.json",
            "004_completed_openapi-batch-object.json",
            "026_expired_openai-dotnet-list-a.json",
            "029_cancelled_openai-dotnet-list.json",
            "032_completed_openai-dotnet-list-usage.json",
            "033_history_openai-dotnet-cancel.json",
        }


def _with(payload: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`payload` with dotted keys (``usage.input_tokens``) set to new values."""
    payload = json.loads(json.dumps(payload))
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        target = payload
        for parent in parents:
            target = target[parent]
        target[key] = value
    return payload


_BASE = base_payload()
_T0, _DUE = _BASE["created_at"], _BASE["created_at"] + 86_400
_IN_PROGRESS = {"status": "in_progress", "finalizing_at": None, "completed_at": None}
_EXPIRED = {**_IN_PROGRESS, "status": "expired", "expired_at": _DUE}
_FAILED = {**_IN_PROGRESS, "status": "failed", "in_progress_at": None, "failed_at": _T0 + 10}
_ONE_ERROR = {"object": "list", "data": [{"code": "x", "message": "y"}]}

# (rule, changes at its limit: clean, changes one step past it: a violation)
_LIMITS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("window late", {"expires_at": _DUE + 60}, {"expires_at": _DUE + 61}),
    ("window early", {"expires_at": _DUE - 60}, {"expires_at": _DUE - 61}),
    ("metadata key", {"metadata": {"k" * 64: "v"}}, {"metadata": {"k" * 65: "v"}}),
    ("metadata value", {"metadata": {"k": "v" * 512}}, {"metadata": {"k": "v" * 513}}),
    (
        "metadata pairs",
        {"metadata": {str(i): "v" for i in range(16)}},
        {"metadata": {str(i): "v" for i in range(17)}},
    ),
    (
        "counts in progress",
        {**_IN_PROGRESS, "request_counts": {"total": 10, "completed": 6, "failed": 4}},
        {**_IN_PROGRESS, "request_counts": {"total": 10, "completed": 7, "failed": 4}},
    ),
    (
        "counts negative",
        {**_IN_PROGRESS, "request_counts": {"total": 10, "completed": 0, "failed": 0}},
        {**_IN_PROGRESS, "request_counts": {"total": 10, "completed": 0, "failed": -1}},
    ),
    ("counts completed", {}, {"request_counts.total": 101}),
    (
        "output file",
        {"request_counts": {"total": 5, "completed": 0, "failed": 5}, "output_file_id": None},
        {"request_counts": {"total": 5, "completed": 1, "failed": 4}, "output_file_id": None},
    ),
    (
        "error file",
        {"request_counts": {"total": 5, "completed": 5, "failed": 0}, "error_file_id": None},
        {"request_counts": {"total": 5, "completed": 4, "failed": 1}, "error_file_id": None},
    ),
    (
        "cached tokens",
        {"usage.input_tokens_details.cached_tokens": 1500},
        {"usage.input_tokens_details.cached_tokens": 1501},
    ),
    (
        "reasoning tokens",
        {"usage.output_tokens_details.reasoning_tokens": 500},
        {"usage.output_tokens_details.reasoning_tokens": 501},
    ),
    (
        "no cached tokens",
        {"usage.input_tokens_details.cached_tokens": 0},
        {"usage.input_tokens_details.cached_tokens": -1},
    ),
    (
        "no reasoning tokens",
        {"usage.output_tokens_details.reasoning_tokens": 0},
        {"usage.output_tokens_details.reasoning_tokens": -1},
    ),
    ("total tokens", {"usage.total_tokens": 2000}, {"usage.total_tokens": 2001}),
    ("expired on time", _EXPIRED, {**_EXPIRED, "expired_at": _DUE - 1}),
    (
        "stamp order",
        {"completed_at": _BASE["finalizing_at"]},
        {"completed_at": _BASE["finalizing_at"] - 1},
    ),
    ("id prefix", {"id": "batch_"}, {"id": "batchx"}),
    ("file prefix", {"output_file_id": "file-"}, {"output_file_id": "filex"}),
    ("failed errors", {**_FAILED, "errors": _ONE_ERROR}, {**_FAILED, "errors": None}),
    (
        "errors elsewhere",
        {"errors": {"object": "list", "data": []}},
        {"errors": _ONE_ERROR},
    ),
    ("endpoint", {"endpoint": "/v1/responses"}, {"endpoint": "/v1/other"}),
    ("window", {"completion_window": "24h"}, {"completion_window": "48h"}),
    ("object", {"object": "batch"}, {"object": "batches"}),
]


class TestShortcutLimits:
    @pytest.mark.parametrize(("rule", "at", "past"), _LIMITS, ids=[r for r, _, _ in _LIMITS])
    @pytest.mark.parametrize("profile", ["openai", "strict"])
    def test_limit_is_vouched_for_and_one_past_is_not(
        self,
        rule: str,
        at: dict[str, Any],
        past: dict[str, Any],
        profile: str,
    ) -> None:
        """At each rule's limit the payload is clean on both paths; one step past it, not
        clean, and validate reports it."""
        assert _agree(_with(_BASE, at), profile) is True
        assert _agree(_with(_BASE, past), profile) is False
        assert validate(json.dumps(_with(_BASE, past)), profile=profile).violations


class TestFullCheckEdges:
    """The full check's own fast filters: values at a limit beside values past it."""

    def test_metadata_at_its_limits_beside_values_past_them(self) -> None:
        """With 16 pairs (the most allowed), a valid pair first, a 64-character key holding a
        513-character value and a 65-character key holding a 512-character value, exactly
        the value and the key past their limits are reported, in catalog order."""
        metadata = {"a": "v", "k" * 64: "v" * 513, "x" * 65: "v" * 512}
        metadata |= {str(i): "v" for i in range(16 - len(metadata))}
        report = validate(_with(_BASE, {"metadata": metadata}))
        assert [(v.code, v.path) for v in report.violations] == [
            ("metadata.key_too_long", f"$.metadata.{'x' * 65}"),
            ("metadata.value_too_long", f"$.metadata.{'k' * 64}"),
        ]

    @pytest.mark.parametrize("profile", ["openai", "strict"])
    def test_24_hours_written_otherwise_is_no_window(self, profile: str) -> None:
        """'024h' is not how a window is written: an unknown window, an error under every
        profile (no deadline can be read from it)."""
        report = validate(_with(_BASE, {"completion_window": "024h"}), profile=profile)
        assert [(v.code, v.path, v.severity) for v in report.violations] == [
            ("window.unknown", "$.completion_window", Severity.ERROR)
        ]

    def test_zero_tokens_beside_negative_ones(self) -> None:
        """A token count of zero is not negative, even beside one that is."""
        usage = {"usage.output_tokens_details.reasoning_tokens": 0, "usage.input_tokens": -1}
        report = validate(_with(_BASE, usage))
        assert ("usage.negative", "$.usage.input_tokens") in [
            (v.code, v.path) for v in report.violations
        ]
        assert [v.path for v in report.violations if v.code == "usage.negative"] == [
            "$.usage.input_tokens"
        ]


class TestHostileSizes:
    """Payloads built to hurt: each is answered with a value, a report or a PayloadError."""

    def test_100_000_levels_of_nesting_in_an_unknown_key(self) -> None:
        """Nesting past any parser's limit is reported as json.syntax, not a RecursionError."""
        text = json.dumps(_BASE)[:-1] + ', "x_deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
        report = validate(text.encode())
        assert [v.code for v in report.violations] == ["json.syntax"]
        assert "depth" in report.violations[0].message
        with pytest.raises(batchfsm.PayloadError, match=r"json\.syntax"):
            batchfsm.loads(text)

    def test_10_mb_strings(self) -> None:
        """A 10 MB model name is kept whole; a 10 MB metadata value is reported, not echoed."""
        big = "m" * 10_000_000
        report = validate(json.dumps({**_BASE, "model": big}).encode())
        assert report.ok
        assert report.batch is not None
        assert report.batch.model == big
        report = validate(json.dumps({**_BASE, "metadata": {"k": big}}).encode())
        (violation,) = report.violations
        assert violation.code == "metadata.value_too_long"
        assert len(violation.message) < 200  # the message gives the length, not the value

    def test_100_000_metadata_keys(self) -> None:
        """100,000 metadata pairs give one metadata.too_many, not a violation per key."""
        metadata = {f"k{i}": "v" for i in range(100_000)}
        report = validate(json.dumps({**_BASE, "metadata": metadata}).encode())
        assert [v.code for v in report.violations] == ["metadata.too_many"]
        assert "got 100000" in report.violations[0].message

    def test_10_000_error_entries(self) -> None:
        """A failed batch with 10,000 errors decodes whole and validates."""
        errors = [{"code": "invalid_json_line", "message": "bad", "line": i} for i in range(10_000)]
        payload = _with(_BASE, {**_FAILED, "errors": {"object": "list", "data": errors}})
        report = validate(json.dumps(payload).encode())
        assert report.ok
        assert report.batch is not None
        assert report.batch.errors is not None
        assert len(report.batch.errors.data or []) == 10_000

    @pytest.mark.parametrize("profile", ["strict", "openai", "compat"])
    def test_violations_capped_per_code(self, profile: str) -> None:
        """20,000 overlong metadata keys and 5,000 null error entries are reported as
        MAX_PER_CODE of each code and one that counts the rest, whatever the profile."""
        metadata = {f"{'k' * 70}{i}": "v" for i in range(20_000)}
        payload = {**_BASE, "metadata": metadata}
        report = validate(payload, profile=profile)
        longs = [v for v in report.violations if v.code == "metadata.key_too_long"]
        assert len(longs) == MAX_PER_CODE + 1
        assert longs[-1].message.startswith("19900 more metadata.key_too_long problems")
        nulls = _with(_BASE, {**_FAILED, "errors": {"object": "list", "data": [None] * 5_000}})
        report = validate(json.dumps(nulls).encode(), profile=profile)
        types = [v for v in report.violations if v.code == "field.type"]
        assert len(types) == MAX_PER_CODE + 1
        assert types[-1].path == f"$.errors.data[{MAX_PER_CODE}]"
        assert not report.ok

    @pytest.mark.parametrize("key", [(1, 2), 1.5, b"k", frozenset()])
    def test_metadata_keys_json_cannot_hold(self, key: object) -> None:
        """A metadata key that is not a string (possible only in Python values) is a
        field.type at a path showing its repr, not a TypeError."""
        for profile in ("strict", "openai", "compat"):
            report = validate({**_BASE, "metadata": {key: "v"}}, profile=profile)
            assert [v.code for v in report.violations] == ["field.type"]
            assert report.violations[0].path.startswith("$.metadata[")

    @pytest.mark.parametrize(
        ("value", "code"),
        [(1e300, "field.type"), (2**70, "field.range"), (-(2**70), "field.range")],
    )
    def test_huge_numbers_in_a_known_field(self, value: float, code: str) -> None:
        """1e300 or 2**70 as a timestamp is reported at its path with its code."""
        report = validate(json.dumps({**_BASE, "created_at": value}).encode())
        assert ("$.created_at", code) in [(v.path, v.code) for v in report.errors]

    def test_huge_numbers_in_unknown_keys_are_kept_exactly(self) -> None:
        """1e300 and 2**70 in unknown keys survive validate and a round trip unchanged."""
        text = json.dumps({**_BASE, "x_float": 1e300, "x_int": 2**70, "x_neg": -(2**70)})
        report = validate(text.encode())
        assert report.ok
        assert report.batch is not None
        assert report.batch.extra == {"x_float": 1e300, "x_int": 2**70, "x_neg": -(2**70)}
        assert json.loads(batchfsm.dumps(report.batch)) == json.loads(text)


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("usage.input_tokens", "$.usage.input_tokens"),
        ("usage.output_tokens", "$.usage.output_tokens"),
        ("usage.total_tokens", "$.usage.total_tokens"),
        ("usage.input_tokens_details.cached_tokens", "$.usage.input_tokens_details.cached_tokens"),
        (
            "usage.output_tokens_details.reasoning_tokens",
            "$.usage.output_tokens_details.reasoning_tokens",
        ),
    ],
)
def test_each_negative_token_count_is_named(key: str, path: str) -> None:
    """A negative token count is usage.negative at its own path, whichever count it is."""
    report = validate(_with(_BASE, {key: -1}))
    negative = [v for v in report.violations if v.code == "usage.negative"]
    assert [(v.path, v.message) for v in negative] == [(path, f"{key} is negative: -1")]


class TestHistoryEdges:
    def test_a_broken_snapshot_does_not_end_the_history(self) -> None:
        """After a snapshot that does not decode, the later ones are still compared."""
        first = _with(_BASE, _IN_PROGRESS)
        later = _with(_BASE, {**_IN_PROGRESS, "id": "batch_other"})
        report = check_history([first, b"{", first, later])
        assert [(v.code, v.path) for v in report.violations] == [
            ("json.syntax", "$[1]"),
            ("history.id_changed", "$[3].id"),
        ]

    def test_each_snapshot_is_checked_under_the_profile(self) -> None:
        """A snapshot only strict refuses (a tolerated edge's stamps) is reported under
        strict and not under openai."""
        failed_late = _with(
            _BASE, {**_IN_PROGRESS, "status": "failed", "failed_at": _T0 + 50, "errors": _ONE_ERROR}
        )
        assert check_history([failed_late], profile="openai").ok
        assert not check_history([failed_late], profile="strict").ok

    def test_not_a_sequence(self) -> None:
        """A single payload instead of a list of them is an ArgumentError about snapshots."""
        with pytest.raises(ArgumentError) as info:
            check_history(_BASE)
        assert (info.value.argument, info.value.reason) == (
            "snapshots",
            "expected a sequence of payloads, got dict",
        )


class TestDecodeArguments:
    def test_data_of_another_type(self) -> None:
        """validate refuses data that is neither text, a mapping nor a Batch, naming it."""
        with pytest.raises(ArgumentError) as info:
            validate(42)
        assert (info.value.argument, info.value.reason) == (
            "data",
            "expected JSON text, a mapping or a Batch, got int",
        )


def test_clean_text_is_answered_by_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean payload, as bytes, str or dict, never reaches the converter's path (#4's
    speed)."""
    import batchfsm._validate as module

    def full_path(*args: object) -> None:
        raise AssertionError("the converter's path ran")

    monkeypatch.setattr(module, "_validate", full_path)
    text = json.dumps(_BASE)
    for data in (text, text.encode(), json.loads(text)):
        for profile in ("openai", "strict"):
            report = validate(data, profile=profile)
            assert (report.ok, report.violations) == (True, ())
