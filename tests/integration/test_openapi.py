"""openapi.yaml is current, and the running app honours it under schemathesis fuzzing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.settings import Settings
from tests.integration.builders import admin_token

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_file_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "openapi", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def admin_headers(settings: Settings) -> dict[str, str]:
    """A real admin's token (a live session) signed with the live server's secret."""
    token = asyncio.run(admin_token(settings))
    return {"Authorization": f"Bearer {token}"}


schema = schemathesis.openapi.from_path(ROOT / "openapi.yaml")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(
    case: schemathesis.Case, live_server: str, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        base_url=live_server,
        headers=admin_headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
