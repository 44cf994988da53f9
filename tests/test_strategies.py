"""The Hypothesis strategies: every output valid, or broken exactly as promised."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import batchfsm
from batchfsm import (
    EVENTS,
    PROFILES,
    RULES,
    ArgumentError,
    Batch,
    Event,
    GuardError,
    Lifecycle,
    Profile,
    Severity,
    Stage,
    Status,
)
from batchfsm import strategies as bst
from batchfsm._profile import resolve
from batchfsm._rules import BY_CODE
from batchfsm._table import RECORD_PROGRESS, lifeline, transitions_for

# Each drawn example drives the engine; one property per code and profile keeps a few.
_FEW = settings(max_examples=4)


def _errors_of(report: batchfsm.Report) -> set[str]:
    return {violation.code for violation in report.errors}


_PAYLOAD_STAGES = (Stage.DECODE, Stage.PAYLOAD)


def _can_be_error(rule: batchfsm.Rule, profile: str) -> bool:
    """Whether `validate` (`check_history`, for a history rule) reports `rule` as an error
    under `profile` for some payload: the rule is an error there, or one of its checks
    always is (an unreadable completion_window, whatever the profile)."""
    severity = rule.severity_under(resolve(profile))
    if severity is Severity.ERROR:
        return True
    line = lifeline(transitions_for(profile))
    return severity is not None and any(c.severity is Severity.ERROR for c in rule.checks(line))


_PRESETS = {"strict": Profile.STRICT, "openai": Profile.OPENAI, "compat": Profile.COMPAT}
_PAYLOAD_RULES = [rule for rule in RULES if rule.stage in _PAYLOAD_STAGES]
_HISTORY_RULES = [rule for rule in RULES if rule.stage is Stage.HISTORY]
_PAYLOAD_ERRORS = {p: [r.code for r in _PAYLOAD_RULES if _can_be_error(r, p)] for p in PROFILES}
_EVERY_PAYLOAD_ERROR = sorted({code for codes in _PAYLOAD_ERRORS.values() for code in codes})


class TestBatches:
    @given(bst.batches())
    def test_valid(self, batch: Batch) -> None:
        """Every generated batch validates with no error."""
        assert batchfsm.validate(batch).errors == ()

    @pytest.mark.parametrize("status", list(Status), ids=str)
    @given(data=st.data())
    def test_each_status(self, status: Status, data: st.DataObject) -> None:
        """batches(status=...) gives batches in that status, valid under strict too."""
        batch = data.draw(bst.batches(status=status, profile="strict"))
        assert batch.status is status
        assert batchfsm.validate(batch, profile=Profile.STRICT).errors == ()

    @given(st.from_type(Batch))
    def test_registered_for_from_type(self, batch: Batch) -> None:
        """st.from_type(Batch) gives valid batches through the hypothesis entry point."""
        assert batchfsm.validate(batch).errors == ()

    def test_unknown_profile(self) -> None:
        """An unknown profile is an ArgumentError at once, from every strategy."""
        for strategy in (bst.batches, bst.payloads, bst.histories, bst.invalid_payloads):
            with pytest.raises(ArgumentError):
                strategy(profile="azure")


class TestEventData:
    @given(data=st.data())
    def test_meets_the_guards(self, data: st.DataObject) -> None:
        """The data drawn for an event the batch's status allows passes the event's guards,
        but for an edge that waits for every request to be accounted for."""
        profile = data.draw(st.sampled_from(PROFILES))
        batch = data.draw(bst.batches(profile=profile))
        lifecycle = Lifecycle(profile=profile)
        events = [t.event for t in lifecycle.transitions if t.source is batch.status]
        if batch.status in RECORD_PROGRESS.statuses:
            events.append(RECORD_PROGRESS.event)
        for event in events:
            moved = copy.deepcopy(batch)
            kwargs = data.draw(bst._DATA[event](moved))
            counts = moved.request_counts
            assert counts is not None
            waiting = counts.completed + counts.failed < counts.total
            refused = None
            try:
                lifecycle.fire(moved, event, **kwargs)
            except GuardError as error:
                refused = error.code
            assert refused is None or (waiting and refused == "counts.unaccounted"), (event, kwargs)

    def test_every_event_fire_takes_has_data(self) -> None:
        """One entry per event of `Lifecycle.fire`: the edges' events and record_progress."""
        assert set(bst._DATA) == {*EVENTS, RECORD_PROGRESS.event}


class TestPayloads:
    @given(bst.payloads())
    def test_valid_and_lossless(self, payload: dict[str, Any]) -> None:
        """Generated payloads validate and round-trip through the codec unchanged."""
        assert batchfsm.validate(payload).errors == ()
        assert batchfsm.unstructure(batchfsm.structure(payload)) == payload

    @given(bst.payloads(as_bytes=True, unknown_keys=False, absent_keys=False))
    def test_as_bytes(self, payload: bytes) -> None:
        """as_bytes gives UTF-8 JSON text with every key present."""
        wire = json.loads(payload)
        assert "cancelled_at" in wire
        assert batchfsm.validate(payload).ok


class TestInvalidPayloads:
    @given(bst.invalid_payloads())
    def test_default_reports_its_code(self, pair: tuple[Any, str]) -> None:
        """With default arguments, validate says not ok and reports the pair's code."""
        payload, code = pair
        report = batchfsm.validate(payload)
        assert not report.ok
        assert code in _errors_of(report), report.violations

    @pytest.mark.parametrize("profile", PROFILES)
    @settings(max_examples=25)
    @given(data=st.data())
    def test_each_profile_reports_its_code(self, profile: str, data: st.DataObject) -> None:
        """Under profile=..., validate with that profile reports the pair's code as an error."""
        payload, code = data.draw(bst.invalid_payloads(profile=profile))
        report = batchfsm.validate(payload, profile=profile)
        assert not report.ok
        assert code in _errors_of(report), report.violations

    @pytest.mark.parametrize("code", _EVERY_PAYLOAD_ERROR)
    @_FEW
    @given(data=st.data())
    def test_every_code(self, code: str, data: st.DataObject) -> None:
        """Each code, under each profile it is an error in, is drawn and reported."""
        for profile in PROFILES:
            if code not in _PAYLOAD_ERRORS[profile]:
                continue
            # The strategy takes the Profile, validate its name: both forms mean the same.
            strategy = bst.invalid_payloads(code=code, profile=_PRESETS[profile])
            payload, drawn = data.draw(strategy)
            assert drawn == code
            report = batchfsm.validate(payload, profile=profile)
            assert not report.ok
            assert code in _errors_of(report), (profile, report.violations)

    @pytest.mark.parametrize("profile", PROFILES)
    def test_only_codes_that_can_be_errors(self, profile: str) -> None:
        """A code can be asked for exactly where validate can report it as an error: never a
        history or encoding code, a warning, or a quirk."""
        for rule in RULES:
            if rule.code in _PAYLOAD_ERRORS[profile]:
                bst.invalid_payloads(code=rule.code, profile=profile)
            else:
                with pytest.raises(ArgumentError):
                    bst.invalid_payloads(code=rule.code, profile=profile)

    def test_what_is_left_out(self) -> None:
        """The codes never drawn are warnings, quirks, history and encoding codes; an
        undocumented endpoint is an error under strict alone (a check of the test's oracle)."""
        for rule in RULES:
            if rule.code not in _EVERY_PAYLOAD_ERROR:
                assert (
                    rule.stage not in _PAYLOAD_STAGES
                    or rule.severity is Severity.WARNING
                    or rule.quirk
                )
        assert "endpoint.unknown" in _PAYLOAD_ERRORS["strict"]
        assert "endpoint.unknown" not in _PAYLOAD_ERRORS["openai"]
        assert "window.unknown" in _PAYLOAD_ERRORS["openai"]

    def test_unknown_code(self) -> None:
        """Asking for a code that does not exist is an ArgumentError."""
        with pytest.raises(ArgumentError):
            bst.invalid_payloads(code="nope")


class TestInvalidHistories:
    @given(bst.invalid_histories())
    def test_default_reports_its_code(self, pair: tuple[list[dict[str, Any]], str]) -> None:
        """With default arguments, check_history reports the pair's code as an error."""
        snapshots, code = pair
        report = batchfsm.check_history(snapshots)
        assert not report.ok
        assert code in _errors_of(report), report.violations

    @pytest.mark.parametrize("code", [rule.code for rule in _HISTORY_RULES])
    @_FEW
    @given(data=st.data())
    def test_every_code(self, code: str, data: st.DataObject) -> None:
        """Each history code, under each profile, is drawn and reported by check_history."""
        for profile in PROFILES:
            assert _can_be_error(BY_CODE[code], profile)
            snapshots, drawn = data.draw(bst.invalid_histories(code=code, profile=profile))
            assert drawn == code
            report = batchfsm.check_history(snapshots, profile=profile)
            assert code in _errors_of(report), (profile, report.violations)

    def test_only_history_codes(self) -> None:
        """A payload code or an unknown one is an ArgumentError."""
        for code in ("counts.negative", "nope"):
            with pytest.raises(ArgumentError):
                bst.invalid_histories(code=code)


class TestHistories:
    @given(bst.histories())
    def test_accepted(self, snapshots: list[dict[str, Any]]) -> None:
        """Generated histories pass check_history."""
        assert batchfsm.check_history(snapshots).errors == ()

    @given(bst.histories(profile="strict"))
    def test_strict_histories_use_documented_edges(self, snapshots: list[dict[str, Any]]) -> None:
        """Under strict, consecutive statuses are joined by documented edges only."""
        assert batchfsm.check_history(snapshots, profile="strict").errors == ()

    @given(bst.event_sequences())
    def test_event_sequences(self, events: list[Event]) -> None:
        """event_sequences draws the events Lifecycle.fire takes, as Event members."""
        assert all(type(event) is Event for event in events)
        assert set(events) <= {*EVENTS, RECORD_PROGRESS.event}


def test_importing_batchfsm_does_not_import_hypothesis() -> None:
    """The strategies live in their own module: `import batchfsm` stays Hypothesis-free."""
    code = "import sys, batchfsm; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_strategies_import_first_in_a_fresh_interpreter() -> None:
    """`import batchfsm.strategies` works before anything imported Hypothesis."""
    code = "import batchfsm.strategies as s; print(s.batches.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "batches"), result.stderr
