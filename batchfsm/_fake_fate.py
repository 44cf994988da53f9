"""What happens to a batch the fake API accepts: how long each stage lasts, which requests
fail, whether validation fails, and whether someone else cancels it."""

from __future__ import annotations

from typing import Any

import attrs

from ._errors import ArgumentError

__all__ = ["VALIDATION_CODES", "Fate"]

#: The codes OpenAI puts in a failed batch's ``errors``, each with its message, its
#: ``param`` and whether it names a line of the input file (docs/research.md §6).
VALIDATION_CODES: dict[str, tuple[str, str | None, bool]] = {
    "invalid_json_line": ("This line is not parseable as valid JSON.", None, True),
    "missing_required_parameter": ("Missing required parameter: 'custom_id'.", "custom_id", True),
    "invalid_url": (
        "The URL provided for this request does not match the batch endpoint.",
        "url",
        True,
    ),
    "model_not_found": (
        "The provided model is not supported by the Batch API.",
        "body.model",
        True,
    ),
    "duplicate_custom_id": ("The custom_id for this request is a duplicate.", "custom_id", True),
    "streaming_unsupported": (
        "Chat Completions: Streaming is not supported in the Batch API.",
        "body.stream",
        True,
    ),
    "empty_file": ("The batch input file is empty.", None, False),
    "token_limit_exceeded": (
        "Enqueued token limit reached for this model in your organization.",
        None,
        False,
    ),
}


def _seconds(name: str) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if type(value) is not int or value < 0:
            raise ArgumentError(name, f"expected non-negative int seconds, got {value!r}")

    return check


def _failing(instance: Any, attribute: Any, value: Any) -> None:
    if type(value) not in (int, float) or not 0 <= value <= 1:
        raise ArgumentError("failing", f"expected a fraction from 0 to 1, got {value!r}")


def _invalid(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and value not in VALIDATION_CODES:
        known = ", ".join(sorted(VALIDATION_CODES))
        raise ArgumentError("invalid", f"expected None or one of {known}, got {value!r}")


def _cancel_after(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _seconds("cancel_after")(instance, attribute, value)


@attrs.frozen(slots=True, kw_only=True)
class Fate:
    """The course a batch of the fake API takes, in virtual seconds from each stage's start.

    The batch validates for `validating` seconds, then either fails (`invalid`, or a real
    problem in its input file) or runs its requests, finishing them evenly over `running`
    seconds, then finalizes for `finalizing` seconds and completes. A run that would end
    past the batch's deadline expires there instead, with the requests finished so far;
    `cancel_after` has the batch cancelled by someone else that long into the run; a
    cancelling batch is cancelled after `cancelling` seconds. The named constructors
    (`completes`, `fails_validation`, `expires`, `stuck_finalizing`, `cancelled`) give
    each fate's usual shape.

    Attributes:
        validating: Seconds in ``validating``.
        running: Seconds the requests take, all of them, in ``in_progress``.
        finalizing: Seconds in ``finalizing``.
        cancelling: Seconds from a cancel to ``cancelled`` (OpenAI: up to ten minutes).
        failing: The fraction of requests that fail (spread evenly over the input).
        invalid: An OpenAI validation error code the batch fails with, or None.
        cancel_after: Seconds into the run at which the batch is cancelled, or None.

    Raises:
        ArgumentError: for negative or non-integer seconds, a fraction outside 0..1 or an
            unknown validation code.
    """

    validating: int = attrs.field(default=5, validator=_seconds("validating"))
    running: int = attrs.field(default=60, validator=_seconds("running"))
    finalizing: int = attrs.field(default=5, validator=_seconds("finalizing"))
    cancelling: int = attrs.field(default=30, validator=_seconds("cancelling"))
    failing: float = attrs.field(default=0.0, validator=_failing)
    invalid: str | None = attrs.field(default=None, validator=_invalid)
    cancel_after: int | None = attrs.field(default=None, validator=_cancel_after)

    @classmethod
    def completes(cls, *, failing: float = 0.0, **stages: Any) -> Fate:
        """Runs every request and completes; `failing` of them fail (1.0: all of them)."""
        return cls(failing=failing, **stages)

    @classmethod
    def fails_validation(cls, code: str = "invalid_json_line", **stages: Any) -> Fate:
        """Fails while validating, with OpenAI's error `code` (a bad input line by default)."""
        return cls(invalid=code, **stages)

    @classmethod
    def expires(cls, *, failing: float = 0.0, **stages: Any) -> Fate:
        """Runs too slowly for its window: expires at its deadline, about half done."""
        return cls(running=2 * 86_400, failing=failing, **stages)

    @classmethod
    def stuck_finalizing(cls, seconds: int = 3_600, **stages: Any) -> Fate:
        """Runs every request, then stays in ``finalizing`` for `seconds` before completing."""
        return cls(finalizing=seconds, **stages)

    @classmethod
    def cancelled(cls, after: int = 30, **stages: Any) -> Fate:
        """Is cancelled by someone else `after` seconds into its run, racing its client."""
        return cls(cancel_after=after, **stages)
