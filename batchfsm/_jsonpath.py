"""JSONPath spelling of the places violations point at (RFC 9535 normalized paths).

Member names that are plain identifiers keep the dot form users match on (``$.metadata.k``);
any other name uses bracket notation with the escapes of RFC 9535 §2.7, so a path never
holds a raw control character (``$.metadata['a\\nb']``). A key that JSON cannot hold (a
Python tuple or float in a mapping handed to the validator) is shown by its ``repr`` in
brackets, unquoted, which no JSON key can spell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ROOT = "$"

_MEMBER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# RFC 9535 §2.7: the only escapes a normalized path uses.
_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TO_ESCAPE = re.compile(r"[\x00-\x1f'\\]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in "'\\":
        return "\\" + char
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def child(path: str, key: object) -> str:
    """The path of member `key` (a name or an array index) below `path`."""
    if isinstance(key, str):
        name = str.__str__(key)  # a subclass's own __str__ does not decide the path
        if _MEMBER_NAME.match(name):
            return f"{path}.{name}"
        return f"{path}['{_TO_ESCAPE.sub(_escape, name)}']"
    if type(key) is int and -(10**18) < key < 10**18:
        return f"{path}[{key}]"
    return f"{path}[{_shown(key)}]"


def _shown(key: object) -> str:
    """A key JSON cannot hold, as text no name or index spells (its ``repr``, shortened)."""
    try:
        text = repr(key)
    except Exception:  # a hostile __repr__, or an int past the conversion limit
        text = f"<{type(key).__name__}>"
    if len(text) > 60:
        text = text[:57] + "..."
    return _TO_ESCAPE.sub(_escape, text)


def join(path: str, keys: Iterable[object]) -> str:
    """The path reached from `path` through each of `keys` in turn."""
    for key in keys:
        path = child(path, key)
    return path
