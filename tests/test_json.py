"""JSON text ⇄ Python values: the exact reader and the writer take and give the same set."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchfsm import ArgumentError, PayloadError, _json
from batchfsm._jsonpath import child
from batchfsm._strict import LongLiteral

from helpers.payloads import json_values

# JSON values with integers of any size, as the exact reader gives them.
exact_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**400).flatmap(lambda n: st.sampled_from([n, -n]))
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


class TestExactReader:
    @given(exact_values, st.booleans())
    def test_reads_any_integer_exactly(self, value: Any, as_text: bool) -> None:
        """parse_exact reads every integer literal exactly, whatever its size, as bytes or str."""
        text = json.dumps(value)
        assert _json.parse_exact(text if as_text else text.encode()) == json.loads(text)

    @given(exact_values)
    def test_parse_reads_what_orjson_refuses(self, value: Any) -> None:
        """parse answers for integers orjson refuses (past 1.8e308) with their exact value."""
        text = json.dumps([value, 10**400])
        assert _json.parse(text) == json.loads(text)

    @pytest.mark.parametrize(
        "text",
        [
            '"12345678901234567890"',
            '{"k 12345678901234567890": "12345678901234567890"}',
            '["a\\"12345678901234567890", "b\\\\", 12345678901234567891]',
            "[1.12345678901234567890, 1e-12345678901234567890, 1E-0012345678901234567890]",
            "[12345678901234567890e1, 12345678901234567890.5, -12345678901234567890]",
        ],
    )
    def test_only_integer_values_are_rewritten(self, text: str) -> None:
        """Digits inside strings, fractions and exponents are left alone: the reading is the
        stdlib's (orjson's for floats)."""
        expected = json.loads(text, parse_float=lambda f: orjson.loads(f))
        assert _json.parse_exact(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "[0012345678901234567890]",
            "[--12345678901234567890]",
            "{12345678901234567890: 1}",
            '"open 12345678901234567890',
            "[12345678901234567890,]",
            "[1e400, 12345678901234567890]",
            '["\\ud800", 12345678901234567890]',
        ],
    )
    def test_what_is_not_json_stays_refused(self, text: str) -> None:
        """Text that is not JSON (or holds what no value carries) is refused with a long
        integer in it as without one."""
        with pytest.raises(PayloadError) as info:
            _json.parse_exact(text)
        assert info.value.violations[0].code == "json.syntax"

    def test_error_offsets_are_those_of_the_text(self) -> None:
        """A syntax error after a long integer is reported at its offset in the text as given."""
        text = "[" + "9" * 400 + ", }"
        with pytest.raises(PayloadError) as info:
            _json.parse(text)
        assert info.value.violations[0].message.endswith(f"(char {len(text) - 1})")

    def test_a_literal_past_the_conversion_limit_is_kept_as_its_digits(self) -> None:
        """An integer literal of more digits than Python converts is read as a LongLiteral
        holding its digits, and written back as they are."""
        text = "[" + "9" * 5000 + ",-" + "8" * 4400 + "]"
        value = _json.parse_exact(text)
        assert value == [LongLiteral("9" * 5000), LongLiteral("-" + "8" * 4400)]
        assert [item.digits for item in value] == [5000, 4400]
        assert _json.encode(value) == text

    @pytest.mark.parametrize("text", ["", "-", "01", "1.5", "1e3", " 1", "\u0661"])
    def test_a_long_literal_holds_an_integer_literal_only(self, text: str) -> None:
        """A LongLiteral is made only of an integer literal, so that writing it verbatim
        writes JSON."""
        with pytest.raises(ValueError, match="not an integer literal"):
            LongLiteral(text)

    def test_no_string_is_taken_for_a_marker(self) -> None:
        """A string that looks like the markers the reader uses stays the string it is."""
        text = '["\\u0000", "\\u00000:0", 12345678901234567890]'
        assert _json.parse_exact(text) == ["\x00", "\x000:0", 12345678901234567890]

    @pytest.mark.parametrize(
        "text",
        [
            b'"' + b'a\\"' * 300_000,
            b"1" * 1_000_000 + b".5",
            b"[" + b'"",' * 300_000 + b"12345678901234567890]",
            b"[" + b"12345678901234567890," * 50_000 + b"1]",
            b"1" * 1_000_000 + b":",
        ],
        ids=["escapes", "digits", "strings", "integers", "key"],
    )
    def test_linear_on_crafted_text(self, text: bytes) -> None:
        """The exact reading does work linear in the text: a megabyte, crafted against
        regular expressions, takes well under a second."""
        start = time.perf_counter()
        with contextlib.suppress(PayloadError):
            _json.parse_exact(text)
        assert time.perf_counter() - start < 5


class TestWriter:
    @given(exact_values)
    def test_writes_what_the_exact_reader_reads_back(self, value: Any) -> None:
        """encode writes any JSON value, big integers included, as text parse_exact reads back
        equal."""
        assert _json.parse_exact(_json.encode(value)) == value

    @given(json_values)
    def test_writes_as_orjson_does(self, value: Any) -> None:
        """Where orjson writes a value, encode's own writer gives text that reads the same."""
        assert orjson.loads(_json._write(value)) == orjson.loads(orjson.dumps(value))

    @pytest.mark.parametrize("depth", [254, 255, 1023, 1024])
    def test_writes_as_deep_as_orjson_reads(self, depth: int) -> None:
        """A value as deep as orjson reads is written (orjson itself writes only 254 levels)."""
        text = nested(depth)
        assert _json.encode(orjson.loads(text)) == text

    @pytest.mark.parametrize(
        ("value", "path", "what"),
        [
            ({"a": [1, "\ud800"]}, "$.a[1]", "a lone surrogate"),
            ({"a": {"k\udc00": 1}}, child("$.a", "k\udc00"), "a lone surrogate"),
            ({"a": [10**5000]}, "$.a[0]", "an integer of more than"),
            ({"a": {1: 2}}, "$.a", "the key 1"),
        ],
    )
    def test_what_text_cannot_carry_is_refused_at_its_path(
        self, value: Any, path: str, what: str
    ) -> None:
        """A lone surrogate or an integer past the conversion limit is an encode.unsupported
        at its path: no JSON text can carry it."""
        with pytest.raises(PayloadError) as info:
            _json.encode(value)
        (violation,) = info.value.violations
        assert (violation.code, violation.path) == ("encode.unsupported", path)
        assert what in violation.message


class TestText:
    def test_subclasses_and_buffers_are_read_as_their_text(self) -> None:
        """A str or bytes subclass, a bytearray and any memoryview give their exact text."""

        class Odd(str):
            def __str__(self) -> str:
                raise RuntimeError("no str")

        assert type(_json.text(Odd("{}"))) is str
        assert _json.text(memoryview(b"{ }")[::2]) == b"{}"
        assert _json.text(bytearray(b"[]")) == b"[]"

    def test_a_released_memoryview_is_an_argument_error(self) -> None:
        """A released memoryview is refused as an argument, not read."""
        view = memoryview(b"{}")
        view.release()
        with pytest.raises(ArgumentError, match="released"):
            _json.text(view)
