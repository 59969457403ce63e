"""SLA schemas: policies, business calendars, territory profiles, clocks."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.common.schemas import Name
from service.orders.schemas import Priority, WorkType

Segment = Literal["b2c", "b2b"]
AreaKind = Literal["urban", "rural"]
MeasureName = Literal["calendar", "business"]
HolidayKind = Literal["holiday", "short_day", "working_day_transfer"]
ClockTarget = Literal["response", "arrival", "resolution"]

TargetMinutes = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=525_600,
        description="Minutes of the policy's measure (business minutes count working time only)",
    ),
]
WarningRatio = Annotated[
    float, msgspec.Meta(gt=0, lt=1, description="Share of the target after which a clock warns")
]
CalendarCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9_-]{2,32}$", examples=["KZ"])]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", examples=["KZ"])]
TimeZone = Annotated[str, msgspec.Meta(min_length=3, max_length=64, examples=["Asia/Almaty"])]
StartTime = Annotated[
    str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])
]
EndTime = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        examples=["18:00"],
        description="HH:MM; 24:00 is the end of the day",
    ),
]
HolidayName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


# -- policies ------------------------------------------------------------------------------


class SlaPolicyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Targets for orders matching the key; a missing key field matches any value.

    The most specific policy wins: naming the work type outweighs everything else, then the
    priority, the segment and the area.
    """

    name: Name
    response_minutes: TargetMinutes
    arrival_minutes: TargetMinutes
    resolution_minutes: TargetMinutes
    work_type: WorkType | None = None
    priority: Priority | None = None
    segment: Segment | None = None
    area_kind: AreaKind | None = None
    measure: MeasureName = "business"
    warning_ratio: WarningRatio = 0.8


class SlaPolicyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a policy to change (null key fields match any value)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    response_minutes: TargetMinutes | msgspec.UnsetType = msgspec.UNSET
    arrival_minutes: TargetMinutes | msgspec.UnsetType = msgspec.UNSET
    resolution_minutes: TargetMinutes | msgspec.UnsetType = msgspec.UNSET
    work_type: WorkType | msgspec.UnsetType | None = msgspec.UNSET
    priority: Priority | msgspec.UnsetType | None = msgspec.UNSET
    segment: Segment | msgspec.UnsetType | None = msgspec.UNSET
    area_kind: AreaKind | msgspec.UnsetType | None = msgspec.UNSET
    measure: MeasureName | msgspec.UnsetType = msgspec.UNSET
    warning_ratio: WarningRatio | msgspec.UnsetType = msgspec.UNSET


class SlaPolicy(msgspec.Struct):
    """An SLA policy."""

    id: uuid.UUID
    name: str
    work_type: str | None
    priority: str | None
    segment: str | None
    area_kind: str | None
    response_minutes: int
    arrival_minutes: int
    resolution_minutes: int
    measure: str
    warning_ratio: float
    created_at: datetime
    updated_at: datetime


class SlaPolicyList(msgspec.Struct):
    """All policies, most specific first."""

    items: list[SlaPolicy]


# -- calendars -----------------------------------------------------------------------------


class WorkingHours(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A weekly working period in local time (weekday 0 = Monday)."""

    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    start: StartTime
    end: EndTime


class HolidayIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A dated exception; ``until`` (inclusive) repeats it over a range of dates.

    ``short_day`` shortens the working day by ``shorten_minutes`` (default 60, the Russian
    pre-holiday hour); ``working_day_transfer`` makes a day off a working day with the hours of
    the first weekday that has hours.
    """

    date: dt.date
    name: HolidayName
    kind: HolidayKind = "holiday"
    until: dt.date | None = None
    shorten_minutes: Annotated[int, msgspec.Meta(ge=0, le=720)] | None = None


class BusinessCalendarCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A working calendar; its hours apply in each territory's own time zone."""

    code: CalendarCode
    name: Name
    country: Country
    hours: Annotated[list[WorkingHours], msgspec.Meta(min_length=1, max_length=28)]
    zones: Annotated[list[TimeZone], msgspec.Meta(max_length=60)] = []
    holidays: Annotated[list[HolidayIn], msgspec.Meta(max_length=400)] = []


class BusinessCalendarUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a calendar to change."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    hours: Annotated[list[WorkingHours], msgspec.Meta(min_length=1, max_length=28)] | (
        msgspec.UnsetType
    ) = msgspec.UNSET
    zones: Annotated[list[TimeZone], msgspec.Meta(max_length=60)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class BusinessCalendar(msgspec.Struct):
    """A working calendar."""

    id: uuid.UUID
    code: str
    name: str
    country: str
    zones: list[str]
    hours: list[WorkingHours]
    holiday_count: int
    created_at: datetime
    updated_at: datetime


class BusinessCalendarList(msgspec.Struct):
    """All calendars."""

    items: list[BusinessCalendar]


class Holiday(msgspec.Struct):
    """A dated exception of a calendar."""

    date: dt.date
    name: str
    kind: str
    shorten_minutes: int


class HolidayList(msgspec.Struct):
    """A calendar's exceptions, by date."""

    calendar_id: uuid.UUID
    items: list[Holiday]


class HolidayBatch(msgspec.Struct, forbid_unknown_fields=True):
    """Exceptions to add (or, for PUT .../holidays/{year}, the whole year)."""

    items: Annotated[list[HolidayIn], msgspec.Meta(max_length=400)]


class TerritoryProfileUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A territory's calendar (null: the calendar listing its zone) and area kind."""

    area_kind: AreaKind = "urban"
    calendar_id: uuid.UUID | None = None


class TerritoryProfile(msgspec.Struct):
    """How clocks are measured in a territory."""

    territory_id: uuid.UUID
    time_zone: str
    area_kind: str
    calendar_id: uuid.UUID | None
    effective_calendar_id: uuid.UUID | None
    effective_calendar_code: str | None


# -- clocks --------------------------------------------------------------------------------


class ClockStep(msgspec.Struct):
    """One step of a clock's explanation."""

    at: datetime
    kind: str
    detail: str
    event_id: int | None = None


class Clock(msgspec.Struct):
    """An SLA clock as of ``as_of``, with the steps that explain it."""

    target: str
    status: Annotated[
        str, msgspec.Meta(description="running, warning, paused, met, breached or cancelled")
    ]
    measure: str
    target_minutes: int
    started_at: datetime
    due_at: datetime | None
    warning_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    paused_since: datetime | None
    resumes_at: datetime | None
    paused_minutes: int
    remaining_minutes: int | None
    reason: str | None
    policy_id: uuid.UUID | None
    steps: list[ClockStep]


class OrderEvent(msgspec.Struct):
    """An event the clocks were computed from; ``derived`` ones come from the records."""

    kind: str
    at: datetime
    derived: bool
    id: int | None = None
    visit_id: uuid.UUID | None = None
    data: dict[str, Any] = {}


class WorkOrderClocks(msgspec.Struct):
    """A work order's clocks recomputed from its events now."""

    work_order_id: uuid.UUID
    as_of: datetime
    control_deadline: datetime | None
    clocks: list[Clock]
    events: list[OrderEvent]
