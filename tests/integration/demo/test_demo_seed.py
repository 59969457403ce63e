"""`naryad demo seed`: the demo data, with an appeal in every state a coordinator works with,
created once (seeding again changes nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.db.base import utcnow
from service.db.models import (
    Appeal,
    AppealLetter,
    AppealMeasure,
    AppealNote,
    AppealUnitRequest,
    User,
    WorkOrder,
)
from service.demo.seed import run_seed
from service.settings import Settings
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def _snapshot(build: Builder) -> dict[str, object]:
    async with build.sessionmaker() as session:
        appeals = (await session.scalars(select(Appeal).order_by(Appeal.number))).all()
        counts = {
            model.__name__: await session.scalar(select(func.count()).select_from(model))
            for model in (
                User,
                WorkOrder,
                AppealLetter,
                AppealMeasure,
                AppealNote,
                AppealUnitRequest,
            )
        }
        return {
            "appeals": [(a.number, a.kind, a.state, a.refusal_ground) for a in appeals],
            **counts,
        }


async def test_the_demo_seed_shows_appeals_in_every_state_once(
    fresh_settings: Settings, fresh_build: Builder
) -> None:
    first = await run_seed(fresh_settings)
    assert "5 appeals" in first
    async with fresh_build.sessionmaker() as session:
        appeals = (await session.scalars(select(Appeal))).all()
        states = sorted(a.state for a in appeals)
        assert states == ["answered", "in_progress", "in_progress", "refused", "registered"]
        now = utcnow()
        # One overdue (open past its deadline), one complaint in work with a request to another
        # unit and a measure, one answered with its letter, one refused on a listed ground.
        assert [a for a in appeals if a.closed_at is None and a.due_at < now]
        in_work = [a for a in appeals if a.kind == "complaint" and a.state == "in_progress"]
        assert len(in_work) == 1
        assert in_work[0].decision == "justified"
        assert in_work[0].work_order_id is not None
        assert in_work[0].customer_id is not None
        answered = next(a for a in appeals if a.state == "answered")
        assert await session.scalar(
            select(AppealLetter.pdf_sha256).where(AppealLetter.appeal_id == answered.id)
        )
        refused = next(a for a in appeals if a.state == "refused")
        assert refused.refusal_ground == "repeat_without_new_facts"
    assert await fresh_build.count(AppealUnitRequest) == 1
    assert await fresh_build.count(AppealMeasure) == 2
    before = await _snapshot(fresh_build)

    again = await run_seed(fresh_settings)
    assert again == "demo data already present"
    assert await _snapshot(fresh_build) == before
    assert (await run_seed(fresh_settings, only_if_empty=True)) == "demo data already present"
    assert await _snapshot(fresh_build) == before
