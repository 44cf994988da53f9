"""The docs site: every public name documented and in the generated reference, every page in
the site's navigation, and every example runnable from the installed package.

The reference pages (docs/reference/*.md) are mkdocstrings directives, ``::: batchfsm.Name``;
CI builds the site with ``mkdocs build --strict``, which fails on a directive that does not
resolve. These tests need no MkDocs: they read the directives and the docstrings themselves.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
PUBLIC_MODULES = ("batchfsm", "batchfsm.store", "batchfsm.testing", "batchfsm.strategies")

_DIRECTIVE = re.compile(r"^::: *(?P<target>[\w.]+) *$")


def _public_names() -> list[tuple[str, str]]:
    """Every (module, name) of the public modules' ``__all__``."""
    return [
        (module, name)
        for module in PUBLIC_MODULES
        for name in importlib.import_module(module).__all__
    ]


def _directives() -> dict[str, list[tuple[Path, dict[str, str]]]]:
    """Each ``:::`` target of the reference pages, with the page and the options it has
    (indented ``key: value`` lines under ``options:``; a block list's items joined by
    spaces)."""
    found: dict[str, list[tuple[Path, dict[str, str]]]] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        lines = page.read_text("utf-8").splitlines()
        for number, line in enumerate(lines):
            match = _DIRECTIVE.match(line)
            if match is None:
                continue
            options: dict[str, str] = {}
            key = ""
            for option in lines[number + 1 :]:
                if not option.startswith("    "):
                    break
                if option.strip().startswith("- "):  # an item of a block list: key's value
                    options[key] = f"{options[key]} {option.strip()[2:]}".strip()
                    continue
                key, _, value = option.strip().partition(":")
                key = key.strip()
                if key != "options":
                    options[key] = value.strip()
            found.setdefault(match["target"], []).append((page, options))
    return found


def _covering(module: str, name: str) -> list[str]:
    """The directives that render `module.name`: its own, or its module's when that one
    renders every name of the module's ``__all__`` (no ``members`` or ``filters`` option
    narrowing it down)."""
    directives = _directives()
    covering = [f"{module}.{name}"] if f"{module}.{name}" in directives else []
    for _page, options in directives.get(module, []):
        members = options.get("members")
        if "filters" in options:
            continue
        if members is None or re.search(rf"\b{re.escape(name)}\b", members):
            covering.append(module)
    return covering


def _attribute_docstring(module: ModuleType, name: str) -> str | None:
    """The docstring under the assignment of `name` (a constant), following the public
    module's ``from … import name`` to the module that assigns it, as griffe does."""
    spec = importlib.util.find_spec(module.__name__)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text("utf-8"))
    body = tree.body
    for index, node in enumerate(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            after = body[index + 1] if index + 1 < len(body) else None
            if (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                return inspect.cleandoc(after.value.value)
            return None
    for imported in ast.walk(tree):
        if isinstance(imported, ast.ImportFrom) and any(a.name == name for a in imported.names):
            package = module.__name__ if spec.submodule_search_locations else module.__package__
            relative = "." * imported.level + (imported.module or "")
            source = importlib.import_module(relative, package)
            return _attribute_docstring(source, name)
    return None


def _docstring(module: str, name: str) -> str | None:
    """The docstring the reference shows for `module.name`: a class's or function's own
    (never one inherited), or a constant's attribute docstring."""
    imported = importlib.import_module(module)
    value = getattr(imported, name)
    if inspect.isclass(value):
        doc = vars(value).get("__doc__")
        return doc if isinstance(doc, str) else None
    if inspect.isroutine(value):
        return value.__doc__
    return _attribute_docstring(imported, name)


class TestDocstrings:
    """Every public name documents itself, where the generated reference reads it."""

    @pytest.mark.parametrize(("module", "name"), _public_names())
    def test_every_public_name_has_a_docstring(self, module: str, name: str) -> None:
        """A name in a public module's __all__ has a docstring of three words or more."""
        doc = _docstring(module, name)
        assert doc, f"{module}.{name} has no docstring"
        assert len(doc.split()) >= 3, f"{module}.{name}: {doc!r} says too little"

    @pytest.mark.parametrize(("module", "name"), _public_names())
    def test_public_methods_have_docstrings(self, module: str, name: str) -> None:
        """Each public method and property of a public class has a docstring to render."""
        value = getattr(importlib.import_module(module), name)
        if not inspect.isclass(value):
            return
        missing = []
        for attribute, member in vars(value).items():
            if attribute.startswith("_"):
                continue
            function = getattr(member, "__func__", member)
            function = getattr(function, "fget", function)
            if inspect.isfunction(function) and not function.__doc__:
                missing.append(attribute)
        assert missing == [], f"{module}.{name}: no docstring on {missing}"

    def test_a_constant_without_a_docstring_is_found(self) -> None:
        """The constant reader finds a docstring through a re-export, and none for a comment."""
        batchfsm = importlib.import_module("batchfsm")
        doc = _attribute_docstring(batchfsm, "MAX_PER_CODE")
        assert doc is not None
        assert doc.startswith("At most this many violations")
        record = importlib.import_module("batchfsm._record")
        assert _attribute_docstring(record, "REQUIRED_FIELDS") is None  # a #: comment only


class TestReference:
    """The reference pages render every public name once, and nothing else."""

    @pytest.mark.parametrize(("module", "name"), _public_names())
    def test_every_public_name_is_in_the_reference(self, module: str, name: str) -> None:
        """A name in a public module's __all__ is rendered by exactly one directive."""
        covering = _covering(module, name)
        assert covering, f"no ::: directive in docs/reference/ renders {module}.{name}"
        assert len(covering) == 1, f"{module}.{name} is rendered by {covering}"

    def test_every_directive_names_something_public(self) -> None:
        """Each directive names a public module, or a name of a public module's __all__."""
        public = {f"{module}.{name}" for module, name in _public_names()}
        for target, places in _directives().items():
            assert target in public or target in PUBLIC_MODULES, (target, places)
            assert len(places) == 1, f"{target} is rendered on {[p for p, _ in places]}"

    def test_the_directive_reader_sees_options(self) -> None:
        """The directive reader sees options, so a ``members`` list narrows a module's names."""
        directives = _directives()
        assert directives["batchfsm.Status"][0][1]["show_if_no_docstring"] == "true"
        assert "members" not in directives["batchfsm.testing"][0][1]
        assert _covering("batchfsm.testing", "Fate") == ["batchfsm.testing"]
        members = directives["batchfsm.store"][0][1]["members"].split()
        assert members[:3] == ["Store", "SQLiteStore", "PostgresStore"]
        assert _covering("batchfsm.store", "SQLiteStore") == ["batchfsm.store"]
        assert _covering("batchfsm.store", "Nothing") == []


class TestSite:
    """mkdocs.yml puts every page in the navigation, and the examples need no checkout."""

    def test_every_page_is_in_the_navigation(self) -> None:
        """Each Markdown file under docs/ is in mkdocs.yml's nav, and each nav entry exists."""
        lines = (ROOT / "mkdocs.yml").read_text("utf-8").splitlines()
        nav: list[str] = []
        for line in lines[lines.index("nav:") + 1 :]:
            if line and not line.startswith(" "):  # the next top-level key
                break
            nav.append(line)
        listed = set(re.findall(r"([\w/.-]+\.md)\s*$", "\n".join(nav), re.MULTILINE))
        pages = {str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md")}
        assert pages - listed == set(), "pages missing from mkdocs.yml's nav"
        assert listed - pages == set(), "nav entries with no page"

    @pytest.mark.parametrize(
        "page", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name
    )
    def test_examples_read_no_repository_files(self, page: Path) -> None:
        """No Python example names a file of the repository (tests/, examples/, docs/)."""
        blocks = re.findall(r"^```python\n(.*?)^```", page.read_text("utf-8"), re.S | re.M)
        for block in blocks:
            found = re.findall(r"""["'](?:\./)?(?:tests|examples|docs|batchfsm)/[^"']*""", block)
            assert found == [], f"{page.name}: an example reads {found}"
