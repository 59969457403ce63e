"""Public holidays from the `holidays` library, written into the business calendars.

The library knows each country's holidays, its moved days off (Russia's government transfers,
Kazakhstan's days off in lieu) and the weekend days worked in exchange. It does not know the
Russian pre-holiday hour, which follows one rule (Labour Code art. 95): the working day
immediately before a non-working holiday is one hour shorter; that rule is applied here.

A refresh rewrites the library's rows of a year and leaves an administrator's rows alone: on a
date an administrator has set, the override wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import version

import holidays as holiday_library
from sqlalchemy import delete, extract, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import BusinessCalendar, Holiday
from service.sla.clocks import invalidate_open_clocks

logger = logging.getLogger("naryad.calendar")

# Countries whose calendars the library fills, and the language their day names are kept in
# (Kazakhstan's calendar in Kazakh, the library has no Russian names for it).
LIBRARY_COUNTRIES: dict[str, str] = {"KZ": "kk", "RU": "ru"}
# Countries where the working day before a non-working holiday is shortened, by minutes.
PRE_HOLIDAY_CUT: dict[str, int] = {"RU": 60}
PRE_HOLIDAY_NAME = "Предпраздничный день"
# The library lists a worked weekend day only as a date; its name in the calendar's language.
WORKED_WEEKEND_NAME: dict[str, str] = {
    "ru": "Рабочий день (перенос выходного)",
    "kk": "Жұмыс күні (демалыс ауыстырылды)",
}
# How the library names a day off moved from another date (language en_US): not a holiday of
# its own, so no pre-holiday hour before it.
_SUBSTITUTED_PREFIX = "Day off (substituted"


@dataclass(frozen=True, slots=True)
class LibraryDay:
    """One dated exception as the library (and the pre-holiday rule) gives it."""

    day: date
    name: str
    kind: str  # holiday, short_day or working_day_transfer
    shorten_minutes: int = 0


def library_days(country: str, year: int) -> list[LibraryDay]:
    """A country's dated exceptions of a year, by date (pure: no database)."""
    language = LIBRARY_COUNTRIES[country]
    named = holiday_library.country_holidays(country, years=year, language=language)
    days = {d: LibraryDay(d, str(name), "holiday") for d, name in named.items()}
    for worked in sorted(named.weekend_workdays):
        if worked.year == year and worked not in days:
            days[worked] = LibraryDay(worked, WORKED_WEEKEND_NAME[language], "working_day_transfer")
    cut = PRE_HOLIDAY_CUT.get(country)
    if cut:
        for eve in _pre_holiday_days(country, year):
            if eve not in days:
                days[eve] = LibraryDay(eve, PRE_HOLIDAY_NAME, "short_day", cut)
    return [days[d] for d in sorted(days)]


def _pre_holiday_days(country: str, year: int) -> list[date]:
    """Working days of ``year`` immediately before a statutory holiday (not a moved day off)."""
    years = [year, year + 1]  # 31 December is the eve of the next year's 1 January
    statutory = holiday_library.country_holidays(
        country, years=years, language="en_US", observed=False
    )
    calendar = holiday_library.country_holidays(country, years=years)
    eves = []
    for day, name in statutory.items():
        if str(name).startswith(_SUBSTITUTED_PREFIX):
            continue
        eve = day - timedelta(days=1)
        if eve.year == year and calendar.is_working_day(eve):
            eves.append(eve)
    return sorted(eves)


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What a refresh changed in one calendar's year."""

    calendar_code: str
    year: int
    added: int
    changed: int
    removed: int
    overridden: int  # library days left alone because an administrator set that date


async def refresh_calendars(
    session: AsyncSession, years: list[int], codes: list[str] | None = None
) -> list[RefreshResult]:
    """Rewrite the library's rows of these years in every KZ/RU calendar, or in the calendars
    named by ``codes`` (flushes; open SLA clocks are recomputed when anything changed)."""
    stmt = select(BusinessCalendar).where(BusinessCalendar.country.in_(LIBRARY_COUNTRIES))
    if codes is not None:
        stmt = stmt.where(BusinessCalendar.code.in_(codes))
    calendars = (await session.scalars(stmt.order_by(BusinessCalendar.code))).all()
    results = []
    for calendar in calendars:
        for year in years:
            results.append(await _refresh_year(session, calendar, year))
    if any(r.added or r.changed or r.removed for r in results):
        await invalidate_open_clocks(session)
    await session.flush()
    for result in results:
        logger.info(
            "calendar %s %d refreshed from holidays %s: %d added, %d changed, %d removed, "
            "%d dates kept as administrator overrides",
            result.calendar_code,
            result.year,
            version("holidays"),
            result.added,
            result.changed,
            result.removed,
            result.overridden,
        )
    return results


async def _refresh_year(
    session: AsyncSession, calendar: BusinessCalendar, year: int
) -> RefreshResult:
    wanted = {d.day: d for d in library_days(calendar.country, year)}
    rows = (
        await session.scalars(
            select(Holiday).where(
                Holiday.calendar_id == calendar.id, extract("year", Holiday.day) == year
            )
        )
    ).all()
    admin_days = {r.day for r in rows if r.source == "admin"}
    library_rows = {r.day: r for r in rows if r.source == "library"}
    stale = [day for day in library_rows if day not in wanted]
    if stale:
        await session.execute(
            delete(Holiday).where(Holiday.calendar_id == calendar.id, Holiday.day.in_(stale))
        )
    added = changed = 0
    for day, item in wanted.items():
        if day in admin_days:
            continue
        row = library_rows.get(day)
        if row is None:
            session.add(
                Holiday(
                    calendar_id=calendar.id,
                    day=day,
                    name=item.name,
                    kind=item.kind,
                    shorten_minutes=item.shorten_minutes,
                    source="library",
                )
            )
            added += 1
        elif (row.name, row.kind, row.shorten_minutes) != (
            item.name,
            item.kind,
            item.shorten_minutes,
        ):
            row.name, row.kind, row.shorten_minutes = item.name, item.kind, item.shorten_minutes
            changed += 1
    return RefreshResult(
        calendar.code, year, added, changed, len(stale), len(admin_days & wanted.keys())
    )


async def calendars_without_year(session: AsyncSession, year: int) -> list[str]:
    """Codes of the calendars that keep holidays (some before ``year``) but none in ``year``.

    A calendar that never had a holiday (a 24/7 one, say) is left out: it is not missing data.
    """
    in_year = (
        select(Holiday.id)
        .where(Holiday.calendar_id == BusinessCalendar.id, extract("year", Holiday.day) == year)
        .exists()
    )
    before = (
        select(Holiday.id)
        .where(Holiday.calendar_id == BusinessCalendar.id, extract("year", Holiday.day) < year)
        .exists()
    )
    rows = await session.scalars(
        select(BusinessCalendar.code).where(before, ~in_year).order_by(BusinessCalendar.code)
    )
    return list(rows)


async def warn_when_year_missing(session: AsyncSession, year: int) -> list[str]:
    """Log a warning naming the calendars without data for ``year``; returns their codes."""
    missing = await calendars_without_year(session, year)
    if missing:
        logger.warning(
            "business calendars %s have no holidays for %d: SLA deadlines there count every "
            "weekday as working; run `naryad calendar refresh --years %d` or enter them",
            ", ".join(missing),
            year,
            year,
        )
    return missing
