"""The dispatcher's order panel and in-place actions, on top of the existing services.

Everything here reads or changes through the order, scheduling, customer, act and clock
services, so the rules (scope, lifecycle, race-safe booking, audit, notices) are theirs; this
module only shapes what the page shows and turns form fields into the services' inputs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.i18n import format_distance
from service.acts.page import act_status_text
from service.acts.services import ActFilters, ActService
from service.auth.guards import passing
from service.common.actor import Actor, Role
from service.common.page_security import url_origin
from service.common.schemas import Window
from service.db.models import (
    Customer,
    Rating,
    Site,
    Technician,
    Territory,
    Visit,
    WorkOrder,
    technician_territories,
)
from service.db.models.mobile import Photo
from service.errors import NotFound, PreconditionFailed
from service.orders.services import WorkOrderService
from service.scheduling import schemas as scheduling
from service.scheduling.services import SlotService, VisitService
from service.sla.services import ClockService
from service.staff.offer_list import spread_offers
from service.staff.texts import (
    Language,
    all_texts,
    format_local,
    format_span,
    format_window,
    input_date,
    long_day,
    short_day,
    text,
)
from service.storage.base import BlobStore

# Who may do what, as the API's guards say (service/scheduling/controllers.py and
# service/orders/controllers.py): the page offers only what the API would accept.
# Coordinators book too: an overdue order is often booked from the coordinator's workspace.
# ``passing`` is the guards' own rule (admins pass every one of them).
CAN_BOOK = passing(Role.DISPATCHER, Role.COORDINATOR)
CAN_RESCHEDULE = passing(Role.DISPATCHER, Role.COORDINATOR)
CAN_REASSIGN = passing(Role.DISPATCHER)
CAN_CANCEL = passing(Role.DISPATCHER)
CAN_EDIT_CUSTOMERS = passing(Role.DISPATCHER)

RESCHEDULE_REASONS = (
    "customer_request",
    "technician_unavailable",
    "waiting_for_parts",
    "no_access",
    "weather",
    "dispatch_error",
    "other",
)
REASSIGN_REASONS = (
    "conflict_of_interest",
    "technician_unavailable",
    "skills",
    "workload",
    "customer_request",
    "other",
)
CHANNELS = ("phone", "sms", "in_person")
OFFER_DAYS = 3
PHOTO_LIMIT = 24


@dataclass
class FormState:
    """A posted form kept for re-display: which form, what was typed, and what is wrong."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


def parse_slot(value: str | None) -> tuple[Window, uuid.UUID | None] | None:
    """A slot radio value ``start|end|technician`` (technician may be empty), else None."""
    if not value:
        return None
    parts = value.split("|")
    if len(parts) != 3:
        return None
    try:
        start, end = datetime.fromisoformat(parts[0]), datetime.fromisoformat(parts[1])
        technician = uuid.UUID(parts[2]) if parts[2] else None
    except ValueError:
        return None
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        return None
    return Window(start=start, end=end), technician


def slot_value(start: datetime, end: datetime, technician_id: uuid.UUID | None) -> str:
    """The radio value of a slot offer (see ``parse_slot``)."""
    return f"{start.isoformat()}|{end.isoformat()}|{technician_id or ''}"


def check_version(presented: str | None, current: int) -> None:
    """A form names the version it was read at; another one means the order moved on."""
    if presented != str(current):
        raise PreconditionFailed("The record changed since the page was loaded")


class DispatchPanel:
    """Reads an order with everything the dispatcher needs about it."""

    def __init__(self, session: AsyncSession, actor: Actor, blob_store: BlobStore) -> None:
        self.session = session
        self.actor = actor
        self.blob_store = blob_store

    async def order(self, order_id: uuid.UUID) -> WorkOrder:
        """The order in the caller's scope (NotFound outside it)."""
        return await WorkOrderService(self.session, self.actor).get(order_id)

    async def context(
        self,
        order_id: uuid.UUID,
        language: Language,
        act_service: ActService,
        *,
        offers_day: date | None = None,
        with_offers: bool = False,
    ) -> dict[str, Any]:
        """The panel's content in ``language``; times in the territory's zone, named."""
        t = all_texts(language)
        order = await self.order(order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        site = await self.session.get_one(Site, order.site_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        zone = territory.time_zone
        lat, lon = await self._site_point(site.id)
        visits = await VisitService(self.session, self.actor).for_order(order.id)
        names = await self._technician_names({v.technician_id for v in visits})
        clocks = await ClockService(self.session, self.actor).explain(order.id)
        acts = await act_service.page(ActFilters(work_order_id=order.id), None, 20)
        ratings = (
            await self.session.scalars(
                select(Rating).where(Rating.work_order_id == order.id).order_by(Rating.created_at)
            )
        ).all()
        photos, photo_origins = await self._photos([v.id for v in visits])
        live = [v for v in visits if v.status in ("planned", "en_route", "on_site")]
        role = self.actor.role
        context: dict[str, Any] = {
            "order": {
                "id": order.id,
                "number": order.number,
                "type": t.get(f"type.{order.type}", order.type),
                "priority": order.priority,
                "priority_label": t.get(f"priority.{order.priority}", order.priority),
                "status": order.status,
                "status_label": t.get(f"status.{order.status}", order.status),
                "description": order.description,
                "deadline": format_local(order.control_deadline, zone)
                if order.control_deadline
                else t["no_deadline"],
                "hold_reason": order.hold_reason,
                "cancel_reason": order.cancel_reason,
                "version": order.version,
                # A skill is named after the work it qualifies for (the order's type by default);
                # a skill of the organisation's own keeps its code.
                "skills": ", ".join(
                    t.get(f"type.{skill}", skill) for skill in order.required_skills
                ),
            },
            "zone": zone,
            "customer": {
                "id": customer.id,
                "name": customer.full_name,
                "phones": list(customer.phones),
                "notes": customer.notes,
            },
            "site": {
                "address": site.address,
                "lat": lat,
                "lon": lon,
                "access_notes": site.access_notes,
            },
            "visits": [
                {
                    "id": v.id,
                    "version": v.version,
                    "status": v.status,
                    "status_label": t.get(f"visit.{v.status}", v.status),
                    "window": format_window(
                        v.agreed_window.lower,  # type: ignore[arg-type]
                        v.agreed_window.upper,  # type: ignore[arg-type]
                        zone,
                    ),
                    "technician": names.get(v.technician_id, ""),
                    "agreed": ", ".join(
                        x
                        for x in (
                            v.agreed_with,
                            t.get(f"channel.{v.agreement_channel}", v.agreement_channel or ""),
                        )
                        if x
                    ),
                    "reason": v.cancel_reason or v.outcome_reason or v.last_change_reason,
                    "live": v in live,
                    "planned": v.status == "planned",
                }
                for v in visits
            ],
            "timeline": [
                {
                    "at": format_local(e.at, zone),
                    "label": t.get(f"event.{e.kind}", e.kind),
                    "derived": e.derived,
                }
                for e in sorted(clocks.events, key=lambda e: e.at, reverse=True)
            ],
            "clocks": [
                {
                    "target": t.get(f"target.{c.target}", c.target),
                    "status": c.status,
                    "status_label": t.get(f"clock.{c.status}", c.status),
                    "due": format_local(c.due_at, zone) if c.due_at else None,
                    "remaining": format_span(c.remaining_minutes, language)
                    if c.remaining_minutes is not None
                    else None,
                    "overdue": c.remaining_minutes is not None and c.remaining_minutes < 0,
                    "reason": c.reason,
                    "steps": [
                        {"at": format_local(s.at, zone), "detail": s.detail} for s in c.steps
                    ],
                }
                for c in clocks.clocks
            ],
            "acts": [
                {
                    "id": a.id,
                    "number": a.number,
                    "status": a.status,
                    "status_label": act_status_text(a.status, language),
                    "has_pdf": a.pdf_sha256 is not None,
                }
                for a in acts.items
            ],
            "photos": photos,
            "ratings": [
                {"score": r.score, "comment": r.comment, "at": format_local(r.created_at, zone)}
                for r in ratings
            ],
            "can_book": role in CAN_BOOK and not live and order.status in ("new", "in_progress"),
            "can_reschedule": role in CAN_RESCHEDULE,
            "can_reassign": role in CAN_REASSIGN,
            "can_cancel": role in CAN_CANCEL,
            "can_cancel_order": role in CAN_CANCEL
            and order.status in ("new", "scheduled", "on_hold"),
            "can_edit_customer": role in CAN_EDIT_CUSTOMERS,
            "reschedule_reasons": [(r, t[f"reason.{r}"]) for r in RESCHEDULE_REASONS],
            "reassign_reasons": [(r, t[f"reason.{r}"]) for r in REASSIGN_REASONS],
            "channels": [(c, t[f"channel.{c}"]) for c in CHANNELS],
            "image_origins": photo_origins,
        }
        if with_offers and (context["can_book"] or (live and context["can_reschedule"])):
            context["offers"] = await self.offers(order.id, offers_day, language)
        return context

    async def offers(
        self, order_id: uuid.UUID, day: date | None, language: Language
    ) -> dict[str, Any]:
        """Slot offers from ``day`` (default today, site-local) with their candidates."""
        t = all_texts(language)
        offer = await SlotService(self.session, self.actor).offer(order_id, day, OFFER_DAYS)
        zone = offer.time_zone
        shown = day or datetime.now(ZoneInfo(zone)).date()
        best, rest = spread_offers(offer.slots)

        def candidate(slot: scheduling.Slot, c: scheduling.Candidate) -> dict[str, str]:
            return {
                "value": slot_value(slot.window.start, slot.window.end, c.technician_id),
                "name": c.full_name,
                "distance": format_distance(c.distance_km * 1000, language),
                "travel": t["travel"].format(m=c.travel_minutes),
                "load": text("load", language, n=c.visits_that_day),
                "arrival": t["arrival"].format(
                    t=format_local(c.estimated_arrival, zone).split(" ")[1]
                ),
            }

        def window(slot: scheduling.Slot) -> str:
            # The zone is named once, in the list's legend.
            start = slot.window.start.astimezone(ZoneInfo(zone))
            end = slot.window.end.astimezone(ZoneInfo(zone))
            return f"{short_day(start.date(), language)} {start:%H:%M}–{end:%H:%M}"

        return {
            "day": input_date(shown, language),
            "day_label": long_day(shown, language),
            "zone": zone,
            # Each technician's best window first (variety at a glance), then the rest by time.
            "best": [dict(candidate(p.slot, p.candidate), window=window(p.slot)) for p in best],
            "slots": [
                {
                    "window": window(s),
                    "candidates": [candidate(s, c) for c in s.candidates],
                    "any_value": slot_value(s.window.start, s.window.end, None),
                }
                for s in rest
            ],
        }

    async def technicians_for(self, order_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
        """Active technicians of the order's territory, for the reassign dialog."""
        order = await self.order(order_id)
        rows = await self.session.execute(
            select(Technician.id, Technician.full_name)
            .join(
                technician_territories,
                technician_territories.c.technician_id == Technician.id,
            )
            .where(
                technician_territories.c.territory_id == order.territory_id,
                Technician.active.is_(True),
            )
            .order_by(Technician.full_name)
            .limit(200)
        )
        return [(r.id, r.full_name) for r in rows]

    async def _site_point(self, site_id: uuid.UUID) -> tuple[float, float]:
        row = (
            await self.session.execute(
                select(
                    func.ST_Y(func.geometry(Site.location)), func.ST_X(func.geometry(Site.location))
                ).where(Site.id == site_id)
            )
        ).one()
        return float(row[0]), float(row[1])

    async def _technician_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Technician.id, Technician.full_name).where(Technician.id.in_(ids))
        )
        return {r.id: r.full_name for r in rows}

    async def _photos(self, visit_ids: list[uuid.UUID]) -> tuple[list[dict[str, str]], list[str]]:
        """Confirmed photos of the order's visits as short-lived signed URLs, and their origins."""
        if not visit_ids:
            return [], []
        rows = (
            await self.session.scalars(
                select(Photo)
                .where(Photo.visit_id.in_(visit_ids), Photo.status == "stored")
                .order_by(Photo.created_at)
                .limit(PHOTO_LIMIT)
            )
        ).all()
        photos, origins = [], set()
        for photo in rows:
            url = await self.blob_store.presign_get(photo.object_key)
            if origin := url_origin(url):
                origins.add(origin)
            photos.append(
                {"url": url, "taken": photo.taken_at.isoformat() if photo.taken_at else ""}
            )
        return photos, sorted(origins)


class DispatchActions:
    """The panel's actions: each checks the version the form was read at, then calls a service."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def book(
        self,
        order_id: uuid.UUID,
        version: str | None,
        window: Window,
        technician_id: uuid.UUID | None,
        agreement: scheduling.Agreement,
    ) -> Visit:
        """Book the chosen slot; a lost race is the service's 409 (``Conflict``)."""
        order = await WorkOrderService(self.session, self.actor).get(order_id, for_update=True)
        check_version(version, order.version)
        return await VisitService(self.session, self.actor).book(
            order_id,
            scheduling.VisitCreate(window=window, agreed_by=agreement, technician_id=technician_id),
        )

    async def _visit_of(
        self, order_id: uuid.UUID, visit_id: uuid.UUID, version: str | None
    ) -> Visit:
        await WorkOrderService(self.session, self.actor).get(order_id)
        visit = await VisitService(self.session, self.actor).get(visit_id, for_update=True)
        if visit.work_order_id != order_id:
            raise NotFound("Visit not found")
        check_version(version, visit.version)
        return visit

    async def reschedule(
        self,
        order_id: uuid.UUID,
        visit_id: uuid.UUID,
        version: str | None,
        data: scheduling.Reschedule,
    ) -> Visit:
        """Move the visit's window (reason and agreement required by the service)."""
        await self._visit_of(order_id, visit_id, version)
        return await VisitService(self.session, self.actor).reschedule(visit_id, data)

    async def reassign(
        self,
        order_id: uuid.UUID,
        visit_id: uuid.UUID,
        version: str | None,
        data: scheduling.Reassign,
    ) -> Visit:
        """Give the visit to another technician."""
        await self._visit_of(order_id, visit_id, version)
        return await VisitService(self.session, self.actor).reassign(visit_id, data)

    async def cancel_visit(
        self, order_id: uuid.UUID, visit_id: uuid.UUID, version: str | None, reason: str
    ) -> Visit:
        """Cancel a visit that has not started."""
        await self._visit_of(order_id, visit_id, version)
        return await VisitService(self.session, self.actor).cancel(visit_id, reason)

    async def cancel_order(
        self, order_id: uuid.UUID, version: str | None, reason: str
    ) -> WorkOrder:
        """Cancel the order (its planned visits with it)."""
        order = await WorkOrderService(self.session, self.actor).get(order_id, for_update=True)
        check_version(version, order.version)
        return await WorkOrderService(self.session, self.actor).cancel(order_id, reason)


def agreement_from(values: dict[str, str]) -> scheduling.Agreement | None:
    """Who agreed and how, from form fields; None when either is missing or unknown."""
    name = values.get("agreed_with", "").strip()
    channel = values.get("channel", "")
    if not name or channel not in CHANNELS:
        return None
    try:
        return msgspec.convert({"name": name[:200], "channel": channel}, scheduling.Agreement)
    except msgspec.ValidationError:
        return None
