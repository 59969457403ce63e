"""One name per concept in query strings: `territory_id`; `territory` deprecated for a release."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from service.common.actor import Role
from service.contract import OPENAPI_PATH
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.incidents.conftest import Field
from tests.integration.incidents.test_incident_api import raised

pytestmark = pytest.mark.asyncio


async def test_territory_id_and_its_deprecated_alias_filter_alike(
    client: Any, build: Builder, field: Field
) -> None:
    incident_id = await raised(client, build, field)
    admin = await build.person(Role.ADMIN)
    other = await build.area()
    own, foreign = str(field.area.territory.id), str(other.territory.id)

    async def listed(**params: str) -> Any:
        return await client.get("/api/v1/incidents", params=params, headers=admin.headers)

    for name in ("territory_id", "territory"):
        here = await listed(**{name: own})
        assert here.status_code == 200, here.text
        assert [i["id"] for i in here.json()["items"]] == [str(incident_id)]
        elsewhere = await listed(**{name: foreign})
        assert elsewhere.status_code == 200, elsewhere.text
        assert elsewhere.json()["items"] == []
    same = await listed(territory_id=own, territory=own)
    assert [i["id"] for i in same.json()["items"]] == [str(incident_id)]
    # Two different answers to one question: refused, not one silently preferred.
    both = await listed(territory_id=own, territory=foreign)
    assert both.status_code == 422
    assert problem(both)["errors"][0]["field"] == "territory"


@pytest.mark.parametrize(
    ("path", "old_names"),
    [
        ("/api/v1/coordination/overdue", {"territory", "technician"}),
        ("/api/v1/coordination/kpis", {"territory", "technician"}),
        ("/api/v1/coordination/escalations", {"territory"}),
        ("/api/v1/coordination/follow-ups", {"territory"}),
        ("/api/v1/incidents", {"territory"}),
    ],
)
async def test_the_contract_declares_the_old_names_deprecated(
    path: str, old_names: set[str]
) -> None:
    contract = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    parameters = {p["name"]: p for p in contract["paths"][path]["get"]["parameters"]}
    for old in old_names:
        assert parameters[old].get("deprecated") is True
        assert not parameters[f"{old}_id"].get("deprecated", False)
    # Every other list with these concepts already uses the *_id names.
    for other in ("/api/v1/work-orders", "/api/v1/customers", "/api/v1/sites"):
        names = {p["name"] for p in contract["paths"][other]["get"]["parameters"]}
        assert "territory" not in names
        assert "territory_id" in names
