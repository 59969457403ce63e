"""The coordinator board (/board): server-rendered pages over a cookie session.

The /board paths are outside the bearer-token middleware; the shared staff session
(``service.staff.web``) resumes the cookie session instead, and every handler sends an
anonymous caller to the sign-in.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from service.board.texts import all_texts
from service.board.view import BoardPageService, BoardQuery
from service.common.params import DbSession
from service.db.standby import Standby
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.escalations.services import EscalationService
from service.incidents.services import IncidentService
from service.staff.session import ResumedSession
from service.staff.web import BOARD, STAFF_PAGE_OPTIONS, Form, StaffDep, StaffRequest

_AckKind = Literal["escalation", "incident"]


@dataclass(frozen=True, slots=True)
class _AckTexts:
    """What differs between the board's acknowledge forms (escalations, incidents)."""

    text_prefix: str  # "incident_" for the incident form's own "comment required" text
    done_notice: str
    gone_notice: str


_ACK_TEXTS: dict[_AckKind, _AckTexts] = {
    "escalation": _AckTexts("", "acknowledged", "escalation_gone"),
    "incident": _AckTexts("incident_", "incident_acknowledged", "incident_gone"),
}


@dataclass(frozen=True, slots=True)
class _AckForm:
    """The acknowledge form posted: of which kind, for which escalation or incident."""

    kind: _AckKind
    target_id: uuid.UUID

    @property
    def texts(self) -> _AckTexts:
        """The error and notice names of the form's kind."""
        return _ACK_TEXTS[self.kind]


NOTICES = frozenset({"acknowledged", "escalation_gone", "incident_acknowledged", "incident_gone"})
# The board's handlers name the staff request "board".
BoardDep = StaffDep
LOGIN_URL = "/board/login"


def _page(board: StaffRequest, context: dict[str, Any], status: int = 200) -> Template:
    """The board page in the shared staff layout (the board's own context wins)."""
    layout = board.layout(BOARD, context.get("user_name", ""))
    return board.page("board/page.html.j2", {**layout, **context, "csrf": board.csrf}, status)


def _login_url(board: StaffRequest, *, form: bool) -> str:
    """The board's sign-in (it returns to the board), saying so when the session ended."""
    if not board.expired:
        return LOGIN_URL
    return f"{LOGIN_URL}?{urlencode({'expired': 'form' if form else 'page'})}"


def _back_url(back: str | None, notice: str | None = None) -> str:
    """The board with the filters a form was posted from (rebuilt, so never off-site)."""
    query = BoardQuery.parse(dict(parse_qsl(back or "")))
    params = query.params(cursor=None) | ({"notice": notice} if notice else {})
    return BoardQuery().url(**params)


class BoardPageController(Controller):
    """The coordinator board: safety incidents, overdue orders, KPIs and escalations."""

    path = "/board"
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = {"board": STAFF_PAGE_OPTIONS["dependencies"]["staff"]}
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    @get("/", media_type=MediaType.HTML)
    async def page(
        self,
        request: Request[Any, Any, Any],
        board: BoardDep,
        db_session: DbSession,
        standby: Standby,
    ) -> Response[Any]:
        """The board page."""
        if board.session is None:
            return board.redirect(_login_url(board, form=False))
        notice = request.query_params.get("notice")
        context = await BoardPageService(db_session, board.session.actor, standby).context(
            BoardQuery.parse(request.query_params),
            board.language,
            notice=notice if notice in NOTICES else None,
        )
        return _page(board, context)

    @get("/fragment", media_type=MediaType.HTML)
    async def fragment(
        self,
        request: Request[Any, Any, Any],
        board: BoardDep,
        db_session: DbSession,
        standby: Standby,
    ) -> Response[Any]:
        """The board's content alone, for the page's self-refresh."""
        if board.session is None:
            return Response(b"", status_code=401, cookies=board.cookies, media_type=MediaType.HTML)
        context = await BoardPageService(db_session, board.session.actor, standby).context(
            BoardQuery.parse(request.query_params), board.language
        )
        return board.page("board/content.html.j2", {**context, "csrf": board.csrf})

    @post(
        "/escalations/{escalation_id:uuid}/acknowledge", media_type=MediaType.HTML, status_code=303
    )
    async def acknowledge(
        self,
        escalation_id: FromPath[uuid.UUID],
        data: Form,
        board: BoardDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Acknowledge an escalation with a comment; errors come back next to its form."""
        if board.session is None:
            return board.redirect(_login_url(board, form=True))
        service = EscalationService(db_session, board.session.actor)
        return await self._acknowledge(
            board,
            board.session,
            db_session,
            data,
            lambda comment: service.acknowledge(escalation_id, comment),
            _AckForm("escalation", escalation_id),
        )

    @post("/incidents/{incident_id:uuid}/acknowledge", media_type=MediaType.HTML, status_code=303)
    async def acknowledge_incident(
        self,
        incident_id: FromPath[uuid.UUID],
        data: Form,
        board: BoardDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """Acknowledge a safety incident with a comment; errors come back next to its form."""
        if board.session is None:
            return board.redirect(_login_url(board, form=True))
        service = IncidentService(db_session, board.session.actor)
        return await self._acknowledge(
            board,
            board.session,
            db_session,
            data,
            lambda comment: service.acknowledge(incident_id, comment),
            _AckForm("incident", incident_id),
        )

    async def _acknowledge(
        self,
        board: BoardDep,
        session: ResumedSession,
        db_session: DbSession,
        data: dict[str, str],
        acknowledge: Callable[[str], Awaitable[object]],
        form: _AckForm,
    ) -> Response[Any]:
        """One acknowledge form: CSRF, a required comment, then back to the board or its error."""
        if not board.csrf_ok(data.get("csrf")):
            return self._refused(board)
        comment = data.get("comment", "")
        back = data.get("back")
        error, status = f"{form.texts.text_prefix}comment_required", 422
        if comment.strip():
            try:
                # A savepoint: whatever the service flushed before refusing is undone.
                async with db_session.begin_nested():
                    await acknowledge(comment)
                return board.redirect(_back_url(back, form.texts.done_notice))
            except (NotFound, Conflict):
                return board.redirect(_back_url(back, form.texts.gone_notice))
            except ValidationFailed as exc:
                if exc.code == "comment_too_long":
                    error = "comment_too_long"
            except Forbidden as exc:
                if exc.code != "not_addressed_to_you":
                    return self._refused(board)
                # Another role's escalation: said next to its form, nothing written.
                error, status = "ack_not_yours", 403
        refused = (form.target_id, error, comment)
        context = await BoardPageService(db_session, session.actor).context(
            BoardQuery.parse(dict(parse_qsl(back or ""))),
            board.language,
            ack_error=refused if form.kind == "escalation" else None,
            incident_error=refused if form.kind == "incident" else None,
        )
        return _page(board, context, status)

    @staticmethod
    def _refused(board: BoardDep) -> Template:
        """A form without this session's CSRF token: nothing is done."""
        return board.page(
            "board/refused.html.j2",
            {"lang": board.language, "t": all_texts(board.language)},
            status=403,
        )
