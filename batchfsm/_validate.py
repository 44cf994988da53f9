"""The validator: every consistency problem of a batch payload, as a report, never a crash.

The stamp rules are derived from the lifecycle table (`_table`), so the validator accepts
exactly what the engine can produce under the same profile, and the engine's profile
decides which statuses may follow which in a history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from . import _codec, _json
from ._errors import ArgumentError, PayloadError, Severity, Violation
from ._fastpath import MISS, decoder
from ._jsonpath import ROOT, child
from ._record import (
    ENDPOINTS,
    METADATA_MAX_KEY,
    METADATA_MAX_PAIRS,
    METADATA_MAX_VALUE,
    TIMESTAMP_FIELDS,
    Batch,
    Status,
    Usage,
    window_seconds,
)
from ._table import (
    carried_stamps,
    reachable,
    required_stamps,
    stamp_order,
    transitions_for,
)

__all__ = ["Report", "check_history", "validate"]

_ERROR, _WARNING = Severity.ERROR, Severity.WARNING
_WINDOW_TOLERANCE = 60  # seconds; Azure shows expires_at = created_at + 86396
_EVENT_STAMPS = tuple(name for name in TIMESTAMP_FIELDS if name != "expires_at")
_CONSTANT = ("created_at", "expires_at", "input_file_id", "endpoint")


# Not frozen: a frozen attrs class sets each field through object.__setattr__, which cost
# 3% of validating a clean payload; a report is still never changed by the library.
@attrs.define
class Report:
    """What validating a payload (or a history of snapshots) found.

    Attributes:
        violations: Every problem found, errors and warnings, each at its JSONPath.
        batch: The decoded record (the last snapshot's, for a history), or None when the
            payload could not be decoded.
    """

    violations: tuple[Violation, ...]
    batch: Batch | None
    batch_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when no violation is an error (warnings do not count)."""
        return all(v.severity is not _ERROR for v in self.violations)

    @property
    def errors(self) -> tuple[Violation, ...]:
        """The error-severity violations."""
        return tuple(v for v in self.violations if v.severity is _ERROR)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        """The warning-severity violations."""
        return tuple(v for v in self.violations if v.severity is _WARNING)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary: ``{"ok", "batch_id", "violations": [...]}``."""
        return {
            "ok": self.ok,
            "batch_id": self.batch_id,
            "violations": [violation_dict(v) for v in self.violations],
        }


def violation_dict(violation: Violation) -> dict[str, str]:
    """A violation as JSON: ``{"code", "path", "message", "severity"}``, as reports and the
    command write it."""
    return {
        "code": violation.code,
        "path": violation.path,
        "message": violation.message,
        "severity": violation.severity.value,
    }


@attrs.frozen
class _StatusRules:
    """What the table says about the stamps of a batch in one status."""

    required: tuple[str, ...]  # set on every path to the status
    forbidden: tuple[str, ...]  # set on no path to it
    order: tuple[tuple[str, str], ...]  # (earlier, later) pairs among the stamps it may carry


@attrs.frozen
class _Rules:
    """The table-derived rules of one profile."""

    profile: str
    stamps: dict[Status, _StatusRules]
    next_statuses: dict[Status, frozenset[Status]]


def _rules(profile: str) -> _Rules:
    edges = transitions_for(profile)
    carried, required, order = carried_stamps(edges), required_stamps(edges), stamp_order(edges)
    stamps = {
        status: _StatusRules(
            required=tuple(name for name in _EVENT_STAMPS if name in required[status]),
            forbidden=tuple(name for name in _EVENT_STAMPS if name not in carried[status]),
            order=tuple(
                sorted((a, b) for a, b in order if a in carried[status] and b in carried[status])
            ),
        )
        for status in Status
    }
    return _Rules(
        profile=profile,
        stamps=stamps,
        next_statuses={status: reachable(edges, status) for status in Status},
    )


_RULES = {profile: _rules(profile) for profile in _codec.PROFILES}


def _clean_checks(rules: _Rules) -> tuple[list[str], dict[str, Any]]:
    """Lines for the generated decoder (`_fastpath`) that judge whether a payload is clean.

    Each line says of the values in the decoder's locals what one check of `_check` says of
    a record: any value `_check` would report (error or warning) sets ``clean = False``, and
    `validate` then runs `_check` on the decoded record, which reports it. A property test
    holds the two in agreement; no catalog example may pass for clean.
    """
    names: dict[str, Any] = {
        "ENDPOINTS": ENDPOINTS,
        "TOLERANCE": _WINDOW_TOLERANCE,
        "MAX_PAIRS": METADATA_MAX_PAIRS,
        "MAX_KEY": METADATA_MAX_KEY,
        "MAX_VALUE": METADATA_MAX_VALUE,
        **{status.name: status for status in Status},
    }
    lines: list[str] = []

    def dirty_if(condition: str, indent: str = "") -> None:
        lines.extend([f"{indent}if {condition}:", f"{indent}    clean = False"])

    dirty_if("v_object != 'batch' or v_completion_window != '24h'")
    dirty_if("v_endpoint is not None and v_endpoint not in ENDPOINTS")
    # A slice and a compare cost half a ``startswith`` call.
    dirty_if("v_id[:6] != 'batch_'")
    for key in ("input_file_id", "output_file_id", "error_file_id"):
        dirty_if(f"v_{key} is not None and v_{key}[:5] != 'file-'")
    for index, (status, table) in enumerate(rules.stamps.items()):
        conditions = [f"v_{name} is None" for name in table.required]
        conditions += [f"v_{name} is not None" for name in table.forbidden]
        for earlier, later in table.order:
            unknown = [f"v_{n} is not None" for n in (earlier, later) if n not in table.required]
            conditions.append(" and ".join([*unknown, f"v_{later} < v_{earlier}"]))
        lines.append(f"{'if' if index == 0 else 'elif'} v_status is {status.name}:")
        if conditions:
            dirty_if(" or ".join(f"({c})" for c in conditions), "    ")
        else:  # pragma: no cover - every status has a required stamp or a forbidden one
            lines.append("    pass")
    # Every check runs, whatever the ones before found: each guards its own operands.
    dirty_if("v_expires_at is None or abs(v_expires_at - v_created_at - 86400) > TOLERANCE")
    dirty_if(
        "v_expires_at is not None and v_expired_at is not None and v_expired_at < v_expires_at"
    )
    counts = "v_request_counts_total, v_request_counts_completed, v_request_counts_failed"
    lines += [
        # Comparisons rather than min() and max(): each call costs more than a compare.
        "if v_request_counts is not None:",
        f"    total, completed, failed = {counts}",
        # total >= 0 follows from the others, as the usage totals below do.
        "    if completed < 0 or failed < 0 or completed + failed > total:",
        "        clean = False",
        "    if v_status is COMPLETED and (",
        "        completed + failed != total",
        "        or (completed > 0 and v_output_file_id is None)",
        "        or (failed > 0 and v_error_file_id is None)",
        "    ):",
        "        clean = False",
        "errors = v_errors.data if v_errors is not None else None",
        "if (not errors) if v_status is FAILED else errors:",
        "    clean = False",
        "if v_metadata:",
        "    if len(v_metadata) > MAX_PAIRS:",
        "        clean = False",
        "    for key in v_metadata:",
        "        if len(key) > MAX_KEY or len(v_metadata[key]) > MAX_VALUE:",
        "            clean = False",
        "            break",
        # input_tokens >= cached_tokens >= 0, output_tokens >= reasoning_tokens >= 0 and
        # total_tokens == their sum: no token count is negative.
        "if v_usage is not None and (",
        "    v_usage_input_tokens_details_cached_tokens < 0",
        "    or v_usage_output_tokens_details_reasoning_tokens < 0",
        "    or v_usage_total_tokens != v_usage_input_tokens + v_usage_output_tokens",
        "    or v_usage_input_tokens_details_cached_tokens > v_usage_input_tokens",
        "    or v_usage_output_tokens_details_reasoning_tokens > v_usage_output_tokens",
        "):",
        "    clean = False",
    ]
    return lines, names


def _clean_decoder(rules: _Rules) -> Callable[[Any], Any]:
    checks, names = _clean_checks(rules)
    return decoder(checks=checks, names=names)


# validate's shortcut: decode and judge in one generated function, which answers
# ``(record, clean)`` for a payload of the right shape and types (without unknown keys);
# a clean one (the common case of a service checking what it receives) is done there.
# compat has none: it normalises first, and normalisations are reported.
_CLEAN = {profile: _clean_decoder(_RULES[profile]) for profile in ("openai", "strict")}


def _at(key: str) -> str:
    return child(ROOT, key)


def _decode(data: object, codec_profile: str) -> tuple[Batch | None, list[Violation]]:
    """The record `data` holds, with the compat normalisations, or the decode problems."""
    try:
        if isinstance(data, Batch):
            # A record may hold values set by hand: its wire form must decode as a payload
            # would, or the checks below would meet a str where they compare ints. If it
            # decodes only once compat rewrote a value, the rewritten record is checked.
            _check_notes(data.normalizations)
            decoded = _codec.structure(_codec.unstructure(data), profile=codec_profile)
            batch = decoded if decoded.normalizations else data
        elif isinstance(data, (bytes, bytearray, memoryview, str)):
            batch = _codec.loads(data, profile=codec_profile)
        elif isinstance(data, Mapping):
            batch = _codec.structure(data, profile=codec_profile)
        else:
            raise ArgumentError(
                "data", f"expected JSON text, a mapping or a Batch, got {type(data).__name__}"
            )
    except PayloadError as error:
        return None, list(error.violations)
    return batch, list(batch.normalizations)


def _check_notes(notes: object) -> None:
    """Refuse a record whose `normalizations` were set by hand to anything but Violations
    (they are not on the wire, so no decode can report them)."""
    if not (isinstance(notes, tuple) and all(type(note) is Violation for note in notes)):
        raise ArgumentError(
            "data",
            f"expected a Batch's normalizations to be a tuple of Violations, got {notes!r:.80}",
        )


def _rules_for(profile: str) -> _Rules:
    _codec.check_profile(profile)
    return _RULES[profile]


def validate(data: object, *, profile: str = "openai") -> Report:
    """Check a batch payload against the wire format and the lifecycle, reporting everything.

    Args:
        data: JSON text (bytes or str), a decoded mapping, or a `Batch`.
        profile: ``strict`` (OpenAI's documented behaviour only), ``openai`` (also the
            tolerated edges) or ``compat`` (also provider quirks, each a warning).

    Returns:
        A `Report`; bad data never raises, it is reported.

    Raises:
        ArgumentError: only for a `data` of another type (or a `Batch` whose
            ``normalizations`` were set by hand to something else than Violations), or an
            unknown profile.
    """
    judged = _CLEAN.get(profile) if type(profile) is str else None
    if judged is not None:
        value: Any = data
        if type(data) is bytes or type(data) is str:
            try:
                value = _json.quick_parse(data)
            except ValueError:  # not JSON: the full path says what is wrong
                value = None
        answer = judged(value)  # MISS unless a dict of the right shape and types
        if answer is not MISS:
            batch, clean = answer
            if clean:
                return Report((), batch, batch.id)
            return Report(tuple(_check(batch, _RULES[profile])), batch, batch.id)
    return _validate(data, profile)


def _validate(data: object, profile: str) -> Report:
    """`validate` without the shortcut: decode, then check the record, reporting all."""
    rules = _rules_for(profile)
    batch, found = _decode(data, "compat" if profile == "compat" else "openai")
    if batch is not None:
        found.extend(_check(batch, rules))
        return Report(tuple(found), batch, batch.id)
    # Not canonical: if the payload reads under compat, check its lifecycle all the same,
    # so that one report lists every problem, not only the decoding ones.
    lenient, _ = _decode(data, "compat") if profile != "compat" else (None, [])
    if lenient is not None:
        found.extend(_check(lenient, rules))
    batch_id = lenient.id if lenient is not None else _codec.payload_id(data)
    return Report(tuple(found), None, batch_id)


def _severity(strict: bool) -> Severity:
    return _ERROR if strict else _WARNING


def _check(batch: Batch, rules: _Rules) -> list[Violation]:
    found: list[Violation] = []
    add = found.append
    strict = rules.profile == "strict"

    # -- wire values the codec's types allow but the API does not ------------------------
    if batch.object != "batch":
        add(Violation("object.invalid", _at("object"), f"expected 'batch', got {batch.object!r}"))
    if batch.endpoint is not None and batch.endpoint not in ENDPOINTS:
        add(
            Violation(
                "endpoint.unknown",
                _at("endpoint"),
                f"{batch.endpoint!r} is not an endpoint OpenAI accepts",
                _severity(strict),
            )
        )
    window = window_seconds(batch.completion_window)
    if batch.completion_window != "24h":  # the one spelling of 86,400 s window_seconds reads
        known = "OpenAI accepts only '24h'"
        severity = _severity(strict) if window is not None else _ERROR
        add(
            Violation(
                "window.unknown",
                _at("completion_window"),
                f"{batch.completion_window!r}: {known}",
                severity,
            )
        )
    if not batch.id.startswith("batch_"):
        add(
            Violation(
                "id.prefix", _at("id"), f"{batch.id!r} does not start with 'batch_'", _WARNING
            )
        )
    for key in ("input_file_id", "output_file_id", "error_file_id"):
        value = getattr(batch, key)
        if value is not None and not value.startswith("file-"):
            add(
                Violation(
                    "file_id.prefix", _at(key), f"{value!r} does not start with 'file-'", _WARNING
                )
            )

    # -- stamps: which, in what order, and the deadline ---------------------------------
    status = batch.status
    table = rules.stamps[status]
    for name in table.required:
        if getattr(batch, name) is None:
            add(
                Violation(
                    "stamp.missing", _at(name), f"a {status.value} batch has {name} set, got null"
                )
            )
    for name in table.forbidden:
        value = getattr(batch, name)
        if value is not None:
            add(
                Violation(
                    "stamp.unexpected",
                    _at(name),
                    f"a {status.value} batch never has {name}, got {value}",
                )
            )
    for earlier, later in table.order:
        first, second = getattr(batch, earlier), getattr(batch, later)
        if first is not None and second is not None and second < first:
            add(
                Violation(
                    "stamp.order", _at(later), f"{later} {second} is before {earlier} {first}"
                )
            )
    if batch.expires_at is None:
        add(
            Violation(
                "expires_at.missing", _at("expires_at"), "expires_at is null; it is set at creation"
            )
        )
    else:
        if window is not None:
            expected = batch.created_at + window
            if abs(batch.expires_at - expected) > _WINDOW_TOLERANCE:
                add(
                    Violation(
                        "expires_at.window",
                        _at("expires_at"),
                        f"expected created_at + {batch.completion_window} = {expected} "
                        f"(± {_WINDOW_TOLERANCE} s), got {batch.expires_at}",
                    )
                )
        if batch.expired_at is not None and batch.expired_at < batch.expires_at:
            add(
                Violation(
                    "stamp.expired_early",
                    _at("expired_at"),
                    f"expired_at {batch.expired_at} is before expires_at {batch.expires_at}",
                )
            )

    # -- counts, files, errors ----------------------------------------------------------
    counts = batch.request_counts
    if counts is not None:
        for key in ("total", "completed", "failed"):
            value = getattr(counts, key)
            if value < 0:
                add(
                    Violation(
                        "counts.negative",
                        child(_at("request_counts"), key),
                        f"request_counts.{key} is negative: {value}",
                    )
                )
        done = counts.completed + counts.failed
        if done > counts.total:
            add(
                Violation(
                    "counts.exceeds_total",
                    _at("request_counts"),
                    f"completed {counts.completed} + failed {counts.failed} = {done} "
                    f"exceeds total {counts.total}",
                )
            )
        elif status is Status.COMPLETED and done != counts.total:
            add(
                Violation(
                    "counts.unaccounted",
                    _at("request_counts"),
                    f"a completed batch accounts for every request: completed "
                    f"{counts.completed} + failed {counts.failed} = {done}, total {counts.total}",
                )
            )
        if status is Status.COMPLETED:
            if counts.completed > 0 and batch.output_file_id is None:
                add(
                    Violation(
                        "files.output_missing",
                        _at("output_file_id"),
                        f"{counts.completed} requests completed, but output_file_id is null",
                    )
                )
            if counts.failed > 0 and batch.error_file_id is None:
                add(
                    Violation(
                        "files.error_missing",
                        _at("error_file_id"),
                        f"{counts.failed} requests failed, but error_file_id is null",
                    )
                )
    error_list = batch.errors.data if batch.errors is not None else None
    if status is Status.FAILED and not error_list:
        add(Violation("errors.missing", _at("errors"), "a failed batch lists at least one error"))
    elif status is not Status.FAILED and error_list:
        add(
            Violation(
                "errors.unexpected",
                _at("errors"),
                f"a {status.value} batch lists {len(error_list)} errors",
                _WARNING,
            )
        )

    # -- metadata and usage -------------------------------------------------------------
    metadata = batch.metadata
    if metadata and (
        len(metadata) > METADATA_MAX_PAIRS
        or max(map(len, metadata)) > METADATA_MAX_KEY
        or max(map(len, metadata.values())) > METADATA_MAX_VALUE
    ):
        if len(metadata) > METADATA_MAX_PAIRS:
            add(
                Violation(
                    "metadata.too_many",
                    _at("metadata"),
                    f"at most {METADATA_MAX_PAIRS} pairs, got {len(metadata)}",
                )
            )
        for key, value in metadata.items():
            if len(key) <= METADATA_MAX_KEY and len(value) <= METADATA_MAX_VALUE:
                continue  # the common case, even among 100,000 pairs: no path to build
            where = child(_at("metadata"), key)
            if len(key) > METADATA_MAX_KEY:
                add(
                    Violation(
                        "metadata.key_too_long",
                        where,
                        f"keys have at most {METADATA_MAX_KEY} characters, got {len(key)}",
                    )
                )
            if len(value) > METADATA_MAX_VALUE:
                add(
                    Violation(
                        "metadata.value_too_long",
                        where,
                        f"values have at most {METADATA_MAX_VALUE} characters, got {len(value)}",
                    )
                )
    usage = batch.usage
    if usage is not None:
        _check_usage(usage, add)
    return found


def _check_usage(usage: Usage, add: Callable[[Violation], None]) -> None:
    cached = usage.input_tokens_details.cached_tokens
    reasoning = usage.output_tokens_details.reasoning_tokens
    if min(usage.input_tokens, usage.output_tokens, usage.total_tokens, cached, reasoning) < 0:
        numbers = {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "input_tokens_details.cached_tokens": cached,
            "output_tokens_details.reasoning_tokens": reasoning,
        }
        for key, value in numbers.items():
            if value < 0:
                add(
                    Violation(
                        "usage.negative", f"$.usage.{key}", f"usage.{key} is negative: {value}"
                    )
                )
    if usage.total_tokens != usage.input_tokens + usage.output_tokens:
        add(
            Violation(
                "usage.total_mismatch",
                "$.usage.total_tokens",
                f"total_tokens {usage.total_tokens} != input_tokens {usage.input_tokens}"
                f" + output_tokens {usage.output_tokens}",
            )
        )
    if usage.input_tokens_details.cached_tokens > usage.input_tokens:
        add(
            Violation(
                "usage.cached_exceeds_input",
                "$.usage.input_tokens_details.cached_tokens",
                f"cached_tokens {usage.input_tokens_details.cached_tokens} exceeds "
                f"input_tokens {usage.input_tokens}",
            )
        )
    if usage.output_tokens_details.reasoning_tokens > usage.output_tokens:
        add(
            Violation(
                "usage.reasoning_exceeds_output",
                "$.usage.output_tokens_details.reasoning_tokens",
                f"reasoning_tokens {usage.output_tokens_details.reasoning_tokens} exceeds "
                f"output_tokens {usage.output_tokens}",
            )
        )


def _prefixed(violation: Violation, index: int) -> Violation:
    return attrs.evolve(violation, path=f"$[{index}]" + violation.path[1:])


def check_history(snapshots: Iterable[object], *, profile: str = "openai") -> Report:
    """Check polled snapshots of one batch, in order: each alone, and each against the last.

    Polls may skip statuses; each status must still be reachable from the one before by
    the profile's edges. Paths are prefixed with the snapshot's index (``$[3].status``).

    Raises:
        ArgumentError: for a `snapshots` that is not iterable, an item of the wrong
            type, or an unknown profile.
    """
    rules = _rules_for(profile)
    if isinstance(snapshots, (str, bytes, Mapping)) or not isinstance(snapshots, Iterable):
        raise ArgumentError(
            "snapshots", f"expected a sequence of payloads, got {type(snapshots).__name__}"
        )
    found: list[Violation] = []
    previous: Batch | None = None
    latest: Batch | None = None
    for index, snapshot in enumerate(snapshots):
        report = validate(snapshot, profile=profile)
        found.extend(_prefixed(v, index) for v in report.violations)
        if report.batch is None:
            continue
        latest = report.batch
        if previous is not None:
            found.extend(_compare(previous, latest, index, rules))
        previous = latest
    return Report(tuple(found), latest)


def _compare(before: Batch, after: Batch, index: int, rules: _Rules) -> list[Violation]:
    here = f"$[{index}]"
    found: list[Violation] = []
    add = found.append
    if after.id != before.id:
        add(
            Violation(
                "history.id_changed", f"{here}.id", f"id changed from {before.id!r} to {after.id!r}"
            )
        )
    if after.status not in rules.next_statuses[before.status]:
        add(
            Violation(
                "history.unreachable",
                f"{here}.status",
                f"{after.status.value} cannot follow {before.status.value}",
            )
        )
    for name in _EVENT_STAMPS:
        old, new = getattr(before, name), getattr(after, name)
        if old is not None and new != old:
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
