"""The desk's list: owners resolved set-wise, and the search answered by the phone indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from service.common.actor import Role
from service.db.models import Customer, Escalation, OrderOwner, User, WorkOrder
from service.staff.coordinate import (
    CoordinatorWorkspace,
    WorkspaceFilters,
    _bind,
    escalation_inbox,
)
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def _rename(build: Builder, user_id: object, name: str, *, active: bool = True) -> None:
    async with build.sessionmaker() as session:
        user = await session.get_one(User, user_id)
        user.full_name = name
        user.is_active = active
        await session.commit()


async def test_mine_is_the_on_duty_coordinators_and_what_each_took(build: Builder) -> None:
    area = await build.area()
    other = await build.area()
    duty = await build.person(Role.COORDINATOR, area.territory, other.territory)
    colleague = await build.person(Role.COORDINATOR, area.territory)
    away = await build.person(Role.COORDINATOR, other.territory)
    await _rename(build, duty.user.id, "Бекова Дана")
    await _rename(build, colleague.user.id, "Сейітов Арман")
    # First by name but inactive: never on duty.
    await _rename(build, away.user.id, "Абаев Ерлан", active=False)
    now = datetime.now(UTC)
    late = [await build.order(area, control_deadline=now - timedelta(hours=h)) for h in (1, 2, 3)]
    elsewhere = await build.order(other, control_deadline=now - timedelta(hours=4))
    await build.order(area, control_deadline=now + timedelta(hours=4))  # not overdue yet
    async with build.sessionmaker() as session:
        session.add(OrderOwner(work_order_id=late[0].id, user_id=colleague.user.id, since=now))
        await session.commit()

    async with build.sessionmaker() as session:
        mine = await CoordinatorWorkspace(session, duty.actor).overdue(WorkspaceFilters(), now)
        theirs = await CoordinatorWorkspace(session, colleague.actor).overdue(
            WorkspaceFilters(), now
        )
        everyone = await CoordinatorWorkspace(session, duty.actor).overdue(
            WorkspaceFilters(mine=False), now
        )
    assert [r.number for r in mine.rows] == [elsewhere.number, late[2].number, late[1].number]
    assert {r.owner_name for r in mine.rows} == {"Бекова Дана"}
    assert not any(r.owner_taken for r in mine.rows)
    assert (mine.total, mine.mine_total, mine.all_total) == (3, 3, 4)
    assert [(r.number, r.owner_name, r.owner_taken) for r in theirs.rows] == [
        (late[0].number, "Сейітов Арман", True)
    ]
    assert (theirs.mine_total, theirs.all_total) == (1, 3)
    assert everyone.total == 4
    assert [r.number for r in everyone.rows] == [
        elsewhere.number,
        late[2].number,
        late[1].number,
        late[0].number,
    ]


async def test_search_by_phone_name_address_and_number(build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    now = datetime.now(UTC)
    by_customer = await build.order(area, control_deadline=now - timedelta(hours=2))
    by_contact = await build.order(area, control_deadline=now - timedelta(hours=1))
    async with build.sessionmaker() as session:
        customer = await session.get_one(Customer, area.customer.id)
        customer.phones = ["+77019998877"]
        (await session.get_one(WorkOrder, by_contact.id)).contact_phones = ["+77025554433"]
        await session.commit()

    async def found(q: str) -> list[str]:
        async with build.sessionmaker() as session:
            page = await CoordinatorWorkspace(session, coordinator.actor).overdue(
                WorkspaceFilters(mine=False, q=q), now
            )
        return sorted(r.number for r in page.rows)

    both = sorted([by_customer.number, by_contact.number])
    assert await found("999 88") == both  # the customer's phone, typed with spaces
    assert await found("8 701 999 88 77") == both  # dialled with the trunk prefix
    assert await found("555-44") == [by_contact.number]  # the order's own contact phone
    assert await found("1234 000") == []
    assert await found("Нұрланова") == both
    assert await found("абая") == both
    assert await found(by_contact.number[-6:]) == [by_contact.number]
    assert await found("100%") == []


async def _plan(build: Builder, q: str) -> str:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    async with build.sessionmaker() as session:
        workspace = CoordinatorWorkspace(session, coordinator.actor)
        sql, params = workspace.page_sql(WorkspaceFilters(mine=False, q=q), datetime.now(UTC))
        # A handful of rows: PostgreSQL would rightly read the tables, so sequential scans are
        # priced out to see which indexes the statement can use at any size.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await session.execute(_bind("EXPLAIN " + sql), params)
        return "\n".join(r[0] for r in rows)


async def test_a_phone_search_reads_the_phone_trigram_indexes(build: Builder) -> None:
    plan = await _plan(build, "+7 701 999")
    assert "ix_customers_phones_trgm" in plan
    assert "ix_work_orders_contact_phones_trgm" in plan


async def test_a_word_search_does_not_look_at_phones(build: Builder) -> None:
    plan = await _plan(build, "Абая")
    assert "phones_trgm" not in plan
    assert "phones_text" not in plan


async def test_inbox_counts_hold_on_every_page(build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    now = datetime.now(UTC)
    orders = [await build.order(area, control_deadline=now - timedelta(hours=h)) for h in (1, 2)]
    async with build.sessionmaker() as session:
        for n, (order, level, role) in enumerate(
            [
                (orders[0], "breach", "coordinator"),
                (orders[0], "head", "supervisor"),
                (orders[1], "breach", "coordinator"),
            ]
        ):
            session.add(
                Escalation(
                    work_order_id=order.id,
                    target="resolution",
                    level=level,
                    due_at=now - timedelta(hours=3),
                    recipient_role=role,
                    recipient_ids=[],
                    created_at=now - timedelta(minutes=10 - n),
                )
            )
        await session.commit()
    async with build.sessionmaker() as session:
        mine = await escalation_inbox(session, coordinator.actor, to_me=True, offset=0)
        everyone = await escalation_inbox(session, coordinator.actor, to_me=False, offset=0)
        past = await escalation_inbox(session, coordinator.actor, to_me=False, offset=40)
    assert (mine.escalations, mine.orders) == (2, 2)
    assert [g.number for g in mine.groups] == [orders[0].number, orders[1].number]
    assert (everyone.escalations, everyone.orders) == (3, 2)
    assert everyone.groups[0].levels == ["breach", "head"]
    assert everyone.groups[0].others == 1
    assert (past.escalations, past.orders, past.groups) == (3, 2, [])
