"""Python values no JSON parser makes, that the codec and the validator must take in stride."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class ArrayLike:
    """Like a numpy array: == answers with another array-like, truth is ambiguous."""

    def __eq__(self, other: object) -> Any:
        return ArrayLike()

    def __ne__(self, other: object) -> Any:
        return ArrayLike()

    def __bool__(self) -> bool:
        raise ValueError("the truth value of an array is ambiguous")

    __hash__ = object.__hash__


class BrokenMapping(Mapping[str, Any]):
    """A mapping whose every method raises."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("no item")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no iter")

    def __len__(self) -> int:
        raise RuntimeError("no len")
