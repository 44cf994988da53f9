"""Compiling generated source so that tracebacks and debuggers can show it.

As attrs (``_make._linecache_and_compile``) and cattrs (``gen._lc``) do, each generated
function's source is put in `linecache` under a unique file name before it is compiled:
a traceback through it then shows the line that failed, and ``inspect.getsource`` works.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Sequence
from typing import Any

__all__ = ["compile_lines"]

_serial = itertools.count(1)


def compile_lines(lines: Sequence[str], title: str, names: dict[str, Any]) -> dict[str, Any]:
    """Compile `lines` (one or more ``def`` statements) with the globals `names`.

    Returns:
        The namespace the definitions were made in.
    """
    source = "\n".join(lines) + "\n"
    filename = f"<batchfsm generated {title} {next(_serial)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(names)
    exec(compile(source, filename, "exec"), namespace)
    return namespace
