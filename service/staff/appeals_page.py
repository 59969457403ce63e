"""Appeals in the coordinator's workspace (/coordinate/appeals): the list of the caller's
territories with due times in each territory's zone, one appeal's page, and its actions.

Thin handlers over ``service.appeals`` (the same services as /api/v1/appeals): register, take,
add a note, decide, add a corrective measure, leave unconsidered on a listed ground, answer
(the letter is rendered and sent). Every action runs inside a savepoint, so a refused one writes
nothing, and answers 303 back to the appeal (or the page again with the reason and a 4xx).
The session, CSRF token, CSP nonce and layout are /coordinate's (``service.staff.web``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from sqlalchemy import select

from service.appeals import schemas
from service.appeals.letters import LetterService, sealer_for
from service.appeals.services import WORKER_ROLES, AppealService
from service.common.actor import Role
from service.common.pagination import TerritoryPageQuery
from service.common.params import DbSession
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import Customer, Territory, User, WorkOrder
from service.db.models.appeals import (
    APPEAL_KINDS,
    APPEAL_STATES,
    DECISIONS,
    OPEN_APPEAL_STATES,
    REFUSAL_GROUNDS,
)
from service.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from service.staff.appeals_texts import appeal_texts, due_day, last_day
from service.staff.coordinate import user_name
from service.staff.coordinate_page import local_time, zone_legend
from service.staff.texts import format_span, parse_date
from service.staff.web import (
    APPEALS,
    DISPATCH,
    STAFF_PAGE_OPTIONS,
    Form,
    StaffDep,
    StaffRequest,
    field_errors,
)
from service.storage import provide_blob_store

PATH = APPEALS.path
STAFF_CHANNELS = ("phone", "visit", "office", "letter")
NOTICES = frozenset(
    {
        "registered",
        "noted",
        "decided",
        "measured",
        "refused",
        "answered",
        "taken",
        "requested",
        "request_answered",
    }
)
PAGE_SIZE = 50

Action = Callable[[AppealService], Awaitable[Any]]


def _service(staff: StaffRequest, db_session: DbSession, state: State) -> AppealService:
    assert staff.session is not None
    return AppealService(db_session, staff.session.actor, state.settings, provide_blob_store(state))


def _convert(values: dict[str, Any], kind: type[Any]) -> Any:
    """A form's fields as the API's request struct; its refusal names the field."""
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition("$.")[2].rstrip("`").split("[")[0] or "form"
        raise ValidationFailed(
            "The form does not match", errors=[FieldError(field=where, message=str(exc))]
        ) from None


def _due(due_at: datetime, zone: str, at: dict[str, str], language: Any, key: str = "") -> str:
    """A deadline: its last day when it is a day deadline, its local time otherwise.

    ``key`` names the text the day goes into (``due_day`` unless told).
    """
    day = last_day(due_at, zone)
    if day is None:
        return local_time(due_at, zone)
    return at[key or "due_day"].format(day=due_day(day, language))


def _left(
    due_at: datetime, closed: bool, status: str, now: datetime, at: dict[str, str], language: Any
) -> str:
    """Time left to the answer, overdue by, or how it was closed (its clock ``status``)."""
    if closed:
        return at["closed_on_time"] if status == "met" else at["closed_late"]
    minutes = int((due_at - now).total_seconds() // 60)
    span = format_span(minutes, language)
    return at["left"].format(span=span) if minutes > 0 else at["overdue"].format(span=span)


async def _names(db_session: DbSession, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await db_session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {row.id: row.full_name for row in rows}


async def _territories(
    db_session: DbSession, ids: set[uuid.UUID] | None
) -> dict[uuid.UUID, tuple[str, str]]:
    """Name and zone of territories (of the given ids, or all)."""
    stmt = select(Territory.id, Territory.name, Territory.time_zone).order_by(Territory.name)
    if ids is not None:
        stmt = stmt.where(Territory.id.in_(ids))
    return {row.id: (row.name, row.time_zone) for row in await db_session.execute(stmt)}


class AppealsPageController(Controller):
    """The appeals of the caller's territories, one appeal, and its actions."""

    path = PATH
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    def _layout(self, staff: StaffRequest, name: str, here: str | None = None) -> dict[str, Any]:
        at = appeal_texts(staff.language)
        return {
            **staff.layout(APPEALS, name, here),
            "at": at,
            "kinds": APPEAL_KINDS,
            "states": APPEAL_STATES,
        }

    @get("/", media_type=MediaType.HTML)
    async def list_appeals(
        self,
        request: Request[Any, Any, Any],
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Appeals of the caller's territories, newest first, filtered by state and kind."""
        if (refused := staff.refusal(APPEALS)) is not None:
            return refused
        params = request.query_params
        state_filter = params.get("state") if params.get("state") in APPEAL_STATES else None
        kind = params.get("kind") if params.get("kind") in APPEAL_KINDS else None
        cursor = (params.get("cursor") or "")[:200] or None
        service = _service(staff, db_session, state)
        try:
            page = await service.page(
                TerritoryPageQuery(cursor=cursor, limit=PAGE_SIZE),
                state_filter,
                kind,
                mine=False,
            )
        except ValidationFailed:  # a cursor someone edited: start from the top
            page = await service.page(
                TerritoryPageQuery(limit=PAGE_SIZE),
                state_filter,
                kind,
                mine=False,
            )
        total = await service.count(None, state_filter, kind, mine=False)
        at = appeal_texts(staff.language)
        now = utcnow()
        places = await _territories(db_session, {a.territory_id for a in page.items})
        actor = staff.session.actor  # type: ignore[union-attr]
        # The owners' names and the caller's (the layout's "signed in as") in one query.
        owners = await _names(db_session, {actor.user_id, *(a.owner_id for a in page.items)})
        rows = []
        for item in page.items:
            name, zone = places[item.territory_id]
            closed = item.state not in OPEN_APPEAL_STATES
            rows.append(
                {
                    "a": item,
                    "territory": name,
                    "registered": local_time(item.registered_at, zone),
                    "due": _due(item.due_at, zone, at, staff.language),
                    "left": _left(item.due_at, closed, item.clock_status, now, at, staff.language),
                    "late": not closed and item.due_at - now < timedelta(minutes=1),
                    "owner": owners.get(item.owner_id) if item.owner_id else None,
                }
            )
        query = {k: v for k, v in (("state", state_filter), ("kind", kind)) if v}
        return staff.page(
            "staff/appeals/list.html.j2",
            {
                **self._layout(staff, owners.get(actor.user_id, "")),
                "rows": rows,
                "total": total,
                "state_filter": state_filter or "",
                "kind_filter": kind or "",
                "zones": zone_legend({n: z for n, z in places.values()}, now),
                "next_url": f"{PATH}?{urlencode({**query, 'cursor': page.next_cursor})}"
                if page.next_cursor
                else None,
                "first_url": f"{PATH}?{urlencode(query)}" if cursor else None,
            },
        )

    @get("/new", media_type=MediaType.HTML)
    async def new_form(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """The form to register an appeal taken by phone, on a visit, in the office or by letter.

        ``?work_order=`` (from the order's panel at /dispatch) fills in the order's territory and
        customer, and ties the appeal to the order; an order outside the caller's territories
        is a 404, like the order itself.
        """
        if (refused := staff.refusal(APPEALS)) is not None:
            return refused
        form: dict[str, str] = {"channel": "phone"}
        wanted = request.query_params.get("work_order")
        if wanted:
            prefill = await _order_prefill(staff, db_session, wanted)
            if prefill is None:
                return staff.not_found()
            form.update(prefill)
        return await self._new_page(staff, db_session, form, None, 200)

    async def _new_page(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        form: dict[str, str],
        error: str | None,
        status: int,
    ) -> Response[Any]:
        actor = staff.session.actor  # type: ignore[union-attr]
        places = await _territories(
            db_session, None if actor.is_admin else set(actor.territory_ids)
        )
        here = _new_url(form.get("work_order_id", ""))
        return staff.page(
            "staff/appeals/new.html.j2",
            {
                **self._layout(staff, await user_name(db_session, actor.user_id), here),
                "territories": [(i, n) for i, (n, _) in places.items()],
                "channels": STAFF_CHANNELS,
                "form": form,
                "error": error,
            },
            status,
        )

    @post("/", media_type=MediaType.HTML, status_code=303)
    async def register(
        self, data: Form, staff: StaffDep, db_session: DbSession, state: State
    ) -> Response[Any]:
        """Register the appeal; the customer is sent its number and status link."""
        # A session that ended while the form was open returns to it, still tied to the order.
        form_page = _new_url(data.get("work_order_id", "").strip())
        if (refused := staff.refusal(APPEALS, data, form_page)) is not None:
            return refused
        values: dict[str, Any] = {
            key: data.get(key, "").strip()
            for key in ("kind", "channel", "territory_id", "author_name", "text", "reply_channel")
        }
        values["language"] = data.get("language") or None
        for key in ("contact_phone", "contact_email", "work_order_id"):
            values[key] = data.get(key, "").strip() or None
        try:
            async with db_session.begin_nested():
                created = await _service(staff, db_session, state).register(
                    _convert(values, schemas.AppealCreate)
                )
        except Forbidden:
            return staff.not_for_role()
        except DomainError as exc:
            error = field_errors(appeal_texts(staff.language), exc)[""]
            return await self._new_page(staff, db_session, dict(data), error, 422)
        return staff.redirect(f"{PATH}/{created.id}?notice=registered")

    @get("/{appeal_id:uuid}", media_type=MediaType.HTML)
    async def appeal(
        self,
        request: Request[Any, Any, Any],
        appeal_id: FromPath[uuid.UUID],
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """One appeal: text, attachments, notes, decision, measures, letter, and the actions."""
        if (refused := staff.refusal(APPEALS)) is not None:
            return refused
        notice = request.query_params.get("notice")
        return await self._appeal_page(
            staff, db_session, state, appeal_id, notice=notice if notice in NOTICES else None
        )

    async def _appeal_page(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        state: State,
        appeal_id: uuid.UUID,
        *,
        notice: str | None = None,
        error: str | None = None,
        form: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        service = _service(staff, db_session, state)
        try:
            view = await service.get(appeal_id)
        except NotFound:
            return staff.not_found()
        except Forbidden:
            return staff.not_for_role()
        at = appeal_texts(staff.language)
        actor = staff.session.actor  # type: ignore[union-attr]
        territory = await db_session.get_one(Territory, view.territory_id)
        zone = territory.time_zone
        names = await _names(
            db_session,
            {
                actor.user_id,
                view.owner_id,
                *(n.author_id for n in view.notes),
                *(m.owner_id for m in view.measures),
            },
        )
        reasons = [r for r in await service.reasons() if r.active]
        order_number = (
            await db_session.scalar(
                select(WorkOrder.number).where(WorkOrder.id == view.work_order_id)
            )
            if view.work_order_id
            else None
        )
        can_work = actor.role in WORKER_ROLES
        owners = await service.territory_staff(view.territory_id) if can_work else []
        if can_work and actor.user_id not in {o[0] for o in owners}:
            # An administrator without the territory may still own what they set.
            owners.insert(0, (actor.user_id, names.get(actor.user_id, ""), actor.role.value))
        now = utcnow()
        is_complaint = view.kind in ("complaint", "quality_claim")
        return staff.page(
            "staff/appeals/detail.html.j2",
            {
                **self._layout(staff, names.get(actor.user_id, ""), f"{PATH}/{view.id}"),
                "a": view,
                "territory": territory.name,
                "zone": zone_legend({territory.name: zone}, now),
                "registered": local_time(view.registered_at, zone),
                "due": _due(view.clock.due_at, zone, at, staff.language),
                "max_due": _due(view.clock.max_due_at, zone, at, staff.language),
                "left": _left(
                    view.clock.due_at,
                    view.clock.closed_at is not None,
                    view.clock.status,
                    now,
                    at,
                    staff.language,
                ),
                "late": view.clock.status == "breached",
                "open": view.state in OPEN_APPEAL_STATES,
                "can_work": can_work,
                "order_number": order_number,
                # Supervisors have no dispatch desk: the number without a link.
                "order_url": f"{DISPATCH.path}/orders/{view.work_order_id}"
                if order_number and actor.role in DISPATCH.roles
                else None,
                "actor_id": str(actor.user_id),
                "owners": [(str(i), n, at[f"role.{r}"]) for i, n, r in owners],
                "owner_default": (form or {}).get("owner") or str(actor.user_id),
                "is_complaint": is_complaint,
                "owner": names.get(view.owner_id) if view.owner_id else None,
                "mine": view.owner_id == actor.user_id,
                "notes": [
                    (
                        names.get(n.author_id, "") if n.author_id else "",
                        local_time(n.created_at, zone),
                        n.text,
                    )
                    for n in view.notes
                ],
                "measures": [
                    (
                        m.description,
                        names.get(m.owner_id, ""),
                        _due(m.due_at, zone, at, staff.language),
                    )
                    for m in view.measures
                ],
                "requests": [
                    {
                        "id": r.id,
                        "unit": r.unit,
                        "question": r.question,
                        "due": _due(r.due_at, zone, at, staff.language, "request_due_day"),
                        "due_is_day": last_day(r.due_at, zone) is not None,
                        "answer": r.answer,
                        "answered": local_time(r.answered_at, zone) if r.answered_at else None,
                        "overdue": r.overdue,
                    }
                    for r in view.requests
                ],
                "reasons": [
                    (r.code, r.names.get(staff.language) or r.names.get("en") or r.code)
                    for r in reasons
                ],
                "reason_names": {r.code: r.names.get(staff.language) or r.code for r in reasons},
                "decisions": DECISIONS,
                "grounds": REFUSAL_GROUNDS,
                "notice": at[f"notice.{notice}"] if notice else None,
                "error": error,
                "form": form or {},
            },
            status,
        )

    async def _act(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        state: State,
        appeal_id: uuid.UUID,
        data: dict[str, str],
        action: Action,
        notice: str,
        roles: frozenset[Role] | None = WORKER_ROLES,
    ) -> Response[Any]:
        """Guard, run the action in a savepoint, and answer with the appeal or the reason.

        ``roles``: who may take the action (working an appeal is not a dispatcher's; None: any
        role of the section).
        """
        refused = staff.refusal(APPEALS, data, f"{PATH}/{appeal_id}", roles)
        if refused is not None:
            return refused
        at = appeal_texts(staff.language)
        form = {k: v for k, v in data.items() if k != "csrf"}
        try:
            async with db_session.begin_nested():
                await action(_service(staff, db_session, state))
        except NotFound:
            return staff.not_found()
        except Forbidden:
            return staff.not_for_role()
        except Conflict as exc:
            reason = at.get(f"err.{exc.code}") or at["err.closed"]
            return await self._appeal_page(
                staff, db_session, state, appeal_id, error=reason, form=form, status=409
            )
        except DomainError as exc:
            return await self._appeal_page(
                staff,
                db_session,
                state,
                appeal_id,
                error=field_errors(at, exc)[""],
                form=form,
                status=422,
            )
        return staff.redirect(f"{PATH}/{appeal_id}?notice={notice}")

    @post("/{appeal_id:uuid}/take", media_type=MediaType.HTML, status_code=303)
    async def take(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """The caller becomes the appeal's owner."""

        async def action(service: AppealService) -> None:
            await service.update(appeal_id, schemas.AppealUpdate(owner_id=service.actor.user_id))

        return await self._act(staff, db_session, state, appeal_id, data, action, "taken")

    @post("/{appeal_id:uuid}/notes", media_type=MediaType.HTML, status_code=303)
    async def add_note(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Add an internal note."""

        async def action(service: AppealService) -> None:
            await service.add_note(
                appeal_id, _convert({"text": data.get("text", "")}, schemas.NoteCreate)
            )

        return await self._act(
            staff, db_session, state, appeal_id, data, action, "noted", roles=None
        )

    @post("/{appeal_id:uuid}/decision", media_type=MediaType.HTML, status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        appeal_id: FromPath[uuid.UUID],
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Record a complaint's decision with its reasons and reason codes."""
        form = await request.form()
        data = {k: str(form.get(k, "")) for k in ("csrf", "decision", "reasons")}
        codes = [str(c) for c in form.getall("reason_codes")] if "reason_codes" in form else []

        async def action(service: AppealService) -> None:
            await service.decide(
                appeal_id,
                _convert(
                    {
                        "decision": data["decision"],
                        "reasons": data["reasons"],
                        "reason_codes": codes,
                    },
                    schemas.DecisionCreate,
                ),
            )

        return await self._act(staff, db_session, state, appeal_id, data, action, "decided")

    @post("/{appeal_id:uuid}/measures", media_type=MediaType.HTML, status_code=303)
    async def add_measure(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Add a corrective measure: its owner (the caller unless another of the territory's staff
        is chosen), due by the end of the chosen day."""

        async def action(service: AppealService) -> None:
            due = await _end_of_day(service, appeal_id, data.get("due", ""))
            owner = data.get("owner", "").strip() or str(service.actor.user_id)
            await service.add_measure(
                appeal_id,
                _convert(
                    {
                        "description": data.get("description", "").strip(),
                        "owner_id": owner,
                        "due_at": due.isoformat(),
                    },
                    schemas.MeasureCreate,
                ),
            )

        return await self._act(staff, db_session, state, appeal_id, data, action, "measured")

    @post("/{appeal_id:uuid}/requests", media_type=MediaType.HTML, status_code=303)
    async def add_request(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Ask another unit for documents or facts, by the end of the chosen day."""

        async def action(service: AppealService) -> None:
            due = await _end_of_day(service, appeal_id, data.get("due", ""))
            await service.add_request(
                appeal_id,
                _convert(
                    {
                        "unit": data.get("unit", "").strip(),
                        "question": data.get("question", "").strip(),
                        "due_at": due.isoformat(),
                    },
                    schemas.UnitRequestCreate,
                ),
            )

        return await self._act(staff, db_session, state, appeal_id, data, action, "requested")

    @post(
        "/{appeal_id:uuid}/requests/{request_id:uuid}/answer",
        media_type=MediaType.HTML,
        status_code=303,
    )
    async def answer_request(
        self,
        appeal_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Record the other unit's answer."""

        async def action(service: AppealService) -> None:
            await service.answer_request(
                appeal_id,
                request_id,
                _convert({"answer": data.get("answer", "").strip()}, schemas.UnitRequestAnswer),
            )

        return await self._act(
            staff, db_session, state, appeal_id, data, action, "request_answered"
        )

    @post("/{appeal_id:uuid}/refusal", media_type=MediaType.HTML, status_code=303)
    async def refuse(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Leave the appeal unconsidered on a listed ground; the customer is told."""

        async def action(service: AppealService) -> None:
            await service.refuse(
                appeal_id,
                _convert(
                    {
                        "ground": data.get("ground", ""),
                        "note": data.get("note", "").strip() or None,
                    },
                    schemas.AppealRefusal,
                ),
            )

        return await self._act(staff, db_session, state, appeal_id, data, action, "refused")

    @post("/{appeal_id:uuid}/answer", media_type=MediaType.HTML, status_code=303)
    async def answer(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Answer on the merits: the letter is rendered, stored and sent to the customer."""

        async def action(service: AppealService) -> None:
            await LetterService(service, sealer_for(state)).answer(
                appeal_id, _convert({"merits": data.get("merits", "")}, schemas.AnswerCreate)
            )

        return await self._act(staff, db_session, state, appeal_id, data, action, "answered")

    @get("/{appeal_id:uuid}/letter", media_type=MediaType.HTML)
    async def letter(
        self, appeal_id: FromPath[uuid.UUID], staff: StaffDep, db_session: DbSession, state: State
    ) -> Response[Any]:
        """The answer letter's PDF (sealed when sealed) through a short-lived URL."""
        if (refused := staff.refusal(APPEALS)) is not None:
            return refused
        try:
            url = await _service(staff, db_session, state).letter_url(appeal_id)
        except NotFound:
            return staff.not_found()
        return staff.redirect(url)


def _new_url(work_order: str) -> str:
    """The register form's address; tied to an order when opened from the order's panel."""
    return f"{PATH}/new" + (f"?{urlencode({'work_order': work_order[:64]})}" if work_order else "")


async def _order_prefill(
    staff: StaffRequest, db_session: DbSession, wanted: str
) -> dict[str, str] | None:
    """The register form's fields from an order in the caller's territories (None: not found)."""
    try:
        order_id = uuid.UUID(wanted[:64])
    except ValueError:
        return None
    actor = staff.session.actor  # type: ignore[union-attr]
    row = (
        await db_session.execute(
            select(WorkOrder.id, WorkOrder.territory_id, WorkOrder.number, Customer)
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .where(WorkOrder.id == order_id, territory_condition(actor, WorkOrder.territory_id))
        )
    ).one_or_none()
    if row is None:
        return None
    customer: Customer = row.Customer
    return {
        "work_order_id": str(row.id),
        "work_order_number": row.number,
        "territory_id": str(row.territory_id),
        "author_name": customer.full_name,
        "contact_phone": next(iter(customer.phones or []), ""),
        **({"language": customer.preferred_language} if customer.preferred_language else {}),
    }


async def _end_of_day(service: AppealService, appeal_id: uuid.UUID, value: str) -> datetime:
    """23:59 of a form's date (as the page's date fields take it: 10.12.2026 or 2026-12-10)
    on the appeal territory's clock; a 422 on ``due_at`` otherwise."""
    try:
        day = parse_date(value)
    except ValueError:
        raise ValidationFailed(
            "The due date is not a date",
            errors=[FieldError(field="due_at", message="not a date")],
        ) from None
    zone = await service.time_zone(appeal_id)
    return datetime.combine(day, time(23, 59), ZoneInfo(zone))
