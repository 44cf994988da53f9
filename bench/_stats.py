"""The statistics and formatting the benchmark scripts share: samples, medians, ratios."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Cell:
    """The samples of one measurement (µs per call), taken over interleaved rounds."""

    n: int
    samples_us: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_us)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median: how noisy the samples were."""
        if len(self.samples_us) < 2:
            return 0.0
        # "inclusive" stays inside the observed range, which matters with few rounds.
        q1, _, q3 = statistics.quantiles(self.samples_us, n=4, method="inclusive")
        return (q3 - q1) / self.median_us


def rotated(items: Sequence[T], by: int) -> list[T]:
    """`items` rotated by `by`, so each round visits them in another order."""
    k = by % len(items)
    return [*items[k:], *items[:k]]


def fmt_us(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    return f"{cell.median_us:.3f}" if cell.median_us < 1 else f"{cell.median_us:.2f}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}x" if value >= 100 else f"{value:.2f}x"


def present(values: Iterable[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def geomean(values: Sequence[float]) -> float | None:
    return statistics.geometric_mean(values) if values else None


def verdict(value: float | None, limit: float, missing: str = "SKIPPED") -> str:
    if value is None:
        return missing
    # Three decimals: a 1.004x shown as "1.00x" next to MISSED would look like a bug.
    return f"{value:.3f}x {'MET' if value <= limit else 'MISSED'}"


def bench_parser(doc: str | None, rounds: int, quick: str) -> argparse.ArgumentParser:
    """A parser with the options every bench script takes: --rounds, --quick and --json."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--rounds", type=int, help=f"rounds (default {rounds})")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {quick}")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    return parser


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write `report` as indented JSON to `path` and say so."""
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")


def versions(*modules: str) -> dict[str, str]:
    """Python's version and the ``__version__`` of each of `modules` that imports."""
    found = {"python": platform.python_version()}
    for module in modules:
        try:
            found[module] = str(importlib.import_module(module).__version__)
        except (ImportError, AttributeError):
            continue
    return found
