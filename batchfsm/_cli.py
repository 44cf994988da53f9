"""The ``batchfsm`` command: validate batch payloads, draw the lifecycle, check round trips.

Exit status: 0 when every payload is valid, 1 when any is invalid (or unparseable), 2 for a
usage error or a path that cannot be read, 3 for a bug in batchfsm (``--debug`` shows its
traceback); 130 when interrupted and 141 when the reader of stdout went away, as shells do.
Bad input never shows a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from . import _json
from ._codec import dumps, loads
from ._errors import PayloadError, Severity, Violation
from ._profile import PROFILES
from ._sources import STDIN, Item, Place, Unreadable, discover, read, size
from ._validate import Report, check_history, validate, violation_dict

__all__ = ["main"]

_MIB = 1 << 20
DEFAULT_MAX_BYTES = 16 * _MIB
# A progress bar is worth drawing only when reading takes a while.
_PROGRESS_MIN_BYTES = 8 * _MIB
_EXIT_OK, _EXIT_INVALID, _EXIT_USAGE, _EXIT_BUG = 0, 1, 2, 3


# -- validate ------------------------------------------------------------------------------


@attrs.define
class _Tally:
    """What a run found, for the summary and the exit status."""

    payloads: int = 0
    invalid: int = 0
    warned: int = 0
    unreadable: int = 0

    @property
    def status(self) -> int:
        if self.unreadable:
            return _EXIT_USAGE
        return _EXIT_INVALID if self.invalid else _EXIT_OK


class _Output:
    """Writes each payload's result in the chosen format, and the summary."""

    def __init__(self, form: str, quiet: bool, out: TextIO) -> None:
        self.form = form
        self.quiet = quiet
        self.out = out
        self.results: list[dict[str, Any]] = []  # for --format json

    def payload(
        self,
        place: Place,
        report: Report | None,
        violations: Sequence[Violation],
        valid: bool,
        where: Callable[[Violation], tuple[Place, str]] | None = None,
    ) -> None:
        """One payload's result; `where` maps a violation to its place and path (history)."""
        if self.quiet and valid:
            return
        batch_id = report.batch_id if report is not None else None
        if self.form == "text":
            if valid:
                batch = report.batch if report is not None else None
                status = batch.status.value if batch is not None else None
                self.out.write(f"{place}: ok ({batch_id}, {status})\n")
            for violation in violations:
                if self.quiet and violation.severity is not Severity.ERROR:
                    continue
                at, path = where(violation) if where else (place, violation.path)
                warning = "warning: " if violation.severity is Severity.WARNING else ""
                self.out.write(f"{at}: {warning}{path}: {violation.message} [{violation.code}]\n")
            return
        record: dict[str, Any] = {
            "source": place.source,
            "line": place.line,
            "index": place.index,
            "batch_id": batch_id,
            "valid": valid,
            "violations": [violation_dict(v) for v in violations],
        }
        if where is not None:
            for entry, violation in zip(record["violations"], violations, strict=True):
                at, path = where(violation)
                entry.update(path=path, at=str(at))
        if self.form == "jsonl":
            self.out.write(_json.encode(record) + "\n")
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
                "results": self.results,
            }
            self.out.write(_json.encode(document) + "\n")
        elif self.form == "text" and not self.quiet:
            valid = tally.payloads - tally.invalid
            noun = "payload" if tally.payloads == 1 else "payloads"
            self.out.write(
                f"{tally.payloads} {noun}: {valid} valid ({tally.warned} with warnings),"
                f" {tally.invalid} invalid\n"
            )


def _progress(sources: Sequence[str], wanted: bool) -> Any:
    """A tqdm bar over the bytes of `sources` on stderr, or None when it is not worth one."""
    if not wanted or not sys.stderr.isatty():
        return None
    total = sum(size(source) or 0 for source in sources)
    if total < _PROGRESS_MIN_BYTES:
        return None
    from tqdm import tqdm  # imported only when a bar is drawn

    return tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False
    )


def _items(
    found: Sequence[str | Unreadable], max_bytes: int, tally: _Tally, bar: Any
) -> Iterator[Item]:
    """Every payload of every source; unreadable sources are reported and counted."""
    advance = bar.update if bar is not None else None
    for source in found:
        if isinstance(source, Unreadable):
            _unreadable(source.path, source.reason, tally)
            continue
        try:
            yield from read(source, max_bytes, advance)
        except OSError as error:
            _unreadable(source, error.strerror or str(error), tally)


def _unreadable(path: str, reason: str, tally: _Tally) -> None:
    tally.unreadable += 1
    print(f"batchfsm: cannot read {path}: {reason}", file=sys.stderr)


def _snapshot(data: object) -> object:
    """What `validate` takes for an item's data: text as is, an array's element when an
    object, and other elements as JSON text (validate says they are not objects)."""
    if type(data) is bytes or isinstance(data, dict):
        return data
    return _json.encode(data)


def _run_validate(args: argparse.Namespace) -> int:
    paths: list[str] = args.paths or [STDIN]
    found = list(discover(paths))
    tally = _Tally()
    output = _Output(args.format, args.quiet, sys.stdout)
    bar = _progress([s for s in found if isinstance(s, str)], not args.no_progress)
    try:
        items = _items(found, args.max_bytes, tally, bar)
        if args.history:
            _validate_history(items, args.profile, output, tally)
        else:
            _validate_each(items, args.profile, output, tally)
    finally:
        if bar is not None:
            bar.close()
    output.summary(tally, args.profile)
    return tally.status


def _validate_each(items: Iterator[Item], profile: str, output: _Output, tally: _Tally) -> None:
    # Once per payload: what a clean payload costs here is what the command adds to
    # `validate` (bench/bench_cli.py), so it touches as little as it can.
    quiet = output.quiet
    for item in items:
        tally.payloads += 1
        if item.refused is not None:
            tally.invalid += 1
            output.payload(item.place, None, (item.refused,), False)
            continue
        data = item.data
        report = validate(data if type(data) is bytes else _snapshot(data), profile=profile)
        violations = report.violations
        valid = True
        if violations:
            valid = report.ok
            if valid:
                tally.warned += 1
            else:
                tally.invalid += 1
        elif quiet:
            continue
        output.payload(item.place, report, violations, valid)


def _validate_history(items: Iterator[Item], profile: str, output: _Output, tally: _Tally) -> None:
    places: list[Place] = []
    snapshots: list[object] = []
    refused: dict[int, Violation] = {}
    for item in items:
        if item.refused is not None:
            refused[len(places)] = attrs.evolve(item.refused, path=f"$[{len(places)}]")
            snapshots.append(b"")  # a stand-in, whose json.empty the refusal replaces
        else:
            snapshots.append(_snapshot(item.data))
        places.append(item.place)
    if not places:
        return
    report: Report = check_history(snapshots, profile=profile)
    violations = [
        *refused.values(),
        *(v for v in report.violations if _index_path(v.path)[0] not in refused),
    ]
    tally.payloads += 1
    valid = all(v.severity is not Severity.ERROR for v in violations)
    if not valid:
        tally.invalid += 1
    elif violations:
        tally.warned += 1

    def where(violation: Violation) -> tuple[Place, str]:
        index, path = _index_path(violation.path)
        return places[index], path

    output.payload(places[-1], report, violations, valid, where)


def _index_path(path: str) -> tuple[int, str]:
    """``$[3].status`` → (3, ``$.status``): `check_history` puts each violation's snapshot
    first in its path."""
    end = path.index("]")
    return int(path[2:end]), "$" + path[end + 1 :]


# -- diagram and roundtrip -----------------------------------------------------------------


def _run_diagram(args: argparse.Namespace) -> int:
    from ._engine import Lifecycle

    sys.stdout.write(Lifecycle(profile=args.profile).diagram(format=args.format).rstrip() + "\n")
    return _EXIT_OK


def _payload_files(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.json") if p.is_file())
        else:
            yield path


def _roundtrip(path: Path, profile: str, out: TextIO) -> bool:
    """Decode one file, encode it again and say whether the JSON came back unchanged."""
    raw = path.read_bytes()
    try:
        batch = loads(raw, profile=profile)
    except PayloadError as error:
        for violation in error.violations:
            print(f"{path}: {violation}", file=out)
        return False
    for note in batch.normalizations:
        print(f"{path}: warning: {note}", file=out)
    again = _json.parse(dumps(batch))
    if not batch.normalizations and again != _json.parse(raw):  # pragma: no cover - a codec bug
        print(f"{path}: encoding changed the payload", file=out)
        return False
    print(f"{path}: ok ({batch.id}, {batch.status.value})", file=out)
    return True


def _run_roundtrip(args: argparse.Namespace) -> int:
    ok = True
    for path in _payload_files(args.paths):
        try:
            ok = _roundtrip(path, args.profile, sys.stdout) and ok
        except OSError as error:
            print(f"batchfsm: cannot read {path}: {error.strerror}", file=sys.stderr)
            return _EXIT_USAGE
    return _EXIT_OK if ok else _EXIT_INVALID


# -- the command line ----------------------------------------------------------------------


def _byte_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batchfsm", description=__doc__.split("\n", 1)[0] if __doc__ else None
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "validate",
        help="check batch payloads: files, directories, JSON Lines, stdin",
        description="Check every payload and report each violation with its place. PATH is "
        "a file (a JSON object, a JSON array of them, or JSON Lines), a directory (its "
        "*.json, *.jsonl and *.ndjson files, recursively) or - for stdin (the default when "
        "stdin is not a terminal).",
    )
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument("--profile", choices=PROFILES, default="openai")
    check.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    check.add_argument(
        "--history", action="store_true", help="the payloads are snapshots of one batch, in order"
    )
    check.add_argument(
        "--quiet",
        action="store_true",
        help="report invalid payloads only (text: their errors; no ok lines or summary)",
    )
    check.add_argument(
        "--max-bytes",
        type=_byte_count,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"refuse a line or document larger than N bytes (default {DEFAULT_MAX_BYTES})",
    )
    check.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    check.set_defaults(run=_run_validate)

    diagram = commands.add_parser("diagram", help="print the lifecycle as a mermaid diagram")
    diagram.add_argument("--format", choices=("mermaid",), default="mermaid")
    diagram.add_argument("--profile", choices=PROFILES, default="openai")
    diagram.set_defaults(run=_run_diagram)

    roundtrip = commands.add_parser(
        "roundtrip", help="decode each payload and encode it again, losslessly"
    )
    roundtrip.add_argument("paths", nargs="+", metavar="PATH", help="a .json file or a directory")
    roundtrip.add_argument("--profile", choices=PROFILES, default="openai")
    roundtrip.set_defaults(run=_run_roundtrip)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (see the module docstring)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has printed
        return exit_.code if isinstance(exit_.code, int) else _EXIT_USAGE
    if args.command == "validate" and not args.paths and sys.stdin.isatty():
        parser.print_usage(sys.stderr)
        print("batchfsm validate: give a PATH, or pipe payloads to stdin", file=sys.stderr)
        return _EXIT_USAGE
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        # Python flushes stdout at exit, which would fail again: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as error:
        if args.debug:
            raise
        print(
            f"batchfsm: internal error: {error!r}; run again with --debug for the traceback",
            file=sys.stderr,
        )
        return _EXIT_BUG
