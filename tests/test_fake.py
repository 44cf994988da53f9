"""batchfsm.testing.FakeBatchAPI: the real openai client against it, every fate, cancels,
errors, pagination, the served objects and histories, and `batchfsm serve`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, MutableMapping
from typing import Any, Literal

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, Batch, Status
from batchfsm import strategies as bst
from batchfsm.testing import FakeBatchAPI, Fate, ManualClock

ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
FINAL = {"completed", "failed", "expired", "cancelled"}
# Clients retry 409s and 5xxs after sleeping; tests never sleep.
BASE = "https://fake/v1"


def jsonl(count: int, *, endpoint: str = ENDPOINT) -> bytes:
    """An input file of `count` chat requests, custom ids r0, r1 ..."""
    lines = (
        {"custom_id": f"r{i}", "method": "POST", "url": endpoint,
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": str(i)}]}}
        for i in range(count)
    )  # fmt: skip
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def client(api: FakeBatchAPI) -> openai.OpenAI:
    http = openai.DefaultHttpxClient(transport=api.transport())
    return openai.OpenAI(api_key="test", base_url=BASE, http_client=http, max_retries=0)


def async_client(api: FakeBatchAPI) -> openai.AsyncOpenAI:
    http = openai.DefaultAsyncHttpxClient(transport=api.async_transport())
    return openai.AsyncOpenAI(api_key="test", base_url=BASE, http_client=http, max_retries=0)


def served(batch: Any) -> dict[str, Any]:
    """The wire object the client received: what the server sent, as the client parsed it."""
    wire: dict[str, Any] = batch.model_dump(mode="json", exclude_unset=True)
    assert batchfsm.validate(wire).ok, batchfsm.validate(wire).errors
    return wire


def submit(api: FakeBatchAPI, sdk: openai.OpenAI, count: int = 4, **create: Any) -> Any:
    upload = sdk.files.create(file=("requests.jsonl", jsonl(count)), purpose="batch")
    return sdk.batches.create(
        input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h", **create
    )


def poll(api: FakeBatchAPI, sdk: openai.OpenAI, batch: Any, step: int = 11) -> list[Any]:
    """Poll until the batch is final, `step` virtual seconds apart; every poll."""
    polls = [batch]
    while polls[-1].status not in FINAL:
        api.advance(step)
        polls.append(sdk.batches.retrieve(batch.id))
    return polls


def lines(sdk: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(line) for line in sdk.files.content(file_id).text.splitlines()]


class TestFates:
    """Upload, create, poll, download through the openai client, for every fate."""

    @pytest.mark.parametrize(
        ("fate", "status", "ok", "bad"),
        [
            (Fate.completes(), "completed", 6, 0),
            (Fate.completes(failing=0.5), "completed", 3, 3),
            (Fate.completes(failing=1.0), "completed", 0, 6),
            (Fate.expires(), "expired", 2, 4),
            (Fate.stuck_finalizing(3_600), "completed", 6, 0),
            (Fate.cancelled(after=30), "cancelled", 3, 3),
        ],
        ids=["all-succeed", "some-fail", "all-fail", "expires", "stuck", "cancelled"],
    )
    def test_fate(self, fate: Fate, status: str, ok: int, bad: int) -> None:
        """Each fate ends as it says; the files hold one line per request, matched by
        custom_id; every poll validates and the polls pass check_history."""
        api = FakeBatchAPI(fate=fate)
        sdk = client(api)
        polls = poll(api, sdk, submit(api, sdk, 6), step=3_600 if fate.running > 86_400 else 11)
        last = polls[-1]
        assert last.status == status
        assert batchfsm.check_history([served(b) for b in polls]).ok
        output, errors = lines(sdk, last.output_file_id), lines(sdk, last.error_file_id)
        assert (len(output), len(errors)) == (ok, bad)
        assert sorted(line["custom_id"] for line in output + errors) == [f"r{i}" for i in range(6)]
        assert all(line["response"]["status_code"] == 200 for line in output)
        if status == "expired":
            assert {line["error"]["code"] for line in errors} == {"batch_expired"}
            assert last.expired_at == last.expires_at

    def test_stuck_in_finalizing(self) -> None:
        """A batch stuck in finalizing is seen there, poll after poll, for the fate's time."""
        api = FakeBatchAPI(fate=Fate.stuck_finalizing(600))
        sdk = client(api)
        statuses = [b.status for b in poll(api, sdk, submit(api, sdk), step=60)]
        assert statuses.count("finalizing") >= 9

    @pytest.mark.parametrize("code", ["invalid_json_line", "token_limit_exceeded"])
    def test_fails_validation(self, code: str) -> None:
        """A batch fated to fail validation fails with OpenAI's code, and no files."""
        api = FakeBatchAPI(fate=Fate.fails_validation(code))
        sdk = client(api)
        last = poll(api, sdk, submit(api, sdk, 3))[-1]
        assert last.status == "failed"
        assert last.output_file_id is None
        assert last.errors is not None
        assert last.errors.data is not None
        assert [e.code for e in last.errors.data] == [code]

    def test_bad_input_lines_fail_validation(self) -> None:
        """Real problems in the input file fail the batch, one error per bad line."""
        api = FakeBatchAPI()
        sdk = client(api)
        good = jsonl(2).splitlines()
        content = b"\n".join([good[0], b"{not json", b'{"custom_id": "x"}', good[0]]) + b"\n"
        upload = sdk.files.create(file=("in.jsonl", content), purpose="batch")
        batch = sdk.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
        )
        last = poll(api, sdk, batch)[-1]
        assert last.errors is not None
        assert last.errors.data is not None
        found = [(e.code, e.line, e.param) for e in last.errors.data]
        assert found == [
            ("invalid_json_line", 2, None),
            ("missing_required_parameter", 3, "method"),
            ("duplicate_custom_id", 4, "custom_id"),
        ]

    def test_fate_chosen_per_batch(self) -> None:
        """A callable chooses each batch's fate from the batch its caller created."""
        fates = {"good": Fate.completes(), "bad": Fate.fails_validation()}
        api = FakeBatchAPI(fate=lambda batch: fates[(batch.metadata or {})["kind"]])
        sdk = client(api)
        good = submit(api, sdk, metadata={"kind": "good"})
        bad = submit(api, sdk, metadata={"kind": "bad"})
        api.advance(600)
        assert sdk.batches.retrieve(good.id).status == "completed"
        assert sdk.batches.retrieve(bad.id).status == "failed"

    def test_async_client(self) -> None:
        """The async openai client drives the same cycle through async_transport()."""

        async def cycle() -> tuple[list[dict[str, Any]], bytes]:
            api = FakeBatchAPI(fate=Fate.completes(failing=0.5))
            sdk = async_client(api)
            upload = await sdk.files.create(file=("in.jsonl", jsonl(4)), purpose="batch")
            batch = await sdk.batches.create(
                input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
            )
            polls = [served(batch)]
            while polls[-1]["status"] not in FINAL:
                api.advance(7)
                polls.append(served(await sdk.batches.retrieve(batch.id)))
            content = await sdk.files.content(polls[-1]["output_file_id"])
            return polls, content.content

        polls, output = asyncio.run(cycle())
        assert polls[-1]["status"] == "completed"
        assert batchfsm.check_history(polls).ok
        assert len(output.splitlines()) == 2


class TestCancel:
    """Cancelling in every status answers as OpenAI does."""

    @pytest.mark.parametrize(("wait", "before"), [(0, "validating"), (20, "in_progress"),
                                                  (100, "finalizing")])  # fmt: skip
    def test_cancel_while_running(self, wait: int, before: str) -> None:
        """A batch not yet final goes to cancelling, then cancelled with partial results."""
        api = FakeBatchAPI(fate=Fate(running=60, finalizing=600))
        sdk = client(api)
        batch = submit(api, sdk, 6)
        api.advance(wait)
        assert sdk.batches.retrieve(batch.id).status == before
        cancelling = sdk.batches.cancel(batch.id)
        assert cancelling.status == "cancelling"
        polls = [batch, cancelling, *poll(api, sdk, cancelling)[1:]]
        assert polls[-1].status == "cancelled"
        assert batchfsm.check_history([served(b) for b in polls]).ok
        again = sdk.batches.cancel(batch.id)
        assert served(again) == served(polls[-1])  # a second cancel changes nothing

    def test_cancel_while_cancelling(self) -> None:
        """A cancelling batch is returned as it is."""
        api = FakeBatchAPI()
        sdk = client(api)
        batch = submit(api, sdk)
        first = sdk.batches.cancel(batch.id)
        assert served(sdk.batches.cancel(batch.id)) == served(first)

    @pytest.mark.parametrize("fate", [Fate(), Fate.fails_validation(), Fate.expires()])
    def test_cancel_a_finished_batch(self, fate: Fate) -> None:
        """A completed, failed or expired batch is answered 409, and stays as it was."""
        api = FakeBatchAPI(fate=fate)
        sdk = client(api)
        batch = submit(api, sdk)
        api.advance(3 * 86_400)
        last = sdk.batches.retrieve(batch.id)
        with pytest.raises(openai.ConflictError) as refused:
            sdk.batches.cancel(batch.id)
        assert refused.value.body == {
            "message": f"Cannot cancel a batch with status '{last.status}'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
        assert sdk.batches.retrieve(batch.id) == last


class TestErrors:
    """Bad requests are answered with OpenAI's status codes and error bodies."""

    def test_unknown_ids(self) -> None:
        """An unknown batch or file is a 404."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.NotFoundError):
            sdk.batches.retrieve("batch_nope")
        with pytest.raises(openai.NotFoundError):
            sdk.batches.cancel("batch_nope")
        with pytest.raises(openai.NotFoundError):
            sdk.files.retrieve("file-nope")
        with pytest.raises(openai.NotFoundError):
            sdk.files.content("file-nope")

    def test_bad_uploads(self) -> None:
        """A batch file that is not UTF-8 JSONL, or an unknown purpose, is a 400."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.BadRequestError, match=r"Must be \.jsonl"):
            sdk.files.create(file=("in.csv", b"a,b\n"), purpose="batch")
        with pytest.raises(openai.BadRequestError, match="UTF-8"):
            sdk.files.create(file=("in.jsonl", b"\xff\xfe{}\n"), purpose="batch")
        with pytest.raises(openai.BadRequestError, match="purpose"):
            sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="nope")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"endpoint": "/v1/nope"}, "invalid_value"),
            ({"completion_window": "48h"}, "invalid_value"),
            ({"metadata": {"k": 1}}, "invalid_type"),
            ({"metadata": {f"k{i}": "v" for i in range(17)}}, "invalid_value"),
        ],
    )
    def test_bad_creates(self, change: dict[str, Any], code: str) -> None:
        """A create the API refuses is a 400 with OpenAI's code, and makes no batch."""
        api = FakeBatchAPI()
        sdk = client(api)
        upload = sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="batch")
        params = {"input_file_id": upload.id, "endpoint": ENDPOINT, "completion_window": "24h"}
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.batches.create(**{**params, **change})
        assert refused.value.code == code
        assert api.batches() == []

    def test_missing_parameter(self) -> None:
        """A create without a required parameter is a 400 naming it."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.post("/batches", body={"endpoint": ENDPOINT}, cast_to=dict)
        assert (refused.value.code, refused.value.param) == (
            "missing_required_parameter",
            "input_file_id",
        )

    def test_unknown_input_file_fails_the_batch(self) -> None:
        """A batch whose input file does not exist fails validation, as OpenAI's does."""
        api = FakeBatchAPI()
        sdk = client(api)
        batch = sdk.batches.create(
            input_file_id="file-nope", endpoint=ENDPOINT, completion_window="24h"
        )
        last = poll(api, sdk, batch)[-1]
        assert last.status == "failed"
        assert last.errors is not None
        assert last.errors.data
        assert last.errors.data[0].code == "invalid_request"

    @pytest.mark.parametrize("limit", [0, 101])
    def test_bad_limit(self, limit: int) -> None:
        """A page size outside 1..100 is a 400."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.BadRequestError):
            sdk.batches.list(limit=limit)

    def test_unknown_route(self) -> None:
        """A route the API does not have is a 404 naming it."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.NotFoundError, match=r"Invalid URL \(GET /v1/models\)"):
            sdk.models.list()


class TestPagination:
    """Listing pages through every batch, newest first."""

    def test_250_batches(self) -> None:
        """Auto-pagination over 250 batches sees each once, newest first; pages of 100
        say whether more follow."""
        api = FakeBatchAPI()
        sdk = client(api)
        upload = sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="batch")
        made = [
            sdk.batches.create(input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h")
            for _ in range(250)
        ]
        listed = [b.id for b in sdk.batches.list(limit=100)]
        assert listed == [b.id for b in reversed(made)]
        first = sdk.batches.list(limit=100)
        assert first.has_more
        assert len(first.data) == 100
        last = sdk.batches.list(limit=100, after=listed[199])
        assert not last.has_more
        assert [b.id for b in last.data] == listed[200:]
        assert len(sdk.batches.list().data) == 20


class TestServedObjects:
    """A property: whatever the fates and the poll schedule, what is served is valid."""

    @settings(max_examples=30)
    @given(
        fates=st.lists(bst.fates(), min_size=1, max_size=3),
        schedule=st.lists(st.integers(0, 40_000) | st.integers(0, 120), max_size=12),
        sizes=st.lists(st.integers(0, 5), min_size=3, max_size=3),
        cancels=st.lists(st.booleans(), max_size=12),
    )
    def test_polls_validate(
        self, fates: list[Fate], schedule: list[int], sizes: list[int], cancels: list[bool]
    ) -> None:
        """Every response validates, under openai and batchfsm, and every batch's polls
        pass check_history, with cancels thrown in."""
        chosen = iter(fates)
        api = FakeBatchAPI(fate=lambda batch: next(chosen))
        sdk = client(api)
        polls: dict[str, list[dict[str, Any]]] = {}
        for size in sizes[: len(fates)]:
            if size:
                batch = submit(api, sdk, size)
            else:  # an empty input file: OpenAI fails it while validating
                upload = sdk.files.create(file=("in.jsonl", b""), purpose="batch")
                batch = sdk.batches.create(
                    input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
                )
            polls[batch.id] = [served(batch)]
        for step, (seconds, cancel) in enumerate(
            zip(schedule, cancels + [False] * 12, strict=False)
        ):
            api.advance(seconds)
            for batch_id, seen in polls.items():
                if cancel and step % len(polls) == len(seen) % len(polls):
                    try:
                        seen.append(served(sdk.batches.cancel(batch_id)))
                    except openai.ConflictError:  # it ended since the last poll
                        seen.append(served(sdk.batches.retrieve(batch_id)))
                        assert seen[-1]["status"] in {"completed", "failed", "expired"}
                else:
                    seen.append(served(sdk.batches.retrieve(batch_id)))
        for batch_id, seen in polls.items():
            report = batchfsm.check_history(seen)
            assert report.ok, (batch_id, report.errors)


class TestArguments:
    """Wrong arguments are ArgumentErrors, never foreign exceptions."""

    def test_fate_values(self) -> None:
        """A fate's seconds, fraction and code are checked."""
        with pytest.raises(ArgumentError):
            Fate(running=-1)
        with pytest.raises(ArgumentError):
            Fate(failing=1.5)
        with pytest.raises(ArgumentError):
            Fate.fails_validation("no_such_code")

    def test_api_arguments(self) -> None:
        """A fate of the wrong kind, a callable returning something else, or advancing a
        real clock is refused."""
        with pytest.raises(ArgumentError):
            FakeBatchAPI(fate=3)  # type: ignore[arg-type]
        with pytest.raises(ArgumentError):
            FakeBatchAPI(clock=lambda: 5).advance(1)
        with pytest.raises(ArgumentError):
            FakeBatchAPI().advance(-1)
        api = FakeBatchAPI(fate=lambda batch: "fast")  # type: ignore[arg-type,return-value]
        with pytest.raises(ArgumentError):
            submit(api, client(api))

    def test_virtual_clock(self) -> None:
        """The API reads the clock it is given; advance moves it and returns the reading."""
        clock = ManualClock(1_000)
        api = FakeBatchAPI(clock=clock)
        assert api.advance(5) == 1_005 == clock()
        sdk = client(api)
        assert submit(api, sdk).created_at == 1_005
        assert [b.status for b in api.batches()] == [Status.VALIDATING]
        assert all(isinstance(b, Batch) for b in api.batches())


def asgi_call(
    api: FakeBatchAPI, method: str, path: str, body: bytes = b"", query: bytes = b""
) -> tuple[int, bytes]:
    """One request through the ASGI application."""
    sent: list[MutableMapping[str, Any]] = []
    chunks: Iterator[dict[str, Any]] = iter([{"type": "http.request", "body": body}])

    async def receive() -> dict[str, Any]:
        return next(chunks)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": [(b"content-type", b"application/json")]}  # fmt: skip
    asyncio.run(api.asgi(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


class TestServe:
    """The ASGI application and `batchfsm serve`."""

    def test_asgi(self) -> None:
        """The ASGI application answers as the transports do."""
        api = FakeBatchAPI()
        status, body = asgi_call(api, "GET", "/v1/batches", query=b"limit=5")
        assert (status, json.loads(body)["data"]) == (200, [])
        status, body = asgi_call(api, "GET", "/v1/batches/batch_x")
        assert status == 404
        assert json.loads(body)["error"]["type"] == "invalid_request_error"
        status, body = asgi_call(api, "POST", "/v1/batches", b"{")
        assert status == 400

    def test_serve(self) -> None:
        """`batchfsm serve --port 0` prints its address once it listens, and answers there."""
        command = [sys.executable, "-m", "batchfsm", "serve", "--port", "0"]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            url = line.split(" at ")[1].strip()
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"{url}/batches/batch_x", timeout=30)
            assert missing.value.code == 404
            missing.value.close()
            with urllib.request.urlopen(f"{url}/batches", timeout=30) as page:
                assert json.load(page)["object"] == "list"
        finally:
            server.terminate()
            server.wait(timeout=30)
            if server.stdout is not None:
                server.stdout.close()
