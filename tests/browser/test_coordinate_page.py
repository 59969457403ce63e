"""A coordinator works the overdue list: takes an order, calls, books it, acknowledges, resolves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import (
    Escalation,
    FollowUpTask,
    OrderOwner,
    Rating,
    User,
    Visit,
    WorkOrder,
    WorkOrderEvent,
)
from tests.browser.axe import serious_violations
from tests.integration.builders import PASSWORD, Builder, Person

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def _desk(context: BrowserContext, live_server: str, who: Person) -> Page:
    """The overdue desk in English, signed in as ``who`` through the sign-in it sends to."""
    page = await context.new_page()
    await page.goto(f"{live_server}/coordinate")
    await page.fill("#username", who.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "en")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/coordinate")
    return page


async def test_coordinator_takes_calls_books_and_clears(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    await build.person(Role.SUPERVISOR, area.territory)
    await build.technician_at(area, 0.51, 0.5)
    now = datetime.now(UTC)
    order = await build.order(area, control_deadline=now - timedelta(hours=6), priority="high")
    other = await build.order(area, control_deadline=now - timedelta(hours=2))
    # A morning's list: more overdue orders than a screen holds.
    for minutes in range(18):
        await build.order(area, control_deadline=now - timedelta(minutes=30 + minutes))
    escalations = {
        name: Escalation(
            id=uuid.uuid4(),
            work_order_id=target.id,
            target="resolution",
            level=level,
            due_at=now - timedelta(hours=1),
            recipient_role=role,
            recipient_ids=[],
        )
        for name, target, level, role in (
            ("breach", order, "breach", "coordinator"),
            ("breach2", other, "breach", "coordinator"),
            ("head", other, "head", "supervisor"),
        )
    }
    async with build.sessionmaker() as session:
        session.add_all(escalations.values())
        await session.flush()
        rating = Rating(work_order_id=other.id, territory_id=area.territory.id, score=2)
        session.add(rating)
        await session.flush()
        task = FollowUpTask(
            work_order_id=other.id,
            rating_id=rating.id,
            territory_id=area.territory.id,
            reasons=["low_score"],
            score=2,
            due_at=now + timedelta(days=1),
        )
        session.add(task)
        await session.commit()

    context = await browser.new_context(
        viewport={"width": 1024, "height": 768}, locale="en-GB", bypass_csp=True
    )
    page = await _desk(context, live_server, coordinator)
    row = page.locator(f'tr[data-order="{order.number}"]')
    await row.wait_for()
    # At 1024 px the technician column is on screen, nothing runs off to the side.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    technician = page.locator("table.overdue th", has_text="Technician")
    box = await technician.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 1024
    # The header row sticks to the top of the window as the list scrolls.
    await page.evaluate(
        "window.scrollTo(0, document.querySelector('table.overdue').getBoundingClientRect().top"
        " + scrollY + 80)"
    )
    top = await page.evaluate(
        "document.querySelector('table.overdue thead th').getBoundingClientRect().top"
    )
    assert 0 <= top <= 1
    # Compact rows: two lines each, a dozen and more on a 1024x768 screen under the header.
    heights = await page.evaluate(
        "[...document.querySelectorAll('table.overdue tbody tr')]"
        ".map(r => r.getBoundingClientRect().height)"
    )
    assert len(heights) == 20
    assert max(heights) <= 50
    whole = await page.evaluate(
        "[...document.querySelectorAll('table.overdue tbody tr')].filter(r => {"
        " const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight;"
        " }).length"
    )
    assert whole >= 12
    await page.evaluate("window.scrollTo(0, 0)")
    assert await serious_violations(page) == []
    await page.screenshot(path=str(artifacts / "coordinate-1024.png"), full_page=True)
    # The bar with every section a coordinator has (appeals too) keeps one line in each language,
    # with a long name too (cut, whole in its title).
    long_name = "Администратор системы Территориального Управления"
    async with build.sessionmaker() as session:
        user = await session.get(User, coordinator.user.id)
        assert user is not None
        user.full_name = long_name
        await session.commit()
    for language in ("kk", "ru", "en"):
        await page.goto(f"{live_server}/coordinate?lang={language}")
        bar = await page.evaluate("document.querySelector('header.top').offsetHeight")
        assert bar <= 60, (language, bar)
        assert await page.get_attribute("header.top .who b", "title") == long_name
    await page.goto(f"{live_server}/coordinate?lang=en")

    await row.get_by_role("button", name="Take it").click()
    await page.locator(".notice").wait_for()
    async with build.sessionmaker() as session:
        owner = await session.get(OrderOwner, order.id)
        assert owner is not None
        assert owner.user_id == coordinator.user.id

    row = page.locator(f'tr[data-order="{order.number}"]')
    assert "tel:" in (await row.locator("a.tel").get_attribute("href") or "")
    await row.locator("summary", has_text="Record call").click()
    dialog = await row.locator("form[action$='/call']").bounding_box()
    assert dialog is not None
    assert dialog["x"] >= 0
    assert dialog["x"] + dialog["width"] <= 1024
    await row.locator('select[name="outcome"]').select_option("reached")
    promised = (now + timedelta(days=2)).date().isoformat()
    await row.locator('input[name="promised"]').fill(promised)
    await row.locator("form[action$='/call'] button[type=submit]").click()
    await page.wait_for_url("**notice=called**")
    async with build.sessionmaker() as session:
        contact = await session.scalar(
            select(WorkOrderEvent).where(
                WorkOrderEvent.work_order_id == order.id,
                WorkOrderEvent.kind == "customer.contacted",
            )
        )
        assert contact is not None
        assert contact.data["promised_date"] == promised

    # The supervisors' escalation has no checkbox for a coordinator; two breaches, one comment.
    await page.goto(f"{live_server}/coordinate?esc=all")
    # A mixed order: its breach can be ticked, the supervisors' head stays theirs.
    assert "1 of them for another role" in await page.inner_text("form.bulk")
    assert await page.locator(f"#esc-{other.id}").get_attribute("value") == str(
        escalations["breach2"].id
    )
    await page.goto(f"{live_server}/coordinate")
    await page.locator(f"#esc-{order.id}").check()
    await page.locator(f"#esc-{other.id}").check()
    await page.fill("#ack-comment", "Called both, new dates given")
    await page.click("form.bulk button[type=submit]")
    await page.wait_for_url("**notice=acknowledged**")
    async with build.sessionmaker() as session:
        for name in ("breach", "breach2"):
            done = await session.get_one(Escalation, escalations[name].id)
            assert done.ack_comment == "Called both, new dates given"
        assert (await session.get_one(Escalation, escalations["head"].id)).acknowledged_at is None

    # The 2-star follow-up, resolved in place.
    item = page.locator(f'li[data-follow-up="{other.number}"]')
    await item.locator("summary").click()
    await item.locator('input[name="comment"]').fill("Apologised, revisit agreed")
    await item.locator("button[type=submit]").click()
    await page.wait_for_url("**notice=resolved**")
    async with build.sessionmaker() as session:
        assert (await session.get_one(FollowUpTask, task.id)).status == "done"

    # Book from the row: the dispatch console's order panel with its offers.
    await page.locator(f'tr[data-order="{order.number}"] a', has_text="Book").click()
    await page.wait_for_url(f"**/dispatch/orders/{order.id}?offers=1")
    await page.locator('#book input[name="slot"]').first.check()
    await page.fill("#book-agreed", "Customer")
    await page.select_option("#book-channel", "phone")
    await page.click("#book-form button[type=submit]")
    await page.locator("#notice").wait_for()
    async with build.sessionmaker() as session:
        assert await session.scalar(select(Visit).where(Visit.work_order_id == order.id))
    # Its clocks were recomputed on booking: met, it leaves the overdue list.
    await page.goto(f"{live_server}/coordinate?view=all")
    await page.locator("h1").wait_for()
    assert order.number not in await page.inner_text("main")
    await page.screenshot(path=str(artifacts / "coordinate-after-1024.png"), full_page=True)
    await context.close()


async def test_a_refused_dialog_comes_back_open_with_what_was_typed(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    now = datetime.now(UTC)
    order = await build.order(area, control_deadline=now - timedelta(hours=3))
    context = await browser.new_context(
        viewport={"width": 1024, "height": 768}, locale="en-GB", bypass_csp=True
    )
    page = await _desk(context, live_server, coordinator)

    # A tab left open since yesterday: its date picker still allows yesterday.
    row = page.locator(f'tr[data-order="{order.number}"]')
    await row.locator("summary", has_text="Record call").click()
    form = row.locator("form[action$='/call']")
    await form.locator('select[name="outcome"]').select_option("callback")
    yesterday = (now - timedelta(days=1)).date().isoformat()
    await form.locator('input[name="promised"]').evaluate("e => e.removeAttribute('min')")
    await form.locator('input[name="promised"]').fill(yesterday)
    await form.locator('input[name="note"]').fill("Asked to call after lunch, daughter answers")
    await form.locator("button[type=submit]").click()
    await page.wait_for_load_state()
    row = page.locator(f'tr[data-order="{order.number}"]')
    form = row.locator("form[action$='/call']")
    assert await form.is_visible()  # the dialog is open again
    promised = form.locator('input[name="promised"]')
    assert await promised.input_value() == yesterday
    assert await promised.get_attribute("aria-invalid") == "true"
    error = form.locator(f"#{await promised.get_attribute('aria-describedby')}")
    assert "today or later" in await error.inner_text()
    assert await form.locator('select[name="outcome"]').input_value() == "callback"
    assert (
        await form.locator('input[name="note"]').input_value()
        == "Asked to call after lunch, daughter answers"
    )
    assert await page.evaluate("document.activeElement.name") == "promised"
    assert await serious_violations(page) == []
    await page.screenshot(path=str(artifacts / "coordinate-call-refused-1024.png"))
    async with build.sessionmaker() as session:
        assert not await session.scalar(
            select(WorkOrderEvent).where(
                WorkOrderEvent.work_order_id == order.id,
                WorkOrderEvent.kind == "customer.contacted",
            )
        )
    # Corrected, it goes through with the rest as typed.
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    await promised.fill(tomorrow)
    await form.locator("button[type=submit]").click()
    await page.wait_for_url("**notice=called**")
    async with build.sessionmaker() as session:
        contact = await session.scalar(
            select(WorkOrderEvent).where(
                WorkOrderEvent.work_order_id == order.id,
                WorkOrderEvent.kind == "customer.contacted",
            )
        )
        assert contact is not None
        assert contact.data["outcome"] == "callback"
        assert contact.data["note"] == "Asked to call after lunch, daughter answers"

    # The order changes while the hold reason is typed: the reason is kept, the form says why.
    await page.goto(f"{live_server}/coordinate")
    row = page.locator(f'tr[data-order="{order.number}"]')
    await row.locator("summary", has_text="Put on hold").click()
    async with build.sessionmaker() as session:
        (await session.get_one(WorkOrder, order.id)).description = "Changed by a dispatcher"
        await session.commit()
    form = row.locator("form[action$='/hold']")
    await form.locator('input[name="reason"]').fill("Waiting for the landlord's permission")
    await form.locator("button[type=submit]").click()
    await page.wait_for_load_state()
    form = page.locator(f'tr[data-order="{order.number}"] form[action$="/hold"]')
    assert await form.is_visible()
    assert "changed meanwhile" in await form.locator(".err").inner_text()
    assert (
        await form.locator('input[name="reason"]').input_value()
        == "Waiting for the landlord's permission"
    )
    await page.screenshot(path=str(artifacts / "coordinate-hold-refused-1024.png"))
    async with build.sessionmaker() as session:
        assert (await session.get_one(WorkOrder, order.id)).status == "new"
    await context.close()
