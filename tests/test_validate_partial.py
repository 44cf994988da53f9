"""The validator reports everything at once: a value the codec refuses hides only the checks
that read it, never the problems of the other fields."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, Batch, Severity, validate
from batchfsm import strategies as bst
from batchfsm._checks import concrete
from batchfsm._codec import read_normalized
from batchfsm._compat import normalize
from batchfsm._errors import PayloadError, Violation
from batchfsm._examples import base_payload
from batchfsm._profile import resolve
from batchfsm._record import REQUIRED_FIELDS, TIMESTAMP_FIELDS, wire_names
from batchfsm._repair import repair
from batchfsm._rules import BY_CODE, FACTS, RULES, Stage
from batchfsm._strict import exact_pass

from helpers.hand_changed import hand_changed_batches
from helpers.payloads import json_values

PROFILES = ("strict", "openai", "compat")
ID = base_payload()["id"]

Pair = tuple[str, str]  # (code, path)


def _pairs(report: batchfsm.Report) -> list[Pair]:
    return [(v.code, v.path) for v in report.violations]


def _changed(changes: dict[str, Any], **inside: dict[str, Any]) -> dict[str, Any]:
    """The catalog's consistent completed batch with `changes`, and `inside` a nested record."""
    payload = {**base_payload(), **changes}
    for key, more in inside.items():
        payload[key] = {**payload[key], **more}
    return payload


def _forms(payload: dict[str, Any]) -> list[Any]:
    text = json.dumps(payload)
    return [payload, text, text.encode()]


def _dropped(payload: dict[str, Any], *keys: str) -> dict[str, Any]:
    """`payload` (a copy) without the key at `keys`."""
    out = copy.deepcopy(payload)
    record = out
    for key in keys[:-1]:
        record = record[key]
    del record[keys[-1]]
    return out


def _refusal(violation: Violation) -> bool:
    """Whether `violation` says why a payload (or a record's wire form) could not be read,
    rather than what a check of the record read found."""
    rule = BY_CODE.get(violation.code)
    return rule is None or rule.stage is not Stage.PAYLOAD


_FAILED = {
    "status": "failed",
    "in_progress_at": None,
    "finalizing_at": None,
    "completed_at": None,
    "failed_at": 1711471540,
    "output_file_id": None,
    "error_file_id": None,
    "request_counts": {"total": 0, "completed": 0, "failed": 0},
}
_UNFINALIZED = {"finalizing_at": None}  # a completed batch without it: stamp.missing
_MISSING = ("stamp.missing", "$.finalizing_at")
_NOT_A_BATCH = {"object": "job"}
_INVALID = ("object.invalid", "$.object")


class TestIssueExample:
    """The example of issue 12: a wrong type does not hide a negative count."""

    @pytest.mark.parametrize("profile", PROFILES)
    def test_both_reported(self, profile: str) -> None:
        """`in_progress_at: true` and a negative completed count are both reported, whatever
        the input form, and the report holds no record but the batch's id."""
        payload = _changed(
            {"in_progress_at": True},
            request_counts={"total": 100, "completed": -1, "failed": 5},
        )
        for data in _forms(payload):
            report = validate(data, profile=profile)
            assert _pairs(report) == [
                ("field.type", "$.in_progress_at"),
                ("counts.negative", "$.request_counts.completed"),
                ("counts.unaccounted", "$.request_counts"),
            ]
            assert (report.ok, report.batch, report.batch_id) == (False, None, ID)


# Each decode problem beside a lifecycle problem elsewhere: the payload, and every
# violation it must give, in order, under every profile.
DECODE_CASES: dict[str, tuple[dict[str, Any], list[Pair]]] = {
    "field.type": (
        _changed({"in_progress_at": True, **_UNFINALIZED}),
        [("field.type", "$.in_progress_at"), _MISSING],
    ),
    "field.range": (
        _changed({"completed_at": -1, **_NOT_A_BATCH}),
        [("field.range", "$.completed_at"), _INVALID],
    ),
    "field.missing": (
        _dropped(_changed(_UNFINALIZED), "created_at"),
        [("field.missing", "$.created_at"), _MISSING],
    ),
    "status.unknown": (
        _changed({"status": "done", **_UNFINALIZED, **_NOT_A_BATCH}),
        [("status.unknown", "$.status"), _INVALID],
    ),
    "status of another type": (
        _changed({"status": 5, "cancelled_at": 1711471600, **_NOT_A_BATCH}),
        [("field.type", "$.status"), _INVALID],
    ),
    "file_id.empty": (
        _changed({"input_file_id": "", **_UNFINALIZED}),
        [("file_id.empty", "$.input_file_id"), _MISSING],
    ),
    "request_counts not an object": (
        _changed({"request_counts": "100", "output_file_id": None, **_UNFINALIZED}),
        [("field.type", "$.request_counts"), _MISSING],
    ),
    "a count of another type": (
        _changed(_UNFINALIZED, request_counts={"completed": "95", "failed": -1}),
        [
            ("field.type", "$.request_counts.completed"),
            ("counts.negative", "$.request_counts.failed"),
            _MISSING,
        ],
    ),
    "a count missing": (
        _dropped(
            _changed(_UNFINALIZED, request_counts={"completed": -1}), "request_counts", "total"
        ),
        [
            ("field.missing", "$.request_counts.total"),
            ("counts.negative", "$.request_counts.completed"),
            _MISSING,
        ],
    ),
    "usage not an object": (
        _changed({"usage": [], **_UNFINALIZED}),
        [("field.type", "$.usage"), _MISSING],
    ),
    "usage details not an object": (
        _changed({}, usage={"input_tokens_details": 5, "total_tokens": 1}),
        [
            ("field.type", "$.usage.input_tokens_details"),
            ("usage.total_mismatch", "$.usage.total_tokens"),
        ],
    ),
    "errors not an object": (
        _changed({"errors": "x", **_UNFINALIZED}),
        [("field.type", "$.errors"), _MISSING],
    ),
    "errors.data items wrong": (
        _changed(
            {**_FAILED, "errors": {"object": "list", "data": [5, {"code": 1}]}, "cancelled_at": 1}
        ),
        [
            ("field.type", "$.errors.data[0]"),
            ("field.type", "$.errors.data[1].code"),
            ("stamp.unexpected", "$.cancelled_at"),
        ],
    ),
    "errors.object wrong": (
        _changed({**_FAILED, "errors": {"object": 5, "data": []}}),
        [("field.type", "$.errors.object"), ("errors.missing", "$.errors")],
    ),
    "a metadata value wrong": (
        _changed({"metadata": {"a.b": 5}, **_UNFINALIZED}),
        [("field.type", "$.metadata['a.b']"), _MISSING],
    ),
    "every required key missing": (
        {"id": ID, "request_counts": {"total": 1, "completed": 2, "failed": 0}},
        [
            *(("field.missing", f"$.{key}") for key in sorted(REQUIRED_FIELDS - {"id"})),
            ("expires_at.missing", "$.expires_at"),
            ("counts.exceeds_total", "$.request_counts"),
        ],
    ),
}
# compat reads the endpoint's absence as null, and reports that first.
_ENDPOINT_MISSING = ("compat.endpoint_missing", "$.endpoint")


class TestDecodeProblemsBesideLifecycleOnes:
    """Each decode problem is reported beside the lifecycle problems of the other fields,
    and hides only the checks that read the value refused."""

    @pytest.mark.parametrize("profile", PROFILES)
    @pytest.mark.parametrize("case", list(DECODE_CASES))
    def test_reported(self, case: str, profile: str) -> None:
        """Exactly the decode problem and the lifecycle problem, for bytes, str and dict."""
        payload, expected = DECODE_CASES[case]
        if profile == "compat" and "endpoint" not in payload:
            expected = [_ENDPOINT_MISSING] + [p for p in expected if p[1] != "$.endpoint"]
        # compat keeps a status no table knows, so that record loads (TestUnknownStatus).
        loads = profile == "compat" and case == "status.unknown"
        for data in _forms(payload):
            report = validate(data, profile=profile)
            assert _pairs(report) == expected
            assert (report.batch is not None, report.batch_id) == (loads, ID)

    def test_caller_values_are_left_alone(self) -> None:
        """Repairing a payload to judge the rest never changes the caller's mapping."""
        for payload, _ in DECODE_CASES.values():
            before = copy.deepcopy(payload)
            for profile in PROFILES:
                validate(payload, profile=profile)
            assert payload == before


class TestStatus:
    """A status that cannot be read hides every check that depends on the status."""

    # A completed batch with every kind of status-dependent problem, beside two that do
    # not depend on it (object.invalid and counts.negative).
    BROKEN = _changed(
        {
            "finalizing_at": None,
            "cancelled_at": 1711471600,
            "output_file_id": None,
            "errors": {"object": "list", "data": [{"code": "x"}]},
            **_NOT_A_BATCH,
        },
        request_counts={"total": 100, "completed": 90, "failed": -1},
    )

    def test_read_status_reports_them(self) -> None:
        """With its status readable, the payload shows its status-dependent problems."""
        codes = {code for code, _ in _pairs(validate(self.BROKEN))}
        assert {"stamp.missing", "stamp.unexpected", "files.output_missing"} <= codes
        assert {"counts.unaccounted", "errors.unexpected"} <= codes

    @pytest.mark.parametrize("status", ["done", 5, None, ["completed"]])
    @pytest.mark.parametrize("profile", PROFILES)
    def test_unreadable_status_hides_them(self, status: object, profile: str) -> None:
        """Unreadable, only the checks that do not read the status are reported."""
        report = validate({**self.BROKEN, "status": status}, profile=profile)
        decode = "status.unknown" if status == "done" else "field.type"
        assert _pairs(report) == [
            (decode, "$.status"),
            _INVALID,
            ("counts.negative", "$.request_counts.failed"),
        ]

    def test_missing_status_hides_them(self) -> None:
        """A status that is absent is unreadable too."""
        payload = {k: v for k, v in self.BROKEN.items() if k != "status"}
        assert _pairs(validate(payload)) == [
            ("field.missing", "$.status"),
            _INVALID,
            ("counts.negative", "$.request_counts.failed"),
        ]


class TestCompatReading:
    """Without quirks, a payload is judged as compat reads it, as one that decodes only
    with quirks always was: another field's problem changes nothing about that."""

    def test_quirky_status_is_read(self) -> None:
        """A capitalised status is refused under openai, yet its stamps are checked as
        compat reads it, with or without a wrong value elsewhere."""
        quirky = _changed({"status": "Completed", **_UNFINALIZED})
        assert _pairs(validate(quirky)) == [("status.unknown", "$.status"), _MISSING]
        assert _pairs(validate({**quirky, "metadata": 5})) == [
            ("status.unknown", "$.status"),
            ("field.type", "$.metadata"),
            _MISSING,
        ]

    def test_compat_reports_its_rewrites(self) -> None:
        """Under compat, what it rewrote is reported beside what it refused."""
        quirky = _changed({"status": "Completed", "metadata": 5, **_UNFINALIZED})
        assert _pairs(validate(quirky, profile="compat")) == [
            ("compat.status_case", "$.status"),
            ("field.type", "$.metadata"),
            _MISSING,
        ]


class TestText:
    """Text is parsed once; what is not a JSON object is reported as that alone."""

    @pytest.mark.parametrize(
        ("data", "code"),
        [
            (b"", "json.empty"),
            (" ", "json.empty"),
            (b'{"id": ', "json.syntax"),
            ('{"id": ', "json.syntax"),
            (b'{"id": "\xff"}', "json.encoding"),
            (b"[1]", "json.not_object"),
            ('"batch_abc123"', "json.not_object"),
        ],
    )
    @pytest.mark.parametrize("profile", PROFILES)
    def test_not_an_object(self, data: bytes | str, code: str, profile: str) -> None:
        """Text that holds no JSON object gives its one json.* violation and no id."""
        report = validate(data, profile=profile)
        assert _pairs(report) == [(code, "$")]
        assert (report.batch, report.batch_id) == (None, None)

    @pytest.mark.parametrize("profile", PROFILES)
    def test_a_64_bit_overflow_beside_a_lifecycle_problem(self, profile: str) -> None:
        """An integer past 64 bits is field.range (read exactly, not as orjson's float),
        reported beside the lifecycle problems of the other fields."""
        text = json.dumps(_changed({"created_at": 2**70, "x_kept": -(2**70), **_UNFINALIZED}))
        report = validate(text.encode(), profile=profile)
        assert _pairs(report) == [("field.range", "$.created_at"), _MISSING]

    def test_a_64_bit_number_in_an_unknown_key_beside_a_refused_value(self) -> None:
        """A huge integer kept in an unknown key does not stop the rest being judged."""
        text = json.dumps(_changed({"x_big": 2**70, "metadata": [], **_UNFINALIZED}))
        assert _pairs(validate(text)) == [("field.type", "$.metadata"), _MISSING]


class TestRecords:
    """A record with a value set by hand is judged the same way as a payload."""

    def test_hand_set_value_beside_a_lifecycle_problem(self) -> None:
        """A str set as a stamp is reported, and so is the stamp another status lacks."""
        batch = batchfsm.structure(_changed(_UNFINALIZED))
        batch.in_progress_at = "soon"  # type: ignore[assignment]
        report = validate(batch)
        assert _pairs(report) == [("field.type", "$.in_progress_at"), _MISSING]
        assert (report.batch, report.batch_id) == (None, ID)

    def test_a_compat_record_keeps_its_warnings(self) -> None:
        """A record compat decoded is reported as given: what compat rewrote, then what the
        checks found."""
        quirky = _changed({"status": "Completed", **_UNFINALIZED})
        batch = batchfsm.structure(quirky, profile="compat")
        report = validate(batch, profile="compat")
        assert _pairs(report) == [("compat.status_case", "$.status"), _MISSING]
        assert report.batch is batch

    @given(hand_changed_batches(), st.sampled_from(PROFILES))
    def test_never_raises(self, batch: Batch, profile: str) -> None:
        """Whatever was set by hand, validate answers with a report (hand-set
        normalizations aside, which are the caller's error)."""
        notes = batch.normalizations
        if not (isinstance(notes, tuple) and all(type(n) is Violation for n in notes)):
            with pytest.raises(ArgumentError):
                validate(batch, profile=profile)
            return
        _check_report(validate(batch, profile=profile))


# -- properties over the engine's payloads ----------------------------------------------

# Where a value can be broken: every key of the batch object, and the keys of the
# records it holds, which the codec reads one by one.
SITES: tuple[tuple[str, ...], ...] = (
    *((key,) for key in wire_names(Batch)),
    *(("request_counts", key) for key in ("total", "completed", "failed")),
    *(("usage", key) for key in ("input_tokens", "output_tokens", "total_tokens")),
    ("usage", "input_tokens_details"),
    ("usage", "input_tokens_details", "cached_tokens"),
    ("usage", "output_tokens_details", "reasoning_tokens"),
    ("errors", "object"),
    ("errors", "data"),
)


def _with(payload: dict[str, Any], site: tuple[str, ...], value: Any) -> dict[str, Any]:
    """`payload` (a copy) with `value` at `site`, making the records on the way objects."""
    out = copy.deepcopy(payload)
    record = out
    for key in site[:-1]:
        if not isinstance(record.get(key), dict):
            record[key] = {}
        record = record[key]
    record[site[-1]] = value
    return out


# Values of the wrong JSON type for every field, arrays and maps too.
WRONG_TYPES = st.sampled_from([True, False, 1.5, -0.5])
_STAMP_SITES = {(name,) for name in TIMESTAMP_FIELDS}


def _top_keys_read(code: str, profile: str) -> frozenset[str]:
    """The top-level keys of the batch object some check of rule `code` reads."""
    keys: set[str] = set()
    for item in concrete(resolve(profile)):
        if item.rule.code == code:
            keys |= {FACTS[fact][0] or FACTS[fact][1] for fact in item.reads if fact in FACTS}
    return frozenset(keys)


def _lifecycle(report: batchfsm.Report) -> set[tuple[str, str, str, Severity]]:
    """What the checks of the record found, each whole."""
    found = [v for v in report.violations if not _refusal(v)]
    return {(v.code, v.path, v.message, v.severity) for v in found}


def _lifecycle_codes(profile: str) -> list[str]:
    """The codes of the lifecycle rules that are errors under `profile`."""
    resolved = resolve(profile)
    return [
        rule.code
        for rule in RULES
        if rule.stage is Stage.PAYLOAD and rule.severity_under(resolved) is Severity.ERROR
    ]


Broken = tuple[dict[str, Any], tuple[str, ...], Any, "str | None", str]


@st.composite
def _broken(draw: st.DrawFn) -> Broken:
    """A payload of the engine's, maybe with one lifecycle rule broken (`invalid_payloads`),
    a place no check of that rule reads, a value of the wrong type to put there, the code,
    and the profile."""
    profile = draw(st.sampled_from(PROFILES))
    code = draw(st.none() | st.sampled_from(_lifecycle_codes(profile)))
    if code is None:
        payload = draw(bst.payloads(profile=profile))
        read: frozenset[str] = frozenset()
    else:
        payload, _ = draw(bst.invalid_payloads(code=code, profile=profile))
        read = _top_keys_read(code, profile)
    site = draw(st.sampled_from([s for s in SITES if s[0] not in read]))
    # compat reads a fractional timestamp as its second: no wrong type there.
    stamp = resolve(profile).quirks and site in _STAMP_SITES
    wrong = draw(WRONG_TYPES.filter(lambda value: not (stamp and type(value) is float)))
    return payload, site, wrong, code, profile


class TestProperties:
    """Over the engine's payloads, with a value of the wrong type at any place."""

    @given(_broken())
    def test_wrong_type_and_lifecycle_problem_both_reported(self, case: Broken) -> None:
        """The wrong type is field.type at its path, and the lifecycle rule broken elsewhere
        is reported beside it, whichever rule it is."""
        payload, site, value, code, profile = case
        report = validate(_with(payload, site, value), profile=profile)
        path = "$." + ".".join(site)
        assert ("field.type", path) in _pairs(report)
        if code is not None:
            assert code in {code for code, _ in _pairs(report)}
        readable_id = None if site == ("id",) else payload["id"]
        assert (report.batch, report.batch_id) == (None, readable_id)

    @given(_broken())
    def test_only_checks_reading_the_refused_value_are_lost(self, case: Broken) -> None:
        """Beside the decode problem, the report holds only what the intact payload's report
        holds, and all of it but what the rules reading the broken key found."""
        payload, site, value, _, profile = case
        intact = validate(payload, profile=profile)
        broken = validate(_with(payload, site, value), profile=profile)
        assert intact.batch is not None
        assert _lifecycle(broken) <= _lifecycle(intact)
        spared = {
            found
            for found in _lifecycle(intact)
            if site[0] not in _top_keys_read(found[0], profile)
        }
        assert spared <= _lifecycle(broken)

    @given(
        bst.payloads(),
        st.sampled_from([*SITES, ("x_unknown",), ("errors", "data", "0"), ("metadata", "k")]),
        json_values,
        st.sampled_from(PROFILES),
    )
    def test_any_value_anywhere_is_answered(
        self, payload: dict[str, Any], site: tuple[str, ...], value: Any, profile: str
    ) -> None:
        """Any JSON value at any place, as a mapping or as text, gives a well-formed report."""
        changed = _with(payload, site, value)
        for data in _forms(changed):
            _check_report(validate(data, profile=profile))


def _check_report(report: batchfsm.Report) -> None:
    """A report is serialisable, and holds a record exactly when nothing was refused."""
    assert isinstance(report, batchfsm.Report)
    json.dumps(report.to_dict())
    assert (report.batch is None) == any(_refusal(v) for v in report.errors)


class TestRepair:
    """Every value the codec refuses has a stand-in the codec reads."""

    @given(
        bst.payloads(),
        st.lists(st.tuples(st.sampled_from(SITES), json_values), min_size=1, max_size=4),
    )
    def test_stand_ins_decode(
        self, payload: dict[str, Any], changes: list[tuple[tuple[str, ...], Any]]
    ) -> None:
        """After repair, compat reads the payload; a top-level value refused is hidden, and
        each fact hidden is read at or below a place a violation named."""
        for site, value in changes:
            payload = _with(payload, site, value)
        normalized, _, _ = normalize(payload)
        token = exact_pass.set(True)  # Python values, as validate reads a mapping
        try:
            read_normalized(normalized)
        except PayloadError as error:
            refused = error.violations
        else:
            return
        finally:
            exact_pass.reset(token)
        before = copy.deepcopy(normalized)
        repaired = repair(normalized, refused)
        assert repaired is not None
        stand_ins, hidden = repaired
        token = exact_pass.set(True)
        try:
            read_normalized(stand_ins)
        finally:
            exact_pass.reset(token)
        assert normalized == before
        paths = {v.path for v in refused}
        for fact, (parent, attribute) in FACTS.items():
            top = "$." + (parent or attribute)
            below = any(p == top or p.startswith((top + ".", top + "[")) for p in paths)
            assert fact not in hidden or below
            if parent is None and top in paths:
                assert fact in hidden

    @pytest.mark.parametrize(
        ("path", "hidden"),
        [
            ("$.status", {"status"}),
            ("$.request_counts", {"total", "completed", "failed"}),
            ("$.request_counts.failed", {"failed"}),
            ("$.usage.input_tokens_details", {"cached_tokens"}),
            ("$.usage.output_tokens_details.reasoning_tokens", {"reasoning_tokens"}),
            ("$.errors.object", set()),
            ("$.errors.data[7].line", {"errors"}),
            ("$.metadata['a.b']", {"metadata"}),
            ("$.metadata[1]", {"metadata"}),
        ],
    )
    def test_hidden_facts(self, path: str, hidden: set[str]) -> None:
        """A refused value hides the facts read from it: a record's, its own, or the whole
        array or map it is an item of."""
        payload = {**base_payload(), "errors": {"object": "list", "data": []}}
        repaired = repair(payload, [Violation("field.type", path, "x")])
        assert repaired is not None
        assert repaired[1] == hidden

    @pytest.mark.parametrize("path", ["$", "$.x_unknown", "$.metadata_x", "$.status.x"])
    def test_paths_of_no_field(self, path: str) -> None:
        """A path no field of the codec has is not repaired."""
        assert repair(base_payload(), [Violation("field.type", path, "x")]) is None

    def test_a_record_that_is_not_an_object(self) -> None:
        """A violation inside a record that is no object is not repaired."""
        payload = {**base_payload(), "request_counts": 5}
        assert repair(payload, [Violation("field.type", "$.request_counts.total", "x")]) is None

    def test_only_the_records_on_the_way_are_copied(self) -> None:
        """Records with nothing refused in them are shared, not copied."""
        payload = base_payload()
        repaired = repair(payload, [Violation("field.type", "$.usage.total_tokens", "x")])
        assert repaired is not None
        stand_ins = repaired[0]
        assert stand_ins["request_counts"] is payload["request_counts"]
        assert stand_ins["usage"] is not payload["usage"]
        assert (
            stand_ins["usage"]["input_tokens_details"] is payload["usage"]["input_tokens_details"]
        )
        assert stand_ins["usage"]["total_tokens"] == 0


class _Uncopyable(Mapping[str, object]):
    """A caller's mapping that can be read key by key, but not copied."""

    def __getitem__(self, key: str) -> object:
        return "x"

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("cannot iterate")

    def __len__(self) -> int:
        return 3


class TestRepairOfHostileMappings:
    def test_an_uncopyable_mapping_gives_no_stand_ins(self) -> None:
        """A refused value inside a mapping that raises when copied leaves the payload
        unrepaired (its refusal is still reported) instead of raising."""
        value = {**base_payload(), "request_counts": _Uncopyable()}
        refused = [Violation("field.type", "$.request_counts.total", "expected integer")]
        assert repair(value, refused) is None
