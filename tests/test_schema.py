"""batchfsm.json_schema(): the wire object as JSON Schema 2020-12, generated from the record
and the rule registry, checked with the reference validator (jsonschema) against what
`validate` says of the same payloads."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import (  # type: ignore[import-untyped]
    Draft202012Validator,
    ValidationError,
    validators,
)

import batchfsm
from batchfsm import RULES, ArgumentError, Profile, Rule, Severity, Stage, Status
from batchfsm._checks import concrete
from batchfsm._compat import _STATUS_ALIASES, _STATUS_VALUES, _status, _window
from batchfsm._examples import base_payload
from batchfsm._profile import PRESETS
from batchfsm._record import DEPTHS, window_seconds, wire_keys, wire_names
from batchfsm._schema import _QUIRKS, DIALECT, VIOLATIONS_PAGE, _status_spellings, generated
from batchfsm._table import INITIAL, reachable, transitions_for
from batchfsm.strategies import invalid_payloads, payloads

ROOT = Path(__file__).parent.parent
PAYLOADS = Path(__file__).parent / "payloads"
PROFILES = tuple(PRESETS)
_ERROR = Severity.ERROR


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    # JSON Schema's patterns are ECMA-262 regular expressions, whose `$` ends the input;
    # Python's re also lets `$` match before a final newline. Read the patterns as ECMA does.
    if validator.is_type(instance, "string"):
        ecma = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
        if not re.search(ecma, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")


Ecma202012Validator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@functools.cache
def validator(profile: str) -> Any:
    """The reference validator of the profile's schema (patterns read as ECMA-262)."""
    return Ecma202012Validator(batchfsm.json_schema(profile))


def refused(profile: str, payload: Any) -> bool:
    return not validator(profile).is_valid(payload)


def error_codes(report: batchfsm.Report) -> set[str]:
    return {v.code for v in report.violations if v.severity is _ERROR}


def _profile_codes(profile: str) -> set[str]:
    """The codes that are errors under `profile` (a payload rule's when one of its checks
    is), but for the encoders' and the providers'."""
    resolved = PRESETS[profile]
    checked = {c.rule.code for c in concrete(resolved) if c.severity is _ERROR}
    return checked | {
        rule.code
        for rule in RULES
        if rule.severity_under(resolved) is _ERROR and rule.stage in (Stage.DECODE, Stage.HISTORY)
    }


def _required(found: dict[str, Any]) -> set[str]:
    """The keys an object schema requires: listed, or (compat) under one of two spellings."""
    spelled = {
        clause["anyOf"][0]["required"][0]
        for clause in found.get("allOf", [])
        if "required" in clause["anyOf"][1]
    }
    return set(found["required"]) | spelled


class TestDocument:
    @pytest.mark.parametrize("profile", PROFILES)
    def test_is_a_valid_2020_12_schema(self, profile: str) -> None:
        """Each profile's schema is valid under the 2020-12 meta-schema and says so."""
        schema = batchfsm.json_schema(profile)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == DIALECT == Draft202012Validator.META_SCHEMA["$id"]

    def test_a_fresh_json_document_each_call(self) -> None:
        """It is plain JSON data, and a caller's change to it does not reach the next call."""
        schema = batchfsm.json_schema()
        assert json.loads(json.dumps(schema)) == schema
        schema["$defs"].clear()
        assert batchfsm.json_schema()["$defs"]
        assert batchfsm.json_schema() == batchfsm.json_schema(Profile.OPENAI)

    @pytest.mark.parametrize("profile", ["lenient", None, 3])
    def test_an_unknown_profile_is_an_argument_error(self, profile: Any) -> None:
        """A profile that is neither a Profile nor a preset's name raises ArgumentError."""
        with pytest.raises(ArgumentError):
            batchfsm.json_schema(profile)

    @pytest.mark.parametrize("profile", PROFILES)
    def test_every_error_code_is_stated_or_named(self, profile: str) -> None:
        """Every error code of the profile is either stated by the schema or named in its
        description as beyond a schema (a rule between fields, of some statuses, or of
        histories), with the link to the violation codes."""
        result = generated(PRESETS[profile])
        assert result.said | result.unsaid == _profile_codes(profile)
        assert not result.said & result.unsaid
        description = result.schema["description"]
        for code in result.unsaid:
            assert re.search(rf"\b{re.escape(code)}\b", description), code
        for code in result.said:
            assert code not in description
        assert VIOLATIONS_PAGE in description
        assert (ROOT / VIOLATIONS_PAGE.rpartition("/main/")[2]).is_file()

    def test_the_lifecycle_rules_are_named_not_stated(self) -> None:
        """What only the lifecycle says (stamps of a status, counts against each other,
        histories) is named; what one value says (a bound, a limit) is stated."""
        result = generated(Profile.OPENAI)
        assert {"stamp.missing", "counts.exceeds_total", "history.unreachable"} <= result.unsaid
        assert {"counts.negative", "metadata.too_many", "object.invalid"} <= result.said

    def test_every_quirk_rule_widens_it(self) -> None:
        """Each compat.* rule has its widening: a new quirk cannot leave compat's schema
        refusing what compat reads."""
        assert set(_QUIRKS) == {rule.code for rule in RULES if rule.quirk}


def batch_object(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema's object of a batch."""
    found: dict[str, Any] = schema["$defs"]["Batch"]
    return found


class TestFromTheRecord:
    @pytest.mark.parametrize("profile", PROFILES)
    def test_one_object_per_record_with_its_keys(self, profile: str) -> None:
        """Each record class is one object schema with its wire keys as properties, and
        every object allows unknown keys (batchfsm keeps them). The document is a batch;
        under compat, also a list of them."""
        schema = batchfsm.json_schema(profile)
        classes = {cls.__name__: cls for cls in DEPTHS}
        listed = {"BatchList"} if PRESETS[profile].quirks else set()
        assert set(schema["$defs"]) == set(classes) | listed
        for name, cls in classes.items():
            found = schema["$defs"][name]
            assert list(found["properties"]) == wire_names(cls)
            assert found["additionalProperties"] is True
        batch = {"$ref": "#/$defs/Batch"}
        if listed:
            assert schema["anyOf"] == [batch, {"$ref": "#/$defs/BatchList"}]
        else:
            assert schema["$ref"] == batch["$ref"]

    @pytest.mark.parametrize("profile", PROFILES)
    def test_required_keys_are_the_record_s(self, profile: str) -> None:
        """The required keys are the record's, but for those whose absence validate accepts
        (compat reads a missing endpoint), and for those whose absence is an error of a rule
        (expires_at.missing, but under compat)."""
        schema = batchfsm.json_schema(profile)
        required = _required(batch_object(schema))
        record, _ = wire_keys(batchfsm.Batch)
        for key in required ^ record:
            payload = base_payload()
            del payload[key]
            report = batchfsm.validate(payload, profile=profile)
            assert report.ok == (key in record), (key, report.violations)
        assert required ^ record
        for name, found in schema["$defs"].items():
            cls = next((cls for cls in DEPTHS if cls.__name__ == name), None)
            if cls is not None and cls is not batchfsm.Batch:
                assert _required(found) == wire_keys(cls)[0]

    @pytest.mark.parametrize("profile", PROFILES)
    def test_statuses_are_those_the_profile_reaches(self, profile: str) -> None:
        """The status enum lists the statuses a batch can reach under the profile, in the
        order of Status."""
        status = batch_object(batchfsm.json_schema(profile))["properties"]["status"]
        enum = status["enum"] if "enum" in status else status["anyOf"][0]["enum"]
        reached = reachable(transitions_for(profile), INITIAL)
        assert enum == [s.value for s in Status if s in reached]

    @pytest.mark.parametrize("profile", PROFILES)
    def test_integer_bounds_agree_with_batchfsm(self, profile: str) -> None:
        """At each end of the integers the schema takes in a place, the schema and validate
        both accept the value, and just past it both refuse it (with a code the schema
        states)."""
        said = generated(PRESETS[profile]).said
        places = 0
        for path, spans in _integer_spans(batchfsm.json_schema(profile)):
            places += 1
            ends = {end for span in spans for end in span}
            outside = {end + step for end in ends for step in (-1, 1)}
            outside = {n for n in outside if not any(low <= n <= high for low, high in spans)}
            for value, ok in [*((end, True) for end in ends), *((n, False) for n in outside)]:
                payload = _setting(base_payload(), path, value)
                report = batchfsm.validate(payload, profile=profile)
                there = "$." + ".".join(path)
                stated = {v.code for v in report.violations if v.path == there and v.code in said}
                assert (not stated) == ok, (path, value, report.violations)
                assert refused(profile, payload) == (not ok), (path, value)
        assert places == len(list(_integers(base_payload())))

    @pytest.mark.parametrize("profile", PROFILES)
    def test_metadata_limits_agree_with_batchfsm(self, profile: str) -> None:
        """Metadata at its limits (pairs, key and value lengths) passes both; one more
        pair or character fails both."""
        metadata = batch_object(batchfsm.json_schema(profile))["properties"]["metadata"]
        pairs = metadata["maxProperties"]
        key = metadata["propertyNames"]["maxLength"]
        value = metadata["additionalProperties"]["maxLength"]
        cases = [
            ({f"k{i}": "v" for i in range(pairs)}, True),
            ({f"k{i}": "v" for i in range(pairs + 1)}, False),
            ({"k" * key: "v" * value}, True),
            ({"k" * (key + 1): "v"}, False),
            ({"k": "v" * (value + 1)}, False),
        ]
        for given_metadata, ok in cases:
            payload = {**base_payload(), "metadata": given_metadata}
            assert batchfsm.validate(payload, profile=profile).ok == ok
            assert refused(profile, payload) == (not ok)


def _integers(value: Any) -> Iterator[int]:
    """Every integer in a JSON value."""
    if type(value) is int:
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _integers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _integers(item)


def _types(schema: dict[str, Any]) -> set[str]:
    kinds = schema.get("type", [])
    return {kinds} if isinstance(kinds, str) else set(kinds)


def _integer_spans(
    schema: dict[str, Any],
) -> Iterator[tuple[tuple[str, ...], list[tuple[int, int]]]]:
    """The path of each integer the base payload holds, with the spans of integers the
    schema takes there (one per option that takes integers)."""

    def span(option: dict[str, Any]) -> tuple[int, int]:
        low = option.get("minimum", option.get("exclusiveMinimum", -(2**70)) + 1)
        high = option.get("maximum", option.get("exclusiveMaximum", 2**70) - 1)
        return low, high

    def walk(
        value: Any, found: dict[str, Any], path: tuple[str, ...]
    ) -> Iterator[tuple[tuple[str, ...], list[tuple[int, int]]]]:
        for key, item in value.items():
            prop = found["properties"].get(key)
            if prop is None or item is None:
                continue
            options = prop.get("anyOf", [prop])
            ref = next((o["$ref"] for o in options if "$ref" in o), None)
            if ref is not None:
                yield from walk(item, schema["$defs"][ref.rpartition("/")[2]], (*path, key))
            elif type(item) is int:
                numbers = [o for o in options if {"integer", "number"} & _types(o)]
                yield (*path, key), [span(option) for option in numbers]

    yield from walk(base_payload(), batch_object(schema), ())


def _setting(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    where = payload
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    return payload


# -- payloads: what the schema accepts, validate accepts --------------------------------------


class TestValidPayloads:
    @pytest.mark.parametrize("profile", PROFILES)
    @given(data=st.data())
    def test_every_valid_payload_passes(self, profile: str, data: st.DataObject) -> None:
        """Every valid payload the strategies draw under a profile (unknown keys and absent
        optional keys included) passes that profile's schema."""
        payload = data.draw(payloads(profile=profile))
        errors = [e.message for e in validator(profile).iter_errors(payload)]
        assert not errors, (payload, errors)

    @pytest.mark.parametrize("profile", PROFILES)
    def test_published_payloads(self, profile: str) -> None:
        """Each published payload in tests/payloads passes a profile's schema when validate
        accepts it under that profile, and fails it when validate reports a code the schema
        states."""
        said = generated(PRESETS[profile]).said
        passed = 0
        for path in sorted(PAYLOADS.glob("*.json")):
            document = json.loads(path.read_bytes())
            # A history's file holds its snapshots, each a payload.
            for payload in document if isinstance(document, list) else [document]:
                report = batchfsm.validate(payload, profile=profile)
                if report.ok:
                    assert not refused(profile, payload), path.name
                    passed += 1
                if error_codes(report) & said:
                    assert refused(profile, payload), path.name
        assert passed >= {"strict": 1, "openai": 3, "compat": 6}[profile]


def _catalog() -> list[tuple[Rule, str]]:
    return [
        (rule, profile)
        for rule in RULES
        if rule.stage in (Stage.DECODE, Stage.PAYLOAD)
        for profile in PROFILES
    ]


class TestInvalidPayloads:
    @pytest.mark.parametrize(
        ("rule", "profile"), _catalog(), ids=[f"{r.code}-{p}" for r, p in _catalog()]
    )
    def test_the_catalog_s_examples(self, rule: Rule, profile: str) -> None:
        """Every example of the catalog fails a profile's schema when validate reports a
        code the schema states as an error, and passes it when validate finds no error
        (the compat spellings, the warnings): so every type and shape code's example fails
        the schema of each profile under which it is an error."""
        example = rule.build_example()
        report = batchfsm.validate(example, profile=profile)
        if isinstance(example, bytes):
            try:
                example = json.loads(example.decode("utf-8"))
            except ValueError:  # not JSON text (compat reads some: a byte order mark before it)
                assert rule.code.startswith("json.") or rule.quirk, rule.code
                assert not report.ok or PRESETS[profile].quirks
                return
        said = generated(PRESETS[profile]).said
        if error_codes(report) & said:
            assert refused(profile, example), report.violations
        if report.ok:
            assert not refused(profile, example), report.violations
        if rule.stage is Stage.DECODE and rule.severity_under(PRESETS[profile]) is _ERROR:
            assert rule.code in said

    def test_each_type_and_shape_example_is_refused_somewhere(self) -> None:
        """Every type and shape code's example that is JSON fails the openai schema."""
        for rule in RULES:
            if rule.stage is Stage.DECODE and not rule.quirk:
                example = rule.build_example()
                if not isinstance(example, bytes):
                    assert refused("openai", example), rule.code
                elif rule.code == "json.not_object":
                    assert refused("openai", json.loads(example))

    @pytest.mark.parametrize("profile", PROFILES)
    @given(data=st.data())
    def test_broken_payloads_of_stated_codes_fail(self, profile: str, data: st.DataObject) -> None:
        """A valid payload with one rule broken that the schema states (invalid_payloads)
        fails the schema: a type, a key, a range, a limit, a constant."""
        said = generated(PRESETS[profile]).said
        payload, code = data.draw(invalid_payloads(profile=profile))
        if isinstance(payload, bytes):
            try:
                payload = json.loads(payload.decode("utf-8"))
            except ValueError:  # not JSON text: no schema applies
                assert code.startswith("json."), code
                return
        if code in said:
            assert refused(profile, payload), (code, payload)


_READ_STATUSES = [*(status.value for status in Status), *_STATUS_ALIASES]


class TestCompatSpellings:
    _words = st.sampled_from(_READ_STATUSES).map(lambda value: value.split("_"))
    _separators = st.sampled_from(["_", " ", "-", "", " - ", "__", "\t", "_ ", "--", "\n"])

    @given(
        words=_words,
        cases=st.lists(st.booleans(), min_size=12, max_size=12),
        separator=_separators,
        before=st.sampled_from(["", " ", "\t", "\n", "_", "x"]),
        after=st.sampled_from(["", " ", "\n", "-", "s"]),
    )
    def test_the_status_pattern_is_what_compat_reads(
        self, words: list[str], cases: list[bool], separator: str, before: str, after: str
    ) -> None:
        """compat's status patterns match a spelling exactly when compat reads it as a
        status, or as another service's name of one (any casing of the words, any
        separator, blanks around)."""
        text = separator.join(words)
        spelled = "".join(c.upper() if up else c for c, up in zip(text, cases, strict=False))
        spelled = before + spelled + text[len(cases) :] + after
        pattern = _status_spellings(_READ_STATUSES)
        matches = _ecma_pattern(Draft202012Validator({}), pattern, spelled, {})
        read = _status(spelled) in {*_STATUS_VALUES, *_STATUS_ALIASES}
        assert (next(matches, None) is None) == read, spelled

    @given(
        number=st.sampled_from(["24", "7", "0", "1000000", "999999", "012", "1"]),
        unit=st.sampled_from(["h", "hr", "hrs", "hour", "hours", "d", "day", "days", "m", ""]),
        cases=st.lists(st.booleans(), min_size=5, max_size=5),
        long_s=st.booleans(),
        gap=st.sampled_from(["", " ", "\t", "-"]),
        around=st.sampled_from(["", " ", "\n"]),
    )
    def test_the_window_patterns_are_what_compat_reads(
        self, number: str, unit: str, cases: list[bool], long_s: bool, gap: str, around: str
    ) -> None:
        """compat's window schema takes a spelling exactly when compat reads it as a window
        (in hours or days, any case, blanks around; even the long s Python's re folds)."""
        unit = "".join(c.upper() if up else c for c, up in zip(unit, cases, strict=False))
        if long_s:
            unit = unit.replace("s", "\u017f")
        window = around + number + gap + unit + around
        schema = batch_object(batchfsm.json_schema("compat"))["properties"]["completion_window"]
        taken = Ecma202012Validator(schema).is_valid(window)
        assert taken == (window_seconds(_window(window, [])) is not None), window

    @pytest.mark.parametrize("path", sorted(PAYLOADS.glob("00[56]_*.json")), ids=lambda p: p.name)
    def test_azure_s_spellings_pass_compat_only(self, path: Path) -> None:
        """Azure's create and retrieve outputs (a capitalised status, ISO times, null counts,
        no endpoint) pass the compat schema and fail openai's."""
        payload = json.loads(path.read_bytes())
        assert batchfsm.validate(payload, profile="compat").ok
        assert not refused("compat", payload)
        assert refused("openai", payload)

    def test_camel_case_keys_stand_for_their_snake_case_names(self) -> None:
        """Under compat a camelCase key is read as its snake_case name, unless that name is
        there too (then it is an unknown key, which may hold anything)."""
        payload = base_payload()
        payload["inputFileId"] = payload.pop("input_file_id")
        payload["usage"]["inputTokensDetails"] = payload["usage"].pop("input_tokens_details")
        assert batchfsm.validate(payload, profile="compat").ok
        assert not refused("compat", payload)
        assert refused("openai", payload)
        broken = copy.deepcopy(payload)
        broken["inputFileId"] = 5
        assert refused("compat", broken)
        both = {**base_payload(), "inputFileId": 5}
        assert batchfsm.validate(both, profile="compat").ok
        assert not refused("compat", both)
