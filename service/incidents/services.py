"""Raising an incident with the outcome that causes it, telling a person, and acknowledging it.

Seed 004 §5.4.10.5: a technician who leaves a customer's premises for safety reasons informs
the supervisor, or security when the supervisor cannot be reached. The checklist template says
which outcome is an incident and whom to tell (``incident.notify`` and ``fallback_notify``);
this module writes the incident in the transaction of the outcome and queues an urgent message
(never held by quiet hours) to the territory's active users of the first role that has any,
else to the fallback's desk.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from checklists.schema import Incident as IncidentDefinition
from service.audit.services import record
from service.common.acknowledgement import ACK_COMMENT_MAX, clean_comment, stamp_acknowledged
from service.common.actor import STAFF_ROLES, Actor
from service.common.pagination import TerritoryPageQuery, keyset_page, split_page
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import Incident, Technician, Territory, User, Visit, WorkOrder
from service.errors import Forbidden, NotFound
from service.incidents import schemas
from service.notifications import Recipient, enqueue
from service.notifications.staff import desk_address, staff_ids, staff_recipients
from service.settings import Settings

INCIDENT_EVENT = "incident.raised"
SECURITY = "security"
MAX_PAGE = 200
_ACKNOWLEDGER = aliased(User)
# Text fields of a message are single lines of at most 100 characters.
_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class IncidentRouting:
    """Where an incident goes when nobody of the notified roles can be reached."""

    # The gateway address of the security desk; None: the territory's desk (``security:T01``).
    security_desk: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> IncidentRouting:
        """NARYAD_SECURITY_DESK."""
        return cls(security_desk=settings.notifications.security_desk)

    def desk(self, role: str, territory_code: str) -> str:
        """The desk address of a role in a territory."""
        if role == SECURITY and self.security_desk:
            return self.security_desk
        return desk_address(role, territory_code)


@dataclass(frozen=True, slots=True)
class Addressees:
    """Who an incident's message goes to: users of a role, or a desk."""

    role: str
    user_ids: list[uuid.UUID]
    recipients: list[Recipient]


async def addressees(
    session: AsyncSession,
    definition: IncidentDefinition,
    territory: Territory,
    routing: IncidentRouting,
) -> Addressees:
    """The first notified role with active users in the territory, else the fallback's desk.

    Security has no user accounts: named as a fallback, it is told at its desk.
    """

    def desk(role: str) -> Addressees:
        return Addressees(
            role, [], [Recipient(kind="user", address=routing.desk(role, territory.code))]
        )

    notify = definition.notify
    for position, role in enumerate((*notify, *definition.fallback_notify)):
        users = [] if role == SECURITY else await staff_ids(session, territory.id, role)
        if users:
            return Addressees(role, users, staff_recipients(role, territory.code, users))
        if role == SECURITY and position >= len(notify):
            return desk(role)
    # Nobody named and no fallback: the first notified role's desk still hears of it.
    return desk(notify[0] if notify else SECURITY)


async def raise_incident(
    session: AsyncSession,
    *,
    definition: IncidentDefinition,
    visit: Visit,
    order: WorkOrder,
    outcome: str,
    occurred_at: datetime,
    reason: str | None,
    routing: IncidentRouting,
) -> uuid.UUID | None:
    """Write the visit's incident and queue its urgent messages; None when it already exists.

    Called in the transaction of the outcome: both commit or neither does. A second call for
    the same visit and kind (a replayed or repeated outcome) writes and sends nothing.
    """
    territory = await session.get_one(Territory, order.territory_id)
    told = await addressees(session, definition, territory, routing)
    incident_id: uuid.UUID | None = await session.scalar(
        insert(Incident)
        .values(
            id=uuid.uuid4(),
            visit_id=visit.id,
            kind=definition.kind,
            outcome=outcome,
            work_order_id=order.id,
            territory_id=territory.id,
            technician_id=visit.technician_id,
            occurred_at=occurred_at,
            created_at=utcnow(),
            reason=reason,
            notified_role=told.role,
            notified_user_ids=told.user_ids,
        )
        .on_conflict_do_nothing(constraint="uq_incidents_visit_kind")
        .returning(Incident.id)
    )
    if incident_id is None:
        return None
    technician = await session.get(Technician, visit.technician_id) if visit.technician_id else None
    name = " ".join((technician.full_name if technician else "").split())[:_NAME_MAX] or "—"
    context = {
        "work_order_number": order.number,
        "technician": name,
        "occurred_at": occurred_at,
    }
    for recipient in told.recipients:
        await enqueue(
            session,
            event=INCIDENT_EVENT,
            event_key=str(incident_id),
            channel="webhook",
            recipient=recipient,
            language="ru",
            time_zone=territory.time_zone,
            context=context,
            urgent=True,
        )
    return incident_id


def incident_schema(row: Any) -> schemas.Incident:
    """A row of (Incident, order number, technician name, acknowledger name) to the schema."""
    incident: Incident = row[0]
    return schemas.Incident(
        id=incident.id,
        kind=incident.kind,
        outcome=incident.outcome,
        visit_id=incident.visit_id,
        work_order_id=incident.work_order_id,
        work_order_number=row[1],
        territory_id=incident.territory_id,
        technician_id=incident.technician_id,
        technician_name=row[2],
        occurred_at=incident.occurred_at,
        created_at=incident.created_at,
        reason=incident.reason,
        notified_role=incident.notified_role,
        notified_user_ids=list(incident.notified_user_ids),
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
        acknowledged_by_name=row[3],
        ack_comment=incident.ack_comment,
    )


class IncidentService:
    """Incidents of the caller's territories (all of them for admins); staff only."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _require_staff(self) -> None:
        if self.actor.role not in STAFF_ROLES:
            raise Forbidden("Incidents are for staff")

    def _select(self) -> Select[Incident, str, str, str]:
        return (
            select(Incident, WorkOrder.number, Technician.full_name, _ACKNOWLEDGER.full_name)
            .join(WorkOrder, WorkOrder.id == Incident.work_order_id)
            .outerjoin(Technician, Technician.id == Incident.technician_id)
            .outerjoin(_ACKNOWLEDGER, _ACKNOWLEDGER.id == Incident.acknowledged_by)
            .where(territory_condition(self.actor, Incident.territory_id))
        )

    async def page(
        self, status: schemas.IncidentStatus, query: TerritoryPageQuery
    ) -> schemas.IncidentPage:
        """Incidents newest first, optionally only pending or acknowledged ones."""
        self._require_staff()
        limit = max(1, min(query.limit, MAX_PAGE))
        stmt = self._select()
        if query.territory_id is not None:
            stmt = stmt.where(Incident.territory_id == query.territory_id)
        if status == "pending":
            stmt = stmt.where(Incident.acknowledged_at.is_(None))
        elif status == "acknowledged":
            stmt = stmt.where(Incident.acknowledged_at.is_not(None))
        rows = (await self.session.execute(keyset_page(stmt, Incident, query.cursor, limit))).all()
        page, next_cursor = split_page(rows, limit, lambda r: (r[0].created_at, r[0].id))
        return schemas.IncidentPage(
            items=[incident_schema(r) for r in page], next_cursor=next_cursor
        )

    async def for_board(
        self, territory_id: uuid.UUID | None, limit: int, recent: timedelta
    ) -> list[schemas.Incident]:
        """Every pending incident (oldest first), then those acknowledged within ``recent``."""
        self._require_staff()
        stmt = self._select()
        if territory_id is not None:
            stmt = stmt.where(Incident.territory_id == territory_id)
        pending = (
            await self.session.execute(
                stmt.where(Incident.acknowledged_at.is_(None))
                .order_by(Incident.created_at, Incident.id)
                .limit(limit)
            )
        ).all()
        if len(pending) >= limit:
            return [incident_schema(r) for r in pending]
        settled = (
            await self.session.execute(
                stmt.where(Incident.acknowledged_at > utcnow() - recent)
                .order_by(Incident.acknowledged_at.desc(), Incident.id)
                .limit(limit - len(pending))
            )
        ).all()
        return [incident_schema(r) for r in [*pending, *settled]]

    async def get(self, incident_id: uuid.UUID) -> schemas.Incident:
        """One incident; outside the caller's territories it does not exist."""
        self._require_staff()
        row = (
            await self.session.execute(self._select().where(Incident.id == incident_id))
        ).one_or_none()
        if row is None:
            raise NotFound("No such incident")
        return incident_schema(row)

    async def acknowledge(self, incident_id: uuid.UUID, comment: str) -> schemas.Incident:
        """Record who acknowledged, when and what was done; an incident is acknowledged once."""
        self._require_staff()
        text = clean_comment(comment, ACK_COMMENT_MAX)
        row = (
            await self.session.execute(
                self._select().where(Incident.id == incident_id).with_for_update(of=Incident)
            )
        ).one_or_none()
        if row is None:
            raise NotFound("No such incident")
        incident: Incident = row[0]
        stamp_acknowledged(incident, self.actor, text, "incident")
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "incident.acknowledged",
            "incident",
            incident.id,
            before={"acknowledged_at": None},
            after={
                "visit_id": incident.visit_id,
                "kind": incident.kind,
                "acknowledged_at": incident.acknowledged_at,
                "comment": text,
            },
        )
        # Read back with the acknowledger's name.
        return await self.get(incident.id)
