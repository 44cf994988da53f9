"""JSONPath spelling of violation paths."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchfsm._jsonpath import ROOT, child, join

_NAME = re.compile(r"\$\['((?:[^'\\]|\\.)*)'\]\Z")
_UNESCAPE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "'": "'", "\\": "\\"}


def _name_of(path: str) -> str:
    """The member name a one-step bracket path below ``$`` spells (RFC 9535 unescaping)."""
    match = _NAME.match(path)
    assert match is not None, path
    return re.sub(
        r"\\(u[0-9a-f]{4}|.)",
        lambda m: chr(int(m[1][1:], 16)) if len(m[1]) == 5 else _UNESCAPE[m[1]],
        match[1],
    )


class TestNames:
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
            (("metadata", "a\nb"), "$.metadata['a\\nb']"),
            (("metadata", "tab\there"), "$.metadata['tab\\there']"),
            (("metadata", "\x00\x1f"), "$.metadata['\\u0000\\u001f']"),
            (("metadata", "back\\slash"), "$.metadata['back\\\\slash']"),
        ],
    )
    def test_join(self, keys: tuple[str | int, ...], expected: str) -> None:
        """Identifiers use dot notation; other names bracket notation with RFC 9535 escapes."""
        assert join(ROOT, keys) == expected

    @given(st.text())
    def test_no_raw_control_character(self, key: str) -> None:
        """No path holds a control character a terminal or a line-based reader would obey."""
        assert not re.search(r"[\x00-\x1f]", child(ROOT, key))

    @given(st.text())
    def test_name_recovered(self, key: str) -> None:
        """A bracketed name unescapes to the key it was made from, so no two keys share a path."""
        path = child(ROOT, key)
        assert (path == f"$.{key}") or _name_of(path) == key

    def test_str_subclass_read_as_its_text(self) -> None:
        """A str subclass's own __str__ does not change the path."""

        class Loud(str):
            def __str__(self) -> str:
                return "forged"

        assert child(ROOT, Loud("real")) == "$.real"


class TestIndices:
    def test_child_of_index(self) -> None:
        """An integer key is an array index."""
        assert child("$.a", 3) == "$.a[3]"


class TestKeysJsonCannotHold:
    @pytest.mark.parametrize(
        ("key", "expected"),
        [((1, 2), "$.metadata[(1, 2)]"), (1.5, "$.metadata[1.5]"), (b"k", "$.metadata[b\\'k\\']")],
    )
    def test_shown_by_repr(self, key: object, expected: str) -> None:
        """A Python key JSON cannot hold is shown by its repr, unquoted, in brackets."""
        assert child("$.metadata", key) == expected

    def test_hostile_repr(self) -> None:
        """A key whose repr raises is named by its type instead of raising."""

        class Hostile:
            def __repr__(self) -> str:
                raise RuntimeError("no")

        assert child(ROOT, Hostile()) == "$[<Hostile>]"

    def test_integer_past_conversion_limit(self) -> None:
        """An integer key too long to print is named by its type."""
        assert child(ROOT, 10**5000) == "$[<int>]"

    def test_long_repr_shortened(self) -> None:
        """A long repr is cut, so one key cannot make a path of any size."""
        assert len(child(ROOT, tuple(range(1000)))) < 70
