"""Territory rules: valid areas, real time zones, no deletion while referenced."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.actor import Actor
from service.common.pagination import keyset_page, split_page
from service.common.patching import changed_fields
from service.common.scope import territory_condition
from service.db.models import Customer, Site, Territory, WorkOrder
from service.db.models.technicians import technician_territories
from service.db.models.users import user_territories
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.territories import schemas


def validate_time_zone(name: str) -> None:
    """An IANA zone the server knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(
            f"Unknown time zone {name!r}",
            errors=[FieldError(field="time_zone", message="not an IANA time zone")],
        ) from exc


def _polygons(area: schemas.Area) -> list[Any]:
    return [area.coordinates] if area.type == "Polygon" else list(area.coordinates)


def validate_area_coordinates(area: schemas.Area) -> None:
    """Rings are closed, have 4+ positions, and every position is a valid lon/lat."""
    problems: list[FieldError] = []
    for p, polygon in enumerate(_polygons(area)):
        if not isinstance(polygon, list) or not polygon:
            problems.append(FieldError(field=f"area.coordinates[{p}]", message="not a polygon"))
            continue
        for r, ring in enumerate(polygon):
            where = f"area.coordinates[{p}][{r}]"
            try:
                positions = msgspec.convert(ring, list[tuple[float, float]])
            except msgspec.ValidationError:
                problems.append(FieldError(field=where, message="a ring is a list of [lon, lat]"))
                continue
            if len(positions) < 4 or positions[0] != positions[-1]:
                problems.append(FieldError(field=where, message="ring must be closed, 4+ points"))
            for lon, lat in positions:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    problems.append(
                        FieldError(field=where, message="longitude/latitude out of range")
                    )
                    break
    if problems:
        raise ValidationFailed("The area is not a valid polygon", errors=problems)


def area_sql(area: schemas.Area) -> ColumnElement[Any]:
    """GeoJSON to a MultiPolygon geometry in SRID 4326."""
    geojson = msgspec.json.encode(area).decode()
    return func.ST_Multi(func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson), 4326))


class TerritoryService:
    """CRUD for territories (admins write; staff read their own)."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def page(self, cursor: str | None, limit: int) -> schemas.TerritoryPage:
        """Territories visible to the caller."""
        stmt = select(Territory, func.ST_AsGeoJSON(Territory.area)).where(
            territory_condition(self.actor, Territory.id)
        )
        rows = (await self.session.execute(keyset_page(stmt, Territory, cursor, limit))).all()
        items, next_cursor = split_page(rows, limit, lambda r: (r[0].created_at, r[0].id))
        return schemas.TerritoryPage(
            items=[self._to_schema(t, g) for t, g in items], next_cursor=next_cursor
        )

    async def get(self, territory_id: uuid.UUID) -> schemas.Territory:
        """One territory in scope."""
        territory, geojson = await self._load(territory_id)
        return self._to_schema(territory, geojson)

    async def create(self, data: schemas.TerritoryCreate) -> schemas.Territory:
        """Add a territory with a valid area and a known time zone."""
        validate_time_zone(data.time_zone)
        await self._check_area(data.area)
        if await self.session.scalar(select(exists().where(Territory.code == data.code))):
            raise Conflict(f"Territory code {data.code} is taken", code="duplicate_code")
        territory = Territory(
            code=data.code, name=data.name, time_zone=data.time_zone, area=area_sql(data.area)
        )
        self.session.add(territory)
        await self.session.flush()
        result = await self.get(territory.id)
        await record(
            self.session,
            self.actor,
            "territory.created",
            "territory",
            territory.id,
            after={"code": data.code, "name": data.name, "time_zone": data.time_zone},
        )
        return result

    async def update(
        self, territory_id: uuid.UUID, patch: schemas.TerritoryUpdate
    ) -> schemas.Territory:
        """Change name, time zone or area."""
        territory, _ = await self._load(territory_id)
        changes = changed_fields(patch)
        before = {"name": territory.name, "time_zone": territory.time_zone}
        if "time_zone" in changes:
            validate_time_zone(changes["time_zone"])
            territory.time_zone = changes["time_zone"]
        if "name" in changes:
            territory.name = changes["name"]
        if "area" in changes:
            await self._check_area(changes["area"])
            territory.area = area_sql(changes["area"])
        await self.session.flush()
        result = await self.get(territory_id)
        await record(
            self.session,
            self.actor,
            "territory.updated",
            "territory",
            territory_id,
            before=before,
            after={k: v for k, v in changes.items() if k != "area"}
            | ({"area": "changed"} if "area" in changes else {}),
        )
        return result

    async def delete(self, territory_id: uuid.UUID) -> None:
        """Remove a territory nobody refers to."""
        territory, _ = await self._load(territory_id)
        for column in (
            Customer.territory_id,
            Site.territory_id,
            WorkOrder.territory_id,
            technician_territories.c.territory_id,
            user_territories.c.territory_id,
        ):
            if await self.session.scalar(select(exists().where(column == territory_id))):
                raise Conflict("The territory is still in use", code="in_use")
        await record(
            self.session,
            self.actor,
            "territory.deleted",
            "territory",
            territory_id,
            before={"code": territory.code, "name": territory.name},
        )
        await self.session.delete(territory)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict("The territory is still in use", code="in_use") from exc

    async def _check_area(self, area: schemas.Area) -> None:
        validate_area_coordinates(area)
        reason = await self.session.scalar(select(func.ST_IsValidReason(area_sql(area))))
        if reason != "Valid Geometry":
            raise ValidationFailed(
                "The area is not a valid polygon",
                errors=[FieldError(field="area", message=str(reason))],
            )

    async def _load(self, territory_id: uuid.UUID) -> tuple[Territory, str]:
        row = (
            await self.session.execute(
                select(Territory, func.ST_AsGeoJSON(Territory.area)).where(
                    Territory.id == territory_id, territory_condition(self.actor, Territory.id)
                )
            )
        ).first()
        if row is None:
            raise NotFound("Territory not found")
        return row[0], row[1]

    @staticmethod
    def _to_schema(territory: Territory, geojson: str) -> schemas.Territory:
        return schemas.Territory(
            id=territory.id,
            code=territory.code,
            name=territory.name,
            time_zone=territory.time_zone,
            area=msgspec.json.decode(geojson),
            created_at=territory.created_at,
            updated_at=territory.updated_at,
        )


async def territory_containing(session: AsyncSession, location_ewkt: str) -> uuid.UUID | None:
    """The territory whose area covers a point; the smallest when areas overlap."""
    point = func.ST_GeomFromEWKT(location_ewkt)
    return await session.scalar(
        select(Territory.id)
        .where(func.ST_Covers(Territory.area, point))
        .order_by(func.ST_Area(Territory.area))
        .limit(1)
    )
