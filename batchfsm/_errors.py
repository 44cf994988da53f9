"""The exception tree and the `Violation` record every report is made of."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ._record import Status

__all__ = [
    "MAX_PER_CODE",
    "ArgumentError",
    "BatchfsmError",
    "GuardError",
    "HookError",
    "IllegalTransition",
    "PayloadError",
    "ReentryError",
    "Severity",
    "TransitionError",
    "Violation",
]


class Severity(str, enum.Enum):
    """How bad a violation is: an ``error`` makes a payload invalid, a ``warning`` does not."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen(slots=True)
class Violation:
    """One problem found in a payload, at one place in it.

    ``str(violation)`` is ``"<path>: <message> [<code>]"``, as the command prints it.

    Attributes:
        code: A stable dotted name for the rule that was broken (``field.type``); every
            code is in `batchfsm.RULES` (and on the violation codes page).
        path: Where, as a JSONPath (``$.request_counts.total``).
        message: What was expected and what was found instead.
        severity: Whether the problem makes the payload invalid.
    """

    code: str
    path: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


MAX_PER_CODE = 100
"""At most this many violations of one code are listed, in a `Report` or a `PayloadError`.

One more, at the place of the first left out and with the same code and severity, says how
many were left out; the codes and the verdict are unchanged. A payload of any size then
makes a report of bounded size.
"""


def capped(violations: Iterable[Violation]) -> tuple[Violation, ...]:
    """`violations` with at most `MAX_PER_CODE` (+ one that counts the rest) of each code.

    The one that counts the rest stands at the place of the first left out, with its
    code and severity, so a report's codes and its verdict are what they were.
    """
    found = tuple(violations)
    if len(found) <= MAX_PER_CODE + 1:
        return found
    # A code with one more than the cap keeps it: that one may be a count already.
    left_out = {
        code: count - MAX_PER_CODE
        for code, count in Counter(v.code for v in found).items()
        if count > MAX_PER_CODE + 1
    }
    if not left_out:
        return found
    kept: list[Violation] = []
    seen: Counter[str] = Counter()
    for violation in found:
        code = violation.code
        seen[code] += 1
        if code not in left_out or seen[code] <= MAX_PER_CODE:
            kept.append(violation)
        elif seen[code] == MAX_PER_CODE + 1:
            message = (
                f"{left_out[code]} more {code} problems left out from here on"
                f" (after {MAX_PER_CODE}); the first: {violation.message}"
            )
            kept.append(Violation(code, violation.path, message, violation.severity))
    return tuple(kept)


class BatchfsmError(Exception):
    """The base of every exception batchfsm raises for something its caller did."""


class PayloadError(BatchfsmError, ValueError):
    """A payload could not be decoded into (or encoded from) a `Batch`.

    Every problem found is in `violations`, not just the first (at most `MAX_PER_CODE`
    of one code, and one more that says how many of that code were left out).

    Attributes:
        violations: Each problem with its JSONPath and stable code.
        batch_id: The payload's ``id`` when one could be read, else None.
    """

    violations: tuple[Violation, ...]
    batch_id: str | None

    def __init__(self, violations: Iterable[Violation], batch_id: str | None = None) -> None:
        self.violations = capped(violations)
        self.batch_id = batch_id
        super().__init__(self._message())

    def _message(self) -> str:
        subject = f"batch {self.batch_id!r}" if self.batch_id is not None else "payload"
        count = len(self.violations)
        noun = "problem" if count == 1 else "problems"
        listed = "; ".join(str(v) for v in self.violations)
        return f"{count} {noun} in {subject}: {listed}"

    def __reduce__(self) -> tuple[type[PayloadError], tuple[tuple[Violation, ...], str | None]]:
        return (type(self), (self.violations, self.batch_id))


class ArgumentError(BatchfsmError, TypeError):
    """A function was called with an argument of the wrong type or an unknown value.

    For example `loads` of a dict, an unknown profile or event, a negative total, or a
    batch whose values were set by hand to something the engine cannot read. It is a
    `TypeError`, as Hypothesis's ``InvalidArgument`` is: the call itself is wrong, whatever
    the batch.

    Attributes:
        argument: The name of the offending parameter.
        reason: What was expected and what was given.
    """

    def __init__(self, argument: str, reason: str) -> None:
        self.argument = argument
        self.reason = reason
        super().__init__(f"bad argument {argument!r}: {reason}")

    def __reduce__(self) -> tuple[type[ArgumentError], tuple[str, str]]:
        return (type(self), (self.argument, self.reason))


class TransitionError(BatchfsmError):
    """An event could not be applied to a batch; the batch is exactly as it was.

    The base of `IllegalTransition`, `GuardError`, `HookError` and `ReentryError`. It
    subclasses no builtin beyond `Exception`: the batch's state, not a value, is what
    refuses the event.

    Attributes:
        batch_id: The batch's id.
        status: The batch's status when the event was refused.
        event: The refused event.
    """

    def __init__(self, batch_id: str, status: Status, event: str, message: str) -> None:
        self.batch_id = batch_id
        self.status = status
        self.event = event
        super().__init__(message)

    def __reduce__(self) -> tuple[type[TransitionError], tuple[object, ...]]:
        return (type(self), (self.batch_id, self.status, self.event, str(self)))


class IllegalTransition(TransitionError):
    """The event is not allowed from the batch's status (under the lifecycle's profile).

    It subclasses no builtin beyond `Exception`.

    Attributes:
        allowed: The events the status does allow, sorted; empty for a final status.
    """

    def __init__(self, batch_id: str, status: Status, event: str, allowed: Iterable[str]) -> None:
        self.allowed = tuple(sorted(allowed))
        from ._record import KNOWN_STATUSES  # which imports this module

        known = status in KNOWN_STATUSES
        final = "none: the status is final" if known else "none: no table knows the status"
        listed = ", ".join(str(event) for event in self.allowed) or final
        message = f"cannot {event} {batch_id}: status is {status} (allowed: {listed})"
        super().__init__(batch_id, status, event, message)

    def __reduce__(self) -> tuple[type[TransitionError], tuple[object, ...]]:
        return (type(self), (self.batch_id, self.status, self.event, self.allowed))


class GuardError(TransitionError, ValueError):
    """The event is allowed from the status, but the batch would break a rule that guards
    it. It is a `ValueError`: the values (the event's, or the batch's) are what is wrong.

    Attributes:
        code: The broken rule's code, the one `validate` reports for the same condition
            (``counts.unaccounted``); see docs/violations.md.
        detail: What was found, with the numbers.
    """

    def __init__(self, batch_id: str, status: Status, event: str, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail
        message = f"cannot {event} {batch_id} ({status}): {detail} [{code}]"
        super().__init__(batch_id, status, event, message)

    @property
    def condition(self) -> str:
        """The broken rule's code (the name `code` had before 0.2)."""
        return self.code

    def __reduce__(self) -> tuple[type[TransitionError], tuple[object, ...]]:
        return (type(self), (self.batch_id, self.status, self.event, self.code, self.detail))


class ReentryError(TransitionError):
    """An event was fired on a batch from inside one of that batch's own hooks; it is
    refused and changes nothing (the change the hook is reacting to is not done yet, and
    may still be rolled back).

    It subclasses no builtin beyond `Exception`.
    """

    def __init__(self, batch_id: str, status: Status, event: str) -> None:
        message = f"cannot {event} {batch_id} from inside one of its own hooks (status {status})"
        super().__init__(batch_id, status, event, message)

    def __reduce__(self) -> tuple[type[TransitionError], tuple[object, ...]]:
        return (type(self), (self.batch_id, self.status, self.event))


class HookError(TransitionError):
    """A transition hook raised; the transition was rolled back and the hook's exception
    is the ``__cause__``.

    Later hooks were not called. It subclasses no builtin beyond `Exception`.

    Attributes:
        hook: The hook that raised.
    """

    def __init__(self, batch_id: str, status: Status, event: str, hook: object) -> None:
        self.hook = hook
        name = getattr(hook, "__qualname__", repr(hook))
        message = f"hook {name} raised on {event} of {batch_id}; the {event} was rolled back"
        super().__init__(batch_id, status, event, message)

    def __reduce__(self) -> tuple[type[TransitionError], tuple[object, ...]]:
        return (type(self), (self.batch_id, self.status, self.event, self.hook))
