"""A coordinator registers, decides and answers a complaint in /coordinate/appeals, in Chromium at
1024 and 1440 px, in ru and kk; axe-core finds nothing serious; nothing runs off to the side."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import Appeal
from tests.browser.shots import look, shots_dir
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """The screenshots' directory."""
    return shots_dir("appeals", artifacts)


async def test_coordinator_works_a_complaint_to_its_letter(
    browser: Browser, live_server: str, build: Builder, shots: Path
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{live_server}/coordinate/appeals")
    await page.fill("#username", coordinator.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "ru")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/coordinate/appeals")
    # The shared layout's link marks this section.
    assert await page.get_attribute('nav.sections a[data-area="appeals"]', "aria-current") == "page"

    await page.click("text=Зарегистрировать обращение")
    await page.select_option("#kind", "complaint")
    await page.select_option("#channel", "phone")
    await page.select_option("#territory_id", str(area.territory.id))
    await page.fill("#author_name", "Сәрсенбаева Айгүл Нұрланқызы")
    await page.fill("#text", "Шебер келісілген уақытта келмеді.")
    await page.fill("#contact_phone", "+77015550188")
    await page.select_option("#language", "kk")
    await look(page, 1024, shots / "staff-new-1024-ru.png")
    await page.click("button:has-text('Зарегистрировать')")
    await page.wait_for_selector(".notice")
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.contact_phone == "+77015550188"))
    assert appeal is not None
    assert appeal.number in await page.inner_text("h1")

    await page.check('input[name="decision"][value="partly"]')
    await page.fill("#reasons", "Кешігу журналмен расталды, бірақ клиент үйде болмаған.")
    await page.check('input[name="reason_codes"][value="missed_visit"]')
    await page.click("button:has-text('Записать решение')")
    await page.wait_for_selector("text=Решение записано.")
    await page.fill("#merits", "Кешірім сұраймыз. Қайта бару келісілді.")
    await look(page, 1024, shots / "staff-detail-1024-ru.png")
    await page.click("button:has-text('Отправить письмо с ответом')")
    await page.wait_for_selector("text=Письмо отправлено клиенту.")
    assert await page.locator("text=Открыть письмо (PDF)").count() == 1
    await context.close()
    async with build.sessionmaker() as session:
        row = await session.get_one(Appeal, appeal.id)
    assert row.state == "answered"

    for language in ("ru", "kk"):
        for width in (1024, 1440):
            context = await browser.new_context(
                viewport={"width": width, "height": 900}, bypass_csp=True
            )
            page = await context.new_page()
            await page.goto(f"{live_server}/coordinate/appeals?lang={language}")
            await page.fill("#username", coordinator.user.username)
            await page.fill("#password", PASSWORD)
            await page.select_option("#language", language)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{live_server}/coordinate/appeals*")
            assert await page.get_attribute("html", "lang") == language
            assert appeal.number in await page.inner_text("main")
            await look(page, width, shots / f"staff-list-{width}-{language}.png")
            await page.click(f"text={appeal.number}")
            await page.wait_for_selector("#appeal-h")
            await look(page, width, shots / f"staff-detail-{width}-{language}.png")
            await context.close()
