"""The answer letter's QR target on phones (320-430 px), kk/ru/en: readable, axe-clean."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser

from service.common.actor import Role
from tests.browser.axe import serious_violations
from tests.browser.shots import shots_dir
from tests.integration.builders import Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WIDTHS = (320, 390, 430)
TITLES = {
    "ru": "Проверка письма с ответом",
    "kk": "Жауап хатын тексеру",
    "en": "Answer letter verification",
}


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """The screenshots' directory."""
    return shots_dir("s5-appeals", artifacts)


async def test_a_customer_scans_the_letter_and_reads_its_verification(
    browser: Browser, live_server: str, build: Builder, shots: Path
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    async with httpx.AsyncClient(base_url=live_server, headers=coordinator.headers) as api:
        registered = await api.post(
            "/api/v1/appeals",
            json={
                "kind": "question",
                "channel": "phone",
                "territory_id": str(area.territory.id),
                "author_name": "Иванова Мария Петровна",
                "text": "Когда подключат дом?",
                "contact_phone": "+77015550111",
            },
        )
        assert registered.status_code == 201, registered.text
        answered = await api.post(
            f"/api/v1/appeals/{registered.json()['id']}/answer",
            json={"merits": "Дом подключат до конца месяца."},
        )
        assert answered.status_code == 200, answered.text
    letter = answered.json()["letter"]
    target = urlsplit(letter["verify_url"]).path  # what the QR code on the letter opens
    for language in ("kk", "ru", "en"):
        for width in WIDTHS:
            context = await browser.new_context(
                viewport={"width": width, "height": 800}, bypass_csp=True
            )
            page = await context.new_page()
            response = await page.goto(f"{live_server}{target}?lang={language}")
            assert response is not None
            assert response.status == 200
            assert await page.get_attribute("html", "lang") == language
            assert await page.inner_text("h1") == TITLES[language]
            assert registered.json()["number"] in await page.inner_text("main")
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (language, width, scroll)
            assert await serious_violations(page) == [], (language, width)
            await page.screenshot(
                path=str(shots / f"letter-verify-{width}-{language}.png"), full_page=True
            )
            if width == 320:
                # The checksums open on a tap and still fit the narrowest phone.
                await page.click("summary")
                assert letter["pdf_sha256"] in await page.inner_text("details")
                scroll = await page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, (language, scroll)
                assert await serious_violations(page) == [], language
                await page.screenshot(
                    path=str(shots / f"letter-verify-{width}-{language}-details.png"),
                    full_page=True,
                )
            await context.close()
