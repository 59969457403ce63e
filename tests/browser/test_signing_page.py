"""The customer signs on the phone's browser; the stored signature is bound to the act's hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from service.db.models import Act, ActSignature
from tests.e2e.visit_flow import Phone
from tests.integration.builders import PASSWORD, Builder

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def _signing_link(live_server: str, build: Builder) -> dict[str, str]:
    """A visit driven to the signature through the real server; returns the signing link."""
    area = await build.area()
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="scheduled")
    visit = await build.visit(
        order, technician.technician, start=datetime.now(UTC) - timedelta(minutes=30), hours=3
    )
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={
                "username": technician.user.username,
                "password": PASSWORD,
                "device_id": "browser-test-phone",
            },
        )
        token = login.json()["access_token"]
        site = area.point()
        phone = Phone(client, token, str(visit.id), site)
        await phone.push(phone.op("arrived", location={**site, "accuracy_m": 5}))
        await phone.answer_until_signing("repair")
        started = await client.post(
            f"/mobile/v1/visits/{visit.id}/acts",
            json={},
            headers={**phone.headers, "Idempotency-Key": "start-act"},
        )
        assert started.status_code == 201, started.text
        link: dict[str, str] = started.json()
        return link


async def test_customer_signs_on_the_page(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    link = await _signing_link(live_server, build)
    assert link["signing_url"].startswith(live_server)
    page = await browser.new_page(viewport={"width": 412, "height": 915}, locale="kk-KZ")
    await page.goto(link["signing_url"])
    assert link["act_number"] in await page.inner_text("h1 + p")
    assert await page.is_hidden("#sign-section")  # not before the act has been read
    await page.locator("#scroll-hint").scroll_into_view_if_needed()
    await page.wait_for_selector("#sign-section", state="visible")
    assert await page.is_visible("#read-aloud")

    await page.locator("#pad").scroll_into_view_if_needed()
    pad = await page.locator("#pad").bounding_box()
    assert pad is not None
    await page.mouse.move(pad["x"] + 30, pad["y"] + pad["height"] / 2)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(
            pad["x"] + 30 + step * 25,
            pad["y"] + pad["height"] / 2 + (-20 if step % 2 else 20),
            steps=3,
        )
    await page.mouse.up()
    await page.fill("#name", "Нұрланова Әлия Қанатқызы")
    await page.screenshot(path=str(artifacts / "signing-page.png"), full_page=True)
    await page.click("#sign")
    await page.wait_for_function(
        "document.querySelector('#done').hidden === false"
        " || document.querySelector('#error').textContent !== ''",
        timeout=20_000,
    )
    assert await page.inner_text("#error") == ""
    assert await page.is_visible("#done")
    await page.screenshot(path=str(artifacts / "signing-done.png"))
    await page.close()

    async with build.sessionmaker() as session:
        act = await session.scalar(select(Act).where(Act.id == link["act_id"]))
        signature = await session.scalar(
            select(ActSignature).where(ActSignature.act_id == link["act_id"])
        )
    assert act is not None
    assert act.status in ("signed", "sealed")
    assert signature is not None
    assert signature.document_sha256 == act.snapshot_sha256 == link["snapshot_sha256"]
    assert signature.signer_name == "Нұрланова Әлия Қанатқызы"
    assert len(signature.strokes) >= 1
    assert sum(len(stroke) for stroke in signature.strokes) > 10
    assert signature.user_agent
