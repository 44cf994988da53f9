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
from ._table import INITIAL, Event, Operation, Transition, lifeline, passed, transitions_for

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
    tree = ast.parse(expression, mode="eval")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _reads(rule: Rule, check: Check) -> frozenset[str]:
    names = _names(check.when) | _names("f" + repr(check.message))
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

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}_{len(self.names)}"
        self.names[name] = value
        return name

    def status(self, status: Status) -> str:
        """The global that holds `status`."""
        return status.name


def _prelude(reads: Iterable[str], top: Callable[[str], str]) -> list[str]:
    """Lines that read each fact in `reads` into a local of its name; `top(key)` is the
    expression of a top-level wire value."""
    reads = set(reads)
    for name in list(reads):
        if name in DERIVED:
            reads |= _names(DERIVED[name]) & FACTS.keys()
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
    writer: _Writer, items: Iterable[Concrete], partial: bool, refuse: Callable[[Concrete], str]
) -> list[str]:
    """Lines that run `refuse(item)` for each item whose condition holds."""
    lines = []
    for item in items:
        test = item.check.when
        if partial and item.reads:
            test = f"unknown.isdisjoint({writer.constant('READS', item.reads)}) and ({test})"
        over = item.rule.over
        if over:
            guard = f"unknown.isdisjoint({{{over!r}}}) and " if partial else ""
            lines += [
                f"if {guard}{over}:",
                f"    for key, value in {over}.items():",
                f"        if {test}:",
                f"            {refuse(item)}",
            ]
        else:
            lines += [f"if {test}:", f"    {refuse(item)}"]
    return lines


def _dispatched(
    writer: _Writer,
    items: Iterable[Concrete],
    partial: bool,
    refuse: Callable[[Concrete], str],
    status: Status | None = None,
) -> list[str]:
    """The tests of `items`: those of every status first, then, in one branch per status
    (or only `status`'s, when it is known), those of one status."""
    items = tuple(items)
    lines = _tests(writer, [i for i in items if i.statuses is None], partial, refuse)
    branches = [
        (candidate, [i for i in items if i.statuses is not None and candidate in i.statuses])
        for candidate in (Status if status is None else (status,))
    ]
    keyword = "if"
    for candidate, chosen in branches:
        if not chosen:
            continue
        body = _tests(writer, chosen, partial, refuse)
        if status is not None:
            lines += body
            continue
        known = "unknown.isdisjoint({'status'}) and " if partial else ""
        lines.append(f"{keyword} {known}status is {writer.status(candidate)}:")
        lines += [f"    {line}" for line in body]
        keyword = "elif"
    return lines


def _report(writer: _Writer) -> Callable[[Concrete], str]:
    def report(item: Concrete) -> str:
        path = item.check.path
        where = f"child({path!r}, key)" if item.rule.over else repr(path)
        severity = writer.constant("SEVERITY", item.severity)
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
    body += _dispatched(writer, items, partial, _report(writer))
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
    break: they read the batch as it will be, from ``batch``, ``stamp`` and ``changes``."""
    items = guards(profile, step)
    reads = frozenset().union(*(item.reads for item in items))
    if isinstance(step, Transition):
        stamp: str | None = step.stamp
        dest: Status | None = step.dest
    else:
        stamp = None
        dest = INITIAL if step.event is Event.CREATE else None

    def top(key: str) -> str:
        if key == "status" and dest is not None:
            return writer.status(dest)
        if key == stamp:
            return "stamp"
        return f"changes.get({key!r}, batch.{key})"

    def refuse(item: Concrete) -> str:
        return f"return ({item.rule.code!r}, f{item.check.message!r})"

    return _prelude(reads, top) + _dispatched(writer, items, False, refuse, dest)


def writer() -> _Writer:
    """A fresh writer, for the engine's generated steps."""
    return _Writer()
