"""An appeal registered through the API, as the tests of the API and of the staff pages need one."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.builders import Area, Person

BASE = "/api/v1/appeals"


def body(area: Area, **fields: Any) -> dict[str, Any]:
    """A complaint of the area's customer by phone; ``fields`` change or add to it (ids as text)."""
    return {
        "kind": "complaint",
        "channel": "phone",
        "territory_id": str(area.territory.id),
        "author_name": "Иванова Мария Петровна",
        "text": "Мастер не пришёл в согласованное время.",
        "contact_phone": "+77011234567",
        "customer_id": str(area.customer.id),
        **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields.items()},
    }


async def register(client: Any, who: Person, area: Area, **fields: Any) -> dict[str, Any]:
    """The appeal ``who`` registers through the API (201 asserted)."""
    response = await client.post(BASE, json=body(area, **fields), headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def register_id(
    client: Any, who: Person, area: Area, kind: str = "complaint", **links: Any
) -> str:
    """The id of an appeal of this kind ``who`` registers, tied to ``links`` (order, visit)."""
    return str((await register(client, who, area, kind=kind, **links))["id"])
