"""The lifecycle drawn as a mermaid ``stateDiagram-v2`` by transitions' diagram extension."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from transitions.extensions.diagrams import GraphMachine

from ._record import Status
from ._table import INITIAL, Provenance, Transition

__all__ = ["mermaid"]


class _Canvas:
    """The model GraphMachine draws; it holds nothing but the state attribute."""

    status: Any = INITIAL


def mermaid(transitions: Iterable[Transition]) -> str:
    """Mermaid text for `transitions`; tolerated edges are labelled ``(tolerated)``."""
    edges = [
        {
            "trigger": t.event
            if t.provenance is Provenance.DOCUMENTED
            else f"{t.event} (tolerated)",
            "source": t.source,
            "dest": t.dest,
        }
        for t in transitions
    ]
    machine = GraphMachine(
        model=_Canvas(),
        states=Status,
        transitions=edges,
        initial=INITIAL,
        auto_transitions=False,
        model_attribute="status",
        graph_engine="mermaid",
        title="batch lifecycle",
    )
    text = str(machine.get_combined_graph().draw(None))
    # transitions names enum states by member name and marks the model's current state;
    # the diagram shows the wire statuses and no current state.
    for status in Status:
        text = text.replace(f'state "{status.name}"', f'state "{status.value}"')
    return text.replace(" s_active\n", " s_default\n")
