"""A generated decoder for the common payload, in front of the cattrs converter.

cattrs structures each field through a hook call; with strict hooks that is most of the
cost of `loads` (callgrind: ~135k instructions for a full batch, against ~64k for openai's
Rust-backed model). This module generates, from the same attrs fields and the same rules,
one straight-line function per record class that checks each value inline and builds the
record with literal keyword arguments (~91k). It only ever answers for payloads it fully
vouches for: every value of the right type, no unknown key. For anything else it returns
`MISS`, and the cattrs converter decodes — and reports every problem — as before. A
property test checks that both give equal records wherever the shortcut answers.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, Final

import attrs

from ._record import TIMESTAMP_FIELDS, Batch, Status, wire_keys, wire_names
from ._strict import INT64_MAX, INT64_MIN

__all__ = ["MISS", "decoder"]

MISS: Final = object()

_FILE_IDS = frozenset({"input_file_id", "output_file_id", "error_file_id"})
_NONE = type(None)


def _unwrap(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if _NONE in args:
        (inner,) = [arg for arg in args if arg is not _NONE]
        return inner, True
    return tp, False


class _Source:
    """Collects the generated functions and the globals they need."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.globals: dict[str, Any] = {
            "MISS": MISS,
            "LO": INT64_MIN,
            "HI": INT64_MAX,
            "STATUSES": {status.value: status for status in Status},
        }

    def function(self, cls: type, nullable_endpoint: bool = False) -> str:
        """A function for a record with optional keys (Batch, BatchErrors, BatchError)."""
        name = f"decode_{cls.__name__}"
        hints = typing.get_type_hints(cls)
        names = wire_names(cls)
        required, optional = wire_keys(cls)
        self.globals[f"{name}_known"] = required | optional
        self.globals[f"{name}_required"] = required
        self.globals[f"{name}_optional"] = optional
        self.globals[f"{name}_cls"] = cls
        body = [
            f"def {name}(o):",
            "    if type(o) is not dict:",
            "        return MISS",
            "    keys = o.keys()",
            "    absent = None",
            f"    if keys != {name}_known:",
            f"        if not (keys <= {name}_known and {name}_required <= keys):",
            "            return MISS",
            f"        absent = {name}_optional - keys",
        ]
        for field in names:
            inner, nullable = _unwrap(hints[field])
            if cls is Batch and field == "endpoint":
                nullable = nullable_endpoint
            getter = f"o[{field!r}]" if field in required else f"o.get({field!r})"
            var = f"v_{field}"
            body.append(f"    {var} = {getter}")
            guard = f"{var} is not None and " if nullable or field not in required else ""
            if inner is str:
                empty = f" or not {var}" if cls is Batch and field in _FILE_IDS else ""
                body += [f"    if {guard}(type({var}) is not str{empty}):", "        return MISS"]
            elif inner is int:
                low = "0" if cls is Batch and field in TIMESTAMP_FIELDS else "LO"
                body += [
                    f"    if {guard}(type({var}) is not int or not {low} <= {var} <= HI):",
                    "        return MISS",
                ]
            elif inner is Status:
                body += [
                    f"    {var} = STATUSES.get({var}) if type({var}) is str else None",
                    f"    if {var} is None:",
                    "        return MISS",
                ]
            elif typing.get_origin(inner) is list:
                element = self.function(typing.get_args(inner)[0])
                body += [
                    f"    if {var} is not None:",
                    f"        if type({var}) is not list:",
                    "            return MISS",
                    f"        {var} = [{element}(item) for item in {var}]",
                    f"        if any(item is MISS for item in {var}):",
                    "            return MISS",
                ]
            elif typing.get_origin(inner) is dict:
                body += [
                    f"    if {var} is not None:",
                    f"        if type({var}) is not dict:",
                    "            return MISS",
                    f"        for key, item in {var}.items():",
                    "            if type(key) is not str or type(item) is not str:",
                    "                return MISS",
                    f"        {var} = dict({var})",
                ]
            elif "omitted" not in attrs.fields_dict(inner):
                # A record whose keys are all required is checked and built inline: a
                # Python call per nested record is a measurable part of decoding.
                # Every such field of these records is optional (request_counts, usage).
                step = self.inline(inner, var)
                body += [f"    if {var} is not None:", *(f"        {line}" for line in step)]
            else:  # errors: optional, with optional keys of its own
                nested = self.function(inner)
                step = [f"{var} = {nested}({var})", f"if {var} is MISS:", "    return MISS"]
                body += [f"    if {var} is not None:", *(f"        {line}" for line in step)]
        arguments = ", ".join(f"{field}=v_{field}" for field in names)
        body += [
            f"    record = {name}_cls({arguments})",
            "    if absent:",
            "        record.omitted = frozenset(absent)",
            "    return record",
        ]
        self.lines += [*body, ""]
        return name

    def inline(self, cls: type, var: str) -> list[str]:
        """Lines that check the dict in `var` as a `cls` and replace it by the record."""
        hints = typing.get_type_hints(cls)
        names = wire_names(cls)
        known = f"{var}_known"
        self.globals[known] = frozenset(names)
        self.globals[f"{var}_cls"] = cls
        lines = [f"if type({var}) is not dict or {var}.keys() != {known}:", "    return MISS"]
        for field in names:
            item = f"{var}_{field}"
            lines.append(f"{item} = {var}[{field!r}]")
            if hints[field] is int:
                lines += [
                    f"if type({item}) is not int or not LO <= {item} <= HI:",
                    "    return MISS",
                ]
            else:  # a nested all-required record (usage's details)
                lines += self.inline(hints[field], item)
        arguments = ", ".join(f"{field}={var}_{field}" for field in names)
        lines.append(f"{var} = {var}_cls({arguments})")
        return lines


def decoder(*, nullable_endpoint: bool = False) -> Callable[[Any], Any]:
    """The generated decoder of a `Batch` (``compat`` reads a null endpoint)."""
    source = _Source()
    entry = source.function(Batch, nullable_endpoint)
    code = "\n".join(source.lines)
    namespace = dict(source.globals)
    exec(compile(code, f"<batchfsm generated decoder {entry}>", "exec"), namespace)
    function: Callable[[Any], Any] = namespace[entry]
    return function
