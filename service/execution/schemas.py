"""What the phone gets for a visit, and what it sends back (operation payloads)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.common.schemas import AwareDatetime, Point, Window
from service.orders.schemas import EquipmentItem


class CustomerOnSite(msgspec.Struct):
    """Only what the technician needs at the door (personal data minimised)."""

    name: str
    phone: str | None
    language: str
    accessibility_needs: list[str]


class PinnedChecklist(msgspec.Struct):
    """The checklist version this visit follows (the template itself is in the bundle)."""

    key: str
    version: int
    content_hash: str


class VisitBundle(msgspec.Struct):
    """One visit as the phone shows it offline."""

    visit_id: uuid.UUID
    status: str
    window: Window
    planned_start: datetime | None
    work_order_id: uuid.UUID
    work_order_number: str
    work_type: str
    priority: str
    description: str
    requested_services: list[str]
    equipment: list[EquipmentItem]
    address: str
    location: Point
    access_notes: str | None
    customer: CustomerOnSite
    checklist: PinnedChecklist
    version: int


class DayBundle(msgspec.Struct):
    """The technician's visits in order, plus every checklist template they reference."""

    technician_id: uuid.UUID
    time_zone: str
    start: datetime
    end: datetime
    visits: list[VisitBundle]
    templates: dict[str, Any]
    etag: str


OperationType = Literal[
    "en_route",
    "arrived",
    "checklist_answer",
    "photo_attached",
    "equipment_installed",
    "note",
    "outcome",
]
OutcomeName = Literal[
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
]


class EnRoutePayload(msgspec.Struct, forbid_unknown_fields=True):
    """On my way, arriving at ``eta``."""

    eta: AwareDatetime


class ArrivedPayload(msgspec.Struct, forbid_unknown_fields=True):
    """At the site (the operation's location is required)."""


class AnswerPayload(msgspec.Struct, forbid_unknown_fields=True):
    """One checklist answer."""

    step_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    value: Any = None
    photo_ids: list[str] = []


class PhotoAttachedPayload(msgspec.Struct, forbid_unknown_fields=True):
    """A confirmed photo belongs to a step."""

    photo_id: uuid.UUID
    step_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class InstalledItem(msgspec.Struct, forbid_unknown_fields=True):
    """Equipment left with the customer."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    method: Literal["scanned", "typed"] = "typed"
    model: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # Serial of the unit this one replaced (a repair); the act lists both.
    replaces_serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class EquipmentPayload(msgspec.Struct, forbid_unknown_fields=True):
    """Serials of installed equipment."""

    items: Annotated[list[InstalledItem], msgspec.Meta(min_length=1, max_length=100)]


class NotePayload(msgspec.Struct, forbid_unknown_fields=True):
    """A free-text note."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class OutcomePayload(msgspec.Struct, forbid_unknown_fields=True):
    """How the visit ended (or, for waiting_for_adult, where it stands).

    ``answers`` are the outcome's own checklist steps (e.g. why there was no access); they are
    validated under that outcome and stored only if the outcome is accepted.
    """

    outcome: OutcomeName
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    answers: Annotated[list[AnswerPayload], msgspec.Meta(max_length=20)] = []


PAYLOADS: dict[str, type[msgspec.Struct]] = {
    "en_route": EnRoutePayload,
    "arrived": ArrivedPayload,
    "checklist_answer": AnswerPayload,
    "photo_attached": PhotoAttachedPayload,
    "equipment_installed": EquipmentPayload,
    "note": NotePayload,
    "outcome": OutcomePayload,
}
