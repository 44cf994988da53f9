"""Test helpers: a clock a test sets by hand, a fake OpenAI Batch API for testing batch
clients, and a ready Hypothesis state machine for testing code that drives or mirrors
batches.

`ManualClock`, `FakeBatchAPI` and `Fate` need nothing more than batchfsm (a client of the
fake needs ``httpx``: the ``testing`` extra). `BatchLifecycleMachine` needs the
``hypothesis`` extra, and is imported (with Hypothesis) only when it is first used.
Subclass it and override `apply_to_system` (mirror each event into your system) and
`check_system` (compare your system with the batch) to test a scheduler or client against
the lifecycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._clock import ManualClock
from ._fake import FakeBatchAPI
from ._fake_fate import Fate

if TYPE_CHECKING:
    from ._machine import BatchLifecycleMachine

__all__ = ["BatchLifecycleMachine", "FakeBatchAPI", "Fate", "ManualClock"]


def __getattr__(name: str) -> Any:
    if name == "BatchLifecycleMachine":
        from ._machine import BatchLifecycleMachine

        return BatchLifecycleMachine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
