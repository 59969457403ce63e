"""A refresh from the `holidays` library: the library's rows are rewritten, an administrator's
overrides stay; seeded rows are the library's; a missing coming year shows on the board."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.base import utcnow
from service.db.models import BusinessCalendar, Holiday
from service.sla.holiday_sources import (
    calendars_without_year,
    library_days,
    refresh_calendars,
)
from tests.integration.board.test_board_page import login, page
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio

WEEK = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


async def _calendar(build: Builder, country: str, rows: list[Holiday]) -> BusinessCalendar:
    async with build.sessionmaker() as session:
        calendar = BusinessCalendar(
            code=f"H{uuid.uuid4().hex[:10].upper()}",
            name="refresh test",
            country=country,
            zones=[],
            hours=WEEK,
        )
        session.add(calendar)
        await session.flush()
        for row in rows:
            row.calendar_id = calendar.id
        session.add_all(rows)
        await session.commit()
    return calendar


@pytest.fixture
def build(fresh_build: Builder) -> Builder:
    """Each test here writes to a database of its own: a calendar lacking the coming year would
    otherwise show on every administrator's board in the tests after it."""
    return fresh_build


@pytest.fixture
def client(fresh_client: Any) -> Any:
    """The app on the test's own database."""
    return fresh_client


async def _rows(build: Builder, calendar_id: uuid.UUID, year: int) -> dict[date, Holiday]:
    async with build.sessionmaker() as session:
        rows = await session.scalars(select(Holiday).where(Holiday.calendar_id == calendar_id))
        return {r.day: r for r in rows if r.day.year == year}


async def test_seeded_rows_are_the_librarys_and_admin_rows_are_overrides(build: Builder) -> None:
    async with build.sessionmaker() as session:
        ru = await session.scalar(select(BusinessCalendar).where(BusinessCalendar.code == "RU"))
        assert ru is not None
        seeded = await session.scalar(
            select(Holiday).where(Holiday.calendar_id == ru.id, Holiday.day == date(2027, 6, 12))
        )
    assert seeded is not None
    assert seeded.source == "library"


async def test_refresh_rewrites_library_rows_and_keeps_overrides(build: Builder) -> None:
    calendar = await _calendar(
        build,
        "RU",
        [
            # As the hand-kept seed had them: wrong since the 2027 decree.
            Holiday(
                day=date(2027, 2, 22),
                name="Предпраздничный день",
                kind="short_day",
                shorten_minutes=60,
                source="library",
            ),
            Holiday(day=date(2027, 8, 30), name="Устарело", kind="holiday", source="library"),
            # An administrator's decisions: a company day off, and 5 Nov worked after all.
            Holiday(day=date(2027, 7, 1), name="День компании", kind="holiday", source="admin"),
            Holiday(
                day=date(2027, 11, 5),
                name="Работаем",
                kind="short_day",
                shorten_minutes=120,
                source="admin",
            ),
        ],
    )

    async with build.sessionmaker() as session, session.begin():
        results = await refresh_calendars(session, [2027], codes=[calendar.code])
    assert len(results) == 1
    result = results[0]
    wanted = {d.day: d for d in library_days("RU", 2027)}
    assert (result.changed, result.removed, result.overridden) == (1, 1, 1)
    assert result.added == len(wanted) - 2  # all but 22 Feb (changed) and 5 Nov (overridden)

    rows = await _rows(build, calendar.id, 2027)
    assert rows[date(2027, 2, 22)].kind == "holiday"
    assert rows[date(2027, 2, 22)].shorten_minutes == 0
    assert rows[date(2027, 2, 20)].kind == "working_day_transfer"
    assert rows[date(2027, 12, 31)].kind == "holiday"
    assert date(2027, 8, 30) not in rows
    assert (rows[date(2027, 11, 5)].name, rows[date(2027, 11, 5)].source) == ("Работаем", "admin")
    assert rows[date(2027, 11, 5)].shorten_minutes == 120
    assert rows[date(2027, 7, 1)].source == "admin"
    assert {d for d, r in rows.items() if r.source == "library"} == set(wanted) - {
        date(2027, 11, 5)
    }

    # A second refresh finds nothing to do.
    async with build.sessionmaker() as session, session.begin():
        again = (await refresh_calendars(session, [2027], codes=[calendar.code]))[0]
    assert (again.added, again.changed, again.removed, again.overridden) == (0, 0, 0, 1)


async def test_other_countries_are_left_alone(build: Builder) -> None:
    calendar = await _calendar(build, "UZ", [])
    async with build.sessionmaker() as session, session.begin():
        assert await refresh_calendars(session, [2027], codes=[calendar.code]) == []
    assert await _rows(build, calendar.id, 2027) == {}


async def test_a_missing_coming_year_is_reported_and_shown_to_admins_only(
    client: Any, build: Builder
) -> None:
    year = utcnow().year
    stale = await _calendar(
        build, "KZ", [Holiday(day=date(year, 1, 1), name="Жаңа жыл", kind="holiday")]
    )
    never = await _calendar(build, "KZ", [])  # a calendar without holidays misses nothing
    async with build.sessionmaker() as session:
        missing = await calendars_without_year(session, year + 1)
    assert stale.code in missing
    assert never.code not in missing
    assert "KZ" not in missing  # seeded through 2027

    area = await build.area()
    admin = await build.person(Role.ADMIN)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    client.cookies.clear()
    follow, client.follow_redirects = client.follow_redirects, False
    try:
        assert (await login(client, admin, language="en")).status_code == 303
        html = (await page(client)).text
        notice = re.search(r'<p class="calendar-warning" role="note">([^<]+)</p>', html)
        assert notice, html[:2000]
        assert f"No holiday calendar for {year + 1}" in notice[1]
        assert stale.code in notice[1]
        client.cookies.clear()
        assert (await login(client, coordinator, language="en")).status_code == 303
        assert "No holiday calendar" not in (await page(client)).text
    finally:
        client.follow_redirects = follow
        client.cookies.clear()


async def test_the_admin_api_shows_where_each_day_comes_from(client: Any, build: Builder) -> None:
    admin = await build.person(Role.ADMIN)
    calendar = await _calendar(
        build,
        "RU",
        [Holiday(day=date(2027, 6, 12), name="День России", kind="holiday", source="library")],
    )
    base = f"/api/v1/coordination/calendars/{calendar.id}/holidays"
    added = await client.post(
        base,
        json={"items": [{"date": "2027-07-01", "name": "День компании"}]},
        headers=admin.headers,
    )
    assert added.status_code == 201, added.text
    listed = (await client.get(base, params={"year": 2027}, headers=admin.headers)).json()
    assert {d["date"]: d["source"] for d in listed["items"]} == {
        "2027-06-12": "library",
        "2027-07-01": "admin",
    }
    # A refresh keeps the administrator's day and fills in the library's year around it.
    async with build.sessionmaker() as session, session.begin():
        await refresh_calendars(session, [2027], codes=[calendar.code])
    listed = (await client.get(base, params={"year": 2027}, headers=admin.headers)).json()
    sources = {d["date"]: d["source"] for d in listed["items"]}
    assert sources["2027-07-01"] == "admin"
    assert sources["2027-11-05"] == "library"
