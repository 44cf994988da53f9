"""The ``batchfsm`` command: decode batch payloads from files and check they round-trip."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from . import _json
from ._codec import PROFILES, dumps, loads
from ._errors import PayloadError

__all__ = ["main"]


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="batchfsm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    roundtrip = commands.add_parser(
        "roundtrip", help="decode each payload and encode it again, losslessly"
    )
    roundtrip.add_argument("paths", nargs="+", metavar="PATH", help="a .json file or a directory")
    roundtrip.add_argument("--profile", choices=PROFILES, default="openai")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 bad payload, 2 usage)."""
    args = _parser().parse_args(argv)
    ok = True
    for path in _payload_files(args.paths):
        try:
            ok = _roundtrip(path, args.profile, sys.stdout) and ok
        except OSError as error:
            print(f"batchfsm: cannot read {path}: {error.strerror}", file=sys.stderr)
            return 2
    return 0 if ok else 1
