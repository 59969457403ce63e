"""A coordinator who mistypes the password too often is told to wait, in the page's language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import update

from service.common.actor import Role
from service.db.models import LoginFailure
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_board_sign_in_backs_off_after_repeated_wrong_passwords(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, locale="ru-RU")
    page = await context.new_page()
    username = coordinator.user.username

    async def sign_in(password: str) -> int:
        await page.goto(f"{live_server}/staff/login?lang=ru&next=/board")
        await page.fill("#username", username)
        await page.fill("#password", password)
        async with page.expect_response(f"{live_server}/staff/login") as answer:
            await page.click("button[type=submit]")
        return (await answer.value).status

    try:
        assert [await sign_in(f"wrong-{n}") for n in range(5)] == [401] * 5
        # A browser is slower than the first waits (1 s, 2 s...): record the failures of a
        # few minutes of guessing, so the right password now meets a 16 s back-off.
        async with build.sessionmaker() as session:
            await session.execute(
                update(LoginFailure)
                .where(LoginFailure.account == username)
                .values(failures=9, last_attempt_at=datetime.now(UTC))
            )
            await session.commit()
        assert await sign_in(PASSWORD) == 429
        error = page.locator("#login-error")
        await error.wait_for()
        assert "Слишком много неудачных попыток" in await error.inner_text()
        assert await page.locator("#username").input_value() == username
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1024
        await page.screenshot(path=str(artifacts / "board-login-backoff-ru.png"))
    finally:
        await context.close()
