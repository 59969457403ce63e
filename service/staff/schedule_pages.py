"""Pages of the dispatch console: schedule board, map and lateness inbox (cookie session).

Thin handlers over ``ScheduleBoardService``, ``DispatchMapService`` and
``LatenessInboxService``; the layout, session and refusals come from ``service.staff.web``.
The board and the inbox refresh themselves through small htmx-polled fragments; the board's
fragment answers 304 to a browser that already holds the current version (ETag).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from service.common.params import DbSession
from service.db.models import User
from service.db.models.visits import VISIT_STATUSES
from service.errors import Conflict, NotFound, ValidationFailed
from service.staff.lateness import LatenessInboxService
from service.staff.map import DispatchMapService
from service.staff.schedule import LIVE_STATUS_NAMES, ScheduleBoardService, View
from service.staff.schedule_layout import PLACEMENT_STEPS_PER_PERCENT
from service.staff.schedule_texts import dispatch_texts
from service.staff.texts import Language, all_texts, input_date, long_day, parse_date, short_day
from service.staff.web import DISPATCH, STAFF_PAGE_OPTIONS, Form, StaffDep, StaffRequest

# How often the pages ask for fresh data; the board's answer is usually a 304.
BOARD_POLL_SECONDS = 20
INBOX_POLL_SECONDS = 30
# Query values are short; anything longer is not a territory code or a date.
_MAX_PARAM = 40
_NOTICES = ("informed", "already_informed", "reassigned")
_ERRORS = ("no_candidate", "not_late", "changed")


class BadQuery(ValueError):
    """A query parameter of a page that cannot be what it claims to be."""


def _territory_param(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > _MAX_PARAM or not value.isprintable():
        raise BadQuery("territory")
    return value


def _day_param(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        if len(value) > _MAX_PARAM:
            raise ValueError(value)
        return parse_date(value)
    except ValueError as exc:
        raise BadQuery("day") from exc


def _view_param(value: str | None) -> View:
    if value in (None, "", "day"):
        return "day"
    if value == "week":
        return "week"
    raise BadQuery("view")


def script_json(text: str) -> str:
    """GeoJSON text safe inside a ``<script type="application/json">`` element.

    The three characters that could end the element or open markup are JSON-escaped; the
    template prints the result unescaped (``| safe``), as HTML entities would break the JSON.
    """
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clock(zone_key: str) -> Callable[[datetime], str]:
    zone = ZoneInfo(zone_key)
    return lambda value: value.astimezone(zone).strftime("%H:%M")


def _left_class(left: float) -> str:
    return f"pl-{round(left * PLACEMENT_STEPS_PER_PERCENT)}"


def map_headers(staff: StaffRequest, tile_url: str | None) -> dict[str, str]:
    """The page headers, letting images come from the tile server when one is configured."""
    headers = staff.headers()
    if tile_url:
        parts = urlsplit(tile_url)
        host = parts.netloc
        if "{s}" in host:  # {s}.tile.example: any subdomain of the tile host
            host = "*" + host[host.index("{s}") + 3 :]
        headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
            "img-src 'self' data:", f"img-src 'self' data: {parts.scheme}://{host}"
        )
    return headers


T = TypeVar("T")


class DispatchBoardPages(Controller):
    """Schedule board, map and lateness inbox of the dispatch console."""

    path = "/dispatch"
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    @get("/schedule", name="dispatch_schedule")
    async def schedule(
        self,
        staff: StaffDep,
        db_session: DbSession,
        territory: FromQuery[str | None] = None,
        day: FromQuery[str | None] = None,
        view: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The schedule board: technicians x hours of a day (or days of a week)."""
        query = _opened(staff, lambda: _board_query(territory, day, view))
        if isinstance(query, Response):
            return query
        assert staff.session is not None
        code, when, shown = query
        service = ScheduleBoardService(db_session, staff.session.actor)
        try:
            board = await service.board(code, when, shown)
            version = await service.version(code, when, shown)
        except NotFound:
            return staff.not_found()
        context = await _page_context(staff, db_session)

        def link(target: date | None) -> str:
            query = {"territory": board.territory.code, "view": board.view}
            if target is not None:
                query["day"] = target.isoformat()
            return f"/dispatch/schedule?{urlencode(query)}"

        return staff.page(
            "staff/schedule.html.j2",
            {**context, **_board_context(board, version), "link": link},
        )

    @get("/schedule/fragment", name="dispatch_schedule_fragment")
    async def schedule_fragment(
        self,
        request: Request[Any, Any, Any],
        staff: StaffDep,
        db_session: DbSession,
        territory: FromQuery[str | None] = None,
        day: FromQuery[str | None] = None,
        view: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The board's grid, re-rendered only when its version changed (else 304)."""
        query = _opened(staff, lambda: _board_query(territory, day, view), fragment=True)
        if isinstance(query, Response):
            return query
        assert staff.session is not None
        code, when, shown = query
        service = ScheduleBoardService(db_session, staff.session.actor)
        try:
            version = await service.version(code, when, shown)
            etag = f'"{version}"'
            cache = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie"}
            if etag in _etags(request.headers.get("if-none-match")):
                return Response(
                    b"",
                    status_code=304,
                    headers=cache,
                    cookies=staff.cookies,
                    media_type=MediaType.HTML,
                )
            board = await service.board(code, when, shown)
        except NotFound:
            return Response(b"", status_code=404, media_type=MediaType.HTML)
        template = staff.page(
            "staff/_schedule_grid.html.j2",
            {
                "dt": dispatch_texts(staff.language),
                **_date_helpers(staff.language),
                **_board_context(board, version),
            },
        )
        template.headers.update(cache)
        return template

    @get("/map", name="dispatch_map")
    async def map_page(
        self,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
        territory: FromQuery[str | None] = None,
        day: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The territory map: outlines, the day's sites, technicians' last positions."""
        query = _opened(staff, lambda: (_territory_param(territory), _day_param(day)))
        if isinstance(query, Response):
            return query
        assert staff.session is not None
        code, when = query
        try:
            layers = await DispatchMapService(db_session, staff.session.actor).layers(code, when)
        except NotFound:
            return staff.not_found()
        tile_url = state.settings.map.tile_url
        page = staff.page(
            "staff/map.html.j2",
            {
                **await _page_context(staff, db_session),
                "layers": layers,
                "territories": layers.territories,
                "outlines_json": script_json(layers.outlines),
                "sites_json": script_json(layers.sites),
                "technicians_json": script_json(layers.technicians),
                "tile_url": tile_url,
                "tile_attribution": state.settings.map.tile_attribution,
                "statuses": VISIT_STATUSES,
            },
        )
        page.headers.update(map_headers(staff, tile_url))
        return page

    @get("/lateness", name="dispatch_lateness")
    async def lateness(
        self,
        staff: StaffDep,
        db_session: DbSession,
        territory: FromQuery[str | None] = None,
        notice: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Today's lateness alerts with the customer's phone and the two answers."""
        code = _opened(staff, lambda: _territory_param(territory))
        if isinstance(code, Response):
            return code
        assert staff.session is not None
        try:
            inbox = await LatenessInboxService(db_session, staff.session.actor).inbox(code)
        except NotFound:
            return staff.not_found()
        texts = dispatch_texts(staff.language)
        return staff.page(
            "staff/lateness.html.j2",
            {
                **await _page_context(staff, db_session),
                **_inbox_context(inbox, staff),
                "notice": texts[f"notice_{notice}"] if notice in _NOTICES else None,
                "error": texts[f"error_{error}"] if error in _ERRORS else None,
            },
        )

    @get("/lateness/fragment", name="dispatch_lateness_fragment")
    async def lateness_fragment(
        self, staff: StaffDep, db_session: DbSession, territory: FromQuery[str | None] = None
    ) -> Response[Any]:
        """The inbox list, for the page's polling."""
        code = _opened(staff, lambda: _territory_param(territory), fragment=True)
        if isinstance(code, Response):
            return code
        assert staff.session is not None
        try:
            inbox = await LatenessInboxService(db_session, staff.session.actor).inbox(code)
        except NotFound:
            return Response(b"", status_code=404, media_type=MediaType.HTML)
        return staff.page(
            "staff/_lateness_list.html.j2",
            {
                "dt": dispatch_texts(staff.language),
                "csrf": staff.csrf,
                **_inbox_context(inbox, staff),
            },
        )

    @post("/lateness/{visit_id:uuid}/informed", name="dispatch_lateness_informed", status_code=303)
    async def customer_informed(
        self, staff: StaffDep, db_session: DbSession, visit_id: FromPath[uuid.UUID], data: Form
    ) -> Response[Any]:
        """Record that the desk told the customer the visit runs late."""
        refused = _gate(staff, data)
        if refused is not None:
            return refused
        assert staff.session is not None
        back = _inbox_url(data.get("territory"))
        try:
            recorded = await LatenessInboxService(
                db_session, staff.session.actor
            ).customer_informed(visit_id)
        except NotFound:
            return staff.not_found()
        except Conflict:
            return staff.redirect(_with(back, error="not_late"))
        return staff.redirect(_with(back, notice="informed" if recorded else "already_informed"))

    @post("/lateness/{visit_id:uuid}/reassign", name="dispatch_lateness_reassign", status_code=303)
    async def reassign(
        self, staff: StaffDep, db_session: DbSession, visit_id: FromPath[uuid.UUID], data: Form
    ) -> Response[Any]:
        """Give the late visit to the best free technician for the same window."""
        refused = _gate(staff, data)
        if refused is not None:
            return refused
        assert staff.session is not None
        back = _inbox_url(data.get("territory"))
        try:
            await LatenessInboxService(db_session, staff.session.actor).reassign(visit_id)
        except NotFound:
            return staff.not_found()
        except ValidationFailed:
            return staff.redirect(_with(back, error="no_candidate"))
        except Conflict as exc:
            code = "not_late" if getattr(exc, "code", None) == "not_late" else "changed"
            return staff.redirect(_with(back, error=code))
        return staff.redirect(_with(back, notice="reassigned"))


def _gate(staff: StaffRequest, form: dict[str, str] | None = None) -> Response[Any] | None:
    """The login for anonymous callers, a page for other roles, a refusal for a forged form."""
    # A posted form returns to the inbox it was on (its address cannot be reloaded).
    return staff.refusal(
        DISPATCH, form, _inbox_url(form.get("territory")) if form is not None else None
    )


def _opened(
    staff: StaffRequest, parse: Callable[[], T], *, fragment: bool = False
) -> T | Response[Any]:
    """A read's gate, then its query parsed; a refusal or a bad query is the answer instead.

    A page answers with the sign-in, a page for other roles or a 400 page naming the bad
    parameter; a fragment (polled by htmx) with the bare status.
    """
    if fragment:
        if staff.session is None:
            return staff.fragment_unauthorized()
        if staff.role not in DISPATCH.roles:
            return Response(b"", status_code=403, media_type=MediaType.HTML)
    else:
        refused = _gate(staff)
        if refused is not None:
            return refused
    try:
        return parse()
    except BadQuery as exc:
        if fragment:
            return Response(b"", status_code=400, media_type=MediaType.HTML)
        return _bad_query(staff, str(exc))


def _board_query(
    territory: str | None, day: str | None, view: str | None
) -> tuple[str | None, date | None, View]:
    return _territory_param(territory), _day_param(day), _view_param(view)


def _bad_query(staff: StaffRequest, name: str) -> Template:
    texts = dispatch_texts(staff.language)
    page = staff.message_page("not_found_title", "not_found", 400)
    page.context["message"] = texts["bad_query"].format(name=name)
    return page


async def _page_context(staff: StaffRequest, db_session: DbSession) -> dict[str, Any]:
    assert staff.session is not None
    user = await db_session.get(User, staff.session.actor.user_id)
    return {
        **staff.layout(DISPATCH, user.full_name if user else ""),
        "dt": dispatch_texts(staff.language),
        **_date_helpers(staff.language),
    }


def _date_helpers(language: Language) -> dict[str, Any]:
    """Date formatting in the page's language, for the templates."""
    return {
        "input_date": lambda value: input_date(value, language),
        "long_day": lambda value: long_day(value, language),
        "short_day": lambda value: short_day(date.fromisoformat(value), language),
        "date_placeholder": all_texts(language)["date_placeholder"],
    }


def _board_context(board: Any, version: str) -> dict[str, Any]:
    query = {"territory": board.territory.code, "day": board.day.isoformat(), "view": board.view}
    return {
        "board": board,
        "territories": board.territories,
        "version": version,
        "fragment_url": f"/dispatch/schedule/fragment?{urlencode(query)}",
        "poll_seconds": BOARD_POLL_SECONDS,
        "local_hm": _clock(board.territory.time_zone),
        "span_at": _left_class,
        "live_statuses": LIVE_STATUS_NAMES,
    }


def _inbox_context(inbox: Any, staff: StaffRequest) -> dict[str, Any]:
    query = urlencode({"territory": inbox.territory.code})
    return {
        "inbox": inbox,
        "territories": inbox.territories,
        "fragment_url": f"/dispatch/lateness/fragment?{query}",
        "poll_seconds": INBOX_POLL_SECONDS,
        "local_hm": _clock(inbox.territory.time_zone),
    }


def _inbox_url(territory: str | None) -> str:
    code = territory if territory and len(territory) <= _MAX_PARAM else None
    return "/dispatch/lateness" + (f"?{urlencode({'territory': code})}" if code else "")


def _with(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


__all__ = ["DispatchBoardPages", "map_headers", "script_json"]
