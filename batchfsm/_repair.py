"""Stand-ins for the values the codec refused, so that the rest of a payload is still judged.

A decode violation points, by its JSONPath, at a value the codec could not read or at a
required key that is absent. `repair` puts a stand-in the codec reads in its place (null
where the field may be null, else a neutral value of its type) and names the facts
(`_rules.FACTS`) the stand-in hides: the partial check skips every check reading one. A
value refused inside an array or a string map (``errors.data[3].code``, ``metadata.k``)
stands for its whole field, as the fact is the whole field.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from ._errors import Violation
from ._jsonpath import ROOT, child
from ._record import Batch, Status, wire_names
from ._rules import FACTS

__all__ = ["repair"]

Keys = tuple[str, ...]


@attrs.frozen
class _Field:
    """A value the codec reads on its own: the keys that lead to it from the batch object,
    what replaces it when refused, and the facts that replacement hides."""

    keys: Keys
    stand_in: Any
    hides: frozenset[str]
    items: bool  # it holds an array or a map, whose items the codec reads in turn


# Where each fact is read from in the wire object.
_FACT_KEYS: dict[str, Keys] = {
    name: (attribute,) if parent is None else (parent, *attribute.split("."))
    for name, (parent, attribute) in FACTS.items()
}
_NEUTRAL: dict[Any, Any] = {str: "-", int: 0, Status: Status.VALIDATING.value}


def _members(tp: Any) -> tuple[Any, ...]:
    """The types a field of type `tp` may hold: a union's members, else `tp` itself."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def _record(tp: Any) -> type | None:
    """The record class a field of type `tp` holds, if any."""
    for member in _members(tp):
        if typing.get_origin(member) is None and attrs.has(member):
            return member
    return None


def _stand_in(tp: Any) -> Any:
    """A value the codec reads for a field of type `tp`: null where it may be null."""
    if type(None) in _members(tp):
        return None
    record = _record(tp)
    if record is not None:  # shared by every repair: the codec never changes what it reads
        hints = typing.get_type_hints(record)
        return {name: _stand_in(hints[name]) for name in wire_names(record)}
    return _NEUTRAL[tp]


def _hides(keys: Keys) -> frozenset[str]:
    """The facts read at or inside the value at `keys` (none is read from inside a field:
    an array or a map is one field, and one fact)."""
    return frozenset(name for name, at in _FACT_KEYS.items() if at[: len(keys)] == keys)


def _fields(cl: type, keys: Keys = (), path: str = ROOT) -> Iterator[tuple[str, _Field]]:
    """Each value of record class `cl` the codec reads on its own, with its path, and
    those of the records it holds."""
    hints = typing.get_type_hints(cl)
    for name in wire_names(cl):
        tp = hints[name]
        here, where = (*keys, name), child(path, name)
        items = any(typing.get_origin(member) in (list, dict) for member in _members(tp))
        yield where, _Field(here, _stand_in(tp), _hides(here), items)
        record = _record(tp)
        if record is not None:
            yield from _fields(record, here, where)


_FIELDS: dict[str, _Field] = dict(_fields(Batch))
# A path below a field of items (``$.errors.data[3].code``) names that field.
_CONTAINERS: tuple[tuple[tuple[str, str], _Field], ...] = tuple(
    ((f"{path}.", f"{path}["), field) for path, field in _FIELDS.items() if field.items
)


def _field(path: str) -> _Field | None:
    """The field a violation at `path` refuses, or None for a path the codec never reports."""
    field = _FIELDS.get(path)
    if field is not None:
        return field
    for prefixes, container in _CONTAINERS:
        if path.startswith(prefixes):
            return container
    return None


def repair(
    value: Mapping[str, Any], refused: Iterable[Violation]
) -> tuple[dict[str, Any], frozenset[str]] | None:
    """`value` with a stand-in for each value the codec refused, and the facts they hide.

    Args:
        value: A wire object as the codec read it (after the rewrites of compat, if any).
        refused: The violations it reported, at their paths in `value`.

    Returns:
        A new object, sharing what it did not change with `value` (which is left alone),
        and the hidden facts; None if a violation points where no field is.
    """
    chosen: dict[Keys, _Field] = {}
    for violation in refused:
        field = _field(violation.path)
        if field is None:
            return None
        chosen[field.keys] = field
    out = dict(value)
    copies: dict[Keys, dict[str, Any]] = {(): out}
    hidden: set[str] = set()
    # The codec reports nothing inside a record it refused whole: no field chosen lies
    # inside another.
    for keys, field in chosen.items():
        parent = _copied(copies, keys[:-1])
        if parent is None:
            return None
        parent[keys[-1]] = field.stand_in
        hidden |= field.hides
    return out, frozenset(hidden)


def _copied(copies: dict[Keys, dict[str, Any]], keys: Keys) -> dict[str, Any] | None:
    """The record at `keys`, copied (once) into the copies of the records around it, or None
    if it is not an object."""
    record = copies[()]
    for n in range(1, len(keys) + 1):
        inner = copies.get(keys[:n])
        if inner is None:
            current = record.get(keys[n - 1])
            if not isinstance(current, Mapping):
                return None
            try:
                inner = dict(current)
            except Exception:  # a caller's mapping may raise anything: the codec reported it
                return None
            copies[keys[:n]] = inner
            record[keys[n - 1]] = inner
        record = inner
    return record
