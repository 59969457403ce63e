"""The dispatcher's pages over the staff cookie session: scope, roles, booking, bad input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import AuditEntry, Customer, Site, Visit, WorkOrder
from tests.integration.builders import Area, Builder, Person
from tests.integration.staff.forms import csrf, sign_in

pytestmark = pytest.mark.asyncio

_SLOT = re.compile(r'name="slot" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


@dataclass
class Scene:
    area: Area
    other: Area
    dispatcher: Person
    other_dispatcher: Person
    tech: Person
    order: WorkOrder
    foreign: WorkOrder


@pytest.fixture
async def scene(build: Builder) -> Scene:
    area = await build.area()
    other = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    other_dispatcher = await build.person(Role.DISPATCHER, other.territory)
    tech = await build.technician_at(area, 0.51, 0.5)
    now = datetime.now(UTC)
    order = await build.order(area, control_deadline=now + timedelta(hours=30))
    foreign = await build.order(other, control_deadline=now + timedelta(hours=3))
    return Scene(area, other, dispatcher, other_dispatcher, tech, order, foreign)


async def test_sign_in_returns_to_the_page_wanted_or_the_roles_home(
    web: Any, scene: Scene, build: Builder
) -> None:
    home = await sign_in(web, scene.dispatcher)
    assert home.status_code == 303
    assert home.headers["location"] == "/dispatch"
    web.cookies.clear()
    wanted = f"/dispatch/orders/{scene.order.id}"
    assert (await sign_in(web, scene.dispatcher, wanted)).headers["location"] == wanted
    web.cookies.clear()
    # Never off-site, and never to a section the role may not open.
    assert (await sign_in(web, scene.dispatcher, "//evil.example/x")).headers[
        "location"
    ] == "/dispatch"
    web.cookies.clear()
    supervisor = await build.person(Role.SUPERVISOR, scene.area.territory)
    assert (await sign_in(web, supervisor, "/dispatch")).headers[
        "location"
    ] == "/coordinate"  # its home: the overdue desk


async def test_anonymous_gets_the_sign_in_never_json(web: Any, scene: Scene) -> None:
    page = await web.get("/dispatch?q=123")
    assert page.status_code == 303
    assert page.headers["location"] == "/staff/login?next=%2Fdispatch%3Fq%3D123"
    panel = await web.get(f"/dispatch/orders/{scene.order.id}")
    assert panel.status_code == 303
    assert panel.headers["location"].startswith("/staff/login?next=")
    fragment = await web.get("/dispatch/queue")
    assert fragment.status_code == 401  # the page's script shows "session expired"
    offers = await web.get(f"/dispatch/orders/{scene.order.id}/offers")
    assert offers.status_code == 401
    login = await web.get(page.headers["location"])
    assert login.status_code == 200
    assert login.headers["content-type"].startswith("text/html")
    assert 'name="next" value="/dispatch?q=123"' in login.text


async def test_technician_and_supervisor_get_pages_not_json(
    web: Any, scene: Scene, build: Builder
) -> None:
    refused = await sign_in(web, scene.tech)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in refused.text
    assert "staff_access" not in refused.headers.get("set-cookie", "")
    supervisor = await build.person(Role.SUPERVISOR, scene.area.territory)
    await sign_in(web, supervisor)
    for url in ("/dispatch", f"/dispatch/orders/{scene.order.id}", "/dispatch/queue"):
        page = await web.get(url)
        assert page.status_code == 403, url
        assert page.headers["content-type"].startswith("text/html")
        assert "Not for your role" in page.text


async def test_queue_shows_own_territory_only_and_finds_by_phone(
    web: Any, scene: Scene, build: Builder
) -> None:
    scheduled = await build.order(scene.area, status="scheduled")
    await build.visit(scheduled, scene.tech.technician)  # type: ignore[arg-type]
    await sign_in(web, scene.dispatcher)
    page = await web.get("/dispatch")
    assert page.status_code == 200
    assert scene.order.number in page.text
    assert scene.foreign.number not in page.text  # another territory's order
    assert scheduled.number not in page.text  # has a live visit: not waiting
    assert "Content-Security-Policy" in page.headers
    assert "/static/vendor/htmx/htmx.min.js" in page.text
    found = await web.get("/dispatch/queue", params={"q": "701 123 45"})
    assert found.status_code == 200
    assert scene.order.number in found.text
    # The customer's number as a caller dictates it, with the trunk prefix.
    dialled = await web.get("/dispatch/queue", params={"q": "8 701 123 45 67"})
    assert scene.order.number in dialled.text
    missing = await web.get("/dispatch/queue", params={"q": "+7 999 000 11 22"})
    assert scene.order.number not in missing.text
    by_address = await web.get("/dispatch/queue", params={"q": "Абая"})
    assert scene.order.number in by_address.text
    by_type = await web.get("/dispatch/queue", params={"type": "installation"})
    assert scene.order.number not in by_type.text
    by_skill = await web.get("/dispatch/queue", params={"skill": "repair", "priority": "normal"})
    assert scene.order.number in by_skill.text
    other_skill = await web.get("/dispatch/queue", params={"skill": "welding"})
    assert scene.order.number not in other_skill.text


async def test_another_territorys_order_is_a_404_page(web: Any, scene: Scene) -> None:
    await sign_in(web, scene.other_dispatcher)
    panel = await web.get(f"/dispatch/orders/{scene.order.id}")
    assert panel.status_code == 404
    assert panel.headers["content-type"].startswith("text/html")
    assert scene.order.number not in panel.text
    offers = await web.get(f"/dispatch/orders/{scene.order.id}/offers")
    assert offers.status_code == 404
    token = csrf((await web.get("/dispatch")).text)
    booked = await web.post(
        f"/dispatch/orders/{scene.order.id}/book",
        data={"csrf": token, "version": "1", "slot": "x", "agreed_with": "A", "channel": "phone"},
    )
    assert booked.status_code == 404
    assert (
        await web.post(
            f"/dispatch/orders/{scene.order.id}/cancel",
            data={"csrf": token, "version": "1", "reason": "Дубликат"},
        )
    ).status_code == 404


async def _panel(web: Any, scene: Scene, **params: str) -> Any:
    page = await web.get(f"/dispatch/orders/{scene.order.id}", params={"offers": "1", **params})
    assert page.status_code == 200, page.text
    return page


async def test_booking_from_an_offer_reaches_the_technicians_day(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    assert 'href="tel:+77011234567"' in page.text
    slot = _SLOT.search(page.text)
    assert slot, "the panel offers slots"
    version = _VERSION.search(page.text)
    assert version
    booked = await web.post(
        f"/dispatch/orders/{scene.order.id}/book",
        data={
            "csrf": csrf(page.text),
            "version": version[1],
            "slot": slot[1],
            "agreed_with": "Әлия Нұрланова",
            "channel": "phone",
        },
    )
    assert booked.status_code == 303, booked.text
    assert booked.headers["location"].endswith("notice=booked")
    async with build.sessionmaker() as session:
        visit = await session.scalar(select(Visit).where(Visit.work_order_id == scene.order.id))
    assert visit is not None
    assert visit.agreed_with == "Әлия Нұрланова"
    assert visit.agreement_channel == "phone"
    assert visit.created_by == scene.dispatcher.user.id
    day = visit.agreed_window.lower.astimezone(  # type: ignore[union-attr]
        __import__("zoneinfo").ZoneInfo(scene.area.territory.time_zone)
    ).date()
    api_day = await web.get(
        f"/api/v1/technicians/{visit.technician_id}/day",
        params={"date": day.isoformat()},
        headers=scene.dispatcher.headers,
    )
    assert api_day.status_code == 200, api_day.text
    assert scene.order.number in [s["work_order_number"] for s in api_day.json()["stops"]]
    shown = await web.get(booked.headers["location"])
    assert "The visit is booked." in shown.text


async def test_offers_lead_with_each_free_technicians_best_window(
    web: Any, scene: Scene, build: Builder
) -> None:
    # The nearer technician is best in every window; a second one, farther off, is free too.
    assert scene.tech.technician is not None
    farther = await build.technician_at(scene.area, 0.58, 0.5)
    assert farther.technician is not None
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    best = page.text.split('<ul class="candidates best"', 1)[1].split("</ul>", 1)[0]
    leading = [v.split("|")[2] for v in _SLOT.findall(best)]
    # One row each, the nearer first: the first screen is no longer one technician's day.
    assert leading == [str(scene.tech.technician.id), str(farther.technician.id)]
    # Their other windows follow by time, each window-technician pair offered exactly once.
    every = _SLOT.findall(page.text.split('id="book-list"', 1)[1].split("</fieldset>", 1)[0])
    assert len(every) == len(set(every)) > 2
    assert {v.split("|")[2] for v in every} == set(leading)


async def test_offers_print_distances_as_the_act_does(web: Any, scene: Scene) -> None:
    # format_distance: whole metres below 1 km, then kilometres with the page's decimal mark.
    await sign_in(web, scene.dispatcher)
    for lang, pattern in (("en", r"\d+ m|\d+\.\d km"), ("ru", r"\d+ м|\d+,\d км")):
        page = await _panel(web, scene, lang=lang)
        subs = re.findall(r'<span class="sub">([^<·]+) ·', page.text)
        assert subs
        for distance in subs:
            assert re.fullmatch(pattern, distance.strip()), (lang, subs)


async def test_booking_form_errors_keep_what_was_typed_and_write_nothing(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    slot = _SLOT.search(page.text)
    assert slot
    refused = await web.post(
        f"/dispatch/orders/{scene.order.id}/book",
        data={
            "csrf": csrf(page.text),
            "version": "1",
            "slot": slot[1],
            "agreed_with": "",
            "channel": "sms",
        },
    )
    assert refused.status_code == 422
    assert "Say who agreed, and how." in refused.text
    assert 'value="sms" selected' in refused.text
    assert f'value="{slot[1]}" checked' in refused.text
    assert await build.count(Visit, Visit.work_order_id == scene.order.id) == 0
    # A form without the session's CSRF token does nothing either.
    forged = await web.post(
        f"/dispatch/orders/{scene.order.id}/book",
        data={
            "csrf": "forged",
            "version": "1",
            "slot": slot[1],
            "agreed_with": "A",
            "channel": "phone",
        },
    )
    assert forged.status_code == 403
    assert await build.count(Visit, Visit.work_order_id == scene.order.id) == 0


async def test_a_stale_page_is_told_and_keeps_the_typed_reason(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, scene.order.id)
        order.description = "Changed by someone else meanwhile"
        await session.commit()
    stale = await web.post(
        f"/dispatch/orders/{scene.order.id}/cancel",
        data={"csrf": csrf(page.text), "version": "1", "reason": "Клиент передумал"},
    )
    assert stale.status_code == 412
    assert "The order changed while you were working" in stale.text
    assert "Клиент передумал</textarea>" in stale.text
    assert "Changed by someone else meanwhile" in stale.text
    async with build.sessionmaker() as session:
        assert (await session.get_one(WorkOrder, scene.order.id)).status == "new"


async def test_a_taken_slot_shows_just_taken_with_fresh_offers(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    slot = _SLOT.search(page.text)
    assert slot
    start, end, technician = slot[1].split("|")
    rival = await build.order(scene.area)
    taken = await web.post(
        f"/api/v1/work-orders/{rival.id}/visits",
        json={
            "window": {"start": start, "end": end},
            "agreed_by": {"name": "Кто-то", "channel": "phone"},
            "technician_id": technician,
        },
        headers=scene.dispatcher.headers,
    )
    assert taken.status_code == 201, taken.text
    lost = await web.post(
        f"/dispatch/orders/{scene.order.id}/book",
        data={
            "csrf": csrf(page.text),
            "version": "1",
            "slot": slot[1],
            "agreed_with": "Әлия",
            "channel": "phone",
        },
    )
    assert lost.status_code == 409
    assert "That window was just taken. Here are fresh offers." in lost.text
    assert f'value="{slot[1]}"' not in lost.text  # the taken slot is not offered again
    assert 'value="Әлия"' in lost.text
    assert await build.count(Visit, Visit.work_order_id == scene.order.id) == 0


async def test_reschedule_without_a_reason_is_refused_in_the_page(
    web: Any, scene: Scene, build: Builder
) -> None:
    assert scene.tech.technician is not None
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, scene.order.id)
        order.status = "scheduled"
        await session.commit()
    visit = await build.visit(scene.order, scene.tech.technician)
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    slot = _SLOT.search(page.text)
    assert slot
    refused = await web.post(
        f"/dispatch/orders/{scene.order.id}/visits/{visit.id}/reschedule",
        data={
            "csrf": csrf(page.text),
            "version": str(visit.version),
            "slot": slot[1],
            "reason": "",
            "agreed_with": "Әлия",
            "channel": "phone",
            "note": "позже",
        },
    )
    assert refused.status_code == 422
    assert "Give a reason." in refused.text
    assert "позже</textarea>" in refused.text
    assert (
        await build.count(
            AuditEntry,
            AuditEntry.entity_id == str(visit.id),
            AuditEntry.action == "visit.rescheduled",
        )
        == 0
    )


async def test_customer_form_checks_phones_and_points_and_keeps_what_was_typed(
    web: Any, scene: Scene, build: Builder
) -> None:
    await sign_in(web, scene.dispatcher)
    form = await web.get("/dispatch/customers/new")
    assert form.status_code == 200
    assert 'id="site-lat"' in form.text  # the hook a map picker fills
    typed = {
        "csrf": csrf(form.text),
        "territory": str(scene.area.territory.id),
        "full_name": "Ахметова Динара",
        "phones": "701 12",
        "preferred_language": "kk",
        "address": "г. Алматы, ул. Толе би, 5",
        "lat": str(scene.area.origin[1] + 0.4),
        "lon": str(scene.area.origin[0] + 0.4),
    }
    refused = await web.post("/dispatch/customers", data=typed)
    assert refused.status_code == 422
    assert "Phone as +77011234567 (with the country code)." in refused.text
    assert 'value="Ахметова Динара"' in refused.text
    assert 'value="701 12"' in refused.text
    assert await build.count(Customer, Customer.full_name == "Ахметова Динара") == 0
    outside = await web.post(
        "/dispatch/customers", data={**typed, "phones": "8 701 555 44 33", "lat": "95"}
    )
    assert outside.status_code == 422
    assert "Latitude −90 to 90" in outside.text
    assert await build.count(Customer, Customer.full_name == "Ахметова Динара") == 0
    saved = await web.post("/dispatch/customers", data={**typed, "phones": "8 701 555 44 33"})
    assert saved.status_code == 303, saved.text
    async with build.sessionmaker() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.full_name == "Ахметова Динара")
        )
        assert customer is not None
        assert customer.phones == ["+77015554433"]
        assert await session.scalar(select(Site.address).where(Site.customer_id == customer.id))
    # Another territory's dispatcher does not see the customer.
    web.cookies.clear()
    await sign_in(web, scene.other_dispatcher)
    assert (await web.get(f"/dispatch/customers/{customer.id}")).status_code == 404
    token = csrf((await web.get("/dispatch")).text)
    changed = await web.post(
        f"/dispatch/customers/{customer.id}",
        data={"csrf": token, "full_name": "Чужой", "phones": "+77010000000"},
    )
    assert changed.status_code == 404
    async with build.sessionmaker() as session:
        assert (await session.get_one(Customer, customer.id)).full_name == "Ахметова Динара"


async def _planned_visit(scene: Scene, build: Builder) -> Visit:
    """The scene's order scheduled, with a visit of the scene's technician tomorrow at 10:00."""
    assert scene.tech.technician is not None
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, scene.order.id)
        order.status = "scheduled"
        await session.commit()
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    start = tomorrow.replace(hour=5, minute=0, second=0, microsecond=0)  # 10:00 in Almaty
    return await build.visit(scene.order, scene.tech.technician, start=start)


async def _visit_row(build: Builder, visit: Visit) -> Visit:
    async with build.sessionmaker() as session:
        return await session.get_one(Visit, visit.id)


async def test_reassign_from_the_panel_moves_the_visit_or_refuses_writing_nothing(
    web: Any, scene: Scene, build: Builder
) -> None:
    visit = await _planned_visit(scene, build)
    other = await build.technician_at(scene.area, 0.52, 0.5)
    assert other.technician is not None
    assert scene.tech.technician is not None
    url = f"/dispatch/orders/{scene.order.id}/visits/{visit.id}/reassign"
    # Another territory's dispatcher: the visit does not exist for them.
    await sign_in(web, scene.other_dispatcher)
    token = csrf((await web.get("/dispatch")).text)
    foreign = await web.post(
        url, data={"csrf": token, "version": "1", "reason": "skills", "technician": ""}
    )
    assert foreign.status_code == 404
    assert foreign.headers["content-type"].startswith("text/html")
    # A coordinator may reschedule but not reassign: a page that says so.
    web.cookies.clear()
    await sign_in(web, await build.person(Role.COORDINATOR, scene.area.territory))
    token = csrf((await web.get(f"/dispatch/orders/{scene.order.id}")).text)
    refused_role = await web.post(
        url, data={"csrf": token, "version": "1", "reason": "skills", "technician": ""}
    )
    assert refused_role.status_code == 403
    assert (await _visit_row(build, visit)).technician_id == scene.tech.technician.id

    web.cookies.clear()
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    assert url in page.text
    form = {
        "csrf": csrf(page.text),
        "version": str(visit.version),
        "technician": str(other.technician.id),
        "note": "Заболел, передаю",
    }
    for bad in ("", "because"):
        refused = await web.post(url, data={**form, "reason": bad})
        assert refused.status_code == 422, bad
        assert "Give a reason." in refused.text
        assert "Заболел, передаю</textarea>" in refused.text
    assert (await _visit_row(build, visit)).technician_id == scene.tech.technician.id

    moved = await web.post(url, data={**form, "reason": "technician_unavailable"})
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"].endswith("notice=reassigned")
    assert (await _visit_row(build, visit)).technician_id == other.technician.id
    assert (
        await build.count(
            AuditEntry,
            AuditEntry.entity_id == str(visit.id),
            AuditEntry.action == "visit.reassigned",
        )
        == 1
    )


async def test_cancelling_a_visit_and_the_order_from_the_panel_needs_a_reason(
    web: Any, scene: Scene, build: Builder
) -> None:
    visit = await _planned_visit(scene, build)
    await sign_in(web, scene.dispatcher)
    page = await _panel(web, scene)
    cancel_visit = f"/dispatch/orders/{scene.order.id}/visits/{visit.id}/cancel"
    assert cancel_visit in page.text
    token = csrf(page.text)
    empty = await web.post(
        cancel_visit, data={"csrf": token, "version": str(visit.version), "reason": "  "}
    )
    assert empty.status_code == 422
    assert "Give a reason." in empty.text
    assert (await _visit_row(build, visit)).status == "planned"

    cancelled = await web.post(
        cancel_visit,
        data={"csrf": token, "version": str(visit.version), "reason": "Клиент в отъезде"},
    )
    assert cancelled.status_code == 303, cancelled.text
    after = await _visit_row(build, visit)
    assert (after.status, after.cancel_reason) == ("cancelled", "Клиент в отъезде")

    # The order itself, at its current version (the visit's cancellation moved it).
    page = await _panel(web, scene)
    version = re.search(
        r'action="/dispatch/orders/[^"]+/cancel".*?name="version" value="(\d+)"', page.text, re.S
    )
    assert version
    cancel_order = f"/dispatch/orders/{scene.order.id}/cancel"
    data = {"csrf": csrf(page.text), "version": version[1]}
    empty = await web.post(cancel_order, data={**data, "reason": ""})
    assert empty.status_code == 422
    async with build.sessionmaker() as session:
        assert (await session.get_one(WorkOrder, scene.order.id)).status != "cancelled"
    done = await web.post(cancel_order, data={**data, "reason": "Дубликат заявки"})
    assert done.status_code == 303, done.text
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, scene.order.id)
    assert (order.status, order.cancel_reason) == ("cancelled", "Дубликат заявки")


async def test_the_panel_names_skills_in_the_page_language(
    web: Any, scene: Scene, build: Builder
) -> None:
    async with build.sessionmaker() as session:
        order = await session.get_one(WorkOrder, scene.order.id)
        order.required_skills = ["repair", "welding"]
        await session.commit()
    await sign_in(web, scene.dispatcher)
    panel = await web.get(f"/dispatch/orders/{scene.order.id}")
    assert panel.status_code == 200, panel.text
    # A work type's skill by its name; the organisation's own skill keeps its code.
    assert "<dt>Skill</dt><dd>Repair, welding</dd>" in panel.text
    ru = await web.get(f"/dispatch/orders/{scene.order.id}", params={"lang": "ru"})
    assert "<dt>Навык</dt><dd>Устранение повреждения, welding</dd>" in ru.text
    # The queue's skill filter offers the same names (it filters by the code it fills in).
    queue = await web.get("/dispatch", params={"lang": "ru"})
    assert '<option value="repair" label="Устранение повреждения"></option>' in queue.text
    assert 'list="f-skills"' in queue.text
    found = await web.get("/dispatch/queue", params={"skill": "repair"})
    assert scene.order.number in found.text


async def test_an_admin_books_reassigns_and_cancels_as_the_api_lets_them(
    web: Any, scene: Scene, build: Builder
) -> None:
    # The API's guards let admins through (require_roles); the console offers them the same.
    admin = await build.person(Role.ADMIN)
    other = await build.technician_at(scene.area, 0.52, 0.5)
    assert other.technician is not None
    await sign_in(web, admin)
    page = await _panel(web, scene)
    slot, version = _SLOT.search(page.text), _VERSION.search(page.text)
    assert slot, "the admin is offered slots"
    assert version
    booked = await web.post(
        f"/dispatch/orders/{scene.order.id}/book",
        data={
            "csrf": csrf(page.text),
            "version": version[1],
            "slot": slot[1],
            "agreed_with": "Әлия Нұрланова",
            "channel": "phone",
        },
    )
    assert booked.status_code == 303, booked.text
    async with build.sessionmaker() as session:
        visit = await session.scalar(select(Visit).where(Visit.work_order_id == scene.order.id))
    assert visit is not None
    assert visit.created_by == admin.user.id
    page = await _panel(web, scene)
    reassign = f"/dispatch/orders/{scene.order.id}/visits/{visit.id}/reassign"
    cancel_visit = f"/dispatch/orders/{scene.order.id}/visits/{visit.id}/cancel"
    assert reassign in page.text
    assert cancel_visit in page.text
    moved = await web.post(
        reassign,
        data={
            "csrf": csrf(page.text),
            "version": str(visit.version),
            "technician": str(other.technician.id),
            "reason": "technician_unavailable",
        },
    )
    assert moved.status_code == 303, moved.text
    visit = await _visit_row(build, visit)
    assert visit.technician_id == other.technician.id
    cancelled = await web.post(
        cancel_visit,
        data={"csrf": csrf(page.text), "version": str(visit.version), "reason": "Клиент уехал"},
    )
    assert cancelled.status_code == 303, cancelled.text
    assert (await _visit_row(build, visit)).status == "cancelled"
    # The order itself and the customer's card: the API's guards let admins do both too.
    page = await _panel(web, scene)
    version = re.search(
        r'action="/dispatch/orders/[^"]+/cancel".*?name="version" value="(\d+)"', page.text, re.S
    )
    assert version, "the admin is offered the order's cancellation"
    done = await web.post(
        f"/dispatch/orders/{scene.order.id}/cancel",
        data={"csrf": csrf(page.text), "version": version[1], "reason": "Дубликат заявки"},
    )
    assert done.status_code == 303, done.text
    async with build.sessionmaker() as session:
        assert (await session.get_one(WorkOrder, scene.order.id)).status == "cancelled"
    customer = f"/dispatch/customers/{scene.area.customer.id}"
    card = await web.get(customer)
    assert card.status_code == 200
    changed = await web.post(
        customer,
        data={"csrf": csrf(card.text), "full_name": "Нұрланова Әлия", "phones": "+77015550199"},
    )
    assert changed.status_code == 303, changed.text
    async with build.sessionmaker() as session:
        row = await session.get_one(Customer, scene.area.customer.id)
    assert (row.full_name, row.phones) == ("Нұрланова Әлия", ["+77015550199"])
