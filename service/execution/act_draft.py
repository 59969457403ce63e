"""The act snapshot of a visit on site: what the visit recorded, as the customer will read it.

Reads the visit's answers, installed equipment and photos, and hands them to the pure content
builder (``service.acts.content``); ``ActService.snapshot_for`` adds the parties and times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import reports
from checklists import Answer, ChecklistState, CompiledTemplate, UnknownTemplate
from checklists.schema import GeoPoint
from service.acts.content import (
    InstalledRecord,
    RowSource,
    checklist_rows,
    equipment_lines,
    serials,
)
from service.acts.services import ActService
from service.audit.services import record
from service.common.geo import point_from_wkb
from service.db.base import utcnow
from service.db.models import Customer, Photo, Site, Territory, Visit, VisitRecord, WorkOrder
from service.execution.photos import photos_for_act, photos_label
from service.storage import BlobStore
from service.visit_checklists.registry import TemplateRegistry

# Serial steps whose answers are equipment left with the customer.
EQUIPMENT_SERIAL_STEPS = ("equipment_installed",)


class ActDrafter:
    """Builds the version 2 snapshot of a visit's act from what was recorded on site."""

    def __init__(
        self,
        session: AsyncSession,
        acts: ActService,
        registry: TemplateRegistry,
        store: BlobStore,
    ) -> None:
        self.session = session
        self.acts = acts
        self.registry = registry
        self.store = store

    async def snapshot(
        self,
        visit: Visit,
        *,
        kind: reports.ActKind,
        acceptor_name: str | None,
        template: CompiledTemplate,
        answers: Mapping[str, Answer],
        state: ChecklistState,
    ) -> reports.ActSnapshot:
        """The act as the customer will read it, frozen at this moment."""
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        site = await self.session.get_one(Site, order.site_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        language: reports.Language = customer.preferred_language  # type: ignore[assignment]
        now = utcnow()
        zone = ZoneInfo(territory.time_zone)
        point = point_from_wkb(site.location)
        rows = checklist_rows(
            RowSource(pinned=template, newest=await self._newest(template)),
            answers,
            answered=set(state.answered_steps),
            language=language,
            zone=zone,
            site=GeoPoint(lat=point.lat, lon=point.lon),
            fallback_time=now,
        )
        installed = await self._installed(visit)
        # Only what was recorded on site: the order's planned list is not what was left.
        equipment: tuple[reports.EquipmentLine, ...] = ()
        checklist_serials = [
            serial
            for step_id in EQUIPMENT_SERIAL_STEPS
            if step_id in state.answered_steps and step_id in answers
            for serial in serials(answers[step_id].value)
        ]
        if installed or checklist_serials:
            equipment = equipment_lines(
                order_items=order.equipment,
                installed=installed,
                checklist_serials=checklist_serials,
                language=language,
            )
        photos, photo_rows = await self._photos(visit, template, language, now, zone)
        return await self.acts.snapshot_for(
            visit.id,
            kind=kind,
            acceptor_name=acceptor_name or _acceptor(answers, state),
            equipment=equipment,
            checklist=rows + photo_rows,
            photos=photos,
            arrived_at=visit.arrived_at or _first_on_site(answers, rows),
            finished_at=now,
        )

    async def _newest(self, pinned: CompiledTemplate) -> CompiledTemplate | None:
        """The newest published version of the pinned key, whose act texts old pins borrow."""
        try:
            pin = await self.registry.latest_pin(self.session, pinned.key)
            return await self.registry.resolve(self.session, pin)
        except UnknownTemplate:
            return None

    async def _installed(self, visit: Visit) -> list[InstalledRecord]:
        rows = (
            await self.session.scalars(
                select(VisitRecord)
                .where(VisitRecord.visit_id == visit.id, VisitRecord.kind == "equipment")
                .order_by(VisitRecord.id)
            )
        ).all()
        return [
            InstalledRecord(
                name=str(item["name"]),
                serial=str(item["serial"]),
                model=str(item.get("model") or ""),
                replaces_serial=str(item.get("replaces_serial") or ""),
            )
            for row in rows
            for item in row.data["items"]
        ]

    async def _photos(
        self,
        visit: Visit,
        template: CompiledTemplate,
        language: reports.Language,
        now: datetime,
        zone: ZoneInfo,
    ) -> tuple[list[reports.Photo], tuple[reports.ChecklistEntry, ...]]:
        # Only photos whose bytes decode are embedded: a bad asset must never make the act
        # unsignable. HEIC stays as evidence in the store and is counted in a row of its own.
        stored = (
            await self.session.scalars(
                select(Photo)
                .where(Photo.visit_id == visit.id, Photo.status == "stored")
                .order_by(Photo.created_at)
            )
        ).all()
        chosen = await photos_for_act(self.store, list(stored), language)
        for photo, reason in chosen.skipped:
            await record(
                self.session,
                self.acts.actor,
                "photo.skipped_in_act",
                "photo",
                photo.id,
                after={"visit_id": visit.id, "reason": reason},
            )
        titles = template.titles.get(language, {})
        embedded = [
            reports.Photo(
                sha256=p.sha256,
                caption=titles.get(p.step_id or "", "")[:300],
                taken_at=p.taken_at,
            )
            for p in chosen.embedded
        ]
        if not chosen.note:
            return embedded, ()
        note = reports.ChecklistEntry(
            step_id="photos",
            label=photos_label(language),
            answer=chosen.note,
            answered_at=now.astimezone(zone),
        )
        return embedded, (note,)


def _first_on_site(
    answers: Mapping[str, Answer], rows: Sequence[reports.ChecklistEntry]
) -> datetime | None:
    """When arrival was not recorded as such: the check-in answer, else the first act row.

    Preparation answered at the depot is not a row, so it never counts as being on site.
    """
    arrival = answers.get("geo_arrival")
    if arrival is not None and arrival.answered_at is not None:
        return arrival.answered_at
    return min((row.answered_at for row in rows), default=None)


def _acceptor(answers: Mapping[str, Answer], state: ChecklistState) -> str | None:
    """The name the acceptor gave, when that answer counted."""
    name = answers.get("acceptor_name")
    if name is None or "acceptor_name" not in state.answered_steps:
        return None
    return name.value.strip()[:300] if isinstance(name.value, str) and name.value.strip() else None
