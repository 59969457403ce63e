"""Staff appeal pages (/coordinate/appeals): who may, the whole work of a complaint, refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import (
    Appeal,
    AppealLetter,
    AppealMeasure,
    AppealNote,
    AppealUnitRequest,
)
from tests.integration.appeals.helpers import register
from tests.integration.builders import Builder
from tests.integration.staff.forms import csrf, sign_in

pytestmark = pytest.mark.asyncio
PATH = "/coordinate/appeals"


async def test_the_territory_staff_see_an_appeal_and_dispatchers_only_read_it(
    web: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    foreign = await build.person(Role.COORDINATOR, other.territory)
    technician = await build.person(Role.TECHNICIAN, area.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    appeal = await register(web, coordinator, area)
    page = f"{PATH}/{appeal['id']}"

    # Anonymous: to the sign-in, coming back here.
    for path in (PATH, page, f"{PATH}/new"):
        response = await web.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/login?next=")
    # A technician has no staff session (the sign-in refuses one): still the sign-in.
    await sign_in(web, technician)
    assert (await web.get(page)).status_code == 303
    # A dispatcher of the territory (who takes complaints on the phone) reads the list and the
    # appeal, but is offered none of the forms that work it: only the note.
    web.cookies.clear()
    await sign_in(web, dispatcher)
    listing = (await web.get(PATH)).text
    assert appeal["number"] in listing
    # The analysis is not theirs: no tab leads them to a refusal.
    assert 'href="/coordinate/appeals/analysis"' not in listing
    shown = await web.get(page)
    assert shown.status_code == 200
    for action in ("take", "decision", "measures", "answer", "refusal"):
        assert f'action="{page}/{action}"' not in shown.text, action
    assert f'action="{page}/notes"' in shown.text
    assert 'href="/coordinate/appeals"' in (await web.get("/dispatch")).text
    # Another territory's coordinator: the list does not show it, the page is a 404.
    web.cookies.clear()
    await sign_in(web, foreign)
    listing = await web.get(PATH)
    assert listing.status_code == 200
    assert appeal["number"] not in listing.text
    assert (await web.get(page)).status_code == 404
    token = csrf(listing.text)
    note = await web.post(f"{page}/notes", data={"csrf": token, "text": "чужая заметка"})
    assert note.status_code == 404
    assert await build.count(AppealNote, AppealNote.appeal_id == uuid.UUID(appeal["id"])) == 0
    # The territory's coordinator sees it, with the due time in the territory's zone.
    web.cookies.clear()
    await sign_in(web, coordinator)
    listing = await web.get(f"{PATH}?state=registered&kind=complaint")
    assert listing.status_code == 200
    assert appeal["number"] in listing.text
    assert "Asia/Almaty" in listing.text
    # The navigation marks this section, not the overdue desk it lives under.
    assert 'data-area="appeals" aria-current="page"' in listing.text
    assert 'data-area="coordinate" aria-current' not in listing.text
    assert (await web.get(f"{PATH}?kind=question")).text.count(appeal["number"]) == 0
    # A form without the session's CSRF token does nothing.
    forged = await web.post(f"{page}/notes", data={"csrf": "x", "text": "подделка"})
    assert forged.status_code == 403
    assert await build.count(AppealNote, AppealNote.appeal_id == uuid.UUID(appeal["id"])) == 0


async def test_a_coordinator_registers_works_and_answers_a_complaint(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    await sign_in(web, coordinator)
    form = await web.get(f"{PATH}/new")
    assert form.status_code == 200
    token = csrf(form.text)
    fields = {
        "csrf": token,
        "kind": "complaint",
        "channel": "phone",
        "territory_id": str(area.territory.id),
        "author_name": "Иванова Мария Петровна",
        "text": "Мастер опоздал на три часа.",
        "contact_phone": "+77015550199",
        "reply_channel": "sms",
        "language": "ru",
    }
    before = await build.count(Appeal)
    bad = await web.post(PATH, data={**fields, "contact_phone": "12345"})
    assert bad.status_code == 422
    assert "+77011234567" in bad.text  # the field's own sentence
    assert "Мастер опоздал на три часа." in bad.text  # what was typed is kept
    assert await build.count(Appeal) == before
    created = await web.post(PATH, data=fields)
    assert created.status_code == 303, created.text
    page = created.headers["location"].split("?")[0]
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.contact_phone == "+77015550199"))
    assert appeal is not None
    assert page == f"{PATH}/{appeal.id}"
    assert appeal.channel == "phone"

    async def post(action: str, **data: str) -> Any:
        return await web.post(f"{page}/{action}", data={"csrf": token, **data})

    assert (await post("take")).status_code == 303
    assert (await post("notes", text="Позвонил клиенту, жду журнал.")).status_code == 303
    # A decision without reasons, an answer before the decision: refused, nothing written.
    refused = await post("decision", decision="justified", reasons="  ")
    assert refused.status_code == 422
    early = await post("answer", merits="Ответ")
    assert early.status_code == 409
    assert (await post("refusal", ground="dislike")).status_code == 422
    async with build.sessionmaker() as session:
        row = await session.get_one(Appeal, appeal.id)
        assert (row.decision, row.state, row.refusal_ground) == (None, "in_progress", None)
    decided = await web.post(
        f"{page}/decision",
        data={
            "csrf": token,
            "decision": "justified",
            "reasons": "Опоздание подтверждено журналом выездов.",
            "reason_codes": ["missed_visit", "staff_conduct"],
        },
    )
    assert decided.status_code == 303, decided.text
    assert (await post("answer", merits="Приносим извинения.")).status_code == 409  # measures
    assert (await post("measures", description="Инструктаж", due="not-a-date")).status_code == 422
    # Typed the Russian way into the page's text date field; shown as the day it ends.
    measured = await post("measures", description="Инструктаж мастера", due="10.01.2099")
    assert measured.status_code == 303
    shown = await web.get(measured.headers["location"])
    assert '<td class="nowrap">by the end of 10 Jan</td>' in shown.text
    shown = await web.get(measured.headers["location"], params={"lang": "ru"})
    assert '<td class="nowrap">до конца 10.01</td>' in shown.text
    answered = await post("answer", merits="Приносим извинения. Мастер получил замечание.")
    assert answered.status_code == 303
    shown = await web.get(answered.headers["location"])
    assert shown.status_code == 200
    assert "Письмо отправлено клиенту." in shown.text or "The letter is sent" in shown.text
    letter = await web.get(f"{page}/letter")
    assert letter.status_code == 303
    async with build.sessionmaker() as session:
        row = await session.get_one(Appeal, appeal.id)
        assert row.state == "answered"
        assert row.owner_id == coordinator.user.id
        assert row.reason_codes == ["missed_visit", "staff_conduct"]
        assert await session.scalar(select(AppealLetter).where(AppealLetter.appeal_id == row.id))
    assert await build.count(AppealMeasure, AppealMeasure.appeal_id == appeal.id) == 1
    assert await build.count(AppealNote, AppealNote.appeal_id == appeal.id) == 1
    # Closed: further actions are refused with the reason.
    assert (await post("notes", text="после ответа")).status_code in (303, 409)
    assert (await post("refusal", ground="abusive")).status_code == 409


async def test_every_appeal_action_refuses_the_wrong_caller_and_writes_nothing(
    web: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    foreign = await build.person(Role.COORDINATOR, other.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    appeal_id = uuid.UUID((await register(web, coordinator, area))["id"])
    page = f"{PATH}/{appeal_id}"
    actions: dict[str, dict[str, Any]] = {
        "take": {},
        "notes": {"text": "Заметка"},
        "decision": {"decision": "justified", "reasons": "Подтверждено.", "reason_codes": []},
        "measures": {"description": "Инструктаж", "due": "2099-01-10"},
        "requests": {"unit": "Склад", "question": "Журнал выездов", "due": "2099-01-10"},
        "refusal": {"ground": "abusive"},
        "answer": {"merits": "Ответ по существу."},
    }
    new_appeal = {
        "kind": "complaint",
        "channel": "phone",
        "territory_id": str(area.territory.id),
        "author_name": "Петров Пётр",
        "text": "Не перезвонили.",
        "contact_phone": "+77015550101",
        "reply_channel": "sms",
    }
    appeals = await build.count(Appeal)

    async def unchanged() -> None:
        async with build.sessionmaker() as session:
            row = await session.get_one(Appeal, appeal_id)
            assert (row.owner_id, row.state, row.decision, row.refusal_ground) == (
                None,
                "registered",
                None,
                None,
            )
        for model in (AppealNote, AppealMeasure, AppealLetter, AppealUnitRequest):
            assert await build.count(model, model.appeal_id == appeal_id) == 0
        assert await build.count(Appeal) == appeals

    # Anonymous: to the sign-in, which returns to the page the form was on (the posted address
    # cannot be reloaded).
    for action, data in actions.items():
        answer = await web.post(f"{page}/{action}", data={"csrf": "x", **data})
        assert answer.status_code == 303, action
        assert answer.headers["location"] == f"/staff/login?next={quote(page, safe='')}", action
    answer = await web.post(PATH, data={"csrf": "x", **new_appeal})
    assert answer.headers["location"] == f"/staff/login?next={quote(f'{PATH}/new', safe='')}"
    assert (await web.get(f"{page}/letter")).headers["location"].startswith("/staff/login?")
    await unchanged()

    # A dispatcher (working an appeal is not theirs; the note is, see the first test), another
    # territory's coordinator (the appeal is not theirs to see), and the coordinator with a
    # forged form: refused, nothing written.
    for who, status in ((dispatcher, 403), (foreign, 404), (coordinator, 403)):
        web.cookies.clear()
        await sign_in(web, who)
        token = "forged" if who is coordinator else csrf((await web.get(PATH)).text)
        for action, data in actions.items():
            if who is dispatcher and action == "notes":
                continue
            answer = await web.post(f"{page}/{action}", data={"csrf": token, **data})
            assert answer.status_code == status, (who.user.username, action, answer.text)
        if who is coordinator:
            answer = await web.post(PATH, data={"csrf": token, **new_appeal})
            assert answer.status_code == 403, who.user.username
    assert (await web.get(f"{page}/letter")).status_code == 404  # no letter yet
    web.cookies.clear()
    await sign_in(web, foreign)
    assert (await web.get(f"{page}/letter")).status_code == 404
    # Registering into a territory that is not the caller's, or with a mangled one: refused.
    token = csrf((await web.get(f"{PATH}/new")).text)
    for territory in (str(area.territory.id), "not-a-uuid", ""):
        answer = await web.post(PATH, data={**new_appeal, "csrf": token, "territory_id": territory})
        assert answer.status_code in (403, 422), (territory, answer.text)
    await unchanged()


async def test_mangled_appeal_forms_are_refused_with_the_page_and_write_nothing(
    web: Any, build: Builder
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    await sign_in(web, coordinator)
    token = csrf((await web.get(f"{PATH}/new")).text)
    base = {
        "csrf": token,
        "kind": "complaint",
        "channel": "phone",
        "territory_id": str(area.territory.id),
        "author_name": "Иванова Мария",
        "text": "Мастер не пришёл.",
        "contact_phone": "+77011234567",
        "reply_channel": "sms",
    }
    appeals = await build.count(Appeal)
    for mangled in (
        {"kind": "nonsense"},
        {"channel": "web"},
        {"language": "xx"},
        {"reply_channel": ""},
        {"contact_phone": "", "contact_email": ""},
        {"contact_email": "not-an-email"},
        {"text": "x" * 100_000},
        {"author_name": ""},
    ):
        answer = await web.post(PATH, data={**base, **mangled})
        assert answer.status_code == 422, (mangled, answer.text[:300])
    assert await build.count(Appeal) == appeals
    created = await web.post(PATH, data=base)
    assert created.status_code == 303, created.text
    page = created.headers["location"].split("?")[0]
    appeal_id = uuid.UUID(page.rsplit("/", 1)[1])
    for action, data in (
        ("notes", {"text": ""}),
        ("notes", {"text": "x" * 100_000}),
        ("decision", {"decision": "maybe", "reasons": "Причины"}),
        ("decision", {"decision": "justified", "reasons": "Причины", "reason_codes": "nonsense"}),
        ("refusal", {"ground": ""}),
    ):
        answer = await web.post(f"{page}/{action}", data={"csrf": token, **data})
        assert answer.status_code == 422, (action, data, answer.text[:300])
    async with build.sessionmaker() as session:
        row = await session.get_one(Appeal, appeal_id)
        assert (row.state, row.decision, row.refusal_ground) == ("registered", None, None)
    decided = {"csrf": token, "decision": "justified", "reasons": "Подтверждено."}
    assert (await web.post(f"{page}/decision", data=decided)).status_code == 303
    for action, data in (
        ("measures", {"description": "", "due": "2099-01-10"}),
        ("measures", {"description": "Инструктаж", "due": "99999-01-01"}),
        ("measures", {"description": "Инструктаж", "due": "31.02.2099"}),
        ("answer", {"merits": ""}),
    ):
        answer = await web.post(f"{page}/{action}", data={"csrf": token, **data})
        assert answer.status_code == 422, (action, data, answer.text[:300])
    for model in (AppealNote, AppealMeasure, AppealLetter):
        assert await build.count(model, model.appeal_id == appeal_id) == 0


async def test_a_measure_is_owned_by_whom_the_coordinator_picks_among_the_territory_staff(
    web: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    foreign = await build.person(Role.SUPERVISOR, other.territory)
    appeal_id = uuid.UUID((await register(web, coordinator, area))["id"])
    page = f"{PATH}/{appeal_id}"
    await sign_in(web, coordinator)
    token = csrf((await web.get(page)).text)
    decided = {"csrf": token, "decision": "justified", "reasons": "Подтверждено."}
    assert (await web.post(f"{page}/decision", data=decided)).status_code == 303
    shown = (await web.get(page)).text
    # The territory's staff to choose from, the caller chosen unless another is picked.
    assert f'<option value="{supervisor.user.id}">' in shown
    assert f'<option value="{coordinator.user.id}" selected>' in shown
    assert str(foreign.user.id) not in shown
    measure = {"csrf": token, "description": "Инструктаж мастера", "due": "2099-01-10"}
    for owner in (str(foreign.user.id), "not-a-uuid", str(uuid.uuid4())):
        refused = await web.post(f"{page}/measures", data={**measure, "owner": owner})
        assert refused.status_code == 422, owner
        assert "сотрудников территории" in refused.text or "staff of the appeal" in refused.text
        assert "Инструктаж мастера" in refused.text  # what was typed is kept
    assert await build.count(AppealMeasure, AppealMeasure.appeal_id == appeal_id) == 0
    picked = await web.post(f"{page}/measures", data={**measure, "owner": str(supervisor.user.id)})
    assert picked.status_code == 303, picked.text
    mine = await web.post(f"{page}/measures", data={**measure, "description": "Звонок клиенту"})
    assert mine.status_code == 303, mine.text
    async with build.sessionmaker() as session:
        owners = {
            m.description: m.owner_id
            for m in await session.scalars(
                select(AppealMeasure).where(AppealMeasure.appeal_id == appeal_id)
            )
        }
    assert owners == {
        "Инструктаж мастера": supervisor.user.id,
        "Звонок клиенту": coordinator.user.id,
    }


async def test_a_dispatcher_registers_a_complaint_from_the_order_panel(
    web: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await build.order(area)
    foreign_order = await build.order(other)
    new = f"{PATH}/new?work_order={order.id}"
    # Anonymous: the sign-in, coming back to the prefilled form (a posted one too: a session
    # that ended while the form was open returns to the form still tied to the order).
    assert (await web.get(new)).headers["location"].startswith("/staff/login?next=")
    appeals = await build.count(Appeal)
    posted = await web.post(PATH, data={"csrf": "x", "work_order_id": str(order.id)})
    assert posted.headers["location"] == f"/staff/login?next={quote(new, safe='')}"
    assert await build.count(Appeal) == appeals
    await sign_in(web, dispatcher)
    panel = await web.get(f"/dispatch/orders/{order.id}")
    assert f'href="{PATH}/new?work_order={order.id}"' in panel.text
    form = await web.get(new)
    assert form.status_code == 200
    assert area.customer.full_name in form.text
    assert f'name="work_order_id" value="{order.id}"' in form.text
    # Another territory's order is not this dispatcher's: 404, as the order itself.
    assert (await web.get(f"{PATH}/new?work_order={foreign_order.id}")).status_code == 404
    assert (await web.get(f"{PATH}/new?work_order=nonsense")).status_code == 404
    token = csrf(form.text)
    fields = {
        "csrf": token,
        "kind": "complaint",
        "channel": "phone",
        "territory_id": str(area.territory.id),
        "author_name": area.customer.full_name,
        "text": "Мастер ушёл, не закончив.",
        "contact_phone": "+77015550123",
        "reply_channel": "sms",
        "work_order_id": str(order.id),
    }
    for bad in ({"work_order_id": str(foreign_order.id)}, {"work_order_id": "x"}, {"text": " "}):
        refused = await web.post(PATH, data={**fields, **bad})
        assert refused.status_code == 422, (bad, refused.text[:300])
    other_territory = await web.post(PATH, data={**fields, "territory_id": str(other.territory.id)})
    assert other_territory.status_code == 422
    assert await build.count(Appeal) == appeals
    created = await web.post(PATH, data=fields)
    assert created.status_code == 303, created.text
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.contact_phone == "+77015550123"))
    assert appeal is not None
    assert (appeal.work_order_id, appeal.customer_id) == (order.id, area.customer.id)
    assert appeal.registered_by == dispatcher.user.id
    shown = await web.get(created.headers["location"])
    assert shown.status_code == 200
    assert appeal.number in shown.text
    assert f'<a href="/dispatch/orders/{order.id}">{order.number}</a>' in shown.text
    # The order's panel now lists the appeal, for whoever takes the customer's next call.
    panel = await web.get(f"/dispatch/orders/{order.id}")
    assert f'<a href="{PATH}/{appeal.id}">{appeal.number}</a>' in panel.text


async def test_the_list_says_how_many_appeals_the_filters_find(web: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    for _ in range(3):
        await register(web, coordinator, area)
    await sign_in(web, coordinator)
    listing = await web.get(f"{PATH}?lang=ru")
    assert 'id="appeals-count">Обращения: 3<' in listing.text
    assert 'id="appeals-count">Обращения: 0<' in (await web.get(f"{PATH}?kind=question")).text


async def test_a_coordinator_asks_another_unit_and_records_its_answer(
    web: Any, build: Builder
) -> None:
    area, other = await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    foreign = await build.person(Role.COORDINATOR, other.territory)
    appeal_id = uuid.UUID((await register(web, coordinator, area))["id"])
    page = f"{PATH}/{appeal_id}"
    await sign_in(web, coordinator)
    shown = await web.get(page)
    token = csrf(shown.text)
    async with build.sessionmaker() as session:
        appeal = await session.get_one(Appeal, appeal_id)
    # The last day the request may be due is the appeal's own last day (a midnight deadline).
    last_day = (appeal.due_at - timedelta(seconds=1)).astimezone(ZoneInfo("Asia/Almaty")).date()
    # Date fields in the page's own pattern, not the browser's (mm/dd/yyyy on a Russian page);
    # the appeal's deadline is its last day, as the customer's pages print it.
    assert 'type="date"' not in shown.text
    assert 'id="request-due" name="due" type="text"' in shown.text
    assert 'placeholder="yyyy-mm-dd"' in shown.text
    assert f"by the end of {last_day.day} {last_day:%b}" in shown.text
    assert "00:00 UTC+05" not in shown.text
    ask = {"csrf": token, "unit": "Служба выездных работ", "question": "Журнал выездов"}
    for bad in (
        {"unit": " "},
        {"question": ""},
        {"due": "2001-01-01"},
        {"due": (last_day + timedelta(days=1)).isoformat()},
        {"due": "10.12.2099"},
    ):
        refused = await web.post(f"{page}/requests", data={**ask, "due": str(last_day), **bad})
        assert refused.status_code == 422, (bad, refused.text[:300])
    assert await build.count(AppealUnitRequest, AppealUnitRequest.appeal_id == appeal_id) == 0
    sent = await web.post(f"{page}/requests", data={**ask, "due": f"{last_day:%d.%m.%Y}"})
    assert sent.status_code == 303, sent.text
    shown = await web.get(sent.headers["location"])
    assert f"Answer by the end of {last_day.day} {last_day:%b}" in shown.text
    shown = await web.get(sent.headers["location"], params={"lang": "ru"})
    assert 'placeholder="дд.мм.гггг"' in shown.text
    assert f"Ответ до конца {last_day:%d.%m}" in shown.text
    assert f"до конца {last_day:%d.%m}" in shown.text
    assert "Журнал выездов" in shown.text
    # The unit's name stands alone on its line: no separator left hanging after it.
    assert "<b>Служба выездных работ</b><br>" in shown.text
    assert "Служба выездных работ</b> ·" not in shown.text
    async with build.sessionmaker() as session:
        request = await session.scalar(
            select(AppealUnitRequest).where(AppealUnitRequest.appeal_id == appeal_id)
        )
    assert request is not None
    assert request.due_at <= appeal.due_at
    answer_url = f"{page}/requests/{request.id}/answer"
    # A dispatcher reads it but does not record the answer; a blank answer is refused.
    web.cookies.clear()
    await sign_in(web, dispatcher)
    dispatcher_token = csrf((await web.get(page)).text)
    assert f'action="{answer_url}"' not in (await web.get(page)).text
    answer = {"csrf": dispatcher_token, "answer": "Опоздание подтверждено"}
    assert (await web.post(answer_url, data=answer)).status_code == 403
    # Another territory's coordinator does not see the appeal at all.
    web.cookies.clear()
    await sign_in(web, foreign)
    answer["csrf"] = csrf((await web.get(PATH)).text)
    assert (await web.post(answer_url, data=answer)).status_code == 404
    web.cookies.clear()
    await sign_in(web, coordinator)
    token = csrf((await web.get(page)).text)  # a new sign-in, a new token
    assert (await web.post(answer_url, data={"csrf": token, "answer": " "})).status_code == 422
    async with build.sessionmaker() as session:
        assert (await session.get_one(AppealUnitRequest, request.id)).answer is None
    answer = {"csrf": token, "answer": "Опоздание подтверждено журналом"}
    assert (await web.post(answer_url, data=answer)).status_code == 303
    again = await web.post(answer_url, data={**answer, "answer": "Другой ответ"})
    assert again.status_code == 409
    async with build.sessionmaker() as session:
        assert (await session.get_one(AppealUnitRequest, request.id)).answer == answer["answer"]
    unknown = await web.post(f"{page}/requests/{uuid.uuid4()}/answer", data=answer)
    assert unknown.status_code == 404
