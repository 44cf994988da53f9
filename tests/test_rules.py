"""The rule registry: one Rule per code, each with an example that breaks it alone, and the
engine's guards drawn from the same rules as the validator's checks."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

import batchfsm
from batchfsm import RULES, TRANSITIONS, Profile, Rule, Severity, Stage, Status, Transition
from batchfsm._examples import base_payload
from batchfsm._rules import BY_CODE, DERIVED, FACTS, NAMES
from batchfsm._table import CREATE, RECORD_PROGRESS, Operation, lifeline, passed, transitions_for

STEPS: tuple[Transition | Operation, ...] = (*TRANSITIONS, CREATE, RECORD_PROGRESS)
PROFILES = (Profile.STRICT, Profile.OPENAI, Profile.COMPAT)


def _profile_for(rule: Rule) -> Profile:
    """A profile under which `rule` is reported (`from_provider`'s default for its rules)."""
    return Profile.COMPAT if rule.quirk or rule.stage is Stage.PROVIDER else Profile.OPENAI


def _report(rule: Rule, profile: Profile) -> batchfsm.Report:
    example = rule.build_example()
    if rule.stage is Stage.HISTORY:
        return batchfsm.check_history(example, profile=profile)
    if rule.stage is Stage.PROVIDER:
        if isinstance(example, list):  # a native history
            return batchfsm.check_history(example, profile=profile, provider="auto")
        return batchfsm.from_provider(example, profile=profile)
    return batchfsm.validate(example, profile=profile)


class TestRegistry:
    def test_codes_are_unique_and_dotted(self) -> None:
        """Each code names one rule, as family.name."""
        codes = [rule.code for rule in RULES]
        assert len(codes) == len(set(codes))
        assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", code) for code in codes)
        assert {rule.code: rule for rule in RULES} == BY_CODE

    @pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
    def test_example_breaks_exactly_its_rule(self, rule: Rule) -> None:
        """Every rule's example is reported with that code and no other, at the severity the
        rule has under the profile it is checked with."""
        profile = _profile_for(rule)
        report = _report(rule, profile)
        assert {v.code for v in report.violations} == {rule.code}, report.violations
        assert {v.severity for v in report.violations} == {rule.severity_under(profile)}

    def test_every_guard_is_a_validator_rule(self) -> None:
        """Every rule an edge or an operation guards with is a payload rule the validator
        checks, with an example that triggers it (the test above)."""
        guards = {rule for step in STEPS for rule in step.guards}
        assert guards
        for rule in guards:
            assert rule in RULES
            assert rule.stage is Stage.PAYLOAD, rule.code
            assert rule.when, rule.code

    def test_every_code_the_package_writes_is_registered(self) -> None:
        """Every code literal in the modules that report violations is a registered rule."""
        sources = ["_validate.py", "_strict.py", "_json.py", "_codec.py", "_compat.py"]
        sources += ["_providers.py"]
        package = Path(batchfsm.__file__).parent
        text = "".join((package / name).read_text() for name in sources)
        literals = set(re.findall(r'"((?:[a-z_]+)\.[a-z_]+)"', text))
        families = {rule.code.split(".")[0] for rule in RULES}
        codes = {code for code in literals if code.split(".")[0] in families}
        # field.invalid is the fallback for an exception no hook is known to raise, so no
        # payload can show it; encode.* comes from the encoders, not from validate.
        assert codes - {"field.invalid"} <= set(BY_CODE)
        assert len(codes) >= 20


class TestSeverity:
    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("counts.negative", ("error", "error", "error")),
            ("endpoint.unknown", ("error", "warning", "warning")),
            ("id.prefix", ("warning", "warning", "warning")),
            ("compat.camel_case", (None, None, "warning")),
        ],
    )
    def test_under_each_profile(self, code: str, expected: tuple[str | None, ...]) -> None:
        """A rule's severity follows the profile: tolerated ones soften, quirks need compat."""
        got = tuple(
            None if (s := BY_CODE[code].severity_under(p)) is None else s.value for p in PROFILES
        )
        assert got == expected

    def test_provider_rules_hold_under_every_profile(self) -> None:
        """A native object's problems and losses are the same whatever the profile its
        OpenAI reading is then validated under, and each example shows its code alone."""
        for rule in RULES:
            if rule.stage is Stage.PROVIDER:
                assert rule.code.startswith("provider.")
                assert not rule.quirk
                assert not rule.when
                for profile in PROFILES:
                    assert rule.severity_under(profile) is rule.severity
                    assert {v.code for v in _report(rule, profile).violations} == {rule.code}

    def test_quirks_are_warnings(self) -> None:
        """A quirk is a spelling, never an error."""
        for rule in RULES:
            if rule.quirk:
                assert rule.severity_under(Profile.COMPAT) is Severity.WARNING


class TestConditions:
    @pytest.mark.parametrize("profile", PROFILES, ids=str)
    def test_conditions_read_only_facts_and_names(self, profile: Profile) -> None:
        """A check's condition and message read only facts, derived facts, the registry's
        constants, builtins and an `over` rule's key and value."""
        allowed = FACTS.keys() | DERIVED.keys() | NAMES.keys() | set(dir(builtins))
        line = lifeline(transitions_for(profile))
        for rule in RULES:
            for check in rule.checks(line):
                trees = [ast.parse(check.when, mode="eval")]
                trees.append(ast.parse("f" + repr(check.message), mode="eval"))
                names = {n.id for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name)}
                extra = {"key", "value"} if rule.over else set()
                assert names <= allowed | extra, (rule.code, names - allowed)
                assert "$" not in check.when + check.message, (rule.code, check)

    def test_the_base_payload_breaks_no_rule(self) -> None:
        """The consistent batch every example starts from is clean under every profile."""
        for profile in PROFILES:
            assert batchfsm.validate(base_payload(), profile=profile).violations == ()


class TestAfterEdges:
    @pytest.mark.parametrize(
        ("code", "statuses"),
        [
            ("counts.unaccounted", {Status.FINALIZING, Status.COMPLETED}),
            ("files.output_missing", {Status.COMPLETED}),
            ("files.error_missing", {Status.COMPLETED}),
            ("errors.missing", {Status.FAILED}),
            ("stamp.expired_early", {Status.EXPIRED}),
        ],
    )
    def test_a_rule_holds_after_the_edges_it_guards(self, code: str, statuses: set[Status]) -> None:
        """A rule that holds after its edges is checked exactly in the statuses every path to
        which takes one of them (derived from the table, under every profile)."""
        for profile in PROFILES:
            assert passed(transitions_for(profile), BY_CODE[code]) == statuses

    def test_every_after_rule_guards_an_edge(self) -> None:
        """A rule said to hold after its edges is on at least one edge."""
        for rule in RULES:
            if rule.after:
                assert any(rule in t.guards for t in TRANSITIONS), rule.code
