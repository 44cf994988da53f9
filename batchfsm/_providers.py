"""`from_provider`: a native batch object (Anthropic, Gemini, Vertex AI, Bedrock, Mistral)
read as OpenAI's batch, every loss reported, and then validated as one.

Everything here is derived from the tables of `_providers_table`: which native status
reads as which OpenAI status, which OpenAI stamps that status needs (from
`batchfsm.TRANSITIONS`), where a stamp the provider does not record takes its time from,
and which native times a native status can carry. The native object is kept whole in the
batch's unknown keys (`NATIVE`), so nothing is lost.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from . import _codec, _json
from ._errors import ArgumentError, Severity, Violation, capped
from ._models import NOT_A_MODEL, model_wire
from ._profile import Profile, resolve
from ._providers_table import (
    BY_NAME,
    NATIVE,
    Clock,
    Count,
    Counting,
    Edge,
    Mark,
    Provider,
    Reading,
    Role,
    State,
    Time,
)
from ._record import TIMESTAMP_FIELDS, Batch, Status
from ._table import (
    CREATE_STAMP,
    TERMINAL,
    TRANSITIONS,
    Event,
    carried_stamps,
    reachable,
    required_stamps,
    stamp_order,
    transitions_for,
)
from ._validate import Report, check_history, validate

__all__ = ["PROVIDERS", "from_provider", "native_of", "to_provider"]

PROVIDERS: tuple[str, ...] = tuple(sorted((*BY_NAME, "openai")))
"""The names `from_provider` (and ``batchfsm validate --provider``) takes besides ``auto``:
each native batch API it reads, and ``openai`` for OpenAI's own shape."""

_WARNING = Severity.WARNING
_ABSENT: Any = object()

#: The checks of OpenAI's own conventions for ids, endpoints and windows: a native object
#: follows its provider's, so a converted batch is not held to them.
CONVENTIONS = frozenset({"id.prefix", "file_id.prefix", "endpoint.unknown", "window.unknown"})
#: Left out too when the deadline is the provider's documented window, not a native time:
#: it would compare two values the reading made.
ASSUMED_DEADLINE = frozenset({"expires_at.window"})

#: The stamp each event sets, from the table.
_EVENT_STAMP: dict[Event, str] = {t.event: t.stamp for t in TRANSITIONS}
#: The stamp of the edges into each status.
_ENTRY_STAMP: dict[Status, str] = {t.dest: t.stamp for t in TRANSITIONS}
_EVENT_STAMPS = tuple(name for name in TIMESTAMP_FIELDS if name != "expires_at")


def canonical_stamp(role: Role, status: Status) -> str | None:
    """The OpenAI field a native time of `role` gives in a batch read as `status`."""
    if role is Role.CREATED:
        return CREATE_STAMP
    if role is Role.DEADLINE:
        return "expires_at"
    if role is Role.STARTED:
        return _EVENT_STAMP[Event.START]
    if role is Role.CANCEL:
        return _EVENT_STAMP[Event.CANCEL]
    if role is Role.ENDED and status in TERMINAL:
        return _ENTRY_STAMP[status]
    return None


# -- what the tables say -----------------------------------------------------------------


def _fixed_point(provider: Provider, combine: str) -> dict[str, frozenset[str]]:
    """The native times each status carries on some path (``union``) or on every path
    (``intersection``) from creation, by the provider's edges (which may loop)."""
    everything = frozenset(stamp for edge in provider.edges for stamp in edge.stamps)
    start = frozenset() if combine == "union" else everything
    found = {state.name: start for state in provider.states}
    for _ in range(len(provider.states) * len(provider.edges) + 1):
        changed = False
        for state in provider.states:
            paths = [
                (found[e.source] if e.source is not None else frozenset()) | frozenset(e.stamps)
                for e in provider.edges
                if e.dest == state.name
            ]
            if not paths:
                continue
            new = (
                frozenset().union(*paths, found[state.name])
                if combine == "union"
                else frozenset.intersection(*paths)
            )
            if new != found[state.name]:
                found[state.name], changed = new, True
        if not changed:
            break
    return found


@functools.cache
def native_carried(name: str) -> dict[str, frozenset[str]]:
    """The native times each status of provider `name` may carry: those some path sets."""
    return _fixed_point(BY_NAME[name], "union")


@functools.cache
def native_required(name: str) -> dict[str, frozenset[str]]:
    """The native times each status of provider `name` must carry: those every path sets."""
    return _fixed_point(BY_NAME[name], "intersection")


@functools.cache
def checked_times(provider: Provider) -> frozenset[str]:
    """The native times some edge sets: the others (updates) may appear in any status."""
    return frozenset(stamp for edge in provider.edges for stamp in edge.stamps)


@functools.cache
def shown(provider: Provider) -> frozenset[Status]:
    """The OpenAI statuses some native status of `provider` reads as."""
    return frozenset(reading.status for state in provider.states for reading in state.reads)


@functools.cache
def needed_stamps(name: str, profile: Profile) -> dict[Status, frozenset[str]]:
    """The OpenAI stamps a batch of provider `name` read as each status carries: those
    every path to the status sets under `profile`, and those its native first status
    implies (an Anthropic batch is in progress from the start)."""
    edges = transitions_for(profile)
    required = required_stamps(edges)
    provider = BY_NAME[name]
    firsts = [
        required[reading.status]
        for edge in provider.edges
        if edge.source is None
        for reading in _state(provider, edge.dest).reads
    ]
    birth = frozenset.intersection(*firsts)
    carried = carried_stamps(edges)
    return {status: required[status] | (birth & carried[status]) for status in Status}


def _state(provider: Provider, name: str) -> State:
    state = provider.state(name)
    assert state is not None, (provider.name, name)
    return state


@functools.cache
def stand_in(provider: Provider, stamp: str) -> str:
    """Where a stamp the provider does not record takes its time from: ``before`` (the
    latest stamp set before it: the status was seen current with only those known) or
    ``after`` (the earliest set after it: a status the provider never shows is passed
    on the way to the next)."""
    statuses = {t.dest for t in TRANSITIONS if t.stamp == stamp}
    return "before" if statuses & shown(provider) else "after"


# -- reading values ------------------------------------------------------------------------

_PATH_PART = re.compile(r"([^.\[]+)(?:\[(\d*)\])?")


#: The keys of each path the tables name, each with the list index after it (or None).
_STEPS: dict[str, tuple[tuple[str, int | None], ...]] = {}


def _steps(path: str) -> tuple[tuple[str, int | None], ...]:
    steps = []
    for part in path.lstrip("/").split("."):
        match = _PATH_PART.fullmatch(part)
        if match is None:
            raise ValueError(f"no path: {path!r}")  # a table's mistake, not a payload's
        index = match.group(2)
        steps.append((match.group(1), int(index) if index else None))
    _STEPS[path] = tuple(steps)
    return _STEPS[path]


def lookup(document: Any, root: Any, path: str) -> Any:
    """The value at `path` (``a.b[0]``; from `document` when it starts with ``/``, else
    from `root`), or `_ABSENT`."""
    value = document if path[:1] == "/" else root
    for key, index in _STEPS.get(path) or _steps(path):
        if type(value) is not dict and not isinstance(value, Mapping):
            return _ABSENT
        value = value.get(key, _ABSENT)
        if value is _ABSENT:
            return _ABSENT
        if index is not None:
            if type(value) is not list or len(value) <= index:
                return _ABSENT
            value = value[index]
    return value


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def parse_rfc3339(text: str) -> tuple[int, bool] | None:
    """The Unix second an RFC 3339 time falls in, and whether it had a non-zero fraction
    (which the second drops); None when it is not such a time."""
    match = _RFC3339.match(text)
    if match is None:
        return None
    try:  # the date and time, each in its range (no leap second, as datetime)
        since = datetime.datetime.fromisoformat(text[:19]) - _EPOCH
    except ValueError:
        return None
    seconds = since.days * 86400 + since.seconds
    fraction, zone = match.group(7) or "", match.group(8)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds, fraction.strip("0") != ""


_EPOCH = datetime.datetime(1970, 1, 1)


_INT64 = re.compile("-?[0-9]{1,19}")


@functools.cache
def _where(root_path: str, key: str) -> str:
    """The JSONPath of `key` in the native object, its batch at `root_path`."""
    parts = key.lstrip("/").replace("[]", "").split(".")
    base = "$" if key.startswith("/") or not root_path else f"$.{root_path}"
    text = base
    for part in parts:
        name, _, index = part.partition("[")
        text += f".{name}" if name.isidentifier() else f"[{json.dumps(name)}]"
        if index:
            text += f"[{index}"
    return text


@attrs.define
class _Reader:
    """Reads one native object of one provider: the values the OpenAI batch takes, and
    every problem and loss met on the way."""

    provider: Provider
    document: dict[str, Any]
    root: dict[str, Any]
    root_path: str
    found: list[Violation] = attrs.field(factory=list)
    #: The times read with a fraction of a second, which the stamp they give drops.
    fractions: dict[str, str] = attrs.field(factory=dict)

    def at(self, key: str) -> str:
        return _where(self.root_path, key)

    def get(self, key: str) -> Any:
        return lookup(self.document, self.root, key)

    def add(self, code: str, key: str, message: str, severity: Severity = _WARNING) -> None:
        self.found.append(Violation(code, self.at(key), message, severity))

    def error(self, code: str, key: str, message: str) -> None:
        self.add(code, key, message, Severity.ERROR)

    def text(self, keys: Iterable[str]) -> str | None:
        """The first non-empty string at one of `keys`."""
        for key in keys:
            value = self.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    def present(self, key: str) -> bool:
        """Whether `key` holds a value: ``*`` always, ``a[]`` an empty list, else not null."""
        if key == "*":
            return True
        if key.endswith("[]"):
            return bool(self.get(key[:-2]) == [])
        return self.get(key) not in (_ABSENT, None)

    def time(self, time: Time) -> int | None:
        value = self.get(time.key)
        if value is _ABSENT or value is None:
            return None
        if self.provider.clock is Clock.UNIX:
            if type(value) is int:
                return value
            self.error("provider.field_invalid", time.key, f"expected Unix seconds, got {value!r}")
            return None
        parsed = parse_rfc3339(value) if isinstance(value, str) else None
        if parsed is None:
            self.error(
                "provider.field_invalid", time.key, f"expected an RFC 3339 time, got {value!r}"
            )
            return None
        seconds, fraction = parsed
        if fraction:
            self.fractions[time.key] = value
        return seconds

    def count(self, count: Count) -> int | None:
        value = self.get(count.key)
        if value is _ABSENT or value is None:
            if self.provider.counts_as_strings:  # proto3 JSON leaves a zero out
                return 0
            if not self.provider.counts_optional:
                self.error("provider.field_missing", count.key, f"{count.key} is missing")
            return None
        if type(value) is int:
            return value
        if self.provider.counts_as_strings and isinstance(value, str) and _INT64.fullmatch(value):
            self.add(
                "provider.string_count",
                count.key,
                f"the count {value!r}, written as a string, read as the integer {int(value)}",
            )
            return int(value)
        self.error("provider.field_invalid", count.key, f"expected an integer, got {value!r}")
        return None


# -- the reading -------------------------------------------------------------------------


def _recognised(provider: Provider, document: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The batch object inside `document` and its key when `provider`'s marks hold."""
    for root_path in provider.roots:
        root = document.get(root_path) if root_path else document
        if isinstance(root, dict) and all(_holds(mark, root) for mark in provider.marks):
            return root, root_path
    return None


def _holds(mark: Mark, root: dict[str, Any]) -> bool:
    value = lookup(root, root, mark.key)
    if mark.test == "is present":
        return value is not _ABSENT and value is not None
    if not isinstance(value, str):
        return False
    if mark.test == "equals":
        return value == mark.value
    if mark.test == "starts with":
        return value.startswith(mark.value)
    return mark.value in value  # contains


def describe_marks(provider: Provider) -> str:
    """The marks of `provider`, as a sentence's end."""
    return " and ".join(
        f"`{m.key}` {m.test}" + (f" {m.value!r}" if m.value else "") for m in provider.marks
    )


def recognise(document: dict[str, Any]) -> str | None:
    """The provider whose marks `document` bears (``openai`` for OpenAI's shape), or None."""
    for name, provider in BY_NAME.items():
        if _recognised(provider, document) is not None:
            return name
    if document.get("object") == "batch" or "input_file_id" in document:
        return "openai"
    return None


@functools.cache
def _condition(when: str) -> Any:
    return compile(when, f"<reading: {when}>", "eval")


def _reading(state: State, facts: Mapping[str, Any]) -> Reading:
    for reading in state.reads:
        if not reading.when:
            return reading
        if eval(_condition(reading.when), {"__builtins__": {}}, dict(facts)):
            return reading
    return state.reads[-1]  # pragma: no cover - the last reading of a table has no condition


def _read(
    provider: Provider, document: dict[str, Any], profile: Profile, owned: bool
) -> tuple[dict[str, Any] | None, list[Violation], bool, str | None]:
    """The OpenAI wire object of native `document`, what reading it found, whether its
    deadline is the documented window rather than a native time, and the batch's id. The
    wire object keeps `document` itself when it is `owned` (made here), else a deep copy."""
    recognised = _recognised(provider, document)
    if recognised is None:
        message = f"not {provider.title}'s batch object: expected {describe_marks(provider)}"
        return None, [Violation("provider.unknown", "$", message)], False, None
    root, root_path = recognised
    reader = _Reader(provider, document, root, root_path)
    batch_id = reader.get(provider.id)
    known_id = batch_id if isinstance(batch_id, str) else None
    if not (isinstance(batch_id, str) and batch_id):
        _missing_or_invalid(reader, provider.id, batch_id, "a non-empty string")
    raw = reader.get(provider.status)
    state = provider.state(raw) if isinstance(raw, str) else None
    if raw is _ABSENT or raw is None:
        reader.error("provider.field_missing", provider.status, f"{provider.status} is missing")
    elif state is None:
        known = ", ".join(s.name for s in provider.states)
        reader.error(
            "provider.status_unknown",
            provider.status,
            f"{raw!r} is not a status of {provider.title} ({known})",
        )
    times = {time.key: reader.time(time) for time in provider.times}
    created_key = next(t.key for t in provider.times if t.role is Role.CREATED)
    if times[created_key] is None and reader.get(created_key) in (_ABSENT, None):
        reader.error("provider.field_missing", created_key, f"{created_key} is missing")
    counts = {count.key: reader.count(count) for count in provider.counts}
    fatal = any(v.severity is Severity.ERROR for v in reader.found)
    if fatal or state is None or not isinstance(batch_id, str):
        return None, reader.found, False, known_id

    facts = {key.rsplit(".", 1)[-1]: value for key, value in (*times.items(), *counts.items())}
    reading = _reading(state, facts)
    status = reading.status
    if len(state.reads) > 1:
        why = f" ({reading.when})" if reading.when else ""
        reader.add(
            "provider.status_split",
            provider.status,
            f"{state.name!r} stands for several OpenAI statuses; read as {status.value}{why}",
        )
    if state.loss:
        reader.add(
            "provider.status_approximated",
            provider.status,
            f"{state.name!r} read as {status.value}: {state.loss}",
        )
    _native_stamps(reader, state, times)
    stamps, assumed = _stamps(reader, status, times, profile)
    wire: dict[str, Any] = {
        "id": batch_id,
        "object": "batch",
        "endpoint": reader.text(provider.endpoint) or provider.endpoint_default,
        "model": reader.text(provider.model),
        "errors": _errors(reader) if status is Status.FAILED else None,
        "input_file_id": _input(reader, batch_id),
        "completion_window": f"{_window(reader, stamps)}h",
        "status": status.value,
        "output_file_id": _output(reader, provider.output, batch_id),
        "error_file_id": _output(reader, provider.error_output, batch_id),
        **stamps,
        "request_counts": _counts(reader, status, counts),
        NATIVE: {"name": provider.name, "object": document if owned else copy.deepcopy(document)},
    }
    return wire, reader.found, assumed, known_id


def _missing_or_invalid(reader: _Reader, key: str, value: Any, expected: str) -> None:
    if value is _ABSENT or value is None:
        reader.error("provider.field_missing", key, f"{key} is missing")
    else:
        reader.error("provider.field_invalid", key, f"expected {expected}, got {value!r}")


def _native_stamps(reader: _Reader, state: State, times: dict[str, int | None]) -> None:
    """Check the native times against the native table: a time no path to the status sets
    is an error (and is not read), one every path sets must be there."""
    name = reader.provider.name
    checked = checked_times(reader.provider)
    may, must = native_carried(name)[state.name], native_required(name)[state.name]
    for key in (time.key for time in reader.provider.times if time.key in checked):
        present = reader.get(key) not in (_ABSENT, None)
        if present and key not in may:
            reader.error(
                "provider.stamp_unexpected",
                key,
                f"a {state.name} batch never has {key}, got {reader.get(key)!r}",
            )
            times[key] = None
        elif not present and key in must:
            reader.error(
                "provider.stamp_missing", key, f"a {state.name} batch has {key} set, got null"
            )


def _stamps(
    reader: _Reader, status: Status, times: dict[str, int | None], profile: Profile
) -> tuple[dict[str, int | None], bool]:
    """OpenAI's stamps for a batch read as `status`: the native times, then the stamps
    the status needs that the provider does not record, each from its stand-in."""
    provider = reader.provider
    stamps: dict[str, int | None] = dict.fromkeys(TIMESTAMP_FIELDS)
    carried, earlier, later = _lifeline(profile)
    may = carried[status] | {"expires_at"}
    for time in provider.times:
        target = canonical_stamp(time.role, status)
        seconds = times[time.key]
        if target is not None and seconds is not None and target not in may:
            reader.add(
                "provider.stamp_dropped",
                time.key,
                f"a {status.value} batch never has {target}: {time.key} is not read",
            )
        elif target is not None and seconds is not None:
            stamps[target] = seconds
            if time.key in reader.fractions:
                reader.add(
                    "provider.subsecond_dropped",
                    time.key,
                    f"{reader.fractions[time.key]!r} read as {target} {seconds}: its fraction"
                    " of a second is dropped",
                )
    needed = needed_stamps(provider.name, profile)[status]
    missing = [name for name in _EVENT_STAMPS if name in needed and stamps[name] is None]
    # A native time missing where every native path sets it was reported
    # (provider.stamp_missing); its stand-in lets the other checks still run.
    for side in ("before", "after"):
        for name in missing if side == "before" else reversed(missing):
            if stand_in(provider, name) != side:
                continue
            others = earlier[name] if side == "before" else later[name]
            known = [t for t in (stamps[other] for other in others) if t is not None]
            if known:
                stamps[name] = max(known) if side == "before" else min(known)
    created = stamps[CREATE_STAMP]
    assumed = stamps["expires_at"] is None
    if assumed and created is not None:
        deadline = created + _window(reader, stamps) * 3600
        end = stamps[_ENTRY_STAMP[Status.EXPIRED]]
        # A batch that expired did so at its deadline: an assumed one is no later.
        if status is Status.EXPIRED and end is not None:
            deadline = min(deadline, end)
        stamps["expires_at"] = deadline
    return stamps, assumed


@functools.cache
def _lifeline(
    profile: Profile,
) -> tuple[dict[Status, frozenset[str]], dict[str, list[str]], dict[str, list[str]]]:
    """The stamps each OpenAI status may carry under `profile`, and for each stamp those
    every path sets before it and those every path sets after it."""
    edges = transitions_for(profile)
    order = stamp_order(edges)
    earlier = {name: [a for a, b in order if b == name] for name in TIMESTAMP_FIELDS}
    later = {name: [b for a, b in order if a == name] for name in TIMESTAMP_FIELDS}
    return carried_stamps(edges), earlier, later


def _window(reader: _Reader, stamps: Mapping[str, int | None]) -> int:
    """The completion window in hours: the object's own, or its deadline's distance from
    its creation, or the provider's documented one."""
    provider = reader.provider
    if provider.window_key:
        hours = reader.get(provider.window_key)
        if type(hours) is int and hours > 0:
            return hours
    deadline, created = stamps.get("expires_at"), stamps.get(CREATE_STAMP)
    if provider.window_from_deadline and deadline is not None and created is not None:
        hours = round((deadline - created) / 3600)
        if hours > 0:
            return hours
    return provider.window_hours


def _input(reader: _Reader, batch_id: str) -> str:
    provider = reader.provider
    found = reader.text(provider.input)
    if found is not None:
        many = reader.get(provider.input[0].partition("[")[0])
        if isinstance(many, list) and len(many) > 1:
            reader.add(
                "provider.files_dropped",
                provider.input[0].partition("[")[0],
                f"{len(many)} input files; OpenAI's batch has one: input_file_id is the first",
            )
        return found
    if not any(reader.present(key) for key in provider.input_inline):
        reader.add(
            "provider.input_missing",
            provider.input[0].split(".")[0].partition("[")[0] if provider.input else "$",
            "the object shows no input; the batch's id stands for its input file",
        )
    return batch_id


def _output(reader: _Reader, keys: tuple[str, ...], batch_id: str) -> str | None:
    found = reader.text(keys)
    if found is None and any(reader.present(key) for key in reader.provider.output_inline):
        return batch_id
    return found


def _errors(reader: _Reader) -> dict[str, Any] | None:
    """Why a failed batch failed: a message, a status object or a list of them."""
    for key in reader.provider.errors:
        value = reader.get(key)
        items = value if isinstance(value, list) else [value]
        data: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, str) and item:
                data.append({"message": item})
            elif isinstance(item, Mapping) and isinstance(item.get("message"), str):
                entry: dict[str, Any] = {"message": item["message"]}
                if isinstance(item.get("code"), (str, int)) and type(item["code"]) is not bool:
                    entry["code"] = str(item["code"])
                data.append(entry)
        if data:
            return {"object": "list", "data": data}
    return None


def _counts(
    reader: _Reader, status: Status, counts: dict[str, int | None]
) -> dict[str, int] | None:
    provider = reader.provider
    if provider.counts_optional and all(value is None for value in counts.values()):
        return None
    by: dict[Counting, int] = {}
    for count in provider.counts:
        value = counts[count.key] or 0
        if count.counting is Counting.PENDING and value < 0:
            reader.add(
                "provider.count_lost",
                count.key,
                f"{count.key} is {value} (unknown): the total counts only finished requests",
            )
            value = 0
        elif count.counting is Counting.OTHER and value:
            reader.add(
                "provider.count_lost",
                count.key,
                f"{value} requests {count.meaning}: OpenAI has no such count; they are in"
                " total only",
            )
        by[count.counting] = by.get(count.counting, 0) + value
    buckets = (Counting.SUCCEEDED, Counting.FAILED, Counting.PENDING, Counting.OTHER)
    if Counting.TOTAL in by:
        total = by[Counting.TOTAL]
    else:
        total = sum(by.get(bucket, 0) for bucket in buckets)
    completed, failed = by.get(Counting.SUCCEEDED, 0), by.get(Counting.FAILED, 0)
    pending = by.get(Counting.PENDING, 0)
    if status is Status.COMPLETED and pending > 0:
        key = next(c.key for c in provider.counts if c.counting is Counting.PENDING)
        reader.add(
            "provider.count_lost",
            key,
            f"{pending} requests unfinished: counted as failed, as a completed batch accounts"
            " for every request",
        )
        failed += pending
    return {"total": total, "completed": completed, "failed": failed}


# -- the entry point -----------------------------------------------------------------------


def _parse(data: _json.Text) -> object:
    """Decoded JSON text, or `_ABSENT` when it is not strict JSON (validate says why)."""
    try:
        raw = data.encode() if isinstance(data, str) else bytes(data)
    except UnicodeEncodeError:  # a lone surrogate: the stdlib decides
        raw = b""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    # orjson reads an integer of 20 digits or more as a float: the stdlib keeps it exact,
    # so that the native object is given back as it was.
    if raw and b"0" * 20 not in raw.translate(_ZEROS):
        try:
            return _json.quick_parse(raw)
        except ValueError:  # the stdlib decides (it reads escaped lone surrogates)
            pass
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return _ABSENT

    def refuse(constant: str) -> object:
        raise ValueError(constant)

    try:
        return json.loads(text.removeprefix("\ufeff"), parse_constant=refuse)
    except (ValueError, RecursionError):
        return _ABSENT


_ZEROS = bytes.maketrans(b"123456789", b"000000000")


def from_provider(
    data: object, provider: str = "auto", *, profile: Profile | str = "compat"
) -> Report:
    """Read a native batch object as OpenAI's batch, report each loss, and validate it.

    Args:
        data: JSON text (bytes or str), a decoded mapping, a `Batch`, or a pydantic model
            of an SDK (Anthropic's ``MessageBatch``): its ``model_dump(mode="json")``.
        provider: One of `PROVIDERS`, or ``auto`` to recognise the object by its shape
            (an OpenAI-shaped payload is then validated as it is).
        profile: The profile the batch is validated under.

    Returns:
        A `Report` whose `batch` is the OpenAI batch (its unknown key ``x_provider`` holds
        the native object unchanged), or None when the object cannot be read; bad data
        never raises.

    Raises:
        ArgumentError: for a `data` of another type, an unknown provider or profile.
    """
    if not isinstance(provider, str):
        raise ArgumentError("provider", f"expected a str, got {type(provider).__name__}")
    if provider != "auto" and provider not in PROVIDERS:
        raise ArgumentError(
            "provider", f"expected one of {', '.join(PROVIDERS)} or 'auto', got {provider!r}"
        )
    resolved = resolve(profile)
    owned = True  # whether `value` was made here (parsed, dumped): it needs no copy
    if isinstance(data, Batch):
        return validate(data, profile=resolved)
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        value = _parse(data)
        if value is _ABSENT or not isinstance(value, dict):
            return validate(data, profile=resolved)  # says what is wrong with the text
    elif isinstance(data, Mapping):
        value, owned = (data if type(data) is dict else dict(data)), False
    elif (value := model_wire(data)) is NOT_A_MODEL:
        raise ArgumentError(
            "data",
            f"expected JSON text, a mapping, a Batch or a pydantic model, got"
            f" {type(data).__name__}",
        )
    if not isinstance(value, dict):  # a model that dumps no object: validate says so
        return validate(data, profile=resolved)
    name = recognise(value) if provider == "auto" else provider
    if name is None:
        names = "; ".join(f"{p.name}: {describe_marks(p)}" for p in BY_NAME.values())
        message = (
            "not a batch object of any known provider (nor OpenAI's: no object 'batch' or"
            f" input_file_id); expected {names}"
        )
        return Report(
            (Violation("provider.unknown", "$", message),), None, _codec.payload_id(value)
        )
    if name == "openai":
        return validate(value, profile=resolved)
    wire, found, assumed, batch_id = _read(BY_NAME[name], value, resolved, owned)
    if wire is None:
        return Report(capped(found), None, batch_id)
    skipped = CONVENTIONS | (ASSUMED_DEADLINE if assumed else frozenset())
    checked = validate(wire, profile=resolved)
    found.extend(v for v in checked.violations if v.code not in skipped)
    return Report(capped(found), checked.batch, batch_id)


def native_of(batch: Batch) -> tuple[str, Any] | None:
    """The provider's name and the native object a batch was read from, or None."""
    kept = batch.extra.get(NATIVE)
    if isinstance(kept, dict) and isinstance(kept.get("name"), str) and "object" in kept:
        return kept["name"], kept["object"]
    return None


def to_provider(batch: Batch, provider: str = "auto") -> Any:
    """The native object `batch` was read from by `from_provider`, exactly as it was read.

    The batch keeps it in its unknown key ``x_provider``, which `batchfsm.dumps` writes and
    `batchfsm.loads` reads back, so a stored batch gives it back too. It is the object as
    read: what was done to the batch since (an engine's transitions) is not written into it.

    Args:
        batch: A `Batch`, as `from_provider` (or `loads` of its `dumps`) made it.
        provider: The provider it must have been read from (one of `PROVIDERS`), or
            ``auto``: whichever it was. ``openai`` (and ``auto``, for a batch read from no
            native object) gives the batch's own wire object, as `batchfsm.unstructure`.

    Returns:
        A deep copy of the native object (changing it leaves the batch as it was); for an
        object read from JSON text, the value that text holds.

    Raises:
        ArgumentError: for a `batch` that is not a Batch, an unknown provider, or a batch
            that holds no native object of `provider` (read from another provider's, or
            from none), naming which.
        PayloadError: for ``openai``, what `batchfsm.unstructure` refuses.
    """
    if not isinstance(batch, Batch):
        raise ArgumentError("batch", f"expected a Batch, got {type(batch).__name__}")
    if not isinstance(provider, str) or (provider != "auto" and provider not in PROVIDERS):
        raise ArgumentError(
            "provider", f"expected one of {', '.join(PROVIDERS)} or 'auto', got {provider!r}"
        )
    kept = native_of(batch)
    if provider == "openai" or (provider == "auto" and kept is None):
        return copy.deepcopy(_codec.unstructure(batch))
    if kept is None:
        why = (
            f"its unknown key {NATIVE} is not {{name, object}}: {batch.extra[NATIVE]!r:.80}"
            if NATIVE in batch.extra
            else f"it has no unknown key {NATIVE}: only a batch from_provider read keeps one"
        )
        raise ArgumentError(
            "batch", f"batch {batch.id!r} holds no native object of {provider}: {why}"
        )
    name, native = kept
    if provider != "auto" and name != provider:
        raise ArgumentError(
            "batch",
            f"batch {batch.id!r} was read from an object of {name} ({NATIVE}.name),"
            f" not of {provider}",
        )
    return copy.deepcopy(native)


# -- native histories ----------------------------------------------------------------------


@functools.cache
def native_following(name: str) -> dict[str, frozenset[str]]:
    """The native statuses that may follow each status of provider `name` in a history:
    itself, and those its edges reach (polls may skip statuses)."""
    provider = BY_NAME[name]
    following = {state.name: {state.name} for state in provider.states}
    for _ in provider.states:
        for edge in provider.edges:
            if edge.source is not None:
                for reached in following.values():
                    if edge.source in reached:
                        reached.add(edge.dest)
    return {state: frozenset(reached) for state, reached in following.items()}


@functools.cache
def _openai_following(profile: Profile) -> dict[Status, frozenset[Status]]:
    edges = transitions_for(profile)
    return {status: reachable(edges, status) for status in Status}


def lossy_edges(name: str, source: str, dest: str) -> list[Edge]:
    """The edges of provider `name` with a loss on some path from `source` to `dest`."""
    following = native_following(name)
    return [
        edge
        for edge in BY_NAME[name].edges
        if edge.loss
        and edge.source is not None
        and edge.source in following[source]
        and dest in following[edge.dest]
    ]


def _moment(provider: Provider, value: Any) -> tuple[int, str] | None:
    """A native time as (Unix second, its fraction's digits to nanoseconds), or None."""
    if provider.clock is Clock.UNIX:
        return (value, "") if type(value) is int else None
    parsed = parse_rfc3339(value) if isinstance(value, str) else None
    if parsed is None:
        return None
    match = _RFC3339.match(value)
    assert match is not None  # parse_rfc3339 matched it
    return parsed[0], (match.group(7) or "").ljust(9, "0")[:9]


def _count(provider: Provider, value: Any) -> int | None:
    if value is _ABSENT or value is None:
        return 0 if provider.counts_as_strings else None
    if type(value) is int:
        return value
    if isinstance(value, str) and _INT64.fullmatch(value):
        return int(value)
    return None


@attrs.frozen
class _Snapshot:
    """One readable native snapshot: where it is, its object, its batch object and status."""

    index: int
    document: dict[str, Any]
    root: dict[str, Any]
    root_path: str
    state: State
    batch: Batch

    def get(self, key: str) -> Any:
        return lookup(self.document, self.root, key)

    def at(self, key: str) -> str:
        return f"$[{self.index}]" + _where(self.root_path, key)[1:]


def _native_value(snapshot: object) -> object:
    """A snapshot as the decoded native object when it can be had (text, a model, a Batch
    read from one), else as it is, for `from_provider` to report or refuse."""
    if isinstance(snapshot, Batch):
        kept = native_of(snapshot)
        return kept[1] if kept is not None else snapshot
    if isinstance(snapshot, (bytes, bytearray, memoryview, str)):
        value = _parse(snapshot)
        return value if isinstance(value, dict) else snapshot
    if not isinstance(snapshot, Mapping):
        wire = model_wire(snapshot)
        return wire if isinstance(wire, dict) else snapshot
    return snapshot


def native_history(snapshots: Iterable[object], provider: str, profile: Profile) -> Report:
    """`check_history` of native snapshots: each read by `from_provider`, and each against
    the one before by the provider's own table (`batchfsm.check_history` says what)."""
    if not isinstance(provider, str) or (provider != "auto" and provider not in PROVIDERS):
        raise ArgumentError(
            "provider", f"expected one of {', '.join(PROVIDERS)} or 'auto', got {provider!r}"
        )
    values = [_native_value(snapshot) for snapshot in snapshots]
    name: str | None = provider
    if provider == "auto":
        dicts = (value for value in values if isinstance(value, dict))
        name = next(filter(None, map(recognise, dicts)), None)
    if name == "openai":
        return check_history(values, profile=profile)
    found: list[Violation] = []
    previous: _Snapshot | None = None
    latest: Batch | None = None
    batch_id: str | None = None
    for index, value in enumerate(values):
        if isinstance(value, Batch):  # read from no native object
            message = f"a Batch read from no native object of {name or 'any provider'}"
            found.append(Violation("provider.unknown", f"$[{index}]", message))
            continue
        report = from_provider(value, name or "auto", profile=profile)
        found.extend(_prefixed(violation, index) for violation in report.violations)
        batch_id = batch_id or report.batch_id
        kept = native_of(report.batch) if report.batch is not None else None
        if report.batch is None or kept is None:
            continue
        native = BY_NAME[kept[0]]
        root, root_path = _recognised(native, kept[1]) or ({}, "")
        state = _state(native, lookup(kept[1], root, native.status))
        current = _Snapshot(index, kept[1], root, root_path, state, report.batch)
        if previous is not None:
            found.extend(_native_compare(native, previous, current, profile))
        previous, latest, batch_id = current, report.batch, report.batch.id
    return Report(capped(found), latest, batch_id)


def _prefixed(violation: Violation, index: int) -> Violation:
    return attrs.evolve(violation, path=f"$[{index}]" + violation.path[1:])


def _native_compare(
    provider: Provider, before: _Snapshot, after: _Snapshot, profile: Profile
) -> list[Violation]:
    """What is wrong between two successive native snapshots, by the provider's table."""
    found: list[Violation] = []
    add = found.append
    if after.get(provider.id) != before.get(provider.id):
        message = (
            f"{provider.id} changed from {before.get(provider.id)!r} to {after.get(provider.id)!r}"
        )
        add(Violation("history.id_changed", after.at(provider.id), message))
    old, new = before.state.name, after.state.name
    was, now = before.batch.status, after.batch.status
    follows = new in native_following(provider.name)[old]
    where = after.at(provider.status)
    if not follows:
        message = f"{new} cannot follow {old} by the table of {provider.title}"
        add(Violation("history.unreachable", where, message))
    elif now not in _openai_following(profile)[was]:
        lossy = lossy_edges(provider.name, old, new)
        reads = f"{old} → {new} reads as {was.value} → {now.value}, which no OpenAI path joins"
        if lossy:
            message = f"{reads}; {lossy[0].loss}"
            add(Violation("provider.transition_unmapped", where, message, _WARNING))
        else:
            message = (
                f"{reads}, and no transition of {provider.title} from {old} to {new} explains it"
            )
            add(Violation("history.unreachable", where, message))
    checked = checked_times(provider)
    for time in provider.times:
        was_at, now_at = before.get(time.key), after.get(time.key)
        then, later = _moment(provider, was_at), _moment(provider, now_at)
        if time.key in checked or time.role is Role.DEADLINE:  # set once, never changed
            if follows and then is not None and later != then:
                change = "disappeared" if now_at in (_ABSENT, None) else f"changed to {now_at!r}"
                message = f"{time.key} {was_at!r} {change}"
                add(Violation("history.stamp_changed", after.at(time.key), message))
        elif then is not None and later is not None and later < then:  # updated, never back
            message = f"{time.key} went back from {was_at!r} to {now_at!r}"
            add(Violation("history.stamp_changed", after.at(time.key), message))
    for count in provider.counts:
        if count.counting is Counting.PENDING:  # goes down as requests finish
            continue
        then_n, later_n = (
            _count(provider, before.get(count.key)),
            _count(provider, after.get(count.key)),
        )
        if then_n is not None and later_n is not None and later_n < then_n:
            message = f"{count.key} went down from {then_n} to {later_n}"
            add(Violation("history.counts_decreased", after.at(count.key), message))
    for keys in (provider.input, provider.endpoint):
        key = next((k for k in keys if before.get(k) not in (_ABSENT, None)), None)
        if key is not None and after.get(key) != before.get(key):
            message = f"{key} changed from {before.get(key)!r} to {_shown(after.get(key))}"
            add(Violation("history.field_changed", after.at(key), message))
    return found


def _shown(value: Any) -> str:
    return "nothing" if value is _ABSENT else repr(value)
