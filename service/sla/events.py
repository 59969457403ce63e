"""Recording work-order events; one that can move a clock recomputes the order's SLA clocks in
the same transaction.

The kinds and their data are listed in ``service/sla/kinds.py``. Call these after the
change is flushed and before the audit entry (which must stay the last write of a service).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import to_audit_json
from service.auth.actor import Actor
from service.db.base import utcnow
from service.db.models import Visit, WorkOrder, WorkOrderEvent
from service.sla import kinds
from service.sla.clocks import Recomputed, recompute

# Order fields whose changes the clocks and the board care about.
TRACKED_FIELDS = ("priority", "status", "control_deadline", "hold_reason")
# Of those, the ones the clocks read (a status reaching completed or cancelled stops them).
CLOCK_FIELDS = ("priority", "status", "control_deadline")


def _json(value: Any) -> Any:
    if isinstance(value, Range):
        return [_json(value.lower), _json(value.upper)]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return to_audit_json(value)


async def record_event(
    session: AsyncSession,
    work_order_id: uuid.UUID,
    kind: str,
    *,
    at: datetime | None = None,
    visit_id: uuid.UUID | None = None,
    actor: Actor | None = None,
    data: dict[str, Any] | None = None,
) -> Recomputed | None:
    """Append an event of a known kind; recompute the order's clocks unless it cannot move them.

    None when nothing was recomputed.
    """
    if kind not in kinds.ALL:
        raise ValueError(f"unknown work-order event kind {kind!r}")
    session.add(
        WorkOrderEvent(
            work_order_id=work_order_id,
            visit_id=visit_id,
            kind=kind,
            occurred_at=at or utcnow(),
            actor_user_id=actor.user_id if actor else None,
            actor_role=actor.role.value if actor else None,
            data=_json(data or {}),
        )
    )
    await session.flush()
    if kind in kinds.CLOCK_NEUTRAL or (
        kind == kinds.ORDER_UPDATED and not any(name in (data or {}) for name in CLOCK_FIELDS)
    ):
        return None
    return await recompute(session, work_order_id)


async def record_order_event(
    session: AsyncSession,
    kind: str,
    order: WorkOrder,
    actor: Actor | None,
    before: dict[str, Any] | None = None,
) -> Recomputed | None:
    """An order event; ``before`` (a snapshot taken before an update) yields the changes."""
    data: dict[str, Any]
    at = None
    if kind == kinds.ORDER_CREATED:
        data = {
            "type": order.type,
            "priority": order.priority,
            "status": order.status,
            "control_deadline": order.control_deadline,
        }
        at = order.created_at
    elif kind == kinds.ORDER_CANCELLED:
        data = {"reason": order.cancel_reason}
    else:
        before = before or {}
        changed = sorted(k for k, v in before.items() if getattr(order, k, v) != v)
        data = {
            name: [before[name], getattr(order, name)] for name in TRACKED_FIELDS if name in changed
        }
        data["fields"] = changed
    return await record_event(session, order.id, kind, at=at, actor=actor, data=data)


async def record_visit_event(
    session: AsyncSession, kind: str, visit: Visit, actor: Actor | None, **data: Any
) -> Recomputed | None:
    """A visit event; the visit's window, technician and agreement channel go with it."""
    payload = {
        "window": visit.agreed_window,
        "technician_id": visit.technician_id,
        "channel": visit.agreement_channel,
        **data,
    }
    return await record_event(
        session, visit.work_order_id, kind, visit_id=visit.id, actor=actor, data=payload
    )
