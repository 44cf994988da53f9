"""The validator: every consistency problem of a batch payload, as a report, never a crash.

Its checks are generated from the rules (`_checks`), the same ones the engine's guards
are generated from, so it accepts exactly what the engine can produce under the same
profile; the table decides which statuses may follow which in a history.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from . import _codec, _json, _strict
from ._checks import checker
from ._compat import bom_note, normalize, without_bom
from ._errors import MAX_PER_CODE, ArgumentError, PayloadError, Severity, Violation, capped
from ._fastpath import MISS
from ._jsonpath import ROOT
from ._models import NOT_A_MODEL, model_wire
from ._profile import PRESETS, Profile, resolve
from ._record import KNOWN_STATUSES, Batch, Status
from ._repair import repair
from ._rules import BY_CODE, EVENT_STAMPS
from ._strict import AmbiguousNumber
from ._table import reachable, transitions_for

__all__ = ["Report", "check_history", "validate"]

_ERROR, _WARNING = Severity.ERROR, Severity.WARNING
_EVENT_STAMPS = EVENT_STAMPS
#: The rule of a list of batches read item by item (the command counts its items instead).
ENVELOPE = BY_CODE["compat.list_envelope"]
_CONSTANT = ("created_at", "expires_at", "input_file_id", "endpoint")


# Not frozen: a frozen attrs class sets each field through object.__setattr__, which cost
# 3% of validating a clean payload; a report is still never changed by the library.
@attrs.define
class Report:
    """What validating a payload (or a history of snapshots) found.

    Attributes:
        violations: Every problem found, errors and warnings, each at its JSONPath; in the
            reports batchfsm makes, at most `MAX_PER_CODE` of one code, and one more that
            counts the rest.
        batch: The decoded record (the last snapshot's, for a history), or None when the
            payload could not be decoded.
        batch_id: The payload's ``id`` whenever one could be read (even when it could not
            be decoded); for a history, the batch's.
        items: For a list of batches (``{"object": "list", "data": [...]}``, as ``GET
            /v1/batches`` answers) read under a profile that reads quirks, the report of
            each batch in ``data``, in order, each judged on its own (its paths are the
            item's own: ``$.status`` of ``$.data[3]``); else empty.
    """

    violations: tuple[Violation, ...]
    batch: Batch | None
    batch_id: str | None = None
    items: tuple[Report, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no violation is an error (warnings do not count), nor in any item."""
        return all(v.severity is not _ERROR for v in self.violations) and all(
            item.ok for item in self.items
        )

    @property
    def errors(self) -> tuple[Violation, ...]:
        """The error-severity violations."""
        return tuple(v for v in self.violations if v.severity is _ERROR)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        """The warning-severity violations."""
        return tuple(v for v in self.violations if v.severity is _WARNING)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary: ``{"ok", "batch_id", "violations": [...]}``, each
        violation as ``{"code", "path", "message", "severity"}``; a list of batches also
        has ``"items"``, the summary of each."""
        summary: dict[str, Any] = {
            "ok": self.ok,
            "batch_id": self.batch_id,
            "violations": [violation_dict(v) for v in self.violations],
        }
        if self.items:
            summary["items"] = [item.to_dict() for item in self.items]
        return summary


def violation_dict(violation: Violation) -> dict[str, str]:
    """A violation as JSON: ``{"code", "path", "message", "severity"}``, as reports and the
    command write it."""
    return {
        "code": violation.code,
        "path": violation.path,
        "message": violation.message,
        "severity": violation.severity.value,
    }


@functools.cache
def _next_statuses(profile: Profile) -> dict[Status, frozenset[Status]]:
    """The statuses that may follow each status in a history under `profile`."""
    edges = transitions_for(profile)
    return {status: reachable(edges, status) for status in Status}


# validate's common call: the profile as passed -> (its checker, whether the generated
# decoder may answer: not for a profile that reads quirks, which normalises first).
_COMMON: dict[object, tuple[Callable[[Batch], list[Violation]], bool]] = {
    key: (checker(profile), not profile.quirks)
    for profile in PRESETS.values()
    for key in (profile, profile.name)
}


def _check_notes(notes: object) -> None:
    """Refuse a record whose `normalizations` were set by hand to anything but Violations
    (they are not on the wire, so no decode can report them)."""
    if not (isinstance(notes, tuple) and all(type(note) is Violation for note in notes)):
        raise ArgumentError(
            "data",
            f"expected a Batch's normalizations to be a tuple of Violations, got {notes!r:.80}",
        )


def validate(data: object, *, profile: Profile | str = "openai") -> Report:
    """Check a batch payload against the wire format and the lifecycle, reporting everything.

    Args:
        data: JSON text (bytes or str), a decoded mapping, a `Batch`, or a pydantic model
            of an SDK (``openai.types.Batch``): its ``model_dump(mode="json")``.
        profile: A `Profile` or a preset's name: ``strict`` (OpenAI's documented
            behaviour only), ``openai`` (also the tolerated edges) or ``compat`` (also
            provider quirks, each a warning).

    Returns:
        A `Report`; bad data never raises, it is reported.

    Raises:
        ArgumentError: only for a `data` of another type (or a `Batch` whose
            ``normalizations`` were set by hand to something else than Violations), or an
            unknown profile.
    """
    common = _COMMON.get(profile) if type(profile) in (str, Profile) else None
    if common is not None and common[1]:
        value: Any = data
        if type(data) is bytes or type(data) is str:
            try:
                value = _json.quick_parse(data)
            except ValueError:  # not JSON: the full path says what is wrong
                value = None
        batch = _codec.fast_structure(value)  # MISS unless a dict of the right shape and types
        if batch is not MISS:
            found = common[0](batch)
            listed = tuple(found) if len(found) <= MAX_PER_CODE else capped(found)
            return Report(listed, batch, batch.id)
    return _validate(data, resolve(profile))


def _validate(data: object, profile: Profile) -> Report:
    """`validate` without the shortcut: decode, then check the record, reporting all; of a
    payload that does not decode, every check that can still be judged (`_judgeable`)."""
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        if profile.quirks and (text := without_bom(_json.text(data))) is not None:
            return _noted(_validate_text(text, profile), bom_note())
        return _validate_text(data, profile)
    if isinstance(data, Batch):
        # A record may hold values set by hand: its wire form must decode as a payload
        # would, or the checks would meet a str where they compare ints.
        _check_notes(data.normalizations)
        try:
            value: dict[str, Any] = _codec.unstructure(data)
        except PayloadError as error:
            return Report(tuple(error.violations), None, _codec.payload_id(data))
    elif isinstance(data, Mapping):
        value = data if type(data) is dict else dict(data)
    elif (value := model_wire(data)) is NOT_A_MODEL:  # else an SDK's pydantic model's
        raise ArgumentError(
            "data", f"expected JSON text, a mapping or a Batch, got {type(data).__name__}"
        )
    token = _strict.exact_pass.set(True)  # Python values are exact already
    try:
        report = _judge(value, profile)
    finally:
        _strict.exact_pass.reset(token)
    if isinstance(data, Batch) and report.batch is not None and not report.batch.normalizations:
        # The record as given, with what compat rewrote when it was decoded; a record that
        # decodes only once compat rewrites a value is checked as rewritten (above).
        return Report(capped((*data.normalizations, *report.violations)), data, data.id)
    return report


def _validate_text(data: _json.Text, profile: Profile) -> Report:
    """`_judge` of the JSON text `data`, parsed once (twice for an integer beyond 64 bits)."""
    try:
        value = _json.quick_parse(data)
    except ValueError:  # the decoder's error: parse again to say precisely what is wrong
        try:
            value = _json.parse(data)
        except PayloadError as error:
            return Report(tuple(error.violations), None)
    try:
        return _judge(value, profile)
    except AmbiguousNumber:
        pass
    # An integer literal beyond 64 bits, which orjson reads as a float: read it exactly,
    # to keep it (unknown key) or to refuse it for what it is (known field).
    token = _strict.exact_pass.set(True)
    try:
        return _judge(_json.parse_exact(data), profile)
    except PayloadError as error:  # nested deeper than the stdlib reads
        return Report(tuple(error.violations), None)
    finally:
        _strict.exact_pass.reset(token)


def _noted(report: Report, note: Violation) -> Report:
    """`report` with `note`, a warning about the text around the payload, first."""
    if report.batch is not None:
        report.batch.normalizations = (note, *report.batch.normalizations)
    return attrs.evolve(report, violations=capped((note, *report.violations)))


def _judge(value: object, profile: Profile) -> Report:
    """Decode the parsed JSON `value` and check the record; if it does not decode, report
    why and what the checks can still judge. Under a profile that reads quirks, a list of
    batches is judged item by item."""
    if (
        profile.quirks
        and type(value) is dict
        and value.get("object") == "list"
        and type(items := value.get("data")) is list
    ):
        message = f"a list of {len(items)} batches, each judged on its own"
        return Report(
            (Violation(ENVELOPE.code, ROOT, message, _WARNING),),
            None,
            items=tuple(_judge(item, profile) for item in items),
        )
    try:
        batch = _codec.read(value, _codec.reading(profile))
    except PayloadError as error:
        refused = list(error.violations)
    else:
        found = list(batch.normalizations)
        found.extend(_checked(batch, profile))
        return Report(capped(found), batch, batch.id)
    if type(value) is not dict:  # not an object: nothing more to judge
        return Report(tuple(refused), None)
    return Report(capped(_judgeable(value, profile, refused)), None, _codec.payload_id(value))


_STATUS_HIDDEN = frozenset({"status"})


def _checked(batch: Batch, profile: Profile) -> list[Violation]:
    """The checks of `batch` under `profile`: those that do not read the status alone, for
    a status no table knows (compat keeps it; it is reported as status.unknown)."""
    if batch.status in KNOWN_STATUSES:
        return checker(profile)(batch)
    return checker(profile, partial=True)(batch, _STATUS_HIDDEN)


def _judgeable(
    value: dict[str, Any], profile: Profile, refused: list[Violation]
) -> list[Violation]:
    """`refused` (why `value` does not decode under `profile`), then what the checks find
    in compat's reading of it: all of them if compat reads it, else those that read no
    value compat refused too. A payload is judged as compat reads it whatever the profile,
    so that a wrong value in one field changes nothing about how the others are read."""
    normalized, notes, _ = normalize(value)
    found = notes + refused if profile.quirks else list(refused)
    if profile.quirks:  # compat's reading is the one that failed
        repaired = repair(normalized, refused)
    else:
        try:
            lenient = _codec.read_normalized(normalized)
        except PayloadError as error:
            repaired = repair(normalized, error.violations)
        else:
            found.extend(_checked(lenient, profile))
            return found
    if repaired is None:  # a path with no field, or a mapping that cannot be copied
        return found
    stand_ins, unknown = repaired
    try:
        batch = _codec.read_normalized(stand_ins)
    except PayloadError:  # pragma: no cover - every stand-in decodes
        return found
    found.extend(checker(profile, partial=True)(batch, unknown))
    return found


def _prefixed(violation: Violation, index: int) -> Violation:
    return attrs.evolve(violation, path=f"$[{index}]" + violation.path[1:])


def check_history(
    snapshots: Iterable[object], *, profile: Profile | str = "openai", provider: str | None = None
) -> Report:
    """Check polled snapshots of one batch, in order: each alone, and each against the last.

    Polls may skip statuses; each status must still be reachable from the one before by
    the profile's edges (a status that went back is ``history.unreachable``, without a
    ``history.stamp_changed`` for each stamp it lost). Paths are prefixed with the
    snapshot's index (``$[3].status``).

    With a `provider` (one of `PROVIDERS`, or ``auto``: the first recognised snapshot's),
    the snapshots are that provider's native objects: each is read by `from_provider`,
    and each native status must be reachable from the one before by the provider's own
    table; its times, counts, id and input are compared as OpenAI's are, at their native
    paths. A native transition that reads as no OpenAI path (Vertex AI's cancel that did
    not take) is a ``provider.transition_unmapped`` warning naming the loss.

    Returns:
        A `Report` whose ``batch`` is the last snapshot's record and whose ``batch_id``
        is the batch's id.

    Raises:
        ArgumentError: for a `snapshots` that is not iterable, an item of the wrong
            type, an unknown profile or provider.
    """
    profile = resolve(profile)
    following = _next_statuses(profile)
    if isinstance(snapshots, (str, bytes, Mapping)) or not isinstance(snapshots, Iterable):
        raise ArgumentError(
            "snapshots", f"expected a sequence of payloads, got {type(snapshots).__name__}"
        )
    if provider is not None:  # native snapshots: read and compared by _providers
        from ._providers import native_history  # which imports this module

        return native_history(snapshots, provider, profile)
    found: list[Violation] = []
    previous: Batch | None = None
    latest: Batch | None = None
    batch_id: str | None = None
    for index, snapshot in enumerate(snapshots):
        report = validate(snapshot, profile=profile)
        found.extend(_prefixed(v, index) for v in report.violations)
        if batch_id is None:
            batch_id = report.batch_id
        if report.batch is None:
            continue
        latest = report.batch
        if previous is not None:
            found.extend(_compare(previous, latest, index, following))
        previous = latest
        batch_id = latest.id
    return Report(capped(found), latest, batch_id)


def _compare(
    before: Batch, after: Batch, index: int, following: dict[Status, frozenset[Status]]
) -> list[Violation]:
    here = f"$[{index}]"
    found: list[Violation] = []
    add = found.append
    if after.id != before.id:
        add(
            Violation(
                "history.id_changed", f"{here}.id", f"id changed from {before.id!r} to {after.id!r}"
            )
        )
    # A status no table knows (compat keeps it) reaches none, nor is reached.
    follows = after.status in following.get(before.status, ())
    if not follows:
        add(
            Violation(
                "history.unreachable",
                f"{here}.status",
                f"{after.status.value} cannot follow {before.status.value}",
            )
        )
    for name in _EVENT_STAMPS:
        old, new = getattr(before, name), getattr(after, name)
        # A status that went back loses the stamps of what it went back over: that is
        # the unreachable status again, not another problem.
        if follows and old is not None and new != old:
            change = "disappeared" if new is None else f"changed to {new}"
            add(Violation("history.stamp_changed", f"{here}.{name}", f"{name} {old} {change}"))
    for name in _CONSTANT:
        old, new = getattr(before, name), getattr(after, name)
        if new != old:
            add(
                Violation(
                    "history.field_changed",
                    f"{here}.{name}",
                    f"{name} changed from {old!r} to {new!r}",
                )
            )
    if before.request_counts is not None and after.request_counts is not None:
        for key in ("total", "completed", "failed"):
            old, new = getattr(before.request_counts, key), getattr(after.request_counts, key)
            if new < old:
                add(
                    Violation(
                        "history.counts_decreased",
                        f"{here}.request_counts.{key}",
                        f"request_counts.{key} went down from {old} to {new}",
                    )
                )
    return found
