# PYTHON_ARGCOMPLETE_OK (argcomplete's mark: this command completes itself)
"""The ``batchfsm`` command: validate batch payloads, print their JSON Schema, draw the
lifecycle, check round trips, serve a fake Batch API.

Exit status: 0 when every payload is valid, 1 when any is invalid (or unparseable), 2 for a
usage error, a path that cannot be read or a PATH that holds no payload, 3 for a bug in
batchfsm (reported at the payload it was met on, and the run goes on; ``--debug`` shows its
traceback); 130 when interrupted and 141 when the reader of stdout went away, as shells do.
Bad input never shows a traceback, and what is printed of it is escaped."""

from __future__ import annotations

import argparse
import codecs
import contextlib
import decimal
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

import attrs

from . import __version__, _json
from ._codec import dumps, loads
from ._errors import PayloadError, Severity, Violation
from ._profile import PROFILES
from ._providers import PROVIDERS, from_provider
from ._sources import STDIN, Item, Place, Skipped, Unreadable, discover, read, size
from ._validate import ENVELOPE, Report, check_history, validate, violation_dict

__all__ = ["main"]

_MIB = 1 << 20
#: --max-bytes when not given, as the command line writes it.
DEFAULT_MAX_SIZE = "16M"
# The reader asks for one byte past the limit, which must still be an index-sized int.
_MAX_MAX_BYTES = sys.maxsize - 1
# A progress bar is worth drawing only when reading takes a while.
_PROGRESS_MIN_BYTES = 8 * _MIB
_EXIT_OK, _EXIT_INVALID, _EXIT_USAGE, _EXIT_BUG = 0, 1, 2, 3


# -- what is printed -----------------------------------------------------------------------


def _escape(char: str) -> str:
    point = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if 0xDC80 <= point <= 0xDCFF:  # a byte of a name that is not UTF-8 (surrogateescape)
        return f"\\x{point - 0xDC00:02x}"
    if point <= 0xFF:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every character Python does not call printable escaped, as ``\\n``,
    ``\\x1b``, ``\\u2028``: control characters (C0, DEL, C1), line and paragraph separators,
    bidi overrides and other invisible format characters, and the bytes of a file name that
    is not UTF-8 (``\\xff``).

    Ids, messages and file names come from the input: unescaped, a line break in one would
    print a line of its own (a forged ``ok`` for another file), and an escape sequence
    would drive the terminal.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _json_name(name: str) -> str:
    """A file name for JSON output: the bytes of a name that is not UTF-8 as ``\\xff``
    (JSON text cannot hold them, and orjson refuses the surrogates Python reads them as)."""
    if name.isprintable() or not any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _is_utf8(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not isinstance(encoding, str):  # a StringIO: text, encoded by no one
        return True
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:  # pragma: no cover - Python refuses to start with such an encoding
        return False


class _OutputError(Exception):
    """Writing stdout failed (its cause says why): not an OSError, so that no reader
    mistakes it for a source it could not read."""


def _note(message: str) -> None:
    """A line on stderr: escaped, and dropped if stderr is closed or gone (nowhere to say so)."""
    if sys.stderr is None:
        return
    with contextlib.suppress(OSError, ValueError):
        print(printable(message), file=sys.stderr)


class _Output:
    """Writes each payload's result in the chosen format, and the summary."""

    def __init__(self, form: str, quiet: bool, out: TextIO) -> None:
        self.form = form
        self.quiet = quiet
        self.out = out
        # An encoding that cannot write every character (PYTHONIOENCODING=ascii) gets JSON
        # with \u escapes, and text with backslash escapes.
        self.utf8 = _is_utf8(out)
        self.results: list[dict[str, Any]] = []  # for --format json

    def write(self, text: str) -> None:
        try:
            self.out.write(text)
        except OSError as error:
            raise _OutputError(error) from error

    def flush(self) -> None:
        """Flush what was written, before the reader waits for more input."""
        try:
            self.out.flush()
        except OSError as error:
            raise _OutputError(error) from error

    def line(self, text: str) -> None:
        """One line of text output, escaped."""
        text = printable(text)
        if not self.utf8:
            encoding = self.out.encoding
            text = text.encode(encoding, "backslashreplace").decode(encoding)
        self.write(text + "\n")

    def json(self, value: object) -> str:
        if self.utf8:
            try:
                return _json.encode(value)
            except PayloadError:  # a lone surrogate in a value read by the stdlib
                pass
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))

    def payload(
        self,
        place: Place,
        report: Report | None,
        violations: Sequence[Violation],
        valid: bool,
        where: Callable[[Violation], tuple[Place, str]] | None = None,
        listing: bool = False,
    ) -> None:
        """One payload's result; `where` maps a violation to its place and path (history);
        a `listing` is a list of batches, whose own violations are all it has."""
        if self.quiet and valid and not listing:
            return
        batch_id = report.batch_id if report is not None else None
        if self.form == "text":
            if valid and not listing:
                batch = report.batch if report is not None else None
                status = batch.status.value if batch is not None else None
                self.line(f"{place}: ok ({batch_id}, {status})")
            for violation in violations:
                if self.quiet and violation.severity is not Severity.ERROR:
                    continue
                at, path = where(violation) if where else (place, violation.path)
                warning = "warning: " if violation.severity is Severity.WARNING else ""
                self.line(f"{at}: {warning}{path}: {violation.message} [{violation.code}]")
            return
        record: dict[str, Any] = {
            "source": _json_name(place.source),
            "line": place.line,
            "index": place.index,
            "batch_id": batch_id,
            "valid": valid,
            "violations": [violation_dict(v) for v in violations],
        }
        if listing:  # a list of batches: its own warnings, then one record per item
            record = {**record, "list": True}
            del record["batch_id"], record["valid"]
        elif place.item is not None:
            record["item"] = place.item
        if where is not None:
            for entry, violation in zip(record["violations"], violations, strict=True):
                at, path = where(violation)
                entry.update(path=path, at=_json_name(str(at)))
        if self.form == "jsonl":
            self.write(self.json(record) + "\n")
        else:
            self.results.append(record)

    def summary(self, tally: _Tally, profile: str) -> None:
        if self.form == "json":
            document = {
                "ok": tally.status == _EXIT_OK,
                "profile": profile,
                "payloads": tally.payloads,
                "invalid": tally.invalid,
                "with_warnings": tally.warned,
                "unreadable": tally.unreadable,
                "empty": tally.empty,
                "failed": tally.failed,
                "results": self.results,
            }
            self.write(self.json(document) + "\n")
        elif self.form == "text" and not self.quiet:
            valid = tally.payloads - tally.invalid - tally.failed
            noun = "payload" if tally.payloads == 1 else "payloads"
            failed = f", {tally.failed} not checked (internal error)" if tally.failed else ""
            self.line(
                f"{tally.payloads} {noun}: {valid} valid ({tally.warned} with warnings),"
                f" {tally.invalid} invalid{failed}"
            )


# -- reading -------------------------------------------------------------------------------


@attrs.define
class _Tally:
    """What a run found, for the summary and the exit status."""

    payloads: int = 0
    invalid: int = 0
    warned: int = 0
    unreadable: int = 0
    empty: int = 0  # PATHs that held no payload
    failed: int = 0  # payloads batchfsm failed on (a bug)

    @property
    def status(self) -> int:
        if self.failed:
            return _EXIT_BUG
        if self.unreadable or self.empty:
            return _EXIT_USAGE
        return _EXIT_INVALID if self.invalid else _EXIT_OK


def _progress(sources: Sequence[str], wanted: bool) -> Any:
    """A tqdm bar over the bytes of `sources` on stderr, or None when it is not worth one."""
    if not wanted or sys.stderr is None or not sys.stderr.isatty():
        return None
    total = sum(size(source) or 0 for source in sources)
    if total < _PROGRESS_MIN_BYTES:
        return None
    from tqdm import tqdm  # imported only when a bar is drawn

    return tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False
    )


Found = Sequence[tuple[str, Sequence[str | Unreadable | Skipped]]]


def _found(paths: Sequence[str]) -> Found:
    """Each PATH with the sources it names."""
    return [(name, list(discover([name]))) for name in paths]


def _items(
    found: Found, max_bytes: int, tally: _Tally, bar: Any, output: _Output
) -> Iterator[Item]:
    """Every payload of every source; unreadable sources are reported and counted, and so
    is each PATH that holds no payload (CI pointed at the wrong folder must not pass)."""
    advance = bar.update if bar is not None else None
    for name, sources in found:
        given = 0
        unreadable = tally.unreadable
        for source in sources:
            if isinstance(source, Unreadable):
                _unreadable(source.path, source.reason, tally)
                continue
            if isinstance(source, Skipped):
                _note(f"batchfsm: skipped {source.path}: {source.reason}")
                continue
            try:
                for item in read(source, max_bytes, advance, output.flush):
                    given += 1
                    yield item
            except OSError as error:
                _unreadable(source, error.strerror or str(error), tally)
        if not given and tally.unreadable == unreadable:
            tally.empty += 1
            _note(f"batchfsm: no payloads {_no_payloads(name, sources)}")


def _no_payloads(name: str, sources: Sequence[object]) -> str:
    if name == STDIN:
        return "on stdin (it is empty, blank, or [])"
    if sources == [name]:
        return f"in {name} (it is empty, blank, or [])"
    return f"in {name} (no *.json, *.jsonl or *.ndjson file in it holds one)"


def _unreadable(path: str, reason: str, tally: _Tally) -> None:
    tally.unreadable += 1
    _note(f"batchfsm: cannot read {path}: {reason}")


# -- validate ------------------------------------------------------------------------------


def _run_validate(args: argparse.Namespace) -> int:
    paths: list[str] = args.paths or [STDIN]
    found = _found(paths)
    tally = _Tally()
    output = _Output(args.format, args.quiet, sys.stdout)
    bar = _progress(
        [s for _, sources in found for s in sources if isinstance(s, str)], not args.no_progress
    )
    try:
        items = _items(found, args.max_bytes, tally, bar, output)
        if args.history:
            _validate_history(items, args.profile, output, tally, args.debug, args.provider)
        else:
            _validate_each(items, args.profile, output, tally, args.debug, args.provider)
    finally:
        if bar is not None:
            bar.close()
    output.summary(tally, args.profile)
    return tally.status


def _failed(place: Place, error: Exception, tally: _Tally) -> None:
    """A payload batchfsm failed on: a bug, reported at its place; the run goes on."""
    tally.failed += 1
    advice = "run again with --debug for the traceback"
    _note(f"batchfsm: internal error at {place}: {error!r}; {advice}")


def _validate_each(
    items: Iterator[Item],
    profile: str,
    output: _Output,
    tally: _Tally,
    debug: bool,
    provider: str | None = None,
) -> None:
    # Once per payload: what a clean payload costs here is what the command adds to
    # `validate` (bench/bench_cli.py), so it touches as little as it can.
    quiet = output.quiet
    for item in items:
        tally.payloads += 1
        if item.refused is not None:
            tally.invalid += 1
            output.payload(item.place, None, (item.refused,), False)
            continue
        try:
            if provider is None:
                report = validate(item.data, profile=profile)
            else:
                report = from_provider(item.data, provider, profile=profile)
        except Exception as error:
            if debug:
                raise
            _failed(item.place, error, tally)
            continue
        if report.items or _is_list(report):
            # A list of batches (compat): each judged and counted on its own, at its
            # index in data; the list's own warnings are said once, at the list.
            tally.payloads -= 1
            if not report.items:
                tally.empty += 1
                _note(f"batchfsm: {item.place}: a list of batches with none in it")
            if not quiet:
                output.payload(item.place, None, report.violations, True, listing=True)
            for index, entry in enumerate(report.items):
                tally.payloads += 1
                place = attrs.evolve(item.place, item=index)
                _tally(entry, tally)
                if entry.violations or not quiet:
                    output.payload(place, entry, entry.violations, entry.ok)
            continue
        violations = report.violations
        valid = _tally(report, tally)
        if not violations and quiet:
            continue
        output.payload(item.place, report, violations, valid)


def _is_list(report: Report) -> bool:
    """Whether `report` is of a list of batches (one with no batch in it, too)."""
    return any(v.code == ENVELOPE.code for v in report.violations)


def _tally(report: Report, tally: _Tally) -> bool:
    """Count `report` as valid (with warnings or not) or invalid; whether it is valid."""
    if not report.violations:
        return True
    if report.ok:
        tally.warned += 1
        return True
    tally.invalid += 1
    return False


def _validate_history(
    items: Iterator[Item],
    profile: str,
    output: _Output,
    tally: _Tally,
    debug: bool,
    provider: str | None = None,
) -> None:
    places: list[Place] = []
    snapshots: list[object] = []
    refused: dict[int, Violation] = {}
    for item in items:
        if item.refused is not None:
            refused[len(places)] = attrs.evolve(item.refused, path=f"$[{len(places)}]")
            snapshots.append(b"")  # a stand-in, whose json.empty the refusal replaces
        else:
            snapshots.append(item.data)
        places.append(item.place)
    if not places:
        return
    tally.payloads += 1
    try:
        report: Report = check_history(snapshots, profile=profile, provider=provider)
    except Exception as error:
        if debug:
            raise
        _failed(places[-1], error, tally)
        return

    def where(violation: Violation) -> tuple[Place, str]:
        index, path = _index_path(violation.path)
        return places[min(index, len(places) - 1)], path

    violations = [
        *refused.values(),
        *(v for v in report.violations if _index_path(v.path)[0] not in refused),
    ]
    valid = all(v.severity is not Severity.ERROR for v in violations)
    if not valid:
        tally.invalid += 1
    elif violations:
        tally.warned += 1
    output.payload(places[-1], report, violations, valid, where)


def _index_path(path: str) -> tuple[int, str]:
    """``$[3].status`` → (3, ``$.status``): `check_history` puts each violation's snapshot
    first in its path; a path without one is the last snapshot's."""
    head, bracket, rest = path.partition("]")
    if bracket and head.startswith("$[") and head[2:].isdigit():
        return int(head[2:]), "$" + rest
    return sys.maxsize, path


# -- diagram and roundtrip -----------------------------------------------------------------


def _run_diagram(args: argparse.Namespace) -> int:
    from ._engine import Lifecycle

    output = _Output("text", False, sys.stdout)
    output.write(Lifecycle(profile=args.profile).diagram(format=args.format).rstrip() + "\n")
    return _EXIT_OK


def _exact(text: bytes | str) -> object:
    """JSON text as values, integers of any length exact: as decimals, which have no
    conversion limit (`int` refuses 4,301 digits)."""
    return json.loads(text, parse_int=decimal.Decimal)


def _same_json(first: bytes | str, second: bytes | str) -> bool | None:
    """Whether two JSON texts hold the same value; None when nested too deep to compare."""
    try:
        return _exact(first) == _exact(second)
    except RecursionError:
        return None


def _roundtrip(item: Item, profile: str, output: _Output, tally: _Tally) -> bool:
    """Decode one payload, encode it again and say whether the JSON came back unchanged
    (one with normalisations, read under compat, is counted in `tally` as warned)."""
    place = item.place
    if item.refused is not None:
        output.line(f"{place}: {item.refused}")
        return False
    assert item.data is not None  # an item is refused or has data
    try:
        batch = loads(item.data, profile=profile)
    except PayloadError as error:
        for violation in error.violations:
            output.line(f"{place}: {violation}")
        return False
    for note in batch.normalizations:
        output.line(f"{place}: warning: {note}")
    try:
        again = dumps(batch)
    except PayloadError as error:  # what roundtrip is for: a record that decodes, not back
        for violation in error.violations:
            output.line(f"{place}: cannot encode it again: {violation}")
        return False
    if not batch.normalizations:
        same = _same_json(again, item.data)
        if same is None:
            output.line(f"{place}: nested too deep to compare the JSON written again")
            return False
        if not same:
            output.line(f"{place}: encoding changed the payload")
            return False
    output.line(f"{place}: ok ({batch.id}, {batch.status.value})")
    tally.warned += bool(batch.normalizations)
    return True


def _run_roundtrip(args: argparse.Namespace) -> int:
    found = _found(args.paths)
    tally = _Tally()
    output = _Output("text", False, sys.stdout)
    for item in _items(found, args.max_bytes, tally, None, output):
        tally.payloads += 1
        try:
            ok = _roundtrip(item, args.profile, output, tally)
        except _OutputError:
            raise
        except Exception as error:
            if args.debug:
                raise
            _failed(item.place, error, tally)
            continue
        tally.invalid += not ok
    noun = "payload" if tally.payloads == 1 else "payloads"
    done = tally.payloads - tally.invalid - tally.failed
    failed = f", {tally.failed} not checked (internal error)" if tally.failed else ""
    output.line(
        f"{tally.payloads} {noun}: {done} ok ({tally.warned} with warnings),"
        f" {tally.invalid} failed{failed}"
    )
    return tally.status


# -- schema --------------------------------------------------------------------------------


def _run_schema(args: argparse.Namespace) -> int:
    from ._schema import json_schema

    text = json.dumps(json_schema(args.profile), indent=2)  # ASCII: any stdout writes it
    _Output("text", False, sys.stdout).write(text + "\n")
    return _EXIT_OK


# -- the command line ----------------------------------------------------------------------

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"([0-9]+)(?:([kmgt])(?:ib)?)?\Z", re.IGNORECASE)


def _byte_count(text: str) -> int:
    """A size: bytes, or with a unit K, M, G or T (also KiB …: powers of 1024)."""
    match = _SIZE.match(text.strip())
    value = int(match[1]) * _UNITS[(match[2] or "").lower()] if match else 0
    if not 1 <= value <= _MAX_MAX_BYTES:
        raise argparse.ArgumentTypeError(
            "expected a positive number of bytes, or of K, M, G or T (powers of 1024: 512K,"
            f" 16M), up to {_MAX_MAX_BYTES} bytes; got {text!r}"
        )
    return value


def _add_max_bytes(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-bytes",
        type=_byte_count,
        default=DEFAULT_MAX_SIZE,
        metavar="SIZE",
        help="refuse a line or document larger than SIZE: bytes, or with K, M, G or T for"
        " KiB, MiB, GiB, TiB (default: %(default)s)",
    )


def _add_profile(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--profile",
        choices=PROFILES,
        default="openai",
        help=f"{what}: strict (what OpenAI documents), openai (also what compatible services"
        " do), or compat (also their spellings, as warnings) (default: %(default)s)",
    )


def _plain(text: str) -> str:
    """A paragraph of a docstring as help prints it: one line, no ``literal`` marks."""
    return re.sub(r"``(.+?)``", r"\1", " ".join(text.split()))


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with the column of help texts placed as Python 3.13 places it: past
    the names of the commands too, at the depth they are printed (Python 3.10 to 3.12
    count them one level shallower), so that ``--help`` reads the same on every Python."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            for subaction in self._iter_indented_subactions(action):
                width = len(self._format_action_invocation(subaction)) + self._current_indent
                self._action_max_length = max(self._action_max_length, width)


def _parser() -> argparse.ArgumentParser:
    summary, exits, *_ = [*(__doc__ or "").split("\n\n"), "", ""]
    parser = argparse.ArgumentParser(
        prog="batchfsm",
        description=_plain(summary),
        epilog=_plain(exits),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"batchfsm {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "validate",
        help="check batch payloads: files, directories, JSON Lines, stdin",
        description="Check every payload and report each violation with its place. PATH is "
        "a file (a JSON object, a JSON array of them, or JSON Lines), a directory (its "
        "*.json, *.jsonl and *.ndjson files, recursively) or - for stdin (the default when "
        "stdin is not a terminal).",
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a file, a directory or - for stdin (default: stdin, when it is piped)",
    )
    _add_profile(check, "what is valid")
    check.add_argument(
        "--provider",
        choices=(*PROVIDERS, "auto"),
        default=None,
        metavar="NAME|auto",
        help="read each payload as this provider's native batch object, or recognise it by"
        f" its shape (auto): {', '.join(PROVIDERS)} (default: OpenAI's batch, as it is)",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "jsonl"),
        default="text",
        help="text: a line per payload and violation, and a summary; jsonl: a JSON record per"
        " payload; json: one JSON document at the end (default: %(default)s)",
    )
    check.add_argument(
        "--history", action="store_true", help="the payloads are snapshots of one batch, in order"
    )
    check.add_argument(
        "--quiet",
        action="store_true",
        help="report invalid payloads only (text: their errors; no ok lines or summary)",
    )
    _add_max_bytes(check)
    check.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    check.set_defaults(run=_run_validate)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of the batch object",
        description="Print the JSON Schema (2020-12) of the wire batch object under a profile,"
        " generated from batchfsm's record and rules: keys, types, statuses, ranges, limits."
        " The rules a schema cannot state are named in its description.",
    )
    _add_profile(schema, "the schema of what is valid")
    schema.set_defaults(run=_run_schema)

    diagram = commands.add_parser(
        "diagram",
        help="print the lifecycle as a mermaid diagram",
        description="Print the lifecycle table as a mermaid state diagram.",
    )
    diagram.add_argument(
        "--format", choices=("mermaid",), default="mermaid", help="(default: %(default)s)"
    )
    _add_profile(diagram, "the edges drawn")
    diagram.set_defaults(run=_run_diagram)

    roundtrip = commands.add_parser(
        "roundtrip",
        help="decode each payload and encode it again, losslessly",
        description="Decode each payload, encode it again, and say whether the JSON came back"
        " unchanged.",
    )
    roundtrip.add_argument(
        "paths", nargs="+", metavar="PATH", help="a file, a directory or - for stdin, as validate"
    )
    _add_profile(roundtrip, "what is decoded")
    _add_max_bytes(roundtrip)
    roundtrip.set_defaults(run=_run_roundtrip)

    serve = commands.add_parser(
        "serve",
        help="run the fake OpenAI Batch API as a local HTTP server (the server extra)",
        description="Serve batchfsm.testing.FakeBatchAPI on HOST:PORT in real time: every "
        "batch follows the fate given. The address is printed once the server listens.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="(default: %(default)s)")
    serve.add_argument(
        "--port", type=int, default=8000, help="0 picks a free port (default: %(default)s)"
    )
    serve.add_argument(
        "--fate",
        choices=tuple(_FATES),
        default="completes",
        help="what happens to every batch (default: %(default)s)",
    )
    serve.set_defaults(run=_run_serve)
    return parser


def _complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request, when this run is one and argcomplete is
    installed (the completion extra); else nothing happens."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


#: The fates `batchfsm serve --fate` offers, by name.
_FATES = {
    "completes": "completes",
    "some-fail": "completes",
    "fails-validation": "fails_validation",
    "expires": "expires",
    "stuck-finalizing": "stuck_finalizing",
    "cancelled": "cancelled",
}


def _run_serve(args: argparse.Namespace) -> int:
    import socket
    import time

    from ._fake import FakeBatchAPI
    from ._fake_fate import Fate

    try:
        import uvicorn
    except ImportError:
        _note("batchfsm serve needs uvicorn: pip install 'batchfsm[server]'")
        return _EXIT_USAGE
    make = getattr(Fate, _FATES[args.fate])
    fate = make(failing=0.5) if args.fate == "some-fail" else make()
    api = FakeBatchAPI(clock=time.time, fate=fate)
    # The socket is bound here so that the printed address is the real one (with --port 0
    # too) and a client reading it knows the server is ready.
    try:
        listener = socket.create_server((args.host, args.port))
    except OSError as error:
        _note(f"batchfsm serve: cannot listen on {args.host}:{args.port}: {error.strerror}")
        return _EXIT_USAGE
    host, port = listener.getsockname()[:2]
    print(f"serving the fake Batch API at http://{host}:{port}/v1", flush=True)
    config = uvicorn.Config(api.asgi, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])
    return _EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (see the module docstring)."""
    parser = _parser()
    _complete(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has printed
        return exit_.code if isinstance(exit_.code, int) else _EXIT_USAGE
    # Started with a standard stream closed (`<&-`, `>&-`), Python sets it to None.
    if args.command == "validate" and not args.paths and (sys.stdin is None or sys.stdin.isatty()):
        if sys.stderr is not None:
            parser.print_usage(sys.stderr)
        _note("batchfsm validate: give a PATH, or pipe payloads to stdin")
        return _EXIT_USAGE
    if sys.stdout is None:  # nowhere to write the results: the exit status still tells
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        status = run(args)
        _Output("text", False, sys.stdout).flush()  # here, where a closed pipe is caught
    except KeyboardInterrupt:
        return 130
    except _OutputError as failed:
        error = failed.__cause__
        if isinstance(error, BrokenPipeError):
            return _stdout_gone()
        _note(f"batchfsm: cannot write the output: {getattr(error, 'strerror', None) or error}")
        return _EXIT_USAGE
    except BrokenPipeError:
        return _stdout_gone()
    except Exception as error:
        if args.debug:
            raise
        _note(f"batchfsm: internal error: {error!r}; run again with --debug for the traceback")
        return _EXIT_BUG
    return status


def _stdout_gone() -> int:
    """The reader of stdout went away (`| head`): stop quietly, as shells report it."""
    # Python flushes stdout at exit, which would fail again: point it at /dev/null.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no descriptor: a stream made in a test
        pass
    return 141
