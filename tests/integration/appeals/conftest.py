"""Appeal tests start from the seeds' deadlines (other tests, schemathesis, may change them)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from service.appeals.deadlines import DEFAULT_POLICIES
from service.db.models import AppealPolicy
from tests.integration.builders import Builder


@pytest.fixture(autouse=True)
async def seed_policies(build: Builder) -> None:
    """Every kind's policy back to the seeds' defaults before the test."""
    async with build.sessionmaker() as session:
        for kind, policy in DEFAULT_POLICIES.items():
            await session.execute(
                update(AppealPolicy)
                .where(AppealPolicy.kind == kind)
                .values(
                    merits_days=policy.merits_days,
                    max_days=policy.max_days,
                    day_kind=policy.day_kind,
                    competence_working_days=policy.competence_working_days,
                    warning_ratio=policy.warning_ratio,
                )
            )
        await session.commit()
