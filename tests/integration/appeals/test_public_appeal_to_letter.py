"""A complaint from the public form to a sent, verifiable answer letter; the form's defences."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import msgspec
import pytest
from babel.dates import format_date
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import Appeal, AppealLetter, OutboxMessage
from service.settings import Settings
from service.storage import build_blob_store
from tests.conftest import problem
from tests.integration.acts.conftest import Acts, Field, random_tax_id
from tests.integration.builders import Builder
from tests.integration.ratings.helpers import rated_visit
from tests.photo_samples import png

pytestmark = pytest.mark.asyncio
# Browsers send the form as multipart (FormData) with an empty file part when none is chosen.
NO_FILE = {"file": ("", b"", "application/octet-stream")}


def form(territory_code: str, **fields: str) -> dict[str, str]:
    return {
        "kind": "complaint",
        "territory": territory_code,
        "author_name": "Иванова Мария Петровна",
        "text": "Мастер опоздал на три часа и не предупредил.",
        "reply_channel": "sms",
        "contact_phone": "+77015550101",
        "language": "ru",
        **fields,
    }


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_public_complaint_to_a_verifiable_letter(client: Any, build: Builder) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    page = await client.get("/appeal?lang=kk")
    assert page.status_code == 200
    assert "Өтініш немесе шағым" in page.text
    assert area.territory.code in page.text

    sent = await client.post(
        "/appeal",
        data=form(area.territory.code),
        files={"file": ("door.png", png(), "image/png")},
    )
    assert sent.status_code == 201, sent.text
    received = sent.json()
    status_path = path_of(received["status_url"])
    status = await client.get(status_path)
    assert status.status_code == 200
    assert received["number"] in status.text
    assert "зарегистрировано" in status.text
    assert "Иванова" not in status.text  # the status page shows no name and no text

    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.number == received["number"]))
        assert appeal is not None
        assert appeal.channel == "web"
        assert appeal.territory_id == area.territory.id
    base = f"/api/v1/appeals/{appeal.id}"
    view = (await client.get(base, headers=coordinator.headers)).json()
    assert len(view["attachments"]) == 1
    decided = await client.post(
        f"{base}/decision",
        json={
            "decision": "justified",
            "reasons": "Опоздание подтверждено журналом выездов.",
            "reason_codes": ["missed_visit"],
        },
        headers=coordinator.headers,
    )
    assert decided.status_code == 200, decided.text
    due = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    measure = await client.post(
        f"{base}/measures",
        json={
            "description": "Инструктаж мастера о предупреждении клиента",
            "owner_id": str(coordinator.user.id),
            "due_at": due,
        },
        headers=coordinator.headers,
    )
    assert measure.status_code == 200, measure.text
    answered = await client.post(
        f"{base}/answer",
        json={"merits": "Приносим извинения. Мастер получит замечание; визит перенесён."},
        headers=coordinator.headers,
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["state"] == "answered"
    assert body["clock"]["status"] == "met"
    letter = body["letter"]
    assert letter is not None

    # The customer's link now offers the letter; the PDF is the stored one.
    status = await client.get(status_path)
    assert "Скачать письмо с ответом (PDF)" in status.text
    download = await client.get(f"{status_path}/letter", follow_redirects=False)
    assert download.status_code == 307
    pdf = (await client.get(path_of(download.headers["location"]))).content
    assert hashlib.sha256(pdf).hexdigest() == letter["pdf_sha256"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "Уважаемая Мария Петровна!" in flat
    assert f"Ответ на обращение № {received['number']}" in flat
    assert "Мастер опоздал на три часа" in flat
    assert "Жалоба признана обоснованной." in flat
    assert "Инструктаж мастера" in flat
    assert "Приносим извинения." in flat
    assert "по местному времени" in flat  # the letter's time on the territory's clock
    assert "Тест Тестов" in flat  # the responsible person, with the company's phone
    assert letter["public_id"] in flat  # the verification address in the footer

    record = await client.get(f"/verify/letters/{letter['public_id']}")
    assert record.status_code == 200
    assert record.json()["pdf_sha256"] == letter["pdf_sha256"]
    assert record.json()["appeal_number"] == received["number"]
    assert "Иванова" not in record.text
    assert (await client.get("/verify/letters/nosuchletterxxxxxxxx")).status_code == 404
    # The QR code printed on the letter opens a phone's browser: a page for people, in the
    # letter's language unless the browser or ?lang= asks for another; JSON stays for programs.
    qr_target = path_of(letter["verify_url"])
    assert qr_target == f"/verify/letters/{letter['public_id']}"
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    shown = await client.get(qr_target, headers=html)
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("text/html")
    assert shown.headers["content-language"] == "ru"
    assert "Проверка письма с ответом" in shown.text
    assert received["number"] in shown.text
    assert letter["pdf_sha256"] in shown.text
    assert letter["snapshot_sha256"] in shown.text
    assert "Ответ отправлен клиенту" in shown.text
    assert "Asia/Almaty (UTC+05:00)" in shown.text  # sent at, on the territory's clock
    assert 'href="/appeal?lang=ru"' in shown.text  # another appeal, as from the act's page
    assert "Иванова" not in shown.text
    assert "Мастер опоздал" not in shown.text
    kazakh = await client.get(qr_target, headers={**html, "Accept-Language": "kk-KZ,kk;q=0.9"})
    assert "Жауап хатын тексеру" in kazakh.text
    assert (
        "Answer letter verification"
        in (await client.get(f"{qr_target}?lang=en", headers=html)).text
    )
    as_json = await client.get(qr_target, headers={"Accept": "application/json"})
    assert as_json.json()["public_id"] == letter["public_id"]
    missing = await client.get("/verify/letters/nosuchletterxxxxxxxx", headers=html)
    assert missing.status_code == 404
    assert "Письмо не найдено" in missing.text

    async with build.sessionmaker() as session:
        events = (
            await session.scalars(
                select(OutboxMessage.event)
                .where(OutboxMessage.context["appeal_number"].astext == received["number"])
                .order_by(OutboxMessage.created_at)
            )
        ).all()
        assert list(events) == ["appeal.registered", "appeal.answered"]
        stored = await session.scalar(
            select(AppealLetter).where(AppealLetter.appeal_id == appeal.id)
        )
        assert stored is not None
        assert stored.language == "ru"
    again = await client.post(
        f"{base}/answer", json={"merits": "Второй ответ"}, headers=coordinator.headers
    )
    assert problem(again)["status"] == 409  # one letter, stored once


async def test_public_form_refuses_bad_input_and_stores_nothing(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    before = await build.count(Appeal)
    for fields, files in (
        (form(area.territory.code, website="http://spam.example"), None),
        (form(area.territory.code, text="  "), None),
        (form(area.territory.code, contact_phone="12345"), None),
        (form(area.territory.code, kind="gossip"), None),
        (form("NOSUCH"), None),
        (form(area.territory.code, reply_channel="email"), None),
        (form(area.territory.code), {"file": ("x.png", b"%PDF-1.4 not a png", "image/png")}),
        (form(area.territory.code), {"file": ("x.exe", b"MZ\x90\x00", "application/x-msdownload")}),
    ):
        response = await client.post("/appeal", data=fields, files=files or NO_FILE)
        assert response.status_code == 422, (fields, response.text)
        problem(response)
    # A "file" part without a filename arrives as text, not as a file (schemathesis sent one).
    for part, field in ((b"a picture", "file"), (b"\x89PNG\r\n", "form")):
        as_text = await client.post(
            "/appeal", data=form(area.territory.code), files={"file": (None, part)}
        )
        assert as_text.status_code == 422, as_text.text
        assert problem(as_text)["errors"][0]["field"] == field
    assert await build.count(Appeal) == before
    assert (await client.get("/appeal/status/" + "x" * 30)).status_code == 404
    assert (await client.get(f"/appeal/status/{uuid.uuid4().hex}/letter")).status_code == 404


async def test_an_anonymous_flood_is_refused_and_nothing_more_is_stored(
    fresh_settings: Settings, fresh_build: Builder
) -> None:
    """More than the hourly limit from one address: 429 problem+json, no appeal stored for it.

    The count lives in this test's own database, so it starts at zero: the first ``limit``
    appeals are accepted. Should the hour turn during the test, the new window admits up to
    ``limit`` more; 2 * limit + 1 requests still meet a refusal either way.
    """
    from service.app import create_app

    limit = 3
    auth = msgspec.structs.replace(fresh_settings.auth, appeal_rate_per_hour=limit)
    app = create_app(msgspec.structs.replace(fresh_settings, auth=auth))
    area = await fresh_build.area()
    codes: list[int] = []
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        for _ in range(2 * limit + 1):
            response = await client.post("/appeal", data=form(area.territory.code), files=NO_FILE)
            codes.append(response.status_code)
            if response.status_code == 429:
                refused = response
        # Another surface of the same address is not used up by the form.
        assert (await client.get("/appeal?lang=ru")).status_code == 200
    assert codes[:limit] == [201] * limit
    assert 429 in codes
    assert set(codes) == {201, 429}
    assert problem(refused)["status"] == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert await fresh_build.count(Appeal) == codes.count(201) <= 2 * limit


async def test_the_customer_is_told_the_last_day_the_deadline_gives(
    client: Any, build: Builder
) -> None:
    # The deadline is local midnight (seed 001 §6.1: 7 calendar days): the day before it is the
    # last one an answer may come on, and that is the date the customer reads.
    area = await build.area()
    sent = await client.post(
        "/appeal", data=form(area.territory.code), files={"file": ("door.png", png(), "image/png")}
    )
    assert sent.status_code == 201, sent.text
    received = sent.json()
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.number == received["number"]))
        assert appeal is not None
    local_due = appeal.due_at.astimezone(ZoneInfo(area.territory.time_zone))
    assert (local_due.hour, local_due.minute) == (0, 0)
    last_day = format_date(local_due.date() - timedelta(days=1), "d MMMM y", locale="ru")
    assert received["due_text"] == last_day
    status = await client.get(path_of(received["status_url"]))
    assert f"Срок ответа — не позднее {last_day}." in status.text
    assert format_date(local_due.date(), "d MMMM y", locale="ru") not in status.text


async def test_public_form_about_an_act_links_it_and_refuses_an_unknown_act(
    client: Any, build: Builder, settings: Settings
) -> None:
    rated = await rated_visit(build)
    field = Field(
        rated.area, rated.technician, rated.technician, rated.order, rated.visit, random_tax_id()
    )
    act = await Acts(build=build, settings=settings, store=build_blob_store(settings)).draft(field)
    # The act decides the territory: no territory field is sent (the form hides it).
    sent = await client.post("/appeal", data=form("", act=act.public_id), files=NO_FILE)
    assert sent.status_code == 201, sent.text
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.number == sent.json()["number"]))
    assert appeal is not None
    assert (appeal.act_id, appeal.visit_id, appeal.work_order_id, appeal.customer_id) == (
        act.id,
        rated.visit.id,
        rated.order.id,
        rated.area.customer.id,
    )
    assert appeal.territory_id == rated.area.territory.id
    # An act id that names no act is refused, even with a territory to fall back on.
    before = await build.count(Appeal)
    for unknown in ("x" * 20, "not an id", act.public_id[:-1] + "0"):
        refused = await client.post(
            "/appeal", data=form(rated.area.territory.code, act=unknown), files=NO_FILE
        )
        assert refused.status_code == 422, (unknown, refused.text)
        assert problem(refused)["errors"][0]["field"] == "act"
    assert await build.count(Appeal) == before


async def test_public_pages_refuse_oversized_and_unknown_input_and_store_nothing(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    before = await build.count(Appeal)
    code = area.territory.code
    for fields in (
        form(code, text="ж" * 8001),
        form(code, author_name="ж" * 201),
        form(code, contact_email="x" * 250 + "@example.com"),
        form(code, act="x" * 33),
        form(code, language="de"),
        form(code, reply_channel="pigeon"),
        form("x" * 33),
    ):
        response = await client.post("/appeal", data=fields, files=NO_FILE)
        assert response.status_code == 422, (fields, response.text)
        problem(response)
    assert await build.count(Appeal) == before
    # The form's page with an unknown or oversized act: the plain form, or a 4xx; never a 5xx.
    assert (await client.get("/appeal?act=nosuchact")).status_code == 200
    assert problem(await client.get("/appeal?act=" + "x" * 65))["status"] == 422
    for token in ("x" * 15, "x" * 101, "ж" * 30):
        assert (await client.get(f"/appeal/status/{token}")).status_code == 404
        assert (await client.get(f"/appeal/status/{token}/letter")).status_code == 404
    assert (await client.get("/verify/letters/" + "x" * 40)).status_code == 404
