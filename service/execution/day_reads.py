"""The day bundle's reads: a version vector first (the ETag), then one query for the visits.

A phone revalidates its day often and it rarely changes, so the ETag is decided before anything
is built: one small query returns the technician's time zone, the day it asks for and an MD5
over every column the bundle shows of every visit in it (with the checklist pin it would get).
When it matches If-None-Match the request ends there. Otherwise one query returns the visits
with exactly the response's columns, and templates come from the registry's cache of encoded
bytes (a key@version never changes).
"""

# ruff: noqa: S608 - the SQL below is composed of fixed text only, never of input
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec

from service.common.geo import point_from_wkb
from service.common.schemas import Window
from service.execution import schemas
from service.orders.schemas import EquipmentItem

# The pin a visit shows: its own once it has started its checklist, else the latest version.
_PIN_JOINS = """
LEFT JOIN visit_checklists vc ON vc.visit_id = v.id
LEFT JOIN LATERAL (
    SELECT ct.key, ct.version, ct.content_hash FROM checklist_templates ct
    WHERE ct.key = o.type ORDER BY ct.version DESC LIMIT 1
) latest ON vc.visit_id IS NULL
"""
_DAY_JOINS = f"""
FROM visits v
JOIN work_orders o ON o.id = v.work_order_id
JOIN sites s ON s.id = o.site_id
JOIN customers c ON c.id = o.customer_id
{_PIN_JOINS}
WHERE v.technician_id = :technician AND v.status <> 'cancelled'
  AND v.agreed_window && tstzrange(:start, :end)
"""

VERSION_VECTOR_SQL = f"""
WITH span AS (
    SELECT t.id, t.time_zone,
           COALESCE(:first, CAST(timezone(t.time_zone, :now) AS date)) AS first_day
    FROM technicians t WHERE t.id = :technician
), bounds AS (
    SELECT id, time_zone, first_day, COALESCE(:last, first_day) AS last_day,
           timezone(time_zone, CAST(first_day AS timestamp)) AS lo,
           timezone(time_zone, CAST(COALESCE(:last, first_day) + 1 AS timestamp)) AS hi
    FROM span
)
SELECT b.time_zone, b.first_day, b.last_day, (
    SELECT md5(string_agg(CAST(ROW(
        v.id, v.status, v.agreed_window, v.planned_start, v.version, o.id, o.number, o.type,
        o.priority, o.description, o.requested_services, o.equipment, o.contact_phones,
        s.address, s.location, s.access_notes, c.full_name, c.phones, c.preferred_language,
        c.accessibility_needs, COALESCE(vc.template_key, latest.key),
        COALESCE(vc.template_version, latest.version),
        COALESCE(vc.content_hash, latest.content_hash)) AS text),
        E'\\n' ORDER BY v.id))
    {_DAY_JOINS.replace(":technician", "b.id").replace(":start", "b.lo").replace(":end", "b.hi")}
) AS digest
FROM bounds b
"""
# A visit's bundle columns, in the order ``visit_bundle`` reads them.
_BUNDLE_COLUMNS = """
SELECT v.id, v.status, lower(v.agreed_window), upper(v.agreed_window), v.planned_start,
       v.version, o.id, o.number, o.type, o.priority, o.description, o.requested_services,
       CAST(o.equipment AS text), o.contact_phones, s.address, ST_AsBinary(s.location),
       s.access_notes, c.full_name, c.phones, c.preferred_language, c.accessibility_needs,
       COALESCE(vc.template_key, latest.key), COALESCE(vc.template_version, latest.version),
       COALESCE(vc.content_hash, latest.content_hash)"""
DAY_VISITS_SQL = f"""{_BUNDLE_COLUMNS}
{_DAY_JOINS}
ORDER BY lower(v.agreed_window)
"""
# The bundles of the given visits ($1) that are the technician's ($2) and not cancelled: what a
# pull sends for the visits that changed, in one statement whatever their number.
VISITS_BY_ID = f"""{_BUNDLE_COLUMNS}
FROM visits v
JOIN work_orders o ON o.id = v.work_order_id
JOIN sites s ON s.id = o.site_id
JOIN customers c ON c.id = o.customer_id
{_PIN_JOINS}
WHERE v.id = ANY($1::uuid[]) AND v.technician_id = $2 AND v.status <> 'cancelled'
"""

# The same statements with asyncpg's positional parameters, sent on the request session's own
# connection (``service.db.driver``): no statement building or result wrapping per request.
VERSION_VECTOR = (
    VERSION_VECTOR_SQL.replace(":technician", "$1::uuid")
    .replace(":first", "$2::date")
    .replace(":last", "$3::date")
    .replace(":now", "$4::timestamptz")
)
DAY_VISITS = (
    DAY_VISITS_SQL.replace(":technician", "$1").replace(":start", "$2").replace(":end", "$3")
)
_EQUIPMENT = msgspec.json.Decoder(list[EquipmentItem])


def day_etag(
    time_zone: str, first: date, last: date, digest: str | None, photo_max_side_px: int
) -> str:
    """The strong ETag of a day bundle from its version vector and the phone's photo size (a
    restart with another size must reach phones that hold the old bundle)."""
    vector = (
        f"{time_zone}|{first.isoformat()}|{last.isoformat()}|{digest or ''}|{photo_max_side_px}"
    )
    return '"' + hashlib.sha256(vector.encode()).hexdigest()[:32] + '"'


def visit_bundle(row: Sequence[Any]) -> schemas.VisitBundle:
    """A row of ``DAY_VISITS`` to the phone's visit, the same bytes as the ORM-built one."""
    contact_phones, customer_phones = row[13], row[18]
    return schemas.VisitBundle(
        visit_id=row[0],
        status=row[1],
        window=Window(start=row[2], end=row[3]),
        planned_start=row[4],
        work_order_id=row[6],
        work_order_number=row[7],
        work_type=row[8],
        priority=row[9],
        description=row[10],
        requested_services=row[11],
        equipment=_EQUIPMENT.decode(row[12]),
        address=row[14],
        location=point_from_wkb(row[15]),
        access_notes=row[16],
        customer=schemas.CustomerOnSite(
            name=row[17],
            phone=next(iter(contact_phones or customer_phones), None),
            language=row[19],
            accessibility_needs=row[20],
        ),
        checklist=schemas.PinnedChecklist(row[21], row[22], row[23]),
        version=row[5],
    )
