"""Concepts #14 asked to be defined once stay defined once in the service and the phone surface.

`checklists` and `reports` keep their own copies on purpose: they import nothing from `service`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The name and the one module that may bind it.
ONCE = {
    "Language": "service/common/i18n.py",
    "OPEN_ORDER_STATUSES": "service/db/models/work_orders.py",
}


def bound_at_module_level(path: Path) -> set[str]:
    """Names a module binds itself (assignments, annotated assignments, classes), not imports."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
    return names


def test_the_finder_sees_assignments_and_classes_but_not_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from x import Language\nA = 1\nB: int = 2\nclass C: ...\ndef f():\n    D = 3\n"
    )
    assert bound_at_module_level(module) == {"A", "B", "C"}


def test_each_concept_is_defined_in_one_module() -> None:
    where: dict[str, list[str]] = {name: [] for name in ONCE}
    for package in ("service", "mobile_api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in bound_at_module_level(path) & ONCE.keys():
                where[name].append(path.relative_to(ROOT).as_posix())
    assert where == {name: [home] for name, home in ONCE.items()}
