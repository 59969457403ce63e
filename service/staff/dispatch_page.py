"""The dispatcher's pages (/dispatch): the unscheduled queue, the order panel and its actions.

Thin handlers over ``queue``, ``dispatch`` and the customer services: each resumes the staff
session, refuses callers the section is not for with a page, calls one service method inside a
savepoint (a refused action writes nothing), and answers with a page. A form with errors comes
back with what was typed, in the page's language, with 422 (bad input), 409 (a lost booking
race: fresh offers), 412 (the order changed meanwhile) or 404 (out of scope).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect

from service.acts.services import ActService
from service.appeals.services import AppealService
from service.common.params import DbSession, uuid_or_none
from service.db.models import User
from service.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from service.scheduling import planning
from service.scheduling import schemas as scheduling
from service.staff.appeals_texts import appeal_texts
from service.staff.dispatch import (
    CAN_BOOK,
    CAN_CANCEL,
    CAN_EDIT_CUSTOMERS,
    CAN_REASSIGN,
    CAN_RESCHEDULE,
    REASSIGN_REASONS,
    RESCHEDULE_REASONS,
    DispatchActions,
    DispatchPanel,
    FormState,
    agreement_from,
    parse_slot,
)
from service.staff.queue import PAGE_SIZE, QueueFilters, QueueService, time_left_minutes
from service.staff.texts import Language, all_texts, format_local, format_span, parse_date, text
from service.staff.web import DISPATCH, STAFF_PAGE_OPTIONS, Form, StaffDep, StaffRequest
from service.storage import provide_blob_store

WORK_TYPES = ("installation", "repair", "construction", "meter_check")
PRIORITIES = ("urgent", "high", "normal", "low")
NOTICES = frozenset(
    {"booked", "rescheduled", "reassigned", "visit_cancelled", "order_cancelled", "saved"}
)
_MAX_FIELD = 2000

# What a dialog does once its form is read: one call on the dispatcher's actions.
Act = Callable[[DispatchActions], Awaitable[Any]]
# Service refusals that mean "someone else got this slot first".
TAKEN = frozenset({"overlap"})
SLOT_GONE = frozenset(
    {
        "overlaps_visit",
        "no_candidate",
        planning.CAPACITY,
        planning.UNREACHABLE,
        planning.NEXT_AT_RISK,
    }
)


def _queue_filters(params: Any) -> QueueFilters:
    """Filters from the query string; unknown values are ignored, not errors."""
    kind = params.get("type")
    priority = params.get("priority")
    skill = (params.get("skill") or "").strip()[:64]
    q = (params.get("q") or "").strip()[:120]
    return QueueFilters(
        type=kind if kind in WORK_TYPES else None,
        priority=priority if priority in PRIORITIES else None,
        territory_id=uuid_or_none(params.get("territory")),
        skill=skill or None,
        q=q or None,
    )


def _filter_params(filters: QueueFilters) -> dict[str, str]:
    values = {
        "type": filters.type,
        "priority": filters.priority,
        "territory": str(filters.territory_id) if filters.territory_id else None,
        "skill": filters.skill,
        "q": filters.q,
    }
    return {k: v for k, v in values.items() if v}


def _order_url(order_id: uuid.UUID, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/dispatch/orders/{order_id}" + (f"?{query}" if query else "")


async def _user_name(db_session: DbSession, staff: StaffRequest) -> str:
    assert staff.session is not None
    user = await db_session.get(User, staff.session.actor.user_id)
    return user.full_name if user else ""


def _field_errors(exc: DomainError, language: Language) -> dict[str, str]:
    """A service's field errors keyed by the form's field names."""
    names = {
        "agreed_by": "agreed_with",
        "reason_code": "reason",
        "window": "slot",
        "technician_id": "technician",
    }
    t = all_texts(language)
    found: dict[str, str] = {}
    for error in exc.errors or []:
        key = error.field.split(".")[0].lstrip("$").strip(".") or "form"
        found[names.get(key, key)] = t["err.invalid"] + f" ({error.message})"
    return found


class DispatchPageController(Controller):
    """The dispatcher's queue, order panel, booking in place, customers and sites."""

    path = "/dispatch"
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    # -- queue --------------------------------------------------------------------------------

    @get("/", media_type=MediaType.HTML)
    async def queue_page(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """The unscheduled queue with its filters."""
        refused = self._refusal(staff)
        if refused is not None:
            return refused
        context = await self._queue_context(request, staff, db_session)
        assert staff.session is not None
        territories = await QueueService(db_session, staff.session.actor).territories()
        return staff.page(
            "staff/dispatch/queue.html.j2",
            {
                **staff.layout(DISPATCH, await _user_name(db_session, staff)),
                **context,
                "territories": [
                    {"id": str(i), "code": code, "name": name} for i, code, name in territories
                ],
                "types": [(k, all_texts(staff.language)[f"type.{k}"]) for k in WORK_TYPES],
                "priorities": [(k, all_texts(staff.language)[f"priority.{k}"]) for k in PRIORITIES],
                "can_edit_customers": staff.role in CAN_EDIT_CUSTOMERS,
            },
        )

    @get("/queue", media_type=MediaType.HTML)
    async def queue_fragment(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """The queue's table alone (filters, search and paging without a reload)."""
        if staff.session is None:
            return staff.fragment_unauthorized()
        if staff.role not in DISPATCH.roles:
            return staff.not_for_role()
        context = await self._queue_context(request, staff, db_session)
        return staff.page(
            "staff/dispatch/_queue.html.j2",
            {"st": all_texts(staff.language), "lang": staff.language, **context},
        )

    async def _queue_context(
        self, request: Request[Any, Any, Any], staff: StaffRequest, db_session: DbSession
    ) -> dict[str, Any]:
        assert staff.session is not None
        filters = _queue_filters(request.query_params)
        cursor = request.query_params.get("cursor")
        page = await QueueService(db_session, staff.session.actor).page(filters, cursor, PAGE_SIZE)
        t = all_texts(staff.language)
        language = staff.language
        rows = []
        for row in page.rows:
            left = time_left_minutes(row.control_deadline)
            waiting = (
                row.status
                if row.status in ("new", "on_hold")
                else (row.last_visit_status or "other")
            )
            rows.append(
                {
                    "id": row.id,
                    "url": _order_url(row.id),
                    "number": row.number,
                    "type": t.get(f"type.{row.type}", row.type),
                    "priority": row.priority,
                    "priority_label": t.get(f"priority.{row.priority}", row.priority),
                    "customer": row.customer_name,
                    "phone": row.customer_phone,
                    "address": row.address,
                    "territory": row.territory_code,
                    "deadline": format_local(row.control_deadline, row.time_zone)
                    if row.control_deadline
                    else t["no_deadline"],
                    "left": None
                    if left is None
                    else (
                        text("overdue_by", language, span=format_span(left, language))
                        if left < 0
                        else text("left", language, span=format_span(left, language))
                    ),
                    "late": left is not None and left < 0,
                    "soon": left is not None and 0 <= left < 120,
                    "waiting": t.get(f"waiting.{waiting}", t["waiting.other"]),
                }
            )
        params = _filter_params(filters)
        return {
            "rows": rows,
            "filters": params,
            "next_url": "/dispatch?" + urlencode({**params, "cursor": page.next_cursor})
            if page.next_cursor
            else None,
            "next_fragment": "/dispatch/queue?" + urlencode({**params, "cursor": page.next_cursor})
            if page.next_cursor
            else None,
            "first_url": "/dispatch?" + urlencode(params) if cursor else None,
        }

    # -- order panel --------------------------------------------------------------------------

    @get("/orders/{order_id:uuid}", media_type=MediaType.HTML)
    async def order_page(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """An order with its customer, visits, clocks, acts, photos, rating and actions."""
        refused = self._refusal(staff)
        if refused is not None:
            return refused
        notice = request.query_params.get("notice")
        day = _date(request.query_params.get("day"))
        return await self._panel(
            staff,
            db_session,
            state,
            order_id,
            notice=notice if notice in NOTICES else None,
            offers_day=day,
            with_offers=request.query_params.get("offers") == "1" or day is not None,
        )

    @get("/orders/{order_id:uuid}/offers", media_type=MediaType.HTML)
    async def offers_fragment(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """The slot offers of an order from a day (the booking form's choices)."""
        if staff.session is None:
            return staff.fragment_unauthorized()
        if staff.role not in DISPATCH.roles:
            return staff.not_for_role()
        panel = DispatchPanel(db_session, staff.session.actor, provide_blob_store(state))
        texts = all_texts(staff.language)
        typed = request.query_params.get("day", "")
        day = _date(typed)
        # A date that cannot be read is said so, rather than quietly showing today's offers.
        form = {"values": {}, "errors": {"slot": texts["err.date"]}} if typed and not day else None
        try:
            offers = await panel.offers(order_id, day, staff.language)
        except NotFound:
            return staff.not_found()
        except Conflict:
            offers = {"day": "", "zone": "", "slots": []}
        if form is not None:
            offers["slots"] = []
        prefix = request.query_params.get("pfx", "")
        return staff.page(
            "staff/dispatch/_offers.html.j2",
            {
                "st": texts,
                "offers": offers,
                "form": form,
                # The id prefix of the form the offers go into (letters, digits, dashes only).
                "pfx": prefix if re.fullmatch(r"[a-z0-9-]{1,16}", prefix) else "offers",
            },
        )

    @get("/acts/{act_id:uuid}/pdf", media_type=MediaType.HTML)
    async def act_pdf(
        self, act_id: FromPath[uuid.UUID], staff: StaffDep, db_session: DbSession, state: State
    ) -> Response[Any]:
        """The act's PDF through a short-lived signed URL."""
        refused = self._refusal(staff)
        if refused is not None:
            return refused
        assert staff.session is not None
        try:
            url = await ActService.from_state(db_session, staff.session.actor, state).pdf_url(
                act_id
            )
        except (NotFound, Conflict):
            return staff.not_found()
        return Redirect(url, status_code=303, headers={"Cache-Control": "no-store"})

    # -- actions ------------------------------------------------------------------------------

    @post("/orders/{order_id:uuid}/book", media_type=MediaType.HTML, status_code=303)
    async def book(
        self,
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Book the chosen slot with who agreed and how; a lost race shows fresh offers."""

        def prepare(form: FormState, t: dict[str, str]) -> Act | None:
            slot = parse_slot(data.get("slot"))
            agreement = agreement_from(data)
            if slot is None:
                form.errors["slot"] = t["choose_slot"]
            if agreement is None:
                form.errors["agreed_with"] = t["err.agreement_required"]
            if slot is None or agreement is None:
                return None
            window, technician = slot
            version = data.get("version")
            return lambda actions: actions.book(order_id, version, window, technician, agreement)

        return await self._submit(
            staff,
            data,
            db_session,
            state,
            order_id,
            CAN_BOOK,
            "book",
            prepare,
            "booked",
            with_offers=True,
        )

    @post(
        "/orders/{order_id:uuid}/visits/{visit_id:uuid}/reschedule",
        media_type=MediaType.HTML,
        status_code=303,
    )
    async def reschedule(
        self,
        order_id: FromPath[uuid.UUID],
        visit_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Move a visit's window: a reason and the customer's agreement are required."""

        def prepare(form: FormState, t: dict[str, str]) -> Act | None:
            slot = parse_slot(data.get("slot"))
            reason = data.get("reason", "")
            agreement = agreement_from(data)
            if slot is None:
                form.errors["slot"] = t["choose_slot"]
            if reason not in RESCHEDULE_REASONS:
                form.errors["reason"] = t["err.reason_required"]
            if agreement is None:
                form.errors["agreed_with"] = t["err.agreement_required"]
            if slot is None or form.errors:
                return None
            change = scheduling.Reschedule(
                window=slot[0],
                reason_code=reason,  # type: ignore[arg-type]
                agreed_by=agreement,
                note=data.get("note", "")[:_MAX_FIELD] or None,
            )
            version = data.get("version")
            return lambda actions: actions.reschedule(order_id, visit_id, version, change)

        return await self._submit(
            staff,
            data,
            db_session,
            state,
            order_id,
            CAN_RESCHEDULE,
            "reschedule",
            prepare,
            "rescheduled",
            visit_id=visit_id,
            with_offers=True,
        )

    @post(
        "/orders/{order_id:uuid}/visits/{visit_id:uuid}/reassign",
        media_type=MediaType.HTML,
        status_code=303,
    )
    async def reassign(
        self,
        order_id: FromPath[uuid.UUID],
        visit_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Give a visit to another technician (or the best free one) with a reason."""

        def prepare(form: FormState, t: dict[str, str]) -> Act | None:
            reason = data.get("reason", "")
            if reason not in REASSIGN_REASONS:
                form.errors["reason"] = t["err.reason_required"]
                return None
            change = scheduling.Reassign(
                technician_id=uuid_or_none(data.get("technician")),
                reason_code=reason,  # type: ignore[arg-type]
                note=data.get("note", "")[:_MAX_FIELD] or None,
            )
            version = data.get("version")
            return lambda actions: actions.reassign(order_id, visit_id, version, change)

        return await self._submit(
            staff,
            data,
            db_session,
            state,
            order_id,
            CAN_REASSIGN,
            "reassign",
            prepare,
            "reassigned",
            visit_id=visit_id,
        )

    @post(
        "/orders/{order_id:uuid}/visits/{visit_id:uuid}/cancel",
        media_type=MediaType.HTML,
        status_code=303,
    )
    async def cancel_visit(
        self,
        order_id: FromPath[uuid.UUID],
        visit_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Cancel a visit with a reason."""

        def prepare(form: FormState, t: dict[str, str]) -> Act | None:
            reason = _reason(data, form, t)
            version = data.get("version")
            if reason is None:
                return None
            return lambda actions: actions.cancel_visit(order_id, visit_id, version, reason)

        return await self._submit(
            staff,
            data,
            db_session,
            state,
            order_id,
            CAN_CANCEL,
            "cancel_visit",
            prepare,
            "visit_cancelled",
            visit_id=visit_id,
        )

    @post("/orders/{order_id:uuid}/cancel", media_type=MediaType.HTML, status_code=303)
    async def cancel_order(
        self,
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Cancel the order with a reason."""

        def prepare(form: FormState, t: dict[str, str]) -> Act | None:
            reason = _reason(data, form, t)
            version = data.get("version")
            if reason is None:
                return None
            return lambda actions: actions.cancel_order(order_id, version, reason)

        return await self._submit(
            staff,
            data,
            db_session,
            state,
            order_id,
            CAN_CANCEL,
            "cancel_order",
            prepare,
            "order_cancelled",
        )

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _refusal(staff: StaffRequest) -> Response[Any] | None:
        """Anonymous: to the sign-in; a role the section is not for: a page saying so."""
        return staff.refusal(DISPATCH)

    async def _action_guard(
        self, staff: StaffRequest, data: dict[str, str], roles: frozenset[Any], order_id: uuid.UUID
    ) -> Response[Any] | None:
        """Session, section, CSRF and the action's roles, before anything is read or written."""
        return staff.refusal(DISPATCH, data, _order_url(order_id), roles)

    async def _submit(
        self,
        staff: StaffRequest,
        data: dict[str, str],
        db_session: DbSession,
        state: State,
        order_id: uuid.UUID,
        roles: frozenset[Any],
        form_name: str,
        prepare: Callable[[FormState, dict[str, str]], Act | None],
        notice: str,
        *,
        visit_id: uuid.UUID | None = None,
        with_offers: bool = False,
    ) -> Response[Any]:
        """One dialog's post: guard, read the form (errors: the panel again, 422), then act.

        A dialog that chooses a window (``with_offers``) is shown again with its offers.
        """
        guard = await self._action_guard(staff, data, roles, order_id)
        if guard is not None:
            return guard
        assert staff.session is not None
        kept = _kept(data) | ({"visit": str(visit_id)} if visit_id else {})
        form = FormState(form_name, kept)
        act = prepare(form, all_texts(staff.language))
        if act is None or form.errors:
            return await self._panel(
                staff,
                db_session,
                state,
                order_id,
                form=form,
                status=422,
                with_offers=with_offers,
                offers_day=_date(data.get("day")) if with_offers else None,
            )
        actions = DispatchActions(db_session, staff.session.actor)
        return await self._run(
            staff, db_session, state, order_id, form, lambda: act(actions), notice
        )

    async def _run(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        state: State,
        order_id: uuid.UUID,
        form: FormState,
        action: Any,
        notice: str,
    ) -> Response[Any]:
        """Run one action in a savepoint; its refusal re-shows the panel with the form kept."""
        t = all_texts(staff.language)
        try:
            async with db_session.begin_nested():
                await action()
        except NotFound:
            return staff.not_found()
        except Forbidden:
            return staff.not_for_role()
        except PreconditionFailed:
            form.message = t["err.stale"]
            return await self._panel(
                staff, db_session, state, order_id, form=form, status=412, with_offers=True
            )
        except (Conflict, ValidationFailed) as exc:
            if exc.code in TAKEN or (form.name == "book" and exc.code in SLOT_GONE):
                # Lost the slot (a race, or it was taken since the offers were shown).
                form.message = t["just_taken"]
                form.values.pop("slot", None)
                return await self._panel(
                    staff, db_session, state, order_id, form=form, status=409, with_offers=True
                )
            if isinstance(exc, Conflict):
                form.message = text("err.refused", staff.language, detail=exc.detail)
                return await self._panel(staff, db_session, state, order_id, form=form, status=409)
            form.errors.update(_field_errors(exc, staff.language))
            form.message = text("err.refused", staff.language, detail=exc.detail)
            return await self._panel(
                staff, db_session, state, order_id, form=form, status=422, with_offers=True
            )
        return staff.redirect(_order_url(order_id, notice=notice))

    async def _panel(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        state: State,
        order_id: uuid.UUID,
        *,
        form: FormState | None = None,
        status: int = 200,
        notice: str | None = None,
        offers_day: date | None = None,
        with_offers: bool = False,
    ) -> Response[Any]:
        assert staff.session is not None
        actor = staff.session.actor
        panel = DispatchPanel(db_session, actor, provide_blob_store(state))
        try:
            context = await panel.context(
                order_id,
                staff.language,
                ActService.from_state(db_session, actor, state),
                offers_day=offers_day,
                with_offers=with_offers,
            )
        except NotFound:
            return staff.not_found()
        if staff.role in CAN_REASSIGN:
            context["technicians"] = await panel.technicians_for(order_id)
        # The customer's complaints about this order, so whoever takes the next call knows.
        at = appeal_texts(staff.language)
        context["appeals"] = [
            {
                "id": a.id,
                "number": a.number,
                "label": f"{at['kind.' + a.kind]} · {at['state.' + a.state]}",
            }
            for a in await AppealService(db_session, actor, state.settings, None).of_order(order_id)
        ]
        staff.image_origins = context.pop("image_origins")
        t = all_texts(staff.language)
        if form is not None and form.errors and not form.message:
            form.message = t["err.form"]
        return staff.page(
            "staff/dispatch/order.html.j2",
            {
                **staff.layout(
                    DISPATCH, await _user_name(db_session, staff), here=_order_url(order_id)
                ),
                **context,
                "form": form,
                "notice": t[notice] if notice else None,
            },
            status,
        )


def _reason(data: dict[str, str], form: FormState, t: dict[str, str]) -> str | None:
    """A cancellation's free-text reason, or None with the form's error said."""
    reason = data.get("reason", "").strip()[:_MAX_FIELD]
    if not reason:
        form.errors["reason"] = t["err.reason_required"]
        return None
    return reason


def _kept(data: dict[str, str]) -> dict[str, str]:
    """What was typed, bounded, to show again (never the CSRF token)."""
    return {k: v[:_MAX_FIELD] for k, v in data.items() if k != "csrf"}


def _date(value: str | None) -> date | None:
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None
