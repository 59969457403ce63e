"""The coordinator board page over its cookie session: login, scope, filters, CSRF, languages."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from service.auth.services import REUSE_GRACE
from service.auth.tokens import refresh_token_hash
from service.board import view as board_view
from service.common.actor import Role
from service.db.models import AuditEntry, Escalation, RefreshToken, Territory, WorkOrder
from tests.integration.builders import PASSWORD, Area, Builder, Person

pytestmark = pytest.mark.asyncio

BOARD = "/board"
API = "/api/v1/coordination/overdue"
_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_TILE = re.compile(r'data-bucket="(\w+)"[^>]*>\s*<span class="n">(\d+)</span>')


@dataclass
class Scene:
    area: Area
    other: Area
    coordinator: Person
    tech: Person
    orders: dict[str, WorkOrder]
    escalation: Escalation


@pytest.fixture
def board(web: Any) -> Any:
    """The board's browser: the app's client without cookies (see ``web``)."""
    return web


@pytest.fixture
async def scene(build: Builder) -> Scene:
    area = await build.area()
    other = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    now = datetime.now(UTC)

    def hours(n: float) -> datetime:
        return now + timedelta(hours=n)

    orders = {
        "due_soon": await build.order(area, control_deadline=hours(1), priority="urgent"),
        "late_1h": await build.order(area, control_deadline=hours(-1), status="scheduled"),
        "late_5h": await build.order(area, control_deadline=hours(-5)),
        "late_30h": await build.order(area, control_deadline=hours(-30), type="installation"),
        "late_4d": await build.order(area, control_deadline=hours(-96), priority="high"),
        "elsewhere": await build.order(other, control_deadline=hours(-3)),
    }
    await build.visit(orders["late_1h"], tech.technician, start=hours(-3), hours=2)
    async with build.sessionmaker() as session:
        escalation = Escalation(
            work_order_id=orders["late_5h"].id,
            target="resolution",
            level="breach",
            due_at=hours(-5),
            recipient_role="coordinator",
            recipient_ids=[coordinator.user.id],
        )
        session.add(escalation)
        await session.commit()
    return Scene(area, other, coordinator, tech, orders, escalation)


async def login(
    client: Any, who: Person, language: str | None = None, password: str = PASSWORD
) -> Any:
    """Sign in through the form, as a browser does."""
    form = await client.get(f"{BOARD}/login")
    assert form.status_code == 200, form.text
    match = _TOKEN.search(form.text)
    assert match
    data = {"username": who.user.username, "password": password, "form_token": match[1]}
    if language:
        data["language"] = language
    return await client.post(f"{BOARD}/login", data=data)


async def page(client: Any, **params: Any) -> Any:
    response = await client.get(BOARD, params=params)
    assert response.status_code == 200, response.text
    return response


def tiles(html: str) -> dict[str, int]:
    return {name: int(n) for name, n in _TILE.findall(html)}


def csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match
    return match[1]


def set_cookies(response: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        found[header.split("=", 1)[0]] = header
    return found


async def test_login_sets_session_cookie_and_counts_match_the_api(board: Any, scene: Scene) -> None:
    response = await login(board, scene.coordinator)
    assert response.status_code == 303
    assert response.headers["location"] == BOARD
    cookies = set_cookies(response)
    for name in ("staff_access", "staff_refresh", "staff_seed"):
        header = cookies[name].lower()
        assert "httponly" in header
        assert "samesite=strict" in header
        assert "path=/;" in header or header.endswith("path=/")
        assert "secure" not in header  # plain http in tests; https requests get Secure
    html = (await page(board)).text
    api = (await board.get(API, headers=scene.coordinator.headers)).json()
    counts = api["counts"]
    assert tiles(html) == {
        **{k: v for k, v in counts.items() if k != "total"},
        "total": counts["total"],
    }
    assert counts["total"] == 5
    for item in api["items"]:
        assert item["number"] in html
    assert 'data-kpi="on_time"' in html
    assert 'data-kpi="overdue"' in html


async def test_secure_cookie_over_https(board: Any, scene: Scene) -> None:
    client = board
    if True:
        form = await client.get("https://testserver.local/board/login")
        token = _TOKEN.search(form.text)
        assert token
        response = await client.post(
            "https://testserver.local/board/login",
            data={
                "username": scene.coordinator.user.username,
                "password": PASSWORD,
                "form_token": token[1],
            },
        )
        assert response.status_code == 303
        assert "secure" in set_cookies(response)["staff_access"].lower()


async def test_technician_gets_the_form_back(board: Any, scene: Scene, build: Builder) -> None:
    response = await login(board, scene.tech)
    assert response.status_code == 403
    assert 'role="alert"' in response.text
    assert "staff_access" not in set_cookies(response)
    # The refused login left no session behind.
    assert await build.count(RefreshToken, RefreshToken.user_id == scene.tech.user.id) == 0
    assert (await board.get(BOARD)).status_code == 303


async def test_wrong_password_and_forged_login_form(board: Any, scene: Scene) -> None:
    response = await login(board, scene.coordinator, password="not-the-password")
    assert response.status_code == 401
    assert "staff_access" not in set_cookies(response)
    board.cookies.clear()
    forged = await board.post(
        f"{BOARD}/login",
        data={"username": scene.coordinator.user.username, "password": PASSWORD},
    )
    assert forged.status_code == 403
    assert "staff_access" not in set_cookies(forged)


async def test_anonymous_is_sent_to_login(board: Any) -> None:
    response = await board.get(BOARD)
    assert response.status_code == 303
    assert response.headers["location"] == "/board/login"
    assert (await board.get(f"{BOARD}/fragment")).status_code == 401
    form = await board.get(f"{BOARD}/login")
    assert form.status_code == 200
    assert 'name="password"' in form.text
    assert form.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]


async def test_bearer_token_does_not_open_the_page(board: Any, scene: Scene) -> None:
    response = await board.get(BOARD, headers=scene.coordinator.headers)
    assert response.status_code == 303


async def test_only_own_territories(board: Any, scene: Scene) -> None:
    await login(board, scene.coordinator)
    html = (await page(board)).text
    for name in ("due_soon", "late_1h", "late_5h", "late_30h", "late_4d"):
        assert scene.orders[name].number in html
    assert scene.orders["elsewhere"].number not in html
    assert scene.other.territory.code not in html  # not even as a filter option


async def test_filters(board: Any, scene: Scene) -> None:
    await login(board, scene.coordinator)
    numbers = {name: order.number for name, order in scene.orders.items()}

    def shown(html: str) -> set[str]:
        table = re.search(r'<table class="orders".*?</table>', html, re.DOTALL)
        rows = table[0] if table else ""
        return {name for name, number in numbers.items() if f">{number}<" in rows}

    assert shown((await page(board, type="installation")).text) == {"late_30h"}
    assert shown((await page(board, priority="urgent")).text) == {"due_soon"}
    bucket = (await page(board, bucket="overdue_4_24h")).text
    assert shown(bucket) == {"late_5h"}
    # The tiles count under the other filters, not the bucket's, as the API does.
    assert tiles(bucket)["total"] == 5
    assert scene.tech.technician is not None
    tech = (await page(board, technician=str(scene.tech.technician.id))).text
    assert shown(tech) == {"late_1h"}
    assert tiles(tech)["total"] == 1
    own = (await page(board, territory=str(scene.area.territory.id))).text
    assert shown(own) == {"due_soon", "late_1h", "late_5h", "late_30h", "late_4d"}
    # Someone else's territory in the URL shows nothing of it.
    foreign = (await page(board, territory=str(scene.other.territory.id))).text
    assert shown(foreign) == set()
    # Junk in the query string is ignored, not a server error.
    junk = await page(board, type="x", bucket="y", technician="z", cursor="!!")
    assert len(shown(junk.text)) == 5


async def test_next_page(board: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    now = datetime.now(UTC)
    made = [
        await build.order(area, control_deadline=now - timedelta(hours=10, minutes=i))
        for i in range(27)
    ]
    await login(board, coordinator)
    first = (await page(board)).text
    match = re.search(r'href="([^"]+)" rel="next"', first)
    assert match
    second = await board.get(match[1].replace("&amp;", "&"))
    assert second.status_code == 200
    on_first = {o.number for o in made if f">{o.number}<" in first}
    on_second = {o.number for o in made if f">{o.number}<" in second.text}
    assert len(on_first) == 25
    assert len(on_second) == 2
    assert not on_first & on_second
    assert 'rel="next"' not in second.text


async def _pending(build: Builder, escalation_id: uuid.UUID) -> Escalation:
    async with build.sessionmaker() as session:
        row = await session.scalar(select(Escalation).where(Escalation.id == escalation_id))
        assert row is not None
        return row


async def test_acknowledge_with_wrong_csrf_is_refused(
    board: Any, scene: Scene, build: Builder
) -> None:
    await login(board, scene.coordinator)
    html = (await page(board)).text
    assert scene.orders["late_5h"].number in html
    assert f'action="/board/escalations/{scene.escalation.id}/acknowledge"' in html
    audit = await build.count(AuditEntry)
    for token in ("forged", ""):
        response = await board.post(
            f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
            data={"csrf": token, "comment": "Позвонили клиенту"},
        )
        assert response.status_code == 403
    # Another session's token is no good either.
    other = await build.person(Role.COORDINATOR, scene.area.territory)
    mine = csrf(html)
    board.cookies.clear()
    await login(board, other)
    response = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        data={"csrf": mine, "comment": "Позвонили клиенту"},
    )
    assert response.status_code == 403
    row = await _pending(build, scene.escalation.id)
    assert row.acknowledged_at is None
    assert row.ack_comment is None
    assert await build.count(AuditEntry) == audit


async def test_acknowledge_needs_a_comment(board: Any, scene: Scene, build: Builder) -> None:
    await login(board, scene.coordinator)
    token = csrf((await page(board)).text)
    audit = await build.count(AuditEntry)
    response = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        data={"csrf": token, "comment": "   ", "back": "type=repair"},
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "Напишите комментарий" in response.text
    assert (await _pending(build, scene.escalation.id)).acknowledged_at is None
    assert await build.count(AuditEntry) == audit


async def test_acknowledge(board: Any, scene: Scene, build: Builder) -> None:
    await login(board, scene.coordinator, language="en")
    token = csrf((await page(board)).text)
    response = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        data={"csrf": token, "comment": " Called the customer, new date Friday ", "back": "x"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/board?notice=acknowledged"
    row = await _pending(build, scene.escalation.id)
    assert row.acknowledged_at is not None
    assert row.acknowledged_by == scene.coordinator.user.id
    assert row.ack_comment == "Called the customer, new date Friday"
    html = (await page(board, notice="acknowledged")).text
    assert "Escalation acknowledged." in html
    assert f"escalation-{scene.escalation.id}" not in html
    again = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        data={"csrf": token, "comment": "twice", "back": "bucket=due_2h"},
    )
    assert again.status_code == 303
    assert again.headers["location"] == "/board?bucket=due_2h&notice=escalation_gone"


async def test_languages(board: Any, scene: Scene) -> None:
    await login(board, scene.coordinator, language="kk")
    kk = (await page(board)).text
    assert '<html lang="kk">' in kk
    for label in ("Үйлестіруші тақтасы", "Бақылау мерзімдері", "Растау", "Бақылау мерзімі"):
        assert label in kk
    en = await page(board, lang="en")
    assert '<html lang="en">' in en.text
    for label in ("Coordinator board", "Control deadlines", "Acknowledge", "Overdue 4–24 h"):
        assert label in en.text
    assert "staff_lang" in set_cookies(en)
    # The choice sticks, and the refresh fragment follows it.
    assert '<html lang="en">' in (await page(board)).text
    fragment = await board.get(f"{BOARD}/fragment")
    assert fragment.status_code == 200
    assert "Figures for" in fragment.text
    assert "<html" not in fragment.text
    ru = (await page(board, lang="ru")).text
    assert "Доска координатора" in ru


async def test_language_from_accept_language(board: Any) -> None:
    form = await board.get(f"{BOARD}/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in form.text
    form = await board.get(f"{BOARD}/login", headers={"Accept-Language": "de, kk;q=0.5"})
    assert '<html lang="kk">' in form.text


def _replace_cookie(client: Any, name: str, value: str) -> None:
    for cookie in list(client.cookies.jar):
        if cookie.name == name:
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
            client.cookies.set(name, value, domain=cookie.domain, path=cookie.path)


def _cookie(client: Any, name: str) -> str:
    return next(c.value for c in client.cookies.jar if c.name == name)


async def test_expired_access_token_rotates_the_refresh_token(
    board: Any, scene: Scene, build: Builder
) -> None:
    await login(board, scene.coordinator)
    old_refresh = _cookie(board, "staff_refresh")
    _replace_cookie(board, "staff_access", "expired.or.forged")
    response = await page(board)
    cookies = set_cookies(response)
    assert "staff_access" in cookies
    assert "staff_refresh" in cookies
    new_refresh = _cookie(board, "staff_refresh")
    assert new_refresh != old_refresh
    assert scene.orders["late_1h"].number in response.text
    # The old refresh token presented again, well after its rotation, is a stolen copy: the
    # whole session ends.
    await _rotated_long_ago(build, old_refresh)
    _replace_cookie(board, "staff_access", "expired.or.forged")
    _replace_cookie(board, "staff_refresh", old_refresh)
    response = await board.get(BOARD)
    assert response.status_code == 303
    # The browser came with a session, so the sign-in says it ended.
    assert response.headers["location"] == "/board/login?expired=page"
    family = await build.count(
        RefreshToken,
        RefreshToken.user_id == scene.coordinator.user.id,
        RefreshToken.revoked_at.is_(None),
    )
    assert family == 0


async def _rotated_long_ago(build: Builder, refresh_token: str) -> None:
    """Move a used token's rotation back past the grace period for concurrent requests."""
    async with build.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == refresh_token_hash(refresh_token))
            .values(used_at=RefreshToken.used_at - REUSE_GRACE - timedelta(seconds=1))
        )
        await session.commit()


async def test_a_request_that_lost_the_refresh_race_keeps_the_session(
    board: Any, scene: Scene, build: Builder
) -> None:
    await login(board, scene.coordinator)
    old_refresh = _cookie(board, "staff_refresh")
    _replace_cookie(board, "staff_access", "expired.or.forged")
    await page(board)  # the winner: rotates and sets the new cookies
    new_refresh = _cookie(board, "staff_refresh")
    assert new_refresh != old_refresh

    # The loser was sent with the same expired access token and the old refresh token.
    new_access = _cookie(board, "staff_access")
    _replace_cookie(board, "staff_access", "expired.or.forged")
    _replace_cookie(board, "staff_refresh", old_refresh)
    response = await board.get(BOARD, params={"bucket": "late"})
    assert response.status_code == 307
    assert response.headers["location"] == f"{BOARD}?bucket=late"
    assert set_cookies(response) == {}  # the winner's cookies stay in the browser
    refreshed = await board.get(f"{BOARD}/fragment")
    assert refreshed.status_code == 409
    assert set_cookies(refreshed) == {}
    live = await build.count(
        RefreshToken,
        RefreshToken.user_id == scene.coordinator.user.id,
        RefreshToken.revoked_at.is_(None),
    )
    assert live == 2  # the old token used, the new one live: nothing revoked
    # The browser repeats the request with the cookies the winner set, and the new refresh
    # token still rotates.
    _replace_cookie(board, "staff_access", new_access)
    _replace_cookie(board, "staff_refresh", new_refresh)
    assert scene.orders["late_1h"].number in (await page(board)).text
    _replace_cookie(board, "staff_access", "expired.or.forged")
    assert "staff_refresh" in set_cookies(await page(board))


async def test_logout(board: Any, scene: Scene, build: Builder) -> None:
    await login(board, scene.coordinator)
    token = csrf((await page(board)).text)
    refused = await board.post(f"{BOARD}/logout", data={"csrf": "forged"})
    assert refused.status_code == 403
    response = await board.post(f"{BOARD}/logout", data={"csrf": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login"  # the shared staff sign-in
    assert (await board.get(BOARD)).status_code == 303
    live = await build.count(
        RefreshToken,
        RefreshToken.user_id == scene.coordinator.user.id,
        RefreshToken.revoked_at.is_(None),
    )
    assert live == 0


def kpi_base(html: str, code: str) -> str:
    match = re.search(rf'data-kpi="{code}">.*?<span class="base">([^<]*)</span>', html, re.S)
    assert match
    return match[1]


async def test_kpi_tiles_are_reused_for_a_few_minutes(
    board: Any, scene: Scene, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    await login(board, scene.coordinator, "en")
    first = (await page(board)).text
    await build.order(scene.area, control_deadline=datetime.now(UTC) - timedelta(hours=2))

    # The buckets are live; the month's figures come from the cache.
    again = (await page(board)).text
    assert tiles(again)["total"] == tiles(first)["total"] + 1
    assert kpi_base(again, "overdue") == kpi_base(first, "overdue")

    monkeypatch.setattr(board_view, "KPI_TTL_SECONDS", 0.0)
    fresh = (await page(board)).text
    assert kpi_base(fresh, "overdue") != kpi_base(first, "overdue")


async def test_nul_in_a_form_is_400_and_writes_nothing(
    board: Any, scene: Scene, build: Builder
) -> None:
    form = "application/x-www-form-urlencoded"
    login_form = await board.get(f"{BOARD}/login")
    match = _TOKEN.search(login_form.text)
    assert match
    tokens = await build.count(RefreshToken)
    refused = await board.post(
        f"{BOARD}/login",
        content=f"username=a%00b&password=x&form_token={match[1]}",
        headers={"content-type": form},
    )
    assert refused.status_code == 400
    assert await build.count(RefreshToken) == tokens

    await login(board, scene.coordinator)
    token = csrf((await page(board)).text)
    audit = await build.count(AuditEntry)
    refused = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        content=f"csrf={token}&comment=called%00",
        headers={"content-type": form},
    )
    assert refused.status_code == 400
    row = await _pending(build, scene.escalation.id)
    assert row.acknowledged_at is None
    assert await build.count(AuditEntry) == audit


async def test_another_roles_escalation_is_refused_next_to_its_form(
    board: Any, scene: Scene, build: Builder
) -> None:
    supervisor = await build.person(Role.SUPERVISOR, scene.area.territory)
    await login(board, supervisor, language="en")
    token = csrf((await page(board)).text)
    audit = await build.count(AuditEntry)
    response = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        data={"csrf": token, "comment": "Seen it", "back": "x"},
    )
    assert response.status_code == 403
    assert "addressed to another role" in response.text
    assert "Seen it" in response.text  # what was typed is kept
    assert (await _pending(build, scene.escalation.id)).acknowledged_at is None
    assert await build.count(AuditEntry) == audit


async def test_territories_by_name_and_only_my_roles_escalations_offer_acknowledge(
    board: Any, scene: Scene, build: Builder
) -> None:
    async with build.sessionmaker() as session:
        territory = await session.get_one(Territory, scene.area.territory.id)
        territory.name = "Алматы, Бостандық"
        head = Escalation(
            work_order_id=scene.orders["late_30h"].id,
            target="resolution",
            level="head",
            due_at=datetime.now(UTC) - timedelta(hours=30),
            recipient_role="supervisor",
            recipient_ids=[],
        )
        session.add(head)
        await session.commit()
    await login(board, scene.coordinator, language="en")
    html = (await page(board)).text
    # The territory's name in the rows, the cards and the filter; its code nowhere.
    assert html.count("Алматы, Бостандық") >= 3
    assert scene.area.territory.code not in html
    # The coordinators' breach has its form; the supervisors' head is shown without one.
    assert f'action="/board/escalations/{scene.escalation.id}/acknowledge"' in html
    assert f'action="/board/escalations/{head.id}/acknowledge"' not in html
    card = re.search(rf'id="escalation-{head.id}".*?</li>', html, re.DOTALL)
    assert card
    assert "Addressed to supervisors: theirs to acknowledge." in card[0]
    assert "<textarea" not in card[0]
    # A supervisor of the territory is offered theirs, and not the coordinators'.
    board.cookies.clear()
    supervisor = await build.person(Role.SUPERVISOR, scene.area.territory)
    await login(board, supervisor, language="ru")
    html = (await page(board)).text
    assert f'action="/board/escalations/{head.id}/acknowledge"' in html
    assert f'action="/board/escalations/{scene.escalation.id}/acknowledge"' not in html
    assert "Адресовано координаторам: подтверждают они." in html
    # Posting to the coordinators' one anyway (a stale page) is refused and writes nothing.
    audit = await build.count(AuditEntry)
    response = await board.post(
        f"{BOARD}/escalations/{scene.escalation.id}/acknowledge",
        data={"csrf": csrf(html), "comment": "Видел", "back": ""},
    )
    assert response.status_code == 403
    assert "Ваш комментарий не сохранён: «Видел»" in response.text
    assert (await _pending(build, scene.escalation.id)).acknowledged_at is None
    assert await build.count(AuditEntry) == audit


async def test_the_kpi_panel_shows_the_month_s_appeals(
    board: Any, scene: Scene, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_view, "KPI_TTL_SECONDS", 0.0)
    await login(board, scene.coordinator, "en")
    html = (await page(board)).text
    # None yet: zeros, and the reasons say what is empty.
    assert kpi_base(html, "appeals") == "0 of them complaints"
    assert kpi_base(html, "appeals_on_time") == "no answer was due"
    assert "No complaint of this month has a reason recorded yet." in html
    for reasons in (["missed_visit", "damage"], ["missed_visit"]):
        registered = await board.post(
            "/api/v1/appeals",
            json={
                "kind": "complaint",
                "channel": "phone",
                "territory_id": str(scene.area.territory.id),
                "author_name": "Иванова Мария Петровна",
                "text": "Мастер не пришёл.",
                "contact_phone": "+77011234567",
                "customer_id": str(scene.area.customer.id),
            },
            headers=scene.coordinator.headers,
        )
        assert registered.status_code == 201, registered.text
        decided = await board.post(
            f"/api/v1/appeals/{registered.json()['id']}/decision",
            json={"decision": "partly", "reasons": "Проверено.", "reason_codes": reasons},
            headers=scene.coordinator.headers,
        )
        assert decided.status_code == 200, decided.text
    html = (await page(board)).text
    api = (await board.get("/api/v1/coordination/kpis", headers=scene.coordinator.headers)).json()
    assert api["appeals"]["registered"] == 2
    assert kpi_base(html, "appeals") == "2 of them complaints"
    assert kpi_base(html, "appeals_repeat") == "of 2 complaints"
    assert re.search(r'data-kpi="appeals_repeat">\s*<span class="n">1</span>', html)
    top = re.search(r'<ol id="top-reasons">(.*?)</ol>', html, re.S)
    assert top
    assert top[1].index("Visit missed or late") < top[1].index("Damage or mess left")
    assert '<strong>2</strong> <span class="muted">(100%)</span>' in top[1]
    assert 'href="/coordinate/appeals/analysis"' in html
    # Another territory's coordinator: none of these; a dispatcher: no link to the analysis.
    board.cookies.clear()
    stranger = await build.person(Role.COORDINATOR, scene.other.territory)
    await login(board, stranger, "en")
    assert kpi_base((await page(board)).text, "appeals") == "0 of them complaints"
    board.cookies.clear()
    dispatcher = await build.person(Role.DISPATCHER, scene.area.territory)
    await login(board, dispatcher, "en")
    html = (await page(board)).text
    assert kpi_base(html, "appeals") == "2 of them complaints"
    assert "/coordinate/appeals/analysis" not in html


async def test_a_board_within_the_kpis_reuse_reads_no_appeal_or_reason(
    board: Any, scene: Scene
) -> None:
    registered = await board.post(
        "/api/v1/appeals",
        json={
            "kind": "complaint",
            "channel": "phone",
            "territory_id": str(scene.area.territory.id),
            "author_name": "Иванова Мария Петровна",
            "text": "Мастер не пришёл.",
            "contact_phone": "+77011234567",
            "customer_id": str(scene.area.customer.id),
        },
        headers=scene.coordinator.headers,
    )
    assert registered.status_code == 201, registered.text
    decided = await board.post(
        f"/api/v1/appeals/{registered.json()['id']}/decision",
        json={"decision": "partly", "reasons": "Проверено.", "reason_codes": ["damage"]},
        headers=scene.coordinator.headers,
    )
    assert decided.status_code == 200, decided.text
    await login(board, scene.coordinator, "en")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        first = (await page(board)).text
        # The KPIs computed: the top reason's name read with them, that reason's alone.
        names = [s for s in statements if "FROM appeal_reasons" in s]
        assert len(names) == 1
        assert "appeal_reasons.code IN" in names[0]
        statements.clear()
        again = (await page(board)).text
        # Reused: neither the appeals nor the reasons' names are read again, each minute.
        assert [s for s in statements if "FROM appeal" in s] == []
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    for html in (first, again):
        top = re.search(r'<ol id="top-reasons">(.*?)</ol>', html, re.S)
        assert top
        assert "Damage or mess left" in top[1]


async def test_the_kpi_time_names_its_zone_as_the_header_does(board: Any, scene: Scene) -> None:
    await login(board, scene.coordinator, language="ru")
    html = (await page(board)).text
    header = re.search(r'<time id="as-of">[^<]+</time> \(([^)]+)\)', html)
    figures = re.search(r'<p class="meta" id="kpis-as-of">([^<]+)</p>', html)
    assert header
    assert figures
    # "Показатели рассчитаны на 05.12.2026 20:18 (UTC+05:00)": the header's offset; the zone's
    # name stays once, in the header ("(UTC+05:00, Asia/Almaty)").
    offset = header[1].split(",")[0]
    assert offset.startswith("UTC"), header[1]
    assert figures[1].endswith(f"({offset})"), (figures[1], header[1])
