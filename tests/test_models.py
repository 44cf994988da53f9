"""Pydantic models of the official SDKs read as the wire object they were made from: by
`validate`, `loads`, `from_provider` and `check_history`, without batchfsm importing any SDK."""

from __future__ import annotations

import contextlib
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, Optional

import openai
import pydantic
import pytest
from openai.types import Batch as OpenAIBatch

import batchfsm
from batchfsm import ArgumentError, PayloadError

PAYLOADS = Path(__file__).parent / "payloads"
# The OpenAI-shaped samples of one batch object (some are histories).
OPENAI_PAYLOADS = [
    path
    for path in sorted(PAYLOADS.glob("0*.json"))
    if isinstance(json.loads(path.read_bytes()), dict)
]
ANTHROPIC = sorted((PAYLOADS / "providers" / "anthropic").glob("*.json"))
PROFILES = ("strict", "openai", "compat")


# Anthropic's SDK is not installed here. Its models derive from the same generated base as
# openai's (`BaseModel`: extra keys allowed, `to_dict()` = model_dump(mode="json",
# by_alias=True, exclude_unset=True)); these mirror anthropic.types.messages.MessageBatch
# and MessageBatchRequestCounts field for field (anthropic-sdk-python,
# src/anthropic/types/messages/message_batch.py).
class MessageBatchRequestCounts(openai.BaseModel):
    canceled: int
    errored: int
    expired: int
    processing: int
    succeeded: int


class MessageBatch(openai.BaseModel):
    id: str
    archived_at: Optional[datetime.datetime] = None  # noqa: UP045 - as the SDK spells it
    cancel_initiated_at: Optional[datetime.datetime] = None  # noqa: UP045
    created_at: datetime.datetime
    ended_at: Optional[datetime.datetime] = None  # noqa: UP045
    expires_at: datetime.datetime
    processing_status: Literal["in_progress", "canceling", "ended"]
    request_counts: MessageBatchRequestCounts
    results_url: Optional[str] = None  # noqa: UP045
    type: Literal["message_batch"]


def _openai_models(payload: dict[str, Any]) -> list[OpenAIBatch]:
    """The payload as the SDK makes it from a response (`construct`, unvalidated), and as
    `model_validate` makes it when it validates."""
    models = [OpenAIBatch.construct(**payload)]
    # Azure's spellings do not validate: the SDK keeps them, unvalidated, as constructed.
    with contextlib.suppress(pydantic.ValidationError):
        models.append(OpenAIBatch.model_validate(payload))
    return models


def _decoded(data: Any, profile: str) -> Any:
    """What loads makes of `data`: a Batch, or the violations of its PayloadError."""
    try:
        return batchfsm.loads(data, profile=profile)
    except PayloadError as error:
        return error.violations


def _snapshots(path: Path) -> list[dict[str, Any]]:
    value = json.loads(path.read_bytes())
    return value if isinstance(value, list) else [value]


class TestOpenAIBatch:
    @pytest.mark.parametrize("path", OPENAI_PAYLOADS, ids=lambda p: p.name)
    def test_validate_reads_the_model_as_its_payload(self, path: Path) -> None:
        """validate of an openai.types.Batch reports what it reports for the payload the
        model was made from, under every profile."""
        payload = json.loads(path.read_bytes())
        for model in _openai_models(payload):
            for profile in PROFILES:
                assert batchfsm.validate(model, profile=profile) == batchfsm.validate(
                    payload, profile=profile
                )

    @pytest.mark.parametrize("path", OPENAI_PAYLOADS, ids=lambda p: p.name)
    def test_loads_reads_the_model_as_its_text(self, path: Path) -> None:
        """loads of the model decodes what loads of the payload's text decodes, or refuses
        it with the same problems, under every profile; dumps writes the payload back."""
        text = path.read_bytes()
        for model in _openai_models(json.loads(text)):
            for profile in PROFILES:
                expected = _decoded(text, profile)
                assert _decoded(model, profile) == expected
                if isinstance(expected, batchfsm.Batch):
                    assert batchfsm.dumps(expected) == batchfsm.dumps(_decoded(model, profile))

    @pytest.mark.parametrize("path", OPENAI_PAYLOADS, ids=lambda p: p.name)
    def test_from_provider_and_history_read_the_model(self, path: Path) -> None:
        """from_provider and check_history read the model as its payload."""
        payload = json.loads(path.read_bytes())
        for model in _openai_models(payload):
            assert batchfsm.from_provider(model) == batchfsm.from_provider(payload)
            assert batchfsm.check_history([model, model], profile="compat") == (
                batchfsm.check_history([payload, payload], profile="compat")
            )

    def test_a_model_built_in_code_gives_only_its_fields(self) -> None:
        """A Batch built in code is read with the keys it was given: an optional field left
        out stays omitted, and an unknown key is kept."""
        payload = json.loads(OPENAI_PAYLOADS[1].read_bytes())
        del payload["metadata"]
        model = OpenAIBatch(**{**payload, "x_tenant": "acme"})
        report = batchfsm.validate(model)
        assert report.ok, report.violations
        assert report.batch is not None
        assert {"metadata", "usage", "model"} <= report.batch.omitted
        assert report.batch.extra == {"x_tenant": "acme"}
        assert batchfsm.unstructure(report.batch) == {**payload, "x_tenant": "acme"}


class TestAnthropicMessageBatch:
    @pytest.mark.parametrize("path", ANTHROPIC, ids=lambda p: p.name)
    def test_dumps_as_the_published_object(self, path: Path) -> None:
        """The model made from each published object dumps as that object exactly, its
        times too: what batchfsm reads, and keeps, is the wire object."""
        for native in _snapshots(path):
            for model in (MessageBatch.model_validate(native), MessageBatch.construct(**native)):
                report = batchfsm.from_provider(model)
                assert report == batchfsm.from_provider(native)
                assert report.batch is not None
                assert batchfsm.to_provider(report.batch, "anthropic") == native


class _Aliased(pydantic.BaseModel):
    """A model whose field is spelt otherwise on the wire (Mistral's SDK: ``OBJECT``)."""

    model_config = pydantic.ConfigDict(extra="allow", populate_by_name=True)
    object_: str = pydantic.Field(alias="object")


class _Bare:
    """Not pydantic: a model_dump that takes `mode` alone."""

    def __init__(self, value: object) -> None:
        self.value = value

    def model_dump(self, mode: str = "python") -> object:
        assert mode == "json"
        return self.value


class _Broken:
    """A model whose model_dump raises."""

    def model_dump(self, **_: object) -> object:
        raise RuntimeError("the serializer is broken")


class TestAnyModel:
    def test_fields_are_read_by_their_wire_names(self) -> None:
        """A field with an alias is read under its alias, the other keys as given."""
        payload = json.loads(OPENAI_PAYLOADS[1].read_bytes())
        model = _Aliased(**payload)  # "object" fills object_, the rest are extra
        assert batchfsm.validate(model) == batchfsm.validate(payload)

    def test_a_model_dump_without_pydantics_keywords(self) -> None:
        """A model_dump that takes only `mode` is read too."""
        payload = json.loads(OPENAI_PAYLOADS[1].read_bytes())
        assert batchfsm.validate(_Bare(payload)) == batchfsm.validate(payload)
        assert batchfsm.from_provider(_Bare(payload)) == batchfsm.from_provider(payload)

    def test_a_model_that_dumps_no_object_is_reported(self) -> None:
        """A model whose wire value is not an object is json.not_object, as such text is."""
        assert batchfsm.validate(_Bare([1])) == batchfsm.validate(b"[1]")
        assert [v.code for v in batchfsm.from_provider(_Bare([1])).violations] == [
            "json.not_object"
        ]
        with pytest.raises(PayloadError) as info:
            batchfsm.loads(_Bare([1]))  # type: ignore[arg-type]
        assert [v.code for v in info.value.violations] == ["json.not_object"]

    @pytest.mark.parametrize(
        "call",
        [
            batchfsm.validate,
            batchfsm.from_provider,
            batchfsm.loads,
            lambda data: batchfsm.check_history([data]),
        ],
        ids=["validate", "from_provider", "loads", "check_history"],
    )
    def test_a_failing_model_dump_is_an_argument_error(self, call: Any) -> None:
        """A model_dump that raises is an ArgumentError naming the model and what it raised,
        its exception the cause."""
        with pytest.raises(ArgumentError) as info:
            call(_Broken())
        assert info.value.argument == "data"
        assert info.value.reason == (
            "_Broken.model_dump(mode='json') raised RuntimeError: the serializer is broken"
        )
        assert isinstance(info.value.__cause__, RuntimeError)

    def test_other_objects_are_still_refused(self) -> None:
        """An object with no model_dump, or whose model_dump is no method, is refused as
        before; a model class is no model."""
        for data in (object(), type("Odd", (), {"model_dump": 3})(), OpenAIBatch):
            with pytest.raises(ArgumentError):
                batchfsm.validate(data)

    def test_no_sdk_is_imported(self) -> None:
        """Reading a model imports neither pydantic nor an SDK into a process that had
        none."""
        code = (
            "import sys, batchfsm\n"
            "class M:\n"
            "    def model_dump(self, **kw): return {'id': 'x'}\n"
            "batchfsm.validate(M()); batchfsm.from_provider(M())\n"
            "print(sorted(m for m in ('pydantic', 'openai', 'anthropic') if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"
