"""The exception tree: one base, builtin bases where natural, structured fields, pickling."""

from __future__ import annotations

import pickle

import pytest

import batchfsm
from batchfsm import ArgumentError, BatchfsmError, PayloadError, Severity, Violation


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


# Each exception and the one builtin (besides Exception) it subclasses, as docs/api.md says.
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
