"""The package's structure: no import cycles, command-line code only in outcomes.cli.

The import graph is read from the source with ``ast`` (every import, also those inside
functions, because a lazy import still ties two modules together), so a cycle fails here
before it becomes an ImportError that depends on which module happens to load first.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT_PKG = "outcomes"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@functools.cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / ROOT_PKG).rglob("*.py")}


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (a submodule named in ``from pkg import sub``
    counts as the submodule, not the package)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node.level, node.module)
                targets = []
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in mods else base)
            else:
                continue
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                # Importing a package's own parents is how Python loads it, not a dependency.
                if t and t != mod and not mod.startswith(t + "."):
                    graph[mod].add(t)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_resolve_like_python():
    assert _resolve("outcomes.change.paired", False, 2, "errors") == "outcomes.errors"
    assert _resolve("outcomes.change", True, 1, "paired") == "outcomes.change.paired"
    assert _resolve("outcomes.cli.main", False, 1, None) == "outcomes.cli"


def test_the_graph_sees_known_edges():
    graph = import_graph()
    assert "outcomes.change.paired" in graph["outcomes.change.reliable"]
    assert "outcomes.errors" in graph["outcomes.change.paired"]


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    "module", sorted(m for m in _modules() if not m.startswith("outcomes.cli"))
)
def test_command_line_code_only_in_cli(module):
    # Library modules are used from notebooks and other programs: no Typer, no console exits.
    graph = import_graph()
    assert not any(t.startswith("outcomes.cli") for t in graph[module]), module
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    imported = {
        a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [ast.alias(n.module or "")])
    }
    assert "typer" not in imported, f"{module} imports typer: command-line code belongs in cli/"
