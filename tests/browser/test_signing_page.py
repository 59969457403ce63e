"""The customer's pages on phones (320-430 px, kk/ru/en) in Chromium: fit, sign, copy, refuse.

The signing flow runs against a server with the embedded worker, which renders the signed act's
PDF after the submit has answered: the copy link on the result screen then opens that PDF.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy import select, update

from service.db.models import Act, ActSignature, Customer
from tests.browser.axe import serious_violations
from tests.browser.phone import draw_signature, phone_context, watch
from tests.conftest import serve_app
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import PASSWORD, Builder
from tests.integration.ratings.helpers import rated_visit

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WIDTHS = (320, 360, 390, 430)
# Which phone width each language signs on; screenshots of every state at 320 and 390 px.
SIGN_WIDTH = {"kk": 320, "ru": 390, "en": 430}
SHOT_WIDTHS = (320, 390)

# What a phone user would notice: sideways scroll, answers cut off, targets too small to tap.
FIT = """() => {
  const width = window.innerWidth;
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => box(el).width > 0 && box(el).height > 0;
  const inside = (el) => box(el).left >= 0 && box(el).right <= width + 0.5;
  const answers = [...document.querySelectorAll(".card-answer")];
  const texts = [...document.querySelectorAll(".card-answer, .card-step, dd, dt, h1, p")]
    .filter(shown);
  const targets = [...document.querySelectorAll("button, input, textarea, summary, a, canvas")]
    .filter(shown);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    answers: answers.length,
    answersVisible: answers.filter((el) => shown(el) && inside(el)).length,
    cutOff: texts.filter((el) => !inside(el)).map((el) => el.textContent.slice(0, 40)),
    // A radio or checkbox is tapped through its label; a visually hidden radio is a label's.
    small: targets.map((el) => el.closest("label") || el)
      .filter((el) => getComputedStyle(el).opacity !== "0")
      .filter((el) => box(el).height < 44 || box(el).width < 44)
      .map((el) => el.id || el.textContent.slice(0, 30)),
  };
}"""


@pytest.fixture(scope="module")
def worker_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with its embedded worker (notifications, jobs, act PDFs)."""
    with serve_app(database_url, tmp_path_factory, {"NARYAD_EMBEDDED_WORKER": "1"}) as url:
        yield url


async def _signing_link(server: str, build: Builder, language: str) -> dict[str, str]:
    """A visit driven to the signature through the server, for a customer speaking `language`."""
    area = await build.area()
    async with build.sessionmaker() as session, session.begin():
        await session.execute(
            update(Customer)
            .where(Customer.id == area.customer.id)
            .values(preferred_language=language)
        )
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="scheduled")
    visit = await build.visit(
        order, technician.technician, start=datetime.now(UTC) - timedelta(minutes=30), hours=3
    )
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
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
            headers={**phone.headers, "Idempotency-Key": f"start-act-{visit.id}"},
        )
        assert started.status_code == 201, started.text
        link: dict[str, str] = started.json()
        return link


async def _phone(browser: Browser, width: int, language: str, **options: Any) -> BrowserContext:
    return await phone_context(browser, width=width, language=language, scale=2, **options)


async def _assert_fits(page: Page, label: str, *, act_shown: bool = True) -> dict[str, Any]:
    fit: dict[str, Any] = await page.evaluate(FIT)
    assert fit["scrollWidth"] <= fit["innerWidth"], (label, fit)
    assert fit["cutOff"] == [], (label, fit)
    if act_shown:
        assert fit["answersVisible"] == fit["answers"], (label, fit)
    assert fit["small"] == [], (label, fit)
    return fit


async def _open_act(page: Page, url: str) -> None:
    await page.goto(url)
    await page.locator("#scroll-hint").scroll_into_view_if_needed()
    await page.wait_for_selector("#sign-section", state="visible")


async def _check_width(
    browser: Browser, url: str, language: str, width: int, artifacts: Path
) -> None:
    context = await _phone(browser, width, language)
    page = await context.new_page()
    errors = watch(page, failed_loads=True)
    await _open_act(page, url)
    assert await page.get_attribute("html", "lang") == language
    fit = await _assert_fits(page, f"signing {language} {width}px")
    assert fit["answers"] > 5
    assert await page.get_attribute("#pad", "aria-label")
    if width in SHOT_WIDTHS:
        await page.screenshot(
            path=str(artifacts / f"signing-{language}-{width}.png"), full_page=True
        )
    assert errors == []  # nothing refused by the CSP, no script error, nothing missing
    await context.close()


async def test_the_copy_link_says_it_is_being_prepared_until_the_pdf_exists(
    browser: Browser, live_server: str, build: Builder, artifacts: Path
) -> None:
    # The shared server runs no worker: the PDF never comes, the page keeps saying so.
    link = await _signing_link(live_server, build, "ru")
    async with httpx.AsyncClient(timeout=30) as client:
        signed = await client.post(
            link["signing_url"], json=signature_body(link["snapshot_sha256"])
        )
    assert signed.status_code == 200, signed.text
    for width in SHOT_WIDTHS:
        context = await _phone(browser, width, "ru", bypass_csp=True)
        page = await context.new_page()
        response = await page.goto(signed.json()["copy_url"])
        assert response is not None
        assert response.status == 200
        assert "Копия акта готовится" in await page.inner_text("h1")
        assert await page.locator("main[data-refresh]").count() == 1
        await _assert_fits(page, f"preparing {width}px", act_shown=False)
        await page.screenshot(path=str(artifacts / f"copy-preparing-ru-{width}.png"))
        assert await serious_violations(page) == [], ("preparing", width)
        await context.close()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_customer_reads_signs_and_gets_a_copy_on_any_phone(
    browser: Browser, worker_server: str, build: Builder, artifacts: Path, language: str
) -> None:
    link = await _signing_link(worker_server, build, language)
    url = link["signing_url"]
    await asyncio.gather(
        *(_check_width(browser, url, language, width, artifacts) for width in WIDTHS)
    )

    width = SIGN_WIDTH[language]
    context = await _phone(browser, width, language)
    page = await context.new_page()
    await _open_act(page, url)
    await draw_signature(page)
    drawn = await page.evaluate("document.getElementById('pad').toDataURL()")
    # Switching the page's language keeps the drawn signature (no reload).
    other = "en" if language != "en" else "kk"
    await page.click(f"button.language[data-lang='{other}']")
    switch = page.locator(f"button.language[data-lang='{other}']")
    assert await switch.get_attribute("aria-pressed") == "true"
    assert await page.evaluate("document.getElementById('pad').toDataURL()") == drawn
    # Screen readers follow: the page says its new language; the act keeps its own.
    assert await page.evaluate("document.documentElement.lang") == other
    assert await page.get_attribute("#act", "lang") == language
    await page.click(f"button.language[data-lang='{language}']")
    await page.fill("#name", "Нұрланова Әлия Қанатқызы")

    started = time.monotonic()
    await page.click("#sign")
    # (wait_for_function would evaluate a string, which the page's CSP rightly refuses)
    await page.locator("#done, #error:not(:empty)").first.wait_for(timeout=20_000)
    answered = time.monotonic() - started
    assert await page.inner_text("#error") == ""
    assert await page.is_visible("#done")
    assert await page.is_hidden("#act")  # only the result remains on screen
    assert await page.inner_text("#done-number") == link["act_number"]
    for _ in range(50):
        if await page.evaluate("() => document.getElementById('copy-qr').naturalWidth") > 0:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the QR code did not load")
    await _assert_fits(page, f"result {language} {width}px", act_shown=False)
    await page.screenshot(path=str(artifacts / f"signing-done-{language}-{width}.png"))
    print(f"signature answered in {answered:.2f} s ({language}, {width} px)")

    # The copy link on the result screen opens the PDF once the worker has rendered it.
    href = await page.get_attribute("#copy-link", "href")
    assert href is not None
    assert href.startswith(worker_server + "/mobile/v1/acts/copy/")
    deadline = time.monotonic() + 60
    while True:
        response = await page.request.get(href)
        if response.headers["content-type"] == "application/pdf":
            break
        assert response.status == 200, await response.text()
        assert "refresh" in await response.text()  # the "being prepared" page
        assert time.monotonic() < deadline, "the PDF was not rendered within a minute"
        await asyncio.sleep(0.5)
    assert (await response.body()).startswith(b"%PDF")
    await context.close()

    async with build.sessionmaker() as session:
        act = await session.scalar(select(Act).where(Act.id == link["act_id"]))
        signature = await session.scalar(
            select(ActSignature).where(ActSignature.act_id == link["act_id"])
        )
    assert act is not None
    assert act.status in ("signed", "sealed")
    assert act.pdf_key is not None
    assert signature is not None
    assert signature.document_sha256 == act.snapshot_sha256 == link["snapshot_sha256"]
    assert signature.signer_name == "Нұрланова Әлия Қанатқызы"
    assert sum(len(stroke) for stroke in signature.strokes) > 10
    assert signature.user_agent

    # The verify page behind the act's QR code, for people, at phone widths.
    for shot in SHOT_WIDTHS:
        context = await _phone(browser, shot, language)
        page = await context.new_page()
        await page.goto(f"{worker_server}/verify/acts/{act.public_id}")
        await _assert_fits(page, f"verify {language} {shot}px")
        assert act.number in await page.inner_text("main")
        await page.screenshot(path=str(artifacts / f"verify-{language}-{shot}.png"), full_page=True)
        await context.close()


async def test_refusing_asks_for_a_reason_and_then_shows_only_the_refusal(
    browser: Browser, worker_server: str, build: Builder, artifacts: Path
) -> None:
    link = await _signing_link(worker_server, build, "ru")
    for width in SHOT_WIDTHS:
        context = await _phone(browser, width, "ru")
        page = await context.new_page()
        await _open_act(page, link["signing_url"])
        await page.click("#refuse-open")
        await page.wait_for_selector("#refuse-box", state="visible")
        await page.click("#refuse")  # no reason yet
        assert "причину" in await page.inner_text("#reason-error")
        await page.screenshot(path=str(artifacts / f"refuse-confirm-ru-{width}.png"))
        await context.close()

    context = await _phone(browser, 320, "ru")
    page = await context.new_page()
    await _open_act(page, link["signing_url"])
    await page.click("#refuse-open")
    await page.fill("#reason", "Не согласен с объёмом работ")
    await page.click("#refuse")
    await page.wait_for_selector("#refused", state="visible")
    assert await page.is_hidden("#act")
    assert await page.is_hidden("#sign-section")
    assert await page.is_hidden("#done")
    assert "Отказ от подписи записан" in await page.inner_text("#refused")
    await _assert_fits(page, "refused 320px", act_shown=False)
    await page.screenshot(path=str(artifacts / "refused-ru-320.png"))
    await page.set_viewport_size({"width": 390, "height": 800})
    await _assert_fits(page, "refused 390px", act_shown=False)
    await page.screenshot(path=str(artifacts / "refused-ru-390.png"))
    await context.close()


# The phone's voices, as the page sees them; what it would have said is kept in __spoken.
FAKE_VOICES = """(langs) => {
  window.__spoken = [];
  const voices = langs.map((lang) => ({lang, name: "test " + lang, voiceURI: lang,
                                       default: false, localService: true}));
  Object.defineProperty(speechSynthesis, "getVoices", {value: () => voices});
  Object.defineProperty(speechSynthesis, "speak",
                        {value: (u) => window.__spoken.push({text: u.text, lang: u.lang})});
}"""


async def test_read_aloud_reads_the_act_and_offers_another_voice(
    browser: Browser, worker_server: str, build: Builder, artifacts: Path
) -> None:
    link = await _signing_link(worker_server, build, "kk")
    context = await _phone(browser, 390, "kk")
    page = await context.new_page()

    # A Kazakh voice exists: the act is read with it at once.
    await page.goto(link["signing_url"])
    await page.evaluate(FAKE_VOICES, ["kk-KZ", "ru-RU"])
    await page.click("#read-aloud")
    spoken = await page.evaluate("() => window.__spoken")
    assert [s["lang"] for s in spoken] == ["kk-KZ"]
    text = spoken[0]["text"]
    assert link["act_number"] in text
    assert "Нұрланова Әлия Қанатқызы" in text  # an answer, as answered
    # A pause between each label and its value: never "Тапсырыс берушіНұрланова".
    assert ". Нұрланова Әлия Қанатқызы" in text
    # Human content only: no hashes, ids or links.
    assert link["snapshot_sha256"] not in text
    assert "http" not in text
    assert "sha" not in text.lower()
    assert link["act_id"] not in text

    # No voice for Kazakh on this phone: the page says so and offers the voices it has.
    await page.goto(link["signing_url"])
    await page.evaluate(FAKE_VOICES, ["ru-RU", "en-US"])
    await page.click("#read-aloud")
    await page.wait_for_selector("#voice-box", state="visible")
    assert "дауыс жоқ" in await page.inner_text("#voice-message")
    choices = await page.locator("#voice-choices button").all_inner_texts()
    assert choices == ["Русский", "English"]
    await page.screenshot(path=str(artifacts / "read-aloud-no-voice-kk-390.png"))
    await page.click("#voice-choices button:text('Русский')")
    spoken = await page.evaluate("() => window.__spoken")
    assert [s["lang"] for s in spoken] == ["ru-RU"]
    assert link["snapshot_sha256"] not in spoken[0]["text"]
    await context.close()


async def test_customer_pages_pass_axe_and_fit(
    browser: Browser, worker_server: str, build: Builder, artifacts: Path
) -> None:
    link = await _signing_link(worker_server, build, "kk")
    rated = await rated_visit(build)
    unknown = f"{worker_server}/mobile/v1/sign/{'x' * 43}"
    pages = {
        "signing": link["signing_url"],
        "error": unknown,
        "rating": f"{worker_server}{rated.path}",
        "rating-error": f"{worker_server}/rate/{'z' * 43}",
    }
    for name, url in pages.items():
        for width in SHOT_WIDTHS:
            # axe is injected as a script: this context alone ignores the pages' CSP.
            context = await _phone(browser, width, "kk", bypass_csp=True)
            page = await context.new_page()
            await page.goto(url)
            if name == "signing":
                await page.locator("#scroll-hint").scroll_into_view_if_needed()
                await page.wait_for_selector("#sign-section", state="visible")
            await _assert_fits(page, f"{name} {width}px")
            await page.screenshot(path=str(artifacts / f"{name}-kk-{width}.png"), full_page=True)
            assert await serious_violations(page) == [], (name, width)
            await context.close()

    # The result and refusal states, and the verify page, through axe too.
    context = await _phone(browser, 390, "kk", bypass_csp=True)
    page = await context.new_page()
    await _open_act(page, link["signing_url"])
    await draw_signature(page)
    await page.click("#sign")
    await page.wait_for_selector("#done", state="visible", timeout=20_000)
    assert await serious_violations(page) == [], "result"
    async with build.sessionmaker() as session:
        act = await session.get_one(Act, link["act_id"])
    await page.goto(f"{worker_server}/verify/acts/{act.public_id}")
    assert await serious_violations(page) == [], "verify"
    await context.close()
