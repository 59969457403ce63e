"""Schedule board, map and lateness inbox pages: sign-in, role and territory scope, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import AuditEntry, Site, Visit, WorkOrderEvent
from tests.integration.builders import Builder, Person
from tests.integration.staff.forms import sign_in

pytestmark = pytest.mark.asyncio
ALMATY = ZoneInfo("Asia/Almaty")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAGES = ("/dispatch/schedule", "/dispatch/map", "/dispatch/lateness")


def _tomorrow_at(hour: int) -> datetime:
    day = datetime.now(ALMATY).date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=ALMATY).astimezone(UTC)


async def test_anonymous_goes_to_sign_in_and_fragments_answer_401(web: Any) -> None:
    for path in PAGES:
        response = await web.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/staff/login?next=")
    for path in ("/dispatch/schedule/fragment", "/dispatch/lateness/fragment"):
        assert (await web.get(path)).status_code == 401


async def test_a_bearer_token_opens_no_page_and_a_technician_cannot_sign_in(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    tech = await build.technician_at(area, 0.5, 0.5)
    response = await web.get("/dispatch/schedule", headers=tech.headers)
    assert response.status_code == 303
    refused = await sign_in(web, tech)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert (await web.get("/dispatch/schedule")).status_code == 303


async def test_a_role_without_dispatch_gets_a_page_not_json(web: Any, build: Builder) -> None:
    area = await build.area()
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    await sign_in(web, supervisor)
    for path in PAGES:
        response = await web.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "<html" in response.text


async def test_schedule_page_shows_own_territory_and_404s_another(web: Any, build: Builder) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    stranger = await build.technician_at(other, 0.5, 0.5)
    assert tech.technician is not None
    assert stranger.technician is not None
    order = await build.order(area)
    elsewhere = await build.order(other)
    start = _tomorrow_at(10)
    await build.visit(order, tech.technician, start=start)
    await build.visit(elsewhere, stranger.technician, start=start)
    await sign_in(web, dispatcher)
    day = start.astimezone(ALMATY).date().isoformat()
    page = await web.get("/dispatch/schedule", params={"day": day})
    assert page.status_code == 200, page.text
    assert order.number in page.text
    assert elsewhere.number not in page.text
    assert other.territory.code not in page.text
    assert "Asia/Almaty" in page.text
    assert "10:00–12:00" in page.text
    assert "nonce-" in page.headers["content-security-policy"]
    assert "style=" not in page.text  # placement is by class: the CSP allows no style attribute
    queue = await web.get("/dispatch")  # the queue page links to the board by its tabs
    assert queue.status_code == 200
    assert 'href="/dispatch/schedule"' in queue.text
    refused = await web.get("/dispatch/schedule", params={"territory": other.territory.code})
    assert refused.status_code == 404
    assert elsewhere.number not in refused.text
    for path in PAGES[1:]:
        assert (await web.get(path, params={"territory": other.territory.code})).status_code == 404
    fragment = await web.get(
        "/dispatch/schedule/fragment", params={"territory": other.territory.code}
    )
    assert fragment.status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"day": "2026-13-45"}, {"day": "yesterday"}, {"view": "month"}, {"territory": "x" * 200}],
)
async def test_bad_query_values_get_a_clear_400_page(
    web: Any, build: Builder, params: dict[str, str]
) -> None:
    area = await build.area()
    await sign_in(web, await build.person(Role.DISPATCHER, area.territory))
    response = await web.get("/dispatch/schedule", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text


async def test_schedule_fragment_answers_304_until_a_visit_changes(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    start = _tomorrow_at(11)
    visit = await build.visit(await build.order(area), tech.technician, start=start)
    await sign_in(web, dispatcher)
    params = {"day": start.astimezone(ALMATY).date().isoformat()}
    first = await web.get("/dispatch/schedule/fragment", params=params)
    assert first.status_code == 200
    assert 'id="schedule-grid"' in first.text
    assert "<html" not in first.text
    etag = first.headers["etag"]
    again = await web.get(
        "/dispatch/schedule/fragment", params=params, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, visit.id)
        row.status = "en_route"
        await session.commit()
    changed = await web.get(
        "/dispatch/schedule/fragment", params=params, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert 'data-status="en_route"' in changed.text


async def test_map_page_embeds_geojson_layers_and_no_tiles_by_default(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    await build.visit(await build.order(area), tech.technician, start=datetime.now(UTC))
    async with build.sessionmaker() as session:
        site = await session.get_one(Site, area.site.id)
        site.address = "ул. </script><script>alert(1)</script> & Co"
        await session.commit()
    await sign_in(web, dispatcher)
    page = await web.get("/dispatch/map")
    assert page.status_code == 200, page.text
    # The address stays data inside the JSON block: no markup of it reaches the page.
    assert "<script>alert(1)" not in page.text
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page.text
    assert 'id="layer-outlines"' in page.text
    assert '"MultiPolygon"' in page.text
    assert 'data-tile-url=""' in page.text
    assert "/static/vendor/leaflet/leaflet.js" in page.text
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]


async def _late_visit(build: Builder, area: Any, tech: Person) -> Visit:
    assert tech.technician is not None
    visit = await build.visit(
        await build.order(area, status="scheduled"), tech.technician, start=_tomorrow_at(10)
    )
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, visit.id)
        row.late_notified_at = datetime.now(UTC)
        await session.commit()
    return visit


async def test_lateness_inbox_page_informed_form_needs_csrf_and_records_once(
    web: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    outsider = await build.person(Role.DISPATCHER, other.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    visit = await _late_visit(build, area, tech)
    await sign_in(web, dispatcher)
    page = await web.get("/dispatch/lateness")
    assert page.status_code == 200, page.text
    assert 'href="tel:+77011234567"' in page.text
    token = _CSRF.search(page.text)
    assert token
    url = f"/dispatch/lateness/{visit.id}/informed"
    live = await web.get("/dispatch/lateness/fragment")  # what the page polls
    assert live.status_code == 200
    assert f'data-visit="{visit.id}"' in live.text
    assert "<html" not in live.text
    kazakh = await web.get("/dispatch/lateness", params={"lang": "kk"})
    assert "Бүгінгі кешігулер" in kazakh.text

    async def contacts() -> int:
        async with build.sessionmaker() as session:
            rows = await session.scalars(
                select(WorkOrderEvent).where(
                    WorkOrderEvent.visit_id == visit.id, WorkOrderEvent.kind == "customer.contacted"
                )
            )
            return len(rows.all())

    forged = await web.post(url, data={"csrf": "forged", "territory": area.territory.code})
    assert forged.status_code == 403
    assert await contacts() == 0
    done = await web.post(url, data={"csrf": token[1], "territory": area.territory.code})
    assert done.status_code == 303
    assert "notice=informed" in done.headers["location"]
    twice = await web.post(url, data={"csrf": token[1], "territory": area.territory.code})
    assert "notice=already_informed" in twice.headers["location"]
    assert await contacts() == 1
    shown = await web.get(done.headers["location"])
    assert 'role="status"' in shown.text
    web.cookies.clear()
    await sign_in(web, outsider)
    other_page = await web.get("/dispatch/lateness")
    assert str(visit.id) not in other_page.text
    other_token = _CSRF.search(other_page.text)
    assert other_token
    refused = await web.post(url, data={"csrf": other_token[1]})
    assert refused.status_code == 404
    assert await contacts() == 1
    async with build.sessionmaker() as session:
        audits = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.contacted")
        )
        assert [a for a in audits.all() if a.after and a.after.get("visit_id") == str(visit.id)]


async def test_lateness_reassign_form_moves_the_visit_or_explains_why_not(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    busy = await build.technician_at(area, 0.5, 0.5)
    visit = await _late_visit(build, area, busy)
    await sign_in(web, dispatcher)
    page = await web.get("/dispatch/lateness")
    token = _CSRF.search(page.text)
    assert token
    url = f"/dispatch/lateness/{visit.id}/reassign"
    nobody = await web.post(url, data={"csrf": token[1]})
    assert nobody.status_code == 303
    assert "error=no_candidate" in nobody.headers["location"]
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, visit.id)).technician_id == busy.technician.id  # type: ignore[union-attr]
    free = await build.technician_at(area, 0.5, 0.5)
    moved = await web.post(url, data={"csrf": token[1]})
    assert "notice=reassigned" in moved.headers["location"]
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, visit.id)).technician_id == free.technician.id  # type: ignore[union-attr]
