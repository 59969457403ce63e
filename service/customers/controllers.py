"""Customer and site endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import STAFF, require_roles
from service.common.actor import Role
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import CurrentActor, DbSession, PageCursor, PageLimit
from service.customers.schemas import (
    Customer,
    CustomerCreate,
    CustomerPage,
    CustomerUpdate,
    Site,
    SiteCreate,
    SitePage,
    SiteUpdate,
)
from service.customers.services import CustomerService, SiteService, customer_schema, site_schema

WRITERS = require_roles(Role.DISPATCHER)
READERS = require_roles(*STAFF)


class CustomerController(Controller):
    """Customers (no accounts; they sign on the technician's device)."""

    path = "/api/v1/customers"
    tags = ["customers"]

    @get("/", operation_id="ListCustomers", guards=[READERS])
    async def list_customers(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="name or phone")
        ] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> CustomerPage:
        """List customers in the caller's territories."""
        return await CustomerService(db_session, actor).page(
            q=q, territory_id=territory_id, cursor=cursor, limit=limit
        )

    @post("/", operation_id="CreateCustomer", guards=[WRITERS])
    async def create_customer(
        self, data: JSONBody[CustomerCreate], db_session: DbSession, actor: CurrentActor
    ) -> Customer:
        """Register a customer."""
        return customer_schema(await CustomerService(db_session, actor).create(data))

    @get("/{customer_id:uuid}", operation_id="GetCustomer", guards=[READERS])
    async def get_customer(
        self, customer_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> Customer:
        """Get one customer."""
        return customer_schema(await CustomerService(db_session, actor).get(customer_id))

    @patch("/{customer_id:uuid}", operation_id="UpdateCustomer", guards=[WRITERS])
    async def update_customer(
        self,
        customer_id: FromPath[uuid.UUID],
        data: JSONBody[CustomerUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> Customer:
        """Change a customer's details."""
        return customer_schema(await CustomerService(db_session, actor).update(customer_id, data))

    @delete("/{customer_id:uuid}", operation_id="DeleteCustomer", guards=[WRITERS])
    async def delete_customer(
        self, customer_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> None:
        """Delete a customer without sites or work orders."""
        await CustomerService(db_session, actor).delete(customer_id)


class SiteController(Controller):
    """Sites: addresses with a location."""

    path = "/api/v1/sites"
    tags = ["sites"]

    @get("/", operation_id="ListSites", guards=[READERS])
    async def list_sites(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        customer_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> SitePage:
        """List sites in the caller's territories."""
        return await SiteService(db_session, actor).page(
            customer_id=customer_id, territory_id=territory_id, cursor=cursor, limit=limit
        )

    @post("/", operation_id="CreateSite", guards=[WRITERS])
    async def create_site(
        self, data: JSONBody[SiteCreate], db_session: DbSession, actor: CurrentActor
    ) -> Site:
        """Add a site to a customer."""
        return site_schema(await SiteService(db_session, actor).create(data))

    @get("/{site_id:uuid}", operation_id="GetSite", guards=[READERS])
    async def get_site(
        self, site_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> Site:
        """Get one site."""
        return site_schema(await SiteService(db_session, actor).get(site_id))

    @patch("/{site_id:uuid}", operation_id="UpdateSite", guards=[WRITERS])
    async def update_site(
        self,
        site_id: FromPath[uuid.UUID],
        data: JSONBody[SiteUpdate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> Site:
        """Change a site."""
        return site_schema(await SiteService(db_session, actor).update(site_id, data))

    @delete("/{site_id:uuid}", operation_id="DeleteSite", guards=[WRITERS])
    async def delete_site(
        self, site_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> None:
        """Delete a site without work orders."""
        await SiteService(db_session, actor).delete(site_id)
