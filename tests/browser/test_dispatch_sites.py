"""A dispatcher registers a customer, placing the site with a click on the map."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from service.common.actor import Role
from service.db.models import Customer, Site
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_the_site_is_picked_on_the_map_and_a_bad_phone_keeps_the_form(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    # The page's own CSP stays on: the picker must run as a nonce-tagged script.
    context = await browser.new_context(viewport={"width": 1024, "height": 900})
    page = await context.new_page()
    await page.goto(f"{live_server}/staff/login?next=/dispatch/customers/new")
    await page.fill("#username", dispatcher.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", "ru")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/dispatch/customers/new")
    await page.select_option("#f-territory", str(area.territory.id))
    await page.fill("#f-full_name", "Сейітова Арай")
    await page.fill("#f-phones", "701 12")  # too short: refused, what was typed stays
    await page.fill("#f-address", "г. Алматы, ул. Абая, 10")
    site_map = page.locator("#site-map")
    await site_map.scroll_into_view_if_needed()
    box = await site_map.bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.locator(".leaflet-marker-icon").wait_for()
    lat = float(await page.input_value("#site-lat"))
    lon = float(await page.input_value("#site-lon"))
    # The territory is outlined and the view fitted to it: the middle of the map is inside.
    assert area.origin[1] <= lat <= area.origin[1] + 1
    assert area.origin[0] <= lon <= area.origin[0] + 1
    await page.click("#customer-form button[type=submit]")
    await page.locator("#f-phones-error").wait_for()
    assert "+77011234567" in await page.inner_text("#f-phones-error")
    assert await page.input_value("#f-full_name") == "Сейітова Арай"
    assert float(await page.input_value("#site-lat")) == pytest.approx(lat)
    await page.screenshot(path=str(artifacts / "dispatch-site-picker-1024.png"), full_page=True)
    async with build.sessionmaker() as session:
        written = await session.scalar(
            select(func.count()).select_from(Customer).where(Customer.full_name == "Сейітова Арай")
        )
        assert written == 0
    await page.fill("#f-phones", "+7 (701) 555-12-34")
    await page.click("#customer-form button[type=submit]")
    await page.locator("p.notice").wait_for()
    async with build.sessionmaker() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.full_name == "Сейітова Арай")
        )
        assert customer is not None
        assert customer.phones == ["+77015551234"]
        point = (
            await session.execute(
                select(
                    func.ST_Y(func.geometry(Site.location)), func.ST_X(func.geometry(Site.location))
                ).where(Site.customer_id == customer.id)
            )
        ).one()
    assert point[0] == pytest.approx(lat, abs=1e-5)
    assert point[1] == pytest.approx(lon, abs=1e-5)
    await context.close()
