"""The JSON Schema (2020-12) of the wire batch object under a profile, generated.

Nothing in it is written here. The keys of each object, their JSON types and which are
required come from the record (`_record`: the attrs fields, their annotations,
`wire_keys`); the integer ranges from the codec's bounds (`_strict`); the statuses from
the lifecycle table (those a batch can reach under the profile). Every payload rule of the
registry (`_rules`) that is an error under the profile is read from its condition, and
stated when the condition is one a schema can state about one value: a constant, an
enumeration, a bound, a length, a pattern, a key that must be there. The rules no schema
can state — they relate several values, hold in some statuses only, or compare snapshots —
are named in the schema's description. Under a profile that reads provider quirks, each
quirk rule (``compat.*``) widens the schema to the spellings it reads.

The schema never refuses what batchfsm accepts: a payload it refuses, `validate` refuses
under the same profile (the tests check it on every valid payload the strategies draw, and
check that every type or shape error of the catalog fails it). Its patterns are ECMA-262
regular expressions within JSON Schema's interoperable subset (``^``, ``$``, classes,
groups, alternation).
"""

from __future__ import annotations

import array
import ast
import copy
import functools
import re
import string
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._checks import concrete
from ._compat import (
    _ISO,
    _MILLISECONDS_TO,
    _NUMERIC,
    _STATUS_ALIASES,
    _WINDOW_SPELLED,
    _camel,
)
from ._errors import Severity
from ._profile import Profile, resolve
from ._record import (
    DEPTHS,
    FILE_ID_FIELDS,
    MILLISECONDS_FROM,
    TIMESTAMP_FIELDS,
    WINDOW_PATTERN,
    Batch,
    BatchErrors,
    RequestCounts,
    Status,
    window_seconds,
    wire_keys,
    wire_names,
)
from ._rules import DERIVED, FACTS, NAMES, RULES, Stage
from ._strict import INT64_MAX, INT64_MIN
from ._table import INITIAL, reachable, transitions_for

__all__ = ["json_schema"]

Schema = dict[str, Any]

#: The dialect of the schemas made here.
DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The page that explains every violation code (docs/violations.md).
VIOLATIONS_PAGE = "https://github.com/batchfsm/batchfsm/blob/main/docs/violations.md"

_ERROR = Severity.ERROR
_NONE = type(None)


def json_schema(profile: Profile | str = "openai") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the wire batch object under `profile`.

    Generated from the record and the rule registry: the keys and their JSON types, the
    required keys, the statuses a batch can reach under the profile, the integer ranges,
    the metadata limits, and every other rule that is an error under the profile and can
    be said of one value (``object`` is ``"batch"``; under ``strict``, the endpoints and
    the ``24h`` window); under ``compat``, also the spellings it reads, and a list of
    batches. The batch object is ``$defs/Batch``, which the document refers to. Unknown
    keys are allowed, as batchfsm keeps them. What a schema cannot say — the lifecycle
    rules, which relate several fields or depend on the status, and the history rules — is
    named in its ``description``, with a link to the violation codes. A payload the schema
    refuses, `validate` refuses under the same profile; one it accepts may still break
    those rules.

    Args:
        profile: A `Profile` or a preset's name (``strict``, ``openai``, ``compat``).

    Returns:
        A new dict each call, ready for ``json.dumps``.

    Raises:
        ArgumentError: for a `profile` that is neither.
    """
    return copy.deepcopy(generated(resolve(profile)).schema)


@attrs.frozen
class Generated:
    """A profile's schema, with the error codes it states and those it leaves out.

    Attributes:
        schema: The schema.
        said: The codes of the rules it states whole: the type and shape rules, and each
            payload rule whose every check it states.
        unsaid: The payload and history rules it cannot state (named in its description).
    """

    schema: Schema
    said: frozenset[str]
    unsaid: frozenset[str]


@functools.cache
def generated(profile: Profile) -> Generated:
    """The schema of `profile` and what it states (cached: the result is shared)."""
    return _Builder(profile).build()


# -- reading the rules' conditions ---------------------------------------------------------


@attrs.frozen
class _Constraint:
    """What one check of a rule demands of one value, as schema keywords.

    Attributes:
        fact: The fact (`FACTS`) whose value it constrains.
        schema: Keywords the value must satisfy.
        when: Only if the value satisfies these (``if``/``then``); None: always.
        present: The value must be there and not null (with the objects that hold it).
    """

    fact: str
    schema: Schema
    when: Schema | None = None
    present: bool = False


#: What a reader of `DERIVED` facts returns None for: a value that does not match.
_READERS: dict[Callable[..., Any], re.Pattern[str]] = {window_seconds: WINDOW_PATTERN}


def _anchored(pattern: re.Pattern[str]) -> str:
    """`pattern`, used with ``match`` and ending in ``\\Z``, as a JSON Schema pattern (which
    has no flags: a pattern that ignores case spells each letter both ways)."""
    body = pattern.pattern.removesuffix(r"\Z")
    if pattern.flags & re.IGNORECASE:
        body = _caseless(body)
    return f"^(?:{body})$" if "|" in body else f"^{body}$"


@functools.cache
def _folds() -> dict[str, str]:
    """The other characters Python's ``re`` matches to each ASCII letter when it ignores
    case (the long s, U+017F, for s; the Kelvin sign for k), found by asking it of every
    character."""
    points = array.array("I", range(0x80, 0xD800))
    points.extend(range(0xE000, 0x110000))
    text = points.tobytes().decode(f"utf-32-{sys.byteorder[0]}e")
    folds: dict[str, str] = {}
    for char in re.findall("(?i)[a-z]", text):
        (letter,) = [c for c in string.ascii_lowercase if re.fullmatch(f"(?i){c}", char)]
        folds[letter] = folds.get(letter, "") + char
    return folds


def _caseless(body: str) -> str:
    """A pattern that matches what `body` matches ignoring case, as Python's ``re`` does
    for ASCII letters: each letter outside a class is a class of its cases, each letter in
    a class adds its other cases (escapes are kept)."""
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            out.append(body[index : index + 2])
            index += 2
            continue
        if char == "[":
            end = index + 1
            while body[end] != "]":
                end += 2 if body[end] == "\\" else 1
            members = body[index + 1 : end]
            assert not re.search(r"[A-Za-z]-|-[A-Za-z]", members), body  # no range of letters
            letters = "".join(
                c.swapcase() + _folds().get(c.lower(), "")
                for c in members
                if c.isascii() and c.isalpha()
            )
            out.append(f"[{members}{letters}]")
            index = end + 1
            continue
        assert not (char == "?" and body[index + 1 : index + 2] in ("P", "<")), body
        is_letter = char.isascii() and char.isalpha()
        cases = f"{char.lower()}{char.upper()}{_folds().get(char.lower(), '')}"
        out.append(f"[{cases}]" if is_letter else char)
        index += 1
    return "".join(out)


def _derived(name: str) -> tuple[str, Schema] | None:
    """For a derived fact that is None exactly when a value does not match a pattern: that
    value's fact and the pattern."""
    call = ast.parse(DERIVED[name], mode="eval").body
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id in FACTS
    ):
        return None
    reader = _READERS.get(NAMES.get(call.func.id))  # type: ignore[arg-type]
    if reader is None:
        return None
    return call.args[0].id, {"pattern": _anchored(reader)}


_MISSING = object()


def _bound(node: ast.expr) -> Any:
    """The value of a literal, or of a name of `NAMES`; `_MISSING` for anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in NAMES and node.id not in FACTS:
        return NAMES[node.id]
    return _MISSING


def _is_not_none(node: ast.expr) -> str | None:
    """The name in ``name is not None``, else None."""
    if (
        isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Name)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.IsNot)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value is None
    ):
        return node.left.id
    return None


# Broken when ``fact OP bound``: so the value must satisfy ``{keyword: bound}``.
_ORDER: dict[type[ast.cmpop], str] = {
    ast.Lt: "minimum",
    ast.LtE: "exclusiveMinimum",
    ast.Gt: "maximum",
    ast.GtE: "exclusiveMaximum",
}
# Broken when ``len(fact) > n``: the keyword that bounds the size, by the fact's JSON type.
_SIZE = {"object": "maxProperties", "string": "maxLength", "array": "maxItems"}


def _core(node: ast.expr, over: str | None, types: Mapping[str, str]) -> _Constraint | None:
    """The constraint of a condition on one value that breaks the rule, if it is one a
    schema can state; `types` gives each fact's JSON type."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    left, op, right = node.left, node.ops[0], node.comparators[0]
    bound = _bound(right)
    if isinstance(left, ast.Name):
        name = left.id
        if isinstance(op, ast.Is) and bound is None:
            if name in FACTS:
                return _Constraint(name, {}, present=True)
            if name in DERIVED:
                found = _derived(name)
                return None if found is None else _Constraint(*found)
            return None
        if name not in FACTS or bound is _MISSING:
            return None
        if isinstance(op, ast.NotEq) and isinstance(bound, (str, int)):
            return _Constraint(name, {"const": bound})
        if isinstance(op, ast.NotIn) and isinstance(bound, (frozenset, set, tuple, list)):
            return _Constraint(name, {"enum": sorted(bound)})
        if type(op) in _ORDER and type(bound) is int:
            return _Constraint(name, {_ORDER[type(op)]: bound})
        return None
    sized = (
        isinstance(left, ast.Call)
        and isinstance(left.func, ast.Name)
        and left.func.id == "len"
        and len(left.args) == 1
        and isinstance(left.args[0], ast.Name)
    )
    if not sized or not isinstance(op, (ast.Gt, ast.GtE)) or type(bound) is not int:
        return None
    assert isinstance(left, ast.Call)
    assert isinstance(left.args[0], ast.Name)
    most = bound if isinstance(op, ast.Gt) else bound - 1
    name = left.args[0].id
    if over is not None and name == "key":
        return _Constraint(over, {"propertyNames": {"maxLength": most}})
    if over is not None and name == "value":
        return _Constraint(over, {"additionalProperties": {"maxLength": most}})
    keyword = _SIZE.get(types.get(name, ""))
    return None if keyword is None else _Constraint(name, {keyword: most})


def _translated(when: str, over: str | None, types: Mapping[str, str]) -> _Constraint | None:
    """The constraint a check's condition states of one value, or None if it states none a
    schema can say: ``fact is not None and CORE``, where CORE is about that fact alone (or
    a derived fact of it)."""
    node = ast.parse(when, mode="eval").body
    parts = node.values if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) else [node]
    cores = [part for part in parts if _is_not_none(part) is None]
    if len(cores) != 1:
        return None
    found = _core(cores[0], over, types)
    if found is None:
        return None
    schema, when_ = found.schema, found.when
    for part in parts:
        guarded = _is_not_none(part)
        if guarded is None:
            continue
        if guarded == found.fact:  # checked on a value that is there: null passes
            schema = _null_passes(schema)
        elif guarded in DERIVED and (derived := _derived(guarded)) and derived[0] == found.fact:
            when_ = derived[1] if when_ is None else _merge(when_, derived[1])
        else:
            return None
    return attrs.evolve(found, schema=schema, when=when_)


def _null_passes(schema: Schema) -> Schema:
    """`schema`, also satisfied by null (the keywords of bounds ignore null already)."""
    if "const" in schema:
        rest = {key: value for key, value in schema.items() if key != "const"}
        return {**rest, "enum": [schema["const"], None]}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    return schema


# -- schema keywords -----------------------------------------------------------------------

_TIGHTER: dict[str, Callable[[int, int], int]] = {
    "minimum": max,
    "exclusiveMinimum": max,
    "minLength": max,
    "maximum": min,
    "exclusiveMaximum": min,
    "maxLength": min,
    "maxProperties": min,
    "maxItems": min,
}
_SUBSCHEMAS = frozenset({"additionalProperties", "propertyNames", "items"})


def _merge(base: Schema, extra: Schema) -> Schema:
    """A schema satisfied by what satisfies both: keywords added, bounds tightened,
    subschemas merged; anything else that clashes is added under ``allOf``."""
    out = dict(base)
    clashing: Schema = {}
    for key, value in extra.items():
        if key not in out:
            out[key] = value
        elif out[key] == value:
            continue
        elif key in _TIGHTER:
            out[key] = _TIGHTER[key](out[key], value)
        elif key in _SUBSCHEMAS and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value)
        else:
            clashing[key] = value
    if clashing:
        out["allOf"] = [*out.get("allOf", []), clashing]
    return out


def _tidy(schema: Schema) -> Schema:
    """`schema` without what another of its keywords makes moot: a null in ``enum`` that
    its ``type`` refuses, a bound past an exclusive one."""
    kinds = schema.get("type")
    if "enum" in schema and kinds is not None and "null" not in kinds:
        schema = {**schema, "enum": [value for value in schema["enum"] if value is not None]}
    for bound, exclusive, outside in (
        ("maximum", "exclusiveMaximum", int.__ge__),
        ("minimum", "exclusiveMinimum", int.__le__),
    ):
        if bound in schema and exclusive in schema and outside(schema[bound], schema[exclusive]):
            schema = {key: value for key, value in schema.items() if key != bound}
    return schema


def _implies(schema: Schema, condition: Schema) -> bool:
    """Whether every value `schema` accepts satisfies `condition` (known when `schema`
    has each of its keywords, with the same value)."""
    return all(schema.get(key, _MISSING) == value for key, value in condition.items())


def _with_null(schema: Schema) -> Schema:
    """`schema`, also satisfied by null."""
    if "type" in schema and "anyOf" not in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "null" in kinds:
            return schema
        return _null_passes({**schema, "type": [*kinds, "null"]})
    return _also(schema, {"type": "null"})


def _without_null(schema: Schema) -> Schema:
    """`schema`, no longer satisfied by null."""
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        rest = [kind for kind in kinds if kind != "null"]
        schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value is not None]
        return schema
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option != {"type": "null"}]
        others = {key: value for key, value in schema.items() if key != "anyOf"}
        return {**options[0], **others} if len(options) == 1 else {**others, "anyOf": options}
    return schema


def _also(schema: Schema, option: Schema) -> Schema:
    """A schema satisfied by what satisfies `schema`, and by what satisfies `option`."""
    if set(schema) == {"anyOf"}:
        return {"anyOf": [*schema["anyOf"], option]}
    return {"anyOf": [schema, option]}


def _json_type(annotation: Any) -> str:
    """The JSON type of a record field's values (null aside)."""
    (inner, *_) = [arg for arg in typing.get_args(annotation) if arg is not _NONE] or [annotation]
    origin = typing.get_origin(inner) or inner
    if origin is dict or attrs.has(origin):
        return "object"
    if origin is list:
        return "array"
    if origin is int:
        return "integer"
    return "string"  # str, and the str enum Status


def _record_class(annotation: Any) -> type | None:
    """The record class a field holds (or holds an array of), if any."""
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is list:
            arg = typing.get_args(arg)[0]
        if isinstance(arg, type) and attrs.has(arg):
            return arg
    return None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _place(fact: str) -> list[tuple[type, str]]:
    """The (record class, key) steps from the batch to a fact's value."""
    record, path = FACTS[fact]
    keys = [*([record] if record else []), *path.split(".")]
    steps = []
    cls: type | None = Batch
    for key in keys:
        assert cls is not None, fact
        steps.append((cls, key))
        cls = _record_class(_hints(cls)[key])
    return steps


# -- the quirks a profile reads ------------------------------------------------------------


def _status_spellings(values: Iterable[str]) -> str:
    """A pattern of exactly the strings the compat profile reads as one of `values`
    (`_compat._status`: statuses, or other services' names of them): blanks around the
    words of the value; between two words ``_``, a run of blanks or hyphens, or nothing
    where a capital follows a small letter; and each word small, or a capital, then
    capitals, then small letters (a small letter before a capital would start another
    word)."""

    def tail(word: str, start: int, end_small: bool) -> str:
        # word[start:] after a capital: capitals, then small letters.
        rest = word[start:]
        if start == len(word) - 1:
            return rest if end_small else f"[{rest.upper()}{rest}]"
        return f"(?:{rest}|{word[start].upper()}{tail(word, start + 1, end_small)})"

    def spelled(word: str, *, start_capital: bool = False, end_small: bool = False) -> str:
        options = [] if start_capital else [word]
        if len(word) > 1:
            options.append(word[0].upper() + tail(word, 1, end_small))
        elif not end_small:
            options.append(word.upper())
        assert options, word
        return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"

    options = []
    for value in values:
        first, *others = value.split("_")
        joined = spelled(first)
        camel = spelled(first, end_small=True)
        for word in others:
            joined += r"(?:_|[\s-]+)" + spelled(word)
            camel += spelled(word, start_capital=True)
        options.append(joined)
        if others:
            options.append(camel)
    return r"^\s*(?:" + "|".join(options) + r")\s*$"


# -- the builder ---------------------------------------------------------------------------


class _Builder:
    """Builds one profile's schema: each record class's object, then what the rules and
    the quirks say of its values."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.statuses = [
            status for status in Status if status in reachable(transitions_for(profile), INITIAL)
        ]
        self.classes = list(DEPTHS)  # the batch first
        self.properties: dict[type, dict[str, Schema]] = {}
        self.required: dict[type, list[str]] = {}
        # The required keys the record allows to be null: null only where quirks are read.
        self.nullable_required = frozenset(
            name for name in wire_keys(Batch)[0] if _NONE in typing.get_args(_hints(Batch)[name])
        )
        self.aliases = False
        self.envelope = False  # a list of batches is also read
        self.said: set[str] = set()
        self.unsaid: set[str] = set()

    def build(self) -> Generated:
        for cls in self.classes:
            self._record(cls)
        self._rules()
        for rule in RULES:
            widen = _QUIRKS.get(rule.code)
            if rule.quirk and rule.severity_under(self.profile) is not None and widen:
                widen(self)  # (tests/test_schema.py holds every quirk rule to have one)
        return Generated(self._assemble(), frozenset(self.said), frozenset(self.unsaid))

    # The objects, from the record.

    def _record(self, cls: type) -> None:
        required, _ = wire_keys(cls)
        self.required[cls] = [name for name in wire_names(cls) if name in required]
        self.properties[cls] = {
            name: self._value(cls, name, _hints(cls)[name]) for name in wire_names(cls)
        }

    def _value(self, cls: type, name: str, annotation: Any) -> Schema:
        args = typing.get_args(annotation)
        nullable = _NONE in args and not (cls is Batch and name in self.nullable_required)
        (inner, *_) = [arg for arg in args if arg is not _NONE] or [annotation]
        schema = self._type(cls, name, inner)
        return _with_null(schema) if nullable else schema

    def _type(self, cls: type, name: str, tp: Any) -> Schema:
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and attrs.has(tp):
            return {"$ref": f"#/$defs/{tp.__name__}"}
        if origin is list:
            (element,) = typing.get_args(tp)
            return {"type": "array", "items": self._type(cls, name, element)}
        if origin is dict:
            _, values = typing.get_args(tp)
            return {"type": "object", "additionalProperties": self._type(cls, name, values)}
        if tp is Status:
            return {"type": "string", "enum": [status.value for status in self.statuses]}
        if tp is int:
            # A timestamp is Unix seconds, never before the epoch (the codec's field.range).
            low = 0 if cls is Batch and name in TIMESTAMP_FIELDS else INT64_MIN
            return {"type": "integer", "minimum": low, "maximum": INT64_MAX}
        if tp is str:
            if cls is Batch and name in FILE_ID_FIELDS:
                return {"type": "string", "minLength": 1}  # the codec's file_id.empty
            return {"type": "string"}
        raise AssertionError(f"no JSON Schema for {cls.__name__}.{name}: {tp!r}")

    # The rules that are errors under the profile.

    def _rules(self) -> None:
        types = {
            fact: _json_type(_hints(cls)[key]) for fact in FACTS for cls, key in [_place(fact)[-1]]
        }
        conditional: list[tuple[_Constraint, type, str]] = []
        stated: dict[str, bool] = {}
        for check in concrete(self.profile):
            if check.severity is not _ERROR:
                continue
            code = check.rule.code
            found = None
            if check.statuses is None:  # held in every status
                found = _translated(check.check.when, check.rule.over, types)
            stated[code] = stated.get(code, True) and found is not None
            if found is None:
                continue
            steps = _place(found.fact)
            cls, key = steps[-1]
            if found.present:
                for holder, name in steps:
                    self._require(holder, name)
            if found.schema and found.when is None:
                self.properties[cls][key] = _tidy(_merge(self.properties[cls][key], found.schema))
            elif found.schema:
                conditional.append((found, cls, key))
        for found, cls, key in conditional:
            assert found.when is not None
            current = self.properties[cls][key]
            if _implies(current, found.when):  # the condition always holds: drop it
                self.properties[cls][key] = _merge(current, found.schema)
            else:
                self.properties[cls][key] = _merge(
                    current, {"if": found.when, "then": found.schema}
                )
        for code, whole in stated.items():
            (self.said if whole else self.unsaid).add(code)
        for rule in RULES:
            severity = rule.severity_under(self.profile)
            if severity is _ERROR and not rule.quirk:
                if rule.stage is Stage.DECODE:
                    self.said.add(rule.code)  # the types, keys and ranges above
                elif rule.stage is Stage.HISTORY:
                    self.unsaid.add(rule.code)

    def _require(self, cls: type, name: str) -> None:
        if name not in self.required[cls]:
            order = wire_names(cls)
            self.required[cls] = sorted({*self.required[cls], name}, key=order.index)
        self.properties[cls][name] = _without_null(self.properties[cls][name])

    # Widening for the quirks.

    def also(self, cls: type, names: Iterable[str], option: Schema) -> None:
        """Let each of `names` of `cls` also hold what satisfies `option`."""
        for name in names:
            current = self.properties[cls][name]
            if option == {"type": "null"}:
                self.properties[cls][name] = _with_null(current)
            else:
                self.properties[cls][name] = _also(current, option)

    def optional(self, cls: type, names: Iterable[str]) -> None:
        """Let each of `names` of `cls` be left out."""
        self.required[cls] = [name for name in self.required[cls] if name not in set(names)]

    def statuses_of(self) -> list[tuple[type, str]]:
        return [
            (cls, name)
            for cls in self.classes
            for name in wire_names(cls)
            if _hints(cls)[name] is Status
        ]

    # The document.

    def _object(self, cls: type) -> Schema:
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        schema: Schema = {
            "type": "object",
            "description": " ".join(doc.replace("``", "").split()),
            "properties": dict(self.properties[cls]),
            "required": list(self.required[cls]),
            "additionalProperties": True,
        }
        if not self.aliases:
            return schema
        clauses = []
        for name, value in self.properties[cls].items():
            alias = _camel(name)
            if alias == name:
                continue
            spelled: Schema = {"properties": {alias: value}}
            if name in schema["required"]:
                schema["required"].remove(name)
                spelled = {"required": [alias], **spelled}
            clauses.append({"anyOf": [{"required": [name]}, spelled]})
        if clauses:
            schema["allOf"] = clauses
        return schema

    def _assemble(self) -> Schema:
        profile = self.profile.name
        lifecycle = sorted(code for code in self.unsaid if code in _PAYLOAD_CODES)
        history = sorted(code for code in self.unsaid if code not in _PAYLOAD_CODES)
        quirks = (
            " It also accepts the spellings of compatible services this profile reads"
            " (each a compat.* warning)."
            if self.profile.quirks
            else ""
        )
        description = (
            f"The wire object of an OpenAI-style batch, as batchfsm validates it under the"
            f" {profile} profile; generated from batchfsm's record and rule registry."
            f" Keys it does not name are allowed (batchfsm keeps them).{quirks} A payload"
            " this schema refuses, batchfsm refuses. One it accepts may still break a rule"
            " a JSON Schema cannot state, because the rule relates several values or holds"
            f" in some statuses only: {', '.join(lifecycle)}; or, between successive"
            f" snapshots of one batch: {', '.join(history)}. Warnings are not part of the"
            f" schema. The violation codes: {VIOLATIONS_PAGE}"
        )
        defs = {cls.__name__: self._object(cls) for cls in sorted(self.classes, key=_name)}
        batch = {"$ref": f"#/$defs/{Batch.__name__}"}
        if self.envelope:
            defs[_LISTED] = {
                "type": "object",
                "description": f"A list of batches, as GET /v1/batches answers: each item of"
                f" {_LIST_ITEMS} is judged on its own (each an object of this schema).",
                "properties": {
                    "object": {"const": _LIST_OBJECT},
                    _LIST_ITEMS: {"type": "array", "items": {"$ref": "#"}},
                },
                "required": ["object", _LIST_ITEMS],
                "additionalProperties": True,
            }
            root: Schema = {"anyOf": [batch, {"$ref": f"#/$defs/{_LISTED}"}]}
        else:
            root = batch
        return {
            "$schema": DIALECT,
            "title": f"Batch ({profile} profile)",
            "description": description,
            **root,
            "$defs": defs,
        }


def _name(cls: type) -> str:
    return cls.__name__


#: OpenAI's list object (`BatchErrors` is one): its ``object`` and the key of its items. A
#: list of batches, as ``GET /v1/batches`` answers, is one too.
_LIST_OBJECT = str(attrs.fields(BatchErrors).object.default)
(_LIST_ITEMS,) = [name for name in wire_names(BatchErrors) if name != "object"]
_LISTED = "BatchList"


_PAYLOAD_CODES = frozenset(rule.code for rule in RULES if rule.stage is Stage.PAYLOAD)


def _timestamps(pattern: re.Pattern[str]) -> Callable[[_Builder], None]:
    def widen(builder: _Builder) -> None:
        builder.also(Batch, TIMESTAMP_FIELDS, {"type": "string", "pattern": _anchored(pattern)})

    return widen


def _statuses(builder: _Builder) -> None:
    values = [status.value for status in builder.statuses]
    spellings = {"type": "string", "pattern": _status_spellings(values)}
    for cls, name in builder.statuses_of():
        builder.also(cls, [name], spellings)


def _aliases(code: str) -> Callable[[_Builder], None]:
    """The widening of a quirk that reads other services' names of statuses."""

    def widen(builder: _Builder) -> None:
        names = [
            name
            for name, (status, reported) in _STATUS_ALIASES.items()
            if reported == code and status in builder.statuses
        ]
        spellings = {"type": "string", "pattern": _status_spellings(names)}
        for cls, field in builder.statuses_of():
            builder.also(cls, [field], spellings)

    return widen


def _numbers(kind: str, low: int) -> Callable[[_Builder], None]:
    """The widening of a quirk that reads numbers as timestamps: of `kind`, from `low` to
    the last millisecond compat reads (`_compat`)."""

    def widen(builder: _Builder) -> None:
        option = {"type": kind, "minimum": low, "exclusiveMaximum": _MILLISECONDS_TO}
        builder.also(Batch, TIMESTAMP_FIELDS, option)

    return widen


def _window_spellings(builder: _Builder) -> None:
    spellings = {"type": "string", "pattern": _anchored(_WINDOW_SPELLED)}
    for fact in _read_by(window_seconds):
        cls, name = _place(fact)[-1]
        builder.also(cls, [name], spellings)


def _read_by(reader: Callable[..., Any]) -> list[str]:
    """The facts that a derived fact reads through `reader` (the window, `window_seconds`)."""
    found = []
    for expression in DERIVED.values():
        call = ast.parse(expression, mode="eval").body
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and NAMES.get(call.func.id) is reader
        ):
            found += [arg.id for arg in call.args if isinstance(arg, ast.Name) and arg.id in FACTS]
    return found


def _camel_case(builder: _Builder) -> None:
    builder.aliases = True


def _empty_file_ids(builder: _Builder) -> None:
    optional = [name for name in FILE_ID_FIELDS if _NONE in typing.get_args(_hints(Batch)[name])]
    builder.also(Batch, optional, {"const": ""})


#: How each quirk rule widens the schema: the values it reads, where it reads them.
_QUIRKS: dict[str, Callable[[_Builder], None]] = {
    "compat.camel_case": _camel_case,
    "compat.status_case": _statuses,
    "compat.timestamp_iso": _timestamps(_ISO),
    "compat.timestamp_string": _timestamps(_NUMERIC),
    "compat.file_id_empty": _empty_file_ids,
    "compat.count_null": lambda b: b.also(
        RequestCounts, wire_names(RequestCounts), {"type": "null"}
    ),
    "compat.endpoint_null": lambda b: b.also(Batch, b.nullable_required, {"type": "null"}),
    "compat.endpoint_missing": lambda b: b.optional(Batch, b.nullable_required),
    "compat.status_queued": _aliases("compat.status_queued"),
    "compat.status_canceled": _aliases("compat.status_canceled"),
    "compat.timestamp_ms": _numbers("integer", MILLISECONDS_FROM),
    "compat.timestamp_float": _numbers("number", 0),
    "compat.window_spelling": _window_spellings,
    # A byte order mark comes before the JSON text, which is all a schema sees.
    "compat.bom": lambda b: None,
    "compat.list_envelope": lambda b: setattr(b, "envelope", True),
}
