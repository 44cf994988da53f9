"""JSONPath spelling of violation paths."""

from __future__ import annotations

import pytest

from batchfsm._jsonpath import ROOT, child, join


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ((), "$"),
        (("request_counts", "total"), "$.request_counts.total"),
        (("errors", "data", 0, "line"), "$.errors.data[0].line"),
        (("metadata", "odd key"), "$.metadata['odd key']"),
        (("metadata", "it's"), "$.metadata['it\\'s']"),
        (("metadata", "9lives"), "$.metadata['9lives']"),
        (("metadata", ""), "$.metadata['']"),
    ],
)
def test_join(keys: tuple[str | int, ...], expected: str) -> None:
    """Names use dot notation when they are identifiers, bracket notation otherwise."""
    assert join(ROOT, keys) == expected


def test_child_of_index() -> None:
    """An integer key is an array index."""
    assert child("$.a", 3) == "$.a[3]"
