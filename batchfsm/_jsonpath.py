"""JSONPath spelling of the places violations point at (RFC 9535 normalized paths)."""

from __future__ import annotations

import re
from collections.abc import Iterable

ROOT = "$"

_MEMBER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def child(path: str, key: str | int) -> str:
    """The path of member `key` (a name or an array index) below `path`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _MEMBER_NAME.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def join(path: str, keys: Iterable[str | int]) -> str:
    """The path reached from `path` through each of `keys` in turn."""
    for key in keys:
        path = child(path, key)
    return path
