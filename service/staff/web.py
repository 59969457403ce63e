"""What every staff page shares: the cookie session per request, the layout, sign-in and out.

Staff pages (``/board``, ``/dispatch``) are outside the bearer-token middleware; each page
controller depends on ``provide_staff``, which resumes the cookie session (see ``session``)
and picks the language. Anonymous callers are sent to the shared sign-in at ``/staff/login``,
which returns them to the page they wanted (or their role's home); a signed-in caller whose
role a section is not for gets a page saying so, never JSON.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from service.auth.throttle import LoginThrottleDep
from service.common.actor import Role
from service.common.i18n import pick_language
from service.common.page_security import new_page_nonce, page_headers
from service.common.params import DbSession
from service.errors import DomainError, Forbidden, TooManyRequests, Unauthorized
from service.settings import AuthSettings, MapSettings
from service.staff.session import (
    ACCESS_COOKIE,
    LANGUAGE_COOKIE,
    LOGIN_COOKIE,
    REFRESH_COOKIE,
    SEED_COOKIE,
    ResumedSession,
    StaffSessionService,
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
from service.staff.texts import LANGUAGE_NAMES, LANGUAGES, Language, all_texts

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def field_errors(
    texts: Mapping[str, str],
    exc: DomainError,
    inputs: Collection[str] = (),
    renamed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A refused form's reasons in the reader's language, keyed by the input each is about.

    A field error reads as the page's ``err.field.<field>`` text, else as ``err.input`` with the
    service's words. Its key is the form's input (``renamed`` maps a service's field name to the
    input's) when that is one of ``inputs``, else ``""``: the whole form.
    """
    found: dict[str, str] = {}
    for error in exc.errors or []:
        name = (renamed or {}).get(error.field, error.field)
        text = texts.get(f"err.field.{error.field}") or texts["err.input"].format(
            detail=f"{error.field}: {error.message}"
        )
        key = name if name in inputs else ""
        found[key] = f"{found[key]} {text}" if key in found and text not in found[key] else text
    return found or {"": texts["err.input"].format(detail=str(exc))}


LOGIN_PATH = "/staff/login"
LOGOUT_PATH = "/staff/logout"
# The board's own sign-in address from before the shared one; bookmarks keep working.
BOARD_LOGIN_PATH = "/board/login"
# Values of the login form are bounded like the JSON login's, so nothing oversized reaches it.
_FIELD_MAX = {"username": 64, "password": 256, "next": 512}


@dataclass(frozen=True, slots=True)
class StaffArea:
    """One section of the staff pages: where it lives and which roles may open it."""

    code: str
    path: str
    roles: frozenset[Role]
    label_key: str


DISPATCH = StaffArea(
    "dispatch",
    "/dispatch",
    frozenset({Role.DISPATCHER, Role.COORDINATOR, Role.ADMIN}),
    "nav_dispatch",
)
BOARD = StaffArea(
    "board",
    "/board",
    frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN}),
    "nav_board",
)
COORDINATE = StaffArea(
    "coordinate",
    "/coordinate",
    frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN}),
    "nav_coordinate",
)
# Dispatchers take customers' complaints on the phone: they register and read appeals and add
# notes (as the API lets them); working one (owner, decision, measures, answer) is not theirs.
APPEALS = StaffArea(
    "appeals",
    "/coordinate/appeals",
    frozenset({Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN}),
    "nav_appeals",
)
# The navigation, in order; a role sees the sections it may open.
STAFF_AREAS: tuple[StaffArea, ...] = (DISPATCH, COORDINATE, BOARD, APPEALS)
# Where a role lands after signing in when it was not on its way somewhere.
ROLE_HOME: dict[Role, StaffArea] = {
    Role.DISPATCHER: DISPATCH,
    Role.ADMIN: DISPATCH,
    Role.COORDINATOR: COORDINATE,
    Role.SUPERVISOR: COORDINATE,
}


def area_of(path: str) -> StaffArea | None:
    """The section a local path belongs to (the deepest: appeals live under /coordinate)."""
    inside = [a for a in STAFF_AREAS if path == a.path or path.startswith(a.path + "/")]
    return max(inside, key=lambda a: len(a.path), default=None)


def safe_next(candidate: str | None, role: Role | None = None) -> str | None:
    """A local path of a staff section (and, given a role, one it may open); else None.

    Only paths are accepted, never a scheme or host (``//evil``, ``/\\evil``), so the sign-in
    cannot be used to send someone off-site.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return None
    if "\\" in candidate or any(ord(c) < 32 for c in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    area = area_of(parts.path)
    if area is None or (role is not None and role not in area.roles):
        return None
    if parts.path.rstrip("/") in (LOGIN_PATH, BOARD_LOGIN_PATH):
        return None
    return candidate


# Why the sign-in is shown again (``?expired=``): the session ended while a page was open, or
# while a form was being filled in (what was typed is lost). Each has its message.
EXPIRED_MESSAGES = {"page": "session_ended", "form": "session_expired"}


def login_url(next_path: str | None = None, expired: str | None = None) -> str:
    """The shared sign-in, returning to ``next_path`` afterwards, saying why when ``expired``."""
    params = {
        **({"next": next_path} if next_path else {}),
        **({"expired": expired} if expired in EXPIRED_MESSAGES else {}),
    }
    return f"{LOGIN_PATH}?{urlencode(params)}" if params else LOGIN_PATH


@dataclass
class StaffRequest:
    """One staff page request: the session (None: logged out), language and cookies to set."""

    session: ResumedSession | None
    language: Language
    secure: bool
    auth: AuthSettings
    path: str
    query: str
    cookies: list[Cookie] = field(default_factory=list)
    nonce: str = field(default_factory=new_page_nonce)
    # Origins of signed blob URLs the page shows as images (photos), allowed by its CSP.
    image_origins: list[str] = field(default_factory=list)
    # Map tiles, when the operator configured a tile server (maps are plain ground otherwise).
    map: MapSettings = field(default_factory=MapSettings)
    # The browser came with a session that ended (expired or revoked), not as a stranger.
    expired: bool = False

    @property
    def csrf(self) -> str:
        """The CSRF token this session's forms carry."""
        assert self.session is not None
        return csrf_token(self.auth, self.session.actor.user_id, self.session.seed)

    @property
    def role(self) -> Role | None:
        """The signed-in caller's role."""
        return self.session.actor.role if self.session is not None else None

    def csrf_ok(self, presented: str | None) -> bool:
        """Whether a posted form carries this session's CSRF token."""
        return self.session is not None and csrf_valid(self.auth, self.session, presented)

    def headers(self) -> dict[str, str]:
        """No caching, no framing, and only this response's nonce-tagged script and style."""
        return page_headers(
            self.nonce, referrer_policy="same-origin", image_origins=tuple(self.image_origins)
        )

    def layout(
        self, area: StaffArea | None, user_name: str = "", here: str | None = None
    ) -> dict[str, Any]:
        """What the shared layout shows: navigation for the role, languages, who is signed in.

        ``here``: the page the language links reload (a form's answer names its page, since
        the posted address itself cannot be reloaded).
        """
        here = here or self.path + (f"?{self.query}" if self.query else "")
        role = self.role
        texts = all_texts(self.language)
        return {
            "lang": self.language,
            "st": texts,
            "nonce": self.nonce,
            "csrf": self.csrf if self.session is not None else "",
            "user_name": user_name,
            "role": role.value if role is not None else "",
            "nav": [
                {
                    "code": a.code,
                    "label": texts[a.label_key],
                    "url": a.path,
                    "current": a is area,
                }
                for a in STAFF_AREAS
                if role is not None and role in a.roles
            ],
            "languages": [
                {
                    "code": code,
                    "name": LANGUAGE_NAMES[code],
                    "url": _with_language(here, code),
                    "current": code == self.language,
                }
                for code in LANGUAGES
            ],
        }

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

    def refusal(
        self,
        area: StaffArea,
        form: Mapping[str, str] | None = None,
        form_page: str | None = None,
        roles: Collection[Role] | None = None,
    ) -> Response[Any] | None:
        """Why a page or a posted ``form`` is not served, before anything is read or written.

        Anonymous: the sign-in (a posted form's returns to ``form_page``, the page it was on);
        a role the ``area`` (or the action's ``roles``) is not for: 403; a forged form: 403.
        """
        if self.session is None:
            return self.to_login(form_page) if form is not None else self.to_login()
        if self.role not in area.roles or (roles is not None and self.role not in roles):
            return self.not_for_role()
        if form is not None and not self.csrf_ok(form.get("csrf")):
            return self.csrf_refused()
        return None

    def to_login(self, form_page: str | None = None) -> Response[Any]:
        """Send an anonymous caller to the sign-in, coming back here afterwards.

        ``form_page``: a form was posted, and this is the page it was on (the posted address
        cannot be reloaded); the sign-in returns there. When the caller's session ended on
        its own, the sign-in says so. Fragments answer ``fragment_unauthorized`` instead, so
        the page keeps what was typed.
        """
        here = form_page or self.path + (f"?{self.query}" if self.query else "")
        why = ("form" if form_page is not None else "page") if self.expired else None
        return self.redirect(login_url(here, why))

    def fragment_unauthorized(self) -> Response[Any]:
        """A fragment asked for without a session: 401, the page keeps its form."""
        return Response(
            b"",
            status_code=401,
            cookies=self.cookies,
            headers={"Cache-Control": "no-store"},
            media_type=MediaType.HTML,
        )

    def message_page(self, title_key: str, message_key: str, status: int) -> Template:
        """A short page saying why nothing is shown, with a link to the caller's home."""
        home = ROLE_HOME.get(self.role) if self.role is not None else None
        return self.page(
            "staff/message.html.j2",
            {
                **self.layout(None),
                "title": all_texts(self.language)[title_key],
                "message": all_texts(self.language)[message_key],
                "home_url": home.path if home else LOGIN_PATH,
            },
            status,
        )

    def not_for_role(self) -> Template:
        """A signed-in caller whose role this section is not for (403, a page)."""
        return self.message_page("not_for_role_title", "not_for_role", 403)

    def not_found(self) -> Template:
        """An object that does not exist or is outside the caller's territories (404)."""
        return self.message_page("not_found_title", "not_found", 404)

    def csrf_refused(self) -> Template:
        """A form without this session's CSRF token: nothing was done."""
        return self.message_page("forbidden_title", "form_expired", 403)

    def login_page(
        self,
        *,
        next_path: str | None,
        error: str | None = None,
        username: str = "",
        status: int = 200,
        expired: str | None = None,
    ) -> Template:
        """The sign-in form with a fresh form token bound to a nonce cookie.

        ``expired``: why the session that brought the caller here ended (``EXPIRED_MESSAGES``);
        its message shows, and the language links keep it.
        """
        if expired in EXPIRED_MESSAGES and error is None:
            error = EXPIRED_MESSAGES[expired]
        else:
            expired = None
        nonce = new_nonce()
        self.cookies.append(login_cookie(nonce, secure=self.secure))
        texts = all_texts(self.language)
        return self.page(
            "staff/login.html.j2",
            {
                "lang": self.language,
                "st": texts,
                "languages": [
                    {
                        "code": code,
                        "name": LANGUAGE_NAMES[code],
                        "url": f"{LOGIN_PATH}?"
                        + urlencode(
                            {
                                "lang": code,
                                **({"next": next_path} if next_path else {}),
                                **({"expired": expired} if expired else {}),
                            }
                        ),
                        "current": code == self.language,
                    }
                    for code in LANGUAGES
                ],
                "form_token": login_form_token(self.auth, nonce),
                "error": texts[error] if error else None,
                "username": username,
                "next": next_path or "",
            },
            status,
        )


def _with_language(url: str, language: str) -> str:
    """The same page in another language (its other query parameters kept)."""
    parts = urlsplit(url)
    params = [
        (k, v) for k, _, v in (p.partition("=") for p in parts.query.split("&") if p) if k != "lang"
    ]
    query = "&".join(f"{k}={v}" for k, v in params)
    return f"{parts.path}?{query + '&' if query else ''}lang={language}"


StaffDep = NamedDependency[StaffRequest]


class RetryWithNewCookies(Exception):
    """The browser's refresh token was just rotated by a concurrent request of its own."""


def is_fragment_request(request: Request[Any, Any, Any]) -> bool:
    """A request of a page's script (htmx or the board's refresh), not a navigation."""
    return request.headers.get("hx-request") == "true" or request.url.path.endswith("/fragment")


def retry_with_new_cookies(
    request: Request[Any, Any, Any], _: RetryWithNewCookies
) -> Response[Any]:
    """Have the browser repeat the request with the cookies the winning request set.

    No cookie is set or cleared: clearing them would also drop the winner's fresh tokens.
    """
    headers = {"Cache-Control": "no-store"}
    if is_fragment_request(request):
        # The page's script skips a non-OK answer and tries again (its next tick or click).
        return Response(b"", status_code=409, headers=headers, media_type=MediaType.HTML)
    query = request.url.query
    # 307, not 303: a form's method and body are kept, so nothing posted is lost.
    return Redirect(
        request.url.path + (f"?{query}" if query else ""), status_code=307, headers=headers
    )


async def provide_staff(
    request: Request[Any, Any, Any], db_session: DbSession, state: State
) -> StaffRequest:
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
    session = await StaffSessionService(db_session, settings).resume(
        cookies.get(ACCESS_COOKIE), cookies.get(REFRESH_COOKIE), cookies.get(SEED_COOKIE)
    )
    if isinstance(session, Superseded):
        raise RetryWithNewCookies
    staff = StaffRequest(
        session=session,
        language=language,
        secure=secure,
        auth=settings,
        path=request.url.path,
        query=request.url.query,
        map=state.settings.map,
    )
    if session is not None and session.rotated is not None:
        staff.cookies.extend(
            session_cookies(session.rotated, session.seed, settings, secure=secure)
        )
    elif session is None and any(
        k in cookies for k in (ACCESS_COOKIE, REFRESH_COOKIE, SEED_COOKIE)
    ):
        staff.cookies.extend(cleared_cookies(secure=secure))
        staff.expired = True
    if asked in LANGUAGES:
        staff.cookies.append(language_cookie(language, secure=secure))
    return staff


STAFF_PAGE_OPTIONS: dict[str, Any] = {
    "include_in_schema": False,
    "opt": {"exclude_from_auth": True},
    "dependencies": {"staff": Provide(provide_staff)},
    "exception_handlers": {RetryWithNewCookies: retry_with_new_cookies},
}


def _default_next(path: str) -> str | None:
    """Where a sign-in posted without ``next`` goes: the board's old address means the board."""
    return BOARD.path if path.startswith(BOARD_LOGIN_PATH) else None


@get([LOGIN_PATH, BOARD_LOGIN_PATH], media_type=MediaType.HTML, **STAFF_PAGE_OPTIONS)
async def login_form(request: Request[Any, Any, Any], staff: StaffDep) -> Response[Any]:
    """The shared sign-in form (a signed-in caller goes straight on)."""
    wanted = safe_next(request.query_params.get("next")) or _default_next(request.url.path)
    if staff.session is not None:
        home = ROLE_HOME[staff.session.actor.role]
        return staff.redirect(safe_next(wanted, staff.session.actor.role) or home.path)
    return staff.login_page(next_path=wanted, expired=request.query_params.get("expired"))


@post(
    [LOGIN_PATH, BOARD_LOGIN_PATH], media_type=MediaType.HTML, status_code=303, **STAFF_PAGE_OPTIONS
)
async def login(
    request: Request[Any, Any, Any],
    data: Form,
    staff: StaffDep,
    db_session: DbSession,
    login_throttle: LoginThrottleDep,
) -> Response[Any]:
    """Check the credentials and open a cookie session; the form comes back on failure."""
    staff.language = pick_language(data.get("language"), staff.language)
    username = data.get("username", "").strip()[: _FIELD_MAX["username"]]
    password = data.get("password", "")[: _FIELD_MAX["password"]]
    wanted = safe_next(data.get("next", "")[: _FIELD_MAX["next"]]) or _default_next(
        request.url.path
    )
    if not login_form_valid(staff.auth, request.cookies.get(LOGIN_COOKIE), data.get("form_token")):
        return staff.login_page(
            next_path=wanted, error="login_form_expired", username=username, status=403
        )
    if not username or not password:
        return staff.login_page(
            next_path=wanted, error="wrong_credentials", username=username, status=401
        )
    try:
        started = await StaffSessionService(db_session, staff.auth, login_throttle).login(
            username, password
        )
    except TooManyRequests as refused:
        page = staff.login_page(
            next_path=wanted, error="too_many_attempts", username=username, status=429
        )
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    except Unauthorized:
        return staff.login_page(
            next_path=wanted, error="wrong_credentials", username=username, status=401
        )
    except Forbidden:
        return staff.login_page(
            next_path=wanted, error="role_refused", username=username, status=403
        )
    staff.cookies = [
        *session_cookies(started.tokens, started.seed, staff.auth, secure=staff.secure),
        language_cookie(staff.language, secure=staff.secure),
        expired_cookie(LOGIN_COOKIE, secure=staff.secure),
    ]
    role = started.actor.role
    return staff.redirect(safe_next(wanted, role) or ROLE_HOME[role].path)


@post(
    [LOGOUT_PATH, "/board/logout"], media_type=MediaType.HTML, status_code=303, **STAFF_PAGE_OPTIONS
)
async def logout(
    request: Request[Any, Any, Any], data: Form, staff: StaffDep, db_session: DbSession
) -> Response[Any]:
    """End the session: the refresh token family is revoked and the cookies cleared."""
    if staff.session is not None:
        if not staff.csrf_ok(data.get("csrf")):
            return staff.csrf_refused()
        await StaffSessionService(db_session, staff.auth).logout(
            request.cookies.get(REFRESH_COOKIE)
        )
    staff.cookies = cleared_cookies(secure=staff.secure)
    return staff.redirect(LOGIN_PATH)


STAFF_ROUTES = [login_form, login, logout]
