"""A test's own cloned database (``fresh_*`` fixtures) holds what the appeal migration seeds.

The template is copied from the session's database right after ``db upgrade``, so the appeal
policies (seed 001 §6.1 defaults), the complaint-reason taxonomy and the business calendars are
there before any test writes; no test has to seed them again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.appeals.deadlines import DEFAULT_POLICIES
from service.db.models import AppealPolicy, AppealReason, Holiday
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def test_a_cloned_database_holds_the_seeded_appeal_policies(fresh_build: Builder) -> None:
    async with fresh_build.sessionmaker() as session:
        policies = {p.kind: p for p in (await session.scalars(select(AppealPolicy))).all()}
        reasons = (await session.scalars(select(AppealReason.code))).all()
    assert set(policies) == set(DEFAULT_POLICIES)
    for kind, default in DEFAULT_POLICIES.items():
        assert policies[kind].merits_days == default.merits_days
        assert policies[kind].max_days == default.max_days
        assert policies[kind].day_kind == default.day_kind
    assert "missed_visit" in reasons
    # Working-day deadlines need the holidays the calendar migrations seed.
    assert await fresh_build.count(Holiday) > 0
