"""Every violation rule, written once: its code, what it means, how bad it is under each
profile, the condition that breaks it, its message, where it points, and an example.

A rule's condition is a Python expression over the *facts* of a batch (`FACTS`: its wire
values, with the nested counts and token numbers lifted to the top). From that one text
`_checks` generates the validator's check of a payload and the engine's guard of each
edge that names the rule (`Transition.guards`), so the two cannot disagree. The catalog
page docs/violations.md, the strategies that break payloads, and the docs read the same
objects. Facts and sources: docs/research.md.
"""

from __future__ import annotations

import copy
import enum
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from . import _examples as ex
from ._errors import Severity
from ._profile import Profile
from ._record import (
    ENDPOINTS,
    METADATA_MAX_KEY,
    METADATA_MAX_PAIRS,
    METADATA_MAX_VALUE,
    MILLISECONDS_FROM,
    TIMESTAMP_FIELDS,
    Status,
    window_seconds,
)

__all__ = ["FACTS", "RULES", "Lifeline", "Rule", "Stage"]

_ERROR, _WARNING = Severity.ERROR, Severity.WARNING

#: The stamps events set (``expires_at`` is a deadline, set with ``created_at``).
EVENT_STAMPS: tuple[str, ...] = tuple(name for name in TIMESTAMP_FIELDS if name != "expires_at")
#: Seconds ``expires_at`` may differ from ``created_at`` + window: Azure shows 86,396.
WINDOW_TOLERANCE = 60
_FILE_IDS = ("input_file_id", "output_file_id", "error_file_id")
_COUNTS = ("total", "completed", "failed")

#: The facts a rule's condition may read: name -> (the record it is in, its attribute
#: path there). A fact in a nested record is None when that record is absent.
FACTS: dict[str, tuple[str | None, str]] = {
    **{name: (None, name) for name in ("id", "object", "endpoint", "completion_window")},
    **{name: (None, name) for name in ("status", "model", "metadata", *_FILE_IDS)},
    **{name: (None, name) for name in TIMESTAMP_FIELDS},
    **{name: ("request_counts", name) for name in _COUNTS},
    "errors": ("errors", "data"),
    "input_tokens": ("usage", "input_tokens"),
    "output_tokens": ("usage", "output_tokens"),
    "total_tokens": ("usage", "total_tokens"),
    "cached_tokens": ("usage", "input_tokens_details.cached_tokens"),
    "reasoning_tokens": ("usage", "output_tokens_details.reasoning_tokens"),
}

#: Facts computed from other facts: name -> expression.
DERIVED: dict[str, str] = {"window": "window_seconds(completion_window)"}

#: The other names a condition or message may use.
NAMES: dict[str, Any] = {
    "ENDPOINTS": ENDPOINTS,
    "TOLERANCE": WINDOW_TOLERANCE,
    "MAX_PAIRS": METADATA_MAX_PAIRS,
    "MAX_KEY": METADATA_MAX_KEY,
    "MAX_VALUE": METADATA_MAX_VALUE,
    "MILLISECONDS_FROM": MILLISECONDS_FROM,
    "window_seconds": window_seconds,
    **{status.name: status for status in Status},
}


class Stage(str, enum.Enum):
    """Where a rule is checked."""

    DECODE = "decode"
    """By the codec, while it reads the wire object: the value cannot be a batch field."""
    ENCODE = "encode"
    """By the encoders: a value set on a record by hand has no wire form."""
    PAYLOAD = "payload"
    """On one decoded batch."""
    HISTORY = "history"
    """Between two successive snapshots of one batch (`check_history`)."""
    PROVIDER = "provider"
    """While `from_provider` reads a native batch object as OpenAI's batch (or
    `check_history` with a provider compares native snapshots: an example that is a list)."""


@attrs.frozen
class Lifeline:
    """What the lifecycle table says about the stamps of each status, under one profile.

    Attributes:
        carried: The stamps on some path to the status.
        required: The stamps on every path to it.
        order: Pairs (earlier, later) of stamps every path sets in that order.
    """

    carried: Mapping[Status, frozenset[str]]
    required: Mapping[Status, frozenset[str]]
    order: frozenset[tuple[str, str]]


@attrs.frozen
class Check:
    """One concrete check of a rule: a condition, a place, a message (rules with `each`
    have several, one for each status or key they range over).

    Attributes:
        when: A Python expression over `FACTS`, true when the rule is broken.
        path: The JSONPath reported (below it, the key, for rules `over` a mapping).
        message: The body of an f-string over the same facts.
        severity: A severity this check always has, whatever the profile (else None).
        statuses: The statuses it is checked in (None: all).
    """

    when: str
    path: str
    message: str
    severity: Severity | None = None
    statuses: frozenset[Status] | None = None


#: The substitutions of a family's checks: ``$name`` texts, and a check's own
#: ``severity`` or ``statuses``.
Each = Callable[[Lifeline], Iterable[Mapping[str, Any]]]


@attrs.frozen
class Rule:
    """One violation code, with everything said about it.

    Attributes:
        code: The stable dotted name reports carry (``counts.exceeds_total``).
        summary: What breaking it means, in one line.
        example: Makes a minimal payload (for a history rule, a list of snapshots) that
            breaks this rule alone, from a copy of the catalog's consistent batch.
        stage: Where it is checked.
        severity: How bad it is under a profile that allows only documented behaviour.
        tolerated: How bad it is under a profile that tolerates more (None: the same).
        quirked: How bad it is under a profile that reads provider quirks, for a spelling
            or an omission compatible services send (None: as under `tolerated`). A
            contradiction of the lifecycle never has one.
        quirk: Reported only by a profile that reads provider quirks (``compat.*``).
        when: The condition under which the rule is broken: a Python expression over the
            batch's facts (its wire fields, with ``total``, ``completed``, ``failed``, the
            token counts and ``errors``, the error list, lifted to the top, and
            ``window``, the window in seconds). Empty for rules the codec or the history
            check finds. The validator's checks and the engine's guards are generated
            from it.
        path: Where the violation points.
        message: What is reported (`Check.message`).
        each: For a family of checks, the substitutions (``$name``) of each one.
        over: A mapping fact whose items the check runs on, as ``key`` and ``value``.
        after: The rule holds only once its batch has passed an edge that guards with it
            (its statuses are derived from the table: a completed batch has passed
            ``complete``, so its files are checked).
    """

    code: str
    summary: str
    example: ex.Build = attrs.field(repr=False, eq=False)
    stage: Stage = Stage.PAYLOAD
    severity: Severity = _ERROR
    tolerated: Severity | None = None
    quirked: Severity | None = None
    quirk: bool = False
    when: str = ""
    path: str = "$"
    message: str = ""
    each: Each | None = attrs.field(default=None, repr=False, eq=False)
    over: str | None = None
    after: bool = False

    def severity_under(self, profile: Profile) -> Severity | None:
        """How bad breaking this rule is under `profile` (None: not reported there)."""
        if self.quirk and not profile.quirks:
            return None
        if profile.quirks and self.quirked is not None:
            return self.quirked
        if profile.tolerated and self.tolerated is not None:
            return self.tolerated
        return self.severity

    def checks(self, lifeline: Lifeline) -> tuple[Check, ...]:
        """The concrete checks of this rule under a profile's `lifeline`."""
        if not self.when:
            return ()
        if self.each is None:
            return (Check(self.when, self.path, self.message),)
        return tuple(_substituted(self, names) for names in self.each(lifeline))

    def build_example(self) -> Any:
        """The minimal example that breaks this rule alone: a wire dict, JSON bytes for
        the ``json.*`` rules, a list of snapshots for the ``history.*`` rules."""
        return self.example(ex.base_payload())


def _substituted(rule: Rule, names: Mapping[str, Any]) -> Check:
    def fill(text: str) -> str:
        return string.Template(text).safe_substitute(names)

    return Check(
        fill(rule.when),
        fill(rule.path),
        fill(rule.message),
        names.get("severity"),
        names.get("statuses"),
    )


# -- the families -------------------------------------------------------------------


def _file_ids(_: Lifeline) -> Iterator[dict[str, Any]]:
    for key in _FILE_IDS:
        yield {"key": key}


def _required(line: Lifeline) -> Iterator[dict[str, Any]]:
    for status in Status:
        for name in EVENT_STAMPS:
            if name in line.required[status]:
                yield {"statuses": frozenset({status}), "state": status.value, "stamp": name}


def _forbidden(line: Lifeline) -> Iterator[dict[str, Any]]:
    for status in Status:
        for name in EVENT_STAMPS:
            if name not in line.carried[status]:
                yield {"statuses": frozenset({status}), "state": status.value, "stamp": name}


def _ordered(line: Lifeline) -> Iterator[dict[str, Any]]:
    for earlier, later in sorted(line.order):
        statuses = frozenset(s for s in Status if {earlier, later} <= line.carried[s])
        if statuses:
            yield {"a": earlier, "b": later, "statuses": statuses}


def _stamps(_: Lifeline) -> Iterator[dict[str, Any]]:
    for name in TIMESTAMP_FIELDS:
        yield {"stamp": name}


def _counts(_: Lifeline) -> Iterator[dict[str, Any]]:
    for key in _COUNTS:
        yield {"key": key}


def _tokens(_: Lifeline) -> Iterator[dict[str, Any]]:
    for fact in ("input_tokens", "output_tokens", "total_tokens"):
        yield {"fact": fact, "where": fact}
    yield {"fact": "cached_tokens", "where": "input_tokens_details.cached_tokens"}
    yield {"fact": "reasoning_tokens", "where": "output_tokens_details.reasoning_tokens"}


def _windows(_: Lifeline) -> Iterator[dict[str, Any]]:
    # An unreadable window is an error under every profile (compat reads a spelling such
    # as '24hrs' first); another number of hours or days is read under compat alone.
    yield {"when": "window is None", "severity": _ERROR}
    yield {"when": "window is not None and completion_window != '24h'"}


# Stages and the quirks' severity, short for the table below.
_DECODE, _HISTORY, _PROVIDER = Stage.DECODE, Stage.HISTORY, Stage.PROVIDER
_QUIRK: dict[str, Any] = {"stage": Stage.DECODE, "severity": _WARNING, "quirk": True}

set_, inside = ex.setting, ex.inside


def _native(value: dict[str, Any], **changes: Any) -> ex.Build:
    """A native batch object (the base payload is not used): `value` with `changes` (a
    None change drops the key)."""

    def build(_: dict[str, Any]) -> dict[str, Any]:
        native = copy.deepcopy(value)
        for key, change in changes.items():
            native.pop(key, None)
            if change is not None:
                native[key] = change
        return native

    return build


# Consistent native objects, each read with no loss, that the provider rules' examples
# break (docs/research.md §9 has their sources).
_MISTRAL: dict[str, Any] = {
    "id": "5befe8c6-b8cb-4858-a068-d600cf5ed73f", "object": "batch",
    "input_files": ["30f63bb3-6f9e-4dd5-9295-a9cdbdeabf75"], "endpoint": "/v1/chat/completions",
    "model": "pixtral-large-latest", "errors": [], "status": "QUEUED", "created_at": 1732400351,
    "total_requests": 10, "completed_requests": 0, "succeeded_requests": 0, "failed_requests": 0,
    "output_file": None, "error_file": None, "started_at": None, "completed_at": None,
}  # fmt: skip
_ANTHROPIC_ENDED: dict[str, Any] = {
    "id": "msgbatch_01GgqTz9XzriGNHzTSGZsJJ8", "type": "message_batch",
    "processing_status": "ended",
    "request_counts": {"processing": 0, "succeeded": 4, "errored": 0, "canceled": 0, "expired": 0},
    "created_at": "2024-10-08T00:46:30Z", "expires_at": "2024-10-09T00:46:30Z",
    "ended_at": "2024-10-08T00:46:47Z", "cancel_initiated_at": None,
    "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_01GgqTz9XzriGNHzTSGZsJJ8/results",
}  # fmt: skip
_BEDROCK: dict[str, Any] = {
    "jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456",
    "jobName": "my-job", "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
    "roleArn": "arn:aws:iam::123456789012:role/BedrockBatch", "status": "Submitted",
    "submitTime": "2026-07-17T00:00:00Z", "lastModifiedTime": "2026-07-17T00:00:00Z",
    "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://bucket/input.jsonl"}},
    "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://bucket/output/"}},
    "timeoutDurationInHours": 24, "jobExpirationTime": "2026-07-18T00:00:00Z",
}  # fmt: skip
_GEMINI: dict[str, Any] = {
    "name": "batches/leg9wy9p5df66syjxke2eq4xfjqcwp47ejv3",
    "metadata": {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        "model": "models/gemini-2.5-flash", "displayName": "my batch name",
        "inputConfig": {"fileName": "files/frh6ua11nk3o"},
        "createTime": "2026-01-06T11:09:11Z", "updateTime": "2026-01-06T11:09:11Z",
        "batchStats": {"requestCount": "2", "pendingRequestCount": "2"},
        "state": "BATCH_STATE_PENDING", "name": "batches/leg9wy9p5df66syjxke2eq4xfjqcwp47ejv3",
    },
}  # fmt: skip
_VERTEX_FAILED: dict[str, Any] = {
    "name": "projects/my-project/locations/us-central1/batchPredictionJobs/5798522612028014592",
    "displayName": "my-job", "model": "publishers/google/models/gemini-2.5-flash",
    "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://bucket/in.jsonl"]}},
    "outputConfig": {"predictionsFormat": "jsonl",
                     "gcsDestination": {"outputUriPrefix": "gs://bucket/out"}},
    "state": "JOB_STATE_FAILED", "error": {"code": 3, "message": "invalid input"},
    "completionStats": {"incompleteCount": -1},
    "createTime": "2024-10-16T19:33:59Z", "endTime": "2024-10-16T19:35:00Z",
    "updateTime": "2024-10-16T19:35:00Z",
}  # fmt: skip

_VC, _VS = "JOB_STATE_CANCELLING", "JOB_STATE_SUCCEEDED"


def _native_history(*snapshots: ex.Build) -> ex.Build:
    """Native snapshots of one batch, oldest first (`check_history` with a provider)."""
    return lambda payload: [build(payload) for build in snapshots]


# Every rule, in catalog order (its docstring follows the tuple).
RULES: tuple[Rule, ...] = (
    # -- decoding: found by the codec ---------------------------------------------------
    Rule("json.empty", "the input is empty or blank", ex.raw(b""), _DECODE),
    Rule("json.encoding", "the bytes are not UTF-8", ex.raw(b'{"id": "\xff"}'), _DECODE),
    Rule("json.syntax", "the text is not JSON", ex.raw(b'{"id": '), _DECODE),
    Rule("json.not_object", "the JSON value is not an object", ex.raw(b"[]"), _DECODE),
    Rule("field.missing", "a required key is absent", ex.dropping("status"), _DECODE),
    Rule("field.type", "a value has the wrong JSON type", set_(created_at="1711471533"), _DECODE),
    Rule(
        "field.range",
        "an integer is outside 64 bits, or a timestamp is negative",
        set_(completed_at=-1),
        _DECODE,
    ),
    Rule("status.unknown", "status is not one of the eight statuses", set_(status="done"), _DECODE),
    Rule("file_id.empty", "a file id is the empty string", set_(input_file_id=""), _DECODE),
    Rule(
        "encode.unsupported",
        "a value set on a record by hand has no wire form (a str status, a float in extra)",
        ex.hand_set(status="completed"),
        Stage.ENCODE,
    ),
    # -- wire values the codec's types allow but the API does not -------------------------
    Rule(
        "object.invalid",
        "object is not 'batch'",
        set_(object="job"),
        when="object != 'batch'",
        path="$.object",
        message="expected 'batch', got {object!r}",
    ),
    Rule(
        "endpoint.unknown",
        "endpoint is not one OpenAI accepts (a warning except under strict)",
        set_(endpoint="/chat/completions"),
        tolerated=_WARNING,
        when="endpoint is not None and endpoint not in ENDPOINTS",
        path="$.endpoint",
        message="{endpoint!r} is not an endpoint OpenAI accepts",
    ),
    Rule(
        "window.unknown",
        "completion_window is not '24h' (a warning for other hours or days under compat;"
        " an error whatever the profile when it cannot be read as hours or days)",
        set_(completion_window="12h", expires_at=1711471533 + 12 * 3600),
        quirked=_WARNING,
        when="$when",
        path="$.completion_window",
        message="{completion_window!r}: OpenAI accepts only '24h'",
        each=_windows,
    ),
    Rule(
        "id.prefix",
        "the id does not start with 'batch_' (a warning)",
        set_(id="abc123"),
        severity=_WARNING,
        # A slice and a compare cost half a ``startswith`` call.
        when="id[:6] != 'batch_'",
        path="$.id",
        message="{id!r} does not start with 'batch_'",
    ),
    Rule(
        "file_id.prefix",
        "a file id does not start with 'file-' (a warning)",
        set_(output_file_id="file_out"),
        severity=_WARNING,
        when="$key is not None and $key[:5] != 'file-'",
        path="$.$key",
        message="{$key!r} does not start with 'file-'",
        each=_file_ids,
    ),
    # -- stamps: which, in what order, and the deadline -------------------------------
    Rule(
        "stamp.missing",
        "a stamp every path to the status sets is null",
        set_(finalizing_at=None),
        when="$stamp is None",
        path="$.$stamp",
        message="a $state batch has $stamp set, got null",
        each=_required,
    ),
    Rule(
        "stamp.unexpected",
        "a stamp no path to the status sets is present",
        set_(cancelled_at=1711493170),
        when="$stamp is not None",
        path="$.$stamp",
        message="a $state batch never has $stamp, got {$stamp}",
        each=_forbidden,
    ),
    Rule(
        "stamp.order",
        "a stamp is earlier than one the lifecycle sets before it",
        set_(completed_at=1711493100),
        when="$b is not None and $a is not None and $b < $a",
        path="$.$b",
        message="$b {$b} is before $a {$a}",
        each=_ordered,
    ),
    Rule(
        "expires_at.missing",
        "expires_at is null (it is set at creation; a warning under compat: DashScope,"
        " Voyage and Zhipu send none)",
        set_(expires_at=None),
        quirked=_WARNING,
        when="expires_at is None",
        path="$.expires_at",
        message="expires_at is null; it is set at creation",
    ),
    Rule(
        "expires_at.window",
        "expires_at is not created_at + completion_window (± 60 s)",
        set_(expires_at=1711471533 + 3600),
        when="expires_at is not None and window is not None"
        " and abs(expires_at - created_at - window) > TOLERANCE",
        path="$.expires_at",
        message="expected created_at + {completion_window} = {created_at + window}"
        " (± {TOLERANCE} s), got {expires_at}",
    ),
    Rule(
        "stamp.milliseconds",
        "a timestamp of 10**11 or more is milliseconds, not seconds (compat reads those of"
        " 13 digits as milliseconds)",
        set_(completed_at=1711493163000),
        when="$stamp is not None and $stamp >= MILLISECONDS_FROM",
        path="$.$stamp",
        message="{$stamp} is past the year 5138 in seconds: milliseconds?",
        each=_stamps,
    ),
    Rule(
        "stamp.expired_early",
        "expired_at is before expires_at: a batch expires once its deadline has passed",
        set_(
            status="expired",
            completed_at=None,
            finalizing_at=None,
            expired_at=1711557000,
            request_counts={"total": 100, "completed": 10, "failed": 0},
        ),
        when="expired_at is not None and expires_at is not None and expired_at < expires_at",
        path="$.expired_at",
        message="expired_at {expired_at} is before expires_at {expires_at}"
        " ({expires_at - expired_at} s early)",
        after=True,
    ),
    # -- counts, files, errors --------------------------------------------------------
    Rule(
        "counts.negative",
        "a request count is negative",
        set_(
            status="in_progress",
            finalizing_at=None,
            completed_at=None,
            request_counts={"total": 100, "completed": -1, "failed": 0},
        ),
        when="$key is not None and $key < 0",
        path="$.request_counts.$key",
        message="request_counts.$key is negative: {$key}",
        each=_counts,
    ),
    Rule(
        "counts.exceeds_total",
        "completed + failed exceeds total",
        inside("request_counts", completed=99),
        when="total is not None and completed + failed > total",
        path="$.request_counts",
        message="completed {completed} + failed {failed} = {completed + failed}"
        " exceeds total {total}",
    ),
    Rule(
        "counts.unaccounted",
        "a batch that was finalized does not account for every request",
        inside("request_counts", completed=90),
        when="total is not None and completed + failed < total",
        path="$.request_counts",
        message="every request is accounted for once a batch is finalized: completed"
        " {completed} + failed {failed} = {completed + failed}, total {total}",
        after=True,
    ),
    Rule(
        "files.output_missing",
        "a completed batch with completed requests has no output file",
        set_(output_file_id=None),
        when="completed is not None and completed > 0 and output_file_id is None",
        path="$.output_file_id",
        message="{completed} requests completed, but output_file_id is null",
        after=True,
    ),
    Rule(
        "files.error_missing",
        "a completed batch with failed requests has no error file (a warning under compat:"
        " DashScope lists failures in the output file)",
        set_(error_file_id=None),
        quirked=_WARNING,
        when="failed is not None and failed > 0 and error_file_id is None",
        path="$.error_file_id",
        message="{failed} requests failed, but error_file_id is null",
        after=True,
    ),
    Rule(
        "errors.missing",
        "a failed batch lists no error",
        ex.failed,
        when="not errors",
        path="$.errors",
        message="a failed batch lists at least one error",
        after=True,
    ),
    Rule(
        "errors.unexpected",
        "a batch that did not fail lists errors (a warning)",
        ex.errors_on_completed,
        severity=_WARNING,
        when="errors and status is not FAILED",
        path="$.errors",
        message="a {status.value} batch lists {len(errors)} errors",
    ),
    # -- metadata and usage -----------------------------------------------------------
    Rule(
        "metadata.too_many",
        "more than 16 metadata pairs",
        set_(metadata={f"k{i}": "v" for i in range(17)}),
        when="metadata is not None and len(metadata) > MAX_PAIRS",
        path="$.metadata",
        message="at most {MAX_PAIRS} pairs, got {len(metadata)}",
    ),
    Rule(
        "metadata.key_too_long",
        "a metadata key longer than 64 characters",
        set_(metadata={"k" * 65: "v"}),
        when="len(key) > MAX_KEY",
        path="$.metadata",
        message="keys have at most {MAX_KEY} characters, got {len(key)}",
        over="metadata",
    ),
    Rule(
        "metadata.value_too_long",
        "a metadata value longer than 512 characters",
        set_(metadata={"k": "v" * 513}),
        when="len(value) > MAX_VALUE",
        path="$.metadata",
        message="values have at most {MAX_VALUE} characters, got {len(value)}",
        over="metadata",
    ),
    Rule(
        "usage.negative",
        "a token count is negative",
        inside("usage", input_tokens_details={"cached_tokens": -1}),
        when="$fact is not None and $fact < 0",
        path="$.usage.$where",
        message="usage.$where is negative: {$fact}",
        each=_tokens,
    ),
    Rule(
        "usage.total_mismatch",
        "total_tokens is not input_tokens + output_tokens",
        inside("usage", total_tokens=2001),
        when="total_tokens is not None and total_tokens != input_tokens + output_tokens",
        path="$.usage.total_tokens",
        message="total_tokens {total_tokens} != input_tokens {input_tokens}"
        " + output_tokens {output_tokens}",
    ),
    Rule(
        "usage.cached_exceeds_input",
        "cached_tokens exceeds input_tokens",
        inside("usage", input_tokens_details={"cached_tokens": 1501}),
        when="cached_tokens is not None and cached_tokens > input_tokens",
        path="$.usage.input_tokens_details.cached_tokens",
        message="cached_tokens {cached_tokens} exceeds input_tokens {input_tokens}",
    ),
    Rule(
        "usage.reasoning_exceeds_output",
        "reasoning_tokens exceeds output_tokens",
        inside("usage", output_tokens_details={"reasoning_tokens": 501}),
        when="reasoning_tokens is not None and reasoning_tokens > output_tokens",
        path="$.usage.output_tokens_details.reasoning_tokens",
        message="reasoning_tokens {reasoning_tokens} exceeds output_tokens {output_tokens}",
    ),
    # -- compat normalisations: warnings, only under a profile that reads quirks --------
    Rule(
        "compat.camel_case",
        "a camelCase key was renamed to its snake_case wire name",
        ex.camel,
        **_QUIRK,
    ),
    Rule(
        "compat.status_case",
        "a status in another casing was read as the canonical value",
        set_(status="Completed"),
        **_QUIRK,
    ),
    Rule(
        "compat.timestamp_iso",
        "an ISO-8601 timestamp was read as the Unix second it falls in",
        set_(created_at="2024-03-26T16:45:33Z"),
        **_QUIRK,
    ),
    Rule(
        "compat.timestamp_string",
        "a timestamp written as a numeric string was read as an integer",
        set_(created_at="1711471533"),
        **_QUIRK,
    ),
    Rule(
        "compat.file_id_empty",
        "an empty-string file id was read as null",
        set_(output_file_id="", request_counts={"total": 100, "completed": 0, "failed": 100}),
        **_QUIRK,
    ),
    Rule(
        "compat.count_null",
        "a null request count was read as 0",
        lambda p: (
            ex.validating(p) | {"request_counts": {"total": None, "completed": 0, "failed": 0}}
        ),
        **_QUIRK,
    ),
    Rule("compat.endpoint_null", "endpoint is null", set_(endpoint=None), **_QUIRK),
    Rule("compat.endpoint_missing", "endpoint is missing", ex.dropping("endpoint"), **_QUIRK),
    Rule(
        "compat.status_queued",
        "a status some services give a batch before validation (Llumnix 'pending', AIBrix"
        " 'created', 'queued') was read as validating",
        lambda p: ex.validating(p) | {"status": "pending"},
        **_QUIRK,
    ),
    Rule(
        "compat.status_canceled",
        "the spelling 'canceled' was read as cancelled",
        lambda p: ex.cancelled(p) | {"status": "canceled"},
        **_QUIRK,
    ),
    Rule(
        "compat.timestamp_ms",
        "a timestamp in milliseconds (13 digits, as Zhipu writes created_at) was read as seconds",
        set_(completed_at=1711493163000),
        **_QUIRK,
    ),
    Rule(
        "compat.timestamp_float",
        "a timestamp with a fraction was read as the whole second it falls in",
        set_(completed_at=1711493163.5),
        **_QUIRK,
    ),
    Rule(
        "compat.window_spelling",
        "a window in hours or days spelled otherwise ('24hrs', LiteLLM's Vertex AI batches)"
        " was read as such ('24h')",
        set_(completion_window="24hrs"),
        **_QUIRK,
    ),
    Rule(
        "compat.bom",
        "a UTF-8 byte order mark before the JSON text was skipped",
        ex.with_bom,
        **_QUIRK,
    ),
    Rule(
        "compat.list_envelope",
        "a list of batches ({'object': 'list', 'data': [...]}, as GET /v1/batches answers)"
        " was read as its batches, each judged on its own",
        ex.listed,
        **_QUIRK,
    ),
    # -- histories: one snapshot against the one before ---------------------------------
    Rule(
        "history.id_changed",
        "a later snapshot has another id",
        ex.history(set_(id="batch_other")),
        _HISTORY,
    ),
    Rule(
        "history.unreachable",
        "a status cannot follow the one before, even skipping polls",
        ex.history(ex.failed, set_(errors={"object": "list", "data": [{"code": "x"}]})),
        _HISTORY,
    ),
    Rule(
        "history.stamp_changed",
        "a stamp changed or disappeared",
        ex.history(set_(in_progress_at=1711471539)),
        _HISTORY,
    ),
    Rule(
        "history.field_changed",
        "created_at, expires_at, input_file_id or endpoint changed",
        ex.history(set_(input_file_id="file-other")),
        _HISTORY,
    ),
    Rule("history.counts_decreased", "a request count went down", ex.counts_went_down, _HISTORY),
    # -- native batch objects: found while `from_provider` reads one ----------------------
    Rule(
        "provider.unknown",
        "the object is no batch of a known provider (nor OpenAI's), or not of the one named",
        _native({"name": "jobs/1", "state": "DONE"}),
        _PROVIDER,
    ),
    Rule(
        "provider.field_missing",
        "a field the reading needs (id, status, creation time, a required count) is absent",
        _native(_MISTRAL, created_at=None),
        _PROVIDER,
    ),
    Rule(
        "provider.field_invalid",
        "a native time or count cannot be read (not RFC 3339, not an integer)",
        _native(_MISTRAL, created_at="2024-11-23"),
        _PROVIDER,
    ),
    Rule(
        "provider.status_unknown",
        "the native status is not one the provider documents",
        _native(_MISTRAL, status="PAUSED"),
        _PROVIDER,
    ),
    Rule(
        "provider.stamp_unexpected",
        "a native time that no path to the native status sets is present (it is not read)",
        _native(_MISTRAL, completed_at=1732400376),
        _PROVIDER,
    ),
    Rule(
        "provider.stamp_missing",
        "a native time that every path to the native status sets is null",
        _native(_MISTRAL, status="RUNNING"),
        _PROVIDER,
    ),
    Rule(
        "provider.stamp_dropped",
        "a native time gives a stamp its OpenAI status never has (a resumed Vertex AI job's"
        " startTime): it is not read (a warning)",
        _native(
            _VERTEX_FAILED,
            state="JOB_STATE_QUEUED",
            endTime=None,
            error=None,
            completionStats=None,
            startTime="2024-10-16T19:34:00Z",
        ),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.status_split",
        "a native status standing for several OpenAI statuses was read as one, by its counts"
        " and times (a warning)",
        _native(_ANTHROPIC_ENDED),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.status_approximated",
        "a native status with no OpenAI equivalent was read as the nearest one (a warning)",
        _native(_BEDROCK, status="Scheduled"),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.subsecond_dropped",
        "an RFC 3339 time was read as the Unix second it falls in (a warning)",
        _native(_BEDROCK, submitTime="2026-07-17T00:00:00.250Z"),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.string_count",
        "a count written as a string (proto3 JSON's int64) was read as an integer (a warning)",
        _native(_GEMINI),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.count_lost",
        "a native count has no OpenAI count: left out of completed and failed, or of total"
        " (a warning)",
        _native(_VERTEX_FAILED),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.files_dropped",
        "several input files: OpenAI's batch keeps the first (a warning)",
        _native(_MISTRAL, input_files=["file-a", "file-b"]),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.input_missing",
        "the object shows no input and no inline requests; the batch's id stands in (a warning)",
        _native(
            _VERTEX_FAILED,
            state="JOB_STATE_PENDING",
            endTime=None,
            error=None,
            completionStats=None,
            inputConfig=None,
        ),
        _PROVIDER,
        _WARNING,
    ),
    Rule(
        "provider.transition_unmapped",
        "in a native history, a transition its provider allows reads as OpenAI statuses no"
        " OpenAI path joins (Vertex AI's JOB_STATE_CANCELLING → JOB_STATE_SUCCEEDED) (a"
        " warning)",
        _native_history(
            _native(_VERTEX_FAILED, state=_VC, endTime=None, error=None, completionStats=None),
            _native(_VERTEX_FAILED, state=_VS, error=None, completionStats={"successfulCount": 2}),
        ),
        _PROVIDER,
        _WARNING,
    ),
)
"""Every violation code `validate` and `check_history` can report, one `Rule` each, in
catalog order.

The validator's checks, the engine's guards, the violation codes page and the strategies
that break payloads are all made from it.
"""

#: The rules by code.
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
