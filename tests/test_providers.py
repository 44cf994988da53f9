"""from_provider: native batch objects read as OpenAI's batch, each loss reported, the native
object kept whole; the published samples, the tables, and objects drawn from the tables."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, Severity, Status
from batchfsm._cli import main
from batchfsm._providers import native_carried, native_of, parse_rfc3339, recognise
from batchfsm._providers_page import providers_page
from batchfsm._providers_table import (
    BY_NAME,
    NATIVE,
    Clock,
    Counting,
    Edge,
    Provider,
    Reading,
    Role,
    State,
)
from batchfsm._table import reachable, transitions_for

SAMPLES = Path(__file__).parent / "payloads" / "providers"
PAGE = Path(__file__).parent.parent / "docs" / "providers.md"


def _snapshots() -> list[tuple[str, Any]]:
    """Every published sample, one per snapshot: (file[index], native object)."""
    found = []
    for path in sorted(SAMPLES.glob("*/*.json")):
        value = json.loads(path.read_bytes())
        name = f"{path.parent.name}/{path.name}"
        if isinstance(value, list):
            found += [(f"{name}[{i}]", item) for i, item in enumerate(value)]
        else:
            found.append((name, value))
    return found


SNAPSHOTS = _snapshots()

# What each sample reads as: its OpenAI status (None: unreadable), and every code reported.
EXPECTED: dict[str, tuple[Status | None, list[str]]] = {
    "anthropic/001_in_progress_docs-create.json": (Status.IN_PROGRESS, ["subsecond"] * 2),
    "anthropic/002_canceling_docs-cancel.json": (Status.CANCELLING, ["subsecond"] * 3),
    "anthropic/003_in_progress_apiref-retrieve.json": (
        Status.IN_PROGRESS,
        ["subsecond"] * 2
        + ["provider.stamp_unexpected"] * 3
        + ["provider.count_lost"] * 2
        + ["expires_at.window"],
    ),
    "anthropic/004_history_cookbook-in_progress-ended.json[0]": (
        Status.IN_PROGRESS,
        ["subsecond"] * 2,
    ),
    "anthropic/004_history_cookbook-in_progress-ended.json[1]": (
        Status.COMPLETED,
        ["provider.status_split"] + ["subsecond"] * 3,
    ),
    "bedrock/001_template_userguide-batch-inference-get.json": (
        None,
        ["provider.status_unknown"] + ["provider.field_invalid"] * 3,
    ),
    "bedrock/002_Completed_litellm-test-fixture.json": (None, ["provider.field_missing"]),
    "gemini/001_BATCH_STATE_PENDING_delphigemini-create.json": (
        Status.VALIDATING,
        ["subsecond", "provider.string_count", "provider.string_count"],
    ),
    "gemini/002_BATCH_STATE_SUCCEEDED_delphigemini-get.json": (
        Status.COMPLETED,
        ["subsecond", "subsecond", "provider.string_count", "provider.string_count"],
    ),
    "mistral/001_history_cookbook-QUEUED-SUCCESS.json[0]": (Status.VALIDATING, []),
    "mistral/001_history_cookbook-QUEUED-SUCCESS.json[1]": (Status.COMPLETED, []),
    "mistral/002_QUEUED_cookbook-create.json": (Status.VALIDATING, []),
    "mistral/003_SUCCESS_cookbook-get.json": (Status.COMPLETED, []),
    "vertex/001_JOB_STATE_PENDING_docs-bigquery-create.json": (Status.VALIDATING, ["subsecond"]),
    "vertex/002_JOB_STATE_PENDING_docs-bigquery-get.json": (
        Status.VALIDATING,
        ["subsecond", "provider.string_count", "provider.string_count", "provider.input_missing"],
    ),
    "vertex/003_JOB_STATE_PENDING_docs-embeddings-create.json": (
        Status.VALIDATING,
        ["subsecond"],
    ),
}


def _codes(report: batchfsm.Report) -> list[str]:
    return sorted(
        "subsecond" if v.code == "provider.subsecond_dropped" else v.code for v in report.violations
    )


class TestPublishedSamples:
    def test_every_sample_is_expected(self) -> None:
        """Each snapshot of tests/payloads/providers has its expectation, and no more."""
        assert {name for name, _ in SNAPSHOTS} == set(EXPECTED)

    @pytest.mark.parametrize(("name", "native"), SNAPSHOTS, ids=[n for n, _ in SNAPSHOTS])
    def test_reads_as_expected(self, name: str, native: Any) -> None:
        """A published object reads as its expected OpenAI status with exactly its expected
        codes; problems are errors, losses warnings, and the consistent ones are ok."""
        status, codes = EXPECTED[name]
        report = batchfsm.from_provider(native)
        assert (report.batch.status if report.batch else None) is status
        assert _codes(report) == sorted(codes)
        for violation in report.violations:
            if violation.code.startswith("provider.") and violation.code not in (
                "provider.stamp_unexpected",
                "provider.status_unknown",
                "provider.field_invalid",
                "provider.field_missing",
            ):
                assert violation.severity is Severity.WARNING, violation
        assert report.ok is (status is not None and "expires_at.window" not in codes)

    def test_every_published_status_reads_under_compat(self) -> None:
        """Issue 15's must-hold: for each provider, every native status of its table that a
        published sample shows has a sample that reads as a batch valid under compat (only
        Bedrock's samples, a template and a partial test fixture, show none that reads)."""
        shown: dict[str, set[str]] = {}
        readable: dict[str, set[str]] = {}
        for name, native in SNAPSHOTS:
            provider = BY_NAME[name.split("/")[0]]
            root = native.get("metadata", native) if provider.name == "gemini" else native
            status = root.get(provider.status)
            if provider.state(status) is None:
                continue  # a template's status: no status of the table
            shown.setdefault(provider.name, set()).add(status)
            if batchfsm.from_provider(native, provider.name, profile="compat").ok:
                readable.setdefault(provider.name, set()).add(status)
        assert readable == {name: states for name, states in shown.items() if name != "bedrock"}
        assert readable["anthropic"] == {"in_progress", "canceling", "ended"}

    @pytest.mark.parametrize(("name", "native"), SNAPSHOTS, ids=[n for n, _ in SNAPSHOTS])
    def test_the_native_object_is_kept(self, name: str, native: Any) -> None:
        """The native object comes back unchanged from the batch, and after the batch is
        written as JSON and read again."""
        report = batchfsm.from_provider(native)
        if report.batch is None:
            return
        provider = name.split("/")[0]
        assert native_of(report.batch) == (provider, native)
        again = batchfsm.loads(batchfsm.dumps(report.batch))
        assert again.extra[NATIVE] == {"name": provider, "object": native}

    @pytest.mark.parametrize(("name", "native"), SNAPSHOTS, ids=[n for n, _ in SNAPSHOTS])
    def test_text_reads_as_the_mapping(self, name: str, native: Any) -> None:
        """JSON text (bytes or str, with a BOM) reads exactly as its decoded object, and the
        named provider as auto."""
        text = json.dumps(native)
        expected = batchfsm.from_provider(native)
        for data in (text, text.encode(), "\ufeff" + text):
            assert batchfsm.from_provider(data) == expected
        named = batchfsm.from_provider(native, name.split("/")[0])
        assert named == expected

    @pytest.mark.parametrize("name", ["anthropic/004", "mistral/001"])
    def test_a_native_history_reads_as_a_valid_history(self, name: str) -> None:
        """The snapshots of a published native history, read one by one, make a history
        `check_history` finds clean: stand-in stamps do not change between polls."""
        (path,) = SAMPLES.glob(f"{name}_*.json")
        batches = [batchfsm.from_provider(item).batch for item in json.loads(path.read_bytes())]
        assert batchfsm.check_history(batches, profile="compat").ok


READABLE = [(name, native) for name, native in SNAPSHOTS if EXPECTED[name][0] is not None]
# The OpenAI-shaped samples of one batch object that compat reads (some are histories, or
# objects no profile reads).
OPENAI_PAYLOADS = [
    path
    for path in sorted(SAMPLES.parent.glob("0*.json"))
    if isinstance(value := json.loads(path.read_bytes()), dict)
    and batchfsm.validate(value, profile="compat").batch is not None
]


class TestToProvider:
    @pytest.mark.parametrize(("name", "native"), READABLE, ids=[n for n, _ in READABLE])
    def test_gives_every_sample_back_exactly(self, name: str, native: Any) -> None:
        """The native object comes back equal, named or by auto, from the batch and from
        the batch written as JSON and read again, whether it was given as a mapping or as
        JSON text."""
        provider = name.split("/")[0]
        for data in (native, json.dumps(native), json.dumps(native).encode()):
            batch = batchfsm.from_provider(data).batch
            assert batch is not None
            again = batchfsm.loads(batchfsm.dumps(batch))
            for kept in (batch, again):
                assert batchfsm.to_provider(kept, provider) == native
                assert batchfsm.to_provider(kept) == native
                assert json.dumps(batchfsm.to_provider(kept)) == json.dumps(native)

    def test_every_provider_has_a_readable_sample_but_bedrock(self) -> None:
        """The published samples read for every provider but Bedrock, which published
        none (its objects are drawn from its table below, and given back there too)."""
        assert {name.split("/")[0] for name, _ in READABLE} == set(BY_NAME) - {"bedrock"}

    def test_the_object_given_back_is_a_copy(self) -> None:
        """Changing what to_provider returns changes neither the batch nor the next call."""
        native = READABLE[0][1]
        batch = batchfsm.from_provider(native).batch
        assert batch is not None
        given = batchfsm.to_provider(batch)
        given.clear()
        assert batchfsm.to_provider(batch) == native
        assert batch.extra[NATIVE]["object"] == native

    @pytest.mark.parametrize("path", OPENAI_PAYLOADS, ids=lambda p: p.name)
    def test_openai_gives_the_wire_object(self, path: Path) -> None:
        """A batch read from OpenAI's shape gives its wire object back, by openai and auto;
        one compat rewrote (Azure's spellings) gives the rewritten one, which reads as the
        same batch."""
        payload = json.loads(path.read_bytes())
        batch = batchfsm.from_provider(payload, "openai").batch
        assert batch is not None
        given = batchfsm.to_provider(batch, "openai")
        assert batchfsm.to_provider(batch) == given
        if batch.normalizations:
            assert batchfsm.structure(given, profile="compat") == batch
        else:
            assert given == payload
        with pytest.raises(ArgumentError, match="holds no native object of mistral: it has no"):
            batchfsm.to_provider(batch, "mistral")

    def test_another_providers_object_is_refused(self) -> None:
        """A batch read from one provider's object is refused for another, naming both."""
        batch = batchfsm.from_provider(dict(READABLE[0][1])).batch
        assert batch is not None
        with pytest.raises(ArgumentError) as info:
            batchfsm.to_provider(batch, "gemini")
        assert info.value.argument == "batch"
        assert info.value.reason == (
            f"batch {batch.id!r} was read from an object of anthropic (x_provider.name),"
            " not of gemini"
        )

    def test_a_spoilt_native_key_is_refused(self) -> None:
        """An x_provider that is not {name, object} holds no native object, and says so."""
        payload = json.loads(OPENAI_PAYLOADS[1].read_bytes())
        batch = batchfsm.loads(json.dumps({**payload, NATIVE: {"name": "vertex"}}))
        with pytest.raises(ArgumentError, match=r"its unknown key x_provider is not"):
            batchfsm.to_provider(batch, "vertex")
        assert batchfsm.to_provider(batch)[NATIVE] == {"name": "vertex"}

    @pytest.mark.parametrize(
        ("batch", "provider", "argument"),
        [
            ({"id": "x"}, "auto", "batch"),
            (None, "openai", "batch"),
            ("batch", "anthropic", "batch"),
            ("sample", "Anthropic", "provider"),
            ("sample", 3, "provider"),
        ],
    )
    def test_wrong_arguments_raise(self, batch: Any, provider: Any, argument: str) -> None:
        """Something that is not a Batch, or a provider that is not a known name, raises
        ArgumentError naming the argument."""
        if batch == "sample":
            batch = batchfsm.from_provider(READABLE[0][1]).batch
        with pytest.raises(ArgumentError) as info:
            batchfsm.to_provider(batch, provider)
        assert info.value.argument == argument


class TestReadingValues:
    @given(moment=st.datetimes(), fraction=st.integers(0, 999_999), offset=st.integers(-1439, 1439))
    def test_rfc3339_times_are_the_second_they_fall_in(
        self, moment: datetime.datetime, fraction: int, offset: int
    ) -> None:
        """An RFC 3339 time reads as the Unix second datetime gives it, with any separator,
        fraction or offset, and whether a fraction was dropped."""
        moment = moment.replace(microsecond=0)
        zone = datetime.timezone(datetime.timedelta(minutes=offset))
        sign, (hours, minutes) = "+-"[offset < 0], divmod(abs(offset), 60)
        text = moment.isoformat() + (f".{fraction:06d}" if fraction else "")
        expected = int(moment.replace(tzinfo=zone).timestamp())
        assert parse_rfc3339(text + f"{sign}{hours:02d}:{minutes:02d}") == (expected, fraction > 0)
        assert parse_rfc3339(text.replace("T", " ") + f"{sign}{hours:02d}:{minutes:02d}") == (
            expected,
            fraction > 0,
        )

    @pytest.mark.parametrize(
        "text",
        [
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-06-30T23:59:60Z",
            "2024-01-01T00:00:00",
            "2024-01-01",
            "1727212644",
        ],
    )
    def test_what_is_no_rfc3339_time(self, text: str) -> None:
        """A date or time out of its range (a leap second too), or no zone, is no time."""
        assert parse_rfc3339(text) is None

    @pytest.mark.parametrize(
        "literal", ["18446744073709551615", "18446744073709551616", "-123456789012345678901234"]
    )
    def test_long_integers_are_kept_exactly(self, literal: str) -> None:
        """An integer of 20 digits or more in a native object is given back exactly, read
        from bytes or str, with or without a BOM."""
        native = dict(READABLE[0][1])
        text = json.dumps(native)[:-1] + f', "x_big": {literal}}}'
        for data in (text, text.encode(), "\ufeff" + text, b"\xef\xbb\xbf" + text.encode()):
            batch = batchfsm.from_provider(data).batch
            assert batch is not None
            assert batchfsm.to_provider(batch)["x_big"] == int(literal)
            assert type(batchfsm.to_provider(batch)["x_big"]) is int


class TestRecognition:
    def test_auto_knows_each_provider(self) -> None:
        """Each readable sample is recognised as the provider whose folder holds it."""
        for name, native in SNAPSHOTS:
            if name.startswith("bedrock/001"):  # a template: every value is "string"
                continue
            assert recognise(native) == name.split("/")[0], name

    def test_an_openai_payload_is_validated(self) -> None:
        """An OpenAI-shaped payload under auto (or openai) is what validate reports."""
        payload = Path(__file__).parent / "payloads" / "008_completed_azure-docs-python.json"
        text = payload.read_bytes()
        expected = batchfsm.validate(text, profile="compat")
        assert batchfsm.from_provider(text) == expected
        assert batchfsm.from_provider(json.loads(text), "openai") == expected
        batch = batchfsm.loads(
            SAMPLES.parent.joinpath("002_completed_openapi-retrieve.json").read_bytes()
        )
        assert batchfsm.from_provider(batch) == batchfsm.validate(batch, profile="compat")

    @pytest.mark.parametrize(
        "data", [{"job": 1}, {"status": "done"}, {"name": "batches/x", "state": "DONE"}]
    )
    def test_an_unknown_object_is_one_clear_error(self, data: dict[str, Any]) -> None:
        """An object no provider's marks fit is a provider.unknown error naming what each
        needs, with no batch."""
        report = batchfsm.from_provider(data)
        assert report.batch is None
        assert [v.code for v in report.violations] == ["provider.unknown"]
        assert "anthropic: `type` equals 'message_batch'" in report.violations[0].message

    def test_the_wrong_provider_named_is_an_error(self) -> None:
        """An object read as a provider whose marks it does not bear is provider.unknown."""
        native = dict(SNAPSHOTS[0][1])
        report = batchfsm.from_provider(native, "gemini")
        assert report.batch is None
        assert [v.code for v in report.errors] == ["provider.unknown"]

    @pytest.mark.parametrize(
        ("data", "code"),
        [(b"{not json", "json.syntax"), ("[1]", "json.not_object"), (b"\xff", "json.encoding")],
    )
    def test_text_that_is_no_object_is_reported(self, data: bytes | str, code: str) -> None:
        """Text that is not a JSON object is reported as validate reports it."""
        report = batchfsm.from_provider(data)
        assert report.batch is None
        assert report.violations[0].code == code

    @pytest.mark.parametrize(
        ("data", "provider"),
        [(42, "auto"), (None, "auto"), ({}, "openrouter"), ({}, 3), ({}, "Anthropic")],
    )
    def test_wrong_arguments_raise(self, data: Any, provider: Any) -> None:
        """Only a data of another type, or a provider that is no name, raises."""
        with pytest.raises(ArgumentError):
            batchfsm.from_provider(data, provider)

    def test_providers_names_the_providers(self) -> None:
        """PROVIDERS is sorted and names every native table, and openai."""
        assert tuple(sorted((*BY_NAME, "openai"))) == batchfsm.PROVIDERS


class TestTables:
    @pytest.mark.parametrize("provider", BY_NAME.values(), ids=str)
    def test_every_status_is_reached(self, provider: Provider) -> None:
        """Every native status is reachable from creation by the provider's edges, and
        every edge joins two of its statuses."""
        names = {state.name for state in provider.states}
        assert {e.dest for e in provider.edges} <= names
        assert {e.source for e in provider.edges} - {None} <= names
        reached = {e.dest for e in provider.edges if e.source is None}
        for _ in provider.states:
            reached |= {e.dest for e in provider.edges if e.source in reached}
        assert reached == names

    @pytest.mark.parametrize("provider", BY_NAME.values(), ids=str)
    def test_fields_are_consistent(self, provider: Provider) -> None:
        """Edges set only time fields; there is one creation time; only the last reading
        of a status is unconditional; every time an edge sets can be carried."""
        keys = {time.key for time in provider.times}
        assert {stamp for edge in provider.edges for stamp in edge.stamps} <= keys
        assert [t.role for t in provider.times].count(Role.CREATED) == 1
        for state in provider.states:
            assert all(r.when for r in state.reads[:-1])
            assert not state.reads[-1].when
        carried = native_carried(provider.name)
        for edge in provider.edges:
            assert set(edge.stamps) <= carried[edge.dest]

    @pytest.mark.parametrize("profile", ["openai", "compat"])
    def test_an_edge_has_a_loss_where_no_openai_path_reads_it(self, profile: str) -> None:
        """A native edge between statuses of one reading each has a loss exactly when those
        read as OpenAI statuses no OpenAI path joins (so a history taking it is a warning
        naming the loss); an edge into or out of a split status has none."""
        edges = transitions_for(profile)
        for provider in BY_NAME.values():
            for edge in provider.edges:
                if edge.source is None:
                    continue
                was = _state(provider, edge.source).reads
                now = _state(provider, edge.dest).reads
                if len(was) > 1 or len(now) > 1:  # its reading, not the edge, decides
                    assert not edge.loss, (provider.name, edge)
                    continue
                joined = now[0].status in reachable(edges, was[0].status)
                assert bool(edge.loss) is not joined, (provider.name, edge)

    def test_page_is_current(self) -> None:
        """docs/providers.md is exactly what the tables generate (regenerate: see the page)."""
        assert PAGE.read_text(encoding="utf-8") == providers_page(), (
            "docs/providers.md is stale: python -m batchfsm._providers_page > docs/providers.md"
        )

    def test_page_lists_every_status(self) -> None:
        """Each native status of each table has its row on the page."""
        page = providers_page()
        for provider in BY_NAME.values():
            for state in provider.states:
                assert f"| `{state.name}` |" in page


# -- native objects drawn from the tables ------------------------------------------------

_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456"
TEMPLATES: dict[str, dict[str, Any]] = {
    "anthropic": {
        "id": "msgbatch_01GgqTz9XzriGNHzTSGZsJJ8", "type": "message_batch",
        "cancel_initiated_at": None, "ended_at": None, "results_url": None,
    },
    "gemini": {
        "name": "batches/leg9wy9p5df66syjxke2eq4xfjqcwp47ejv3",
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": "models/gemini-2.5-flash", "displayName": "b",
            "inputConfig": {"fileName": "files/frh6ua11nk3o"},
            "name": "batches/leg9wy9p5df66syjxke2eq4xfjqcwp47ejv3",
            "output": {"responsesFile": "files/batch-leg9wy9p5df66syjxke2eq4xfjqcwp47ejv3"},
        },
    },
    "vertex": {
        "name": "projects/p/locations/us-central1/batchPredictionJobs/5798522612028014592",
        "displayName": "j", "model": "publishers/google/models/gemini-2.5-flash",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://b/in.jsonl"]}},
        "outputConfig": {"predictionsFormat": "jsonl",
                         "gcsDestination": {"outputUriPrefix": "gs://b/out"}},
    },
    "bedrock": {
        "jobArn": _ARN, "jobName": "j", "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "roleArn": "arn:aws:iam::123456789012:role/BedrockBatch",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in.jsonl"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
    },
    "mistral": {
        "id": "5befe8c6-b8cb-4858-a068-d600cf5ed73f", "object": "batch",
        "input_files": ["30f63bb3-6f9e-4dd5-9295-a9cdbdeabf75"],
        "endpoint": "/v1/chat/completions", "model": "pixtral-large-latest", "errors": [],
        "output_file": None, "error_file": None, "started_at": None, "completed_at": None,
    },
}  # fmt: skip

TARGETS = [
    (provider.name, state.name, reading)
    for provider in BY_NAME.values()
    for state in provider.states
    for reading in state.reads
]


@st.composite
def native_paths(draw: st.DrawFn, provider: Provider, state: str, reading: Reading) -> list[Edge]:
    """A path of native edges from creation to `state`, without loops, taking a cancel
    edge exactly when `reading` is a cancellation."""
    cancel = {s.name for s in provider.states for r in s.reads if r.status is Status.CANCELLING}
    # A status read by its times (Anthropic's ended) was cancelled exactly when it passed
    # through a cancelling status.
    split = len(_state(provider, state).reads) > 1

    def walk(at: str | None, seen: frozenset[str]) -> list[list[Edge]]:
        if at == state:
            return [[]]
        paths: list[list[Edge]] = []
        for edge in provider.edges:
            if edge.source == at and edge.dest not in seen:
                for rest in walk(edge.dest, seen | {edge.dest}):
                    paths.append([edge, *rest])
        return paths

    paths = [
        path
        for path in walk(None, frozenset())
        if not split or any(e.dest in cancel for e in path) == (reading.status is Status.CANCELLED)
    ]
    assert paths, (provider.name, state, reading)
    return draw(st.sampled_from(paths))


def _state(provider: Provider, name: str) -> State:
    state = provider.state(name)
    assert state is not None
    return state


def _time(provider: Provider, seconds: int, fraction: int) -> Any:
    if provider.clock is Clock.UNIX:
        return seconds
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:06d}Z" if fraction else f"{text}Z"


def _put(root: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        root = root.setdefault(part, {})
    root[last] = value


@st.composite
def natives(
    draw: st.DrawFn, name: str, state: str, reading: Reading, path: list[Edge] | None = None
) -> dict[str, Any]:
    """A native object of provider `name` in `state`, consistent with the provider's table:
    the times its path (drawn unless given) set, in order, and counts and files its
    reading needs."""
    provider = BY_NAME[name]
    if path is None:
        path = draw(native_paths(provider, state, reading))
    document = copy.deepcopy(TEMPLATES[name])
    root = document["metadata"] if name == "gemini" else document
    root[provider.status] = state
    fraction = draw(st.sampled_from([0, 0, 250_000]))
    now = draw(st.integers(1_600_000_000, 1_800_000_000))
    created = now
    ended = reading.status in (Status.COMPLETED, Status.FAILED, Status.EXPIRED, Status.CANCELLED)
    hours = 24
    deadline = created + hours * 3600
    for edge in path:
        if edge.source is not None:
            now += draw(st.integers(0, 5_000))
        for stamp in edge.stamps:
            role = next(t.role for t in provider.times if t.key == stamp)
            if role is Role.DEADLINE:
                continue  # written below
            if role is Role.ENDED and reading.status is Status.EXPIRED:
                now = max(now, deadline)  # a batch expires at its deadline, not before
            _put(root, stamp, _time(provider, now, fraction if role is Role.CREATED else 0))
    for time in provider.times:
        if time.role is Role.DEADLINE:
            _put(root, time.key, _time(provider, deadline, 0))
        elif time.role is Role.OTHER and time.key != "archived_at":
            _put(root, time.key, _time(provider, now, 0))
    if provider.window_key:
        root[provider.window_key] = hours
    total = draw(st.integers(0, 50))
    done = total if ended else draw(st.integers(0, total))
    failed = draw(st.integers(0, done))
    succeeded = done - failed
    if reading.status is Status.EXPIRED and name == "anthropic":
        total, succeeded, failed = total + 1, succeeded, failed  # one request expired
    by = {"total": total, "completed": succeeded, "failed": failed, "processed": done}
    by.update(pending=total - done, other=0)
    if name == "anthropic":
        if ended:
            by.update(pending=0, other=total - done)
        else:
            by.update(pending=total, completed=0, failed=0)
    for count in provider.counts:
        value = by[count.counting.value]
        if name == "anthropic" and count.key.endswith("expired"):
            value = by["other"] if reading.status is Status.EXPIRED else 0
        elif name == "anthropic" and count.key.endswith("canceled"):
            value = by["other"] if reading.status is not Status.EXPIRED else 0
        _put(root, count.key, str(value) if provider.counts_as_strings else value)
    if name == "anthropic" and ended:
        root["results_url"] = f"https://api.anthropic.com/v1/messages/batches/{root['id']}/results"
    if name == "mistral":
        root["total_requests"] = total
        if ended:
            root["output_file"] = "950fae83-2802-40c0-a677-c7839a4e238a"
            root["error_file"] = "0d5a3c4e-1111-4c4c-9f9f-000000000000" if failed else None
    if reading.status is Status.FAILED:
        message = "the input file is not valid JSONL"
        if name == "gemini":
            document["error"] = {"code": 3, "message": message}
        elif name == "vertex":
            root["error"] = {"code": 3, "message": message}
        elif name == "bedrock":
            root["message"] = message
        else:
            root["errors"] = [{"message": message, "count": 1}]
    return document


class TestDrawnFromTheTables:
    @pytest.mark.parametrize(
        ("name", "state", "reading"), TARGETS, ids=[f"{p}-{s}-{r.status}" for p, s, r in TARGETS]
    )
    @given(data=st.data())
    def test_a_consistent_object_reads_as_its_status(
        self, name: str, state: str, reading: Reading, data: st.DataObject
    ) -> None:
        """Any native object a provider's table allows reads as the OpenAI status its table
        names, validates under compat with provider warnings only, and to_provider gives
        the native object back exactly (after dumps and loads too)."""
        native = data.draw(natives(name, state, reading))
        report = batchfsm.from_provider(native)
        assert report.batch is not None, report.violations
        assert report.batch.status is reading.status
        assert report.ok, report.violations
        for violation in report.violations:
            assert violation.code.startswith("provider."), violation
            assert violation.severity is Severity.WARNING
        assert batchfsm.to_provider(report.batch, name) == native
        assert batchfsm.to_provider(batchfsm.loads(batchfsm.dumps(report.batch)), name) == native
        strict = batchfsm.from_provider(native, name, profile="openai")
        assert strict.batch is not None
        assert strict.batch.status is reading.status

    @pytest.mark.parametrize(
        ("name", "state", "reading"), TARGETS, ids=[f"{p}-{s}-{r.status}" for p, s, r in TARGETS]
    )
    @given(data=st.data())
    def test_a_time_its_status_never_has_is_an_error(
        self, name: str, state: str, reading: Reading, data: st.DataObject
    ) -> None:
        """A native time that no path to the status sets, added to a consistent object, is
        a provider.stamp_unexpected error and is not read into the batch."""
        provider = BY_NAME[name]
        native = data.draw(natives(name, state, reading))
        foreign = [
            t for t in provider.times
            if t.key not in native_carried(name)[state]
            and any(t.key in e.stamps for e in provider.edges)
        ]  # fmt: skip
        if not foreign:
            return
        time = data.draw(st.sampled_from(foreign))
        root = native["metadata"] if name == "gemini" else native
        _put(root, time.key, _time(provider, 1_900_000_000, 0))
        report = batchfsm.from_provider(native)
        assert [v.code for v in report.errors] == ["provider.stamp_unexpected"]
        assert report.batch is not None
        assert report.batch.status is reading.status


# -- native histories -------------------------------------------------------------------


def _root(name: str, document: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = document["metadata"] if name == "gemini" else document
    return root


def _rewound(name: str, final: dict[str, Any], path: list[Edge], total: int) -> dict[str, Any]:
    """The object `final` (drawn along `path`) as it was when its path had reached only
    `path`'s last status: the times later edges set unset, no result, no error, and every
    request still pending."""
    provider = BY_NAME[name]
    document = copy.deepcopy(final)
    root = _root(name, document)
    root[provider.status] = path[-1].dest
    kept = {stamp for edge in path for stamp in edge.stamps}
    for time in provider.times:
        if any(time.key in e.stamps for e in provider.edges) and time.key not in kept:
            if name in ("anthropic", "mistral"):
                root[time.key] = None  # these write an unset time as null
            else:
                root.pop(time.key, None)
    for count in provider.counts:
        value = {Counting.TOTAL: total, Counting.PENDING: total}.get(count.counting, 0)
        _put(root, count.key, str(value) if provider.counts_as_strings else value)
    for key in ("results_url", "output_file", "error_file"):
        if key in root:
            root[key] = None
    root.pop("output", None)
    document.pop("error", None)
    root.pop("error", None)
    root.pop("message", None)
    if name == "mistral":
        root["errors"] = []
    return document


@st.composite
def native_histories(
    draw: st.DrawFn, name: str, state: str, reading: Reading
) -> tuple[list[Edge], list[dict[str, Any]]]:
    """A path of native edges to `state` and a snapshot of one batch after each edge,
    consistent with the provider's table, oldest first."""
    provider = BY_NAME[name]
    path = draw(native_paths(provider, state, reading))
    final = draw(natives(name, state, reading, path))
    report = batchfsm.from_provider(final)
    assert report.batch is not None
    assert report.batch.request_counts is not None
    total = report.batch.request_counts.total
    if name == "anthropic":  # its in-progress counts are all processing
        total = sum(_root(name, final)["request_counts"].values())
    snapshots = [_rewound(name, final, path[: k + 1], total) for k in range(len(path) - 1)]
    return path, [*snapshots, final]


class TestNativeHistory:
    @pytest.mark.parametrize(
        ("name", "state", "reading"), TARGETS, ids=[f"{p}-{s}-{r.status}" for p, s, r in TARGETS]
    )
    @given(data=st.data())
    def test_a_history_along_the_table_is_clean(
        self, name: str, state: str, reading: Reading, data: st.DataObject
    ) -> None:
        """Snapshots of a batch taken along a path of its provider's table, each or some
        (polls skip), make a history with no error; each lossy transition crossed between
        two polls is one provider.transition_unmapped warning, naming its loss."""
        path, snapshots = data.draw(native_histories(name, state, reading))
        keep = data.draw(st.lists(st.booleans(), min_size=len(snapshots), max_size=len(snapshots)))
        polled = [s for s, kept in zip(snapshots, keep, strict=True) if kept] + snapshots[-1:]
        report = batchfsm.check_history(polled, provider=name, profile="compat")
        assert report.ok, report.errors
        assert report.batch == batchfsm.from_provider(snapshots[-1]).batch
        for violation in report.violations:
            assert violation.code.startswith("provider."), violation
        if len(polled) == len(snapshots) + 1:  # every snapshot, the last twice
            unmapped = [v for v in report.violations if v.code == "provider.transition_unmapped"]
            assert [v.message.rsplit("; ", 1)[1] for v in unmapped] == [
                edge.loss for edge in path if edge.loss
            ]
        assert batchfsm.check_history(polled, provider="auto", profile="compat") == report


_JOB: dict[str, Any] = {
    "name": "projects/p/locations/us-central1/batchPredictionJobs/5798522612028014592",
    "displayName": "j", "model": "publishers/google/models/gemini-2.5-flash",
    "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://b/in.jsonl"]}},
    "outputConfig": {"predictionsFormat": "jsonl",
                     "gcsDestination": {"outputUriPrefix": "gs://b/out"}},
    "createTime": "2024-10-16T19:33:59Z", "updateTime": "2024-10-16T19:33:59Z",
    "state": "JOB_STATE_PENDING",
}  # fmt: skip
_RUNNING: dict[str, Any] = {
    **_JOB,
    "state": "JOB_STATE_RUNNING",
    "startTime": "2024-10-16T19:34:10Z",
}
_CANCELLING: dict[str, Any] = {
    **_RUNNING,
    "state": "JOB_STATE_CANCELLING",
    "updateTime": "2024-10-16T19:35:00Z",
}


def _ended(state: str, **more: Any) -> dict[str, Any]:
    """The job of `_CANCELLING` in the final `state`, ended a minute later."""
    end = {"endTime": "2024-10-16T19:36:00Z", "updateTime": "2024-10-16T19:36:00Z"}
    return {**_CANCELLING, "state": state, **end, **more}


def _history(*snapshots: Any, provider: str = "auto") -> list[tuple[str, str, str]]:
    report = batchfsm.check_history(list(snapshots), provider=provider, profile="compat")
    return [(v.code, v.path, v.severity.value) for v in report.violations]


class TestNativeHistoryChecks:
    @pytest.mark.parametrize("name", ["anthropic/004", "mistral/001"])
    def test_a_published_history_adds_nothing(self, name: str) -> None:
        """A published native history, checked natively (named or auto), reports what its
        snapshots report one by one, each at its index, and nothing more."""
        (path,) = SAMPLES.glob(f"{name}_*.json")
        snapshots = json.loads(path.read_bytes())
        alone = [
            f"$[{i}]" + v.path[1:]
            for i, item in enumerate(snapshots)
            for v in batchfsm.from_provider(item).violations
        ]
        for provider in (name.split("/")[0], "auto"):
            report = batchfsm.check_history(snapshots, provider=provider, profile="compat")
            assert [v.path for v in report.violations] == alone
            assert report.ok
            assert report.batch == batchfsm.from_provider(snapshots[-1]).batch

    def test_vertex_cancel_that_did_not_take_is_a_warning(self) -> None:
        """CANCELLING → SUCCEEDED, which Vertex AI documents, is a warning naming the loss
        (the cancel), not history.unreachable; the batch reads as completed."""
        done = _ended("JOB_STATE_SUCCEEDED", completionStats={"successfulCount": 2})
        report = batchfsm.check_history([_RUNNING, _CANCELLING, done], provider="vertex")
        assert [str(v) for v in report.violations] == [
            "$[2].state: JOB_STATE_CANCELLING → JOB_STATE_SUCCEEDED reads as cancelling →"
            " completed, which no OpenAI path joins; the cancel did not take: the job"
            " succeeded, and the completed batch shows no cancel [provider.transition_unmapped]"
        ]
        assert report.violations[0].severity is Severity.WARNING
        assert report.batch is not None
        assert report.batch.status is Status.COMPLETED

    def test_vertex_failure_while_cancelling_is_a_warning(self) -> None:
        """CANCELLING → FAILED is a warning too; CANCELLING → CANCELLED is clean."""
        failed = _ended("JOB_STATE_FAILED", error={"code": 3, "message": "bad input"})
        assert _history(_CANCELLING, failed) == [
            ("provider.transition_unmapped", "$[1].state", "warning")
        ]
        assert _history(_CANCELLING, _ended("JOB_STATE_CANCELLED")) == []

    def test_vertex_resumed_job_is_a_warning(self) -> None:
        """A paused job queued again reads as in progress then validating: the resume is a
        warning, seen directly or across a skipped poll, and its start is kept."""
        paused = {**_RUNNING, "state": "JOB_STATE_PAUSED"}
        queued = {**_RUNNING, "state": "JOB_STATE_QUEUED"}
        resumed = ("provider.transition_unmapped", "$[1].state", "warning")
        dropped = ("provider.stamp_dropped", "$[1].startTime", "warning")
        paused_warning = ("provider.status_approximated", "$[0].state", "warning")
        assert _history(paused, queued) == [paused_warning, dropped, resumed]
        assert _history(_RUNNING, queued) == [dropped, resumed]
        assert _history(queued, _RUNNING) == [
            ("provider.stamp_dropped", "$[0].startTime", "warning")
        ]

    def test_a_status_the_table_does_not_reach_is_an_error(self) -> None:
        """A native status that goes back is history.unreachable at the native status, by
        the provider's table; the stamps it lost are not reported again."""
        done = _ended("JOB_STATE_SUCCEEDED")
        report = batchfsm.check_history([done, _RUNNING], provider="vertex", profile="compat")
        assert [(v.code, v.path) for v in report.errors] == [
            ("history.unreachable", "$[1].state"),
            ("history.stamp_changed", "$[1].updateTime"),
        ]
        assert report.errors[0].message == (
            "JOB_STATE_RUNNING cannot follow JOB_STATE_SUCCEEDED by the table of Vertex AI"
            " batch prediction jobs"
        )

    def test_a_reading_no_transition_explains_is_an_error(self) -> None:
        """An Anthropic batch that stays ended but reads completed, then expired (its counts
        changed after it ended), is history.unreachable: no native transition explains it."""
        (path,) = SAMPLES.glob("anthropic/004_*.json")
        ended = json.loads(path.read_bytes())[-1]
        counts = {**ended["request_counts"], "succeeded": 3, "expired": 1}
        expired = {**ended, "request_counts": counts}
        codes = _history(ended, expired, provider="anthropic")
        assert ("history.unreachable", "$[1].processing_status", "error") in codes
        assert ("history.counts_decreased", "$[1].request_counts.succeeded", "error") in codes

    def test_times_counts_id_and_input_are_compared(self) -> None:
        """A set time that changes, an update time that goes back, a finished count that
        goes down, another id or input: each is its history code at its native path; a
        pending count that goes down is not."""
        later = {
            **_RUNNING,
            "updateTime": "2024-10-16T19:40:00Z",
            "completionStats": {"successfulCount": "5", "incompleteCount": "5"},
        }
        changed = {**_RUNNING, "startTime": "2024-10-16T19:34:11Z",
                   "completionStats": {"successfulCount": "4", "incompleteCount": "1"},
                   "name": _RUNNING["name"] + "0",
                   "inputConfig": {"gcsSource": {"uris": ["gs://b/other.jsonl"]}}}  # fmt: skip
        errors = [c for c in _history(later, changed, provider="vertex") if c[2] == "error"]
        assert errors == [
            ("history.id_changed", "$[1].name", "error"),
            ("history.stamp_changed", "$[1].startTime", "error"),
            ("history.stamp_changed", "$[1].updateTime", "error"),
            ("history.counts_decreased", "$[1].completionStats.successfulCount", "error"),
            ("history.field_changed", "$[1].inputConfig.gcsSource.uris[0]", "error"),
        ]

    def test_the_same_instant_spelt_otherwise_is_no_change(self) -> None:
        """A time written with another offset or more zeros is the same time; a nanosecond
        later is not."""
        spelt = {**_RUNNING, "startTime": "2024-10-16T21:34:10.000+02:00"}
        assert _history(_RUNNING, spelt) == []
        later = {**_RUNNING, "startTime": "2024-10-16T19:34:10.000000001Z"}
        assert ("history.stamp_changed", "$[1].startTime", "error") in _history(_RUNNING, later)

    def test_an_unreadable_snapshot_is_skipped(self) -> None:
        """A snapshot that cannot be read is reported, and the next is compared with the
        last readable one."""
        done = _ended("JOB_STATE_SUCCEEDED")
        codes = _history(_RUNNING, {**_RUNNING, "createTime": "yesterday"}, done)
        assert codes == [("provider.field_invalid", "$[1].createTime", "error")]

    def test_batches_read_from_native_objects_are_their_objects(self) -> None:
        """Batches from_provider made check as the native objects they keep; a Batch read
        from none is provider.unknown at its index."""
        snapshots = [_RUNNING, _CANCELLING, _ended("JOB_STATE_CANCELLED")]
        batches = [batchfsm.from_provider(item).batch for item in snapshots]
        expected = batchfsm.check_history(snapshots, provider="vertex")
        assert batchfsm.check_history(batches, provider="vertex") == expected
        openai = batchfsm.loads(
            SAMPLES.parent.joinpath("002_completed_openapi-retrieve.json").read_bytes()
        )
        report = batchfsm.check_history([*snapshots, openai], provider="vertex")
        assert [(v.code, v.path) for v in report.errors] == [("provider.unknown", "$[3]")]

    def test_openai_snapshots_are_checked_as_without_a_provider(self) -> None:
        """provider openai, or auto on OpenAI payloads, is check_history without one."""
        payloads = [json.loads(p.read_bytes()) for p in OPENAI_PAYLOADS[:3]]
        expected = batchfsm.check_history(payloads, profile="compat")
        for provider in ("openai", "auto"):
            assert batchfsm.check_history(payloads, provider=provider, profile="compat") == expected

    @pytest.mark.parametrize("provider", ["openrouter", 3, "Vertex"])
    def test_an_unknown_provider_raises(self, provider: Any) -> None:
        """A provider that is not a known name is an ArgumentError naming it."""
        with pytest.raises(ArgumentError) as info:
            batchfsm.check_history([_RUNNING], provider=provider)
        assert info.value.argument == "provider"


class TestCommandHistory:
    def test_a_native_history_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """validate --history --provider reads the snapshots natively: a cancel that did not
        take is a warning at its snapshot's place (exit 0), a status the table does not
        reach an error there (exit 1)."""
        done = _ended("JOB_STATE_SUCCEEDED", completionStats={"successfulCount": 2})
        path = tmp_path / "job.jsonl"
        path.write_text("".join(json.dumps(item) + "\n" for item in (_RUNNING, _CANCELLING, done)))
        assert main(["validate", "--history", "--provider", "vertex", str(path)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[1].startswith(f"{path}:3: warning: $.state: JOB_STATE_CANCELLING →")
        assert out[1].endswith("[provider.transition_unmapped]")
        path.write_text("".join(json.dumps(item) + "\n" for item in (done, _RUNNING)))
        assert main(["validate", "--history", "--provider", "auto", str(path)]) == 1
        assert f"{path}:2: $.state: JOB_STATE_RUNNING cannot follow JOB_STATE_SUCCEEDED" in (
            capsys.readouterr().out
        )

    def test_the_report_is_check_historys(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The JSON record of a native history carries exactly what check_history reports."""
        (sample,) = SAMPLES.glob("anthropic/004_*.json")
        args = ["validate", "--history", "--provider", "anthropic", "--format", "json"]
        assert main([*args, "--profile", "compat", str(sample)]) == 0
        (record,) = json.loads(capsys.readouterr().out)["results"]
        snapshots = json.loads(sample.read_bytes())
        report = batchfsm.check_history(snapshots, provider="anthropic", profile="compat")
        assert [(v["code"], v["severity"]) for v in record["violations"]] == [
            (v.code, v.severity.value) for v in report.violations
        ]
