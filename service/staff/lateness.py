"""The dispatch desk's lateness inbox: today's late-visit alerts and what was done about them.

An alert is what ``LatenessService`` raises (``scheduling/services.py``): it stamps
``visits.late_notified_at`` and queues the desk's ``dispatch.visit_late`` webhook in the same
transaction, so the stamp is the record of the alert. Two answers close it: the customer was
informed (a ``customer.contacted`` event on the order, with an audit entry), or the visit was
given to another technician (the scheduling service's reassignment, best free candidate first).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.actor import Actor
from service.db.base import utcnow
from service.db.models import Visit, WorkOrder
from service.errors import Conflict, NotFound
from service.scheduling import schemas as scheduling_schemas
from service.scheduling.services import VisitService
from service.sla import kinds
from service.sla.events import record_event
from service.staff.schedule import ScheduleBoardService, TerritoryRef
from service.staff.schedule_layout import local_midnight

# The reason a contact event records when the desk tells a customer their visit runs late.
LATE_VISIT_CONTACT = "late_visit"


@dataclass(frozen=True, slots=True)
class LateAlert:
    """One late-visit alert of today, with what the desk needs to act on it."""

    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    number: str
    customer_name: str
    phone: str | None
    technician_name: str
    window_start: datetime
    window_end: datetime
    raised_at: datetime
    predicted_arrival: datetime | None
    status: str
    informed_at: datetime | None

    @property
    def reassignable(self) -> bool:
        """Only a visit nobody has set out for can go to another technician."""
        return self.status == "planned"

    @property
    def overdue_minutes(self) -> int | None:
        """How far past the promised window the predicted arrival is."""
        if self.predicted_arrival is None or self.predicted_arrival <= self.window_end:
            return None
        return int((self.predicted_arrival - self.window_end).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class LatenessInbox:
    """The inbox of one territory's day."""

    territory: TerritoryRef
    territories: list[TerritoryRef]
    alerts: list[LateAlert]

    @property
    def open_count(self) -> int:
        """Alerts nobody has answered yet."""
        return sum(1 for a in self.alerts if a.informed_at is None)


_ALERTS = text(
    """
    SELECT v.id, v.status, v.late_notified_at, v.eta,
           lower(v.agreed_window) AS lower, upper(v.agreed_window) AS upper,
           wo.id AS work_order_id, wo.number,
           c.full_name AS customer_name,
           coalesce(wo.contact_phones[1], c.phones[1]) AS phone,
           t.full_name AS technician_name,
           (SELECT max(e.recorded_at) FROM work_order_events e
            WHERE e.work_order_id = wo.id AND e.visit_id = v.id
              AND e.kind = 'customer.contacted'
              AND e.data->>'reason' = :reason
              AND e.recorded_at >= v.late_notified_at) AS informed_at
    FROM visits v
    JOIN work_orders wo ON wo.id = v.work_order_id
    JOIN customers c ON c.id = wo.customer_id
    JOIN technicians t ON t.id = v.technician_id
    WHERE wo.territory_id = :tid
      AND v.late_notified_at >= :since
      AND v.status <> 'cancelled'
    ORDER BY v.late_notified_at DESC, v.id
    """
)


class LatenessInboxService:
    """Reads and answers the lateness alerts of the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def inbox(self, code: str | None) -> LatenessInbox:
        """Today's alerts (the territory's local day), newest first."""
        boards = ScheduleBoardService(self.session, self.actor)
        territory, visible = await boards.territory(code)
        zone = ZoneInfo(territory.time_zone)
        since = local_midnight(utcnow().astimezone(zone).date(), zone)
        rows = (
            await self.session.execute(
                _ALERTS, {"tid": territory.id, "since": since, "reason": LATE_VISIT_CONTACT}
            )
        ).all()
        arrivals: dict[uuid.UUID, datetime] = {}
        if rows:
            board = await boards.board(territory.code, None)
            arrivals = {b.visit_id: b.arrival for row in board.rows for b in row.visits}
        alerts = [
            LateAlert(
                visit_id=r.id,
                work_order_id=r.work_order_id,
                number=r.number,
                customer_name=r.customer_name,
                phone=r.phone,
                technician_name=r.technician_name,
                window_start=r.lower,
                window_end=r.upper,
                raised_at=r.late_notified_at,
                predicted_arrival=arrivals.get(r.id, r.eta),
                status=r.status,
                informed_at=r.informed_at,
            )
            for r in rows
        ]
        return LatenessInbox(territory=territory, territories=visible, alerts=alerts)

    async def customer_informed(self, visit_id: uuid.UUID, channel: str = "phone") -> bool:
        """Record that the desk told the customer; False when it was already recorded.

        A second click (or a resubmitted form) for the same alert records nothing more.
        """
        visit, order = await self._late_visit(visit_id)
        assert visit.late_notified_at is not None
        already = await self.session.scalar(
            text(
                "SELECT 1 FROM work_order_events WHERE work_order_id = :oid AND visit_id = :vid "
                "AND kind = 'customer.contacted' AND data->>'reason' = :reason "
                "AND recorded_at >= :raised LIMIT 1"
            ),
            {
                "oid": order.id,
                "vid": visit.id,
                "reason": LATE_VISIT_CONTACT,
                "raised": visit.late_notified_at,
            },
        )
        if already:
            return False
        data = {"reason": LATE_VISIT_CONTACT, "channel": channel, "window": visit.agreed_window}
        await record_event(
            self.session,
            order.id,
            kinds.CUSTOMER_CONTACTED,
            visit_id=visit.id,
            actor=self.actor,
            data=data,
        )
        await record(
            self.session,
            self.actor,
            "customer.contacted",
            "work_order",
            order.id,
            after={"visit_id": visit.id, "reason": LATE_VISIT_CONTACT, "channel": channel},
        )
        return True

    async def reassign(self, visit_id: uuid.UUID) -> Visit:
        """Give a late visit to the best free technician for the same window."""
        await self._late_visit(visit_id)
        return await VisitService(self.session, self.actor).reassign(
            visit_id,
            scheduling_schemas.Reassign(
                reason_code="workload", note="Predicted late: reassigned from the lateness inbox"
            ),
        )

    async def _late_visit(self, visit_id: uuid.UUID) -> tuple[Visit, WorkOrder]:
        visit = await self.session.get(Visit, visit_id)
        order = await self.session.get(WorkOrder, visit.work_order_id) if visit else None
        if visit is None or order is None or not self.actor.covers_territory(order.territory_id):
            raise NotFound("No such visit")
        if visit.late_notified_at is None or visit.late_notified_at < utcnow() - timedelta(days=2):
            raise Conflict("This visit has no lateness alert to answer", code="not_late")
        return visit, order
