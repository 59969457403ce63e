"""Territory schemas; areas travel as GeoJSON."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.common.schemas import Name

Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9_-]{2,32}$", examples=["ALA"])]
TimeZone = Annotated[str, msgspec.Meta(min_length=3, max_length=64, examples=["Asia/Almaty"])]
Ring = Annotated[list[tuple[float, float]], msgspec.Meta(min_length=4)]


class Area(msgspec.Struct, forbid_unknown_fields=True):
    """A GeoJSON Polygon or MultiPolygon in WGS 84 (longitude, latitude)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class TerritoryCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new territory."""

    code: Code
    name: Name
    time_zone: TimeZone
    area: Area


class TerritoryUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of a territory to change."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    time_zone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    area: Area | msgspec.UnsetType = msgspec.UNSET


class Territory(msgspec.Struct):
    """A territory."""

    id: uuid.UUID
    code: str
    name: str
    time_zone: str
    area: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TerritoryPage(msgspec.Struct):
    """A page of territories."""

    items: list[Territory]
    next_cursor: str | None = None
