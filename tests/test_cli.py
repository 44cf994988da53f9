"""The ``batchfsm`` command: validate, roundtrip and diagram, in process and installed."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import batchfsm
from batchfsm._cli import main

ROOT = Path(__file__).parent.parent
PAYLOADS = Path(__file__).parent / "payloads"


VALID = ROOT / "examples" / "valid"
CLEAN = PAYLOADS / "002_completed_openapi-retrieve.json"
MISSING_STAMP = PAYLOADS / "008_completed_azure-docs-python.json"
# Generous: a run that has not ended by then hangs (the machine may be busy, never this slow).
TIMEOUT = 120


def batchfsm_command() -> list[str]:
    """The console script installed next to this interpreter (what a user runs)."""
    script = Path(sys.executable).parent / "batchfsm"
    found = str(script) if script.exists() else shutil.which("batchfsm")
    assert found, "the batchfsm command is not installed"
    return [found]


def run(
    *args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    data = stdin.decode() if isinstance(stdin, bytes) else stdin
    return subprocess.run(
        [*batchfsm_command(), *args],
        input=data,
        capture_output=True,
        text=True,
        check=False,
        stdin=None if data is not None else subprocess.DEVNULL,
        env=None if env is None else {**os.environ, **env},
        timeout=TIMEOUT,
    )


def line_of(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def clean_payload() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(CLEAN.read_bytes())
    return payload


def polls(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Snapshots of the clean payload, each with some keys changed."""
    return [{**clean_payload(), **change} for change in changes]


PROVIDER_SAMPLES = PAYLOADS / "providers"


class TestProvider:
    def test_default_is_openai_validation(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without --provider a native object is judged as an OpenAI payload, as before."""
        native = PROVIDER_SAMPLES / "mistral" / "002_QUEUED_cookbook-create.json"
        assert main(["validate", str(native)]) == 1
        assert "[field.missing]" in capsys.readouterr().out

    @pytest.mark.parametrize("provider", ["auto", "mistral"])
    def test_a_native_object_is_read(
        self, provider: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--provider NAME or auto reads a native object as from_provider does: exit 0 for
        a consistent one, with its OpenAI status on the ok line."""
        native = PROVIDER_SAMPLES / "mistral" / "003_SUCCESS_cookbook-get.json"
        assert main(["validate", "--provider", provider, str(native)]) == 0
        out = capsys.readouterr().out
        assert f"{native}: ok (5befe8c6-b8cb-4858-a068-d600cf5ed73f, completed)" in out

    def test_reports_are_from_provider_reports(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Each payload's JSON record carries exactly the violations from_provider reports
        under the chosen profile, and an inconsistent native object fails the run."""
        folder = PROVIDER_SAMPLES / "anthropic"
        args = ["validate", "--provider", "anthropic", "--profile", "compat", "--format", "jsonl"]
        assert main([*args, str(folder)]) == 1
        records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        expected = []
        for path in sorted(folder.glob("*.json")):
            value = json.loads(path.read_bytes())
            for item in value if isinstance(value, list) else [value]:
                report = batchfsm.from_provider(item, "anthropic", profile="compat")
                expected.append(report.to_dict()["violations"])
        assert [record["violations"] for record in records] == expected
        assert [record["valid"] for record in records] == [True, True, False, True, True]

    def test_auto_mixes_openai_and_native_payloads(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--provider auto validates an OpenAI payload as it is, beside native ones."""
        native = PROVIDER_SAMPLES / "mistral" / "002_QUEUED_cookbook-create.json"
        assert main(["validate", "--provider", "auto", str(CLEAN), str(native)]) == 0
        assert capsys.readouterr().out.endswith(
            "2 payloads: 2 valid (0 with warnings), 0 invalid\n"
        )

    def test_an_unknown_object_fails(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An object no provider reads fails the run with provider.unknown."""
        path = tmp_path / "x.json"
        path.write_text('{"job": 1}')
        assert main(["validate", "--provider", "auto", str(path)]) == 1
        assert "[provider.unknown]" in capsys.readouterr().out

    def test_usage_errors(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown provider is a usage error (exit 2)."""
        assert main(["validate", "--provider", "openrouter", str(CLEAN)]) == 2
        assert capsys.readouterr().err

    def test_installed_command_takes_provider(self) -> None:
        """The installed command reads a native object from stdin with --provider auto."""
        native = PROVIDER_SAMPLES / "gemini" / "002_BATCH_STATE_SUCCEEDED_delphigemini-get.json"
        result = run("validate", "--provider", "auto", "--quiet", stdin=native.read_bytes())
        assert (result.returncode, result.stdout) == (0, "")


# -- roundtrip -----------------------------------------------------------------------------


class TestRoundtrip:
    def test_roundtrip_of_canonical_payloads(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Canonical payloads round-trip: exit 0, one ok line each, then a summary."""
        for path in sorted(PAYLOADS.glob("00[1-4]_*.json")):
            shutil.copy(path, tmp_path)
        assert main(["roundtrip", str(tmp_path)]) == 0
        *lines, summary = capsys.readouterr().out.splitlines()
        assert len(lines) == 4
        assert all(": ok (batch_abc123, " in line for line in lines)
        assert summary == "4 payloads: 4 ok (0 with warnings), 0 failed"

    def test_roundtrip_reports_violations(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad payload exits 1 and names file, path, message and code."""
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"id": "batch_1"}, indent=2))
        assert main(["roundtrip", str(bad)]) == 1
        out = capsys.readouterr().out
        assert f"{bad}: $.status: missing required key 'status' [field.missing]" in out

    def test_compat_warnings(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Under compat, an Azure payload is ok and its normalisations are printed as warnings."""
        path = PAYLOADS / "011_validating_azure-docs-python-failfast.json"
        assert main(["roundtrip", "--profile", "compat", str(path)]) == 0
        out = capsys.readouterr().out
        assert "warning: $.output_file_id" in out
        assert "[compat.file_id_empty]" in out
        assert out.endswith("\n1 payload: 1 ok (1 with warnings), 0 failed\n")

    def test_unreadable_path(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A path that cannot be read exits 2 with a message, not a traceback."""
        assert main(["roundtrip", str(tmp_path / "missing.json")]) == 2
        assert "cannot read" in capsys.readouterr().err

    def test_an_unreadable_path_does_not_stop_the_run(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After a path that cannot be read, the other paths are still checked; exit 2."""
        assert main(["roundtrip", str(tmp_path / "missing.json"), str(CLEAN)]) == 2
        assert f"{CLEAN}: ok (batch_abc123, completed)" in capsys.readouterr().out

    def test_json_lines_and_arrays_as_validate_reads_them(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """roundtrip reads JSON Lines (a broken line is reported, the run goes on) and arrays."""
        lines = tmp_path / "polls.jsonl"
        good = line_of(clean_payload())
        lines.write_text(f"{good}\n{good[:40]}\n{good}\n")
        array = tmp_path / "list.json"
        array.write_text(json.dumps([clean_payload(), clean_payload()], indent=2))
        assert main(["roundtrip", str(lines), str(array)]) == 1
        out = capsys.readouterr().out.splitlines()
        assert out[0] == f"{lines}:1: ok (batch_abc123, completed)"
        assert out[1].startswith(f"{lines}:2: $: input is not valid JSON")
        assert out[2:] == [
            f"{lines}:3: ok (batch_abc123, completed)",
            f"{array}[0]: ok (batch_abc123, completed)",
            f"{array}[1]: ok (batch_abc123, completed)",
            "5 payloads: 4 ok (0 with warnings), 1 failed",
        ]

    def test_stdin(self) -> None:
        """`roundtrip -` reads stdin, as validate does."""
        result = run("roundtrip", "-", stdin=line_of(clean_payload()))
        assert (result.returncode, result.stdout) == (
            0,
            "-:1: ok (batch_abc123, completed)\n1 payload: 1 ok (0 with warnings), 0 failed\n",
        )

    def test_big_integers_are_compared_exactly(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unknown key's 5,000-digit integer is compared as written, past int's limit."""
        path = tmp_path / "big.json"
        payload = line_of(clean_payload())
        path.write_text(payload[:-1] + ', "x_big": ' + "7" * 5000 + "}")
        assert main(["roundtrip", str(path)]) == 0, capsys.readouterr()

    def test_installed_command_runs_the_examples(self) -> None:
        """The installed `batchfsm` command (as the README runs it) round-trips examples/: every
        payload but the broken JSON line of polls.jsonl."""
        result = run("roundtrip", "--profile", "compat", str(ROOT / "examples"))
        assert result.returncode == 1, result.stdout + result.stderr
        (broken,) = [line for line in result.stdout.splitlines() if ": $: " in line]
        assert broken.startswith(f"{ROOT / 'examples/invalid/polls.jsonl'}:3: $: input is not")
        files = list((ROOT / "examples").rglob("*.json"))
        assert result.stdout.count(": ok (") == len(files) + 2  # and polls.jsonl's lines 1, 2

    def test_python_dash_m(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`python -m batchfsm` runs the same command and exits with its status."""
        import runpy

        monkeypatch.setattr(sys, "argv", ["batchfsm", "roundtrip", str(CLEAN)])
        with pytest.raises(SystemExit) as info:
            runpy.run_module("batchfsm", run_name="__main__")
        assert info.value.code == 0
        assert ": ok (batch_abc123, completed)" in capsys.readouterr().out


# -- validate and diagram, run as the installed command ---------------------------------------


class TestExitStatus:
    def test_valid_payloads_exit_0(self) -> None:
        """A directory of valid payloads exits 0 with an ok line each and a summary."""
        result = run("validate", str(VALID))
        assert result.returncode == 0, result.stdout + result.stderr
        files = sorted(VALID.glob("*.json"))
        assert result.stdout.count(": ok (") == len(files)
        assert result.stdout.splitlines()[-1] == (
            f"{len(files)} payloads: {len(files)} valid (2 with warnings), 0 invalid"
        )

    def test_an_invalid_payload_exits_1(self) -> None:
        """One invalid payload makes the run exit 1."""
        assert run("validate", str(CLEAN), str(MISSING_STAMP)).returncode == 1

    def test_an_unreadable_path_exits_2(self, tmp_path: Path) -> None:
        """A path that does not exist exits 2, names it, and the other paths are still read."""
        result = run("validate", str(tmp_path / "nope.json"), str(CLEAN))
        assert result.returncode == 2
        assert f"cannot read {tmp_path / 'nope.json'}" in result.stderr
        assert ": ok (batch_abc123, completed)" in result.stdout

    def test_a_usage_error_exits_2(self) -> None:
        """An unknown profile is a usage error: exit 2 and argparse's message."""
        result = run("validate", "--profile", "lenient", str(CLEAN))
        assert result.returncode == 2
        assert "invalid choice: 'lenient'" in result.stderr

    def test_no_path_and_no_input_is_a_usage_error(self) -> None:
        """Without a PATH and with stdin a terminal, the command says what it needs."""
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; sys.stdin.isatty = lambda: True; "
                "from batchfsm._cli import main; sys.exit(main(['validate']))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2
        assert "give a PATH, or pipe payloads to stdin" in result.stderr

    def test_garbage_is_reported_not_raised(self, tmp_path: Path) -> None:
        """Binary garbage is an invalid payload with a message, never a traceback."""
        junk = tmp_path / "junk.json"
        junk.write_bytes(bytes(range(256)) * 4)
        result = run("validate", str(junk))
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert f"{junk}: $: input is not valid UTF-8" in result.stdout


class TestFormats:
    def test_text_names_file_line_path_and_code(self, tmp_path: Path) -> None:
        """Text output reads `file.jsonl:N: $.path: message [code]`."""
        path = tmp_path / "polls.jsonl"
        late = {"status": "completed", "finalizing_at": 1711471530}
        path.write_text("\n".join(line_of(p) for p in polls({}, late)) + "\n")
        result = run("validate", str(path))
        assert result.returncode == 1
        assert f"{path}:1: ok (batch_abc123, completed)" in result.stdout
        assert f"{path}:2: $.finalizing_at: finalizing_at 1711471530 is before" in result.stdout
        assert "[stamp.order]" in result.stdout
        summary = "2 payloads: 1 valid (0 with warnings), 1 invalid"
        assert result.stdout.splitlines()[-1] == summary

    def test_json_is_one_document(self) -> None:
        """--format json prints one document with every payload's result."""
        result = run("validate", "--format", "json", str(CLEAN), str(MISSING_STAMP))
        document = json.loads(result.stdout)
        assert (document["ok"], document["payloads"], document["invalid"]) == (False, 2, 1)
        first, second = document["results"]
        assert first == {
            "source": str(CLEAN),
            "line": None,
            "index": None,
            "batch_id": "batch_abc123",
            "valid": True,
            "violations": [],
        }
        assert second["valid"] is False
        assert {"code": "stamp.missing", "path": "$.in_progress_at"}.items() <= (
            second["violations"][-1].items()
        )

    def test_jsonl_is_one_record_per_payload(self, tmp_path: Path) -> None:
        """--format jsonl prints one record per payload, in input order."""
        path = tmp_path / "three.jsonl"
        path.write_text("\n".join(line_of(p) for p in polls({}, {}, {"id": "x"})) + "\n")
        result = run("validate", "--format", "jsonl", str(path))
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(r["line"], r["valid"]) for r in records] == [(1, True), (2, True), (3, True)]
        assert set(records[0]) == {"source", "line", "index", "batch_id", "valid", "violations"}
        assert records[2]["violations"][0]["code"] == "id.prefix"
        assert records[2]["violations"][0]["severity"] == "warning"

    def test_quiet_reports_only_errors(self) -> None:
        """--quiet prints the errors of invalid payloads and nothing else."""
        valid_with_warning = ROOT / "examples/valid/009_completed_azure-docs-python-list-a.json"
        result = run("validate", "--quiet", str(valid_with_warning), str(MISSING_STAMP))
        assert result.returncode == 1
        lines = result.stdout.splitlines()
        assert lines
        assert all(line.startswith(f"{MISSING_STAMP}: ") for line in lines)
        assert not any("warning" in line for line in lines)

    def test_an_array_document_names_each_element(self, tmp_path: Path) -> None:
        """A JSON array of payloads is validated element by element, named by index."""
        path = tmp_path / "list.json"
        path.write_text(json.dumps([clean_payload(), {"id": "batch_2"}, 7], indent=2))
        result = run("validate", str(path))
        assert f"{path}[0]: ok (batch_abc123, completed)" in result.stdout
        assert f"{path}[1]: $.status: missing required key 'status'" in result.stdout
        assert f"{path}[2]: $: expected a JSON object, got integer 7" in result.stdout


class TestInputs:
    def test_stdin_with_a_dash(self) -> None:
        """`-` reads stdin: one pretty-printed object."""
        result = run("validate", "-", stdin=json.dumps(clean_payload(), indent=2))
        assert result.returncode == 0
        assert "-: ok (batch_abc123, completed)" in result.stdout

    def test_stdin_by_default_when_piped(self) -> None:
        """With no PATH and payloads piped in, stdin is read as JSON Lines."""
        lines = "\n".join(line_of(p) for p in polls({}, {"id": "batch_two"}))
        result = run("validate", stdin=lines)
        assert result.returncode == 0
        assert "-:2: ok (batch_two, completed)" in result.stdout

    def test_directories_are_searched_recursively(self, tmp_path: Path) -> None:
        """A directory gives its *.json and *.jsonl files, recursively; other files are left."""
        (tmp_path / "a" / "b").mkdir(parents=True)
        (tmp_path / "a" / "b" / "one.json").write_text(line_of(clean_payload()))
        (tmp_path / "a" / "two.jsonl").write_text(line_of(clean_payload()) + "\n")
        (tmp_path / "notes.txt").write_text("not a payload")
        result = run("validate", str(tmp_path))
        assert result.returncode == 0
        assert result.stdout.splitlines()[-1].startswith("2 payloads: 2 valid")

    def test_broken_lines_are_reported_and_the_run_goes_on(self, tmp_path: Path) -> None:
        """A broken JSON line is reported at its line number; the lines after it are read."""
        path = tmp_path / "mixed.jsonl"
        good = line_of(clean_payload())
        path.write_text(f"{good}\n{good[:40]}\n\n{good}\n")
        result = run("validate", "--format", "jsonl", str(path))
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(r["line"], r["valid"]) for r in records] == [(1, True), (2, False), (4, True)]
        assert records[1]["violations"][0]["code"] == "json.syntax"

    def test_a_line_over_the_limit_is_refused_and_skipped(self, tmp_path: Path) -> None:
        """A line larger than --max-bytes is refused with a message; the next line is read."""
        path = tmp_path / "big.jsonl"
        huge = {**clean_payload(), "metadata": {"note": "x" * 5000}}
        path.write_text(f"{line_of(huge)}\n{line_of(clean_payload())}\n")
        result = run("validate", "--max-bytes", "4096", str(path))
        assert result.returncode == 1
        assert f"{path}:1: $: the line holds" in result.stdout
        assert "more than --max-bytes 4096 [input.too_large]" in result.stdout
        assert f"{path}:2: ok (batch_abc123, completed)" in result.stdout

    def test_a_document_over_the_limit_is_refused(self, tmp_path: Path) -> None:
        """A pretty-printed document larger than --max-bytes is refused as a whole."""
        path = tmp_path / "big.json"
        path.write_text(json.dumps({**clean_payload(), "metadata": {"n": "x" * 5000}}, indent=2))
        result = run("validate", "--max-bytes", "4096", str(path))
        assert result.returncode == 1
        assert f"{path}: $: the document holds" in result.stdout


class TestHistory:
    def test_a_consistent_history_is_valid(self, tmp_path: Path) -> None:
        """Snapshots that move forward validate as one history: exit 0, one result."""
        path = tmp_path / "history.jsonl"
        snapshots = polls(
            {"status": "in_progress", "finalizing_at": None, "completed_at": None},
            {},
        )
        path.write_text("\n".join(line_of(p) for p in snapshots) + "\n")
        result = run("validate", "--history", "--format", "jsonl", str(path))
        assert result.returncode == 0, result.stdout
        (record,) = [json.loads(line) for line in result.stdout.splitlines()]
        assert record["valid"] is True

    def test_a_step_back_is_named_at_its_line(self, tmp_path: Path) -> None:
        """A status that cannot follow the previous one is reported at its file and line."""
        path = tmp_path / "history.jsonl"
        back = {"status": "in_progress", "finalizing_at": None, "completed_at": None}
        path.write_text("\n".join(line_of(p) for p in polls({}, back)) + "\n")
        result = run("validate", "--history", str(path))
        assert result.returncode == 1
        assert f"{path}:2: $.status: " in result.stdout
        assert "[history.unreachable]" in result.stdout


class TestDiagram:
    def test_mermaid_with_tolerated_edges_marked(self) -> None:
        """`batchfsm diagram` prints the table as mermaid; tolerated edges are labelled."""
        result = run("diagram")
        assert result.returncode == 0
        assert result.stdout.startswith("---") or "stateDiagram-v2" in result.stdout
        assert "(tolerated)" in result.stdout

    def test_strict_has_documented_edges_only(self) -> None:
        """Under --profile strict no tolerated edge is drawn."""
        result = run("diagram", "--profile", "strict")
        assert result.returncode == 0
        assert "stateDiagram-v2" in result.stdout
        assert "(tolerated)" not in result.stdout


class TestRobustness:
    def test_internal_errors_are_short_unless_debug(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bug inside batchfsm exits 3 with one line; --debug shows the traceback."""
        import batchfsm._cli as cli

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(cli, "_run_validate", broken)
        assert main(["validate", str(CLEAN)]) == 3
        assert "internal error: RuntimeError('boom')" in capsys.readouterr().err
        with pytest.raises(RuntimeError):
            main(["--debug", "validate", str(CLEAN)])

    def test_a_closed_pipe_is_not_an_error_message(self, tmp_path: Path) -> None:
        """Piping into a reader that stops early ends the command without a traceback."""
        path = tmp_path / "many.jsonl"
        path.write_text((line_of(clean_payload()) + "\n") * 20_000)
        command = " ".join(batchfsm_command())
        result = subprocess.run(
            f"{command} validate {path} | head -n 1",
            shell=True,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.stdout.count("\n") == 1
        assert "Traceback" not in result.stderr
        assert "Error" not in result.stderr

    def test_a_progress_bar_only_on_a_terminal_for_large_input(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Large input with stderr a terminal draws a bar there; --no-progress draws none."""
        import batchfsm._cli as cli

        monkeypatch.setattr(cli, "_PROGRESS_MIN_BYTES", 1)
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        assert main(["validate", str(CLEAN)]) == 0
        bar = capsys.readouterr().err
        assert f"/{CLEAN.stat().st_size} [" in bar  # tqdm: done/total [elapsed, rate]
        assert main(["validate", "--no-progress", str(CLEAN)]) == 0
        assert capsys.readouterr().err == ""


class TestEdges:
    def test_quiet_leaves_out_warnings_of_invalid_payloads(self) -> None:
        """--quiet keeps an invalid payload's errors and drops its warnings."""
        both = ROOT / "examples/compat/011_validating_azure-docs-python-failfast.json"
        result = run("validate", "--quiet", str(both))
        assert "[file_id.empty]" in result.stdout
        assert "warning" not in result.stdout

    def test_history_in_json_names_each_violation_s_snapshot(self, tmp_path: Path) -> None:
        """In json, a history's violations carry the place of their snapshot (`at`)."""
        path = tmp_path / "history.jsonl"
        back = {"status": "in_progress", "finalizing_at": None, "completed_at": None}
        path.write_text("\n".join(line_of(p) for p in polls({}, back)) + "\n")
        document = json.loads(run("validate", "--history", "--format", "json", str(path)).stdout)
        (record,) = document["results"]
        unreachable = [v for v in record["violations"] if v["code"] == "history.unreachable"]
        assert unreachable[0]["at"] == f"{path}:2"
        assert unreachable[0]["path"] == "$.status"

    def test_a_refused_snapshot_is_reported_in_its_history(self, tmp_path: Path) -> None:
        """A snapshot over --max-bytes is reported as too large, at its line."""
        path = tmp_path / "history.jsonl"
        big = {"metadata": {"note": "x" * 5000}}
        path.write_text("\n".join(line_of(p) for p in polls({}, big)) + "\n")
        result = run("validate", "--history", "--max-bytes", "4096", str(path))
        assert result.returncode == 1
        assert f"{path}:2: $: the line holds" in result.stdout
        assert "[json.empty]" not in result.stdout

    def test_a_history_with_only_warnings_is_valid(self, tmp_path: Path) -> None:
        """A history whose only findings are warnings exits 0 and counts them."""
        path = tmp_path / "history.jsonl"
        path.write_text(line_of({**clean_payload(), "id": "abc"}) + "\n")
        result = run("validate", "--history", str(path))
        assert result.returncode == 0
        assert result.stdout.splitlines()[-1] == "1 payload: 1 valid (1 with warnings), 0 invalid"

    def test_an_empty_history_has_no_payloads(self, tmp_path: Path) -> None:
        """--history over no snapshots reports zero payloads and exits 2: nothing was checked."""
        path = tmp_path / "empty.jsonl"
        path.write_text("")
        result = run("validate", "--history", str(path))
        assert (result.returncode, result.stdout) == (
            2,
            "0 payloads: 0 valid (0 with warnings), 0 invalid\n",
        )
        assert f"batchfsm: no payloads in {path}" in result.stderr

    @pytest.mark.parametrize("value", ["0", "-5", "lots"])
    def test_max_bytes_must_be_positive(self, value: str) -> None:
        """--max-bytes takes a positive size; anything else is a usage error."""
        result = run("validate", "--max-bytes", value, str(CLEAN))
        assert result.returncode == 2
        assert "expected a positive number of bytes, or of K, M, G or T" in result.stderr
        assert f"got {value!r}" in result.stderr

    def test_an_unlistable_directory_exits_2(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A directory that cannot be listed is named on stderr, and the run exits 2."""
        import batchfsm._cli as cli
        from batchfsm._sources import Unreadable

        monkeypatch.setattr(cli, "discover", lambda paths: [Unreadable("d", "Permission denied")])
        assert main(["validate", "d"]) == 2
        assert "cannot read d: Permission denied" in capsys.readouterr().err

    def test_an_interrupt_exits_130_quietly(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Ctrl-C stops the run with status 130 and no traceback."""
        import batchfsm._cli as cli

        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(cli, "validate", interrupted)
        assert main(["validate", str(CLEAN)]) == 130
        assert capsys.readouterr().err == ""

    def test_small_input_draws_no_bar(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """On a terminal, input under the threshold (or of unknown size) draws no bar."""
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        assert main(["validate", str(CLEAN), "/no/such/file.json"]) == 2
        assert "B/s" not in capsys.readouterr().err


def payload_with(**changes: Any) -> dict[str, Any]:
    """The clean payload with some keys changed."""
    return {**clean_payload(), **changes}


class TestEachPayloadOnItsOwn:
    """Bad input never ends the run with an internal error: each payload is judged alone."""

    def test_a_huge_numeric_string(self, tmp_path: Path) -> None:
        """A timestamp written as a 5,000-digit string is an invalid payload; the next is read."""
        path = tmp_path / "polls.jsonl"
        path.write_text(
            line_of(payload_with(created_at="1" * 5000)) + "\n" + line_of(clean_payload())
        )
        result = run("validate", str(path))
        assert result.returncode == 1, result.stderr
        assert f"{path}:2: ok (batch_abc123, completed)" in result.stdout

    def test_a_payload_batchfsm_fails_on_does_not_end_the_run(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A bug met on one payload is reported at its place, the others are still judged,
        and the run exits 3."""
        import batchfsm._cli as cli

        path = tmp_path / "polls.jsonl"
        path.write_text("\n".join(line_of(p) for p in polls({}, {"id": "batch_boom"}, {})))
        real = batchfsm.validate

        def failing(data: bytes, profile: str) -> Any:
            if b"batch_boom" in data:
                raise RuntimeError("boom")
            return real(data, profile=profile)

        monkeypatch.setattr(cli, "validate", failing)
        assert main(["validate", str(path)]) == 3
        out, err = capsys.readouterr()
        assert f"batchfsm: internal error at {path}:2: RuntimeError('boom')" in err
        assert f"{path}:1: ok" in out
        assert f"{path}:3: ok" in out
        assert out.splitlines()[-1] == (
            "3 payloads: 2 valid (0 with warnings), 0 invalid, 1 not checked (internal error)"
        )
        with pytest.raises(RuntimeError):
            main(["--debug", "validate", str(path)])

    def test_an_array_holding_a_deeply_nested_element(self, tmp_path: Path) -> None:
        """An array element nested 300 deep is an invalid payload; its neighbours are read."""
        path = tmp_path / "list.json"
        path.write_text("[" + line_of(clean_payload()) + "," + "[" * 300 + "]" * 300 + ",{}]")
        result = run("validate", str(path))
        assert result.returncode == 1, result.stderr
        assert f"{path}[0]: ok (batch_abc123, completed)" in result.stdout
        assert f"{path}[1]: $: expected a JSON object, got array" in result.stdout
        assert f"{path}[2]: $.id: missing required key 'id'" in result.stdout

    def test_an_element_is_judged_as_the_same_payload_alone(self, tmp_path: Path) -> None:
        """An array element gets the report its text gets alone: a 30-digit timestamp is not
        read as a float first, and one element past the reader's limits spoils no other."""
        big = line_of(clean_payload()).replace(
            '"created_at":1711471533', '"created_at":' + "9" * 30
        )
        unreadable = "[" * 1100 + "]" * 1100
        alone = [tmp_path / "big.json", tmp_path / "deep.json"]
        alone[0].write_text(big)
        alone[1].write_text(unreadable)
        array = tmp_path / "list.json"
        array.write_text(f"[{big},\n{unreadable},\n{line_of(clean_payload())}]")
        records = [
            json.loads(line)
            for line in run(
                "validate", "--format", "jsonl", *map(str, alone), str(array)
            ).stdout.splitlines()
        ]
        assert [r["violations"] for r in records[2:4]] == [r["violations"] for r in records[:2]]
        assert records[0]["violations"][0]["code"] == "field.range"
        assert records[4]["valid"] is True

    def test_file_names_that_are_not_utf8_in_json(self, tmp_path: Path) -> None:
        """A file name that is not UTF-8 is written with its odd bytes escaped, in every format."""
        directory = os.fsencode(tmp_path)
        name = os.path.join(directory, b"poll\xff.json")
        with open(name, "wb") as file:
            file.write(CLEAN.read_bytes())
        shown = f"{tmp_path}/poll\\xff.json"
        jsonl = run("validate", "--format", "jsonl", str(tmp_path))
        assert jsonl.returncode == 0, jsonl.stderr
        assert json.loads(jsonl.stdout)["source"] == shown
        document = run("validate", "--format", "json", str(tmp_path))
        assert json.loads(document.stdout)["results"][0]["source"] == shown
        text = run("validate", str(tmp_path))
        assert text.stdout.startswith(f"{shown}: ok (batch_abc123, completed)\n")

    @pytest.mark.parametrize("form", ["text", "jsonl", "json"])
    def test_stdout_that_cannot_encode_a_character(self, tmp_path: Path, form: str) -> None:
        """An ASCII stdout gets escapes: JSON stays exact, text shows the code point."""
        path = tmp_path / "accent.json"
        path.write_text(json.dumps(payload_with(id="batch_é", metadata={"k": "√ \u2028"})))
        result = run("validate", "--format", form, str(path), env={"PYTHONIOENCODING": "ascii"})
        assert result.returncode == 0, result.stderr
        if form == "text":
            assert f"{path}:1: ok (batch_\\xe9, completed)" in result.stdout
        else:
            record = json.loads(result.stdout.splitlines()[0])
            record = record["results"][0] if form == "json" else record
            assert record["batch_id"] == "batch_é"

    def test_max_bytes_past_what_a_read_can_ask_is_a_usage_error(self) -> None:
        """--max-bytes 2**63 - 1 is refused as a usage error (exit 2), not an internal one."""
        result = run("validate", "--max-bytes", str(2**63 - 1), str(CLEAN))
        assert result.returncode == 2
        assert f"up to {sys.maxsize - 1} bytes; got '{2**63 - 1}'" in result.stderr

    def test_a_huge_max_bytes_reads_a_document(self, tmp_path: Path) -> None:
        """A --max-bytes of a terabyte is a limit, not a size to allocate before reading."""
        path = tmp_path / "pretty.json"
        path.write_text(json.dumps([clean_payload()], indent=2))
        result = run("validate", "--max-bytes", str(1 << 40), str(path))
        assert result.returncode == 0, result.stderr
        assert f"{path}[0]: ok (batch_abc123, completed)" in result.stdout


class TestNothingToValidate:
    """A run that checked nothing does not pass: CI pointed at the wrong folder fails."""

    @pytest.mark.parametrize(
        ("name", "content"), [("empty.json", ""), ("blank.jsonl", "\n  \n"), ("none.json", "[]")]
    )
    def test_a_file_without_payloads(self, tmp_path: Path, name: str, content: str) -> None:
        """An empty or blank file, or `[]`, exits 2 and says it held no payload."""
        path = tmp_path / name
        path.write_text(content)
        result = run("validate", str(path))
        assert result.returncode == 2
        assert f"batchfsm: no payloads in {path} (it is empty, blank, or [])" in result.stderr

    @pytest.mark.parametrize("data", ["", "\n\n", " [ ] "])
    def test_stdin_without_payloads(self, data: str) -> None:
        """Empty stdin exits 2."""
        result = run("validate", stdin=data)
        assert result.returncode == 2
        assert "batchfsm: no payloads on stdin" in result.stderr

    def test_a_directory_without_payload_files(self, tmp_path: Path) -> None:
        """A directory with no payload files, and one whose files hold none, exit 2."""
        (tmp_path / "notes.txt").write_text(line_of(clean_payload()))
        result = run("validate", "--format", "json", str(tmp_path))
        assert result.returncode == 2
        assert f"no payloads in {tmp_path} (no *.json, *.jsonl or *.ndjson file" in result.stderr
        document = json.loads(result.stdout)
        assert (document["ok"], document["payloads"], document["empty"]) == (False, 0, 1)

    def test_each_path_must_hold_a_payload(self, tmp_path: Path) -> None:
        """An empty PATH beside good ones still fails the run; the good ones are reported."""
        result = run("validate", str(CLEAN), str(tmp_path))
        assert result.returncode == 2
        assert f"{CLEAN}: ok (batch_abc123, completed)" in result.stdout
        assert f"no payloads in {tmp_path}" in result.stderr

    def test_roundtrip_of_nothing(self, tmp_path: Path) -> None:
        """roundtrip over a PATH without payloads exits 2 as well."""
        result = run("roundtrip", str(tmp_path))
        assert result.returncode == 2
        assert f"no payloads in {tmp_path}" in result.stderr


def read_line(stream: Any, deadline: float) -> bytes:
    """One line from a pipe, or what arrived of it by `deadline` (time.monotonic())."""
    import select
    import time

    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        byte = os.read(stream.fileno(), 1)
        if not byte:
            break
        line += byte
    return line


class TestStreaming:
    """Payloads from a pipe are judged as they arrive; a writer waits for each answer."""

    def converse(
        self, *args: str, lines: list[bytes], answers_to: list[int] | None = None
    ) -> tuple[list[bytes], int]:
        """Write each line to the command's stdin and wait for its answers (`answers_to`:
        how many; one each by default) before the next; then close stdin. The answers, and
        the exit status."""
        import time

        with subprocess.Popen(
            [*batchfsm_command(), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process:
            assert process.stdin is not None
            assert process.stdout is not None
            answers: list[bytes] = []
            try:
                for line, count in zip(lines, answers_to or [1] * len(lines), strict=True):
                    process.stdin.write(line + b"\n")
                    process.stdin.flush()
                    deadline = time.monotonic() + TIMEOUT
                    answers.extend(read_line(process.stdout, deadline) for _ in range(count))
                process.stdin.close()
                answers.extend(process.stdout.read().splitlines(keepends=True))
                return answers, process.wait(TIMEOUT)
            finally:
                process.kill()

    def test_each_line_is_answered_before_the_next_is_written(self) -> None:
        """Each payload's record comes out while stdin is still open (not every 256 KiB)."""
        lines = [line_of(p).encode() for p in polls({}, {"id": "batch_two"})]
        answers, status = self.converse("validate", "--format", "jsonl", lines=lines)
        records = [json.loads(answer) for answer in answers]
        assert [(r["line"], r["batch_id"]) for r in records] == [
            (1, "batch_abc123"),
            (2, "batch_two"),
        ]
        assert status == 0

    def test_a_first_line_over_the_limit_does_not_swallow_the_stream(self) -> None:
        """A first line past --max-bytes is refused alone and the lines after it are judged
        as they arrive (it used to hide the whole stream, and all of one that never ends)."""
        huge = b'{"pad": "' + b"x" * 5000 + b'"}'
        good = line_of(clean_payload()).encode()
        # The first line alone cannot say whether the stream is JSON Lines: the second does.
        answers, status = self.converse(
            "validate", "--max-bytes", "4096", lines=[huge, good, good], answers_to=[0, 2, 1]
        )
        assert answers[0].startswith(b"-:1: $: the line holds 5012 bytes")
        assert answers[1:3] == [
            b"-:2: ok (batch_abc123, completed)\n",
            b"-:3: ok (batch_abc123, completed)\n",
        ]
        assert status == 1

    def test_roundtrip_answers_as_lines_arrive(self) -> None:
        """roundtrip reads stdin with the same reader, a payload at a time."""
        good = line_of(clean_payload()).encode()
        answers, status = self.converse("roundtrip", "-", lines=[good, good])
        assert answers == [
            b"-:1: ok (batch_abc123, completed)\n",
            b"-:2: ok (batch_abc123, completed)\n",
            b"2 payloads: 2 ok (0 with warnings), 0 failed\n",
        ]
        assert status == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
class TestSpecialFiles:
    def test_a_fifo_in_a_directory_is_skipped(self, tmp_path: Path) -> None:
        """A FIFO named *.json in a directory is skipped with a note, never waited on."""
        shutil.copy(CLEAN, tmp_path / "a.json")
        os.mkfifo(tmp_path / "b.json")
        for command in ("validate", "roundtrip"):
            result = run(command, str(tmp_path))  # a hang is a TimeoutExpired
            assert result.returncode == 0, result.stderr
            assert f"{tmp_path / 'a.json'}: ok (batch_abc123, completed)" in result.stdout
            assert (
                f"batchfsm: skipped {tmp_path / 'b.json'}: not a regular file (a FIFO)"
                in result.stderr
            )

    def test_a_fifo_named_on_the_command_line_is_read(self, tmp_path: Path) -> None:
        """A pipe named as a PATH (`<(command)`, mkfifo) is read like stdin."""
        fifo = tmp_path / "poll.json"
        os.mkfifo(fifo)
        process = subprocess.Popen(
            [*batchfsm_command(), "validate", str(fifo)], stdout=subprocess.PIPE, text=True
        )
        with open(fifo, "w") as writer:
            writer.write(line_of(clean_payload()) + "\n")
        out, _ = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0
        assert f"{fifo}:1: ok (batch_abc123, completed)" in out


class TestEscaping:
    """What the input holds cannot forge output lines or reach the terminal."""

    def test_an_id_with_a_line_break_cannot_forge_an_ok_line(self, tmp_path: Path) -> None:
        """An id holding `\n` and a fake result prints on one line, the break escaped."""
        path = tmp_path / "forged.json"
        forged = "batch_x\n/etc/other.json: ok (batch_fake, completed)"
        path.write_text(json.dumps(payload_with(id=forged)))
        result = run("validate", str(path))
        lines = result.stdout.splitlines()
        assert lines[0] == (
            f"{path}:1: ok (batch_x\\n/etc/other.json: ok (batch_fake, completed), completed)"
        )
        assert len(lines) == 2  # and the summary

    def test_terminal_escapes_and_invisible_characters_are_escaped(self, tmp_path: Path) -> None:
        """ESC, DEL, C1, U+2028/2029 and bidi overrides in ids and messages are escaped."""
        path = tmp_path / "escapes.jsonl"
        hostile = "\x1b[2J\x7f\x85\u2028\u2029\u202e\u2066"
        path.write_text(
            line_of(payload_with(id="batch_" + hostile))
            + "\n"
            + line_of(payload_with(status="done" + hostile))
        )
        result = run("validate", str(path))
        escaped = "\\x1b[2J\\x7f\\x85\\u2028\\u2029\\u202e\\u2066"
        assert f"ok (batch_{escaped}, completed)" in result.stdout
        assert escaped in result.stdout.split("\n")[1]
        assert all(c.isprintable() for c in result.stdout.replace("\n", ""))

    def test_file_names_are_escaped_in_text_and_on_stderr(self, tmp_path: Path) -> None:
        """A file name with a line break is escaped where it is printed."""
        directory = tmp_path / "a\nb"
        directory.mkdir()
        shutil.copy(CLEAN, directory / "x.json")
        result = run("validate", str(directory), str(directory / "gone\x1b.json"))
        assert f"{tmp_path}/a\\nb/x.json: ok" in result.stdout
        assert f"cannot read {tmp_path}/a\\nb/gone\\x1b.json" in result.stderr

    def test_json_output_keeps_the_exact_text(self, tmp_path: Path) -> None:
        """JSON records hold the id as it is: JSON escapes it already."""
        path = tmp_path / "forged.json"
        path.write_text(json.dumps(payload_with(id="batch_\n\x1b")))
        record = json.loads(run("validate", "--format", "jsonl", str(path)).stdout)
        assert record["batch_id"] == "batch_\n\x1b"

    def test_printable(self) -> None:
        """printable escapes what str.isprintable refuses, and a name's odd bytes as \\xNN."""
        from batchfsm._cli import printable

        assert printable("plain ü √ 日本") == "plain ü √ 日本"
        assert printable("a\tb\rc\nd\x00\x9b") == "a\\tb\\rc\\nd\\x00\\x9b"
        assert printable("\u200b\ufeff\U000e0041") == "\\u200b\\ufeff\\U000e0041"
        assert printable(os.fsdecode(b"x\xff.json")) == "x\\xff.json"


class TestClosedStreams:
    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        """`command` in bash, with `batchfsm` the installed command."""
        return subprocess.run(
            ["bash", "-c", command.replace("batchfsm", " ".join(batchfsm_command()), 1)],
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
        )

    def test_roundtrip_into_a_reader_that_stops(self, tmp_path: Path) -> None:
        """`roundtrip … | head -n 1` ends quietly with 141, not `cannot read`."""
        path = tmp_path / "many.jsonl"
        path.write_text((line_of(clean_payload()) + "\n") * 20_000)
        result = self.shell(f"batchfsm roundtrip {path} | head -n 1; exit ${{PIPESTATUS[0]}}")
        assert result.returncode == 141
        assert result.stdout.count("\n") == 1
        assert result.stderr == ""

    def test_validate_into_a_reader_that_stops(self, tmp_path: Path) -> None:
        """The same for validate, in every format."""
        path = tmp_path / "many.jsonl"
        path.write_text((line_of(clean_payload()) + "\n") * 20_000)
        for form in ("text", "jsonl"):
            result = self.shell(
                f"batchfsm validate --format {form} {path} | head -n 1; exit ${{PIPESTATUS[0]}}"
            )
            assert (result.returncode, result.stderr) == (141, "")

    @pytest.mark.parametrize(
        "command", ["validate", "validate -", "roundtrip -"], ids=["default", "dash", "roundtrip"]
    )
    def test_closed_stdin(self, command: str) -> None:
        """With stdin closed (`<&-`), the command says so and exits 2: no traceback."""
        result = self.shell(f"batchfsm {command} <&-")
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        expected = "give a PATH" if command == "validate" else "cannot read -: standard input is"
        assert expected in result.stderr

    def test_closed_stdout(self) -> None:
        """With stdout closed, the exit status still tells."""
        result = self.shell(f"batchfsm validate {CLEAN} {MISSING_STAMP} >&-")
        assert (result.returncode, result.stderr) == (1, "")

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
    def test_an_output_that_cannot_be_written(self) -> None:
        """A full disk on stdout is said in one line, exit 2."""
        result = self.shell(f"batchfsm validate {CLEAN} > /dev/full")
        assert result.returncode == 2
        assert "batchfsm: cannot write the output: No space left on device" in result.stderr


def test_roundtrip_compares_integers_past_int_s_limit() -> None:
    """Two texts are the same JSON when their integers match digit for digit, at any length."""
    from batchfsm._cli import _same_json

    digits = "7" * 5000
    assert _same_json(f'{{"a": {digits}}}'.encode(), f'{{"a":{digits}}}')
    assert not _same_json(f'{{"a": {digits}}}'.encode(), f'{{"a":{digits[:-1]}8}}')
    assert _same_json("[" * 5000 + "]" * 5000, "[]") is None


def console_examples() -> list[tuple[str, str]]:
    """The ``$ command`` examples of docs/cli.md with the output shown under each."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        command, _, output = block.partition("\n")
        assert command.startswith("$ "), command
        examples.append((command[2:], output))
    return examples


# The files the page's examples name, beside examples/: a user's own, here published samples.
CLI_PAGE_FILES = {
    "mistral-job.json": PROVIDER_SAMPLES / "mistral" / "002_QUEUED_cookbook-create.json",
    "anthropic-polls.json": (
        PROVIDER_SAMPLES / "anthropic" / "004_history_cookbook-in_progress-ended.json"
    ),
    "mistral-polls.json": PROVIDER_SAMPLES / "mistral" / "001_history_cookbook-QUEUED-SUCCESS.json",
}


@pytest.mark.parametrize(("command", "output"), console_examples())
def test_cli_page_shows_what_the_command_prints(command: str, output: str, tmp_path: Path) -> None:
    """Each example on docs/cli.md prints exactly what the page shows, run in a directory
    that holds examples/ and the files the page names."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for name, sample in CLI_PAGE_FILES.items():
        shutil.copyfile(sample, tmp_path / name)
    environment = {**os.environ, "PATH": f"{Path(batchfsm_command()[0]).parent}{os.pathsep}"}
    environment["PATH"] += os.environ.get("PATH", "")
    result = subprocess.run(
        command, shell=True, cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.stdout == output, result.stderr
    assert "Traceback" not in result.stderr


# -- the command's own surface: help, version, sizes, completion, schema --------------------

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _parsers() -> list[argparse.ArgumentParser]:
    """The command's parser and each command's."""
    from batchfsm._cli import _parser

    parser = _parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [parser, *commands.choices.values()]


class TestHelp:
    @pytest.mark.parametrize(
        ("args", "snapshot"), [([], "help.txt"), (["validate"], "validate-help.txt")]
    )
    def test_help_matches_its_snapshot(
        self,
        args: list[str],
        snapshot: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """`batchfsm --help` and `batchfsm validate --help`, 100 columns wide, print exactly
        the checked-in snapshots (the same on Python 3.10 to 3.13: the formatter places the
        help column as 3.13 does). To accept a change: COLUMNS=100 batchfsm [validate] --help
        > tests/snapshots/NAME."""
        monkeypatch.setenv("COLUMNS", "100")
        assert main([*args, "--help"]) == 0
        assert capsys.readouterr().out == (SNAPSHOTS / snapshot).read_text("utf-8")

    def test_every_option_has_help_with_its_default(self) -> None:
        """Every argument of every command has help text; every option that takes a value
        says its default."""
        checked = 0
        for parser in _parsers():
            for action in parser._actions:
                if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                    continue
                assert action.help, (parser.prog, action.dest)
                takes_value = action.option_strings and action.nargs != 0
                if takes_value and not isinstance(action, argparse._VersionAction):
                    assert "(default: " in action.help, (parser.prog, action.dest)
                checked += 1
        assert checked > 3 * len(_parsers())  # the loop saw the options

    def test_help_is_plain_text(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """No --help shows reStructuredText markup (``literal``, :role:), and each shows its
        defaults filled in, not argparse's placeholders."""
        monkeypatch.setenv("COLUMNS", "100")
        for parser in _parsers():
            command = parser.prog.split()[1:]
            assert main([*command, "--help"]) == 0
            out = capsys.readouterr().out
            assert "``" not in out, parser.prog
            assert not re.search(r":\w+:`", out), parser.prog
            assert "%(" not in out, parser.prog

    def test_the_description_is_the_docstring_s(self) -> None:
        """The command's description and epilog are its module docstring's paragraphs."""
        from batchfsm import _cli

        parser = _parsers()[0]
        summary, exits = (_cli.__doc__ or "").split("\n\n")[:2]
        assert parser.description == " ".join(summary.replace("``", "").split())
        assert parser.epilog == " ".join(exits.replace("``", "").split())


class TestVersion:
    def test_one_version(self) -> None:
        """batchfsm.__version__ is the installed distribution's version, and the installed
        command's --version prints it."""
        import importlib.metadata

        assert batchfsm.__version__ == importlib.metadata.version("batchfsm")
        result = run("--version")
        assert (result.returncode, result.stdout) == (0, f"batchfsm {batchfsm.__version__}\n")

    def test_the_version_is_written_once(self) -> None:
        """pyproject.toml writes no version: hatchling reads batchfsm/__init__.py's."""
        pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
        assert re.search(r'^dynamic = \["version"\]$', pyproject, re.MULTILINE)
        assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)
        assert '[tool.hatch.version]\npath = "batchfsm/__init__.py"' in pyproject


class TestMaxBytes:
    @pytest.mark.parametrize(
        ("text", "size"),
        [
            ("1", 1),
            ("1024", 1024),
            ("512K", 512 << 10),
            ("1M", 1 << 20),
            ("16MiB", 16 << 20),
            ("2g", 2 << 30),
            ("1TiB", 1 << 40),
            (" 3kib ", 3 << 10),
        ],
    )
    def test_sizes_with_units(self, text: str, size: int) -> None:
        """--max-bytes takes bytes, or K, M, G, T (or KiB … in any case): powers of 1024."""
        parser = _parsers()[1]
        assert parser.parse_args(["--max-bytes", text]).max_bytes == size

    def test_the_default_is_16_mebibytes(self) -> None:
        """Without --max-bytes, the limit is 16M, as --help says."""
        assert _parsers()[1].parse_args([]).max_bytes == 16 << 20

    @pytest.mark.parametrize("text", ["1MB", "1.5M", "0K", "", "M", "-1K", "1P", "1 M", "8388608T"])
    def test_other_sizes_are_usage_errors(
        self, text: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A size that is not one, is zero, or is past what a read can ask (2**63 bytes) is
        a usage error (exit 2) that says what a size is."""
        assert main(["validate", f"--max-bytes={text}", str(CLEAN)]) == 2
        assert "expected a positive number of bytes, or of K, M, G or T" in capsys.readouterr().err

    def test_a_size_with_a_unit_limits_a_document(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--max-bytes 1K refuses a document of more than 1024 bytes, and takes one of 1024."""
        path = tmp_path / "big.json"
        text = json.dumps(clean_payload())
        path.write_text(text + " " * (1024 - len(text)))
        assert main(["validate", "--max-bytes", "1K", str(path)]) == 0
        path.write_text(text + " " * (1025 - len(text)))
        assert main(["validate", "--max-bytes", "1K", str(path)]) == 1
        assert "[input.too_large]" in capsys.readouterr().out


class TestCompletion:
    def test_the_installed_command_completes_itself(self, tmp_path: Path) -> None:
        """With argcomplete installed, the shell's request completes commands and options."""
        pytest.importorskip("argcomplete")
        for line, expected in (
            ("batchfsm val", {"validate"}),
            ("batchfsm schema --p", {"--profile"}),
        ):
            answer = tmp_path / "completions"
            env = {
                "_ARGCOMPLETE": "1",
                "_ARGCOMPLETE_IFS": "\n",
                "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
                "COMP_LINE": line,
                "COMP_POINT": str(len(line)),
            }
            result = run(env=env)
            assert result.returncode == 0, result.stderr
            assert set(answer.read_text().split()) == expected

    def test_without_argcomplete_the_command_works(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without argcomplete, even a completion request runs the command as usual."""
        monkeypatch.setitem(sys.modules, "argcomplete", None)  # import raises ImportError
        monkeypatch.setenv("_ARGCOMPLETE", "1")
        assert main(["roundtrip", str(CLEAN)]) == 0
        assert ": ok (batch_abc123, completed)" in capsys.readouterr().out

    def test_a_run_does_not_import_argcomplete(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A run that is not a completion request does not import argcomplete (it would only
        slow every run down)."""
        monkeypatch.delenv("_ARGCOMPLETE", raising=False)
        monkeypatch.delitem(sys.modules, "argcomplete", raising=False)
        assert main(["schema"]) == 0
        assert "argcomplete" not in sys.modules


class TestSchema:
    @pytest.mark.parametrize("profile", ["strict", "openai", "compat"])
    def test_prints_the_profile_s_schema(
        self, profile: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`batchfsm schema --profile P` prints json_schema(P) as JSON, exit 0."""
        assert main(["schema", "--profile", profile]) == 0
        assert json.loads(capsys.readouterr().out) == batchfsm.json_schema(profile)

    def test_the_installed_command_prints_openai_s_by_default(self) -> None:
        """Without --profile, the installed command prints the openai profile's schema."""
        result = run("schema")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == batchfsm.json_schema("openai")

    def test_an_unknown_profile_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown profile exits 2 with argparse's message."""
        assert main(["schema", "--profile", "lenient"]) == 2
        assert "invalid choice: 'lenient'" in capsys.readouterr().err


class TestListOfBatches:
    """A list of batches (``GET /v1/batches``'s answer) under compat (issue 15)."""

    def _write(self, tmp_path: Path, *items: object) -> Path:
        path = tmp_path / "page.json"
        page = {"object": "list", "data": list(items), "has_more": False}
        path.write_text(json.dumps(page, indent=1))
        return path

    def test_each_batch_is_judged_at_its_index(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each batch of the list is a payload of its own, at `file:$.data[i]`."""
        broken = {**clean_payload(), "completed_at": None}
        path = self._write(tmp_path, clean_payload(), broken)
        assert main(["validate", "--profile", "compat", str(path)]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].startswith(f"{path}: warning: $: a list of 2 batches")
        assert lines[1] == f"{path}:$.data[0]: ok (batch_abc123, completed)"
        assert lines[2].startswith(f"{path}:$.data[1]: $.completed_at: ")
        assert lines[-1] == "2 payloads: 1 valid (0 with warnings), 1 invalid"

    def test_json_records_name_the_item(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In JSON Lines output each batch's record carries its index in data."""
        path = self._write(tmp_path, clean_payload(), clean_payload())
        assert main(["validate", "--profile", "compat", "--format", "jsonl", str(path)]) == 0
        records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert records[0]["list"] is True
        assert [(r["item"], r["valid"]) for r in records[1:]] == [(0, True), (1, True)]

    def test_an_empty_list_is_nothing_checked(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A list with no batch in it is not success: exit 2, with a message."""
        assert main(["validate", "--profile", "compat", str(self._write(tmp_path))]) == 2
        assert "a list of batches with none in it" in capsys.readouterr().err

    def test_is_no_batch_under_openai(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Under openai the list is one payload, and an invalid one."""
        assert main(["validate", str(self._write(tmp_path, clean_payload()))]) == 1
        assert capsys.readouterr().out.splitlines()[-1].startswith("1 payload: 0 valid")
