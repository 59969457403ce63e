"""The dispatch map's data: GeoJSON built by PostGIS, never re-encoded in Python.

Three layers: the outlines of the caller's territories, the sites of the chosen territory's
visits that day, and each of its technicians' last known position. Phones send a location with
the arrival and with checklist answers and photos (the en-route operation carries none that is
kept), so the last known position is the newest of those in the last 24 hours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor
from service.db.base import utcnow
from service.staff.schedule import ScheduleBoardService, TerritoryRef
from service.staff.schedule_layout import local_midnight

# How old a position may be and still be shown as where the technician is.
POSITION_MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class MapLayers:
    """The map of one territory's day; each layer a GeoJSON FeatureCollection as JSON text."""

    territory: TerritoryRef
    territories: list[TerritoryRef]
    day: date
    outlines: str
    sites: str
    technicians: str


_OUTLINES = text(
    """
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature',
            'geometry', ST_AsGeoJSON(t.area, 6)::json,
            'properties', json_build_object(
                'id', t.id, 'code', t.code, 'name', t.name, 'selected', t.id = :selected)
        ) ORDER BY t.name), '[]'::json)
    )::text
    FROM territories t
    WHERE t.id = ANY(:ids)
    """
)

_SITES = text(
    """
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature',
            'geometry', ST_AsGeoJSON(s.location, 6)::json,
            'properties', json_build_object(
                'number', wo.number,
                'address', s.address,
                'status', v.status,
                'technician', t.full_name,
                'window', to_char(lower(v.agreed_window) AT TIME ZONE :zone, 'HH24:MI')
                          || '–' || to_char(upper(v.agreed_window) AT TIME ZONE :zone, 'HH24:MI'),
                'late', v.late_notified_at IS NOT NULL)
        ) ORDER BY lower(v.agreed_window)), '[]'::json)
    )::text
    FROM visits v
    JOIN work_orders wo ON wo.id = v.work_order_id
    JOIN sites s ON s.id = wo.site_id
    JOIN technicians t ON t.id = v.technician_id
    WHERE wo.territory_id = :tid
      AND v.agreed_window && tstzrange(:start, :end)
      AND v.status <> 'cancelled'
    """
)

# The newest located fix per technician of the territory: arrival, checklist answer or photo.
_POSITIONS = text(
    """
    WITH crew AS (
        SELECT t.id, t.full_name FROM technicians t
        JOIN technician_territories tt ON tt.technician_id = t.id
        WHERE tt.territory_id = :tid AND t.active
    ), recent AS (
        SELECT v.id, v.technician_id, v.arrived_at, v.arrival_location FROM visits v
        WHERE v.technician_id IN (SELECT id FROM crew)
          AND v.agreed_window && tstzrange(:since, :until)
    ), fixes AS (
        SELECT technician_id, arrived_at AS at, arrival_location AS location, 'arrival' AS source
        FROM recent WHERE arrival_location IS NOT NULL AND arrived_at IS NOT NULL
        UNION ALL
        SELECT r.technician_id, coalesce(a.answered_at, a.received_at), a.location, 'checklist'
        FROM checklist_answers a JOIN recent r ON r.id = a.visit_id
        WHERE a.location IS NOT NULL
        UNION ALL
        SELECT p.technician_id, coalesce(p.taken_at, p.created_at), p.location, 'photo'
        FROM photos p JOIN recent r ON r.id = p.visit_id
        WHERE p.location IS NOT NULL
    ), latest AS (
        SELECT DISTINCT ON (technician_id) technician_id, at, location, source
        FROM fixes WHERE at >= :since AND at <= :now
        ORDER BY technician_id, at DESC
    )
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature',
            'geometry', ST_AsGeoJSON(l.location, 6)::json,
            'properties', json_build_object(
                'name', c.full_name,
                'at', to_char(l.at AT TIME ZONE :zone, 'HH24:MI'),
                'source', l.source)
        ) ORDER BY c.full_name), '[]'::json)
    )::text
    FROM latest l JOIN crew c ON c.id = l.technician_id
    """
)


class DispatchMapService:
    """Reads the map layers of one of the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def outlines(self, selected: uuid.UUID | None = None) -> str:
        """GeoJSON outlines of every territory the caller sees (the site picker's ground)."""
        _, visible = await ScheduleBoardService(self.session, self.actor).territory(None)
        found = await self.session.scalar(
            _OUTLINES, {"ids": [t.id for t in visible], "selected": selected}
        )
        return str(found)

    async def layers(self, code: str | None, day: date | None) -> MapLayers:
        """Outlines of every visible territory; sites and positions of the chosen one."""
        territory, visible = await ScheduleBoardService(self.session, self.actor).territory(code)
        zone = ZoneInfo(territory.time_zone)
        now = utcnow()
        day = day or now.astimezone(zone).date()
        start, end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
        outlines = await self.session.scalar(
            _OUTLINES, {"ids": [t.id for t in visible], "selected": territory.id}
        )
        sites = await self.session.scalar(
            _SITES, {"tid": territory.id, "start": start, "end": end, "zone": territory.time_zone}
        )
        since = now - POSITION_MAX_AGE
        positions = await self.session.scalar(
            _POSITIONS,
            {
                "tid": territory.id,
                "since": since,
                "until": now + timedelta(hours=1),
                "now": now,
                "zone": territory.time_zone,
            },
        )
        return MapLayers(
            territory=territory,
            territories=visible,
            day=day,
            outlines=str(outlines),
            sites=str(sites),
            technicians=str(positions),
        )
