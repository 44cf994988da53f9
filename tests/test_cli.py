"""The ``batchfsm roundtrip`` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


# -- batchfsm validate and diagram, run as the installed command ----------------------------

VALID = ROOT / "examples" / "valid"
CLEAN = PAYLOADS / "002_completed_openapi-retrieve.json"
MISSING_STAMP = PAYLOADS / "008_completed_azure-docs-python.json"


def batchfsm_command() -> list[str]:
    """The console script installed next to this interpreter (what a user runs)."""
    script = Path(sys.executable).parent / "batchfsm"
    found = str(script) if script.exists() else shutil.which("batchfsm")
    assert found, "the batchfsm command is not installed"
    return [found]


def run(*args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
    data = stdin.decode() if isinstance(stdin, bytes) else stdin
    return subprocess.run(
        [*batchfsm_command(), *args],
        input=data,
        capture_output=True,
        text=True,
        check=False,
        stdin=None if data is not None else subprocess.DEVNULL,
    )


def line_of(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def clean_payload() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(CLEAN.read_bytes())
    return payload


def polls(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Snapshots of the clean payload, each with some keys changed."""
    return [{**clean_payload(), **change} for change in changes]


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

        monkeypatch.setattr(cli, "validate", broken)
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
        """--history over no snapshots reports zero payloads and exits 0."""
        path = tmp_path / "empty.jsonl"
        path.write_text("")
        result = run("validate", "--history", str(path))
        assert (result.returncode, result.stdout) == (
            0,
            "0 payloads: 0 valid (0 with warnings), 0 invalid\n",
        )

    @pytest.mark.parametrize("value", ["0", "-5", "lots"])
    def test_max_bytes_must_be_positive(self, value: str) -> None:
        """--max-bytes takes a positive integer; anything else is a usage error."""
        result = run("validate", "--max-bytes", value, str(CLEAN))
        assert result.returncode == 2
        assert f"expected a positive number of bytes, got {value!r}" in result.stderr

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


def console_examples() -> list[tuple[str, str]]:
    """The ``$ command`` examples of docs/cli.md with the output shown under each."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        command, _, output = block.partition("\n")
        assert command.startswith("$ "), command
        examples.append((command[2:], output))
    return examples


@pytest.mark.parametrize(("command", "output"), console_examples())
def test_cli_page_shows_what_the_command_prints(command: str, output: str) -> None:
    """Each example on docs/cli.md prints exactly what the page shows."""
    environment = {**os.environ, "PATH": f"{Path(batchfsm_command()[0]).parent}{os.pathsep}"}
    environment["PATH"] += os.environ.get("PATH", "")
    result = subprocess.run(
        command, shell=True, cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.stdout == output, result.stderr
    assert "Traceback" not in result.stderr
