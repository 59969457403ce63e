"""The technician's app at /app on a phone in Chromium: log in, the day, offline, sync, sign.

One browser context per test, few page loads: the app is one page that redraws itself.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import func, select

from checklists.schema import GeoPoint
from service.common.actor import Role
from service.common.geo import point_ewkt
from service.db.models import Act, ChecklistAnswer, Photo, SyncOperation, Visit, WorkOrder
from service.demo.seed import answers_so_far
from service.storage import S3BlobStore
from service.visit_checklists.registry import TemplateRegistry
from tests.browser.axe import serious_violations
from tests.browser.phone import draw_signature, phone_context, watch
from tests.conftest import LIVE_PHOTO_MAX_SIDE, ServedApp, serve_process
from tests.integration.builders import PASSWORD, Area, Builder, Person
from tests.integration.storage.conftest import S3Emulator, make_s3_store, unique_bucket

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

# Screenshots go with the other browser tests' artefacts (kept by CI).
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "tech-app"

# What a technician with gloves would trip on: sideways scroll, cut-off text, tiny targets.
FIT = """() => {
  const width = window.innerWidth;
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => box(el).width > 0 && box(el).height > 0
    && getComputedStyle(el).visibility !== "hidden";
  const inside = (el) => box(el).left >= 0 && box(el).right <= width + 0.5;
  const texts = [...document.querySelectorAll("main h1, main h2, main p, main li")].filter(shown);
  const targets = [...document.querySelectorAll("button, a, select, textarea, input:not(.file)")]
    .filter(shown);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    cutOff: texts.filter((el) => !inside(el)).map((el) => el.textContent.slice(0, 40)),
    small: targets.filter((el) => box(el).height < 44 || box(el).width < 44)
      .map((el) => el.id || el.textContent.slice(0, 30)),
  };
}"""


@dataclass
class Day:
    """A technician with two visits today at one site (the first in progress)."""

    area: Area
    technician: Person
    visits: list[Any]


async def a_day(build: Builder) -> Day:
    area = await build.area()
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    visits = []
    for start, hours in ((now - timedelta(minutes=30), 3), (now + timedelta(hours=3), 2)):
        order = await build.order(area, status="scheduled")
        visits.append(await build.visit(order, technician.technician, start=start, hours=hours))
    return Day(area, technician, visits)


async def phone(browser: Browser, day: Day, **options: Any) -> BrowserContext:
    """A phone standing at the visit's site, geolocation allowed."""
    return await phone_context(browser, at=day.area.point(), **options)


async def log_in(page: Page, server: str, username: str) -> None:
    await page.goto(f"{server}/app/")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_selector("ol.visits")


class OnPhone(NamedTuple):
    """The app open on a phone at the site, its technician signed in, errors watched."""

    context: BrowserContext
    page: Page
    errors: list[str]


async def signed_in(browser: Browser, server: str, day: Day) -> OnPhone:
    """The day's technician opens the app on a phone at the site and signs in."""
    context = await phone(browser, day)
    page = await context.new_page()
    errors = watch(page)
    await log_in(page, server, day.technician.user.username)
    return OnPhone(context, page, errors)


async def fits(page: Page, label: str) -> None:
    fit: dict[str, Any] = await page.evaluate(FIT)
    assert fit["scrollWidth"] <= fit["innerWidth"], (label, fit)
    assert fit["cutOff"] == [], (label, fit)
    assert fit["small"] == [], (label, fit)


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True, scope="module")
def _shots_dir() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


async def test_changing_the_language_keeps_what_was_typed_on_the_sign_in_form(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    context = await phone(browser, day)
    page = await context.new_page()
    errors = watch(page)
    await page.goto(f"{live_server}/app/")
    username = day.technician.user.username
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    # The technician notices the language only after typing: the form is drawn again in it.
    await page.select_option("#lang", "kk")
    await page.locator("html[lang=kk]").wait_for(state="attached")
    assert await page.locator("label[for=password]").inner_text() == "Құпиясөз"
    assert await page.locator("#net").inner_text() == "Желіде"
    assert await page.input_value("#username") == username
    assert await page.input_value("#password") == PASSWORD
    await fits(page, "login typed kk 390")
    await shot(page, "login-typed-kk-390")
    await page.click("form button[type=submit]")
    await page.wait_for_selector("ol.visits")
    assert errors == []
    await context.close()


async def test_a_visit_on_site_shows_the_checks_the_server_already_holds(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    assert day.technician.technician is not None
    site = day.area.point()
    async with build.sessionmaker() as session:
        visit = await session.get_one(Visit, day.visits[0].id)
        order = await session.get_one(WorkOrder, visit.work_order_id)
        visit.status, order.status = "on_site", "in_progress"
        visit.arrived_at = datetime.now(UTC) - timedelta(minutes=10)
        # What the demo's visit on site holds (recorded on another phone, as far as this one knows).
        await answers_so_far(
            session,
            TemplateRegistry(),
            visit,
            order,
            point_ewkt(GeoPoint(lat=site["lat"], lon=site["lon"])),
            {day.technician.technician.id: day.technician.user.id},
        )
        await session.commit()
    context, page, errors = await signed_in(browser, live_server, day)
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    await page.locator("section.step").wait_for()
    # Not "Before departure 0 of 6" for a technician at the door: the arrival's steps come next.
    assert "Перед выездом" not in await page.locator("p.progress").inner_text()
    assert await page.locator("section.step").get_attribute("data-step") == "greeting"
    await fits(page, "visit on site 390")
    await shot(page, "visit-on-site-ru-390")
    assert errors == []
    await context.close()


async def test_a_failed_ask_for_the_servers_answers_is_not_repeated_on_every_step(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    context, page, errors = await signed_in(browser, live_server, day)
    asked: list[str] = []

    async def unavailable(route: Any) -> None:
        asked.append(route.request.url)
        await route.fulfill(status=503, body="")

    await page.route("**/mobile/v1/visits/*/checklist*", unavailable)
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    first = await answer_step(page)
    second = await answer_step(page)
    # Each answer drew the visit again; the server was asked once, when it was opened.
    assert (first, second) != ("", "")
    assert len(asked) == 1, asked
    await page.unroute("**/mobile/v1/visits/*/checklist*")
    errors[:] = [e for e in errors if "503" not in e]
    assert errors == []
    await context.close()


async def test_log_in_and_see_the_day_then_open_it_offline(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    context, page, errors = await signed_in(browser, live_server, day)
    cards = page.locator("ol.visits > li")
    assert await cards.count() == 2
    first = cards.nth(0)
    # The agreed window in the site's local time (Almaty, UTC+5), the customer, the address.
    start = day.visits[0].agreed_window.lower + timedelta(hours=5)
    assert start.strftime("%H:%M") in await first.locator(".when").inner_text()
    assert await first.locator(".who").inner_text() == "Нұрланова Әлия"
    assert "пр. Абая, д. 10" in await first.locator(".where").inner_text()
    geo = await first.locator("a[href^='geo:']").get_attribute("href")
    site = day.area.point()
    assert geo is not None
    # Coordinates to six decimals (a tenth of a metre), as JavaScript prints numbers: -142.0 is
    # "-142", and the stored point's float noise (-122.19999999999999) is gone.
    lat, lon = (f"{round(float(v), 6):.15g}" for v in (site["lat"], site["lon"]))
    assert geo.startswith(f"geo:{lat},{lon}?")
    assert "Asia/Almaty" in await page.locator(".zone").inner_text()
    await fits(page, "day 390")
    await shot(page, "day-ru-390")
    # The shell comes from the service worker, the day from IndexedDB: no network needed.
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await context.set_offline(True)
    await page.reload()
    await page.wait_for_selector("ol.visits")
    assert await page.locator("ol.visits > li").count() == 2
    assert await page.locator("#net").inner_text() == "Нет сети"
    await shot(page, "day-offline-ru-390")
    assert errors == []
    await context.close()


def camera_jpeg() -> bytes:
    """What a phone camera hands over: larger than the app keeps (the server's setting)."""
    image = Image.new("RGB", (2400, 1800), tuple(uuid.uuid4().bytes[:3]))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


# The operations and photos the app holds in IndexedDB (read through the page).
STORED = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("naryad-app");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const all = (name) => new Promise((resolve) => {
    const request = db.transaction(name).objectStore(name).getAll();
    request.onsuccess = () => resolve(request.result);
  });
  const ops = (await all("ops")).map((r) => ({id: r.id, type: r.op.type, state: r.state,
    status: r.result ? r.result.status : null}));
  const photos = (await all("photos")).map((p) => ({server_id: p.server_id || null,
    sha256: p.sha256, size: p.size, state: p.state}));
  db.close();
  return {ops, photos};
}"""


async def answer_step(page: Page) -> str:
    """Answer what the visit screen asks now, as a technician would; the step's kind."""
    step = page.locator("section.step")
    await step.wait_for()
    kind = await step.get_attribute("data-kind") or ""
    handle = await step.element_handle()
    if kind == "photo":
        await step.locator("input[type=file]").set_input_files(
            files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()}]
        )
    elif kind in ("confirm", "yes_no", "choice", "geo_check"):
        await step.locator("button").first.click()
    elif kind in ("text", "person_name"):
        await step.locator("textarea, input").first.fill("Нұрланова Әлия Қанатқызы")
        await step.locator("button.primary").click()
    elif kind == "number":
        await step.locator("input").fill("1")
        await step.locator("button.primary").click()
    elif kind == "serial":
        for index, field in enumerate(await step.locator("input").all()):
            await field.fill(f"SN{index}{uuid.uuid4().hex[:8]}")
        await step.locator("button.primary").click()
    elif kind != "signature":
        raise AssertionError(f"unexpected step kind {kind!r}")
    if kind != "signature":
        # The next screen replaces this one; if it does not, say what the technician sees.
        try:
            await page.wait_for_function("(old) => !old.isConnected", arg=handle, timeout=10_000)
        except PlaywrightTimeout:
            raise AssertionError(f"{kind} step stayed: {await page.inner_text('main')}") from None
    return kind


async def work_until_signature(page: Page, reload_after: int | None = None) -> list[str]:
    """Answer steps until the customer's signature is asked for; optionally reload midway."""
    kinds: list[str] = []
    for _ in range(60):
        if await page.locator("#arrive").count():
            await page.click("#arrive")
            await page.locator("#arrive").wait_for(state="detached")
        kind = await answer_step(page)
        if kind == "signature":
            return kinds
        kinds.append(kind)
        if reload_after is not None and len(kinds) == reload_after:
            await page.reload()
            await page.locator("ol.visits > li").first.locator("button.primary").click()
    raise AssertionError(f"no signature step after {kinds}")


async def work_until_first_photo(page: Page) -> None:
    """Open the day's first visit and answer steps up to and including the first photo."""
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    for _ in range(20):
        if await page.locator("#arrive").count():
            await page.click("#arrive")
            await page.locator("#arrive").wait_for(state="detached")
        if await answer_step(page) == "photo":
            return
    raise AssertionError("no photo step among the first twenty")


async def sign_as_customer(page: Page) -> None:
    """The customer reads the act on the same phone, signs it with a finger and submits."""
    await page.locator("#scroll-hint").scroll_into_view_if_needed()
    await draw_signature(page, strokes=10, swing=15)
    await page.fill("#name", "Нұрланова Әлия Қанатқызы")
    await page.click("#sign")
    await page.locator("#done, #error:not(:empty)").first.wait_for(timeout=20_000)
    assert await page.inner_text("#error") == ""


async def test_a_whole_visit_offline_then_synced_exactly_once_and_signed(
    browser: Browser, live_app: ServedApp, build: Builder
) -> None:
    live_server = live_app.url
    day = await a_day(build)
    visit_id = day.visits[0].id
    context, page, errors = await signed_in(browser, live_server, day)
    await page.locator("#queue", has_text="Всё отправлено").wait_for()
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await context.set_offline(True)
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    await page.locator("#safety").wait_for()  # the safety exit is on the screen from the start
    await shot(page, "visit-ru-390")
    # The whole checklist with no network, the app killed and reopened halfway through.
    kinds = await work_until_signature(page, reload_after=12)
    assert kinds.count("photo") == 2
    assert "geo_check" in kinds
    stored = await page.evaluate(STORED)
    assert {op["state"] for op in stored["ops"]} == {"queued"}
    assert len(stored["photos"]) == 2
    assert all(photo["state"] == "queued" for photo in stored["photos"])
    assert "Ждут отправки" in await page.inner_text("#queue")
    await shot(page, "signature-offline-ru-390")

    await context.set_offline(False)
    await page.locator("#queue", has_text="Всё отправлено").wait_for(timeout=30_000)
    stored = await page.evaluate(STORED)
    async with build.sessionmaker() as session:
        rows = (
            await session.scalars(select(SyncOperation).where(SyncOperation.visit_id == visit_id))
        ).all()
        photos = (await session.scalars(select(Photo).where(Photo.visit_id == visit_id))).all()
    # Every operation the phone made is on the server once, applied; nothing else is.
    assert sorted(str(row.id) for row in rows) == sorted(op["id"] for op in stored["ops"])
    assert {row.status for row in rows} == {"applied"}, [(r.type, r.code, r.message) for r in rows]
    assert {op["status"] for op in stored["ops"]} == {"applied"}
    # Both photos confirmed, with the hash and size the phone computed after downscaling.
    assert sorted((p.sha256, p.size, p.status) for p in photos) == sorted(
        (p["sha256"], p["size"], "stored") for p in stored["photos"]
    )
    # Downscaled on the phone to the server's NARYAD_PHOTO_MAX_SIDE, from the day bundle.
    for photo in photos:
        stored_file = Path(live_app.blob_dir, *photo.object_key.split("/"))
        stored_bytes = await asyncio.to_thread(stored_file.read_bytes)
        with Image.open(io.BytesIO(stored_bytes)) as image:
            assert image.format == "JPEG"
            assert image.size == (LIVE_PHOTO_MAX_SIDE, LIVE_PHOTO_MAX_SIDE * 3 // 4)

    # The customer's turn: the act from what the server holds, signed on the same phone.
    refusal = page.get_by_role("button", name="Клиент отказался подписать")
    assert await refusal.count() == 1  # offered until the customer has signed
    await page.click("#handoff")
    await page.wait_for_url("**/mobile/v1/sign/**")
    await sign_as_customer(page)
    await page.go_back()
    await page.locator(".note", has_text="подписал").wait_for()
    assert await refusal.count() == 0
    assert await answer_step(page) == "confirm"  # thanked the customer
    await page.click("#complete")
    await page.locator(".done").wait_for()
    await page.locator("#queue", has_text="Всё отправлено").wait_for(timeout=30_000)
    async with build.sessionmaker() as session:
        visit = await session.get_one(Visit, visit_id)
        act = await session.scalar(select(Act).where(Act.visit_id == visit_id))
    assert visit.status == "completed"
    assert act is not None
    assert act.status == "signed"
    assert errors == []
    await context.close()


async def test_a_push_cut_off_twice_loses_and_doubles_nothing(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    visit_id = day.visits[0].id
    context, page, errors = await signed_in(browser, live_server, day)
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await context.set_offline(True)
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    for _ in range(8):
        if await page.locator("#arrive").count():
            await page.click("#arrive")
            await page.locator("#arrive").wait_for(state="detached")
        await answer_step(page)
    await page.fill("#note", "Домофон не работает, звонить на мобильный")
    await page.click("#save-note")
    made = (await page.evaluate(STORED))["ops"]
    assert len(made) == 10  # eight answers, the arrival and the note

    # The first push never reaches the server; the second is applied but its answer is lost.
    pushes: list[dict[str, Any]] = []

    async def cut(route: Any) -> None:
        request = route.request
        pushes.append(
            {"key": request.headers["idempotency-key"], "ids": request.post_data_json["operations"]}
        )
        if len(pushes) == 1:
            await route.abort("internetdisconnected")
        elif len(pushes) == 2:
            await route.fetch()
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/mobile/v1/sync/push", cut)
    # The technician watches the sync screen while the phone comes back online.
    await page.click("#queue")
    await page.locator("h1", has_text="Отправка").wait_for()
    assert await page.inner_text("main [role=status]") == (
        "Работа без сети: всё сохраняется на телефоне."
    )
    assert await page.locator(".results li", has_text="ждёт отправки").count() == 10
    await context.set_offline(False)
    await page.locator("#queue", has_text="Всё отправлено").wait_for(timeout=60_000)
    # The open screen followed: every line sent, the status in agreement with the top bar.
    await page.locator("main [role=status]", has_text="Всё отправлено").wait_for()
    assert await page.locator(".results li", has_text="ждёт отправки").count() == 0
    assert await page.locator(".results li", has_text="— принято").count() == 10
    assert len(pushes) == 3, [(p["key"], [o["id"][:6] for o in p["ids"]]) for p in pushes]
    # The batch whose answer was lost went again as it was, under the same key.
    assert pushes[1]["key"] == pushes[2]["key"]
    assert pushes[1]["ids"] == pushes[2]["ids"]
    async with build.sessionmaker() as session:
        rows = (
            await session.scalars(select(SyncOperation).where(SyncOperation.visit_id == visit_id))
        ).all()
    assert sorted(str(row.id) for row in rows) == sorted(op["id"] for op in made)
    assert {row.status for row in rows} == {"applied"}
    stored = await page.evaluate(STORED)
    assert {op["status"] for op in stored["ops"]} == {"applied"}
    await fits(page, "sync 390")
    await shot(page, "sync-ru-390")
    assert errors == []
    await context.close()


async def test_a_cancelled_visit_and_refused_answers_in_plain_words(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    dispatcher = await build.person(Role.DISPATCHER, day.area.territory)
    context, page, errors = await signed_in(browser, live_server, day)
    await context.set_offline(True)
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    for _ in range(3):
        await answer_step(page)
    # Meanwhile the customer cancels through the dispatcher.
    async with httpx.AsyncClient(base_url=live_server) as client:
        cancelled = await client.post(
            f"/api/v1/visits/{day.visits[0].id}/cancel",
            json={"reason": "Клиент отменил"},
            headers=dispatcher.headers,
        )
    assert cancelled.status_code == 200, cancelled.text
    await context.set_offline(False)
    # The three answers come back refused; the chip says so until the list is opened.
    await page.locator("#queue", has_text="Не принято: 3").wait_for(timeout=30_000)
    await page.click(".visit-head .link")
    # A change shows once every older transaction on the cluster has ended: tap again until then.
    # (Other tests' transactions on the shared cluster can hold it back for a few seconds.)
    for _ in range(200):
        button = await page.locator("#refresh").element_handle()
        await page.click("#refresh")
        await page.wait_for_function("(old) => !old.isConnected", arg=button)
        if await page.locator(".changes li.cancelled").count():
            break
    else:
        seen = await page.inner_text("main")
        raise AssertionError(f"the cancellation never reached the phone: {seen}")
    assert "не выезжайте" in await page.inner_text(".changes")
    assert await page.locator("ol.visits > li").count() == 1  # only the visit still to do
    await fits(page, "changes 390")
    await shot(page, "day-changes-ru-390")
    await page.click("#queue")
    await page.locator("h1", has_text="Отправка").wait_for()
    bad = page.locator(".results li.bad")
    assert await bad.count() == 3
    assert "диспетчер" in await bad.first.locator(".advice").inner_text()
    # The reason in the technician's language, not the server's English.
    assert await bad.first.locator(".why").inner_text() == "Визит отменён."
    await page.locator("#queue", has_text="Всё отправлено").wait_for()
    await fits(page, "refused 390")
    await shot(page, "sync-refused-ru-390")
    assert errors == []
    await context.close()


MONTHS_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
WEEKDAYS_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


def said_ru(at: datetime, hours: int = 2) -> str:
    """A local window as the app names it in a Russian sentence: "завтра, 6 декабря 10:00–12:00"."""
    offset = (at.date() - datetime.now(at.tzinfo).date()).days
    weekday = {0: "сегодня", 1: "завтра"}.get(offset, WEEKDAYS_RU[at.weekday()])
    end = at + timedelta(hours=hours)
    return f"{weekday}, {at.day} {MONTHS_RU[at.month - 1]} {at:%H:%M}–{end:%H:%M}"


async def test_a_rescheduled_and_a_handed_over_visit_are_told_and_the_day_redrawn(
    browser: Browser, live_server: str, build: Builder
) -> None:
    area = await build.area()
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    zone = ZoneInfo(area.territory.time_zone)
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    # Tomorrow, inside everyone's shifts (09-18 local): one visit to hand over, one to move.
    handed, moved = [
        await build.visit(
            await build.order(area, status="scheduled"),
            technician.technician,
            start=datetime.combine(tomorrow, dtime(hour), zone),
            hours=2,
        )
        for hour in (10, 14)
    ]
    day = Day(area, technician, [handed, moved])
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    colleague = await build.technician_at(area, 0.6, 0.6)
    context, page, errors = await signed_in(browser, live_server, day)
    await page.set_viewport_size({"width": 320, "height": 800})
    assert await page.locator("ol.visits > li").count() == 2
    was = moved.agreed_window.lower.astimezone(zone)
    new = datetime.combine(tomorrow + timedelta(days=1), dtime(10), zone)
    # The dispatcher moves the later visit a day on (the customer agreed by SMS) and hands the
    # other to a colleague, while the technician looks at the day.
    async with httpx.AsyncClient(base_url=live_server, headers=dispatcher.headers) as client:
        rescheduled = await client.post(
            f"/api/v1/visits/{moved.id}/reschedule",
            json={
                "window": {
                    "start": new.isoformat(),
                    "end": (new + timedelta(hours=2)).isoformat(),
                },
                "reason_code": "customer_request",
                "agreed_by": {"name": "Ерлан", "channel": "sms"},
            },
        )
        assert rescheduled.status_code == 200, rescheduled.text
        reassigned = await client.post(
            f"/api/v1/visits/{handed.id}/reassign",
            json={
                "technician_id": str(colleague.actor.technician_id),
                "reason_code": "workload",
            },
        )
        assert reassigned.status_code == 200, reassigned.text
    # A change shows once every older transaction on the cluster has ended: tap until then.
    changes = page.locator(".changes li")
    for _ in range(200):
        button = await page.locator("#refresh").element_handle()
        await page.click("#refresh")
        await page.wait_for_function("(old) => !old.isConnected", arg=button)
        if await changes.count() == 2:
            break
    else:
        raise AssertionError(
            f"the changes never reached the phone: {await page.inner_text('main')}"
        )
    customer = day.area.customer.full_name
    told = await page.locator(".changes li.rescheduled").inner_text()
    # Moved to another day: the old time is named with its day too.
    assert told == f"Перенесён: {customer}, теперь {said_ru(new)} (было {said_ru(was)})", told
    gone = await page.locator(".changes li.reassigned").inner_text()
    handed_at = handed.agreed_window.lower.astimezone(zone)
    assert gone == f"Передан другому технику: {customer}, {said_ru(handed_at)} — не выезжайте"
    # The day itself: the handed-over visit is gone, the moved one is under its new day.
    assert await page.locator("ol.visits > li").count() == 1
    headings = await page.locator("main h2").all_inner_texts()
    heading = said_ru(new).rsplit(" ", 1)[0]
    assert heading[0].upper() + heading[1:] in headings, headings
    assert f"{new:%H:%M}" in await page.locator("ol.visits > li").first.inner_text()
    await fits(page, "changes 320")
    await shot(page, "day-rescheduled-reassigned-ru-320")
    # Offline, reopened: the notices and the redrawn day are still there.
    await context.set_offline(True)
    await page.reload()
    await page.locator(".changes li.rescheduled").wait_for()
    assert await page.locator("ol.visits > li").count() == 1
    # Seen: the notices go; the day stays as it is now.
    await page.click(".changes button")
    await page.locator(".changes").wait_for(state="detached")
    assert await page.locator("ol.visits > li").count() == 1
    assert errors == []
    await context.close()


WIDTHS = (320, 390, 430)
STOPPED_FOR_SAFETY = {
    "kk": "қауіпсіздік үшін тоқтатылды",
    "ru": "прерван: безопасность",
    "en": "stopped for safety",
}


async def look_at(page: Page, name: str, language: str) -> None:
    """Every phone width: nothing sideways, nothing cut off, targets big enough; a screenshot."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        await fits(page, f"{name} {language} {width}")
        await shot(page, f"{name}-{language}-{width}")
    await page.set_viewport_size({"width": 390, "height": 800})
    assert await serious_violations(page) == [], (name, language)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_every_screen_fits_phones_and_reads_in_the_technicians_language(
    browser: Browser, live_server: str, build: Builder, language: str
) -> None:
    day = await a_day(build)
    # bypass_csp only so that axe-core can be injected
    context = await phone(browser, day, language=language, bypass_csp=True)
    page = await context.new_page()
    errors = watch(page)
    await page.goto(f"{live_server}/app/")
    await page.locator("#username").wait_for()
    # The phone's language is the first guess; the technician can change it on every screen.
    assert await page.get_attribute("html", "lang") == language
    await look_at(page, "login", language)
    await page.fill("#username", day.technician.user.username)
    await page.fill("#password", PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_selector("ol.visits")
    await look_at(page, "day", language)
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    await page.locator("section.step").wait_for()
    await look_at(page, "step", language)
    for _ in range(6):  # the checks before departure, then the arrival card
        await answer_step(page)
    await page.locator("#arrive").wait_for()
    await look_at(page, "arrival", language)
    await page.click("#safety")
    await page.locator("#declare").wait_for()
    await look_at(page, "safety", language)
    # What happened, typed but not saved separately, goes with the outcome.
    await page.fill("section.step textarea", "Агрессивная собака во дворе")
    await page.click("#declare")
    await page.locator(".done").wait_for()
    # Sent in the background (the chip can read "not waiting" before the outcome is queued):
    # wait for the server to hold it.
    outcome = None
    for _ in range(300):
        async with build.sessionmaker() as session:
            visit = await session.get_one(Visit, day.visits[0].id)
            outcome = await session.scalar(
                select(SyncOperation).where(
                    SyncOperation.visit_id == visit.id, SyncOperation.type == "outcome"
                )
            )
        if outcome is not None:
            break
        await asyncio.sleep(0.1)
    assert outcome is not None
    assert (outcome.status, outcome.message) == ("applied", None)
    assert visit.status == "aborted_safety"
    # Back on the day, the visit says how it ended (not "on site" until the next refresh).
    await page.click(".visit-head .link")
    status = page.locator("ol.visits > li").first.locator(".status")
    assert await status.inner_text() == STOPPED_FOR_SAFETY[language]
    assert errors == []
    await context.close()


async def disturb_uploads(page: Page, fault: Callable[[int], str | None]) -> list[str]:
    """Route the photo uploads: the n-th PUT (from 1) is "damaged" on the way (the store refuses
    it), "swallowed" (200, nothing passed on) or passed as it is (None); the URLs PUT to."""
    puts: list[str] = []

    async def route_put(route: Any) -> None:
        if route.request.method != "PUT":
            await route.continue_()
            return
        puts.append(route.request.url)
        what = fault(len(puts))
        if what == "damaged":
            body = route.request.post_data_buffer or b""
            await route.continue_(post_data=body[:-10] + b"0123456789")
        elif what == "swallowed":
            await route.fulfill(status=200, body="")
        else:
            await route.continue_()

    await page.route(lambda url: "/blobs/" in url, route_put)
    return puts


@pytest.mark.parametrize("fault", ["damaged", "swallowed"])
async def test_an_upload_lost_or_refused_on_the_way_is_started_again_and_nothing_is_lost(
    browser: Browser, live_server: str, build: Builder, fault: str
) -> None:
    day = await a_day(build)
    visit_id = day.visits[0].id
    context, page, errors = await signed_in(browser, live_server, day)
    # The first upload's bytes are damaged on the way (the store refuses them: SHA-256), or a
    # proxy answers 200 without passing them on (confirm finds nothing uploaded).
    puts = await disturb_uploads(page, lambda n: fault if n == 1 else None)
    await work_until_first_photo(page)
    # The queue said "all sent" before the photo was queued too: wait for both uploads first.
    all_sent = page.locator("#queue", has_text="Всё отправлено")
    for _ in range(600):
        if len(puts) >= 2 and await all_sent.count():
            break
        await asyncio.sleep(0.1)
    await all_sent.wait_for(timeout=60_000)
    assert len(puts) == 2
    assert puts[0] != puts[1]  # a new upload URL, not the refused one again
    async with build.sessionmaker() as session:
        photos = (await session.scalars(select(Photo).where(Photo.visit_id == visit_id))).all()
        answers = (
            await session.scalars(
                select(SyncOperation).where(
                    SyncOperation.visit_id == visit_id, SyncOperation.type == "checklist_answer"
                )
            )
        ).all()
    stored = [p for p in photos if p.status == "stored"]
    assert len(stored) == 1
    assert {a.status for a in answers} == {"applied"}
    phone_photos = (await page.evaluate(STORED))["photos"]
    assert [(p["server_id"], p["sha256"]) for p in phone_photos] == [
        (str(stored[0].id), stored[0].sha256)
    ]
    assert errors == []
    await context.close()


async def test_a_photo_that_never_reaches_the_store_is_given_up_in_plain_words(
    browser: Browser, live_server: str, build: Builder
) -> None:
    day = await a_day(build)
    visit_id = day.visits[0].id
    context, page, errors = await signed_in(browser, live_server, day)
    # A proxy answers every upload with 200 and passes nothing on.
    puts = await disturb_uploads(page, lambda n: "swallowed")
    await work_until_first_photo(page)
    # Three uploads, then the photo is given up and its step asked for again.
    await page.locator("#queue", has_text="Не принято: 1").wait_for(timeout=60_000)
    assert len(puts) == 3
    assert len(set(puts)) == 3  # each a new upload
    await page.click("#queue")
    await page.locator("h1", has_text="Отправка").wait_for()
    told = await page.locator(".results li.bad").all_inner_texts()
    # The photo: its step, whose visit, and why.
    (photo_line,) = (text for text in told if text.startswith("Фото: "))
    assert photo_line.startswith("Фото: Фото зоны работ до начала — не принято\n"), photo_line
    assert day.area.customer.full_name in photo_line
    assert photo_line.endswith("\nОтправка не удалась несколько раз: сделайте фото ещё раз."), (
        photo_line
    )
    # The answer that waited for it: refused with the same reason, and what to do.
    (answer,) = (text for text in told if text.startswith("Ответ: "))
    assert "не принято" in answer
    assert "Отправка не удалась несколько раз" in answer
    assert "Откройте шаг снова" in answer
    await fits(page, "photo given up 390")
    await shot(page, "sync-photo-given-up-ru-390")
    async with build.sessionmaker() as session:
        photos = (await session.scalars(select(Photo).where(Photo.visit_id == visit_id))).all()
        with_photos = await session.scalar(
            select(func.count())
            .select_from(ChecklistAnswer)
            .where(ChecklistAnswer.visit_id == visit_id, ChecklistAnswer.photo_ids != [])
        )
    assert with_photos == 0  # the answer that needed the photo never reached the server
    assert {p.status for p in photos} == {"pending"}  # nothing stored; the worker expires them
    await page.get_by_role("button", name="Мой день").click()
    await page.locator("ol.visits > li").first.locator("button.primary").click()
    step = page.locator("section.step")
    await step.wait_for()
    assert await step.get_attribute("data-kind") == "photo"
    assert errors == []
    await context.close()


@pytest.fixture(scope="module")
def s3_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, s3_emulator: S3Emulator
) -> Iterator[tuple[str, S3BlobStore]]:
    """The app served with its photos in S3 (the emulator), and a store on the same bucket."""
    bucket = unique_bucket("app")
    env = {
        "NARYAD_STORAGE": "s3",
        "NARYAD_S3_ENDPOINT_URL": s3_emulator.endpoint_url,
        "NARYAD_S3_ACCESS_KEY_ID": s3_emulator.access_key_id,
        "NARYAD_S3_SECRET_ACCESS_KEY": s3_emulator.secret_access_key,
        "NARYAD_S3_BUCKET": bucket,
        "NARYAD_S3_CREATE_BUCKET": "1",
        "NARYAD_PHOTO_MAX_SIDE": "1000",
    }
    with serve_process(database_url, tmp_path_factory, env) as served:
        yield served.url, make_s3_store(s3_emulator, bucket, create_bucket=False)


async def test_photos_go_from_the_phone_straight_to_s3(
    browser: Browser, s3_app: tuple[str, S3BlobStore], build: Builder
) -> None:
    server, store = s3_app
    day = await a_day(build)
    visit_id = day.visits[0].id
    context, page, errors = await signed_in(browser, server, day)
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    await work_until_first_photo(page)
    await page.locator("#queue", has_text="Всё отправлено").wait_for(timeout=30_000)
    async with build.sessionmaker() as session:
        (photo,) = (await session.scalars(select(Photo).where(Photo.visit_id == visit_id))).all()
    assert photo.status == "stored"
    # Straight to the bucket through the presigned URL (the page's CSP and the bucket's CORS
    # let it), never through the API; downscaled to this server's setting.
    assert puts == [url for url in puts if url.startswith(f"{store.url_origin}/")]
    assert len(puts) == 1
    with Image.open(io.BytesIO(await store.get(photo.object_key))) as image:
        assert image.size == (1000, 750)
    rules = store.client.get_bucket_cors(Bucket=store.bucket)["CORSRules"]
    assert any(server in rule["AllowedOrigins"] for rule in rules)
    assert errors == []
    await context.close()
