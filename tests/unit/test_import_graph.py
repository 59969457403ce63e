"""The import graph keeps its floors: no cycle between service packages, pure libraries stay pure.

Imports are read with ``ast`` (module level, inside functions and under ``TYPE_CHECKING``
alike), so a cycle hidden in a deferred import still counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "mobile_api", "checklists", "reports")
# The app factory mounts the phone surface: the one place service/ may name mobile_api.
COMPOSITION_ROOT = "service.app"


def module_name(path: Path) -> str:
    """``service/orders/services.py`` -> ``service.orders.services``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, ``from x import y`` as ``x.y``."""
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, node.module] if node.module else base)
            found.add(origin)
            # `from service import sla` imports the package service.sla.
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    graph: dict[str, set[str]] = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            graph[module_name(path)] = {
                name for name in imported_modules(path) if name.split(".")[0] in PACKAGES
            }
    return graph


def area(module: str) -> str:
    """The unit cycles are checked between: ``service.<package or module>``, else the top."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "service" and len(parts) > 1 else parts[0]


def area_edges(graph: Mapping[str, Iterable[str]]) -> dict[str, dict[str, set[str]]]:
    """Area -> imported area -> the modules making that import (self-imports left out)."""
    edges: dict[str, dict[str, set[str]]] = {}
    for module, imports in graph.items():
        for name in imports:
            source, target = area(module), area(name)
            if source != target:
                edges.setdefault(source, {}).setdefault(target, set()).add(module)
    return edges


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_module_level_and_deferred_imports() -> None:
    # Guards the guard: known edges must be found, or every assertion below would pass empty.
    edges = area_edges(import_graph())
    assert "service.sla" in edges["service.orders"]  # module-level
    assert "mobile_api" in edges["service.app"]  # inside create_app()
    assert "service.notifications" in edges["service.jobs"]  # inside a function


def test_cycle_finder_reports_a_cycle_and_only_a_cycle() -> None:
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"], "d": ["a"]}) == []


def test_no_cycle_between_service_packages() -> None:
    edges = area_edges(import_graph())
    service = {
        source: {target: who for target, who in targets.items() if target.startswith("service.")}
        for source, targets in edges.items()
        if source.startswith("service.")
    }
    found = cycles(service)
    detail = [
        f"{a} -> {b} ({', '.join(sorted(service[a][b]))})"
        for component in found
        for a in component
        for b in component
        if b in service.get(a, {})
    ]
    assert found == [], "\n".join(detail)


def test_pure_libraries_import_nothing_from_the_service() -> None:
    offenders = {
        module: sorted(name for name in imports if area(name) not in {"checklists", "reports"})
        for module, imports in import_graph().items()
        if area(module) in {"checklists", "reports"}
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_mobile_api_sits_above_the_service() -> None:
    graph = import_graph()
    mobile_imports = {
        area(name)
        for module, names in graph.items()
        if area(module) == "mobile_api"
        for name in names
    }
    assert any(name.startswith("service.") for name in mobile_imports)
    importers_of_mobile = {
        module
        for module, names in graph.items()
        if area(module) != "mobile_api" and any(area(name) == "mobile_api" for name in names)
    }
    assert importers_of_mobile == {COMPOSITION_ROOT}
