"""The ``hypothesis`` entry point: after it, ``st.from_type(Batch)`` draws valid batches.

Hypothesis runs entry points while it is being imported, and `batchfsm.strategies` imports
Hypothesis: so the hook lives here, apart, and touches the strategies only when a batch is
drawn. (In `batchfsm.strategies` itself, importing that module first found it half-made.)
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Register a lazy strategy for `Batch`; nothing is drawn or built here."""
    from hypothesis import strategies as st

    from ._record import Batch

    def batches() -> Any:
        from .strategies import batches

        return batches()

    st.register_type_strategy(Batch, st.deferred(batches))
