"""The appeals analysis, the board's appeals tiles and the reason taxonomy in Chromium at 1024 and
1440 px, in kk, ru and en: axe-core finds nothing serious, nothing runs off to the side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import update

from service.common.actor import Role
from service.db.models import Appeal, Customer, Technician, Territory
from tests.browser.axe import serious_violations
from tests.integration.builders import PASSWORD, Area, Builder, Person

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
SHOTS = Path("/work/wt/shots/s5-analysis")


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """The screenshots' directory (the shared one when present, else the artefacts)."""
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        return SHOTS
    return artifacts


async def _look(page: Page, width: int, name: str, shots: Path) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, name
    assert await serious_violations(page) == [], name
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


async def _sign_in(page: Page, live_server: str, who: Person, path: str, language: str) -> None:
    await page.goto(f"{live_server}{path}")
    await page.fill("#username", who.user.username)
    await page.fill("#password", PASSWORD)
    await page.select_option("#language", language)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}{path.split('?', maxsplit=1)[0]}*")


async def _month_of_complaints(build: Builder) -> tuple[Person, Person, list[Area]]:
    """Two territories with a month of appeals: reasons, types, technicians, repeats, lateness."""
    almaty, astana = await build.area(), await build.area()
    coordinator = await build.person(Role.COORDINATOR, almaty.territory, astana.territory)
    admin = await build.person(Role.ADMIN)
    techs = [
        await build.person(Role.TECHNICIAN, area.territory) for area in (almaty, almaty, astana)
    ]
    now = datetime.now(UTC)
    async with build.sessionmaker() as session:
        for area, name in ((almaty, "Алматы, Бостандық"), (astana, "Астана, Есіл")):
            await session.execute(
                update(Territory).where(Territory.id == area.territory.id).values(name=name)
            )
        for person, name in zip(
            techs, ("Серікбаев Қанат", "Омаров Ержан", "Ли Виктор"), strict=True
        ):
            assert person.technician is not None
            await session.execute(
                update(Technician)
                .where(Technician.id == person.technician.id)
                .values(full_name=name)
            )
        extra = Customer(
            territory_id=almaty.territory.id,
            full_name="Ахметова Гүлнар Серікқызы",
            phones=["+77017770011"],
            preferred_language="ru",
        )
        session.add(extra)
        await session.commit()
    orders = {
        kind: await build.order(almaty, type=kind)
        for kind in ("repair", "installation", "meter_check")
    }
    visits = [
        await build.visit(orders[kind], tech.technician, start=now + timedelta(days=i + 1))  # type: ignore[arg-type]
        for i, (kind, tech) in enumerate(
            (("repair", techs[0]), ("installation", techs[1]), ("meter_check", techs[0]))
        )
    ]
    month_start = now.replace(day=1, hour=6, minute=0, second=0, microsecond=0)
    plan = [
        # (area, customer, kind, reasons, visit index, registered hours after month start,
        #  closed after due?, repeat of index)
        (almaty, almaty.customer.id, "complaint", ["missed_visit"], 0, 1, False, None),
        (almaty, almaty.customer.id, "complaint", ["missed_visit", "staff_conduct"], 0, 5, True, 0),
        (almaty, almaty.customer.id, "quality_claim", ["poor_quality"], 1, 9, None, 1),
        (almaty, extra.id, "complaint", ["damage"], 2, 3, False, None),
        (almaty, extra.id, "complaint", ["missed_visit"], 1, 6, None, 3),
        (almaty, extra.id, "question", [], None, 2, False, None),
        (astana, astana.customer.id, "complaint", ["deadline"], None, 4, False, None),
        (astana, astana.customer.id, "request", [], None, 7, None, None),
        (astana, astana.customer.id, "complaint", [], None, 8, None, None),
    ]
    ids: list[uuid.UUID] = []
    async with build.sessionmaker() as session:
        for n, (area, customer, kind, reasons, visit, hours, late, repeat) in enumerate(plan):
            registered = min(month_start + timedelta(hours=hours), now - timedelta(minutes=5))
            # A late answer came a day after a one-day deadline (never later than now).
            due = registered + timedelta(days=1 if late else 7)
            closed = None if late is None else (due + timedelta(days=1) if late else registered)
            closed = min(closed, now - timedelta(minutes=1)) if closed else None
            if late is None and n == 2:
                due = now - timedelta(hours=3)  # open and overdue now
            complaint = kind in ("complaint", "quality_claim")
            appeal = Appeal(
                id=uuid.uuid4(),
                number=f"A-{now.year}-9{uuid.uuid4().int % 100000:05d}",
                territory_id=area.territory.id,
                kind=kind,
                channel="phone",
                reply_channel="sms",
                language="ru",
                customer_id=customer,
                work_order_id=visits[visit].work_order_id if visit is not None else None,
                visit_id=visits[visit].id if visit is not None else None,
                author_name="Клиент",
                contact_phone="+77011234567",
                text="Жалоба",
                state="answered" if closed else "in_progress",
                registered_at=registered,
                due_at=due,
                warning_at=due - timedelta(days=2),
                max_due_at=due + timedelta(days=23),
                competence_due_at=registered + timedelta(days=5),
                decision="partly" if complaint and reasons else None,
                decision_reasons="Проверено." if complaint and reasons else None,
                reason_codes=reasons,
                answer_text="Ответ." if closed else None,
                answered_at=closed,
                closed_at=closed,
                status_token_hash=uuid.uuid4().hex * 2,
                repeat_of_id=ids[repeat] if repeat is not None else None,
            )
            session.add(appeal)
            await session.flush()
            ids.append(appeal.id)
        await session.commit()
    return coordinator, admin, [almaty, astana]


async def test_the_analysis_board_tiles_and_reasons_as_people_see_them(
    browser: Browser, live_server: str, build: Builder, shots: Path
) -> None:
    coordinator, admin, _ = await _month_of_complaints(build)
    for language in ("ru", "kk", "en"):
        for width in (1024, 1440):
            context = await browser.new_context(
                viewport={"width": width, "height": 900}, bypass_csp=True
            )
            page = await context.new_page()
            await _sign_in(
                page,
                live_server,
                coordinator,
                f"/coordinate/appeals/analysis?lang={language}",
                language,
            )
            assert await page.get_attribute("html", "lang") == language
            assert "Серікбаев Қанат" in await page.inner_text("#by-technician")
            assert "Ахметова Гүлнар Серікқызы" in await page.inner_text("#repeat-customers")
            assert "Астана, Есіл" in await page.inner_text("#by-territory")
            await _look(page, width, f"analysis-{width}-{language}", shots)
            if width == 1024:
                # The list carries the tabs; its Analysis tab leads back here.
                await page.goto(f"{live_server}/coordinate/appeals?lang={language}")
                await page.wait_for_selector("nav.appeal-tabs")
                await _look(page, width, f"list-{width}-{language}", shots)
                await page.click("nav.appeal-tabs a >> nth=1")
                await page.wait_for_selector("#by-reason")
                await page.goto(f"{live_server}/board?lang={language}")
                await page.wait_for_selector("#appeal-tiles")
                await _look(page, width, f"board-{width}-{language}", shots)
                # From the board's link to the analysis, and from a repeat to its appeal.
                await page.click("#analysis-link")
                await page.wait_for_selector("#repeat-customers")
                await page.click("#repeat-customers a >> nth=0")
                await page.wait_for_selector("#appeal-h")
            await context.close()

            context = await browser.new_context(
                viewport={"width": width, "height": 900}, bypass_csp=True
            )
            page = await context.new_page()
            await _sign_in(
                page, live_server, admin, f"/coordinate/appeals/reasons?lang={language}", language
            )
            await page.wait_for_selector("#add-reason")
            await _look(page, width, f"reasons-{width}-{language}", shots)
            if width == 1024 and language == "ru":
                # A refused add shows its reason next to the field.
                await page.fill("#new-code", "Плохой код")
                await page.fill("#new-ru", "Долго ждать")
                await page.fill("#new-kk", "Ұзақ күту")
                await page.fill("#new-en", "Long wait")
                await page.click("#add-reason button[type=submit]")
                await page.wait_for_selector("#new-code-err")
                await _look(page, width, f"reasons-refused-{width}-{language}", shots)
            await context.close()
