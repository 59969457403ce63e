"""The customer rates the visit on their phone's browser, by keyboard and by tapping."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select

from service.db.models import FollowUpTask, Rating
from tests.integration.builders import Builder
from tests.integration.ratings.helpers import rated_visit

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_customer_rates_the_visit_on_the_page(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    rated = await rated_visit(build)
    page = await browser.new_page(viewport={"width": 412, "height": 915}, locale="kk-KZ")
    await page.goto(f"{live_server}{rated.path}?lang=ru")
    assert await page.get_attribute("html", "lang") == "ru"
    assert rated.order.number in await page.inner_text("main")

    # Keyboard: focus the first star, move with the arrow keys as a radio group does.
    await page.focus("#score-1")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    assert await page.is_checked("#score-3")
    assert await page.inner_text("#score-text") == "3 — удовлетворительно"
    # A tap on the fourth star; the radios are labelled for screen readers.
    await page.click("label[for=score-4]")
    assert await page.get_by_role("radio", name="4 — хорошо").is_checked()
    assert await page.locator(".stars label.on").count() == 4

    await (
        page.get_by_role("group", name="Специалист показал служебное удостоверение?")
        .get_by_label("Да")
        .check()
    )
    await (
        page.get_by_role("group", name="Специалист надел бахилы, когда вошёл?")
        .get_by_label("Нет")
        .check()
    )
    await (
        page.get_by_role("group", name="Специалист показал, что услуга работает?")
        .get_by_label("Да")
        .check()
    )
    await page.get_by_role("group", name="После работы было чисто?").get_by_label("Да").check()
    await page.get_by_label("Комментарий (необязательно)").fill("Всё хорошо, но без бахил")
    await page.screenshot(path=str(artifacts / "rating-page.png"), full_page=True)

    await page.get_by_role("button", name="Отправить оценку").click()
    await page.wait_for_selector("#done", state="visible", timeout=20_000)
    assert await page.inner_text("#error") == ""
    # A "no" opened a call-back: the reply is an apology with its due date, not plain thanks.
    assert "Приносим извинения" in await page.inner_text("#done")
    await page.screenshot(path=str(artifacts / "rating-done.png"))

    # The link is spent: opening it again shows the thank-you state, not the form.
    await page.goto(f"{live_server}{rated.path}")
    assert await page.locator("#rating").count() == 0
    await page.close()

    async with build.sessionmaker() as session:
        rating = await session.scalar(select(Rating).where(Rating.visit_id == rated.visit.id))
        task = await session.scalar(
            select(FollowUpTask).where(FollowUpTask.visit_id == rated.visit.id)
        )
    assert rating is not None
    assert rating.score == 4
    assert rating.comment == "Всё хорошо, но без бахил"
    assert rating.confirmations == {
        "id_shown": True,
        "overshoes_on": False,
        "service_demonstrated": True,
        "area_clean": True,
    }
    assert task is not None
    assert task.reasons == ["no_overshoes"]


async def submit_rating(page: Page, score: int, no_to: str | None = None) -> None:
    """Pick ``score`` stars, answer "yes" to everything but ``no_to``, and send."""
    await page.click(f"label[for=score-{score}]")
    for key in ("id_shown", "overshoes_on", "service_demonstrated", "area_clean"):
        await page.check(f"input[name={key}][value={'no' if key == no_to else 'yes'}]")
    await page.click("#send")
    await page.wait_for_selector("#done", state="visible", timeout=20_000)
    assert await page.inner_text("#error") == ""


@pytest.mark.parametrize(
    ("lang", "apology", "zone_word"),
    [
        ("ru", "Приносим извинения", "Мы позвоним Вам до"),
        ("kk", "кешірім сұраймыз", "дейін сізге хабарласамыз"),
        ("en", "we apologise", "We will call you by"),
    ],
)
async def test_a_poor_rating_gets_an_apology_and_the_call_back_date_on_a_phone(
    browser: Browser,
    live_server: str,
    build: Builder,
    artifacts: Path,
    lang: str,
    apology: str,
    zone_word: str,
) -> None:
    rated = await rated_visit(build)
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(f"{live_server}{rated.path}?lang={lang}")
    await submit_rating(page, 2)
    reply = await page.inner_text("#done")
    async with build.sessionmaker() as session:
        task = await session.scalar(
            select(FollowUpTask).where(FollowUpTask.visit_id == rated.visit.id)
        )
    assert task is not None
    # The due date and time as the site (Asia/Almaty) reads them, and the zone named.
    due = task.due_at.astimezone(ZoneInfo("Asia/Almaty"))
    assert apology in reply
    assert zone_word in reply
    assert f"{due:%d.%m.%Y} {due:%H:%M}" in reply, reply
    assert "UTC+05:00, Asia/Almaty" in reply
    assert "Спасибо" not in reply
    assert "Рахмет" not in reply
    assert "Thank you" not in reply
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await page.screenshot(path=str(artifacts / f"rating-apology-390-{lang}.png"), full_page=True)
    await page.close()


async def test_a_good_rating_gets_the_thanks(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    rated = await rated_visit(build)
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(f"{live_server}{rated.path}?lang=ru")
    await submit_rating(page, 5)
    reply = await page.inner_text("#done")
    assert reply == "Спасибо! Ваша оценка принята."
    await page.screenshot(path=str(artifacts / "rating-thanks-390.png"), full_page=True)
    await page.close()
    async with build.sessionmaker() as session:
        task = await session.scalar(
            select(FollowUpTask).where(FollowUpTask.visit_id == rated.visit.id)
        )
    assert task is None
