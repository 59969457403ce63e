"""A dispatcher whose session ends is told so at the sign-in, and comes back where they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from service.common.actor import Role
from service.staff.session import ACCESS_COOKIE, REFRESH_COOKIE
from tests.browser.axe import serious_violations
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

EXPIRED = {
    "en": "Your session has expired. Sign in again to return to the page you were on.",
    "ru": "Сеанс истёк. Войдите снова, чтобы вернуться на страницу, где вы были.",
    "kk": "Сеанс аяқталды. Болған бетіңізге оралу үшін қайта кіріңіз.",
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_an_ended_session_is_explained_and_the_page_comes_back(
    browser: Browser, live_server: str, build: Builder, artifacts: Path, language: str
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    order = await build.order(area, priority="high")
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
    page = await context.new_page()
    try:
        wanted = f"/dispatch?priority=high&q={order.number}"
        await page.goto(f"{live_server}/staff/login?lang={language}")
        await page.fill("#username", dispatcher.user.username)
        await page.fill("#password", PASSWORD)
        await page.select_option("#language", language)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/dispatch")
        await page.goto(live_server + wanted)
        assert order.number in await page.locator("main").inner_text()

        # The tokens lapse (the browser drops them with the refresh token's lifetime, or they
        # were revoked); the page is reloaded.
        await context.clear_cookies(name=ACCESS_COOKIE)
        await context.clear_cookies(name=REFRESH_COOKIE)
        await page.reload()
        await page.wait_for_url("**/staff/login?*expired=page*")
        message = page.locator("#login-error")
        assert await message.inner_text() == EXPIRED[language]
        assert await message.get_attribute("role") == "alert"
        assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
        assert await serious_violations(page) == []
        await page.screenshot(
            path=str(artifacts / f"staff-session-expired-{language}-1024.png"), full_page=True
        )

        # Signing in again returns to the same page, filters and all, and the message is gone.
        await page.fill("#username", dispatcher.user.username)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"**{wanted}")
        assert order.number in await page.locator("main").inner_text()
        await page.goto(f"{live_server}/staff/login")
        await page.wait_for_url("**/dispatch")  # signed in: no sign-in page at all
    finally:
        await context.close()


async def test_signing_out_is_not_an_expired_session(
    browser: Browser, live_server: str, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/staff/login?lang=en&next=/dispatch")
        await page.fill("#username", dispatcher.user.username)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/dispatch")
        await page.locator("form[action='/staff/logout'] button").click()
        await page.wait_for_url("**/staff/login")
        await page.goto(f"{live_server}/dispatch")
        await page.wait_for_url("**/staff/login?next=*")
        assert "expired" not in page.url
        assert await page.locator("#login-error").count() == 0
    finally:
        await context.close()
