"""Scheduling schemas: availability, slots, visits and their changes, day plans."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

import msgspec

from service.common.schemas import AwareDatetime, Point, Reason, Window

AgreementChannel = Literal["phone", "sms", "in_person", "portal"]
RescheduleReason = Literal[
    "customer_request",
    "technician_unavailable",
    "waiting_for_parts",
    "no_access",
    "weather",
    "dispatch_error",
    "other",
]
ReassignReason = Literal[
    "conflict_of_interest",
    "technician_unavailable",
    "skills",
    "workload",
    "customer_request",
    "other",
]
AbsenceKind = Literal["day_off", "vacation", "sick_leave", "training", "other"]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class ShiftSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A weekly working period in the technician's time zone (weekday 0 = Monday)."""

    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    starts: time
    ends: time

    def __post_init__(self) -> None:
        if self.ends <= self.starts:
            raise ValueError("a shift ends after it starts (split night shifts into two days)")


class WeeklySchedule(msgspec.Struct, forbid_unknown_fields=True):
    """A technician's whole week; PUT replaces it."""

    time_zone: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    shifts: Annotated[list[ShiftSpec], msgspec.Meta(max_length=28)]
    daily_capacity: Annotated[int, msgspec.Meta(ge=1, le=30)] = 6


class AbsenceCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A period the technician does not work."""

    period: Window
    kind: AbsenceKind = "day_off"
    note: Note | None = None


class Absence(msgspec.Struct):
    """An absence."""

    id: uuid.UUID
    technician_id: uuid.UUID
    period: Window
    kind: str
    note: str | None


class Candidate(msgspec.Struct):
    """A technician who can come in a slot."""

    technician_id: uuid.UUID
    full_name: str
    distance_km: float
    travel_minutes: int
    visits_that_day: int
    estimated_arrival: datetime


class Slot(msgspec.Struct):
    """A window in the site's local time and who can come, best first."""

    window: Window
    candidates: list[Candidate]


class SlotOffer(msgspec.Struct):
    """The windows on offer for a work order."""

    work_order_id: uuid.UUID
    time_zone: str
    window_minutes: int
    service_minutes: int
    slots: list[Slot]


class Agreement(msgspec.Struct, forbid_unknown_fields=True):
    """Who agreed a window with the customer, and how (seed 000 §9)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    channel: AgreementChannel


class VisitCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Book a visit: a window, a technician (none = best candidate), the agreement."""

    window: Window
    agreed_by: Agreement | None = None
    technician_id: uuid.UUID | None = None
    note: Note | None = None


class Reschedule(msgspec.Struct, forbid_unknown_fields=True):
    """Move the promised window; needs a reason and the customer's agreement."""

    window: Window
    reason_code: RescheduleReason | None = None
    agreed_by: Agreement | None = None
    note: Note | None = None


class Reassign(msgspec.Struct, forbid_unknown_fields=True):
    """Give the visit to another technician (the window stays)."""

    technician_id: uuid.UUID | None = None
    reason_code: ReassignReason | None = None
    note: Note | None = None


class VisitPlanUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Where the internal plan puts the arrival inside the promised window."""

    planned_start: AwareDatetime


class VisitCancel(msgspec.Struct, forbid_unknown_fields=True):
    """Why the visit is cancelled."""

    reason: Reason


class Visit(msgspec.Struct):
    """A visit with its four times: requested (on the order), promised, planned, actual."""

    id: uuid.UUID
    work_order_id: uuid.UUID
    technician_id: uuid.UUID
    status: str
    window: Window
    agreed_with: str | None
    agreement_channel: str | None
    agreed_at: datetime | None
    planned_start: datetime | None
    eta: datetime | None
    en_route_at: datetime | None
    arrived_at: datetime | None
    finished_at: datetime | None
    last_change_reason: str | None
    cancel_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class VisitList(msgspec.Struct):
    """Visits of a work order, oldest first."""

    items: list[Visit]


class DayStop(msgspec.Struct):
    """One visit in a technician's day with the travel to it and the predicted arrival."""

    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    work_type: str
    status: str
    window: Window
    address: str
    location: Point
    distance_from_previous_km: float
    travel_minutes: int
    predicted_arrival: datetime
    late: bool


class DayPlan(msgspec.Struct):
    """A technician's day in order."""

    technician_id: uuid.UUID
    date: date
    time_zone: str
    shifts: list[Window]
    stops: list[DayStop]


class EnRoute(msgspec.Struct, forbid_unknown_fields=True):
    """The technician is on the way; the ETA goes to the customer."""

    eta: AwareDatetime
