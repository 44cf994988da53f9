"""The native batch APIs as data: each provider's statuses, its documented transitions, its
time and count fields, and how each reads as OpenAI's batch.

`_providers` derives its reading of a native object from these tables (which OpenAI stamps
a status needs comes from `batchfsm.TRANSITIONS`, never restated here), and its native
checks (a time no path to the status sets); docs/providers.md is generated from them
(`_providers_page`). Facts and sources: docs/research.md §9.
"""

from __future__ import annotations

import enum

import attrs

from ._record import Status

__all__ = [
    "NATIVE",
    "BY_NAME",
    "Clock",
    "Count",
    "Counting",
    "Edge",
    "Mark",
    "Provider",
    "Reading",
    "Role",
    "State",
    "Time",
]


class Role(str, enum.Enum):
    """What a native time field records, and so which OpenAI field it gives."""

    #: When the batch was made: ``created_at``.
    CREATED = "created"
    #: When it is due: ``expires_at``.
    DEADLINE = "deadline"
    #: When it started running: the stamp of the ``start`` edge.
    STARTED = "started"
    #: When a cancel was asked for: the stamp of the ``cancel`` edge.
    CANCEL = "cancel"
    #: When it reached its final status: the stamp of the edge into the status it reads as.
    ENDED = "ended"
    #: Anything else (last update, archival): kept in the native object only.
    OTHER = "other"


class Clock(str, enum.Enum):
    """How a provider writes its times."""

    RFC3339 = "RFC 3339 string"
    UNIX = "integer Unix seconds"


class Counting(str, enum.Enum):
    """What a native request count counts, for OpenAI's ``request_counts``."""

    TOTAL = "total"
    SUCCEEDED = "completed"
    FAILED = "failed"
    #: Not finished yet: part of the total, in neither completed nor failed.
    PENDING = "pending"
    #: Finished otherwise (cancelled, expired): part of the total, no OpenAI count.
    OTHER = "other"
    #: Succeeded and failed together: redundant with them.
    PROCESSED = "processed"


@attrs.frozen
class Reading:
    """One OpenAI status a native status reads as, and when (a Python expression over
    the object's times and counts, named by their last key; empty: otherwise)."""

    status: Status
    when: str = ""


@attrs.frozen
class State:
    """One native status.

    Attributes:
        name: Its spelling on the wire.
        reads: The OpenAI status it reads as; several when the native status stands for
            several (the first whose `Reading.when` holds is taken).
        meaning: What the provider says it means.
        loss: What reading it as OpenAI's status loses (reported as
            ``provider.status_approximated``); empty when nothing is.
    """

    name: str
    reads: tuple[Reading, ...]
    meaning: str
    loss: str = ""


@attrs.frozen
class Edge:
    """A native transition: `source` (None: creating the batch) to `dest`, setting the
    time fields `stamps`; `documented` by the provider, or inferred from its status
    descriptions (docs/research.md says which). `loss`: what reading it as OpenAI's batch
    loses, for a transition whose statuses read as two no OpenAI path joins (a native
    history that takes it is ``provider.transition_unmapped``, not an error)."""

    source: str | None
    dest: str
    stamps: tuple[str, ...] = ()
    documented: bool = True
    loss: str = ""


@attrs.frozen
class Time:
    """A native time field: its key (a path in the batch object) and what it records."""

    key: str
    role: Role
    meaning: str


@attrs.frozen
class Count:
    """A native request count: its key (a path in the batch object) and what it counts."""

    key: str
    counting: Counting
    meaning: str


@attrs.frozen
class Mark:
    """A test that recognises a provider's object: the value at `key` ``is present``,
    ``starts with``, ``contains`` or ``equals`` `value`."""

    key: str
    test: str
    value: str = ""


@attrs.frozen(cache_hash=True)  # a key of the derived tables' caches
class Provider:
    """One native batch API, as data.

    Attributes:
        name: Its name for `from_provider` and ``--provider``.
        title: The product's name.
        evidence: The source keys of docs/research.md §9.
        marks: What recognises its objects (all must hold).
        roots: Where the batch object lies in what the API returns, tried in order (""
            the object itself; ``metadata``: inside a long-running-operation envelope).
        id: The key of the batch's id.
        status: The key of its status.
        states: Its statuses.
        edges: Its transitions.
        times: Its time fields.
        clock: How it writes times.
        counts: Its request counts.
        counts_as_strings: Counts are int64 in proto3 JSON: written as strings (numbers
            accepted too), and a zero count is left out.
        counts_optional: Objects may carry no count at all (then OpenAI's counts are null).
        window_hours: The completion window: documented, or assumed when the object
            shows no deadline (then ``expires_at`` is ``created_at`` + this).
        window_key: A field holding the window in hours, read first when present.
        window_from_deadline: The window is the native deadline's distance from the
            creation time, in hours, when no `window_key` is present.
        endpoint: The keys that may hold what each request calls, in order.
        endpoint_default: What each request calls when no such key is present.
        model: The keys that may hold the model, in order.
        input: The keys that may hold the input's location, in order.
        input_inline: Keys whose presence says the requests were sent inline (or "*":
            always): the batch's id then stands for the input file.
        output: The keys that may hold the results' location, in order.
        output_inline: Keys whose presence says the results are inline: the batch's id
            then stands for the output and error files.
        error_output: The keys that may hold the failed requests' location, in order.
        errors: The keys that may hold why a failed batch failed (a message, a status
            object, or a list of them).
    """

    name: str
    title: str
    evidence: str
    marks: tuple[Mark, ...]
    roots: tuple[str, ...]
    id: str
    status: str
    states: tuple[State, ...]
    edges: tuple[Edge, ...]
    times: tuple[Time, ...]
    clock: Clock
    counts: tuple[Count, ...]
    counts_as_strings: bool = False
    counts_optional: bool = False
    window_hours: int = 24
    window_key: str = ""
    window_from_deadline: bool = False
    endpoint: tuple[str, ...] = ()
    endpoint_default: str = ""
    model: tuple[str, ...] = ()
    input: tuple[str, ...] = ()
    input_inline: tuple[str, ...] = ()
    output: tuple[str, ...] = ()
    output_inline: tuple[str, ...] = ()
    error_output: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    def state(self, name: str) -> State | None:
        """The native status spelled `name`, or None."""
        return next((state for state in self.states if state.name == name), None)


#: The key of a converted batch's unknown keys that holds the native object:
#: ``{"name": <provider>, "object": <the native object, unchanged>}``.
NATIVE = "x_provider"

S = Status


def _one(status: Status) -> tuple[Reading, ...]:
    return (Reading(status),)


def _edges(sources: tuple[str, ...], dest: str, *stamps: str, documented: bool) -> list[Edge]:
    return [Edge(source, dest, stamps, documented) for source in sources]


ANTHROPIC = Provider(
    name="anthropic",
    title="Anthropic Message Batches",
    evidence="[ANT-SDK] [ANT-DOCS] [ANT-COOKBOOK]",
    marks=(Mark("type", "equals", "message_batch"),),
    roots=("",),
    id="id",
    status="processing_status",
    states=(
        State("in_progress", _one(S.IN_PROGRESS), "processing; it begins at creation"),
        State(
            "canceling",
            _one(S.CANCELLING),
            "a cancel was asked for; requests in flight may still finish",
        ),
        State(
            "ended",
            (
                Reading(S.CANCELLED, "cancel_initiated_at is not None"),
                Reading(S.EXPIRED, "expired > 0"),
                Reading(S.COMPLETED),
            ),
            "processing ended: every request succeeded, errored, was canceled or expired",
        ),
    ),
    edges=(
        Edge(None, "in_progress", ("created_at", "expires_at")),
        Edge("in_progress", "canceling", ("cancel_initiated_at",)),
        Edge("in_progress", "ended", ("ended_at",)),
        Edge("canceling", "ended", ("ended_at",)),
        Edge("ended", "ended", ("archived_at",)),
    ),
    times=(
        Time("created_at", Role.CREATED, "created; processing begins at once"),
        Time("expires_at", Role.DEADLINE, "24 hours after creation"),
        Time("cancel_initiated_at", Role.CANCEL, "a cancel was asked for"),
        Time("ended_at", Role.ENDED, "processing ended"),
        Time("archived_at", Role.OTHER, "archived: its results are no longer available"),
    ),
    clock=Clock.RFC3339,
    counts=(
        Count("request_counts.processing", Counting.PENDING, "still processing"),
        Count("request_counts.succeeded", Counting.SUCCEEDED, "succeeded"),
        Count("request_counts.errored", Counting.FAILED, "errored"),
        Count("request_counts.canceled", Counting.OTHER, "canceled before processing"),
        Count("request_counts.expired", Counting.OTHER, "reached the deadline unprocessed"),
    ),
    window_hours=24,
    endpoint_default="/v1/messages",
    input_inline=("*",),
    output=("results_url",),
    error_output=("results_url",),
)

GEMINI = Provider(
    name="gemini",
    title="Gemini API batch mode",
    evidence="[GEM-REF] [GEM-SDK] [GEM-DELPHI]",
    marks=(Mark("state", "starts with", "BATCH_STATE_"), Mark("name", "starts with", "batches/")),
    roots=("metadata", ""),
    id="name",
    status="state",
    states=(
        State("BATCH_STATE_PENDING", _one(S.VALIDATING), "queued, not yet running"),
        State("BATCH_STATE_RUNNING", _one(S.IN_PROGRESS), "running"),
        State("BATCH_STATE_SUCCEEDED", _one(S.COMPLETED), "finished"),
        State("BATCH_STATE_FAILED", _one(S.FAILED), "failed"),
        State("BATCH_STATE_CANCELLED", _one(S.CANCELLED), "cancelled"),
        State("BATCH_STATE_EXPIRED", _one(S.EXPIRED), "pending or running past its deadline"),
    ),
    edges=(
        Edge(None, "BATCH_STATE_PENDING", ("createTime",)),
        Edge("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING", (), documented=False),
        *_edges(("BATCH_STATE_RUNNING",), "BATCH_STATE_SUCCEEDED", "endTime", documented=False),
        *_edges(
            ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"),
            "BATCH_STATE_FAILED",
            "endTime",
            documented=False,
        ),
        *_edges(
            ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"),
            "BATCH_STATE_CANCELLED",
            "endTime",
            documented=False,
        ),
        *_edges(
            ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"),
            "BATCH_STATE_EXPIRED",
            "endTime",
            documented=False,
        ),
    ),
    times=(
        Time("createTime", Role.CREATED, "created"),
        Time("endTime", Role.ENDED, "processing completed"),
        Time("updateTime", Role.OTHER, "last updated"),
    ),
    clock=Clock.RFC3339,
    counts=(
        Count("batchStats.requestCount", Counting.TOTAL, "requests in the batch"),
        Count("batchStats.successfulRequestCount", Counting.SUCCEEDED, "processed successfully"),
        Count("batchStats.failedRequestCount", Counting.FAILED, "failed to be processed"),
        Count("batchStats.pendingRequestCount", Counting.PENDING, "still pending"),
    ),
    counts_as_strings=True,
    window_hours=48,
    endpoint_default="models.batchGenerateContent",
    model=("model",),
    input=("inputConfig.fileName",),
    input_inline=("inputConfig.requests",),
    output=("output.responsesFile",),
    output_inline=("output.inlinedResponses",),
    error_output=("output.responsesFile",),
    errors=("/error",),
)

_VQ, _VP, _VR = "JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING"
_VC = "JOB_STATE_CANCELLING"

VERTEX = Provider(
    name="vertex",
    title="Vertex AI batch prediction jobs",
    evidence="[VTX-SRC] [VTX-DOCS]",
    marks=(
        Mark("state", "starts with", "JOB_STATE_"),
        Mark("name", "contains", "/batchPredictionJobs/"),
    ),
    roots=("",),
    id="name",
    status="state",
    states=(
        State(_VQ, _one(S.VALIDATING), "created or resumed; processing has not begun"),
        State(_VP, _one(S.VALIDATING), "the service is preparing to run the job"),
        State(_VR, _one(S.IN_PROGRESS), "running"),
        State("JOB_STATE_UPDATING", _one(S.IN_PROGRESS), "running, being updated"),
        State(
            "JOB_STATE_PAUSED",
            _one(S.IN_PROGRESS),
            "stopped, and can be resumed",
            loss="paused: OpenAI batches cannot pause, so it reads as in progress",
        ),
        State(_VC, _one(S.CANCELLING), "being cancelled; it may still succeed or fail"),
        State("JOB_STATE_SUCCEEDED", _one(S.COMPLETED), "succeeded"),
        State(
            "JOB_STATE_PARTIALLY_SUCCEEDED",
            _one(S.COMPLETED),
            "finished; some results may be missing due to errors",
            loss="partially succeeded: read as completed, its unfinished requests as failed",
        ),
        State("JOB_STATE_FAILED", _one(S.FAILED), "failed"),
        State("JOB_STATE_CANCELLED", _one(S.CANCELLED), "cancelled"),
        State("JOB_STATE_EXPIRED", _one(S.EXPIRED), "expired"),
    ),
    edges=(
        Edge(None, _VQ, ("createTime",)),
        Edge(None, _VP, ("createTime",)),
        Edge(_VQ, _VP, (), documented=False),
        Edge(_VP, _VR, ("startTime",)),
        Edge(_VR, "JOB_STATE_UPDATING"),
        Edge("JOB_STATE_UPDATING", _VR),
        Edge(_VR, "JOB_STATE_PAUSED", (), documented=False),
        Edge("JOB_STATE_PAUSED", _VQ, loss="a paused job was resumed: queued again, after running"),
        *_edges((_VR,), "JOB_STATE_SUCCEEDED", "endTime", documented=False),
        *_edges((_VR,), "JOB_STATE_PARTIALLY_SUCCEEDED", "endTime", documented=False),
        *_edges((_VQ, _VP, _VR), "JOB_STATE_FAILED", "endTime", documented=False),
        *_edges((_VQ, _VP, _VR), _VC, documented=False),
        Edge(
            _VC,
            "JOB_STATE_SUCCEEDED",
            ("endTime",),
            loss="the cancel did not take: the job succeeded, and the completed batch shows no"
            " cancel",
        ),
        Edge(
            _VC,
            "JOB_STATE_FAILED",
            ("endTime",),
            loss="the job failed while being cancelled, and the failed batch shows no cancel",
        ),
        *_edges((_VC,), "JOB_STATE_CANCELLED", "endTime", documented=True),
        *_edges((_VQ, _VP, _VR), "JOB_STATE_EXPIRED", "endTime", documented=False),
    ),
    times=(
        Time("createTime", Role.CREATED, "created"),
        Time("startTime", Role.STARTED, "first entered JOB_STATE_RUNNING"),
        Time("endTime", Role.ENDED, "entered a final state"),
        Time("updateTime", Role.OTHER, "last updated"),
    ),
    clock=Clock.RFC3339,
    counts=(
        Count("completionStats.successfulCount", Counting.SUCCEEDED, "processed successfully"),
        Count("completionStats.failedCount", Counting.FAILED, "failed"),
        Count(
            "completionStats.incompleteCount",
            Counting.PENDING,
            "not finished (-1: unknown, as when the job failed before counting)",
        ),
    ),
    counts_as_strings=True,
    window_hours=72,
    endpoint_default="batchPredictionJobs",
    model=("model",),
    input=("inputConfig.gcsSource.uris[0]", "inputConfig.bigquerySource.inputUri"),
    output=(
        "outputInfo.gcsOutputDirectory",
        "outputInfo.bigqueryOutputTable",
        "outputInfo.bigqueryOutputDataset",
        "outputConfig.gcsDestination.outputUriPrefix",
        "outputConfig.bigqueryDestination.outputUri",
    ),
    error_output=(
        "outputInfo.gcsOutputDirectory",
        "outputInfo.bigqueryOutputTable",
        "outputInfo.bigqueryOutputDataset",
        "outputConfig.gcsDestination.outputUriPrefix",
        "outputConfig.bigqueryDestination.outputUri",
    ),
    errors=("error",),
)

_BEFORE_START = ("Submitted", "Validating", "Scheduled")

BEDROCK = Provider(
    name="bedrock",
    title="Amazon Bedrock model invocation jobs",
    evidence="[BED-SRC] [BED-DOCS] [PORTKEY-bedrock]",
    marks=(Mark("submitTime", "is present"), Mark("status", "is present")),
    roots=("",),
    id="jobArn",
    status="status",
    states=(
        State("Submitted", _one(S.VALIDATING), "submitted to a queue for validation"),
        State("Validating", _one(S.VALIDATING), "being validated"),
        State(
            "Scheduled",
            _one(S.VALIDATING),
            "validated, waiting for its turn",
            loss="validated and waiting to start: OpenAI has no such status, read as validating",
        ),
        State("InProgress", _one(S.IN_PROGRESS), "running; results appear in S3"),
        State("Completed", _one(S.COMPLETED), "completed"),
        State(
            "PartiallyCompleted",
            _one(S.EXPIRED),
            "not every record could be processed in time",
            loss="partially completed: an expiry with partial output",
        ),
        State("Failed", _one(S.FAILED), "failed; see message"),
        State("Stopping", _one(S.CANCELLING), "being stopped by a user"),
        State("Stopped", _one(S.CANCELLED), "stopped by a user"),
        State(
            "Expired",
            _one(S.EXPIRED),
            "timed out before it began",
            loss="expired before it started: OpenAI's expired batches were in progress",
        ),
    ),
    edges=(
        Edge(None, "Submitted", ("submitTime",)),
        Edge("Submitted", "Validating", (), documented=False),
        Edge("Validating", "Scheduled", (), documented=False),
        Edge("Scheduled", "InProgress", (), documented=False),
        Edge("InProgress", "Completed", ("endTime",), documented=False),
        Edge("InProgress", "PartiallyCompleted", ("endTime",), documented=False),
        *_edges(("Submitted", "Validating", "InProgress"), "Failed", "endTime", documented=False),
        Edge("Scheduled", "Expired", ("endTime",), documented=False),
        *_edges((*_BEFORE_START, "InProgress"), "Stopping", documented=False),
        Edge("Stopping", "Stopped", ("endTime",), documented=False),
    ),
    times=(
        Time("submitTime", Role.CREATED, "submitted"),
        Time("jobExpirationTime", Role.DEADLINE, "the job times or timed out"),
        Time("endTime", Role.ENDED, "the job ended"),
        Time("lastModifiedTime", Role.OTHER, "last modified"),
    ),
    clock=Clock.RFC3339,
    counts=(
        Count("totalRecordCount", Counting.TOTAL, "records in the job"),
        Count("processedRecordCount", Counting.PROCESSED, "records processed"),
        Count("successRecordCount", Counting.SUCCEEDED, "records processed successfully"),
        Count("errorRecordCount", Counting.FAILED, "records that failed"),
    ),
    counts_optional=True,
    window_hours=24,
    window_key="timeoutDurationInHours",
    window_from_deadline=True,
    endpoint=("modelInvocationType",),
    endpoint_default="InvokeModel",
    model=("modelId",),
    input=("inputDataConfig.s3InputDataConfig.s3Uri",),
    output=("outputDataConfig.s3OutputDataConfig.s3Uri",),
    error_output=("outputDataConfig.s3OutputDataConfig.s3Uri",),
    errors=("message",),
)

_MQ, _MR, _MC = "QUEUED", "RUNNING", "CANCELLATION_REQUESTED"

MISTRAL = Provider(
    name="mistral",
    title="Mistral batch jobs",
    evidence="[MIS-SRC] [MIS-COOKBOOK]",
    marks=(Mark("input_files", "is present"), Mark("status", "is present")),
    roots=("",),
    id="id",
    status="status",
    states=(
        State(_MQ, _one(S.VALIDATING), "queued"),
        State(_MR, _one(S.IN_PROGRESS), "running"),
        State("SUCCESS", _one(S.COMPLETED), "finished"),
        State("FAILED", _one(S.FAILED), "failed"),
        State("TIMEOUT_EXCEEDED", _one(S.EXPIRED), "ran past its timeout"),
        State(_MC, _one(S.CANCELLING), "a cancel was asked for"),
        State("CANCELLED", _one(S.CANCELLED), "cancelled"),
    ),
    edges=(
        Edge(None, _MQ, ("created_at",)),
        Edge(_MQ, _MR, ("started_at",), documented=False),
        Edge(_MR, "SUCCESS", ("completed_at",), documented=False),
        *_edges((_MQ, _MR), "FAILED", "completed_at", documented=False),
        *_edges((_MQ, _MR), "TIMEOUT_EXCEEDED", "completed_at", documented=False),
        *_edges((_MQ, _MR), _MC, documented=False),
        Edge(_MC, "CANCELLED", ("completed_at",), documented=False),
    ),
    times=(
        Time("created_at", Role.CREATED, "created"),
        Time("started_at", Role.STARTED, "started running"),
        Time("completed_at", Role.ENDED, "reached a final status"),
    ),
    clock=Clock.UNIX,
    counts=(
        Count("total_requests", Counting.TOTAL, "requests in the job (0 until read)"),
        Count("completed_requests", Counting.PROCESSED, "requests processed"),
        Count("succeeded_requests", Counting.SUCCEEDED, "requests that succeeded"),
        Count("failed_requests", Counting.FAILED, "requests that failed"),
    ),
    window_hours=24,
    endpoint=("endpoint",),
    model=("model", "agent_id"),
    input=("input_files[0]",),
    input_inline=("input_files[]",),
    output=("output_file",),
    output_inline=("outputs",),
    error_output=("error_file",),
    errors=("errors",),
)

#: The native batch APIs `from_provider` reads, by name.
BY_NAME: dict[str, Provider] = {
    provider.name: provider for provider in (ANTHROPIC, BEDROCK, GEMINI, MISTRAL, VERTEX)
}
