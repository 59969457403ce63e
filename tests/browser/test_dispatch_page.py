"""A dispatcher finds an order by the customer's phone and books it from a slot offer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select, update

from service.common.actor import Role
from service.db.models import Customer, Site, Visit, WorkOrder
from tests.browser.axe import serious_violations
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_dispatcher_books_from_an_offer_and_the_technician_sees_it(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    other = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.51, 0.5)
    assert tech.technician is not None
    now = datetime.now(UTC)
    for hours in (5, 40, -3):
        await build.order(area, control_deadline=now + timedelta(hours=hours))
    order = await build.order(area, control_deadline=now + timedelta(hours=20), priority="high")
    foreign = await build.order(other, control_deadline=now + timedelta(hours=1))
    async with build.sessionmaker() as session:
        # The customer we look for, with a phone and a site of their own.
        customer = Customer(
            territory_id=area.territory.id,
            full_name="Жұмабекова Сәуле",
            phones=["+77017770011"],
            preferred_language="kk",
        )
        session.add(customer)
        await session.flush()
        lon, lat = area.origin[0] + 0.45, area.origin[1] + 0.5
        site = Site(
            customer_id=customer.id,
            territory_id=area.territory.id,
            address="г. Алматы, ул. Сатпаева, 30",
            location=f"SRID=4326;POINT({lon} {lat})",
        )
        session.add(site)
        await session.flush()
        await session.execute(
            update(WorkOrder)
            .where(WorkOrder.id == order.id)
            .values(customer_id=customer.id, site_id=site.id)
        )
        await session.commit()

    context = await browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = await context.new_page()
    await page.goto(f"{live_server}/dispatch")
    assert "/staff/login?next=%2Fdispatch" in page.url
    await page.fill("#username", dispatcher.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "en")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/dispatch")
    table = page.locator("#queue-table")
    await table.wait_for()
    assert foreign.number not in await page.inner_text("#queue")
    assert "Asia/Almaty" in await table.inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1440
    await page.screenshot(path=str(artifacts / "dispatch-queue-1440.png"), full_page=True)
    assert await serious_violations(page) == []

    # Search by the customer's phone as it is said on the phone: htmx swaps the table in.
    await page.fill("#q", "777 00 11")
    await page.locator(f'#queue tr[data-order="{order.number}"]').wait_for()
    await page.wait_for_function("document.querySelectorAll('#queue tbody tr').length === 1")
    await page.click(f'#queue tr[data-order="{order.number}"] a.order-no')
    await page.wait_for_url(f"**/dispatch/orders/{order.id}")
    assert "tel:+77017770011" in (await page.locator("a.tel").first.get_attribute("href") or "")

    # The offers come in without a reload; choose one with the keyboard, say who agreed.
    await page.click("#book button[hx-get]")
    first = page.locator('#book input[name="slot"]').first
    await first.wait_for()
    await first.focus()
    await page.keyboard.press("Space")
    checked = "document.querySelector('#book input[name=slot]:checked').value"
    assert await page.evaluate(checked) == await first.get_attribute("value")
    # The technician's other windows are folded below the best ones: open them by keyboard,
    # go back into the group and move on with the arrows.
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    assert await page.locator("#book details.more-windows").get_attribute("open") is not None
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("ArrowDown")
    chosen = await page.evaluate(checked)
    assert chosen != await first.get_attribute("value")
    await page.fill("#book-agreed", "Сәуле Жұмабекова")
    await page.select_option("#book-channel", "phone")
    await page.set_viewport_size({"width": 1024, "height": 768})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    await page.screenshot(path=str(artifacts / "dispatch-booking-1024.png"), full_page=True)
    assert await serious_violations(page) == []
    await page.click("#book-form button[type=submit]")
    await page.locator("#notice").wait_for()
    assert "The visit is booked." in await page.inner_text("#notice")
    await page.screenshot(path=str(artifacts / "dispatch-booked-1024.png"), full_page=True)

    async with build.sessionmaker() as session:
        visit = await session.scalar(select(Visit).where(Visit.work_order_id == order.id))
        assert visit is not None
        assert (await session.get_one(WorkOrder, order.id)).status == "scheduled"
    start, _, technician_id = chosen.split("|")
    assert str(visit.technician_id) == technician_id
    assert visit.agreed_window.lower == datetime.fromisoformat(start)
    day = visit.agreed_window.lower.astimezone(ZoneInfo(area.territory.time_zone)).date()  # type: ignore[union-attr]
    # The schedule board of that day shows the visit, a link back to the order.
    await page.goto(
        f"{live_server}/dispatch/schedule?territory={area.territory.code}&day={day.isoformat()}"
    )
    block = page.locator(f'.visit[data-visit="{visit.id}"]')
    assert (await block.get_attribute("href") or "").endswith(str(order.id))
    assert order.number in (await block.get_attribute("title") or "")
    async with httpx.AsyncClient(base_url=live_server) as api:
        plan = await api.get(
            f"/api/v1/technicians/{technician_id}/day",
            params={"date": day.isoformat()},
            headers=dispatcher.headers,
        )
        assert plan.status_code == 200, plan.text
        assert order.number in [s["work_order_number"] for s in plan.json()["stops"]]
        phone_login = await api.post(
            "/api/v1/auth/login",
            json={
                "username": tech.user.username,
                "password": PASSWORD,
                "device_id": "android-dispatch-test",
                "app_version": "2.3.1",
            },
        )
        assert phone_login.status_code == 200, phone_login.text
        bundle = await api.get(
            "/mobile/v1/day",
            params={"date": day.isoformat()},
            headers={"Authorization": f"Bearer {phone_login.json()['access_token']}"},
        )
        assert bundle.status_code == 200, bundle.text
        assert str(visit.id) in [v["visit_id"] for v in bundle.json()["visits"]]

    # Reschedule without a reason is refused in the page, and what was typed stays.
    await page.goto(f"{live_server}/dispatch/orders/{order.id}?offers=1")
    dialog = page.locator("details.dialog", has_text="Reschedule").first
    await dialog.evaluate("d => { d.open = true; }")
    await dialog.locator('input[name="slot"]').first.check()
    await dialog.locator('input[name="agreed_with"]').fill("Сәуле")
    await dialog.locator("textarea[name=note]").fill("Клиент просит позже")
    await dialog.locator("button[type=submit]").click()
    await page.locator("#form-message").wait_for()
    assert "Give a reason." in await page.inner_text("#visits")
    assert await page.locator("textarea[name=note]").first.input_value() == "Клиент просит позже"
    await page.screenshot(
        path=str(artifacts / "dispatch-reschedule-refused-1024.png"), full_page=True
    )
    async with build.sessionmaker() as session:
        again = await session.get_one(Visit, visit.id)
        assert again.agreed_window == visit.agreed_window
    # The same panel in Kazakh at the smallest staff width: nothing runs off to the side.
    await page.click('nav.langs a[hreflang="kk"]')
    await page.wait_for_function("document.documentElement.lang === 'kk'")
    assert "Барулар" in await page.inner_text("#visits")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    await page.screenshot(path=str(artifacts / "dispatch-order-1024-kk.png"), full_page=True)
    await context.close()


async def test_a_form_sent_after_the_session_ended_keeps_what_was_typed(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await build.order(area)
    context = await browser.new_context(viewport={"width": 1024, "height": 800})
    page = await context.new_page()
    await page.goto(f"{live_server}/staff/login?next=/dispatch/orders/{order.id}")
    await page.fill("input[name=username]", dispatcher.user.username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/dispatch/orders/{order.id}")
    cancel = page.locator("details", has=page.locator(f'form[action$="{order.id}/cancel"]'))
    await cancel.evaluate("d => { d.open = true; }")
    await cancel.locator("textarea[name=reason]").fill("Клиент уехал до весны")
    # The session ends while the dispatcher types; the answer is the sign-in page.
    await context.clear_cookies()
    await cancel.locator("button[type=submit]").click()
    await page.wait_for_url("**/staff/login?next=*")
    async with build.sessionmaker() as session:
        assert (await session.get_one(WorkOrder, order.id)).status == "new"
    await page.fill("input[name=username]", dispatcher.user.username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/dispatch/orders/{order.id}")
    # Back on the order: the reason is in the same form, the dialog open, nothing was sent.
    reason = page.locator(f'form[action$="{order.id}/cancel"] textarea[name=reason]')
    assert await reason.input_value() == "Клиент уехал до весны"
    assert await reason.is_visible()
    await page.screenshot(path=str(artifacts / "dispatch-session-ended-1024.png"), full_page=True)
    async with build.sessionmaker() as session:
        assert (await session.get_one(WorkOrder, order.id)).status == "new"
    # Any other arrival starts clean: the draft was used once.
    await page.reload()
    assert await reason.input_value() == ""
    await context.close()
