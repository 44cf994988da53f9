"""Fuzzing: whatever arrives, the answer is a value, a report or a documented BatchfsmError.

Four sources of input: arbitrary bytes, arbitrary text, arbitrary JSON values, and valid
payloads (from the package's own strategies) mutated at the value, key and byte level. They
go to `loads`, `structure`, `validate`, `check_history` and the command. A fifth, records
changed by hand, goes to `dumps`, `unstructure`, `validate` and the engine. With the CI profile
each test draws 100 inputs; the long run (docs/guarantees.md) selects the ``fuzz`` profile::

    BATCHFSM_HYPOTHESIS_PROFILE=fuzz BATCHFSM_FUZZ_EXAMPLES=200000 pytest tests/test_fuzz.py
"""

from __future__ import annotations

import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import Batch, BatchfsmError, PayloadError, Report
from batchfsm import strategies as bst
from batchfsm._cli import main

from helpers.hand_changed import hand_changed_batches
from helpers.payloads import json_values, wire_batches

# Every test here is a fuzz test: left out of a quick run with `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

PROFILES = st.sampled_from(batchfsm.PROFILES)

# --- inputs ---------------------------------------------------------------------------------

arbitrary_bytes = st.binary(max_size=600)
arbitrary_text = st.text(max_size=300)


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A valid payload (engine-made, or any type-correct one) with a few keys broken."""
    payload: dict[str, Any] = draw(bst.payloads() | wire_batches())
    for _ in range(draw(st.integers(1, 4))):
        target = payload
        # Now and then go one level down, into request_counts, usage, errors or metadata.
        nested = [k for k, v in payload.items() if isinstance(v, dict) and v]
        go_down = draw(st.booleans())
        if nested and go_down:
            target = payload[draw(st.sampled_from(sorted(nested)))]
        key = draw(st.sampled_from(sorted(target))) if target else "id"
        action = draw(st.sampled_from(["replace", "delete", "rename", "nest", "extreme"]))
        if action == "replace":
            target[key] = draw(json_values)
        elif action == "delete":
            target.pop(key, None)
        elif action == "rename":
            target[draw(st.text(max_size=12))] = target.pop(key, None)
        elif action == "nest":
            target[key] = {"": target.get(key), "x": [target.get(key)]}
        else:
            target[key] = draw(
                st.sampled_from(
                    [2**63, -(2**63) - 1, 2**70, 1e300, -0.0, "", "\x00", "\ud800", True, [], {}]
                )
            )
    return payload


@st.composite
def mutated_text(draw: st.DrawFn) -> bytes:
    """The JSON text of a mutated payload, then broken at the byte level."""
    text = json.dumps(draw(mutated_payloads()), ensure_ascii=draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 3))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        if action == "flip":
            raw = raw[:at] + bytes([raw[at] ^ (1 << draw(st.integers(0, 7)))]) + raw[at + 1 :]
        elif action == "cut":
            raw = raw[:at]
        elif action == "insert":
            raw = (
                raw[:at]
                + draw(st.sampled_from([b"{", b"]", b",", b'"', b"\\", b"\xff"]))
                + raw[at:]
            )
        else:
            raw = raw[:at] + raw[at : at + 20] * 2 + raw[at + 20 :]
    return raw


any_text = arbitrary_bytes | arbitrary_text | mutated_text()
any_value = json_values | mutated_payloads()


# --- what every answer must be --------------------------------------------------------------


def unencodable(value: Any) -> bool:
    """Whether `value` holds, at any depth, a string no UTF-8 text can carry (a lone
    surrogate). Bytes never decode to one."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(unencodable(key) or unencodable(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(unencodable(item) for item in value)
    return False


def check_batch(batch: Batch, source: Any) -> None:
    """A decoded batch is lossless: encoding and decoding it again gives it back. Only a
    Python value handed to `structure` can hold a string JSON cannot: then `dumps` refuses
    it with encode.unsupported."""
    assert isinstance(batch, Batch)
    try:
        text = batchfsm.dumps(batch)
    except PayloadError as error:
        codes = [v.code for v in error.violations]
        assert codes == ["encode.unsupported"]
        assert not isinstance(source, (bytes, str))
        assert unencodable(source)
        return
    assert batchfsm.loads(text, profile="compat") == batch


def check_report(report: Report, source: Any) -> None:
    """A report is well formed: serialisable, consistent, and its batch round-trips."""
    assert isinstance(report, Report)
    json.dumps(report.to_dict())
    assert report.ok == (report.errors == ())
    if report.batch is not None:
        check_batch(report.batch, source)


class TestDecoding:
    @given(any_text, PROFILES)
    def test_loads(self, data: bytes | str, profile: str) -> None:
        """loads answers any text with a lossless Batch or a PayloadError."""
        try:
            batch = batchfsm.loads(data, profile=profile)
        except PayloadError as error:
            problems = error.violations
        else:
            check_batch(batch, data)
            return
        assert problems
        assert all(v.path.startswith("$") for v in problems)

    @given(any_value, PROFILES)
    def test_structure(self, value: Any, profile: str) -> None:
        """structure answers any Python value with a Batch or a BatchfsmError."""
        try:
            batch = batchfsm.structure(value, profile=profile)
        except BatchfsmError:
            return
        check_batch(batch, value)


class TestEncoding:
    @given(hand_changed_batches())
    def test_encoders_never_crash(self, batch: Batch) -> None:
        """dumps and unstructure answer any record, however it was changed by hand, with
        text and a wire object, or a PayloadError naming where."""
        for encode in (batchfsm.dumps, batchfsm.unstructure):
            refused: list[str] = []
            try:
                out = encode(batch)
            except PayloadError as error:
                refused = [v.code for v in error.violations]
            else:
                assert isinstance(out, str if encode is batchfsm.dumps else dict)
            assert refused in ([], ["encode.unsupported"])


# What a scheduler calls on a batch: the events, the progress call, the query and the sweep.
DRIVER_CALLS = st.sampled_from([*batchfsm.EVENTS, "record_progress", "allowed_events", "sweep"])


class TestDriving:
    @given(hand_changed_batches(), DRIVER_CALLS, st.data())
    def test_events_never_crash(self, batch: Batch, event: str, data: st.DataObject) -> None:
        """Every event, the progress call and the sweep answer any record, however it was
        changed by hand, by acting or with a BatchfsmError."""
        lifecycle = batchfsm.Lifecycle(lambda: 1_800_000_000)
        by_event: dict[str, dict[str, Any]] = {
            "start": {"total": data.draw(st.integers(0, 5))},
            "fail": {"errors": [batchfsm.BatchError(code="x")]},
            "complete": {"output_file_id": "file-out", "error_file_id": "file-err"},
            "record_progress": {"completed": data.draw(st.integers(0, 2))},
        }
        arguments = by_event.get(event, {})
        try:
            if event == "sweep":
                lifecycle.expire_overdue([batch])
            elif event == "allowed_events":
                lifecycle.allowed_events(batch)
            else:
                lifecycle.fire(batch, event, **arguments)
        except BatchfsmError:
            pass


class TestValidating:
    @given(any_text | any_value, PROFILES)
    def test_validate_never_raises(self, data: Any, profile: str) -> None:
        """validate answers text and mappings with a report, whatever they hold."""
        if not isinstance(data, (bytes, str, dict)):
            data = json.dumps(data)  # validate takes text and mappings, not bare values
        check_report(batchfsm.validate(data, profile=profile), data)

    @given(st.lists(any_text | mutated_payloads(), max_size=4), PROFILES)
    def test_check_history_never_raises(self, snapshots: list[Any], profile: str) -> None:
        """check_history answers any sequence of snapshots with a report."""
        report = batchfsm.check_history(snapshots, profile=profile)
        # The report's batch is the last snapshot that decoded, which may be any of them.
        check_report(report, snapshots)


class TestCommand:
    @given(st.lists(any_text, min_size=1, max_size=3), st.booleans(), st.booleans())
    def test_validate_command(
        self, documents: list[bytes | str], history: bool, lines: bool
    ) -> None:
        """The command answers any file with exit status 0 or 1, or 2 saying it found no
        payload in it, and never an internal error."""
        raw = [d.encode("utf-8", "surrogatepass") if isinstance(d, str) else d for d in documents]
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / ("input.jsonl" if lines else "input.json")
            path.write_bytes(b"\n".join(raw))
            args = ["validate", "--format", "jsonl", *(["--history"] * history), str(path)]
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                status = main(args)
        assert status in (0, 1, 2), err.getvalue()
        if status == 2:  # nothing to validate: blank text, or `[]`
            assert err.getvalue().startswith("batchfsm: no payloads in "), err.getvalue()
        else:
            assert err.getvalue() == ""
        # Records are separated by "\n" alone: str.splitlines would also cut at a U+0085 or
        # U+2028 inside a string, which JSON (and orjson) leaves unescaped.
        for line in out.getvalue().split("\n")[:-1]:
            json.loads(line)
