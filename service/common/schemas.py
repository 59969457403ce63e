"""Value types shared by the API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Phone = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="E.164 phone number, e.g. +77011234567",
        examples=["+77011234567"],
    ),
]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with offset")]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(max_length=2000)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class Point(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A WGS 84 location."""

    lat: Latitude
    lon: Longitude


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A time window; ``end`` is after ``start``."""

    start: AwareDatetime
    end: AwareDatetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("window end must be after its start")
