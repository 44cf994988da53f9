"""A generated decoder for the common payload, in front of the cattrs converter.

cattrs structures each field through a hook call; with strict hooks that is most of the
cost of `loads` (callgrind: ~135k instructions for a full batch, against ~64k for openai's
Rust-backed model). This module generates, from the same attrs fields and the same rules,
one straight-line function per record class that checks each value inline and fills the
record's slots directly (~75k with the JSON parse, against 64k). It only ever answers for
payloads it fully vouches for: every value of the right type, and every unknown value a
JSON value (`_strict.trouble`) that orjson cannot have rounded (a float from an integer
beyond 64 bits). For anything else it
returns `MISS`, and the cattrs converter decodes — and reports every problem — as before.
A property test checks that both give equal records wherever the shortcut answers.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Callable
from typing import Any, Final

import attrs

from ._generated import compile_lines
from ._record import BOOKKEEPING, DEPTHS, TIMESTAMP_FIELDS, Batch, Status, wire_keys, wire_names
from ._strict import INT64_MAX, INT64_MIN, clean, exact_pass

__all__ = ["MISS", "decoder", "encoder"]

MISS: Final = object()

_FILE_IDS = frozenset({"input_file_id", "output_file_id", "error_file_id"})
_ABSENT: Final = object()


def _remember(cache: dict[int, frozenset[str]], bits: dict[int, str], mask: int) -> frozenset[str]:
    """The names of the optional keys `mask` says are absent, kept in `cache` for the next
    payload that leaves out the same ones (at most 256 sets: payloads choose what they omit)."""
    found = frozenset(field for bit, field in bits.items() if mask & bit)
    if len(cache) < 256:
        cache[mask] = found
    return found


_NONE = type(None)
_LEAVES: Final = frozenset({str, int, bool, _NONE})


def _unknown(var: str, depth: int, miss: str, reading: bool) -> list[str]:
    """Lines that do `miss` unless the unknown keys in `var` (of an object `depth` deep)
    are JSON values (`_strict.clean`). Keys that hold strings, ints, booleans and nulls
    only, the common case, are checked inline; any other sends them to `clean`, which
    trusts floats on reading only on an exact pass."""
    floats = ", floats_exact=EXACT.get()" if reading else ""
    return [
        f"for key, value in {var}.items():",
        "    if type(key) is not str or type(value) not in LEAVES:",
        f"        if not clean({var}, {depth}{floats}):",
        f"            {miss}",
        "        break",
    ]


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
            "filterfalse": itertools.filterfalse,
            "LO": INT64_MIN,
            "HI": INT64_MAX,
            "STATUSES": {status.value: status for status in Status},
            "clean": clean,
            "EXACT": exact_pass,
            "LEAVES": _LEAVES,
            "ABSENT": _ABSENT,
            "remember": _remember,
        }

    def function(self, cls: type, nullable_endpoint: bool = False) -> str:
        """A function for a record with optional keys (Batch, BatchErrors, BatchError)."""
        name = f"decode_{cls.__name__}"
        hints = typing.get_type_hints(cls)
        names = wire_names(cls)
        required, optional = wire_keys(cls)
        # Absent optional keys are found by a lookup each and counted, and unknown keys by
        # the count: set algebra over the keys cost a sixth of decoding a payload that
        # leaves some out (most do: model, usage).
        bits = {field: 1 << index for index, field in enumerate(sorted(optional))}
        self.globals[f"{name}_known"] = required | optional
        self.globals[f"{name}_count"] = len(required | optional)
        self.globals[f"{name}_bits"] = {bit: field for field, bit in bits.items()}
        self.globals[f"{name}_omitted"] = {}
        fields: list[str] = []  # the reads and checks of the fields, run inside a try
        for field in names:
            inner, nullable = _unwrap(hints[field])
            if cls is Batch and field == "endpoint":
                nullable = nullable_endpoint
            var = f"v_{field}"
            if field in required:
                fields.append(f"    {var} = o[{field!r}]")
            else:
                fields += [
                    f"    {var} = o.get({field!r}, ABSENT)",
                    f"    if {var} is ABSENT:",
                    f"        {var} = None",
                    f"        absent |= {bits[field]}",
                    "        missing += 1",
                ]
            guard = f"{var} is not None and " if nullable or field not in required else ""
            if inner is str:
                empty = f" or not {var}" if cls is Batch and field in _FILE_IDS else ""
                fields += [f"    if {guard}(type({var}) is not str{empty}):", "        return MISS"]
            elif inner is int:
                low = "0" if cls is Batch and field in TIMESTAMP_FIELDS else "LO"
                fields += [
                    f"    if {guard}(type({var}) is not int or not {low} <= {var} <= HI):",
                    "        return MISS",
                ]
            elif inner is Status:
                fields += [
                    f"    {var} = STATUSES.get({var}) if type({var}) is str else None",
                    f"    if {var} is None:",
                    "        return MISS",
                ]
            elif typing.get_origin(inner) is list:
                element = self.function(typing.get_args(inner)[0])
                fields += [
                    f"    if {var} is not None:",
                    f"        if type({var}) is not list:",
                    "            return MISS",
                    # A megabyte of nulls is refused at its first, not after a pass over
                    # all of them (the generator stops there; its cost per item is small).
                    f"        if any(type(item) is not dict for item in {var}):",
                    "            return MISS",
                    f"        {var} = [{element}(item) for item in {var}]",
                    f"        if any(item is MISS for item in {var}):",
                    "            return MISS",
                ]
            elif typing.get_origin(inner) is dict:
                fields += [
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
                fields += [f"    if {var} is not None:", *(f"        {line}" for line in step)]
            else:  # errors: optional, with optional keys of its own
                nested = self.function(inner)
                step = [f"{var} = {nested}({var})", f"if {var} is MISS:", "    return MISS"]
                fields += [f"    if {var} is not None:", *(f"        {line}" for line in step)]
        lines = [f"def {name}(o):", "    if type(o) is not dict:", "        return MISS"]
        lines += ["    absent = missing = 0", "    try:", *(f"    {line}" for line in fields)]
        lines += [
            "    except KeyError:  # a required key is absent",
            "        return MISS",
            "    extra = None",
            f"    if len(o) != {name}_count - missing:",
            # Unknown keys keep the order they came in, so that writing them is stable.
            f"        extra = {{key: o[key] for key in filterfalse({name}_known.__contains__, o)}}",
            *(f"        {line}" for line in _unknown("extra", DEPTHS[cls], "return MISS", True)),
        ]
        lines += [f"    {line}" for line in self.build(cls, "record", "v_", "extra")]
        lines += [
            "    if absent:",
            f"        omitted = {name}_omitted.get(absent)",
            "        if omitted is None:",
            f"            omitted = remember({name}_omitted, {name}_bits, absent)",
            "        record.omitted = omitted",
            "    return record",
        ]
        self.lines += [*lines, ""]
        return name

    def inline(self, cls: type, var: str) -> list[str]:
        """Lines that check the dict in `var` as a `cls` and replace it by the record."""
        hints = typing.get_type_hints(cls)
        names = wire_names(cls)
        known = f"{var}_known"
        self.globals[known] = frozenset(names)
        extra = f"{var}__extra"
        lines = [
            f"if type({var}) is not dict:",
            "    return MISS",
            f"{extra} = None",
            f"if {var}.keys() != {known}:",
            f"    if not {known} <= {var}.keys():",
            "        return MISS",
            f"    {extra} = {{",
            f"        key: {var}[key] for key in filterfalse({known}.__contains__, {var})",
            "    }",
            *(f"    {line}" for line in _unknown(extra, DEPTHS[cls], "return MISS", True)),
        ]
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
        lines += self.build(cls, var, f"{var}_", extra)
        return lines

    def build(self, cls: type, var: str, prefix: str, extra: str) -> list[str]:
        """Lines that make a `cls` record in `var` from the locals ``<prefix><field>``, and
        its unknown keys from the local `extra` (None when there are none).

        The record is made with ``__new__`` and its slots are assigned one by one: calling
        the attrs ``__init__`` with ~25 keyword arguments cost a third of decoding (CPython
        matches each keyword against the parameter names). That is what ``__init__`` does
        only while no field has a validator, converter or ``on_setattr`` hook and there is
        no ``__attrs_post_init__``; a record class that gains one is refused here.
        """
        if hasattr(cls, "__attrs_post_init__") or "__setattr__" in vars(cls):
            raise TypeError(f"{cls.__name__} has an init hook the generated decoder skips")
        key = cls.__name__
        self.globals[f"new_{key}"] = cls.__new__
        self.globals[f"cls_{key}"] = cls
        lines = [f"{var} = new_{key}(cls_{key})"]
        for field in attrs.fields(cls):
            if field.validator is not None or field.converter is not None:
                raise TypeError(f"{cls.__name__}.{field.name} has a hook the decoder skips")
            if field.name not in BOOKKEEPING:
                lines.append(f"{var}.{field.name} = {prefix}{field.name}")
            elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                self.globals[f"make_{key}_{field.name}"] = field.default.factory
                made = f"make_{key}_{field.name}()"
                if field.name == "extra":
                    made = f"{extra} if {extra} is not None else {made}"
                lines.append(f"{var}.{field.name} = {made}")
            else:  # an immutable default, shared as attrs shares it
                self.globals[f"default_{key}_{field.name}"] = field.default
                lines.append(f"{var}.{field.name} = default_{key}_{field.name}")
        return lines


def decoder(*, nullable_endpoint: bool = False) -> Callable[[Any], Any]:
    """The generated decoder of a `Batch` (``compat`` reads a null endpoint)."""
    source = _Source()
    entry = source.function(Batch, nullable_endpoint)
    title = f"decoder{' (null endpoint)' if nullable_endpoint else ''}"
    function: Callable[[Any], Any] = compile_lines(source.lines, title, source.globals)[entry]
    return function


# -- the writer ------------------------------------------------------------------------


class _Writer:
    """Generates, from the attrs fields, one function that writes a record's wire object,
    or returns `MISS` for anything but the values the decoder makes (then `_shape` writes
    it, checking every value, or says which one cannot be written)."""

    def __init__(self, fallback: Callable[[Batch], Any]) -> None:
        self.lines: list[str] = []
        self.miss = "return MISS"
        self.globals: dict[str, Any] = {
            "FALLBACK": fallback,
            "MISS": MISS,
            "ABSENT": _ABSENT,
            "Status": Status,
            "clean": clean,
            "LEAVES": _LEAVES,
        }

    def function(self, cls: type, miss: str = "return MISS") -> str:
        """A function writing a `cls` record; `miss` is what it does where it does not
        vouch for the record (an array's items give up; the batch falls back)."""
        name = f"encode_{cls.__name__}"
        outer, self.miss = self.miss, miss
        body = [f"if type(r) is not cls_{cls.__name__}:", f"    {miss}"]
        body += self.record(cls, "r", "out")
        self.miss = outer
        self.globals[f"cls_{cls.__name__}"] = cls
        self.lines += [f"def {name}(r):", *(f"    {line}" for line in body), "    return out", ""]
        return name

    def record(self, cls: type, rec: str, out: str) -> list[str]:
        """Lines that put the wire object of the record in `rec` in `out` (or give up).

        Each value is read into a local and checked inline (a check per field costs less
        than one pass over the values: CPython specialises ``type(x)``), then the object is
        made by one dict display, in field order.
        """
        hints = typing.get_type_hints(cls)
        names = wire_names(cls)
        depth = DEPTHS[cls]
        self.globals[f"names_{cls.__name__}"] = frozenset(names)
        lines: list[str] = []
        checks: list[str] = []
        values: dict[str, str] = {}
        for name in names:
            inner, nullable = _unwrap(hints[name])
            var = f"{rec}_{name}"
            values[name] = var
            lines.append(f"{var} = {rec}.{name}")
            if inner is str or inner is int:
                check = f"type({var}) is not {inner.__name__}"
                checks.append(f"({var} is not None and {check})" if nullable else check)
        if checks:
            lines += [
                "if (",
                *(
                    f"    {check}{' or' if n < len(checks) - 1 else ''}"
                    for n, check in enumerate(checks)
                ),
                "):",
                f"    {self.miss}",
            ]
        for name in names:
            inner, nullable = _unwrap(hints[name])
            var = values[name]
            if inner is str or inner is int:
                continue
            if inner is Status:
                lines += [f"if type({var}) is not Status:", f"    {self.miss}"]
                values[name] = f"{var}._value_"
                continue
            if typing.get_origin(inner) is list:
                element = self.function(typing.get_args(inner)[0], "return MISS")
                step = [
                    f"if type({var}) is not list:",
                    f"    {self.miss}",
                    f"{var} = [{element}(item) for item in {var}]",
                    f"if MISS in {var}:",
                    f"    {self.miss}",
                ]
            elif typing.get_origin(inner) is dict:
                step = [
                    f"if type({var}) is not dict:",
                    f"    {self.miss}",
                    f"for key, item in {var}.items():",
                    "    if type(key) is not str or type(item) is not str:",
                    f"        {self.miss}",
                    f"{var} = dict({var})",
                ]
            else:  # a nested record
                self.globals[f"cls_{inner.__name__}"] = inner
                step = [
                    f"if type({var}) is not cls_{inner.__name__}:",
                    f"    {self.miss}",
                    *self.record(inner, var, f"{out}_{name}"),
                    f"{var} = {out}_{name}",
                ]
            if nullable:
                lines += [f"if {var} is not None:", *(f"    {line}" for line in step)]
            else:
                lines += step
        display = ", ".join(f"{name!r}: {values[name]}" for name in names)
        lines.append(f"{out} = {{{display}}}")
        if "omitted" in attrs.fields_dict(cls):
            lines += [
                f"{rec}__omitted = {rec}.omitted",
                f"if type({rec}__omitted) is not frozenset:",
                f"    {self.miss}",
                f"if {rec}__omitted:",
                "    try:",
                f"        for key in {rec}__omitted:",
                f"            if {out}[key] is None:",
                f"                del {out}[key]",
                "    except Exception:  # a name that is no key: the careful writer says so",
                f"        {self.miss}",
            ]
        lines += [
            f"{rec}__extra = {rec}.extra",
            f"if type({rec}__extra) is not dict:",
            f"    {self.miss}",
            f"if {rec}__extra:",
            *(f"    {line}" for line in _unknown(f"{rec}__extra", depth, self.miss, False)),
            f"    if not names_{cls.__name__}.isdisjoint({rec}__extra):",
            f"        {self.miss}",
            f"    {out}.update({rec}__extra)",
        ]
        return lines


def encoder(fallback: Callable[[Batch], Any] | None = None) -> Callable[[Batch], Any]:
    """The generated writer of a `Batch`'s wire object; where it does not vouch for the
    record, it returns ``fallback(record)`` (`MISS` without one)."""
    writer = _Writer(fallback or _missed)
    entry = writer.function(Batch, "return FALLBACK(r)")
    function: Callable[[Batch], Any] = compile_lines(writer.lines, "encoder", writer.globals)[entry]
    return function


def _missed(record: Batch) -> Any:
    return MISS
