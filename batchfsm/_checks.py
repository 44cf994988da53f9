"""Code generated from the rules: the validator's check of a batch, and the guard of each
edge and operation of the lifecycle.

Both are made from the same `Check.when` texts (`_rules`), so an engine guard and the
validator report the same code for the same condition. The generated source is registered
with `linecache` (`_generated`), so a traceback through it shows the rule's line.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._errors import Severity, Violation
from ._generated import compile_lines
from ._jsonpath import child
from ._profile import Profile
from ._record import Batch, Status
from ._rules import DERIVED, FACTS, NAMES, RULES, Check, Rule, Stage
from ._table import Operation, Transition, lifeline, passed, transitions_for

__all__ = ["Checker", "Guard", "checker", "guards"]

#: ``check(batch)``: every violation of the payload rules by a decoded record.
Checker = Callable[[Batch], list[Violation]]
#: ``guard(batch, stamp, changes)``: the (code, message) of the first guard the change
#: would break, or None.
Guard = Callable[[Batch, int, Mapping[str, Any]], "tuple[str, str] | None"]

_ERROR = Severity.ERROR


@attrs.frozen
class Concrete:
    """One check of a rule, resolved for one profile."""

    rule: Rule
    check: Check
    severity: Severity
    statuses: frozenset[Status] | None  # where an `after` rule holds; None: everywhere
    reads: frozenset[str]  # the facts it reads, derived ones expanded


def _names(expression: str) -> set[str]:
    """The names an expression reads."""
    tree = ast.parse(expression)
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _reads(rule: Rule, check: Check) -> frozenset[str]:
    """The facts `check` depends on: those its condition reads (a message reads no other,
    which tests/test_checks.py holds the rules to), derived ones expanded, the fact an
    `over` rule ranges over, and the status where the check holds in some statuses only."""
    names = _names(check.when)
    if rule.over:
        names.add(rule.over)
    if rule.after or check.statuses is not None:
        names.add("status")
    facts = {name for name in names if name in FACTS or name in DERIVED}
    for name in list(facts):
        if name in DERIVED:
            facts |= _names(DERIVED[name]) & FACTS.keys()
    return frozenset(facts)


@functools.cache
def concrete(profile: Profile) -> tuple[Concrete, ...]:
    """Every payload check under `profile`, in catalog order."""
    edges = transitions_for(profile)
    line = lifeline(edges)
    found = []
    for rule in RULES:
        severity = rule.severity_under(profile)
        if rule.stage is not Stage.PAYLOAD or severity is None:
            continue
        after = passed(edges, rule) if rule.after else None
        for check in rule.checks(line):
            statuses = check.statuses
            if after is not None:
                statuses = after if statuses is None else statuses & after
            found.append(
                Concrete(rule, check, check.severity or severity, statuses, _reads(rule, check))
            )
    return tuple(found)


class _Writer:
    """The globals generated code needs, each under a name of its own."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {**NAMES, "Violation": Violation, "child": child}

    def constant(self, value: Any) -> str:
        """A new global holding `value`, named for its type so the source reads well."""
        name = f"{type(value).__name__.upper()}_{len(self.names)}"
        self.names[name] = value
        return name

    def status(self, status: Status) -> str:
        """The global that holds `status`."""
        return status.name


def _prelude(reads: Iterable[str], top: Callable[[str], str]) -> list[str]:
    """Lines that read each fact in `reads` (derived ones expanded, as `_reads` does) into
    a local of its name; `top(key)` is the expression of a top-level wire value."""
    reads = set(reads)
    lines: list[str] = []
    parents: set[str] = set()
    for name, (parent, attribute) in FACTS.items():
        if name not in reads:
            continue
        if parent is None:
            lines.append(f"{name} = {top(name)}")
            continue
        if parent not in parents:
            parents.add(parent)
            lines.append(f"{parent}_ = {top(parent)}")
        lines.append(f"{name} = {parent}_.{attribute} if {parent}_ is not None else None")
    for name, expression in DERIVED.items():
        if name in reads:
            lines.append(f"{name} = {expression}")
    return lines


def _tests(
    items: Iterable[Concrete],
    refuse: Callable[[Concrete], str],
    writer: _Writer | None = None,
) -> list[str]:
    """Lines that run `refuse(item)` for each item whose condition holds; with a `writer`
    (a partial check), only while no fact the item reads is ``unknown``."""
    lines = []
    for item in items:
        test = item.check.when
        if writer is not None and item.reads:
            test = f"unknown.isdisjoint({writer.constant(item.reads)}) and ({test})"
        over = item.rule.over
        if over:  # a partial check's test skips it when `over` is unknown (it reads it)
            lines += [
                f"if {over}:",
                f"    for key, value in {over}.items():",
                f"        if {test}:",
                f"            {refuse(item)}",
            ]
        else:
            lines += [f"if {test}:", f"    {refuse(item)}"]
    return lines


def _dispatched(
    writer: _Writer, items: Iterable[Concrete], refuse: Callable[[Concrete], str], *, partial: bool
) -> list[str]:
    """The tests of `items`: those of every status first, then one branch per status with
    those of that status. (A partial check's test already skips a status-bound check when
    the status is unknown: its reads hold the status.)"""
    items = tuple(items)
    skipping = writer if partial else None
    lines = _tests([i for i in items if i.statuses is None], refuse, skipping)
    branches = [
        (candidate, chosen)
        for candidate in Status
        if (chosen := [i for i in items if i.statuses is not None and candidate in i.statuses])
    ]
    for index, (candidate, chosen) in enumerate(branches):
        lines.append(f"{'elif' if index else 'if'} status is {writer.status(candidate)}:")
        lines += [f"    {line}" for line in _tests(chosen, refuse, skipping)]
    return lines


def _report(writer: _Writer) -> Callable[[Concrete], str]:
    def report(item: Concrete) -> str:
        path = item.check.path
        where = f"child({path!r}, key)" if item.rule.over else repr(path)
        severity = writer.constant(item.severity)
        message = f"f{item.check.message!r}"
        return f"add(Violation({item.rule.code!r}, {where}, {message}, {severity}))"

    return report


@functools.cache
def checker(profile: Profile, *, partial: bool = False) -> Callable[..., list[Violation]]:
    """The generated check of a decoded record under `profile`: ``check(batch)``, or with
    `partial`, ``check(batch, unknown)`` that skips every check reading a fact named in
    `unknown` (a value the codec could not read, replaced by a stand-in)."""
    items = concrete(profile)
    writer = _Writer()
    reads = frozenset().union(*(item.reads for item in items))
    arguments = "batch, unknown" if partial else "batch"
    lines = [f"def check({arguments}):", "    found = []", "    add = found.append"]
    body = _prelude(reads, lambda key: f"batch.{key}")
    body += _dispatched(writer, items, _report(writer), partial=partial)
    lines += [f"    {line}" for line in body]
    lines.append("    return found")
    title = f"check {profile.name}{' partial' if partial else ''}"
    function: Callable[..., list[Violation]] = compile_lines(lines, title, writer.names)["check"]
    return function


def guards(profile: Profile, step: Transition | Operation) -> tuple[Concrete, ...]:
    """The checks that guard `step` under `profile`: its rules' checks that are errors."""
    return tuple(
        item for item in concrete(profile) if item.rule in step.guards and item.severity is _ERROR
    )


def guard_lines(profile: Profile, step: Transition | Operation, writer: _Writer) -> list[str]:
    """Lines that return ``(code, message)`` for the first guard of `step` the change would
    break: they read the batch as it will be, from ``batch``, ``stamp`` and ``changes``.

    An edge's destination is known, so its guards are those of that status, unbranched; an
    operation's guards hold in every status (tests/test_checks.py holds the rules to it).
    """
    items = guards(profile, step)
    # The facts whose new value is not in ``changes``: the edge's status and its stamp.
    fixed: dict[str, str] = {}
    if isinstance(step, Transition):
        fixed = {"status": writer.status(step.dest), step.stamp: "stamp"}
        items = tuple(i for i in items if i.statuses is None or step.dest in i.statuses)

    def top(key: str) -> str:
        return fixed.get(key) or f"changes.get({key!r}, batch.{key})"

    def refuse(item: Concrete) -> str:
        return f"return ({item.rule.code!r}, f{item.check.message!r})"

    reads = frozenset().union(*(item.reads for item in items))
    return _prelude(reads, top) + _tests(items, refuse)


def writer() -> _Writer:
    """A fresh writer, for the engine's generated steps."""
    return _Writer()
