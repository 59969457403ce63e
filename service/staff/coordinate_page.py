"""The coordinator's workspace (/coordinate): overdue orders by owner, escalations, follow-ups.

Thin handlers over ``coordinate`` (owners, calls, holds, grouped escalations) and the ratings'
follow-up service. Booking, rescheduling and the order's timeline are the dispatch console's
order panel (linked from each row, never copied). Every action runs inside a savepoint, so a
refused one writes nothing, and answers 303 back to the list (or the list again with the
reason and a 4xx status).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath

from service.common.params import DbSession
from service.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from service.incidents.services import IncidentService
from service.ratings import schemas as rating_schemas
from service.ratings.follow_ups import FollowUpService
from service.staff.coordinate import (
    CALL_OUTCOMES,
    NOTE_MAX,
    SORTS,
    CoordinatorWorkspace,
    WorkspaceFilters,
    acknowledge_many,
    escalation_inbox,
    open_follow_ups,
    pending_incidents,
    user_name,
)
from service.staff.coordinate_texts import coord_texts
from service.staff.texts import all_texts, format_span
from service.staff.web import (
    COORDINATE,
    STAFF_PAGE_OPTIONS,
    Form,
    StaffDep,
    StaffRequest,
    field_errors,
)

PATH = COORDINATE.path
NOTICES = frozenset(
    {"taken", "handed_over", "called", "held", "acknowledged", "resolved", "escalated", "incident"}
)


def local_time(value: datetime, zone_key: str) -> str:
    """A time in a territory's zone, short, with its UTC offset (``30.11 17:00 UTC+05``)."""
    local = value.astimezone(ZoneInfo(zone_key))
    return f"{local:%d.%m %H:%M} {utc_offset(local)}"


def short_time(value: datetime, zone_key: str) -> str:
    """A time in a territory's zone without its offset (the page's legend names the zones)."""
    return f"{value.astimezone(ZoneInfo(zone_key)):%d.%m %H:%M}"


def utc_offset(local: datetime) -> str:
    """``UTC+05``, ``UTC+05:30``, ``UTC-03`` for an aware time."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}" + (f":{mins:02d}" if mins else "")


def zone_legend(zones: dict[str, str], now: datetime) -> str:
    """Territories grouped by zone: ``Алматы, Астана — UTC+05 (Asia/Almaty); ...``."""
    by_zone: dict[str, list[str]] = {}
    for name, zone in zones.items():
        by_zone.setdefault(zone, []).append(name)
    return "; ".join(
        f"{', '.join(sorted(names))} — {utc_offset(now.astimezone(ZoneInfo(zone)))} ({zone})"
        for zone, names in sorted(by_zone.items())
    )


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


# Each row dialog's inputs, as the form names them (what is kept when the server refuses).
DIALOGS: dict[str, tuple[str, ...]] = {
    "call": ("outcome", "promised", "note"),
    "hold": ("reason",),
    "hand-over": ("to", "note"),
    "escalate": ("note",),
    "resolve": ("comment",),
    "incident": ("comment",),
}
# A service's field name where the form's input is named otherwise.
_INPUT_OF = {"hold_reason": "reason"}


@dataclass(frozen=True, slots=True)
class Refused:
    """A dialog the server refused: shown open again with what was typed and why.

    ``errors`` maps an input's name to its reason; the key ``""`` is about the whole form.
    """

    target: str
    form: str
    values: dict[str, str]
    errors: dict[str, str]

    @property
    def focus(self) -> str:
        """The input to put the cursor in: the first one refused, else the dialog's first."""
        inputs = DIALOGS[self.form]
        return next((name for name in inputs if name in self.errors), inputs[0])


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
        if (refused := staff.refusal(COORDINATE)) is not None:
            return refused
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
        refused: Refused | None = None,
        status: int = 200,
    ) -> Response[Any]:
        assert staff.session is not None
        actor = staff.session.actor
        filters = _filters(params)
        ct = coord_texts(staff.language)
        st = all_texts(staff.language)
        workspace = CoordinatorWorkspace(db_session, actor)
        page = await workspace.overdue(filters)
        zones: dict[str, str] = {}
        owners = await workspace.owners_of(
            {row.territory_id for row in page.rows if row.owner_id == actor.user_id}
        )
        rows = []
        for row in page.rows:
            zones[row.territory_name] = row.time_zone
            rows.append(
                {
                    "row": row,
                    "deadline": local_time(row.control_deadline, row.time_zone),
                    "deadline_short": short_time(row.control_deadline, row.time_zone),
                    "overdue": format_span(row.overdue_minutes(page.as_of), staff.language),
                    "window": short_time(row.window_start, row.time_zone)
                    if row.window_start
                    else None,
                    "last_call": short_time(row.last_call_at, row.time_zone)
                    if row.last_call_at
                    else None,
                    "mine": row.owner_id == actor.user_id,
                    "owners": [o for o in owners.get(row.territory_id, []) if o[0] != row.owner_id],
                    "today": page.as_of.astimezone(ZoneInfo(row.time_zone)).date().isoformat(),
                    "priority_label": st.get(f"priority.{row.priority}", row.priority),
                }
            )
        to_me = params.get("esc") != "all"
        esc = None if to_me else "all"
        esc_offset = params.get("esc_offset", "0")
        inbox = await escalation_inbox(
            db_session,
            actor,
            to_me=to_me,
            offset=int(esc_offset) if esc_offset.isdigit() and len(esc_offset) < 7 else 0,
        )
        follow_ups, follow_up_total = await open_follow_ups(db_session, actor)
        incidents, incident_total = await pending_incidents(db_session, actor)
        # The dialogs the page shows (a row's hold and hand-over only where they apply).
        shown = {(str(f.id), "resolve") for f in follow_ups} | {
            (str(i.id), "incident") for i in incidents
        }
        for row, item in zip(page.rows, rows, strict=True):
            shown |= {(str(row.id), "call"), (str(row.id), "escalate")}
            if row.status != "on_hold":
                shown.add((str(row.id), "hold"))
            if item["mine"] and item["owners"]:
                shown.add((str(row.id), "hand-over"))
        if refused is not None and (refused.target, refused.form) not in shown:
            # The row left the list meanwhile: the reason is said above the list instead.
            error, refused = " ".join(refused.errors.values()), None
        for name, zone in [
            *((g.territory_name, g.time_zone) for g in inbox.groups),
            *((f.territory_name, f.time_zone) for f in follow_ups),
            *((i.territory_name, i.time_zone) for i in incidents),
        ]:
            zones[name] = zone
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
                "here": _query(filters, esc=esc, offset=filters.offset),
                "mine_url": _query(WorkspaceFilters(True, filters.q, filters.sort), esc=esc),
                "all_url": _query(WorkspaceFilters(False, filters.q, filters.sort), esc=esc),
                "next_url": _query(filters, esc=esc, offset=page.next_offset)
                if page.next_offset
                else None,
                "first_url": _query(filters, esc=esc) if filters.offset else None,
                "zones": zone_legend(zones, page.as_of),
                "inbox": inbox,
                "to_me": to_me,
                "esc_me_url": _query(filters, offset=filters.offset),
                "esc_all_url": _query(filters, esc="all", offset=filters.offset),
                "esc_next_url": _query(
                    filters, esc=esc, offset=filters.offset, esc_offset=inbox.next_offset
                )
                if inbox.next_offset
                else None,
                "esc_page_ids": [
                    ",".join(str(i) for i in g.my_ids) for g in inbox.groups if g.acknowledgeable
                ],
                "esc_when": {
                    g.work_order_id: local_time(g.first_at, g.time_zone) for g in inbox.groups
                },
                "follow_ups": follow_ups,
                "follow_up_total": follow_up_total,
                "fu_due": {f.id: local_time(f.due_at, f.time_zone) for f in follow_ups},
                "incidents": incidents,
                "incident_total": incident_total,
                "inc_when": {i.id: local_time(i.occurred_at, i.time_zone) for i in incidents},
                "now": page.as_of,
                "notice": ct[f"notice.{notice}"].format(n=n) if notice else None,
                "error": error,
                "refused": refused,
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
        dialog: tuple[uuid.UUID, str] | None = None,
    ) -> Response[Any]:
        """Guard, run the action in a savepoint, and answer with the list or the reason.

        ``dialog`` (the row's id and the dialog's name) brings a refused dialog back open with
        what was typed and the reason next to its field.
        """
        if (refusal := staff.refusal(COORDINATE, data, PATH)) is not None:
            return refusal
        assert staff.session is not None
        ct = coord_texts(staff.language)
        back = data.get("back", PATH)
        params = dict(p.split("=", 1) for p in back.partition("?")[2].split("&") if "=" in p)
        try:
            async with db_session.begin_nested():
                n = await action(staff.session.actor)
        except NotFound:
            return staff.not_found()
        except Forbidden as exc:
            if exc.code != "not_addressed_to_you":
                return staff.not_for_role()
            errors, status = {"": ct["err.not_yours"]}, 403
        except PreconditionFailed:
            errors, status = {"": ct["err.changed"]}, 412
        except Conflict as exc:
            reason = ct["err.already_escalated"] if exc.code == "already_escalated" else None
            errors, status = {"": reason or ct["err.gone"]}, 409
        except (ValidationFailed, DomainError) as exc:
            inputs = DIALOGS[dialog[1]] if dialog else ()
            errors, status = field_errors(ct, exc, inputs, _INPUT_OF), 422
        else:
            return staff.redirect(_back(data, notice, n if isinstance(n, int) else None))
        refused = (
            Refused(
                target=str(dialog[0]),
                form=dialog[1],
                values={name: data.get(name, "")[: NOTE_MAX * 4] for name in DIALOGS[dialog[1]]},
                errors=errors,
            )
            if dialog
            else None
        )
        return await self._page(
            staff,
            db_session,
            params,
            error=None if refused else " ".join(errors.values()),
            refused=refused,
            status=status,
        )

    async def _with_note(
        self,
        request: Request[Any, Any, Any],
        staff: StaffRequest,
        db_session: DbSession,
        data: dict[str, str],
        order_id: uuid.UUID,
        step: Callable[[CoordinatorWorkspace, uuid.UUID, str], Awaitable[None]],
        notice: str,
        dialog: str | None = None,
    ) -> Response[Any]:
        """A row action that takes the order and the form's note (take it, escalate by hand)."""

        async def action(actor: Any) -> None:
            await step(CoordinatorWorkspace(db_session, actor), order_id, data.get("note", ""))

        return await self._act(
            request, staff, db_session, data, action, notice, (order_id, dialog) if dialog else None
        )

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
        return await self._with_note(
            request, staff, db_session, data, order_id, CoordinatorWorkspace.take, "taken"
        )

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
                raise ValidationFailed(
                    "Choose who takes the order",
                    errors=[FieldError(field="to", message="not a user id")],
                ) from exc
            await CoordinatorWorkspace(db_session, actor).hand_over(
                order_id, to, data.get("note", "")
            )

        return await self._act(
            request, staff, db_session, data, action, "handed_over", (order_id, "hand-over")
        )

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
                raise ValidationFailed(
                    "The promised date is not a date",
                    errors=[FieldError(field="promised", message="not a date")],
                ) from exc
            await CoordinatorWorkspace(db_session, actor).record_call(
                order_id, data.get("outcome", ""), promised, data.get("note", "")
            )

        return await self._act(
            request, staff, db_session, data, action, "called", (order_id, "call")
        )

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

        return await self._act(request, staff, db_session, data, action, "held", (order_id, "hold"))

    @post("/escalations/acknowledge", media_type=MediaType.HTML, status_code=303)
    async def acknowledge(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """Acknowledge the chosen escalations with one comment (only those addressed to me)."""
        form = await request.form()
        data = {k: str(form.get(k, "")) for k in ("csrf", "comment", "back", "scope")}
        # "All on this page" sends the page's acknowledgeable groups; otherwise the ticked ones.
        field = "page_id" if data["scope"] == "page" else "id"
        ids: list[uuid.UUID] = []
        for raw in form.getall(field) if field in form else []:
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

        return await self._act(
            request, staff, db_session, data, action, "resolved", (task_id, "resolve")
        )

    @post("/orders/{order_id:uuid}/escalate", media_type=MediaType.HTML, status_code=303)
    async def escalate(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Escalate the order to its territory's supervisors by hand, with a note."""
        return await self._with_note(
            request,
            staff,
            db_session,
            data,
            order_id,
            CoordinatorWorkspace.escalate,
            "escalated",
            "escalate",
        )

    @post("/incidents/{incident_id:uuid}/acknowledge", media_type=MediaType.HTML, status_code=303)
    async def acknowledge_incident(
        self,
        request: Request[Any, Any, Any],
        incident_id: FromPath[uuid.UUID],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Acknowledge a safety incident in place, saying what was done."""

        async def action(actor: Any) -> None:
            await IncidentService(db_session, actor).acknowledge(
                incident_id, data.get("comment", "")
            )

        return await self._act(
            request, staff, db_session, data, action, "incident", (incident_id, "incident")
        )
