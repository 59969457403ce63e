"""The coordinator's workspace (/coordinate): overdue orders by owner, escalations, follow-ups.

Thin handlers over ``coordinate`` (owners, calls, holds, grouped escalations) and the ratings'
follow-up service. Booking, rescheduling and the order's timeline are the dispatch console's
order panel (linked from each row, never copied). Every action runs inside a savepoint, so a
refused one writes nothing, and answers 303 back to the list (or the list again with the
reason and a 4xx status).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath

from service.common.pagination import TerritoryPageQuery
from service.common.params import DbSession
from service.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from service.ratings import schemas as rating_schemas
from service.ratings.follow_ups import FollowUpService
from service.staff.coordinate import (
    CALL_OUTCOMES,
    SORTS,
    CoordinatorWorkspace,
    WorkspaceFilters,
    acknowledge_many,
    escalation_inbox,
    user_name,
)
from service.staff.coordinate_texts import coord_texts
from service.staff.texts import all_texts, format_local, format_span
from service.staff.web import COORDINATE, STAFF_PAGE_OPTIONS, Form, StaffDep, StaffRequest

PATH = COORDINATE.path
NOTICES = frozenset({"taken", "handed_over", "called", "held", "acknowledged", "resolved"})


def _filters(params: Any) -> WorkspaceFilters:
    sort = params.get("sort")
    offset = params.get("offset", "0")
    return WorkspaceFilters(
        mine=params.get("view") != "all",
        q=(params.get("q") or "")[:100],
        sort=sort if sort in SORTS else "overdue",
        offset=int(offset) if offset.isdigit() and len(offset) < 7 else 0,
    )


def _query(filters: WorkspaceFilters, **extra: Any) -> str:
    params: dict[str, Any] = {}
    if not filters.mine:
        params["view"] = "all"
    if filters.q:
        params["q"] = filters.q
    if filters.sort != "overdue":
        params["sort"] = filters.sort
    params.update({k: v for k, v in extra.items() if v not in (None, "", 0)})
    return f"{PATH}?{urlencode(params)}" if params else PATH


def _back(data: dict[str, str], notice: str, n: int | None = None) -> str:
    """The list the form was posted from, with a notice."""
    back = data.get("back", "")
    if not back.startswith(PATH) or back.startswith("//"):
        back = PATH
    sep = "&" if "?" in back else "?"
    return f"{back}{sep}notice={notice}" + (f"&n={n}" if n is not None else "")


class CoordinatePageController(Controller):
    """The coordinator's workspace and its row actions."""

    path = PATH
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    @get("/", media_type=MediaType.HTML)
    async def workspace(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """Overdue orders (mine by default), escalations addressed to me, open follow-ups."""
        if staff.session is None:
            return staff.to_login()
        if staff.role not in COORDINATE.roles:
            return staff.not_for_role()
        notice = request.query_params.get("notice")
        n = request.query_params.get("n", "")
        return await self._page(
            staff,
            db_session,
            request.query_params,
            notice=notice if notice in NOTICES else None,
            n=int(n) if n.isdigit() and len(n) < 5 else 0,
        )

    async def _page(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        params: Any,
        *,
        notice: str | None = None,
        n: int = 0,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        assert staff.session is not None
        actor = staff.session.actor
        filters = _filters(params)
        ct = coord_texts(staff.language)
        st = all_texts(staff.language)
        page = await CoordinatorWorkspace(db_session, actor).overdue(filters)
        zones: dict[str, str] = {}
        rows = []
        for row in page.rows:
            zones[row.territory_name] = row.time_zone
            zone = ZoneInfo(row.time_zone)
            rows.append(
                {
                    "row": row,
                    "deadline": format_local(row.control_deadline, row.time_zone),
                    "zone_abbr": row.control_deadline.astimezone(zone).strftime("%Z"),
                    "overdue": format_span(row.overdue_minutes(page.as_of), staff.language),
                    "window": format_local(row.window_start, row.time_zone)
                    if row.window_start
                    else None,
                    "last_call": format_local(row.last_call_at, row.time_zone)
                    if row.last_call_at
                    else None,
                    "mine": row.owner_id == actor.user_id,
                    "owners": await CoordinatorWorkspace(db_session, actor).owners(row.id)
                    if row.owner_id == actor.user_id
                    else [],
                    "priority_label": st.get(f"priority.{row.priority}", row.priority),
                }
            )
        to_me = params.get("esc") != "all"
        esc_offset = params.get("esc_offset", "0")
        inbox = await escalation_inbox(
            db_session,
            actor,
            to_me=to_me,
            offset=int(esc_offset) if esc_offset.isdigit() and len(esc_offset) < 7 else 0,
        )
        follow_ups = await FollowUpService(db_session, actor).page(
            "open", False, TerritoryPageQuery(limit=20)
        )
        here = _query(filters)
        return staff.page(
            "staff/coordinate.html.j2",
            {
                **staff.layout(COORDINATE, await user_name(db_session, actor.user_id)),
                "ct": ct,
                "page": page,
                "rows": rows,
                "filters": filters,
                "sorts": SORTS,
                "outcomes": CALL_OUTCOMES,
                "here": here
                + ("&" if "?" in here else "?")
                + urlencode({k: v for k, v in (("esc", params.get("esc")),) if v}),
                "mine_url": _query(WorkspaceFilters(True, filters.q, filters.sort)),
                "all_url": _query(WorkspaceFilters(False, filters.q, filters.sort)),
                "next_url": _query(filters, offset=page.next_offset) if page.next_offset else None,
                "first_url": _query(filters, offset=0) if filters.offset else None,
                "zones": ", ".join(f"{name} — {zone}" for name, zone in sorted(zones.items())),
                "inbox": inbox,
                "to_me": to_me,
                "esc_me_url": _query(filters),
                "esc_all_url": _query(filters, esc="all"),
                "esc_next_url": _query(
                    filters, esc=None if to_me else "all", esc_offset=inbox.next_offset
                )
                if inbox.next_offset
                else None,
                "esc_when": {
                    g.work_order_id: format_local(g.first_at, g.time_zone) for g in inbox.groups
                },
                "follow_ups": follow_ups.items,
                "notice": ct[f"notice.{notice}"].format(n=n) if notice else None,
                "error": error,
                "today": date.today().isoformat(),
            },
            status,
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        staff: StaffRequest,
        db_session: DbSession,
        data: dict[str, str],
        action: Any,
        notice: str,
    ) -> Response[Any]:
        """Guard, run the action in a savepoint, and answer with the list or the reason."""
        if staff.session is None:
            return staff.redirect(f"/staff/login?{urlencode({'next': PATH})}")
        if staff.role not in COORDINATE.roles:
            return staff.not_for_role()
        if not staff.csrf_ok(data.get("csrf")):
            return staff.csrf_refused()
        ct = coord_texts(staff.language)
        back = data.get("back", PATH)
        params = dict(p.split("=", 1) for p in back.partition("?")[2].split("&") if "=" in p)
        try:
            async with db_session.begin_nested():
                n = await action(staff.session.actor)
        except NotFound:
            return staff.not_found()
        except Forbidden as exc:
            if exc.code == "not_addressed_to_you":
                return await self._page(
                    staff, db_session, params, error=ct["err.not_yours"], status=403
                )
            return staff.not_for_role()
        except PreconditionFailed:
            return await self._page(staff, db_session, params, error=ct["err.changed"], status=412)
        except Conflict:
            return await self._page(staff, db_session, params, error=ct["err.gone"], status=409)
        except (ValidationFailed, DomainError) as exc:
            detail = "; ".join(f"{e.field}: {e.message}" for e in getattr(exc, "errors", []) or [])
            return await self._page(
                staff,
                db_session,
                params,
                error=ct["err.input"].format(detail=detail or str(exc)),
                status=422,
            )
        return staff.redirect(_back(data, notice, n if isinstance(n, int) else None))

    @post("/orders/{order_id:uuid}/take", media_type=MediaType.HTML, status_code=303)
    async def take(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """The caller becomes the order's owner."""

        async def action(actor: Any) -> None:
            await CoordinatorWorkspace(db_session, actor).take(order_id, data.get("note", ""))

        return await self._act(request, staff, db_session, data, action, "taken")

    @post("/orders/{order_id:uuid}/hand-over", media_type=MediaType.HTML, status_code=303)
    async def hand_over(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Hand the order to another coordinator of its territory, with a note."""

        async def action(actor: Any) -> None:
            try:
                to = uuid.UUID(data.get("to", ""))
            except ValueError as exc:
                raise ValidationFailed("Choose who takes the order") from exc
            await CoordinatorWorkspace(db_session, actor).hand_over(
                order_id, to, data.get("note", "")
            )

        return await self._act(request, staff, db_session, data, action, "handed_over")

    @post("/orders/{order_id:uuid}/call", media_type=MediaType.HTML, status_code=303)
    async def call(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Record a call to the customer (outcome, new promised date)."""

        async def action(actor: Any) -> None:
            raw = data.get("promised", "")
            try:
                promised = date.fromisoformat(raw) if raw else None
            except ValueError as exc:
                raise ValidationFailed("The promised date is not a date") from exc
            await CoordinatorWorkspace(db_session, actor).record_call(
                order_id, data.get("outcome", ""), promised, data.get("note", "")
            )

        return await self._act(request, staff, db_session, data, action, "called")

    @post("/orders/{order_id:uuid}/hold", media_type=MediaType.HTML, status_code=303)
    async def hold(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Put the order on hold with a reason."""

        async def action(actor: Any) -> None:
            await CoordinatorWorkspace(db_session, actor).hold(
                order_id, data.get("reason", ""), data.get("version")
            )

        return await self._act(request, staff, db_session, data, action, "held")

    @post("/escalations/acknowledge", media_type=MediaType.HTML, status_code=303)
    async def acknowledge(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """Acknowledge the chosen escalations with one comment (only those addressed to me)."""
        form = await request.form()
        data = {k: str(form.get(k, "")) for k in ("csrf", "comment", "back")}
        ids: list[uuid.UUID] = []
        for raw in form.getall("id") if "id" in form else []:
            for part in str(raw).split(","):
                try:
                    ids.append(uuid.UUID(part))
                except ValueError:
                    continue

        async def action(actor: Any) -> int:
            return await acknowledge_many(db_session, actor, ids[:500], data["comment"])

        return await self._act(request, staff, db_session, data, action, "acknowledged")

    @post("/follow-ups/{task_id:uuid}/resolve", media_type=MediaType.HTML, status_code=303)
    async def resolve(
        self,
        request: Request[Any, Any, Any],
        task_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Resolve a follow-up in place with what was done."""

        async def action(actor: Any) -> None:
            await FollowUpService(db_session, actor).resolve(
                task_id, rating_schemas.FollowUpResolve(comment=data.get("comment", "")[:2000])
            )

        return await self._act(request, staff, db_session, data, action, "resolved")
