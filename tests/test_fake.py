"""batchfsm.testing.FakeBatchAPI: the real openai client against it, every fate, cancels,
errors, pagination, the served objects and histories, and `batchfsm serve`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, Literal

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import batchfsm
from batchfsm import ENDPOINTS, ArgumentError, Batch, Lifecycle, Status
from batchfsm import strategies as bst
from batchfsm.store import SQLiteStore
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
    """The wire object the client received (what the server sent, as the client parsed it),
    checked to validate under the ``openai`` profile."""
    wire: dict[str, Any] = batch.model_dump(mode="json", exclude_unset=True)
    report = batchfsm.validate(wire, profile="openai")
    assert report.ok, report.errors
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


def sync_cycle(api: FakeBatchAPI, count: int, step: int) -> Cycle:
    """Upload, create, poll until final (`step` virtual seconds apart) and download, with
    the sync openai client: every poll served, and the lines of the output and error files."""
    sdk = client(api)
    polls = [served(b) for b in poll(api, sdk, submit(api, sdk, count), step=step)]
    last = polls[-1]
    return polls, lines(sdk, last.get("output_file_id")), lines(sdk, last.get("error_file_id"))


def async_cycle(api: FakeBatchAPI, count: int, step: int) -> Cycle:
    """The same cycle with the async openai client, through `async_transport()`."""

    async def run() -> Cycle:
        sdk = async_client(api)
        upload = await sdk.files.create(file=("in.jsonl", jsonl(count)), purpose="batch")
        batch = await sdk.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
        )
        polls = [served(batch)]
        while polls[-1]["status"] not in FINAL:
            api.advance(step)
            polls.append(served(await sdk.batches.retrieve(batch.id)))
        found = []
        for key in ("output_file_id", "error_file_id"):
            file_id = polls[-1].get(key)
            text = (await sdk.files.content(file_id)).text if file_id else ""
            found.append([json.loads(line) for line in text.splitlines()])
        return polls, found[0], found[1]

    return asyncio.run(run())


Cycle = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
CYCLES = {"sync": sync_cycle, "async": async_cycle}


class TestFates:
    """Upload, create, poll, download through the openai client, sync and async, for every
    fate."""

    @pytest.mark.parametrize("mode", sorted(CYCLES))
    @pytest.mark.parametrize(
        ("fate", "status", "ok", "bad"),
        [
            (Fate.completes(), "completed", 6, 0),
            (Fate.completes(failing=0.5), "completed", 3, 3),
            (Fate.completes(failing=1.0), "completed", 0, 6),
            (Fate.expires(), "expired", 2, 4),
            (Fate.stuck_finalizing(3_600), "completed", 6, 0),
            (Fate.cancelled(after=30), "cancelled", 3, 3),
            (Fate.fails_validation(), "failed", 0, 0),
        ],
        ids=["all-succeed", "some-fail", "all-fail", "expires", "stuck", "cancelled", "invalid"],
    )
    def test_fate(self, mode: str, fate: Fate, status: str, ok: int, bad: int) -> None:
        """Each fate ends as it says; the files hold one line per request, matched by
        custom_id; every poll validates and the polls pass check_history."""
        step = 3_600 if fate.running > 86_400 else 11
        polls, output, errors = CYCLES[mode](FakeBatchAPI(fate=fate), 6, step)
        last = polls[-1]
        assert last["status"] == status
        assert batchfsm.check_history(polls, profile="openai").ok
        assert (len(output), len(errors)) == (ok, bad)
        if ok or bad:
            custom_ids = sorted(line["custom_id"] for line in output + errors)
            assert custom_ids == [f"r{i}" for i in range(6)]
        assert all(line["response"]["status_code"] == 200 for line in output)
        if status == "expired":
            assert {line["error"]["code"] for line in errors} == {"batch_expired"}
            assert last["expired_at"] == last["expires_at"]
        if status == "failed":
            assert [e["code"] for e in last["errors"]["data"]] == ["invalid_json_line"]

    def test_stuck_in_finalizing(self) -> None:
        """A batch stuck in finalizing is seen there, poll after poll, for the fate's time."""
        api = FakeBatchAPI(fate=Fate.stuck_finalizing(600))
        sdk = client(api)
        statuses = [b.status for b in poll(api, sdk, submit(api, sdk), step=60)]
        assert statuses.count("finalizing") >= 9

    def test_finalizing_past_the_deadline_completes(self) -> None:
        """A batch that began finalizing before its deadline completes, with every result,
        even when finalizing ends past the deadline: only a batch still running expires."""
        fate = Fate.stuck_finalizing(2 * 86_400, running=86_000)
        api = FakeBatchAPI(fate=fate)
        sdk = client(api)
        polls = poll(api, sdk, submit(api, sdk, 4), step=3_600)
        last = polls[-1]
        assert last.status == "completed"
        assert last.finalizing_at is not None
        assert last.expires_at is not None
        assert last.finalizing_at < last.expires_at < (last.completed_at or 0)
        assert [b.status for b in polls].count("finalizing") > 24
        assert batchfsm.check_history([served(b) for b in polls], profile="openai").ok
        assert len(lines(sdk, last.output_file_id)) == 4

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
        """Real problems in the input file fail the batch, one error per bad line, with
        OpenAI's codes, params and messages."""
        api = FakeBatchAPI()
        sdk = client(api)
        good = jsonl(2).splitlines()
        request = json.loads(good[1])
        streaming = {**request, "custom_id": "s", "body": {**request["body"], "stream": True}}
        no_model = {**request, "custom_id": "m", "body": {"messages": []}}
        wrong_url = {**request, "custom_id": "u", "url": "/v1/embeddings"}
        bad = [json.dumps(line).encode() for line in (streaming, no_model, wrong_url)]
        content = b"\n".join([good[0], b"{not json", b'{"custom_id": "x"}', good[0], *bad, good[1]])
        upload = sdk.files.create(file=("in.jsonl", content), purpose="batch")
        batch = sdk.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
        )
        last = poll(api, sdk, batch)[-1]
        assert last.errors is not None
        assert last.errors.data is not None
        found = [(e.code, e.line, e.param, e.message) for e in last.errors.data]
        assert found == [
            ("invalid_json_line", 2, None, "This line is not parseable as valid JSON."),
            ("missing_required_parameter", 3, "method", "Missing required parameter: 'method'."),
            ("duplicate_custom_id", 4, "custom_id",
             "The custom_id for this request is a duplicate."),
            ("streaming_unsupported", 5, "body.stream",
             "Chat Completions: Streaming is not supported in the Batch API."),
            ("invalid_request", 6, "body.model", "Model parameter is required."),
            ("invalid_url", 7, "url",
             "The URL provided for this request does not match the batch endpoint."),
        ]  # fmt: skip

    def test_model_not_found_names_the_model(self) -> None:
        """A batch fated to fail with model_not_found names the request's model, as OpenAI
        does."""
        api = FakeBatchAPI(fate=Fate.fails_validation("model_not_found"))
        sdk = client(api)
        last = poll(api, sdk, submit(api, sdk, 2))[-1]
        assert last.errors is not None
        assert last.errors.data is not None
        [error] = last.errors.data
        assert (error.line, error.param) == (2, "body.model")
        expected = "The provided model 'gpt-4o-mini' is not supported by the Batch API."
        assert error.message == expected

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


def error_body(refused: openai.APIStatusError) -> dict[str, Any]:
    """The ``error`` object of an error answer, as the server sent it."""
    body = refused.response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    return error


def openai_error(message: str, param: str | None = None, code: str | None = None) -> Any:
    return {"message": message, "type": "invalid_request_error", "param": param, "code": code}


class TestErrors:
    """Bad requests are answered with OpenAI's status codes and error bodies
    (docs/research.md §10 has the sources)."""

    def test_unknown_batch(self) -> None:
        """Retrieving or cancelling an unknown batch is a 404 naming it."""
        sdk = client(FakeBatchAPI())
        expected = openai_error("No batch found with id 'batch_nope'.")
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.batches.retrieve("batch_nope")
        assert error_body(refused.value) == expected
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.batches.cancel("batch_nope")
        assert error_body(refused.value) == expected

    def test_unknown_file(self) -> None:
        """Retrieving an unknown file or its content is a 404 naming it, param ``id``."""
        sdk = client(FakeBatchAPI())
        expected = openai_error("No such File object: file-nope", "id")
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.files.retrieve("file-nope")
        assert error_body(refused.value) == expected
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.files.content("file-nope")
        assert error_body(refused.value) == expected

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("in.csv", b'{"custom_id": "a"}\n'),
            ("in.jsonl", b"\xff\xfe{}\n"),
            ("in.jsonl", b""),
            ("in.jsonl", b"\n  \n"),
            ("in.jsonl", b"{malformed json\n"),
            ("in.jsonl", b"[1, 2]\n"),
        ],
        ids=["not-jsonl-name", "not-utf8", "empty", "blank", "malformed", "not-an-object"],
    )
    def test_bad_batch_files(self, name: str, content: bytes) -> None:
        """A batch file that is not JSONL (its name, its encoding, an empty file or a first
        line that is no JSON object) is refused at upload with OpenAI's 400."""
        api = FakeBatchAPI()
        sdk = client(api)
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.files.create(file=(name, content), purpose="batch")
        expected = openai_error("Invalid file format for Batch API. Must be .jsonl")
        assert error_body(refused.value) == expected

    def test_unknown_purpose(self) -> None:
        """An upload with a purpose OpenAI does not know is a 400 naming the parameter."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="nope")  # type: ignore[arg-type]
        assert (refused.value.code, refused.value.param) == ("invalid_value", "purpose")

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (
                {"endpoint": "/v1/nope"},
                openai_error(
                    "Invalid value: '/v1/nope'. Supported values are: "
                    + ", ".join(f"'{e}'" for e in sorted(ENDPOINTS)[:-1])
                    + f", and '{sorted(ENDPOINTS)[-1]}'.",
                    "endpoint",
                    "invalid_value",
                ),
            ),
            (
                {"completion_window": "48h"},
                openai_error(
                    "Invalid value: '48h'. Supported values are: '24h'.",
                    "completion_window",
                    "invalid_value",
                ),
            ),
            (
                {"input_file_id": "wrong-id"},
                openai_error(
                    "Invalid 'input_file_id': 'wrong-id'. Expected an ID that begins with 'file'.",
                    "input_file_id",
                    "invalid_value",
                ),
            ),
            (
                {"metadata": {"tags": ["a"]}},
                openai_error(
                    "Invalid type for 'metadata.tags': expected a string, but got an array"
                    " instead.",
                    "metadata.tags",
                    "invalid_type",
                ),
            ),
        ],
        ids=["endpoint", "window", "file-id", "metadata-type"],
    )
    def test_bad_creates(self, change: dict[str, Any], expected: dict[str, Any]) -> None:
        """A create the API refuses is a 400 with OpenAI's body, and makes no batch."""
        api = FakeBatchAPI()
        sdk = client(api)
        upload = sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="batch")
        params = {"input_file_id": upload.id, "endpoint": ENDPOINT, "completion_window": "24h"}
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.batches.create(**{**params, **change})
        assert error_body(refused.value) == expected
        assert api.batches() == []

    def test_metadata_limits(self) -> None:
        """Metadata past OpenAI's limits (17 pairs) is a 400, and makes no batch."""
        api = FakeBatchAPI()
        sdk = client(api)
        upload = sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="batch")
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.batches.create(
                input_file_id=upload.id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={f"k{i}": "v" for i in range(17)},
            )
        assert (refused.value.code, refused.value.param) == ("invalid_value", "metadata")
        assert api.batches() == []

    def test_missing_parameter(self) -> None:
        """A create without a required parameter is a 400 naming it."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.post("/batches", body={"endpoint": ENDPOINT}, cast_to=dict)
        assert error_body(refused.value) == openai_error(
            "Missing required parameter: 'input_file_id'.",
            "input_file_id",
            "missing_required_parameter",
        )

    def test_unknown_input_file_fails_the_batch(self) -> None:
        """A batch whose input file does not exist is created, then fails validation with
        OpenAI's invalid_request error on ``file_id``."""
        api = FakeBatchAPI()
        sdk = client(api)
        batch = sdk.batches.create(
            input_file_id="file-nope", endpoint=ENDPOINT, completion_window="24h"
        )
        last = poll(api, sdk, batch)[-1]
        assert last.status == "failed"
        assert last.errors is not None
        assert last.errors.data
        [error] = last.errors.data
        assert (error.code, error.param, error.line) == ("invalid_request", "file_id", None)
        assert error.message.startswith("Cannot find file file-nope, or organization ")

    @pytest.mark.parametrize(
        ("limit", "message", "code"),
        [
            (-1, "integer below minimum value. Expected a value >= 0, but got -1",
             "integer_below_min_value"),
            (101, "integer above maximum value. Expected a value <= 100, but got 101",
             "integer_above_max_value"),
        ],
    )  # fmt: skip
    def test_bad_limit(self, limit: int, message: str, code: str) -> None:
        """A page size outside 0..100 is a 400 with OpenAI's message."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.batches.list(limit=limit)
        assert error_body(refused.value) == openai_error(
            f"Invalid 'limit': {message} instead.", "limit", code
        )

    def test_unknown_after(self) -> None:
        """Listing after a batch id the API does not know is a 404 naming it."""
        api = FakeBatchAPI()
        sdk = client(api)
        submit(api, sdk)
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.batches.list(after="batch_nope")
        assert error_body(refused.value) == openai_error("No batch found with id 'batch_nope'.")

    def test_unknown_route(self) -> None:
        """A route the API does not have is a 404 naming it."""
        sdk = client(FakeBatchAPI())
        with pytest.raises(openai.NotFoundError, match=r"Invalid URL \(GET /v1/models\)"):
            sdk.models.list()


class TestAsyncClient:
    """The async openai client, through async_transport(): cancels in every status,
    pagination and errors answer as for the sync client."""

    @pytest.mark.parametrize(
        ("fate", "wait", "before", "after"),
        [
            (Fate(running=60, finalizing=600), 0, "validating", "cancelling"),
            (Fate(running=60, finalizing=600), 20, "in_progress", "cancelling"),
            (Fate(running=60, finalizing=600), 100, "finalizing", "cancelling"),
            (Fate.cancelled(after=0, cancelling=600), 10, "cancelling", "cancelling"),
            (Fate.cancelled(after=0), 3_600, "cancelled", "cancelled"),
        ],
        ids=["validating", "in_progress", "finalizing", "cancelling", "cancelled"],
    )
    def test_cancel_in_each_open_status(
        self, fate: Fate, wait: int, before: str, after: str
    ) -> None:
        """A cancel while the batch is not finished is accepted; the batch then ends
        cancelled, and every object validates and the history passes check_history."""

        async def run() -> list[dict[str, Any]]:
            api = FakeBatchAPI(fate=fate)
            sdk = async_client(api)
            upload = await sdk.files.create(file=("in.jsonl", jsonl(4)), purpose="batch")
            batch = await sdk.batches.create(
                input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
            )
            api.advance(wait)
            polls = [served(batch), served(await sdk.batches.retrieve(batch.id))]
            assert polls[-1]["status"] == before
            polls.append(served(await sdk.batches.cancel(batch.id)))
            assert polls[-1]["status"] == after
            while polls[-1]["status"] not in FINAL:
                api.advance(60)
                polls.append(served(await sdk.batches.retrieve(batch.id)))
            return polls

        polls = asyncio.run(run())
        assert polls[-1]["status"] == "cancelled"
        assert batchfsm.check_history(polls, profile="openai").ok

    @pytest.mark.parametrize("fate", [Fate(), Fate.fails_validation(), Fate.expires()])
    def test_cancel_a_finished_batch(self, fate: Fate) -> None:
        """A completed, failed or expired batch is answered 409 and stays as it was."""

        async def run() -> None:
            api = FakeBatchAPI(fate=fate)
            sdk = async_client(api)
            upload = await sdk.files.create(file=("in.jsonl", jsonl(2)), purpose="batch")
            batch = await sdk.batches.create(
                input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
            )
            api.advance(3 * 86_400)
            last = await sdk.batches.retrieve(batch.id)
            with pytest.raises(openai.ConflictError) as refused:
                await sdk.batches.cancel(batch.id)
            message = f"Cannot cancel a batch with status '{last.status}'."
            assert error_body(refused.value) == openai_error(message)
            assert await sdk.batches.retrieve(batch.id) == last

        asyncio.run(run())

    def test_250_batches(self) -> None:
        """Async auto-pagination over 250 batches sees each once, newest first."""

        async def run() -> tuple[list[str], list[str]]:
            api = FakeBatchAPI()
            sdk = async_client(api)
            upload = await sdk.files.create(file=("in.jsonl", jsonl(1)), purpose="batch")
            made = [
                (
                    await sdk.batches.create(
                        input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
                    )
                ).id
                for _ in range(250)
            ]
            listed = [b.id async for b in sdk.batches.list(limit=100)]
            return made, listed

        made, listed = asyncio.run(run())
        assert listed == made[::-1]

    def test_errors(self) -> None:
        """Unknown ids, a bad upload, a bad create and a bad limit get OpenAI's answers."""

        async def run() -> None:
            sdk = async_client(FakeBatchAPI())
            with pytest.raises(openai.NotFoundError) as missing:
                await sdk.batches.retrieve("batch_nope")
            assert error_body(missing.value) == openai_error("No batch found with id 'batch_nope'.")
            with pytest.raises(openai.NotFoundError) as missing:
                await sdk.files.content("file-nope")
            assert error_body(missing.value) == openai_error("No such File object: file-nope", "id")
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.files.create(file=("in.jsonl", b"{nope\n"), purpose="batch")
            expected = openai_error("Invalid file format for Batch API. Must be .jsonl")
            assert error_body(refused.value) == expected
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.batches.create(
                    input_file_id="file-x",
                    endpoint=ENDPOINT,
                    completion_window="48h",  # type: ignore[arg-type]
                )
            assert (refused.value.code, refused.value.param) == (
                "invalid_value",
                "completion_window",
            )
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.batches.list(limit=101)
            assert refused.value.code == "integer_above_max_value"

        asyncio.run(run())


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

    def test_limit_zero(self) -> None:
        """A page of size 0 is empty and says nothing follows, so no paginator spins."""
        api = FakeBatchAPI()
        sdk = client(api)
        submit(api, sdk)
        page = sdk.batches.list(limit=0)
        assert (page.data, page.has_more) == ([], False)


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
        """Every response validates under the openai profile, and every batch's polls pass
        check_history, whatever the fates, the poll schedule and the cancels thrown in."""
        chosen = iter(fates)
        api = FakeBatchAPI(fate=lambda batch: next(chosen))
        sdk = client(api)
        polls: dict[str, list[dict[str, Any]]] = {}
        for size in sizes[: len(fates)]:
            if size:
                batch = submit(api, sdk, size)
            else:  # a bad line after the first: OpenAI fails the batch while validating
                content = jsonl(1) + b"{not json\n"
                upload = sdk.files.create(file=("in.jsonl", content), purpose="batch")
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
            report = batchfsm.check_history(seen, profile="openai")
            assert report.ok, (batch_id, report.errors)


class TestStore:
    """The API keeps its batches in a batchfsm.store Store when given one."""

    def test_cycle_through_the_store(self, tmp_path: Path) -> None:
        """Every change goes through the store: what the client polls is what the store
        holds, and the store's audit history (stamped in virtual time) passes check_history
        and ends where the client's polls end."""
        clock = ManualClock(1_700_000_000)
        with SQLiteStore(tmp_path / "fake.db", clock=clock) as store:
            api = FakeBatchAPI(clock=clock, store=store, fate=Fate.completes(failing=0.5))
            assert api.store is store
            sdk = client(api)
            polls = [served(b) for b in poll(api, sdk, submit(api, sdk, 4))]
            last = polls[-1]
            assert last["status"] == "completed"
            assert batchfsm.unstructure(store.get(last["id"])) == last
            history = store.history(last["id"])
            assert batchfsm.check_history(history, profile="openai").ok
            assert batchfsm.check_history(polls, profile="openai").ok
            assert history[-1] == last
            changes = store.events(last["id"])
            assert [c.event for c in changes][:2] == ["create", "start"]
            assert all(1_700_000_000 <= c.at <= clock() for c in changes)
            assert len(lines(sdk, last["output_file_id"])) == 2

    def test_cancel_and_refusal_through_the_store(self, tmp_path: Path) -> None:
        """A cancel is applied by the store; cancelling the cancelled batch again changes
        nothing, and a finished batch's refusal (409) writes nothing."""
        clock = ManualClock(1_700_000_000)
        with SQLiteStore(tmp_path / "fake.db", clock=clock) as store:
            api = FakeBatchAPI(clock=clock, store=store)
            sdk = client(api)
            cancelled = submit(api, sdk)
            assert sdk.batches.cancel(cancelled.id).status == "cancelling"
            finished = submit(api, sdk)
            api.advance(3_600)
            assert sdk.batches.retrieve(cancelled.id).status == "cancelled"
            version = store.version(cancelled.id)
            sdk.batches.cancel(cancelled.id)
            assert store.version(cancelled.id) == version
            version = store.version(finished.id)
            with pytest.raises(openai.ConflictError):
                sdk.batches.cancel(finished.id)
            assert store.version(finished.id) == version
            assert store.get(finished.id).status is Status.COMPLETED

    def test_the_stores_lifecycle_drives(self, tmp_path: Path) -> None:
        """The store's Lifecycle makes the batches: its hooks see every change."""
        seen: list[str] = []
        lifecycle = Lifecycle(hooks=[lambda batch, event, *_: seen.append(str(event))])
        with SQLiteStore(tmp_path / "fake.db", lifecycle=lifecycle) as store:
            api = FakeBatchAPI(store=store)
            assert api.lifecycle is lifecycle
            sdk = client(api)
            poll(api, sdk, submit(api, sdk, 2))
        assert seen[0] == "create"
        assert seen[-1] == "complete"

    def test_store_arguments(self, tmp_path: Path) -> None:
        """A store that is no Store, or a profile given with a store, is an ArgumentError."""
        with pytest.raises(ArgumentError):
            FakeBatchAPI(store=object())  # type: ignore[arg-type]
        with SQLiteStore(tmp_path / "fake.db") as store, pytest.raises(ArgumentError):
            FakeBatchAPI(store=store, profile="strict")
        assert FakeBatchAPI().store is None


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

    def test_docs_curl_example(self, tmp_path: Path) -> None:
        """The curl lines of docs/fake-api.md, run against the fake served over HTTP (the
        sleep in virtual time), answer what the comment under each says."""
        api = FakeBatchAPI(fate=Fate.completes())
        with served_over_http(api) as url:
            for command, expected in doc_commands():
                if command.startswith("batchfsm serve"):
                    continue  # the server is up already
                if command.startswith("sleep "):
                    api.advance(int(command.split()[1]))
                    continue
                shell = command.replace("http://127.0.0.1:8000", url)
                done = subprocess.run(
                    ["sh", "-c", shell], cwd=tmp_path, capture_output=True, text=True, timeout=60
                )
                assert done.returncode == 0, (command, done.stderr)
                if expected is None:
                    continue
                answer = json.loads(done.stdout.splitlines()[0])
                found = set(flat(answer))
                for key, value in re.findall(r'"(\w+)":("[^"]*"|-?\d+|null)', expected):
                    want = json.loads(value)
                    if isinstance(want, str) and want.endswith("..."):
                        hits = [v for k, v in found if k == key and isinstance(v, str)]
                        assert any(v.startswith(want[:-3]) for v in hits), (command, key)
                    else:
                        assert (key, want) in found, (command, key, want, answer)


def doc_commands() -> list[tuple[str, str | None]]:
    """The commands of the sh block under "As a local server" in docs/fake-api.md, each with
    the comment line that follows it (the answer it shows), if any."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "fake-api.md").read_text()
    section = text.split("## As a local server", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands: list[tuple[str, str | None]] = []
    for line in block.splitlines():
        if line.startswith("# "):
            commands[-1] = (commands[-1][0], line[2:])
        elif line.strip():
            commands.append((line, None))
    assert any(c.startswith("curl ") for c, _ in commands)
    return commands


def flat(value: object) -> Iterator[tuple[str, Any]]:
    """Every (key, scalar value) pair in a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                yield from flat(item)
            else:
                yield key, item
    elif isinstance(value, list):
        for item in value:
            yield from flat(item)


@contextlib.contextmanager
def served_over_http(api: FakeBatchAPI) -> Iterator[str]:
    """The fake's ASGI application served by uvicorn on a free local port, in a thread."""
    import uvicorn

    listener = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(api.asgi, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
