"""Technician schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.schemas import Name, Phone, Point

Employment = Literal["staff", "dealer", "partner"]
Skill = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{2,40}$", examples=["repair"])]
Skills = Annotated[list[Skill], msgspec.Meta(max_length=50)]
TerritoryIds = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]
Username = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9._-]{3,64}$")]
Password = Annotated[str, msgspec.Meta(min_length=12, max_length=256)]
# The employer's personnel number (табельный номер): digits, Latin capitals and hyphens.
PersonnelNo = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9A-Z][0-9A-Z-]{0,19}$",
        max_length=20,
        examples=["004217"],
        description="Personnel number (табельный номер), unique; printed on acts",
    ),
]


class TechnicianCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new technician together with their login."""

    username: Username
    password: Password
    full_name: Name
    personnel_no: PersonnelNo
    phone: Phone
    home_base: Point
    territory_ids: TerritoryIds
    skills: Skills = []
    employment: Employment = "staff"


class TechnicianUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a technician to change; ``active: false`` also ends their sessions."""

    full_name: Name | msgspec.UnsetType = msgspec.UNSET
    personnel_no: PersonnelNo | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    home_base: Point | msgspec.UnsetType = msgspec.UNSET
    territory_ids: TerritoryIds | msgspec.UnsetType = msgspec.UNSET
    skills: Skills | msgspec.UnsetType = msgspec.UNSET
    employment: Employment | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class Technician(msgspec.Struct):
    """A technician."""

    id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    # None for a technician recorded before personnel numbers were.
    personnel_no: str | None
    phone: str
    employment: str
    skills: list[str]
    home_base: Point
    territory_ids: list[uuid.UUID]
    active: bool
    created_at: datetime
    updated_at: datetime


class TechnicianPage(msgspec.Struct):
    """A page of technicians."""

    items: list[Technician]
    next_cursor: str | None = None
