"""Every third-party module the code imports comes from a distribution pyproject declares.

Runtime imports of the four packages need a runtime dependency; imports only for type checking
(under ``if TYPE_CHECKING:``) and the tests' imports may come from the dev extra, the
benchmarks' from the bench extra too. A module installed only by accident (as a dependency of a
dependency) fails here, before it fails on a clean install.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = frozenset({"service", "mobile_api", "checklists", "reports", "tests"})
PACKAGES = ("service", "mobile_api", "checklists", "reports")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    found = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match, requirement
        found.add(_normalise(match[1]))
    return found


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = _names(PROJECT["dependencies"])
# Tracing is an optional feature: its packages are imported only when it is configured.
FEATURES = RUNTIME | _names(PROJECT["optional-dependencies"]["otel"])
DEV = FEATURES | _names(PROJECT["optional-dependencies"]["dev"])
BENCH = DEV | _names(PROJECT["optional-dependencies"]["bench"])
# A stub distribution also provides this module (boto3-stubs[s3] installs mypy-boto3-s3).
STUB_PROVIDERS = {"mypy-boto3-s3": "boto3-stubs"}


def _type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def third_party_imports(tree: ast.AST) -> Iterator[tuple[str, bool, int]]:
    """(top-level module, whether only for type checking, line) of each absolute import."""

    def walk(node: ast.AST, typing_only: bool) -> Iterator[tuple[str, bool, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.split(".")[0], typing_only, child.lineno
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], typing_only, child.lineno
            if _type_checking_block(child):
                assert isinstance(child, ast.If)
                for statement in child.body:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), True)
                for statement in child.orelse:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), typing_only)
            else:
                yield from walk(child, typing_only)

    for top, typing_only, line in walk(tree, False):
        if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
            yield top, typing_only, line


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if ROOT in path.parents else path.name


def _undeclared(files: list[Path], allowed: set[str], typing_allowed: set[str]) -> list[str]:
    providers = packages_distributions()
    problems = []
    for path in files:
        for module, typing_only, line in third_party_imports(ast.parse(path.read_text())):
            distributions = {_normalise(d) for d in providers.get(module, [])}
            distributions |= {STUB_PROVIDERS[d] for d in distributions if d in STUB_PROVIDERS}
            if not distributions:
                problems.append(f"{_shown(path)}:{line}: {module} is not installed")
            elif not distributions & (typing_allowed if typing_only else allowed):
                problems.append(
                    f"{_shown(path)}:{line}: {module} comes from "
                    f"{', '.join(sorted(distributions))}, which pyproject does not declare"
                )
    return problems


def test_the_packages_import_only_declared_distributions() -> None:
    files = [f for package in PACKAGES for f in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 100
    assert _undeclared(files, FEATURES, DEV) == []


def test_the_tests_import_only_declared_distributions() -> None:
    tests = ROOT / "tests"
    bench = tests / "bench"
    files = sorted(f for f in tests.rglob("*.py") if bench not in f.parents)
    assert _undeclared(files, DEV, DEV) == []
    # `make test` does not install the bench extra: its own modules may be absent there.
    absent_bench_modules = {
        f": {name} is not installed" for name in BENCH - DEV if name.isidentifier()
    }
    problems = _undeclared(sorted(bench.rglob("*.py")), BENCH, BENCH)
    assert [p for p in problems if not p.endswith(tuple(absent_bench_modules))] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import httpx", [("httpx", False, 1)]),
        ("import anyio.to_thread", [("anyio", False, 1)]),
        ("from PIL import Image", [("PIL", False, 1)]),
        ("import json\nfrom service.x import y\nfrom . import z", []),
        ("def f():\n    import yaml", [("yaml", False, 2)]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mypy_boto3_s3\n"
            "else:\n    import boto3",
            [("mypy_boto3_s3", True, 3), ("boto3", False, 5)],
        ),
    ],
)
def test_imports_are_found_wherever_they_are(
    source: str, expected: list[tuple[str, bool, int]]
) -> None:
    assert list(third_party_imports(ast.parse(source))) == expected


def test_an_undeclared_import_is_reported(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("import json\nimport hypothesis\nimport no_such_module_anywhere\n")
    assert _undeclared([stray], RUNTIME, RUNTIME) == [
        "stray.py:2: hypothesis comes from hypothesis, which pyproject does not declare",
        "stray.py:3: no_such_module_anywhere is not installed",
    ]
