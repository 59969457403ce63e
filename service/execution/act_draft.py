"""The act snapshot of a visit on site: what the visit recorded, as the customer will read it.

Reads the visit's answers, installed equipment and photos, and hands them to the pure content
builder (``service.acts.content``); ``ActService.snapshot_for`` adds the parties and times.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from service.common.geo import point_from_wkb
from service.db.base import utcnow
from service.db.models import Customer, Photo, Site, Territory, Visit, VisitRecord, WorkOrder
from service.visit_checklists.registry import TemplateRegistry

# Image types the PDF can draw; HEIC stays as evidence in the store.
EMBEDDABLE = ("image/jpeg", "image/png", "image/webp")
# Serial steps whose answers are equipment left with the customer.
EQUIPMENT_SERIAL_STEPS = ("equipment_installed",)


class ActDrafter:
    """Builds the version 2 snapshot of a visit's act from what was recorded on site."""

    def __init__(self, session: AsyncSession, acts: ActService, registry: TemplateRegistry) -> None:
        self.session = session
        self.acts = acts
        self.registry = registry

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
        point = point_from_wkb(site.location)
        rows = checklist_rows(
            RowSource(pinned=template, newest=await self._newest(template)),
            answers,
            answered=set(state.answered_steps),
            language=language,
            zone=ZoneInfo(territory.time_zone),
            site=GeoPoint(lat=point.lat, lon=point.lon),
            fallback_time=now,
        )
        installed = await self._installed(visit)
        equipment = None
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
        return await self.acts.snapshot_for(
            visit.id,
            kind=kind,
            acceptor_name=acceptor_name or _acceptor(answers, state),
            equipment=equipment,
            checklist=rows,
            photos=await self._photos(visit, template, language),
            arrived_at=visit.arrived_at,
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
        self, visit: Visit, template: CompiledTemplate, language: reports.Language
    ) -> list[reports.Photo]:
        rows = (
            await self.session.scalars(
                select(Photo)
                .where(
                    Photo.visit_id == visit.id,
                    Photo.status == "stored",
                    Photo.content_type.in_(EMBEDDABLE),
                )
                .order_by(Photo.created_at)
            )
        ).all()
        titles = template.titles.get(language, {})
        return [
            reports.Photo(
                sha256=p.sha256,
                caption=titles.get(p.step_id or "", "")[:300],
                taken_at=p.taken_at,
            )
            for p in rows
        ]


def _acceptor(answers: Mapping[str, Answer], state: ChecklistState) -> str | None:
    """The name the acceptor gave, when that answer counted."""
    name = answers.get("acceptor_name")
    if name is None or "acceptor_name" not in state.answered_steps:
        return None
    return name.value.strip()[:300] if isinstance(name.value, str) and name.value.strip() else None
