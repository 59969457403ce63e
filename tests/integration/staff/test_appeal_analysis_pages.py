"""The appeals analysis (/coordinate/appeals/analysis) and the reason taxonomy
(/coordinate/appeals/reasons): who may open them, what they show, and refused input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import AppealReason
from tests.integration.appeals.helpers import register_id
from tests.integration.appeals.test_analysis_figures import decide
from tests.integration.builders import Area, Builder, Person
from tests.integration.staff.forms import csrf, sign_in

pytestmark = pytest.mark.asyncio
ANALYSIS = "/coordinate/appeals/analysis"
REASONS = "/coordinate/appeals/reasons"


async def _complaint(web: Any, who: Person, area: Area, codes: list[str], **links: Any) -> dict:
    """A complaint of the area's customer, decided with these reason codes (none: undecided)."""
    appeal = await register_id(web, who, area, **links)
    if codes:
        await decide(web, who, appeal, codes, "partly")
    response = await web.get(f"/api/v1/appeals/{appeal}", headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_analysis_shows_the_caller_s_complaints_only(web: Any, build: Builder) -> None:
    area, other = await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    foreign = await build.person(Role.COORDINATOR, other.territory)
    technician = await build.person(Role.TECHNICIAN, area.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    assert technician.technician is not None
    order = await build.order(area, type="installation")
    visit = await build.visit(order, technician.technician)
    first = await _complaint(web, coordinator, area, ["missed_visit", "damage"], visit_id=visit.id)
    repeat = await _complaint(web, coordinator, area, ["missed_visit"])
    await _complaint(web, coordinator, area, [])

    # Anonymous: to the sign-in, coming back here. A technician has no staff session.
    response = await web.get(ANALYSIS)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    await sign_in(web, technician)
    assert (await web.get(ANALYSIS)).status_code == 303
    # A dispatcher: not this workspace.
    web.cookies.clear()
    await sign_in(web, dispatcher)
    assert (await web.get(ANALYSIS)).status_code == 403
    # Another territory's coordinator: none of these complaints; our territory is a 404.
    web.cookies.clear()
    await sign_in(web, foreign)
    page = await web.get(ANALYSIS)
    assert page.status_code == 200
    assert "No complaint was registered in this period." in page.text
    assert first["number"] not in page.text
    assert (await web.get(f"{ANALYSIS}?territory={area.territory.id}")).status_code == 404
    assert (await web.get(f"{ANALYSIS}?territory={uuid.uuid4()}")).status_code == 404

    # The territory's coordinator: this month by default, the reasons by name with shares.
    web.cookies.clear()
    await sign_in(web, coordinator)
    page = await web.get(f"{ANALYSIS}?territory={area.territory.id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/coordinate/appeals/analysis" aria-current="page"' in html
    assert "Visit missed or late" in html  # 2 of 3 complaints
    assert "66.7%" in html
    assert "Damage or mess left" in html
    assert "Not decided yet, so without a reason: 1." in html
    assert technician.technician.full_name in html
    assert "Installation" in html
    # The customer who complained again, with links to both complaints.
    assert f'href="/coordinate/appeals/{first["id"]}"' in html
    assert f'href="/coordinate/appeals/{repeat["id"]}"' in html
    assert area.customer.full_name in html
    # Nothing was due yet: said so, not a 0 %.
    assert "No answer was due in the period." in html
    # The reason taxonomy is an administrator's page: no tab for a coordinator.
    assert f'href="{REASONS}"' not in html
    listing = (await web.get("/coordinate/appeals")).text
    assert f'href="{ANALYSIS}"' in listing
    assert f'href="{REASONS}"' not in listing
    # A month long ago: every table says what is empty.
    old = await web.get(f"{ANALYSIS}?month=2001-02")
    assert old.status_code == 200
    # The month is a list named in the page's language (a browser's month input names months
    # in the browser's language); a month outside the list is still the one chosen.
    assert 'type="month"' not in old.text
    assert '<option value="2001-02" selected>February 2001</option>' in old.text
    ru = await web.get(ANALYSIS, params={"month": "2001-02", "lang": "ru"})
    assert '<option value="2001-02" selected>февраль 2001</option>' in ru.text
    assert "No complaint was registered in this period." in old.text
    assert "No customer complained again in this period." in old.text


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13",
        "month=1999-12",
        "month=abc",
        "from=2026-12-10&to=2026-12-01",
        "from=2026-12-01",
        "from=2020-01-01&to=2026-12-01",
        "from=31.02.2026&to=2027-01-05",
    ],
)
async def test_a_bad_period_is_said_on_the_page(web: Any, build: Builder, query: str) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    await sign_in(web, coordinator)
    page = await web.get(f"{ANALYSIS}?{query}")
    assert page.status_code == 422
    assert 'id="period-error"' in page.text
    assert 'id="summary"' not in page.text


@pytest.mark.parametrize(
    ("zone", "query"),
    [
        ("Asia/Almaty", "month=2000-01"),  # starts on 31.12.1999 UTC
        ("America/New_York", "month=2099-12"),  # ends on 01.01.2100 05:00 UTC
        ("Asia/Almaty", "from=01.01.2000&to=05.01.2000"),
    ],
)
async def test_a_period_the_page_offers_is_a_page_at_either_end_of_its_years(
    web: Any, build: Builder, zone: str, query: str
) -> None:
    area = await build.area(time_zone=zone)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    await sign_in(web, coordinator)
    page = await web.get(f"{ANALYSIS}?{query}")
    # It was the API's problem+json (its bounds are UTC instants, the page's local days).
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="summary"' in page.text


async def test_only_administrators_edit_the_reasons(web: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    admin = await build.person(Role.ADMIN)
    code = f"slow_{uuid.uuid4().hex[:8]}"
    names = {"name_ru": "Долго ждать", "name_kk": "Ұзақ күту", "name_en": "Long wait"}

    async def count(*where: Any) -> int:
        return await build.count(AppealReason, AppealReason.code == code, *where)

    response = await web.get(REASONS)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    # A technician has no staff session: still the sign-in; a dispatcher's is not for it.
    await sign_in(web, await build.person(Role.TECHNICIAN, area.territory))
    assert (await web.get(REASONS)).status_code == 303
    web.cookies.clear()
    await sign_in(web, await build.person(Role.DISPATCHER, area.territory))
    assert (await web.get(REASONS)).status_code == 403
    # Coordinators and supervisors use the reasons, they do not edit them.
    for who in (coordinator, supervisor):
        web.cookies.clear()
        await sign_in(web, who)
        assert (await web.get(REASONS)).status_code == 403
        token = csrf((await web.get("/coordinate/appeals")).text)
        refused = await web.post(REASONS, data={"csrf": token, "code": code, **names})
        assert refused.status_code == 403
        refused = await web.post(f"{REASONS}/missed_visit", data={"csrf": token, **names})
        assert refused.status_code == 403
    assert await count() == 0
    async with build.sessionmaker() as session:
        seeded = await session.scalar(
            select(AppealReason).where(AppealReason.code == "missed_visit")
        )
    assert seeded is not None
    assert seeded.names["en"] == "Visit missed or late"

    web.cookies.clear()
    await sign_in(web, admin)
    page = await web.get(REASONS)
    assert page.status_code == 200
    assert "Visit missed or late" in page.text
    token = csrf(page.text)
    # A forged form, a bad code, an empty name: nothing written, the reason on the page.
    assert (await web.post(REASONS, data={"csrf": "x", "code": code, **names})).status_code == 403
    bad = await web.post(REASONS, data={"csrf": token, "code": "Bad Code", **names})
    assert bad.status_code == 422
    assert "Latin lower-case letters" in bad.text
    empty = await web.post(REASONS, data={"csrf": token, "code": code, **names, "name_kk": " "})
    assert empty.status_code == 422
    assert "Give the name in Kazakh." in empty.text
    assert "Долго ждать" in empty.text  # what was typed is kept
    assert await count() == 0
    # Added; a second add under the same code is refused and renames nothing.
    added = await web.post(REASONS, data={"csrf": token, "code": code, **names})
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"{REASONS}?notice=added"
    again = await web.post(REASONS, data={"csrf": token, "code": code, **names, "name_en": "X"})
    assert again.status_code == 409
    assert "exists already" in again.text
    assert (
        await count(AppealReason.active.is_(True), AppealReason.names["en"].astext == "Long wait")
        == 1
    )
    # Renamed; then retired: still listed here, no longer offered on a complaint's decision.
    renamed = await web.post(
        f"{REASONS}/{code}", data={"csrf": token, **names, "name_en": "Long wait on the phone"}
    )
    assert renamed.status_code == 303
    assert await count(AppealReason.names["en"].astext == "Long wait on the phone") == 1
    retired = await web.post(f"{REASONS}/{code}", data={"csrf": token, **names, "action": "retire"})
    assert retired.headers["location"] == f"{REASONS}?notice=retired"
    assert await count(AppealReason.active.is_(False)) == 1
    assert code in (await web.get(REASONS)).text
    appeal = await _complaint(web, admin, area, [])
    detail = await web.get(f"/coordinate/appeals/{appeal['id']}")
    assert 'value="missed_visit"' in detail.text
    assert f'value="{code}"' not in detail.text
    decided = await web.post(
        f"/api/v1/appeals/{appeal['id']}/decision",
        json={"decision": "partly", "reasons": "Проверено.", "reason_codes": [code]},
        headers=admin.headers,
    )
    assert decided.status_code == 422
    # An empty name on a rename is refused too, and the reason keeps its names.
    bad = await web.post(f"{REASONS}/{code}", data={"csrf": token, **names, "name_ru": ""})
    assert bad.status_code == 422
    assert "Give the name in Russian." in bad.text
    assert await count(AppealReason.names["ru"].astext == "Долго ждать") == 1
    # Offered again; an unknown code is a 404, never created.
    restored = await web.post(
        f"{REASONS}/{code}", data={"csrf": token, **names, "action": "restore"}
    )
    assert restored.headers["location"] == f"{REASONS}?notice=restored"
    assert await count(AppealReason.active.is_(True)) == 1
    missing = f"gone_{uuid.uuid4().hex[:8]}"
    assert (
        await web.post(f"{REASONS}/{missing}", data={"csrf": token, **names})
    ).status_code == 404
    assert await build.count(AppealReason, AppealReason.code == missing) == 0
