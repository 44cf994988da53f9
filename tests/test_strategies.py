"""The Hypothesis strategies: every output valid (or broken exactly as promised)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import batchfsm
from batchfsm import ArgumentError, Batch, Status
from batchfsm import strategies as bst
from batchfsm._catalog import CODES
from batchfsm._table import TRANSITIONS


class TestBatches:
    @given(bst.batches())
    def test_valid(self, batch: Batch) -> None:
        """Every generated batch validates with no error."""
        assert batchfsm.validate(batch).errors == ()

    @pytest.mark.parametrize("status", list(Status), ids=str)
    @given(data=st.data())
    def test_each_status(self, status: Status, data: st.DataObject) -> None:
        """batches(status=...) gives batches in that status, valid under strict too."""
        batch = data.draw(bst.batches(status=status, profile="strict"))
        assert batch.status is status
        assert batchfsm.validate(batch, profile="strict").errors == ()

    @given(st.from_type(Batch))
    def test_registered_for_from_type(self, batch: Batch) -> None:
        """st.from_type(Batch) gives valid batches through the hypothesis entry point."""
        assert batchfsm.validate(batch).errors == ()

    def test_unknown_profile(self) -> None:
        """An unknown profile is an ArgumentError at once."""
        with pytest.raises(ArgumentError):
            bst.batches(profile="azure")


class TestPayloads:
    @given(bst.payloads())
    def test_valid_and_lossless(self, payload: dict[str, Any]) -> None:
        """Generated payloads validate and round-trip through the codec unchanged."""
        assert batchfsm.validate(payload).errors == ()
        assert batchfsm.unstructure(batchfsm.structure(payload)) == payload

    @given(bst.payloads(as_bytes=True, unknown_keys=False, absent_keys=False))
    def test_as_bytes(self, payload: bytes) -> None:
        """as_bytes gives UTF-8 JSON text with every key present."""
        wire = json.loads(payload)
        assert "cancelled_at" in wire
        assert batchfsm.validate(payload).ok


class TestInvalidPayloads:
    @given(bst.invalid_payloads())
    def test_each_reports_its_code(self, pair: tuple[Any, str]) -> None:
        """Each broken payload is reported with the code it was built to break."""
        payload, code = pair
        catalog = CODES[code]
        if catalog.history:
            report = batchfsm.check_history(payload, profile=catalog.profile)
        else:
            report = batchfsm.validate(payload, profile=catalog.profile)
        assert code in {v.code for v in report.violations}

    @pytest.mark.parametrize("code", list(CODES))
    @given(data=st.data())
    def test_every_code_reachable(self, code: str, data: st.DataObject) -> None:
        """Every catalogued code can be asked for by name, and is reported."""
        payload, drawn = data.draw(bst.invalid_payloads(code=code))
        assert drawn == code
        catalog = CODES[code]
        check = batchfsm.check_history if catalog.history else batchfsm.validate
        assert code in {v.code for v in check(payload, profile=catalog.profile).violations}

    def test_unknown_code(self) -> None:
        """Asking for a code that does not exist is an ArgumentError."""
        with pytest.raises(ArgumentError):
            bst.invalid_payloads(code="nope")


class TestHistories:
    @given(bst.histories())
    def test_accepted(self, snapshots: list[dict[str, Any]]) -> None:
        """Generated histories pass check_history."""
        assert batchfsm.check_history(snapshots).errors == ()

    @given(bst.histories(profile="strict"))
    def test_strict_histories_use_documented_edges(self, snapshots: list[dict[str, Any]]) -> None:
        """Under strict, consecutive statuses are joined by documented edges only."""
        assert batchfsm.check_history(snapshots, profile="strict").errors == ()

    @given(bst.event_sequences())
    def test_event_sequences(self, events: list[str]) -> None:
        """event_sequences draws names the engine knows."""
        assert set(events) <= {t.event for t in TRANSITIONS} | {"record_progress"}


def test_importing_batchfsm_does_not_import_hypothesis() -> None:
    """The strategies live in their own module: `import batchfsm` stays Hypothesis-free."""
    code = "import sys, batchfsm; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_strategies_import_first_in_a_fresh_interpreter() -> None:
    """`import batchfsm.strategies` works before anything imported Hypothesis."""
    code = "import batchfsm.strategies as s; print(s.batches.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "batches"), result.stderr
