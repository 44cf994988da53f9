"""The generated lifecycle reference page stays in sync with the table."""

from __future__ import annotations

from pathlib import Path

from batchfsm import TRANSITIONS
from batchfsm._reference import lifecycle_page

PAGE = Path(__file__).parent.parent / "docs" / "lifecycle.md"


def test_page_is_current() -> None:
    """docs/lifecycle.md is exactly what the table generates (regenerate: see the page)."""
    assert PAGE.read_text(encoding="utf-8") == lifecycle_page(), (
        "docs/lifecycle.md is stale: python -m batchfsm._reference > docs/lifecycle.md"
    )


def test_page_lists_every_edge() -> None:
    """Each edge of the table has its row on the page."""
    page = lifecycle_page()
    for edge in TRANSITIONS:
        row = f"| `{edge.event}` | {edge.source.value} | {edge.dest.value} | `{edge.stamp}` |"
        assert row in page
