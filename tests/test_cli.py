"""The ``batchfsm roundtrip`` command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batchfsm._cli import main

ROOT = Path(__file__).parent.parent
PAYLOADS = Path(__file__).parent / "payloads"


def test_roundtrip_of_canonical_payloads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Canonical payloads round-trip: exit 0, one ok line each."""
    for path in sorted(PAYLOADS.glob("00[1-4]_*.json")):
        shutil.copy(path, tmp_path)
    assert main(["roundtrip", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert all(": ok (batch_abc123, " in line for line in lines)


def test_roundtrip_reports_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad payload exits 1 and names file, path, message and code."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "batch_1"}))
    assert main(["roundtrip", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: $.status: missing required key 'status' [field.missing]" in out


def test_compat_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    """Under compat, an Azure payload is ok and its normalisations are printed as warnings."""
    path = PAYLOADS / "011_validating_azure-docs-python-failfast.json"
    assert main(["roundtrip", "--profile", "compat", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: $.output_file_id" in out
    assert "[compat.file_id_empty]" in out


def test_unreadable_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that cannot be read exits 2 with a message, not a traceback."""
    assert main(["roundtrip", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_installed_command_runs_the_examples() -> None:
    """The installed `batchfsm` command (as the README runs it) passes on examples/."""
    command = shutil.which("batchfsm")
    args = [command] if command else [sys.executable, "-m", "batchfsm"]
    result = subprocess.run(
        [*args, "roundtrip", "--profile", "compat", str(ROOT / "examples")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok (") == len(list((ROOT / "examples").rglob("*.json")))


def test_python_dash_m(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m batchfsm` runs the same command and exits with its status."""
    import runpy

    monkeypatch.setattr(
        sys,
        "argv",
        ["batchfsm", "roundtrip", str(PAYLOADS / "002_completed_openapi-retrieve.json")],
    )
    with pytest.raises(SystemExit) as info:
        runpy.run_module("batchfsm", run_name="__main__")
    assert info.value.code == 0
    assert ": ok (batch_abc123, completed)" in capsys.readouterr().out
