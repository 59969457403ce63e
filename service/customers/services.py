"""Customer and site rules: scope by territory, sites placed by PostGIS containment."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.actor import Actor
from service.common.geo import point_ewkt, point_from_wkb
from service.common.pagination import keyset_page, split_page
from service.common.patching import changed_fields, snapshot
from service.common.scope import territory_condition
from service.customers import schemas
from service.db.models import Customer, Site, Territory, WorkOrder
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.territories.services import territory_containing

CUSTOMER_FIELDS = (
    "territory_id",
    "full_name",
    "phones",
    "preferred_language",
    "segment",
    "accessibility_needs",
    "email",
    "notes",
)
SITE_FIELDS = ("customer_id", "territory_id", "address", "access_notes")


def customer_schema(customer: Customer) -> schemas.Customer:
    """Model to API schema."""
    return schemas.Customer(
        id=customer.id,
        territory_id=customer.territory_id,
        full_name=customer.full_name,
        phones=list(customer.phones),
        preferred_language=customer.preferred_language,
        segment=customer.segment,
        accessibility_needs=list(customer.accessibility_needs),
        email=customer.email,
        notes=customer.notes,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def site_schema(site: Site) -> schemas.Site:
    """Model to API schema."""
    return schemas.Site(
        id=site.id,
        customer_id=site.customer_id,
        territory_id=site.territory_id,
        address=site.address,
        location=point_from_wkb(site.location),
        access_notes=site.access_notes,
        created_at=site.created_at,
        updated_at=site.updated_at,
    )


class CustomerService:
    """Customers in the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def page(
        self, *, q: str | None, territory_id: uuid.UUID | None, cursor: str | None, limit: int
    ) -> schemas.CustomerPage:
        """Customers by name or phone fragment, newest first."""
        stmt = select(Customer).where(territory_condition(self.actor, Customer.territory_id))
        if territory_id:
            stmt = stmt.where(Customer.territory_id == territory_id)
        if q:
            pattern = f"%{q.strip()}%"
            stmt = stmt.where(
                or_(
                    Customer.full_name.ilike(pattern),
                    func.array_to_string(Customer.phones, " ").like(pattern),
                )
            )
        rows = (await self.session.scalars(keyset_page(stmt, Customer, cursor, limit))).all()
        items, next_cursor = split_page(rows, limit, lambda c: (c.created_at, c.id))
        return schemas.CustomerPage(
            items=[customer_schema(c) for c in items], next_cursor=next_cursor
        )

    async def get(self, customer_id: uuid.UUID) -> Customer:
        """One customer in scope, or NotFound."""
        customer = await self.session.scalar(
            select(Customer).where(
                Customer.id == customer_id,
                territory_condition(self.actor, Customer.territory_id),
            )
        )
        if customer is None:
            raise NotFound("Customer not found")
        return customer

    async def create(self, data: schemas.CustomerCreate) -> Customer:
        """Register a customer in one of the caller's territories."""
        await require_territory(self.session, self.actor, data.territory_id)
        customer = Customer(
            territory_id=data.territory_id,
            full_name=data.full_name.strip(),
            phones=_unique(data.phones),
            preferred_language=data.preferred_language,
            segment=data.segment,
            accessibility_needs=_unique(data.accessibility_needs),
            email=data.email,
            notes=data.notes,
        )
        self.session.add(customer)
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "customer.created",
            "customer",
            customer.id,
            after=_redacted(snapshot(customer, CUSTOMER_FIELDS)),
        )
        return customer

    async def update(self, customer_id: uuid.UUID, patch: schemas.CustomerUpdate) -> Customer:
        """Change a customer's details."""
        customer = await self.get(customer_id)
        before = snapshot(customer, CUSTOMER_FIELDS)
        for name, value in changed_fields(patch).items():
            unique = name in ("phones", "accessibility_needs")
            setattr(customer, name, _unique(value) if unique else value)
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "customer.updated",
            "customer",
            customer.id,
            before=_redacted(before),
            after=_redacted(snapshot(customer, CUSTOMER_FIELDS)),
        )
        return customer

    async def delete(self, customer_id: uuid.UUID) -> None:
        """Delete a customer with no sites or work orders."""
        customer = await self.get(customer_id)
        for column in (Site.customer_id, WorkOrder.customer_id):
            if await self.session.scalar(select(exists().where(column == customer_id))):
                raise Conflict("The customer still has sites or work orders", code="in_use")
        await record(self.session, self.actor, "customer.deleted", "customer", customer_id)
        await self.session.delete(customer)
        await self.session.flush()


class SiteService:
    """Sites in the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def page(
        self,
        *,
        customer_id: uuid.UUID | None,
        territory_id: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.SitePage:
        """Sites, newest first."""
        stmt = select(Site).where(territory_condition(self.actor, Site.territory_id))
        if customer_id:
            stmt = stmt.where(Site.customer_id == customer_id)
        if territory_id:
            stmt = stmt.where(Site.territory_id == territory_id)
        rows = (await self.session.scalars(keyset_page(stmt, Site, cursor, limit))).all()
        items, next_cursor = split_page(rows, limit, lambda s: (s.created_at, s.id))
        return schemas.SitePage(items=[site_schema(s) for s in items], next_cursor=next_cursor)

    async def get(self, site_id: uuid.UUID) -> Site:
        """One site in scope, or NotFound."""
        site = await self.session.scalar(
            select(Site).where(
                Site.id == site_id, territory_condition(self.actor, Site.territory_id)
            )
        )
        if site is None:
            raise NotFound("Site not found")
        return site

    async def create(self, data: schemas.SiteCreate) -> Site:
        """Add a site; its territory is the one whose area covers the location."""
        await CustomerService(self.session, self.actor).get(data.customer_id)
        ewkt = point_ewkt(data.location)
        territory_id = await self._territory_for(ewkt)
        site = Site(
            customer_id=data.customer_id,
            territory_id=territory_id,
            address=data.address.strip(),
            location=ewkt,
            access_notes=data.access_notes,
        )
        self.session.add(site)
        await self.session.flush()
        await self.session.refresh(site)
        await record(
            self.session,
            self.actor,
            "site.created",
            "site",
            site.id,
            after=snapshot(site, SITE_FIELDS) | {"location": data.location},
        )
        return site

    async def update(self, site_id: uuid.UUID, patch: schemas.SiteUpdate) -> Site:
        """Change a site; a new location may move it to another territory in scope."""
        site = await self.get(site_id)
        before = snapshot(site, SITE_FIELDS)
        changes = changed_fields(patch)
        if "location" in changes:
            ewkt = point_ewkt(changes.pop("location"))
            site.territory_id = await self._territory_for(ewkt)
            site.location = ewkt
        for name, value in changes.items():
            setattr(site, name, value)
        await self.session.flush()
        await self.session.refresh(site)
        await record(
            self.session,
            self.actor,
            "site.updated",
            "site",
            site.id,
            before=before,
            after=snapshot(site, SITE_FIELDS),
        )
        return site

    async def delete(self, site_id: uuid.UUID) -> None:
        """Delete a site with no work orders."""
        site = await self.get(site_id)
        if await self.session.scalar(select(exists().where(WorkOrder.site_id == site_id))):
            raise Conflict("The site still has work orders", code="in_use")
        await record(self.session, self.actor, "site.deleted", "site", site_id)
        await self.session.delete(site)
        await self.session.flush()

    async def _territory_for(self, ewkt: str) -> uuid.UUID:
        territory_id = await territory_containing(self.session, ewkt)
        if territory_id is None or not self.actor.covers_territory(territory_id):
            raise ValidationFailed(
                "The location is outside every territory you serve",
                errors=[FieldError(field="location", message="outside your territories")],
            )
        return territory_id


async def require_territory(session: AsyncSession, actor: Actor, territory_id: uuid.UUID) -> None:
    """The territory exists and is in the caller's scope, else NotFound."""
    found = await session.scalar(select(exists().where(Territory.id == territory_id)))
    if not found or not actor.covers_territory(territory_id):
        raise NotFound("Territory not found")


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _redacted(fields: dict[str, Any]) -> dict[str, Any]:
    """Audit entries keep that contact data changed, not the data itself (personal data)."""
    return {
        k: ("<redacted>" if k in ("full_name", "phones", "email", "notes") else v)
        for k, v in fields.items()
    }
