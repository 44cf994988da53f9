"""The exception tree: one base, builtin bases where natural, structured fields, pickling."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, BatchfsmError, PayloadError, Severity, Violation
from batchfsm._errors import MAX_PER_CODE, capped


class TestPayloadError:
    def test_bases(self) -> None:
        """PayloadError is a BatchfsmError and a ValueError."""
        assert issubclass(PayloadError, BatchfsmError)
        assert issubclass(PayloadError, ValueError)

    def test_message_lists_every_violation(self) -> None:
        """The message counts the problems and shows each with its path and code."""
        error = PayloadError(
            [
                Violation("field.type", "$.id", "expected string, got integer 5"),
                Violation("field.missing", "$.status", "missing required key 'status'"),
            ],
            batch_id=None,
        )
        text = str(error)
        assert text.startswith("2 problems in payload: ")
        assert "$.id: expected string, got integer 5 [field.type]" in text
        assert "$.status: missing required key 'status' [field.missing]" in text

    def test_pickles(self) -> None:
        """A PayloadError survives pickling with its fields (for process pools)."""
        error = PayloadError([Violation("json.empty", "$", "empty")], batch_id="batch_1")
        again = pickle.loads(pickle.dumps(error))
        assert (again.violations, again.batch_id, str(again)) == (
            error.violations,
            "batch_1",
            str(error),
        )


class TestArgumentError:
    def test_bases(self) -> None:
        """ArgumentError is a BatchfsmError and a TypeError (the call itself is wrong)."""
        assert issubclass(ArgumentError, BatchfsmError)
        assert issubclass(ArgumentError, TypeError)
        assert not issubclass(ArgumentError, ValueError)

    def test_fields_and_pickling(self) -> None:
        """ArgumentError names the argument and survives pickling."""
        error = ArgumentError("profile", "expected one of ('openai',), got 'x'")
        again = pickle.loads(pickle.dumps(error))
        assert (again.argument, again.reason, str(again)) == ("profile", error.reason, str(error))
        assert str(error) == "bad argument 'profile': expected one of ('openai',), got 'x'"


class TestViolation:
    def test_defaults_to_error(self) -> None:
        """A Violation is an error unless said otherwise; its str shows path, message and code."""
        violation = Violation("x.y", "$.a", "bad")
        assert violation.severity is Severity.ERROR
        assert str(violation) == "$.a: bad [x.y]"

    def test_is_immutable_and_hashable(self) -> None:
        """Violations are values: frozen, hashable, equal by content."""
        violation = Violation("x.y", "$.a", "bad")
        assert {violation, Violation("x.y", "$.a", "bad")} == {violation}
        with pytest.raises(AttributeError):
            violation.code = "z"  # type: ignore[misc]


# Each exception and the one builtin (besides Exception) it subclasses, as
# docs/reference/errors.md says.
BUILTINS: dict[type[Exception], type[Exception] | None] = {
    batchfsm.BatchfsmError: None,
    batchfsm.PayloadError: ValueError,
    batchfsm.ArgumentError: TypeError,
    batchfsm.TransitionError: None,
    batchfsm.IllegalTransition: None,
    batchfsm.GuardError: ValueError,
    batchfsm.HookError: None,
    batchfsm.ReentryError: None,
}


class TestTree:
    def test_every_exception_is_listed(self) -> None:
        """Every exception batchfsm exports is in the tree this module checks."""
        exported = {
            value
            for value in (getattr(batchfsm, name) for name in batchfsm.__all__)
            if isinstance(value, type) and issubclass(value, BaseException)
        }
        assert exported == set(BUILTINS)

    @pytest.mark.parametrize("cls", list(BUILTINS), ids=lambda cls: cls.__name__)
    def test_one_base_and_at_most_one_builtin(self, cls: type[Exception]) -> None:
        """Each exception is a BatchfsmError and subclasses exactly the builtin it documents."""
        assert issubclass(cls, batchfsm.BatchfsmError)
        builtins = {
            base
            for base in cls.__mro__
            if base.__module__ == "builtins" and base not in (Exception, BaseException, object)
        }
        expected = BUILTINS[cls]
        assert builtins == (set() if expected is None else {expected})


_CODES = ("field.type", "stamp.order", "counts.negative")


class TestCapped:
    """At most MAX_PER_CODE violations of one code are listed, and one more counts the rest."""

    @given(st.lists(st.sampled_from(_CODES), max_size=3 * MAX_PER_CODE))
    def test_bounded_and_counted(self, codes: list[str]) -> None:
        """Each code keeps its first MAX_PER_CODE violations in order, then one that counts
        the rest at the first left out's place; codes and severities are what they were."""
        found = [Violation(code, f"$[{i}]", f"m{i}") for i, code in enumerate(codes)]
        kept = capped(found)
        assert {v.code for v in kept} == set(codes)
        for code in _CODES:
            mine = [v for v in found if v.code == code]
            shown = [v for v in kept if v.code == code]
            if len(mine) <= MAX_PER_CODE + 1:
                assert shown == mine
            else:
                assert shown[:-1] == mine[:MAX_PER_CODE]
                last = shown[-1]
                assert last.path == mine[MAX_PER_CODE].path
                assert last.message.startswith(f"{len(mine) - MAX_PER_CODE} more {code}")
                assert last.message.endswith(f"the first: {mine[MAX_PER_CODE].message}")

    @given(st.lists(st.sampled_from(_CODES), max_size=3 * MAX_PER_CODE))
    def test_idempotent(self, codes: list[str]) -> None:
        """Capping what is capped changes nothing, so a count is never counted again."""
        found = [Violation(code, f"$[{i}]", f"m{i}") for i, code in enumerate(codes)]
        assert capped(capped(found)) == capped(found)

    def test_severity_kept(self) -> None:
        """The violation that counts the rest has their severity."""
        found = [Violation("x.y", "$", "m", Severity.WARNING)] * (MAX_PER_CODE + 5)
        assert capped(found)[-1].severity is Severity.WARNING

    def test_payload_error_capped(self) -> None:
        """A PayloadError lists at most MAX_PER_CODE + 1 violations of one code."""
        error = PayloadError([Violation("field.type", f"$[{i}]", "m") for i in range(1000)])
        assert len(error.violations) == MAX_PER_CODE + 1
        assert "900 more field.type problems" in str(error)
