"""The store's exceptions: each a `BatchfsmError`, with the fields its message is built from."""

from __future__ import annotations

from batchfsm._errors import BatchfsmError
from batchfsm._validate import Report

__all__ = ["AdoptionError", "ConflictError", "StoreError", "UnknownBatchError"]


class ConflictError(BatchfsmError):
    """The batch is not at the version the caller expected: another worker changed it
    first (``apply(..., if_version=...)``), or it is already stored (``adopt``).

    It subclasses no builtin beyond `Exception`: the stored state, not a value of the
    call, is what refuses it. Read the batch again and decide again.

    Attributes:
        batch_id: The batch's id.
        expected: The version the caller expected; 0 for a batch that must not exist yet.
        actual: The version the store holds.
    """

    def __init__(self, batch_id: str, expected: int, actual: int) -> None:
        self.batch_id = batch_id
        self.expected = expected
        self.actual = actual
        if expected == 0:
            message = f"batch {batch_id!r} is already stored, at version {actual!r}"
        else:
            message = f"batch {batch_id!r} is at version {actual!r}, not {expected!r}"
        super().__init__(message)

    def __reduce__(self) -> tuple[type[ConflictError], tuple[str, int, int]]:
        return (type(self), (self.batch_id, self.expected, self.actual))


class UnknownBatchError(BatchfsmError, LookupError):
    """The store holds no batch with this id.

    Attributes:
        batch_id: The id that was asked for.
    """

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id
        super().__init__(f"no batch {batch_id!r} in the store")

    def __reduce__(self) -> tuple[type[UnknownBatchError], tuple[str]]:
        return (type(self), (self.batch_id,))


class StoreError(BatchfsmError):
    """The database could not do what the store asked: it stayed locked past the busy
    timeout, the server went away, the disk is full, a value does not fit a column, or the
    store was closed. Nothing was written. The driver's exception, if any, is the
    ``__cause__``.

    It subclasses no builtin beyond `Exception`: whether to retry depends on the cause.

    Attributes:
        operation: The store method that failed (``apply``, ``claim`` …).
        batch_id: The batch it was working on, if one.
        reason: What the database said.
    """

    def __init__(self, operation: str, batch_id: str | None, reason: str) -> None:
        self.operation = operation
        self.batch_id = batch_id
        self.reason = reason
        subject = "" if batch_id is None else f" of batch {batch_id!r}"
        super().__init__(f"{operation!r}{subject} failed: {reason}")

    def __reduce__(self) -> tuple[type[StoreError], tuple[str, str | None, str]]:
        return (type(self), (self.operation, self.batch_id, self.reason))


class AdoptionError(BatchfsmError, ValueError):
    """``adopt`` refused a payload: it is not a valid batch under the profile it was read
    with. It is a `ValueError`: the payload's values are what is wrong.

    Attributes:
        report: What `batchfsm.validate` found, warnings included.
        batch_id: The payload's ``id`` when one could be read, else None.
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.batch_id = report.batch_id
        errors = report.errors
        noun = "problem" if len(errors) == 1 else "problems"
        listed = "; ".join(str(v) for v in errors)
        super().__init__(f"cannot adopt {self.batch_id!r}: {len(errors)} {noun}: {listed}")

    def __reduce__(self) -> tuple[type[AdoptionError], tuple[Report]]:
        return (type(self), (self.report,))
