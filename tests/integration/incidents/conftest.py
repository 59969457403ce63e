"""Incident fixtures: the mobile field visit, and a push helper."""

from __future__ import annotations

from typing import Any

from tests.integration.mobile.conftest import Field, field, op

__all__ = ["Field", "field", "op", "push", "safety_exit"]


async def push(client: Any, field: Field, operations: list[dict[str, Any]]) -> Any:
    """One sync push from the technician's phone."""
    response = await client.post(
        "/mobile/v1/sync/push", json={"operations": operations}, headers=field.phone.headers()
    )
    assert response.status_code == 200, response.text
    return response


def safety_exit(field: Field, reason: str = "Клиент угрожал") -> list[dict[str, Any]]:
    """Arrive at the site, then leave it for safety reasons (the aborted_safety outcome)."""
    site = field.area.point()
    return [
        op(
            field.visit.id,
            "arrived",
            location={"lat": site["lat"], "lon": site["lon"], "accuracy_m": 8},
            minutes=1,
        ),
        op(
            field.visit.id,
            "outcome",
            {
                "outcome": "aborted_safety",
                "reason": reason,
                "answers": [{"step_id": "safety_note", "value": "Кричал и замахнулся"}],
            },
            minutes=3,
        ),
    ]
