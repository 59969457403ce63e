"""The public appeal form and the status page on phones (320-430 px), kk/ru/en, axe-clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from service.db.models import Appeal
from tests.browser.axe import serious_violations
from tests.browser.shots import shots_dir
from tests.integration.builders import Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WIDTHS = (320, 390, 430)


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """The screenshots' directory."""
    return shots_dir("appeals", artifacts)


async def test_customer_sends_a_complaint_and_reads_its_status(
    browser: Browser, live_server: str, build: Builder, shots: Path
) -> None:
    area = await build.area()
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ru-RU", bypass_csp=True
    )
    page = await context.new_page()
    await page.goto(f"{live_server}/appeal?lang=ru")
    # Sending an empty form names what is missing, in the page's language, and sends nothing.
    await page.get_by_role("button", name="Отправить").click()
    assert await page.inner_text("#author_name-error") == "Заполните, пожалуйста, это поле."
    assert await page.get_attribute("#author_name", "aria-invalid") == "true"
    await page.screenshot(path=str(shots / "form-errors-390-ru.png"), full_page=True)

    await page.get_by_label("Претензия к качеству работ").check()
    await page.select_option("#territory", area.territory.code)
    await page.get_by_label("Ваши фамилия, имя и отчество").fill("Иванова Мария Петровна")
    await page.get_by_label("Ваше обращение").fill("Мастер опоздал на три часа.")
    await page.get_by_label("Телефон, например +77011234567").fill("+77015550102")
    await page.get_by_role("button", name="Отправить").click()
    await page.wait_for_selector("#done", state="visible", timeout=20_000)
    done = await page.inner_text("#done")
    assert "зарегистрировано под номером A-" in done
    await page.screenshot(path=str(shots / "form-done-390-ru.png"), full_page=True)
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.contact_phone == "+77015550102"))
        assert appeal is not None
        assert appeal.kind == "quality_claim"
    status_url = await page.get_attribute("#done-link", "href")
    assert status_url is not None
    await context.close()

    for language in ("kk", "ru", "en"):
        for width in WIDTHS:
            context = await browser.new_context(
                viewport={"width": width, "height": 800}, bypass_csp=True
            )
            page = await context.new_page()
            for name, url in (
                ("form", f"{live_server}/appeal?lang={language}"),
                ("status", f"{status_url}?lang={language}"),
            ):
                response = await page.goto(url)
                assert response is not None
                assert response.status == 200, url
                assert await page.get_attribute("html", "lang") == language
                scroll = await page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, (name, language, width, scroll)
                assert await serious_violations(page) == [], (name, language, width)
                await page.screenshot(
                    path=str(shots / f"{name}-{width}-{language}.png"), full_page=True
                )
            if language == "ru":
                assert appeal.number in await page.inner_text("main")
                assert "рассматривается" in await page.inner_text(
                    "main"
                ) or "зарегистрировано" in await page.inner_text("main")
            await context.close()
