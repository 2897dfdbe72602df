"""Imports flow one way (the house style: events <- readmodels <- projectors / api; tools and bench on
top, bench above tools), no module imports itself back through others (no cycles, function-level
imports included), and nothing patches sys.path."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("events", "readmodels", "projectors", "api", "tools", "bench")
MAY_IMPORT = {
    "events": {"events"},
    "readmodels": {"events", "readmodels"},
    "projectors": {"events", "readmodels", "projectors"},
    "api": {"events", "readmodels", "api"},
    "tools": {"events", "readmodels", "projectors", "api", "tools"},
    "bench": set(PACKAGES),
}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _ours(name: str) -> str | None:
    """The module of ours `name` is, or is inside (an imported function or class)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {m for m in map(_ours, names) if m is not None}
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def test_imports_flow_one_way_between_the_packages() -> None:
    against = sorted((m, d) for m, deps in GRAPH.items() for d in deps
                     if d.split(".")[0] not in MAY_IMPORT[m.split(".")[0]])
    assert against == []


def test_no_module_imports_itself_back() -> None:
    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(GRAPH[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(GRAPH[m])
        return seen

    assert sorted(m for m in GRAPH if m in reaches(m)) == []


def test_nothing_patches_sys_path() -> None:
    assert [str(p.relative_to(ROOT)) for p in MODULES.values() if "sys.path" in p.read_text()] == []
