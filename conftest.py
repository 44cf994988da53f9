"""Collects the Python examples in README.md and docs/*.md as tests (Sybil), run from here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

_ROOT = Path(__file__).parent


def _enter_root(namespace: dict[str, Any]) -> None:
    namespace["_previous_cwd"] = os.getcwd()
    os.chdir(_ROOT)


def _leave_root(namespace: dict[str, Any]) -> None:
    os.chdir(namespace.pop("_previous_cwd"))


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["README.md", "docs/*.md"],
    setup=_enter_root,
    teardown=_leave_root,
).pytest()
