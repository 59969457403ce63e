"""`naryad demo seed`: a visit it shows on site has the answers such a visit would have."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from checklists import evaluate
from service.common.actor import Actor, Role
from service.db.models import Visit
from service.demo.seed import seed
from service.visit_checklists.registry import TemplateRegistry
from service.visit_checklists.services import ChecklistService
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def test_a_visit_on_site_has_its_checks_before_departure_and_its_arrival(
    fresh_build: Builder,
) -> None:
    async with fresh_build.sessionmaker() as session:
        await seed(session)
        await session.commit()
    anyone = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, territory_ids=frozenset())
    async with fresh_build.sessionmaker() as session:
        on_site = list(await session.scalars(select(Visit).where(Visit.status == "on_site")))
        assert on_site
        checklists = ChecklistService(session, anyone, TemplateRegistry())
        for visit in on_site:
            _, template = await checklists.pin(visit)
            answers = await checklists.effective_answers(visit.id)
            state = evaluate(template, answers, site=await checklists.site(visit))
            before = next(p for p in state.phases if p.id == "before_departure")
            # What the app shows as "Before departure 6 of 6", and the arrival made at the site.
            assert before.required_done == before.required_total > 0, before
            assert "geo_arrival" in state.answered_steps
            assert state.current_phase == "arrival"
            assert visit.arrived_at is not None
            assert all(a.answered_at <= visit.arrived_at for a in answers.values())
