"""What the store hands back besides batches: audit rows and claims."""

from __future__ import annotations

import attrs

from batchfsm._record import Batch, Status

__all__ = ["Change", "Claim"]


@attrs.frozen
class Change:
    """One row of a batch's audit log: a change the store made, and the version it made.

    Attributes:
        version: The batch's version after the change; the first row is version 1.
        event: The `Event`'s value (``create``, ``record_progress`` …), or ``adopt`` for
            a batch stored by `Store.adopt`.
        source: The status before the change; None for ``create`` and ``adopt``.
        dest: The status after it (the same as `source` for ``record_progress``).
        at: When the store made the change, in Unix seconds by the store's clock.
    """

    version: int
    event: str
    source: Status | None
    dest: Status
    at: int


@attrs.frozen(eq=False)
class Claim:
    """A batch handed to one worker until `until`, by `Store.claim`.

    No other claim returns the batch while the lease runs, so one worker polls it. The
    lease does not lock the batch: `Store.apply` still decides every change by its version.
    Compared by identity: each claim is one lease.

    Attributes:
        batch: The batch as it was when claimed.
        version: Its version then; pass it as ``if_version`` to act only on what was seen.
        owner: The claimant's name, as given to `Store.claim`.
        token: The lease's own id; `Store.renew` and `Store.release` act only while the
            batch still holds this lease.
        until: When the lease ends, in Unix seconds by the store's clock.
    """

    batch: Batch
    version: int
    owner: str
    token: str
    until: int
