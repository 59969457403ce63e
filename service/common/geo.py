"""Points between API schemas and PostGIS (EWKT in, EWKB out)."""

from __future__ import annotations

import struct
from typing import Any

from service.common.schemas import Point

_WKB_SRID_FLAG = 0x20000000
_WKB_POINT = 1


def point_ewkt(point: Point) -> str:
    """EWKT for a WGS 84 point; PostGIS wants longitude first."""
    return f"SRID=4326;POINT({point.lon!r} {point.lat!r})"


def point_from_wkb(value: Any) -> Point:
    """Decode a PostGIS (E)WKB point, as GeoAlchemy2 returns it, into a Point."""
    data = bytes(value.data if hasattr(value, "data") else value)
    byte_order = "<" if data[0] == 1 else ">"
    (geom_type,) = struct.unpack_from(f"{byte_order}I", data, 1)
    offset = 5
    if geom_type & _WKB_SRID_FLAG:
        offset += 4
    if geom_type & 0xFF != _WKB_POINT:
        raise ValueError("not a point")
    lon, lat = struct.unpack_from(f"{byte_order}dd", data, offset)
    return Point(lat=lat, lon=lon)
