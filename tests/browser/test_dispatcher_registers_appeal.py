"""A dispatcher takes a complaint on the phone from the order's panel; a coordinator sets a
measure for another of the territory's staff (1024 and 1440 px, axe-clean)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import Appeal, AppealMeasure
from tests.browser.shots import look, shots_dir
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """The screenshots' directory."""
    return shots_dir("s5-appeals", artifacts)


async def _sign_in(page: Page, live_server: str, path: str, username: str) -> None:
    await page.goto(f"{live_server}{path}")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "ru")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}{path}*")


async def test_dispatcher_registers_from_the_order_and_coordinator_assigns_a_measure(
    browser: Browser, live_server: str, build: Builder, shots: Path
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    supervisor = await build.person(Role.SUPERVISOR, area.territory)
    order = await build.order(area)
    context = await browser.new_context(viewport={"width": 1024, "height": 800}, bypass_csp=True)
    page = await context.new_page()
    await _sign_in(page, live_server, f"/dispatch/orders/{order.id}", dispatcher.user.username)
    await look(page, 1024, shots / "dispatch-order-1024-ru.png")
    await page.click("#register-appeal")
    await page.wait_for_selector("#about-order")
    assert await page.input_value("#author_name") == area.customer.full_name
    await page.select_option("#kind", "complaint")
    await page.fill("#text", "Мастер ушёл, не закончив работу.")
    await look(page, 1024, shots / "dispatch-appeal-new-1024-ru.png")
    await page.click("button:has-text('Зарегистрировать')")
    await page.wait_for_selector(".notice")
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.work_order_id == order.id))
    assert appeal is not None
    assert appeal.customer_id == area.customer.id
    # The dispatcher reads it; deciding and answering are a coordinator's.
    assert await page.locator("#merits").count() == 0
    await look(page, 1024, shots / "dispatch-appeal-registered-1024-ru.png")
    await context.close()

    for width in (1024, 1440):
        context = await browser.new_context(
            viewport={"width": width, "height": 900}, bypass_csp=True
        )
        page = await context.new_page()
        await _sign_in(
            page, live_server, f"/coordinate/appeals/{appeal.id}", coordinator.user.username
        )
        if width == 1024:
            await page.check('input[name="decision"][value="justified"]')
            await page.fill("#reasons", "Работа не закончена, подтверждено фото.")
            await page.click("button:has-text('Записать решение')")
            await page.wait_for_selector("text=Решение записано.")
            await page.fill("#measure-description", "Доделать работу и проверить мастера")
            await page.select_option("#measure-owner", str(supervisor.user.id))
            await page.fill("#measure-due", "2099-01-10")
            await page.click("button:has-text('Добавить меру')")
            await page.wait_for_selector("text=Мера добавлена.")
        await look(page, width, shots / f"coordinator-measure-{width}-ru.png")
        await context.close()
    async with build.sessionmaker() as session:
        measure = await session.scalar(
            select(AppealMeasure).where(AppealMeasure.appeal_id == appeal.id)
        )
    assert measure is not None
    assert measure.owner_id == supervisor.user.id
