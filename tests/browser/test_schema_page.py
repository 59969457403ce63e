"""The OpenAPI UI at /schema works on a machine without internet: every asset is the app's own."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_schema_ui_renders_from_the_apps_own_assets(
    browser: Browser, live_server: str, artifacts: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{live_server}/schema")
    # Swagger UI draws the contract's title and its operations once its scripts have run.
    await page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "naryad" in await page.inner_text(".swagger-ui .info .title")
    await page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = await page.locator(".opblock-summary-path").evaluate_all(
        "nodes => nodes.map((node) => node.getAttribute('data-path'))"
    )
    assert "/api/v1/work-orders" in paths
    await page.screenshot(path=str(artifacts / "schema-ui-1280.png"))
    await context.close()
    # Nothing was fetched from another host (this sandbox has no internet, nor do many sites).
    own = urlsplit(live_server).netloc
    assert requested
    assert {urlsplit(url).netloc for url in requested if url.startswith("http")} == {own}
