"""The documentation site builds with ``mkdocs build --strict``: broken links, missing anchors,
pages left out of the nav and API-reference failures are errors. Also the build-time hook
(docs/hooks.py): the generated catalogue and the docstring-example rewriting."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import outcomes
from outcomes.instruments.catalogue import catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _hooks():
    spec = importlib.util.spec_from_file_location("outcomes_docs_hooks", DOCS / "hooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _missing_docs_tools() -> str | None:
    for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(name.split(".")[0]) is None:
            return name
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    missing = _missing_docs_tools()
    if missing:
        pytest.skip(
            f"{missing} is not installed, so the strict site build cannot run here; "
            "install the docs extra: pip install -e '.[docs]'"
        )
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    assert "WARNING" not in log, log[-6000:]

    # Opened from disk: every page is a file and every link names one (no folder links).
    assert not (site / "catalogue").exists()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="report.html"' in home and 'href="reading_your_report.html"' in home
    assert not re.findall(r'href="(?!https?:|#|mailto:)[^"]*/"', home)

    catalogue = (site / "catalogue.html").read_text(encoding="utf-8")
    assert "outcomes:catalogue" not in catalogue  # the stub was replaced
    for inst in outcomes.list_instruments():
        assert f"<code>{inst}</code>" in catalogue, f"{inst} missing from the catalogue"

    # The API reference renders docstring examples as code, not as a parameter named Example.
    change = (site / "api" / "change.html").read_text(encoding="utf-8")
    assert "paired_change" in change and "Examples" in change
    assert "<code>Example</code>" not in change


def test_every_page_is_in_the_nav_and_every_nav_page_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def walk(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    nav = set(walk(config["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert not sorted(pages - nav), f"pages missing from the nav: {sorted(pages - nav)}"
    assert not sorted(nav - pages), f"nav entries without a page: {sorted(nav - pages)}"


def test_every_public_module_has_an_api_page():
    src = ROOT / "src" / "outcomes"
    # Subpackages grouped by domain are documented module by module; the others as a whole.
    by_module = {"instruments", "change", "longitudinal"}
    wanted = {p.stem for p in src.glob("*.py")}
    for init in src.glob("*/__init__.py"):
        pkg = init.parent.name
        if pkg in by_module:
            wanted |= {f"{pkg}.{p.stem}" for p in init.parent.glob("*.py") if p.stem != "__init__"}
        else:
            wanted.add(pkg)
    public = sorted(m for m in wanted if not any(part.startswith("_") for part in m.split(".")))
    public = [m for m in public if m.split(".")[0] != "cli"]  # the command line has its own docs
    rendered = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    for name in public:
        assert f"::: outcomes.{name}\n" in rendered + "\n", f"no API page renders outcomes.{name}"


def test_hook_fills_the_catalogue_and_leaves_other_pages_alone():
    hooks = _hooks()
    stub = (DOCS / "catalogue.md").read_text()
    page = SimpleNamespace(file=SimpleNamespace(src_uri="catalogue.md"))
    assert hooks.on_page_markdown(stub, page, None, None) == catalogue_markdown()
    other = SimpleNamespace(file=SimpleNamespace(src_uri="methods.md"))
    assert hooks.on_page_markdown("# Methods", other, None, None) == "# Methods"
    with pytest.raises(ValueError, match="marker"):
        hooks.on_page_markdown("# Instrument catalogue\n", page, None, None)


def test_example_labels_become_numpydoc_examples_sections():
    norm = _hooks().normalise_examples
    colon = textwrap.dedent(
        """\
        Summary.

        Parameters
        ----------
        x
            The x.

        Example:
            >>> f(1)
            2
        """
    )
    out = norm(colon)
    assert "Examples\n--------\n>>> f(1)\n2" in out
    assert "    The x." in out and "Example:" not in out

    underlined = textwrap.dedent(
        """\
        Summary.

        Example
        -------
        >>> f(1)
        2

        Notes
        -----
        A note.
        """
    )
    out = norm(underlined)
    assert "Examples\n--------\n>>> f(1)\n2\n\nNotes\n-----\nA note." in out

    # A label with no Parameters section before it, and a body followed by dedented prose.
    assert norm("Load it.\n\nExample:\n    >>> g()\n    'ok'\nAfter.") == (
        "Load it.\n\nExamples\n--------\n>>> g()\n'ok'\nAfter."
    )
    # Prose that merely mentions an example is left alone.
    prose = "An Example: of nothing.\n\nExample of a phrase"
    assert norm(prose) == prose


def test_every_docstring_example_in_the_package_is_rewritten():
    """After the rewrite no docstring still has an 'Example' label griffe would misread."""
    import inspect
    import pkgutil
    import re

    norm = _hooks().normalise_examples
    label = re.compile(r"^\s*Examples?:{0,2}\s*$", re.M)
    left = []
    for info in pkgutil.walk_packages(outcomes.__path__, "outcomes."):
        if info.name == "outcomes.cli" or info.name.startswith("outcomes.cli."):
            continue  # command-line glue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != mod.__name__ or name.startswith("_"):
                continue
            doc = inspect.getdoc(obj) or ""
            fixed = norm(doc)
            stray = [m for m in label.findall(fixed) if m.strip() != "Examples"]
            if ">>>" in doc and stray:
                left.append(f"{info.name}.{name}")
    assert not left, f"example labels not rewritten: {left}"
