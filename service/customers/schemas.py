"""Customer and site schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.i18n import Language
from service.common.schemas import Name, Phone, Point, ShortText

Segment = Literal["b2c", "b2b"]
AccessibilityNeed = Literal["low_vision", "hearing", "mobility"]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phones = Annotated[list[Phone], msgspec.Meta(min_length=1, max_length=5)]
Address = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new customer."""

    territory_id: uuid.UUID
    full_name: Name
    phones: Phones
    preferred_language: Language = "ru"
    segment: Segment = "b2c"
    accessibility_needs: list[AccessibilityNeed] = []
    email: Email | None = None
    notes: ShortText | None = None


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a customer to change."""

    full_name: Name | msgspec.UnsetType = msgspec.UNSET
    phones: Phones | msgspec.UnsetType = msgspec.UNSET
    preferred_language: Language | msgspec.UnsetType = msgspec.UNSET
    segment: Segment | msgspec.UnsetType = msgspec.UNSET
    accessibility_needs: list[AccessibilityNeed] | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    notes: ShortText | msgspec.UnsetType | None = msgspec.UNSET


class Customer(msgspec.Struct):
    """A customer."""

    id: uuid.UUID
    territory_id: uuid.UUID
    full_name: str
    phones: list[str]
    preferred_language: str
    segment: str
    accessibility_needs: list[str]
    email: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class CustomerPage(msgspec.Struct):
    """A page of customers."""

    items: list[Customer]
    next_cursor: str | None = None


class SiteCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new site of a customer; its territory follows from the location."""

    customer_id: uuid.UUID
    address: Address
    location: Point
    access_notes: ShortText | None = None


class SiteUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a site to change."""

    address: Address | msgspec.UnsetType = msgspec.UNSET
    location: Point | msgspec.UnsetType = msgspec.UNSET
    access_notes: ShortText | msgspec.UnsetType | None = msgspec.UNSET


class Site(msgspec.Struct):
    """A site."""

    id: uuid.UUID
    customer_id: uuid.UUID
    territory_id: uuid.UUID
    address: str
    location: Point
    access_notes: str | None
    created_at: datetime
    updated_at: datetime


class SitePage(msgspec.Struct):
    """A page of sites."""

    items: list[Site]
    next_cursor: str | None = None
