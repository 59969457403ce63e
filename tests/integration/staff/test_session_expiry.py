"""An ended staff session sends the caller to a sign-in that says so and returns them after."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from service.common.actor import Role
from service.db.models import AppealNote, WorkOrderEvent
from service.staff.session import ACCESS_COOKIE, LOGIN_COOKIE, REFRESH_COOKIE, SEED_COOKIE
from tests.integration.appeals.helpers import register
from tests.integration.board.test_board_page import login
from tests.integration.builders import PASSWORD, Builder

pytestmark = pytest.mark.asyncio
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MESSAGES = {
    "page": {
        "ru": "Сеанс истёк. Войдите снова, чтобы вернуться на страницу, где вы были.",
        "kk": "Сеанс аяқталды. Болған бетіңізге оралу үшін қайта кіріңіз.",
        "en": "Your session has expired. Sign in again to return to the page you were on.",
    },
    "form": {
        "ru": "Сеанс истёк. Войдите снова — введённое на странице не сохранено.",
        "en": "Your session has expired. Sign in again; what you typed was not saved.",
    },
}


def _expire_tokens(client: Any) -> None:
    """The tokens are gone (lapsed with the refresh token); the seed cookie outlives them."""
    assert client.cookies.get(SEED_COOKIE)
    client.cookies.delete(ACCESS_COOKIE)
    client.cookies.delete(REFRESH_COOKIE)


def _query(location: str) -> dict[str, list[str]]:
    parts = urlsplit(location)
    assert parts.path == "/staff/login", location
    return parse_qs(parts.query)


async def test_a_stranger_is_sent_to_a_plain_sign_in(web: Any) -> None:
    answer = await web.get("/dispatch?priority=high")
    assert _query(answer.headers["location"]) == {"next": ["/dispatch?priority=high"]}
    form = await web.get("/staff/login?next=/dispatch&expired=nonsense")
    assert 'id="login-error"' not in form.text


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
async def test_an_ended_session_is_explained_on_the_sign_in(
    web: Any, build: Builder, language: str
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    assert (await login(web, dispatcher, language)).status_code == 303
    assert (await web.get("/dispatch?priority=high")).status_code == 200

    _expire_tokens(web)
    answer = await web.get("/dispatch?priority=high")
    assert answer.status_code == 303
    query = _query(answer.headers["location"])
    assert query == {"next": ["/dispatch?priority=high"], "expired": ["page"]}
    sign_in = await web.get(answer.headers["location"])
    assert sign_in.status_code == 200
    assert MESSAGES["page"][language] in sign_in.text
    # The language links keep the reason and the way back.
    assert "expired=page" in sign_in.text.split('class="langs"')[1].split("</nav>")[0]


async def test_a_form_posted_after_the_session_ended_changes_nothing_and_says_so(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="scheduled")
    visit = await build.visit(order, technician.technician)
    assert (await login(web, dispatcher, "en")).status_code == 303
    inbox = await web.get(f"/dispatch/lateness?territory={area.territory.code}")
    csrf = _CSRF.search(inbox.text)
    assert csrf is not None

    _expire_tokens(web)
    answer = await web.post(
        f"/dispatch/lateness/{visit.id}/informed",
        data={"csrf": csrf[1], "territory": area.territory.code},
    )
    assert answer.status_code == 303
    query = _query(answer.headers["location"])
    # Back to the inbox the form was on (the posted address cannot be reloaded).
    assert query == {
        "next": [f"/dispatch/lateness?territory={area.territory.code}"],
        "expired": ["form"],
    }
    sign_in = await web.get(answer.headers["location"])
    assert MESSAGES["form"]["en"] in sign_in.text
    assert (
        await build.count(
            WorkOrderEvent,
            WorkOrderEvent.work_order_id == order.id,
            WorkOrderEvent.kind == "customer.contacted",
        )
        == 0
    )


async def test_signing_out_is_not_an_ended_session(web: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    assert (await login(web, dispatcher, "en")).status_code == 303
    page = await web.get("/dispatch")
    csrf = _CSRF.search(page.text)
    assert csrf is not None
    assert (await web.post("/staff/logout", data={"csrf": csrf[1]})).status_code == 303
    answer = await web.get("/dispatch")
    assert _query(answer.headers["location"]) == {"next": ["/dispatch"]}


async def test_a_sign_in_form_left_open_too_long_says_so_and_keeps_the_way_back(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    form = await web.get("/staff/login?lang=en&next=/dispatch/lateness")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert token is not None
    web.cookies.delete(LOGIN_COOKIE)  # its nonce cookie lapsed (an hour)
    answer = await web.post(
        "/staff/login",
        data={
            "username": dispatcher.user.username,
            "password": PASSWORD,
            "form_token": token[1],
            "next": "/dispatch/lateness",
        },
    )
    assert answer.status_code == 403
    assert "The sign-in form was open too long. Sign in again" in answer.text
    assert 'name="next" value="/dispatch/lateness"' in answer.text
    assert ACCESS_COOKIE not in web.cookies  # not signed in


async def test_an_appeal_form_posted_after_the_session_ended_returns_to_the_appeal(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    appeal_id = uuid.UUID((await register(web, coordinator, area, kind="question"))["id"])
    appeal = f"/coordinate/appeals/{appeal_id}"
    assert (await login(web, coordinator, "en")).status_code == 303
    csrf = _CSRF.search((await web.get(appeal)).text)
    assert csrf is not None

    _expire_tokens(web)
    answer = await web.post(f"{appeal}/notes", data={"csrf": csrf[1], "text": "Перезвонить"})
    assert answer.status_code == 303
    assert _query(answer.headers["location"]) == {"next": [appeal], "expired": ["form"]}
    assert await build.count(AppealNote, AppealNote.appeal_id == appeal_id) == 0
