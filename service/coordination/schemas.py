"""Coordination schemas: SLA policies, business calendars, clocks, the overdue board, KPIs."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.common.acknowledgement import AckComment
from service.common.schemas import Name
from service.orders.schemas import Priority, WorkType

Segment = Literal["b2c", "b2b"]
AreaKind = Literal["urban", "rural"]
MeasureName = Literal["calendar", "business"]
HolidayKind = Literal["holiday", "short_day", "working_day_transfer"]
ClockTarget = Literal["response", "arrival", "resolution"]
Bucket = Literal["due_2h", "overdue_0_4h", "overdue_4_24h", "overdue_1_3d", "overdue_3d_plus"]
BUCKETS: tuple[Bucket, ...] = (
    "due_2h",
    "overdue_0_4h",
    "overdue_4_24h",
    "overdue_1_3d",
    "overdue_3d_plus",
)

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
    # library: from the `holidays` library, rewritten by each refresh; admin: an override.
    source: Literal["library", "admin"] = "admin"


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


# -- overdue board -------------------------------------------------------------------------


class LastEvent(msgspec.Struct):
    """The latest logged event of an order."""

    kind: str
    at: datetime


class Person(msgspec.Struct):
    """A staff member or technician."""

    id: uuid.UUID
    full_name: str


class OverdueItem(msgspec.Struct):
    """An open order whose control deadline is past or less than two hours away."""

    work_order_id: uuid.UUID
    number: str
    type: str
    priority: str
    status: str
    territory_id: uuid.UUID
    control_deadline: datetime
    bucket: Annotated[
        Bucket,
        msgspec.Meta(
            description="due_2h: due within 2 h; overdue_0_4h, overdue_4_24h, overdue_1_3d: "
            "past the deadline by up to 4 h, 24 h, 3 days; overdue_3d_plus: more than 3 days"
        ),
    ]
    overdue_minutes: Annotated[
        int, msgspec.Meta(description="Minutes past the deadline (negative: still ahead)")
    ]
    clock_status: str | None
    reason: Annotated[
        str,
        msgspec.Meta(
            description="Why it is late: a pause reason of the resolution clock "
            "(customer_request, no_access, waiting_for_parts), else on_hold, not_scheduled "
            "(no live visit), visit_missed (the window ended, nobody arrived), "
            "visit_after_deadline, in_progress or scheduled"
        ),
    ]
    reason_detail: str | None
    last_event: LastEvent | None
    owner: Annotated[
        Person | None,
        msgspec.Meta(
            description="The dispatcher or coordinator behind the order's latest event, "
            "else whoever registered it"
        ),
    ]
    technician: Annotated[Person | None, msgspec.Meta(description="Of the live visit")]
    visit_window_start: datetime | None
    visit_window_end: datetime | None
    customer_contacts: Annotated[
        int,
        msgspec.Meta(
            description="Agreements and messages with the customer: visits booked and "
            "rescheduled (each agreed with the customer), coordinator calls and delivered "
            "notifications"
        ),
    ]


class BucketCounts(msgspec.Struct):
    """Orders per bucket under the same filters (the bucket filter aside)."""

    due_2h: int = 0
    overdue_0_4h: int = 0
    overdue_4_24h: int = 0
    overdue_1_3d: int = 0
    overdue_3d_plus: int = 0
    total: int = 0


class OverduePage(msgspec.Struct):
    """A page of the overdue board, most overdue first, with the counts per bucket."""

    as_of: datetime
    counts: BucketCounts
    items: list[OverdueItem]
    next_cursor: str | None = None


# -- KPIs ----------------------------------------------------------------------------------

Share = Annotated[float | None, msgspec.Meta(description="0..1; null when the base is empty")]


class ArrivalKpi(msgspec.Struct):
    """Arrivals in the period."""

    arrivals: Annotated[int, msgspec.Meta(description="Visits whose arrival is in the period")]
    on_time: Annotated[int, msgspec.Meta(description="Of those, arrived inside the agreed window")]
    on_time_share: Share


class VisitOutcomeKpi(msgspec.Struct):
    """Visits that ended in the period."""

    ended: Annotated[
        int, msgspec.Meta(description="Visits with a final outcome, finished in the period")
    ]
    no_access: Annotated[int, msgspec.Meta(description="Of those, ended as no_access")]
    no_access_rate: Share


class ResolutionKpi(msgspec.Struct):
    """Orders completed in the period (the completing visit finished in it)."""

    completed_orders: int
    first_visit: Annotated[
        int,
        msgspec.Meta(
            description="Completed on the first attempted visit (no earlier visit that ended "
            "without completing the work; a rescheduled visit is still one visit)"
        ),
    ]
    first_visit_resolution: Share
    visits_per_order: Annotated[
        float | None,
        msgspec.Meta(description="Attempted (not cancelled) visits per completed order"),
    ]
    median_resolution_minutes: Annotated[
        float | None,
        msgspec.Meta(description="Median of registration to completion, calendar minutes"),
    ]


class RescheduleReason(msgspec.Struct):
    """Reschedules of one reason."""

    reason: str
    count: int
    rate: Annotated[float | None, msgspec.Meta(description="Per visit booked in the period")]


class RescheduleKpi(msgspec.Struct):
    """Reschedules in the period by reason, against visits booked in the period."""

    visits_booked: int
    reschedules: int
    rate: Share
    by_reason: list[RescheduleReason]


class ChecklistKpi(msgspec.Struct):
    """Checklists of visits that ended in the period."""

    visits: Annotated[int, msgspec.Meta(description="Ended visits with a pinned checklist version")]
    compliance: Annotated[
        float | None,
        msgspec.Meta(
            description="Average share of the template's unconditionally required steps "
            "that were answered (conditional steps are the engine's business)"
        ),
    ]
    fully_compliant: Annotated[int, msgspec.Meta(description="Visits with every such step")]


class DeadlineTarget(msgspec.Struct):
    """Clocks of one target settled in the period."""

    target: str
    met: int
    breached: int
    compliance: Share


class DeadlineKpi(msgspec.Struct):
    """Deadline compliance (004 §5.3.1): clocks met in the period or breached in it."""

    targets: list[DeadlineTarget]


class RatingKpi(msgspec.Struct):
    """Customer ratings given in the period (000 §9-10, 002)."""

    count: int
    average: Annotated[float | None, msgspec.Meta(description="Mean score 1..5")]
    distribution: Annotated[dict[str, int], msgspec.Meta(description="Ratings per score 1..5")]


class OverdueKpi(msgspec.Struct):
    """Open orders now, and those past their control deadline."""

    as_of: datetime
    open_orders: int
    overdue: int
    overdue_share: Share


class Kpis(msgspec.Struct):
    """Quality figures over [from, to) for the caller's territories, computed in SQL."""

    period_from: datetime
    period_to: datetime
    territory_id: uuid.UUID | None
    technician_id: uuid.UUID | None
    arrival: ArrivalKpi
    outcomes: VisitOutcomeKpi
    resolution: ResolutionKpi
    reschedules: RescheduleKpi
    checklists: ChecklistKpi
    deadlines: DeadlineKpi
    ratings: RatingKpi
    overdue: OverdueKpi


# -- escalations ---------------------------------------------------------------------------

EscalationLevel = Literal["warning", "breach", "head"]
EscalationStatus = Literal["pending", "acknowledged", "all"]


class Escalation(msgspec.Struct):
    """A clock escalated to a role of the order's territory, and its acknowledgement."""

    id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    territory_id: uuid.UUID
    target: ClockTarget
    level: Annotated[
        EscalationLevel,
        msgspec.Meta(
            description="warning: the clock passed its warning time (to the dispatchers); "
            "breach: the due time passed (to the coordinators); head: the order is still "
            "open a configured delay after the breach (to the territory's supervisors)"
        ),
    ]
    due_at: Annotated[datetime, msgspec.Meta(description="The clock's due time when raised")]
    recipient_role: str
    recipient_ids: list[uuid.UUID]
    customer_new_date: Annotated[
        datetime | None,
        msgspec.Meta(description="The new control date the customer's apology gave (breach)"),
    ]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    comment: str | None


class EscalationPage(msgspec.Struct):
    """Escalations: pending ones oldest first, otherwise newest first."""

    items: list[Escalation]
    next_cursor: str | None = None


class EscalationAck(msgspec.Struct, forbid_unknown_fields=True):
    """What was done about an escalation; 1 to 2000 characters once trimmed."""

    comment: AckComment = ""
