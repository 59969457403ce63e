"""The coordinator board (/board): server-rendered pages over a cookie session.

The /board paths are outside the bearer-token middleware; ``provide_board`` resumes the
cookie session instead (see ``board_session``) and every handler answers an anonymous
caller with the login page.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from service.auth.throttle import LoginThrottleDep
from service.board.session import (
    ACCESS_COOKIE,
    BOARD_PATH,
    LANGUAGE_COOKIE,
    LOGIN_COOKIE,
    REFRESH_COOKIE,
    SEED_COOKIE,
    BoardSessionService,
    ResumedSession,
    Superseded,
    cleared_cookies,
    csrf_token,
    csrf_valid,
    expired_cookie,
    language_cookie,
    login_cookie,
    login_form_token,
    login_form_valid,
    new_nonce,
    session_cookies,
)
from service.board.texts import (
    LANGUAGE_NAMES,
    LANGUAGES,
    BoardLanguage,
    all_texts,
    pick_language,
)
from service.board.view import BoardPageService, BoardQuery
from service.common.page_security import new_page_nonce, page_headers
from service.common.params import DbSession
from service.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from service.escalations.services import EscalationService
from service.incidents.services import IncidentService
from service.settings import AuthSettings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


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
# Values of the login form are bounded like the JSON login's, so nothing oversized reaches it.
_FIELD_MAX = {"username": 64, "password": 256}


@dataclass
class BoardRequest:
    """One board request: the resumed session (None: logged out), language and cookies to set."""

    session: ResumedSession | None
    language: BoardLanguage
    secure: bool
    auth: AuthSettings
    cookies: list[Cookie] = field(default_factory=list)
    nonce: str = field(default_factory=new_page_nonce)

    @property
    def csrf(self) -> str:
        """The CSRF token this session's forms carry."""
        assert self.session is not None
        return csrf_token(self.auth, self.session.actor.user_id, self.session.seed)

    def headers(self) -> dict[str, str]:
        """No caching, no framing, and only this response's inline script and style."""
        return page_headers(self.nonce, referrer_policy="same-origin")

    def page(self, name: str, context: dict[str, Any], status: int = 200) -> Template:
        """A rendered template with the session's cookies and the page headers."""
        return Template(
            name,
            context={**context, "nonce": self.nonce},
            status_code=status,
            cookies=self.cookies,
            headers=self.headers(),
            media_type=MediaType.HTML,
        )

    def redirect(self, url: str) -> Redirect:
        """A 303 See Other (after a POST, the browser follows with GET)."""
        return Redirect(
            url, status_code=303, cookies=self.cookies, headers={"Cache-Control": "no-store"}
        )

    def login_page(
        self, *, error: str | None = None, username: str = "", status: int = 200
    ) -> Template:
        """The login form with a fresh form token bound to a nonce cookie."""
        nonce = new_nonce()
        self.cookies.append(login_cookie(nonce, secure=self.secure))
        return self.page(
            "board/login.html.j2",
            {
                "lang": self.language,
                "t": all_texts(self.language),
                "languages": [
                    {
                        "code": c,
                        "name": LANGUAGE_NAMES[c],
                        "url": f"/board/login?lang={c}",
                        "current": c == self.language,
                    }
                    for c in LANGUAGES
                ],
                "form_token": login_form_token(self.auth, nonce),
                "error": all_texts(self.language)[error] if error else None,
                "username": username,
            },
            status,
        )


BoardDep = NamedDependency[BoardRequest]


class RetryWithNewCookies(Exception):
    """The browser's refresh token was just rotated by a concurrent request of its own."""


def _retry(request: Request[Any, Any, Any], _: RetryWithNewCookies) -> Response[Any]:
    """Have the browser repeat the request with the cookies the winning request set.

    No cookie is set or cleared: clearing them would also drop the winner's fresh tokens.
    """
    headers = {"Cache-Control": "no-store"}
    if request.url.path == f"{BOARD_PATH}/fragment":
        # The page's self-refresh skips a non-OK answer and tries again on its next tick.
        return Response(b"", status_code=409, headers=headers, media_type=MediaType.HTML)
    query = request.url.query
    # 307, not 303: a form's method and body are kept, so an acknowledgement is not lost.
    return Redirect(
        request.url.path + (f"?{query}" if query else ""), status_code=307, headers=headers
    )


async def provide_board(
    request: Request[Any, Any, Any], db_session: DbSession, state: State
) -> BoardRequest:
    """Resume the cookie session (rotating an expired access token) and pick the language."""
    settings: AuthSettings = state.settings.auth
    cookies = request.cookies
    # Secure when served over https, or when the public address is (behind a TLS proxy the
    # request may arrive as plain http): the cookies carry the session's tokens.
    public_https = state.settings.server.public_base_url.startswith("https://")
    secure = public_https or request.url.scheme == "https"
    asked = request.query_params.get("lang")
    language = pick_language(
        asked, cookies.get(LANGUAGE_COOKIE), accept_language=request.headers.get("accept-language")
    )
    session = await BoardSessionService(db_session, settings).resume(
        cookies.get(ACCESS_COOKIE), cookies.get(REFRESH_COOKIE), cookies.get(SEED_COOKIE)
    )
    if isinstance(session, Superseded):
        raise RetryWithNewCookies
    board = BoardRequest(session=session, language=language, secure=secure, auth=settings)
    if session is not None and session.rotated is not None:
        board.cookies.extend(
            session_cookies(session.rotated, session.seed, settings, secure=secure)
        )
    elif session is None and any(
        k in cookies for k in (ACCESS_COOKIE, REFRESH_COOKIE, SEED_COOKIE)
    ):
        board.cookies.extend(cleared_cookies(secure=secure))
    if asked in LANGUAGES:
        board.cookies.append(language_cookie(language, secure=secure))
    return board


def _back_url(back: str | None, notice: str | None = None) -> str:
    """The board with the filters a form was posted from (rebuilt, so never off-site)."""
    query = BoardQuery.parse(dict(parse_qsl(back or "")))
    params = query.params(cursor=None) | ({"notice": notice} if notice else {})
    return BoardQuery().url(**params)


class BoardPageController(Controller):
    """The coordinator board: safety incidents, overdue orders, KPIs and escalations."""

    path = "/board"
    include_in_schema = False
    opt = {"exclude_from_auth": True}
    dependencies = {"board": Provide(provide_board)}
    exception_handlers = {RetryWithNewCookies: _retry}

    @get("/login", media_type=MediaType.HTML)
    async def login_form(self, board: BoardDep) -> Response[Any]:
        """The sign-in form (a signed-in caller goes straight to the board)."""
        if board.session is not None:
            return board.redirect("/board")
        return board.login_page()

    @post("/login", media_type=MediaType.HTML, status_code=303)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        board: BoardDep,
        db_session: DbSession,
        login_throttle: LoginThrottleDep,
    ) -> Response[Any]:
        """Check the credentials and open a cookie session; the form comes back on failure."""
        board.language = pick_language(data.get("language"), board.language)
        username = data.get("username", "").strip()[: _FIELD_MAX["username"]]
        password = data.get("password", "")[: _FIELD_MAX["password"]]
        if not login_form_valid(
            board.auth, request.cookies.get(LOGIN_COOKIE), data.get("form_token")
        ):
            return board.login_page(error="form_expired", username=username, status=403)
        if not username or not password:
            return board.login_page(error="wrong_credentials", username=username, status=401)
        try:
            started = await BoardSessionService(db_session, board.auth, login_throttle).login(
                username, password
            )
        except TooManyRequests as refused:
            page = board.login_page(error="too_many_attempts", username=username, status=429)
            page.headers["Retry-After"] = str(refused.retry_after)
            return page
        except Unauthorized:
            return board.login_page(error="wrong_credentials", username=username, status=401)
        except Forbidden:
            return board.login_page(error="role_refused", username=username, status=403)
        board.cookies = [
            *session_cookies(started.tokens, started.seed, board.auth, secure=board.secure),
            language_cookie(board.language, secure=board.secure),
            expired_cookie(LOGIN_COOKIE, secure=board.secure),
        ]
        return board.redirect("/board")

    @post("/logout", media_type=MediaType.HTML, status_code=303)
    async def logout(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        board: BoardDep,
        db_session: DbSession,
    ) -> Response[Any]:
        """End the session: the refresh token family is revoked and the cookies cleared."""
        if board.session is not None:
            if not csrf_valid(board.auth, board.session, data.get("csrf")):
                return self._refused(board)
            await BoardSessionService(db_session, board.auth).logout(
                request.cookies.get(REFRESH_COOKIE)
            )
        board.cookies = cleared_cookies(secure=board.secure)
        return board.redirect("/board/login")

    @get("/", media_type=MediaType.HTML)
    async def page(
        self, request: Request[Any, Any, Any], board: BoardDep, db_session: DbSession
    ) -> Response[Any]:
        """The board page."""
        if board.session is None:
            return board.redirect("/board/login")
        notice = request.query_params.get("notice")
        context = await BoardPageService(db_session, board.session.actor).context(
            BoardQuery.parse(request.query_params),
            board.language,
            notice=notice if notice in NOTICES else None,
        )
        return board.page("board/page.html.j2", {**context, "csrf": board.csrf})

    @get("/fragment", media_type=MediaType.HTML)
    async def fragment(
        self, request: Request[Any, Any, Any], board: BoardDep, db_session: DbSession
    ) -> Response[Any]:
        """The board's content alone, for the page's self-refresh."""
        if board.session is None:
            return Response(b"", status_code=401, cookies=board.cookies, media_type=MediaType.HTML)
        context = await BoardPageService(db_session, board.session.actor).context(
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
            return board.redirect("/board/login")
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
            return board.redirect("/board/login")
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
        if not csrf_valid(board.auth, session, data.get("csrf")):
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
            except Forbidden:
                return self._refused(board)
        refused = (form.target_id, error, comment)
        context = await BoardPageService(db_session, session.actor).context(
            BoardQuery.parse(dict(parse_qsl(back or ""))),
            board.language,
            ack_error=refused if form.kind == "escalation" else None,
            incident_error=refused if form.kind == "incident" else None,
        )
        return board.page("board/page.html.j2", {**context, "csrf": board.csrf}, status)

    @staticmethod
    def _refused(board: BoardDep) -> Template:
        """A form without this session's CSRF token: nothing is done."""
        return board.page(
            "board/refused.html.j2",
            {"lang": board.language, "t": all_texts(board.language)},
            status=403,
        )
