"""Collects the Python examples in README.md and docs/*.md as tests (Sybil).

Each document's examples run in a new, empty working directory, not in the repository: they
may use only what the installed package ships (and files they write themselves), as they
will for a reader who copies them.

A document's examples share one namespace and run in order, so under ``pytest -n``
(pytest-xdist) each document must run on one worker: the scheduler below keeps a document's
examples together and hands out every other test one by one, as ``--dist load`` does.
(``--dist loadgroup`` with an ``xdist_group`` mark would say the same, but pytest 9.2's
node ids no longer carry the group, pytest-dev/pytest-xdist#1386.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import pytest
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


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``pytest -n`` (``--dist load``, its default): one document's examples to one
    worker, in order; every other test on its own."""
    if config.getvalue("dist") != "load":
        return None  # a --dist the caller chose: xdist's own scheduler
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class DocumentScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".md") else nodeid

    return DocumentScheduling(config, log)
