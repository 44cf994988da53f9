"""Clocks: the wall clock the engine reads by default, and one a test sets by hand."""

from __future__ import annotations

import time

from ._errors import ArgumentError

__all__ = ["ManualClock", "wall_clock"]


def wall_clock() -> int:
    """The current Unix time, in whole seconds."""
    return int(time.time())


class ManualClock:
    """A clock that reads what it is set to, for tests, replays and generated histories.

    ``Lifecycle(clock=ManualClock(1_700_000_000))`` stamps every event with `now`; move it
    with `advance` (or set `now`). Nothing sleeps.

    Attributes:
        now: The Unix seconds the clock reads; set it to jump.

    Raises:
        ArgumentError: for a `now` that is not a non-negative int.
    """

    def __init__(self, now: int = 1_700_000_000) -> None:
        if type(now) is not int or now < 0:
            raise ArgumentError("now", f"expected non-negative int Unix seconds, got {now!r}")
        self.now = now

    def __call__(self) -> int:
        """The reading: `now`."""
        return self.now

    def advance(self, seconds: int) -> int:
        """Move the clock by `seconds` (back, if negative, but never before 0).

        Returns:
            The new reading.

        Raises:
            ArgumentError: for `seconds` that is not an int.
        """
        if type(seconds) is not int:
            raise ArgumentError("seconds", f"expected an int, got {seconds!r}")
        self.now = max(0, self.now + seconds)
        return self.now

    def __repr__(self) -> str:
        return f"ManualClock({self.now!r})"
