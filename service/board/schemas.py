"""Board schemas: the overdue board and the quality figures (KPIs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.appeals.schemas import AppealKpi

Bucket = Literal["due_2h", "overdue_0_4h", "overdue_4_24h", "overdue_1_3d", "overdue_3d_plus"]
BUCKETS: tuple[Bucket, ...] = (
    "due_2h",
    "overdue_0_4h",
    "overdue_4_24h",
    "overdue_1_3d",
    "overdue_3d_plus",
)


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
    data_as_of: Annotated[
        datetime,
        msgspec.Meta(
            description="The figures include every change committed before this time: now when "
            "the primary answered, else the read replica's (at most NARYAD_READ_MAX_LAG_SECONDS "
            "behind; further behind, the primary answers)"
        ),
    ]
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
    appeals: Annotated[
        AppealKpi,
        msgspec.Meta(description="Appeals and complaints (the technician filter: their visits')"),
    ]
