"""The public surface: a sorted `__all__`, typed, importable without Hypothesis."""

from __future__ import annotations

import inspect
import pydoc
import re
import subprocess
import sys
from pathlib import Path

import pytest

import batchfsm
from batchfsm import IDEMPOTENT, TRANSITIONS, Provenance, Status
from batchfsm._table import CREATE, INITIAL, RECORD_PROGRESS


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted, names only public objects, and every one of them exists."""
    assert list(batchfsm.__all__) == sorted(batchfsm.__all__)
    for name in batchfsm.__all__:
        assert not name.startswith("_")
        assert hasattr(batchfsm, name)
    public = {
        name
        for name, value in vars(batchfsm).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("batchfsm")
    }
    assert public <= set(batchfsm.__all__)


def test_public_objects_have_docstrings() -> None:
    """Every public class and function documents itself."""
    for name in batchfsm.__all__:
        value = getattr(batchfsm, name)
        if callable(value):
            assert value.__doc__, name


def test_py_typed_is_shipped() -> None:
    """The installed package carries its py.typed marker."""
    assert (Path(batchfsm.__file__).parent / "py.typed").is_file()


def test_import_does_not_import_hypothesis() -> None:
    """Importing batchfsm alone does not import Hypothesis (or pytest)."""
    code = "import sys, batchfsm; print('hypothesis' in sys.modules, 'pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_guarantees_page_names_tests_that_exist() -> None:
    """Every test docs/guarantees.md links to a promise exists in the file it names."""
    root = Path(__file__).parent.parent
    page = (root / "docs" / "guarantees.md").read_text("utf-8")
    links = re.findall(r"\[`(\w+)`\]\(\.\./(tests/\w+\.py)\)", page)
    assert len(links) >= 20
    for name, path in links:
        source = (root / path).read_text("utf-8")
        assert re.search(rf"^\s*(def|class) {name}\b", source, re.MULTILINE), (name, path)


class TestEventMethodHelp:
    @pytest.mark.parametrize("event", list(batchfsm.Event), ids=str)
    def test_help_says_from_which_statuses_it_works(self, event: batchfsm.Event) -> None:
        """help() of each event method of Lifecycle names, right after its summary, the
        statuses the lifecycle table lets it work from (the tolerated edges' apart, as not
        under strict), what the batch becomes, and no other status."""
        method = getattr(batchfsm.Lifecycle, event.value)
        _, said, *_ = (inspect.getdoc(method) or "").split("\n\n")
        shown = " ".join(pydoc.render_doc(method).split())
        assert " ".join(said.split()) in shown
        named = {s for s in Status if re.search(rf"\b{s.value}\b", said)}
        edges = [t for t in TRANSITIONS if t.event is event]
        operations = [op for op in (CREATE, RECORD_PROGRESS) if op.event is event]
        idle = {status for kind, status in IDEMPOTENT if kind is event}
        expected = {t.source for t in edges} | {t.dest for t in edges} | idle
        for operation in operations:
            expected |= set(operation.statuses) or {INITIAL}
        assert named == expected, said
        documented, _, tolerated = said.partition("(not under strict)")
        for edge in edges:
            part = documented if edge.provenance is Provenance.DOCUMENTED else tolerated
            assert re.search(rf"\b{edge.source.value}\b", part.partition(";")[0]), said
