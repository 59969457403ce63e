"""The technician's app at /app: public shell files under a strict CSP, data only with a token."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest

from checklists.schema import Outcome
from mobile_api.app_shell import APP_DIR, APP_STATIC
from service.db.models.work_orders import WorkType
from service.orders.visit_lifecycle import VisitStatus
from tests.integration.builders import PASSWORD
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio

SHELL_LIST = re.compile(r'"(/app/[^"]*)"')


async def test_shell_is_public_and_locked_down(client: Any) -> None:
    page = await client.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    # No inline code or styles: the CSP would refuse them.
    assert "<script>" not in page.text
    assert " style=" not in page.text
    assert "onclick" not in page.text


async def test_service_worker_and_manifest_are_installable(client: Any) -> None:
    worker = await client.get("/app/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/app/"
    manifest = await client.get("/app/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["scope"] == "/app/"
    assert body["start_url"] == "/app/"
    assert body["display"] == "standalone"
    for icon in body["icons"]:
        image = await client.get(icon["src"])
        assert image.status_code == 200
        assert image.content.startswith(b"\x89PNG")


async def test_every_module_the_app_loads_is_cached_for_offline(client: Any) -> None:
    cached = set(SHELL_LIST.findall((APP_DIR / "sw.js").read_text()))
    for module in APP_STATIC.glob("*.js"):
        assert f"/app/static/{module.name}" in cached, module.name
    for catalog in (APP_STATIC / "i18n").glob("*.json"):
        assert f"/app/static/i18n/{catalog.name}" in cached, catalog.name
    for path in sorted(cached):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_static_files_stay_inside_the_app(client: Any) -> None:
    for path in (
        "/app/static/../app_shell.py",
        "/app/static/%2e%2e/app_shell.py",
        "/app/static/nothing.js",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "TechAppController" not in response.text


async def test_the_data_behind_the_shell_needs_the_technicians_token(
    client: Any, field: Field
) -> None:
    anonymous = await client.get("/mobile/v1/day")
    assert anonymous.status_code == 401
    staff = await client.post(
        "/api/v1/auth/login",
        json={"username": field.dispatcher.user.username, "password": PASSWORD},
    )
    token = staff.json()["access_token"]
    refused = await client.get("/mobile/v1/day", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    own = await client.get("/mobile/v1/day", headers=field.phone.headers())
    assert own.status_code == 200


def _catalog(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((APP_STATIC / "i18n" / f"{language}.json").read_text())
    return data


async def test_catalogs_hold_every_text_the_app_shows() -> None:
    kk, ru, en = (_catalog(code) for code in ("kk", "ru", "en"))
    assert set(kk) == set(ru) == set(en)
    source = "\n".join(p.read_text() for p in APP_STATIC.glob("*.js") if p.name != "i18n.js")
    used = set(re.findall(r"\bt\(\"([a-z_]+)\"", source))
    # Keys built from server values: every value the server may send has a text.
    used |= {f"status_{s.value}" for s in VisitStatus}
    used |= {f"work_{w}" for w in get_args(WorkType)}
    used |= {f"outcome_{o}" for o in get_args(Outcome)}
    missing = sorted(used - set(en))
    assert not missing, missing
    for catalog in (kk, ru, en):
        for key, text in catalog.items():
            assert text.strip(), key
            # Placeholders agree across languages.
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", en[key])), key
