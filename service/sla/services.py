"""Coordination rules: SLA policies, business calendars and holidays, territory profiles, and
the explanation of an order's clocks. Admins write configuration; staff read it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import ColumnElement, and_, delete, exists, extract, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.auth.actor import Actor
from service.common.patching import changed_fields
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import (
    BusinessCalendar,
    Holiday,
    SlaPolicy,
    Territory,
    TerritorySlaProfile,
    WorkOrder,
)
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.sla import schemas
from service.sla.calendar import Period, make_week
from service.sla.clocks import (
    compute_for_order,
    effective_calendar,
    invalidate_open_clocks,
)
from service.sla.policies import WEIGHTS, specificity

KEY_FIELDS = tuple(name for name, _ in WEIGHTS)
POLICY_FIELDS = (
    "name",
    *KEY_FIELDS,
    "response_minutes",
    "arrival_minutes",
    "resolution_minutes",
    "measure",
    "warning_ratio",
)
MAX_HOLIDAY_RANGE_DAYS = 31
DEFAULT_SHORTENING = 60


def _invalid(field: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field=field, message=message)], code=code)


# -- policies ------------------------------------------------------------------------------


def policy_schema(policy: SlaPolicy) -> schemas.SlaPolicy:
    """Model to API schema."""
    return schemas.SlaPolicy(
        id=policy.id,
        name=policy.name,
        work_type=policy.work_type,
        priority=policy.priority,
        segment=policy.segment,
        area_kind=policy.area_kind,
        response_minutes=policy.response_minutes,
        arrival_minutes=policy.arrival_minutes,
        resolution_minutes=policy.resolution_minutes,
        measure=policy.measure,
        warning_ratio=policy.warning_ratio,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def _check_targets(values: dict[str, Any]) -> None:
    """Agreeing a visit comes before arriving, and arriving before resolving."""
    response, arrival, resolution = (
        values["response_minutes"],
        values["arrival_minutes"],
        values["resolution_minutes"],
    )
    problems = []
    if response > arrival:
        problems.append(FieldError(field="response_minutes", message="exceeds arrival_minutes"))
    if arrival > resolution:
        problems.append(FieldError(field="arrival_minutes", message="exceeds resolution_minutes"))
    if problems:
        raise ValidationFailed(
            "Targets must satisfy response <= arrival <= resolution", errors=problems
        )


def _snapshot(policy: SlaPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


class PolicyService:
    """SLA policies."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def all(self) -> schemas.SlaPolicyList:
        """Every policy, most specific first."""
        rows = (await self.session.scalars(select(SlaPolicy))).all()
        ordered = sorted(rows, key=lambda p: (-specificity(p), p.name))
        return schemas.SlaPolicyList(items=[policy_schema(p) for p in ordered])

    async def get(self, policy_id: uuid.UUID) -> SlaPolicy:
        """One policy, or NotFound."""
        policy = await self.session.get(SlaPolicy, policy_id)
        if policy is None:
            raise NotFound("SLA policy not found")
        return policy

    async def create(self, data: schemas.SlaPolicyCreate) -> SlaPolicy:
        """Add a policy; its key (type, priority, segment, area) must be new."""
        values = msgspec.structs.asdict(data)
        _check_targets(values)
        await self._check_key_free(values, None)
        policy = SlaPolicy(**values)
        await self._flush_unique(policy)
        await invalidate_open_clocks(self.session)
        await record(
            self.session, self.actor, "sla_policy.created", "sla_policy", policy.id, after=values
        )
        return policy

    async def update(self, policy_id: uuid.UUID, patch: schemas.SlaPolicyUpdate) -> SlaPolicy:
        """Change a policy; open clocks are recomputed by the refresh job."""
        policy = await self.get(policy_id)
        before = _snapshot(policy)
        values = before | changed_fields(patch)
        _check_targets(values)
        await self._check_key_free(values, policy.id)
        for name, value in values.items():
            setattr(policy, name, value)
        await self._flush_unique(policy)
        await invalidate_open_clocks(self.session)
        await record(
            self.session,
            self.actor,
            "sla_policy.updated",
            "sla_policy",
            policy.id,
            before=before,
            after=_snapshot(policy),
        )
        return policy

    async def delete(self, policy_id: uuid.UUID) -> None:
        """Remove a policy; orders it covered fall back to a less specific one."""
        policy = await self.get(policy_id)
        await record(
            self.session,
            self.actor,
            "sla_policy.deleted",
            "sla_policy",
            policy.id,
            before=_snapshot(policy),
        )
        await self.session.delete(policy)
        await self.session.flush()
        await invalidate_open_clocks(self.session)

    async def _check_key_free(self, values: dict[str, Any], own_id: uuid.UUID | None) -> None:
        same_key = [
            getattr(SlaPolicy, name).is_not_distinct_from(values[name]) for name in KEY_FIELDS
        ]
        stmt = select(SlaPolicy.id).where(*same_key)
        if own_id is not None:
            stmt = stmt.where(SlaPolicy.id != own_id)
        if await self.session.scalar(stmt) is not None:
            raise Conflict(
                "A policy for this work type, priority, segment and area exists",
                code="duplicate_policy",
            )

    async def _flush_unique(self, policy: SlaPolicy) -> None:
        try:
            async with self.session.begin_nested():
                self.session.add(policy)
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                "A policy for this work type, priority, segment and area exists",
                code="duplicate_policy",
            ) from exc


# -- calendars -----------------------------------------------------------------------------


def validate_hours(hours: Sequence[schemas.WorkingHours], field: str = "hours") -> None:
    """Periods end after they start and do not overlap on a weekday."""
    problems = []
    periods = []
    for index, item in enumerate(hours):
        try:
            periods.append((item.weekday, Period.of(item.start, item.end)))
        except ValueError:
            problems.append(FieldError(field=f"{field}[{index}]", message="end must follow start"))
    if problems:
        raise ValidationFailed("Working hours are not valid", errors=problems)
    try:
        make_week(periods)
    except ValueError as exc:
        raise _invalid(field, str(exc)) from exc


def validate_zones(zones: Sequence[str]) -> None:
    """Every zone is an IANA zone the server knows, listed once."""
    problems = []
    for index, name in enumerate(zones):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(FieldError(field=f"zones[{index}]", message="not an IANA time zone"))
    if len(set(zones)) != len(zones):
        problems.append(FieldError(field="zones", message="a zone is listed twice"))
    if problems:
        raise ValidationFailed("Time zones are not valid", errors=problems)


def expand_holidays(items: Sequence[schemas.HolidayIn], field: str = "items") -> list[Holiday]:
    """One row per date; overlapping entries (the same date twice) are refused."""
    rows: list[Holiday] = []
    seen: dict[dt.date, int] = {}
    problems = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        last = item.until or item.date
        if last < item.date:
            problems.append(FieldError(field=f"{where}.until", message="before date"))
            continue
        if (last - item.date).days >= MAX_HOLIDAY_RANGE_DAYS:
            problems.append(
                FieldError(field=f"{where}.until", message="a range covers at most 31 days")
            )
            continue
        shorten = item.shorten_minutes
        if item.kind == "holiday" and shorten:
            problems.append(
                FieldError(field=f"{where}.shorten_minutes", message="a holiday has no hours")
            )
            continue
        if item.kind == "short_day":
            shorten = DEFAULT_SHORTENING if shorten is None else shorten
            if shorten == 0:
                problems.append(
                    FieldError(field=f"{where}.shorten_minutes", message="must be above 0")
                )
                continue
        # By offset, not by stepping past ``last``: a range may end on date.max.
        for offset in range((last - item.date).days + 1):
            day = item.date + dt.timedelta(days=offset)
            if day in seen:
                problems.append(
                    FieldError(
                        field=where,
                        message=f"{day.isoformat()} overlaps {field}[{seen[day]}]",
                    )
                )
            else:
                seen[day] = index
                rows.append(
                    Holiday(day=day, name=item.name, kind=item.kind, shorten_minutes=shorten or 0)
                )
    if problems:
        raise ValidationFailed("Holidays overlap or are not valid", errors=problems)
    return rows


class CalendarService:
    """Business calendars and their holidays."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def all(self) -> schemas.BusinessCalendarList:
        """Every calendar."""
        rows = (
            await self.session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.code))
        ).all()
        counts = await self._holiday_counts([c.id for c in rows])
        return schemas.BusinessCalendarList(
            items=[self._schema(c, counts.get(c.id, 0)) for c in rows]
        )

    async def get(self, calendar_id: uuid.UUID) -> schemas.BusinessCalendar:
        """One calendar."""
        calendar = await self._load(calendar_id)
        counts = await self._holiday_counts([calendar.id])
        return self._schema(calendar, counts.get(calendar.id, 0))

    async def create(self, data: schemas.BusinessCalendarCreate) -> schemas.BusinessCalendar:
        """Add a calendar with its hours, zones and holidays (all or nothing)."""
        validate_hours(data.hours)
        validate_zones(data.zones)
        holidays = expand_holidays(data.holidays, "holidays")
        if await self.session.scalar(select(exists().where(BusinessCalendar.code == data.code))):
            raise Conflict(f"Calendar code {data.code} is taken", code="duplicate_code")
        await self._check_zones_free(data.zones, None)
        calendar = BusinessCalendar(
            code=data.code,
            name=data.name,
            country=data.country,
            zones=list(data.zones),
            hours=msgspec.to_builtins(data.hours),
        )
        self.session.add(calendar)
        await self.session.flush()
        for holiday in holidays:
            holiday.calendar_id = calendar.id
        self.session.add_all(holidays)
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "calendar.created",
            "business_calendar",
            calendar.id,
            after={"code": data.code, "zones": data.zones, "holidays": len(holidays)},
        )
        return await self.get(calendar.id)

    async def update(
        self, calendar_id: uuid.UUID, patch: schemas.BusinessCalendarUpdate
    ) -> schemas.BusinessCalendar:
        """Change name, hours or zones."""
        calendar = await self._load(calendar_id)
        changes = changed_fields(patch)
        before = {"name": calendar.name, "zones": calendar.zones, "hours": calendar.hours}
        if "hours" in changes:
            validate_hours(changes["hours"])
            calendar.hours = msgspec.to_builtins(changes["hours"])
        if "zones" in changes:
            validate_zones(changes["zones"])
            await self._check_zones_free(changes["zones"], calendar.id)
            calendar.zones = list(changes["zones"])
        if "name" in changes:
            calendar.name = changes["name"]
        await self.session.flush()
        await invalidate_open_clocks(self.session)
        await record(
            self.session,
            self.actor,
            "calendar.updated",
            "business_calendar",
            calendar.id,
            before=before,
            after={"name": calendar.name, "zones": calendar.zones, "hours": calendar.hours},
        )
        return await self.get(calendar.id)

    async def delete(self, calendar_id: uuid.UUID) -> None:
        """Remove a calendar no territory profile names."""
        calendar = await self._load(calendar_id)
        if await self.session.scalar(
            select(exists().where(TerritorySlaProfile.calendar_id == calendar.id))
        ):
            raise Conflict("A territory uses this calendar", code="in_use")
        await record(
            self.session,
            self.actor,
            "calendar.deleted",
            "business_calendar",
            calendar.id,
            before={"code": calendar.code},
        )
        await self.session.delete(calendar)
        await self.session.flush()
        await invalidate_open_clocks(self.session)

    async def holidays(self, calendar_id: uuid.UUID, year: int | None) -> schemas.HolidayList:
        """A calendar's exceptions (of one year)."""
        await self._load(calendar_id)
        stmt = select(Holiday).where(Holiday.calendar_id == calendar_id).order_by(Holiday.day)
        if year is not None:
            stmt = stmt.where(extract("year", Holiday.day) == year)
        rows = (await self.session.scalars(stmt)).all()
        return schemas.HolidayList(
            calendar_id=calendar_id,
            items=[
                schemas.Holiday(
                    date=h.day, name=h.name, kind=h.kind, shorten_minutes=h.shorten_minutes
                )
                for h in rows
            ],
        )

    async def add_holidays(
        self, calendar_id: uuid.UUID, batch: schemas.HolidayBatch
    ) -> schemas.HolidayList:
        """Add exceptions; a date the calendar already has is a conflict (nothing is added)."""
        await self._load(calendar_id)
        rows = expand_holidays(batch.items)
        if not rows:
            raise _invalid("items", "nothing to add")
        taken = (
            await self.session.scalars(
                select(Holiday.day).where(
                    Holiday.calendar_id == calendar_id, Holiday.day.in_([r.day for r in rows])
                )
            )
        ).all()
        if taken:
            raise Conflict(
                "The calendar already has an entry on "
                + ", ".join(sorted(d.isoformat() for d in taken)),
                code="holiday_overlap",
            )
        await self._insert(calendar_id, rows)
        await record(
            self.session,
            self.actor,
            "calendar.holidays_added",
            "business_calendar",
            calendar_id,
            after={"dates": [r.day.isoformat() for r in rows]},
        )
        return await self.holidays(calendar_id, None)

    async def replace_year(
        self, calendar_id: uuid.UUID, year: int, batch: schemas.HolidayBatch
    ) -> schemas.HolidayList:
        """Replace one year's exceptions with the given list."""
        await self._load(calendar_id)
        if not 2000 <= year <= 2100:
            raise _invalid("year", "a year between 2000 and 2100")
        rows = expand_holidays(batch.items)
        outside = [i for i, r in enumerate(rows) if r.day.year != year]
        if outside:
            raise _invalid("items", f"every date must be in {year}")
        before = await self.holidays(calendar_id, year)
        await self.session.execute(
            delete(Holiday).where(
                Holiday.calendar_id == calendar_id, extract("year", Holiday.day) == year
            )
        )
        await self._insert(calendar_id, rows)
        await record(
            self.session,
            self.actor,
            "calendar.holidays_replaced",
            "business_calendar",
            calendar_id,
            before={"year": year, "dates": [h.date.isoformat() for h in before.items]},
            after={"year": year, "dates": [r.day.isoformat() for r in rows]},
        )
        return await self.holidays(calendar_id, year)

    async def remove_holiday(self, calendar_id: uuid.UUID, day: dt.date) -> None:
        """Remove the exception on one date."""
        await self._load(calendar_id)
        holiday = await self.session.scalar(
            select(Holiday).where(Holiday.calendar_id == calendar_id, Holiday.day == day)
        )
        if holiday is None:
            raise NotFound("The calendar has no entry on that date")
        await record(
            self.session,
            self.actor,
            "calendar.holiday_removed",
            "business_calendar",
            calendar_id,
            before={"date": day.isoformat(), "name": holiday.name, "kind": holiday.kind},
        )
        await self.session.delete(holiday)
        await self.session.flush()
        await invalidate_open_clocks(self.session)

    async def _insert(self, calendar_id: uuid.UUID, rows: list[Holiday]) -> None:
        for row in rows:
            row.calendar_id = calendar_id
        try:
            async with self.session.begin_nested():
                self.session.add_all(rows)
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                "The calendar already has an entry on one of these dates", code="holiday_overlap"
            ) from exc
        await invalidate_open_clocks(self.session)

    async def _check_zones_free(self, zones: Sequence[str], own_id: uuid.UUID | None) -> None:
        if not zones:
            return
        stmt = select(BusinessCalendar.code).where(BusinessCalendar.zones.overlap(list(zones)))
        if own_id is not None:
            stmt = stmt.where(BusinessCalendar.id != own_id)
        other = await self.session.scalar(stmt.limit(1))
        if other is not None:
            raise Conflict(f"Calendar {other} already lists one of these zones", code="zone_taken")

    async def _load(self, calendar_id: uuid.UUID) -> BusinessCalendar:
        calendar = await self.session.get(BusinessCalendar, calendar_id)
        if calendar is None:
            raise NotFound("Calendar not found")
        return calendar

    async def _holiday_counts(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Holiday.calendar_id, func.count())
            .where(Holiday.calendar_id.in_(ids))
            .group_by(Holiday.calendar_id)
        )
        return {calendar_id: int(count) for calendar_id, count in rows.all()}

    @staticmethod
    def _schema(calendar: BusinessCalendar, holidays: int) -> schemas.BusinessCalendar:
        return schemas.BusinessCalendar(
            id=calendar.id,
            code=calendar.code,
            name=calendar.name,
            country=calendar.country,
            zones=list(calendar.zones),
            hours=msgspec.convert(calendar.hours, list[schemas.WorkingHours]),
            holiday_count=holidays,
            created_at=calendar.created_at,
            updated_at=calendar.updated_at,
        )


# -- territory profiles --------------------------------------------------------------------


class ProfileService:
    """Which calendar and area kind a territory's clocks use."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def get(self, territory_id: uuid.UUID) -> schemas.TerritoryProfile:
        """A territory in scope, with the calendar its clocks actually use."""
        territory = await self.session.scalar(
            select(Territory).where(
                Territory.id == territory_id, territory_condition(self.actor, Territory.id)
            )
        )
        if territory is None:
            raise NotFound("Territory not found")
        profile = await self.session.get(TerritorySlaProfile, territory_id)
        calendar_id = profile.calendar_id if profile else None
        effective = await effective_calendar(self.session, calendar_id, territory.time_zone)
        return schemas.TerritoryProfile(
            territory_id=territory_id,
            time_zone=territory.time_zone,
            area_kind=profile.area_kind if profile else "urban",
            calendar_id=calendar_id,
            effective_calendar_id=effective.id if effective else None,
            effective_calendar_code=effective.code if effective else None,
        )

    async def put(
        self, territory_id: uuid.UUID, data: schemas.TerritoryProfileUpdate
    ) -> schemas.TerritoryProfile:
        """Set the territory's calendar and area kind (admin)."""
        before = await self.get(territory_id)
        if data.calendar_id is not None and (
            await self.session.get(BusinessCalendar, data.calendar_id) is None
        ):
            raise _invalid("calendar_id", "Unknown calendar")
        profile = await self.session.get(TerritorySlaProfile, territory_id)
        if profile is None:
            profile = TerritorySlaProfile(territory_id=territory_id)
            self.session.add(profile)
        profile.calendar_id = data.calendar_id
        profile.area_kind = data.area_kind
        await self.session.flush()
        await invalidate_open_clocks(self.session)
        await record(
            self.session,
            self.actor,
            "territory.sla_profile_set",
            "territory",
            territory_id,
            before={"calendar_id": before.calendar_id, "area_kind": before.area_kind},
            after={"calendar_id": data.calendar_id, "area_kind": data.area_kind},
        )
        return await self.get(territory_id)


# -- clocks --------------------------------------------------------------------------------


class ClockService:
    """An order's clocks, recomputed from its events and explained."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def explain(self, order_id: uuid.UUID) -> schemas.WorkOrderClocks:
        """The clocks as of now with their steps, and the events they come from."""
        visible: ColumnElement[bool] = and_(
            WorkOrder.id == order_id, territory_condition(self.actor, WorkOrder.territory_id)
        )
        deadline = (
            await self.session.execute(select(WorkOrder.control_deadline).where(visible))
        ).one_or_none()
        if deadline is None:
            raise NotFound("Work order not found")
        now = utcnow()
        computed = await compute_for_order(self.session, order_id, now)
        assert computed is not None
        return schemas.WorkOrderClocks(
            work_order_id=order_id,
            as_of=now,
            control_deadline=deadline[0],
            clocks=[
                schemas.Clock(
                    target=c.target,
                    status=c.status,
                    measure=c.measure,
                    target_minutes=c.target_minutes,
                    started_at=c.started_at,
                    due_at=c.due_at,
                    warning_at=c.warning_at,
                    stopped_at=c.stopped_at,
                    breached_at=c.breached_at,
                    paused_since=c.paused_since,
                    resumes_at=c.resumes_at,
                    paused_minutes=c.paused_minutes,
                    remaining_minutes=c.remaining_minutes,
                    reason=c.reason,
                    policy_id=c.policy_id,
                    steps=[
                        schemas.ClockStep(
                            at=s.at, kind=s.kind, detail=s.detail, event_id=s.event_id
                        )
                        for s in c.steps
                    ],
                )
                for c in computed.clocks
            ],
            events=[
                schemas.OrderEvent(
                    kind=e.kind,
                    at=e.at,
                    derived=e.derived,
                    id=e.id,
                    visit_id=e.visit_id,
                    data=dict(e.data),
                )
                for e in computed.events
            ],
        )
