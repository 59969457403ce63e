"""Every status the server can answer is declared on the operations that answer it, and no
operation declares one it cannot answer.

The exception mapping (``service.errors``: each ``DomainError`` subclass has its status) is read
from the code; every ``raise`` of an error with a status that only some operations give is found
in the source and must be listed below with the operations it reaches, each declaring it.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import errors
from service.auth.openapi import RATE_LIMITED
from service.contract import OPENAPI_PATH

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")
# Statuses some operations give and others do not: each raise site is accounted for below.
# 401 counts here only for public operations (every other operation declares it).
SELECTIVE = {401, 410, 412, 428, 429}
# Where each selective error is raised -> the operations that reach it. An empty tuple means
# the raise is reached only by what is outside the schema (staff pages, metrics), and says why.
RAISED_BY: dict[str, tuple[str, ...]] = {
    "service.auth.devices:require_mobile_actor": ("mobile bearer checks: never a public op",),
    "service.auth.services:login": ("Login",),
    "service.auth.services:register_device": ("Login",),
    "service.auth.services:actor_for": ("bearer checks: never a public op",),
    "service.auth.me:me": ("GetMe", "GetMobileMe"),
    "service.auth.controllers:refresh": ("RefreshTokens",),
    "service.auth.throttle:claim_attempt": ("Login",),
    "service.auth.rate_limit:handle": ("Login", "RefreshTokens", "SendSigningCode"),
    "service.observability.controllers:metrics": (),  # /metrics is not in the schema
    "service.orders.services:parse_if_match": ("UpdateWorkOrder",),
    "service.orders.services:update": ("UpdateWorkOrder",),
    "service.staff.dispatch:check_version": (),  # staff pages are not in the schema
    "service.ratings.services:_live_link": ("RatingPage", "SubmitRating"),
    "service.execution.signing:_check_code": ("SubmitSignature",),
}
# Customer pages answer the state of their link with a status (an HTML page): its table, and
# the operations that render it.
PAGE_STATUS_TABLES = {
    "mobile_api.signing_page:MESSAGE_STATUS": ("SigningPage", "CustomerActCopy"),
    "service.ratings.page:STATUS_CODES": ("RatingPage",),
}
# What other layers answer without a domain error: body limits and timeouts
# (service.common.request_guard), the address rate limit (service.auth.rate_limit), pages.
OTHER_ERRORS = {400, 408, 413, 429, 500, 503}


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


STATUS_OF = {cls.__name__: int(cls.status_code) for cls in _subclasses(errors.DomainError)}


def _raise_sites() -> list[tuple[str, str, int]]:
    """(module:function, error, status) of each ``raise DomainError()`` and ``Problem(status=)``."""
    found: list[tuple[str, str, int]] = []
    for package in ("service", "mobile_api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)

            def walk(node: ast.AST, function: str, module: str = module) -> None:
                for child in ast.iter_child_nodes(node):
                    inner = function
                    if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                        inner = child.name
                    if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                        func = child.exc.func
                        name = func.attr if isinstance(func, ast.Attribute) else None
                        name = func.id if isinstance(func, ast.Name) else name
                        if name in STATUS_OF:
                            found.append((f"{module}:{function}", name, STATUS_OF[name]))
                    if (
                        isinstance(child, ast.Call)
                        and isinstance(child.func, ast.Name)
                        and child.func.id == "Problem"
                    ):
                        # A problem returned rather than raised (a revocation commits with it).
                        for keyword in child.keywords:
                            if keyword.arg == "status" and isinstance(keyword.value, ast.Constant):
                                status = int(keyword.value.value)
                                found.append((f"{module}:{function}", "Problem", status))
                    walk(child, inner)

            walk(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


@pytest.fixture(scope="module")
def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    contract = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return {
        item[method]["operationId"]: (path, method, item[method])
        for path, item in contract["paths"].items()
        for method in METHODS
        if method in item
    }


def _declared(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


def _public(operation: dict[str, Any]) -> bool:
    return operation.get("security") == []


def test_the_mapping_has_no_status_a_client_cannot_plan_for() -> None:
    # 415 is not answered: a body in another media type is a 400 from the decoder.
    assert set(STATUS_OF.values()) <= {400, 401, 403, 404, 409, 410, 412, 422, 428, 429, 503}


def test_each_selective_raise_is_accounted_for_and_declared(
    operations: dict[str, tuple[str, str, dict[str, Any]]],
) -> None:
    sites = {(site, status) for site, _, status in _raise_sites() if status in SELECTIVE}
    unlisted = sorted(site for site, _ in sites if site not in RAISED_BY)
    assert not unlisted, f"new raise sites: list the operations they reach in RAISED_BY: {unlisted}"
    assert not set(RAISED_BY) - {site for site, _ in sites}, "RAISED_BY lists a site now gone"
    missing = []
    for site, status in sorted(sites):
        for operation_id in RAISED_BY[site]:
            if operation_id not in operations:
                assert " " in operation_id, f"{operation_id} is not in the contract"
                continue
            if status == 401 and not _public(operations[operation_id][2]):
                continue
            if status not in _declared(operations[operation_id][2]):
                missing.append(f"{operation_id} can answer {status} ({site})")
    assert not missing, missing


def test_every_operation_declares_what_every_request_can_meet(
    operations: dict[str, tuple[str, str, dict[str, Any]]],
) -> None:
    wrong = []
    for operation_id, (path, method, operation) in operations.items():
        declared = _declared(operation)
        wanted = {400, 404, 409, 413, 422, 500}
        if not _public(operation):
            wanted |= {401, 403}
        if method in ("post", "put", "patch"):
            wanted.add(408)
        if (path, method) in RATE_LIMITED:
            wanted.add(429)
        if not wanted <= declared:
            wrong.append(f"{operation_id} lacks {sorted(wanted - declared)}")
    assert not wrong, wrong


def test_no_operation_declares_a_status_it_cannot_answer(
    operations: dict[str, tuple[str, str, dict[str, Any]]],
) -> None:
    reached: dict[int, set[str]] = {}
    for site, _, status in _raise_sites():
        if status in SELECTIVE:
            for operation_id in RAISED_BY.get(site, ()):
                reached.setdefault(status, set()).add(operation_id)
    for table, operation_ids in PAGE_STATUS_TABLES.items():
        module, name = table.split(":")
        for status in getattr(importlib.import_module(module), name).values():
            for operation_id in operation_ids:
                reached.setdefault(status, set()).add(operation_id)
    for (path, method), _ in RATE_LIMITED.items():
        for operation_id, (p, m, _) in operations.items():
            if (p, m) == (path, method):
                reached.setdefault(429, set()).add(operation_id)
    wrong = []
    for operation_id, (_, _, operation) in operations.items():
        for status in _declared(operation):
            if status < 400:
                continue
            known = status in STATUS_OF.values() or status in OTHER_ERRORS
            selective = status in SELECTIVE and not (status == 401 and not _public(operation))
            if not known or (selective and operation_id not in reached.get(status, set())):
                wrong.append(f"{operation_id} declares {status}")
            conditional = {p["name"] for p in operation.get("parameters", [])} & {"If-Match"}
            if status in (412, 428) and not conditional:
                wrong.append(f"{operation_id} declares {status} without taking If-Match")
    assert not wrong, wrong
