"""Customers and sites in the dispatch pages: create and edit with phone and point checks.

The forms are checked by the API's own schemas (``customer_forms``) and saved by the customer
and site services (scope, territory by PostGIS containment, audit); a form with errors comes
back with what was typed and a message per field in the page's language, and writes nothing.
The site form's lat/lon inputs carry ids (``site-lat``, ``site-lon``) a map picker can fill.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.params import FromPath
from sqlalchemy import func, select

from service.common.params import DbSession
from service.customers import schemas
from service.customers.services import CustomerService, SiteService
from service.db.models import Site
from service.errors import Forbidden, NotFound, ValidationFailed
from service.staff.customer_forms import customer_create, customer_update, site_fields
from service.staff.dispatch import CAN_EDIT_CUSTOMERS
from service.staff.map import DispatchMapService
from service.staff.queue import QueueService
from service.staff.schedule_pages import map_headers, script_json
from service.staff.texts import Language, all_texts
from service.staff.web import DISPATCH, STAFF_PAGE_OPTIONS, Form, StaffDep, StaffRequest

LANGUAGE_CHOICES = (("ru", "Русский"), ("kk", "Қазақша"), ("en", "English"))
# Which text explains an error of each form field.
_ERROR_TEXT = {
    "phones": "err.phone",
    "lat": "err.latlon",
    "lon": "err.latlon",
    "location": "err.latlon",
    "territory": "err.required",
    "full_name": "err.required",
    "address": "err.required",
}


def _localised(errors: dict[str, str], language: Language) -> dict[str, str]:
    t = all_texts(language)
    return {field: t[_ERROR_TEXT.get(field, "err.invalid")] for field in errors}


def _kept(data: dict[str, str]) -> dict[str, str]:
    return {k: v[:2000] for k, v in data.items() if k != "csrf"}


class DispatchCustomerController(Controller):
    """Create and edit customers and their sites (dispatchers, as the API allows)."""

    path = "/dispatch/customers"
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    @get("/new", media_type=MediaType.HTML)
    async def new_customer(self, staff: StaffDep, db_session: DbSession) -> Response[Any]:
        """An empty customer form with its first site."""
        refused = _refusal(staff)
        if refused is not None:
            return refused
        return await _page(staff, db_session, None, values={}, errors={})

    @post("/", media_type=MediaType.HTML, status_code=303)
    async def create(self, data: Form, staff: StaffDep, db_session: DbSession) -> Response[Any]:
        """Register a customer with a first site; errors keep what was typed."""
        refused = _refusal(staff, data)
        if refused is not None:
            return refused
        assert staff.session is not None
        customer, errors = customer_create(data)
        site, site_errors = site_fields(data)
        errors |= site_errors
        if customer is None or site is None or errors:
            return await _page(staff, db_session, None, data, errors, status=422)
        actor = staff.session.actor
        try:
            async with db_session.begin_nested():
                created = await CustomerService(db_session, actor).create(customer)
                await SiteService(db_session, actor).create(
                    msgspec.convert({**site, "customer_id": str(created.id)}, schemas.SiteCreate)
                )
        except ValidationFailed as exc:
            field = exc.errors[0] if exc.errors else None
            name = field.field if field else "form"
            return await _page(
                staff, db_session, None, data, {"lat" if name == "location" else name: "x"}, 422
            )
        except (NotFound, Forbidden):
            return await _page(staff, db_session, None, data, {"territory": "x"}, 422)
        return staff.redirect(f"/dispatch/customers/{created.id}?notice=saved")

    @get("/{customer_id:uuid}", media_type=MediaType.HTML)
    async def edit(
        self, customer_id: FromPath[uuid.UUID], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """A customer's details and sites, editable."""
        refused = _refusal(staff)
        if refused is not None:
            return refused
        return await _page(staff, db_session, customer_id, values={}, errors={})

    @post("/{customer_id:uuid}", media_type=MediaType.HTML, status_code=303)
    async def update(
        self,
        customer_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Change a customer's details."""
        refused = _refusal(staff, data)
        if refused is not None:
            return refused
        assert staff.session is not None
        patch, errors = customer_update(data)
        if patch is None:
            return await _page(staff, db_session, customer_id, data, errors, status=422)
        try:
            async with db_session.begin_nested():
                await CustomerService(db_session, staff.session.actor).update(customer_id, patch)
        except NotFound:
            return staff.not_found()
        return staff.redirect(f"/dispatch/customers/{customer_id}?notice=saved")

    @post("/{customer_id:uuid}/sites", media_type=MediaType.HTML, status_code=303)
    async def add_site(
        self,
        customer_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Add a site by address and coordinates."""
        refused = _refusal(staff, data)
        if refused is not None:
            return refused
        assert staff.session is not None
        site, errors = site_fields(data)
        if site is None:
            return await _page(staff, db_session, customer_id, data, errors, status=422)
        try:
            async with db_session.begin_nested():
                await SiteService(db_session, staff.session.actor).create(
                    msgspec.convert({**site, "customer_id": str(customer_id)}, schemas.SiteCreate)
                )
        except NotFound:
            return staff.not_found()
        except ValidationFailed:
            return await _page(staff, db_session, customer_id, data, {"lat": "x"}, status=422)
        return staff.redirect(f"/dispatch/customers/{customer_id}?notice=saved")


def _refusal(staff: StaffRequest, data: dict[str, str] | None = None) -> Response[Any] | None:
    # A posted form returns to its page: the customer's (its sites' form too) or a new one.
    customer = staff.path.removesuffix("/sites")
    page = customer if customer.rstrip("/") != DispatchCustomerController.path else None
    form_page = page or f"{DispatchCustomerController.path}/new"
    return staff.refusal(DISPATCH, data, form_page, CAN_EDIT_CUSTOMERS)


async def _page(
    staff: StaffRequest,
    db_session: DbSession,
    customer_id: uuid.UUID | None,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response[Any]:
    assert staff.session is not None
    actor = staff.session.actor
    customer = None
    home: uuid.UUID | None = None  # the customer's territory, outlined on the site picker
    sites: list[dict[str, Any]] = []
    if customer_id is not None:
        try:
            found = await CustomerService(db_session, actor).get(customer_id)
        except NotFound:
            return staff.not_found()
        home = found.territory_id
        customer = {
            "id": found.id,
            "full_name": found.full_name,
            "phones": ", ".join(found.phones),
            "preferred_language": found.preferred_language,
            "notes": found.notes or "",
        }
        rows = await db_session.execute(
            select(
                Site.id,
                Site.address,
                func.ST_Y(func.geometry(Site.location)),
                func.ST_X(func.geometry(Site.location)),
            )
            .where(Site.customer_id == customer_id)
            .order_by(Site.created_at)
        )
        sites = [{"id": r[0], "address": r[1], "lat": r[2], "lon": r[3]} for r in rows]
    t = all_texts(staff.language)
    notice = t["saved"] if staff.query == "notice=saved" else None
    territories = await QueueService(db_session, actor).territories()
    # The site picker's ground: the territories' outlines (tiles only when configured).
    outlines = await DispatchMapService(db_session, actor).outlines(home)
    page = staff.page(
        "staff/dispatch/customer.html.j2",
        {
            **staff.layout(
                DISPATCH,
                here=f"/dispatch/customers/{customer_id}"
                if customer_id
                else "/dispatch/customers/new",
            ),
            "customer": customer,
            "sites": sites,
            "values": _kept(values),
            "errors": _localised(errors, staff.language),
            "notice": notice,
            "territories": [{"id": str(i), "code": c, "name": n} for i, c, n in territories],
            "language_choices": LANGUAGE_CHOICES,
            "outlines_json": script_json(outlines),
            "tile_url": staff.map.tile_url,
            "tile_attribution": staff.map.tile_attribution,
        },
        status,
    )
    page.headers.update(map_headers(staff, staff.map.tile_url))
    return page
