"""The code generated from the rules: visible to tracebacks and debuggers, and the same
checks for the validator and the engine."""

from __future__ import annotations

import inspect
import linecache
import re
import traceback

import pytest

import batchfsm
from batchfsm import Lifecycle, Profile, Status
from batchfsm._checks import _names, checker, concrete, guard_lines, guards, writer
from batchfsm._examples import base_payload
from batchfsm._rules import DERIVED, FACTS
from batchfsm._table import CREATE, RECORD_PROGRESS, transitions_for

from helpers.driving import Clock, batch_in

PROFILES = (Profile.STRICT, Profile.OPENAI, Profile.COMPAT)


class TestGeneratedSource:
    @pytest.mark.parametrize("partial", [False, True])
    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_checker_source_is_in_linecache(self, profile: Profile, partial: bool) -> None:
        """inspect.getsource shows each generated checker, with every check's condition."""
        source = inspect.getsource(checker(profile, partial=partial))
        filename = checker(profile, partial=partial).__code__.co_filename
        assert filename.startswith("<batchfsm generated check")
        assert "".join(linecache.getlines(filename)) == source
        for item in concrete(profile):
            assert item.check.when in source

    def test_engine_steps_are_in_linecache(self) -> None:
        """The engine's generated steps can be read back as well."""
        lifecycle = Lifecycle(Clock())
        for _edge, step in lifecycle._steps.values():
            assert "def step(batch, now, changes):" in inspect.getsource(step)

    def test_a_traceback_shows_the_generated_line(self) -> None:
        """A failure inside generated code shows the line it failed on (a record whose
        created_at was set by hand to a string, checked without the wire round trip)."""
        batch = batchfsm.structure(base_payload())
        batch.created_at = "soon"  # type: ignore[assignment]
        with pytest.raises(TypeError) as info:
            checker(Profile.OPENAI)(batch)
        frames = traceback.extract_tb(info.value.__traceback__)
        assert frames[-1].line is not None
        assert "created_at" in frames[-1].line


class TestPartial:
    def test_unknown_facts_skip_their_checks(self) -> None:
        """The partial checker skips a check that reads an unknown fact, runs the others."""
        payload = {**base_payload(), "completed_at": 1, "metadata": {"k" * 65: "v"}}
        batch = batchfsm.structure(payload)
        full = {v.code for v in checker(Profile.OPENAI)(batch)}
        assert full == {"stamp.order", "metadata.key_too_long"}
        concrete.cache_clear()  # made again, by the code as it is now
        check = checker.__wrapped__(Profile.OPENAI, partial=True)
        assert {v.code for v in check(batch, frozenset())} == full
        assert {v.code for v in check(batch, frozenset({"metadata"}))} == {"stamp.order"}
        assert {v.code for v in check(batch, frozenset({"status"}))} == {"metadata.key_too_long"}


class TestSameRules:
    @pytest.mark.parametrize("status", list(Status), ids=str)
    def test_engine_batches_pass_the_checker(self, status: Status) -> None:
        """A batch the engine drove to any status passes the generated checks of its profile."""
        for profile in (Profile.STRICT, Profile.OPENAI):
            try:
                _, batch = batch_in(status, Lifecycle(Clock(), profile=profile))
            except batchfsm.IllegalTransition:  # pragma: no cover - every status is reachable
                raise
            assert checker(profile)(batch) == []


class TestFreshlyGenerated:
    """The checks generated when the test runs (not those built at import), held to the
    registry's promises: so a change to how they are generated shows up here."""

    @pytest.mark.parametrize("partial", [False, True])
    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_each_example_is_reported_alone(self, profile: Profile, partial: bool) -> None:
        """A checker generated now reports each payload rule's example with exactly that
        rule's code and the severity it has under the profile."""
        concrete.cache_clear()  # made again, by the code as it is now
        check = checker.__wrapped__(profile, partial=partial)
        for rule in batchfsm.RULES:
            severity = rule.severity_under(profile)
            if rule.stage is not batchfsm.Stage.PAYLOAD or severity is None:
                continue
            batch = batchfsm.structure(rule.build_example())
            found = check(batch, frozenset()) if partial else check(batch)
            assert found == checker(profile)(batch)  # paths and messages too
            codes = {(v.code, v.severity) for v in found}
            assert codes == {(rule.code, severity)}, (rule.code, found)
        assert check(batchfsm.structure(base_payload()), *([frozenset()] if partial else [])) == []


class TestReads:
    """Each check knows exactly which facts it reads: the partial checker skips a check by
    them, and the prelude reads no more than the checks need."""

    @pytest.mark.parametrize(
        ("code", "path", "reads"),
        [
            ("counts.exceeds_total", "$.request_counts", {"total", "completed", "failed"}),
            (
                "expires_at.window",
                "$.expires_at",
                {"expires_at", "created_at", "completion_window", "window"},
            ),
            ("stamp.missing", "$.failed_at", {"failed_at", "status"}),
            ("metadata.key_too_long", "$.metadata", {"metadata"}),
            ("errors.missing", "$.errors", {"errors", "status"}),
            ("errors.unexpected", "$.errors", {"errors", "status"}),
            ("object.invalid", "$.object", {"object"}),
        ],
    )
    def test_reads(self, code: str, path: str, reads: set[str]) -> None:
        """A check reads the facts of its condition, the fact an `over` rule
        ranges over, the status where it is checked in some statuses only, and what a
        derived fact is made from."""
        concrete.cache_clear()
        (item,) = [
            i for i in concrete(Profile.OPENAI) if i.rule.code == code and i.check.path == path
        ][:1]
        assert item.reads == reads

    def test_a_check_of_every_status_reads_no_status(self) -> None:
        """A check that holds in every status does not read the status."""
        concrete.cache_clear()
        for item in concrete(Profile.OPENAI):
            if item.statuses is None and "status" not in item.check.when + item.check.message:
                assert "status" not in item.reads, item.rule.code

    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_payloads_beyond_the_examples(self, profile: Profile) -> None:
        """On payloads the examples do not cover (an unreadable window, stamps out of
        order in a status that cannot carry one of them, a negative reasoning count), a
        checker generated now reports what the imported one does, severity included."""
        concrete.cache_clear()
        fresh = checker.__wrapped__(profile)
        base = base_payload()
        validating = {
            **base,
            "status": "validating",
            "in_progress_at": base["created_at"] - 10,
            "finalizing_at": None,
            "completed_at": None,
        }
        usage = {**base["usage"], "output_tokens_details": {"reasoning_tokens": -1}}
        # The last check of every status breaks, and so does one of the status's own.
        reasoning = base["usage"]["output_tokens"] + 1
        both = {
            **base,
            "completed_at": None,
            "usage": {**base["usage"], "output_tokens_details": {"reasoning_tokens": reasoning}},
        }
        for payload in (
            {**base, "completion_window": "soon"},
            validating,
            {**base, "usage": usage},
            both,
        ):
            batch = batchfsm.structure(payload)
            found = fresh(batch)
            assert found
            assert found == checker(profile)(batch)
        (window,) = fresh(batchfsm.structure({**base, "completion_window": "soon"}))
        assert window.severity is batchfsm.Severity.ERROR


class TestGeneratedShape:
    """What the generated code reads, and from where."""

    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_messages_read_what_conditions_read(self, profile: Profile) -> None:
        """A message names no fact its condition does not read, so skipping a check by
        what its condition reads never runs a message on a stand-in."""
        concrete.cache_clear()
        for item in concrete(profile):
            named = _names("f" + repr(item.check.message)) & (FACTS.keys() | DERIVED.keys())
            assert named <= item.reads, item.rule.code

    @pytest.mark.parametrize("partial", [False, True])
    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_each_fact_read_once(self, profile: Profile, partial: bool) -> None:
        """The generated check reads each fact (and each record holding facts) once."""
        concrete.cache_clear()
        source = inspect.getsource(checker.__wrapped__(profile, partial=partial))
        reads = re.findall(r"^    (\w+) = ", source, flags=re.MULTILINE)
        assert len(reads) == len(set(reads))
        assert {"request_counts_", "status", "created_at"} <= set(reads)

    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_an_edge_guard_sees_its_destination(self, profile: Profile) -> None:
        """An edge's guard reads the batch as it will be: the destination status and the
        new stamp, everything else from the changes or the batch, and no status branch."""
        concrete.cache_clear()
        for edge in transitions_for(profile):
            lines = guard_lines(profile, edge, writer())
            if not lines:
                continue
            assert not any(line.startswith(("if status is", "elif status")) for line in lines)
            assignments = dict(line.split(" = ", 1) for line in lines if " = " in line[:30])
            if "status" in assignments:
                assert assignments["status"] == edge.dest.name
            if edge.stamp in assignments:
                assert assignments[edge.stamp] == "stamp"
            for name, value in assignments.items():
                if name in FACTS and FACTS[name][0] is None and name not in ("status", edge.stamp):
                    assert value == f"changes.get({name!r}, batch.{name})"

    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_operation_guards_hold_in_every_status(self, profile: Profile) -> None:
        """An operation keeps the batch's status, so its guards are unbranched: each holds
        in every status, and reads the batch's own values where the change has none."""
        concrete.cache_clear()
        for operation in (CREATE, RECORD_PROGRESS):
            assert all(item.statuses is None for item in guards(profile, operation))
            lines = guard_lines(profile, operation, writer())
            assert lines
            for line in lines:
                name, _, value = line.partition(" = ")
                if name in FACTS and FACTS[name][0] is None:
                    assert value == f"changes.get({name!r}, batch.{name})"
