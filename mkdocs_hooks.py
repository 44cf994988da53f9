"""MkDocs hooks for the docs site (mkdocs.yml names this file).

- docs/research.md, and the pages generated from the tables (lifecycle.md, providers.md), cite
  their sources as bracketed keys separated by a space: ``[ZJ] [AZ-PY]``. Markdown reads such
  a pair as a reference link (text ``ZJ``, label ``AZ-PY``), which the autorefs plugin then
  reports as a broken cross-reference. The space between two keys is written as a character
  reference here, so the pair stays plain text and renders exactly as written.
- A page may link to a file of the repository outside docs/ (guarantees.md links each promise
  to its test: ``[name](../tests/test_engine.py)``). That works where the Markdown is read in
  the repository; on the site the link goes to the file in the repository's web view instead.
"""

from __future__ import annotations

import re
from typing import Any

_CITATION_PAIR = re.compile(r"(\[[A-Z][A-Za-z0-9-]*\]) (?=\[[A-Z][A-Za-z0-9-]*\])")
_OUT_OF_DOCS = re.compile(r"\]\(\.\./(?!\.\./)([^)\s#]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, *, config: Any, **_: Any) -> str:
    """Keep source keys plain text, and point links out of docs/ at the repository."""
    markdown = _CITATION_PAIR.sub(r"\1&#32;", markdown)
    blob = f"{config['repo_url'].rstrip('/')}/blob/main/"
    return _OUT_OF_DOCS.sub(lambda m: f"]({blob}{m[1]}{m[2] or ''})", markdown)
