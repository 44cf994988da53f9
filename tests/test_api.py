"""The public surface: a sorted `__all__`, typed, importable without Hypothesis."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import batchfsm


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
