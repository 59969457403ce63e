"""The customer pages that carry the appeal form's link (act verification, rating, act copy),
on phones (320-430 px) in kk/ru/en: the link is there, tied to the act, and the form it opens
registers an appeal about that act."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select

from service.common.link_tokens import link_token_hash
from service.db.models import Appeal, CustomerLink
from service.settings import Settings
from service.storage import build_blob_store
from tests.browser.axe import serious_violations
from tests.browser.shots import shots_dir
from tests.integration.acts.conftest import Acts, Field, random_tax_id
from tests.integration.builders import Builder
from tests.integration.ratings.helpers import rated_visit

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WIDTHS = (320, 390, 430)
LINK_TEXT = {
    "ru": "Вопрос или жалоба? Напишите нам",
    "kk": "Сұрағыңыз немесе шағымыңыз бар ма? Бізге жазыңыз",
    "en": "A question or a complaint? Write to us",
}


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """The screenshots' directory."""
    return shots_dir("appeals", artifacts)


async def _check_link(page: Page, language: str, act_public_id: str, width: int, name: str) -> str:
    link = page.locator(".appeal a")
    assert await link.inner_text() == LINK_TEXT[language], name
    assert await link.is_visible(), name
    box = await link.bounding_box()
    assert box is not None
    assert box["height"] >= 44, name  # a finger's target
    href = await link.get_attribute("href")
    assert href is not None
    query = parse_qs(urlsplit(href).query)
    assert query == {"lang": [language], "act": [act_public_id]}, (name, href)
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, (name, language, width, scroll)
    assert await serious_violations(page) == [], (name, language, width)
    return href


async def test_customer_pages_link_to_the_form_about_their_act(
    browser: Browser, live_server: str, build: Builder, settings: Settings, shots: Path
) -> None:
    rated = await rated_visit(build)
    field = Field(
        rated.area, rated.technician, rated.technician, rated.order, rated.visit, random_tax_id()
    )
    act = await Acts(build=build, settings=settings, store=build_blob_store(settings)).draft(field)
    # The customer's copy link while the PDF is being prepared (a page, not yet the PDF).
    copy_token = secrets.token_urlsafe(32)
    async with build.sessionmaker() as session:
        session.add(
            CustomerLink(
                token_hash=link_token_hash(copy_token),
                purpose="copy",
                act_id=act.id,
                visit_id=rated.visit.id,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        await session.commit()

    for language in ("kk", "ru", "en"):
        for width in WIDTHS:
            context = await browser.new_context(
                viewport={"width": width, "height": 800},
                locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}[language],
                bypass_csp=True,
            )
            page = await context.new_page()
            for name, path in (
                ("verify", f"/verify/acts/{act.public_id}?lang={language}"),
                ("rating", f"{rated.path}?lang={language}"),
            ):
                response = await page.goto(f"{live_server}{path}")
                assert response is not None
                assert response.status == 200, path
                assert await page.get_attribute("html", "lang") == language
                await _check_link(page, language, act.public_id, width, name)
                await page.screenshot(
                    path=str(shots / f"link-{name}-{width}-{language}.png"), full_page=True
                )
            if language == act.language:
                # The copy page speaks the act's language (it has no switch).
                await page.goto(f"{live_server}/mobile/v1/acts/copy/{copy_token}")
                await _check_link(page, language, act.public_id, width, "copy")
                await page.screenshot(
                    path=str(shots / f"link-copy-{width}-{language}.png"), full_page=True
                )
            await context.close()

    # From the rating page to the form: it names the act, and the appeal is tied to it.
    context = await browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{live_server}{rated.path}?lang=ru")
    await page.click(".appeal a")
    await page.wait_for_url("**/appeal?*")
    assert f"По акту {act.number}" in await page.inner_text("main")
    await page.get_by_label("Жалоба").check()
    await page.get_by_label("Ваши фамилия, имя и отчество").fill("Нұрланова Әлия Қанатқызы")
    await page.get_by_label("Ваше обращение").fill("После визита пропал интернет.")
    await page.get_by_label("Телефон, например +77011234567").fill("+77015550177")
    await page.get_by_role("button", name="Отправить").click()
    await page.wait_for_selector("#done", state="visible", timeout=20_000)
    done = await page.inner_text("#done")
    assert "ответим не позднее" in done  # the last day the deadline gives
    assert ".." not in done  # the date's own "г." no longer doubles the sentence's period
    await page.screenshot(path=str(shots / "link-form-done-390-ru.png"), full_page=True)
    await context.close()
    async with build.sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.contact_phone == "+77015550177"))
    assert appeal is not None
    assert (appeal.act_id, appeal.visit_id, appeal.work_order_id) == (
        act.id,
        rated.visit.id,
        rated.order.id,
    )
    assert appeal.territory_id == rated.area.territory.id
    assert appeal.customer_id == rated.area.customer.id
