"""No import circle between the project's modules (an AST walk, TYPE_CHECKING imports included)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["agent", "catalog", "knowledge_graph", "tools", "tui", "evaluation", "benchmarks", "convrec"]


def _modules(root: Path, packages: list[str]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return found


def _module_level(node: ast.AST) -> Iterator[ast.AST]:
    """Every node run at import time: module and class bodies, `if TYPE_CHECKING:` blocks,
    try/except; not function bodies (a deferred import is no import-time edge)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        yield from _module_level(child)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_pkg: bool,
             modules: dict[str, tuple[Path, bool]]) -> list[str]:
    """The project modules one import statement names (`from a import b` names a.b when that is a
    module, else the package a)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = (module if is_pkg else module.rpartition(".")[0]).split(".")
            base = base[:len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix
                 for a in node.names]
    resolved = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            resolved.append(name)
    return resolved


def import_graph(root: Path = ROOT, packages: list[str] = PACKAGES) -> nx.DiGraph:
    """module -> module for every import-time import between the project's modules."""
    modules = _modules(root, packages)
    graph = nx.DiGraph()
    for module, (path, is_pkg) in modules.items():
        graph.add_node(module)
        for node in _module_level(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, module, is_pkg, modules):
                    graph.add_edge(module, target)
    return graph


def test_the_walk_sees_the_known_layers() -> None:
    """The walk finds real edges, TYPE_CHECKING ones included (else 'no cycle' means nothing)."""
    graph = import_graph()
    assert len(graph) > 80
    assert graph.has_edge("agent.core", "agent.session")
    assert graph.has_edge("agent.session", "agent.host")
    assert graph.has_edge("agent.memory", "agent.host")  # only under TYPE_CHECKING
    assert graph.has_edge("agent.store", "agent.settings")  # only under TYPE_CHECKING
    assert graph.has_edge("agent.core", "agent.memory")  # `from agent import memory`


def test_no_import_circle_between_modules() -> None:
    circles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert circles == [], f"import circles: {circles}"


def test_a_circle_would_be_found(tmp_path: Path) -> None:
    """The check itself, on a made-up package: a relative import one way, a TYPE_CHECKING import
    the other way is a circle; a deferred import inside a function is not."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import B\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from pkg.a import A\nB = 1\n")
    (pkg / "c.py").write_text("from pkg import a\n")
    (pkg / "d.py").write_text("def f():\n    from pkg import c\n")
    (pkg / "sub").mkdir()
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "e.py").write_text("from .. import d\n")
    graph = import_graph(tmp_path, ["pkg"])
    circles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == [{"pkg.a", "pkg.b"}]
    assert graph.has_edge("pkg.c", "pkg.a") and not graph.has_edge("pkg.c", "pkg")
    assert graph.has_edge("pkg.sub.e", "pkg.d") and not graph.has_edge("pkg.d", "pkg.c")
