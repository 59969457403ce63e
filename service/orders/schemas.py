"""Work-order schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.schemas import AwareDatetime, Phone, Reason
from service.db.models.work_orders import Priority, WorkType

StatusName = Literal[
    "new", "scheduled", "in_progress", "completed", "closed", "cancelled", "on_hold"
]
ServiceName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Skill = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{2,40}$")]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
ContactPhones = Annotated[list[Phone], msgspec.Meta(max_length=5)]


class EquipmentItem(msgspec.Struct, forbid_unknown_fields=True):
    """Equipment or material to hand over, with its serial number when it has one."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    model: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    serial: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    quantity: Annotated[float, msgspec.Meta(gt=0, le=100000)] = 1
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] = "pcs"


Equipment = Annotated[list[EquipmentItem], msgspec.Meta(max_length=200)]
Services = Annotated[list[ServiceName], msgspec.Meta(max_length=50)]
Skills = Annotated[list[Skill], msgspec.Meta(max_length=20)]


class WorkOrderCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new work order for a customer's site."""

    type: WorkType
    customer_id: uuid.UUID
    site_id: uuid.UUID
    priority: Priority = "normal"
    description: Description = ""
    requested_services: Services = []
    required_skills: Skills | None = None
    equipment: Equipment = []
    contact_phones: ContactPhones | None = None
    control_deadline: AwareDatetime | None = None


class WorkOrderUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; ``status`` accepts on_hold (with hold_reason), new and closed."""

    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    requested_services: Services | msgspec.UnsetType = msgspec.UNSET
    required_skills: Skills | msgspec.UnsetType = msgspec.UNSET
    equipment: Equipment | msgspec.UnsetType = msgspec.UNSET
    contact_phones: ContactPhones | msgspec.UnsetType = msgspec.UNSET
    control_deadline: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET
    status: Literal["on_hold", "new", "closed"] | msgspec.UnsetType = msgspec.UNSET
    hold_reason: Reason | msgspec.UnsetType = msgspec.UNSET


class WorkOrderCancel(msgspec.Struct, forbid_unknown_fields=True):
    """Why the order is cancelled."""

    reason: Reason


class WorkOrder(msgspec.Struct):
    """A work order."""

    id: uuid.UUID
    number: str
    type: str
    priority: str
    status: str
    description: str
    requested_services: list[str]
    required_skills: list[str]
    equipment: list[EquipmentItem]
    contact_phones: list[str]
    customer_id: uuid.UUID
    site_id: uuid.UUID
    territory_id: uuid.UUID
    control_deadline: datetime | None
    overdue: bool
    cancel_reason: str | None
    hold_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class WorkOrderPage(msgspec.Struct):
    """A page of work orders, newest first."""

    items: list[WorkOrder]
    next_cursor: str | None = None
