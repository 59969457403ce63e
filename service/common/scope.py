"""SQL conditions that limit queries to what the caller may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, true

from service.common.actor import Actor


def territory_condition(actor: Actor, column: Any) -> ColumnElement[bool]:
    """Rows of the caller's territories (all rows for admins)."""
    if actor.is_admin:
        return true()
    if not actor.territory_ids:
        return false()
    return column.in_(actor.territory_ids)  # type: ignore[no-any-return]
