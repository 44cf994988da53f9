"""Collects the Python examples in README.md and docs/*.md as tests (Sybil).

Each document's examples run in a new, empty working directory, not in the repository: they
may use only what the installed package ships (and files they write themselves), as they
will for a reader who copies them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser


def _enter_empty_directory(namespace: dict[str, Any]) -> None:
    namespace["_previous_cwd"] = os.getcwd()
    namespace["_workdir"] = tempfile.mkdtemp(prefix="batchfsm-docs-")
    os.chdir(namespace["_workdir"])


def _leave_empty_directory(namespace: dict[str, Any]) -> None:
    os.chdir(namespace.pop("_previous_cwd"))
    shutil.rmtree(namespace.pop("_workdir"), ignore_errors=True)


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["README.md", "docs/*.md"],
    setup=_enter_empty_directory,
    teardown=_leave_empty_directory,
).pytest()
