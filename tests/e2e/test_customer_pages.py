"""The customer's pages over HTTP: link errors are pages, refusals need a reason, headers hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from reports import parse_snapshot
from reports.i18n import work_type_name
from service.db.models import (
    Act,
    ActSignature,
    AuditEntry,
    ChecklistAnswer,
    Customer,
    CustomerLink,
)
from service.settings import SettingsError, load_settings
from tests.conftest import problem
from tests.e2e.test_signing_rules import _signing_link
from tests.e2e.visit_flow import Phone, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio

HTML = "text/html; charset=utf-8"
UNKNOWN = "/mobile/v1/sign/" + "x" * 43


def _assert_page_headers(response: Any) -> str:
    """One charset, a nonce CSP that only the page's own tags carry, and no framing."""
    assert response.headers["content-type"] == HTML
    assert response.headers["content-type"].count("charset") == 1
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]{16,})'", policy)
    assert nonce is not None, policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", response.text):
        assert f'nonce="{nonce.group(1)}"' in tag, tag
    # No inline event handlers: a nonce does not cover them.
    assert not re.search(r"\son[a-z]+=", response.text)
    return nonce.group(1)


@pytest.mark.parametrize(
    ("accept_language", "lang", "phrase"),
    [
        ("en-GB,en;q=0.9", "en", "This link is not valid"),
        ("kk-KZ", "kk", "Сілтеме жарамсыз"),
        ("de-DE,ru;q=0.5", "ru", "Ссылка недействительна"),
    ],
)
async def test_an_unknown_link_is_a_page_in_the_browsers_language(
    client: Any, accept_language: str, lang: str, phrase: str
) -> None:
    for path in (UNKNOWN, "/mobile/v1/acts/copy/" + "y" * 43):
        page = await client.get(path, headers={"Accept-Language": accept_language})
        assert page.status_code == 404
        _assert_page_headers(page)
        assert page.headers["content-language"] == lang
        assert f'<html lang="{lang}">' in page.text
        assert phrase in page.text
        assert "+7 700 000 00 00" in page.text  # the company's phone (issuer settings)
        assert page.text.startswith("<!doctype html>")  # a page, not a problem body
    # A client that asks for JSON keeps its problem+json.
    as_json = await client.get(UNKNOWN, headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    problem(as_json)


async def test_used_refused_and_expired_links_answer_in_the_acts_language(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    english_browser = {"Accept-Language": "en"}
    signed = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    used = await client.get(link["path"], headers=english_browser)
    assert used.status_code == 409
    _assert_page_headers(used)
    # The token is known: the act's language (Kazakh here), not the browser's.
    assert used.headers["content-language"] == "kk"
    assert "Сілтеме бұрын пайдаланылған" in used.text
    as_json = await client.get(link["path"], headers={"Accept": "application/json"})
    assert problem(as_json)["code"] == "link_used"

    async with build.sessionmaker() as session, session.begin():
        await session.execute(
            update(CustomerLink)
            .where(CustomerLink.purpose == "copy", CustomerLink.act_id == link["act_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    copy_path = signed.json()["copy_url"].split("127.0.0.1:8000", 1)[-1]
    expired = await client.get(copy_path, headers=english_browser, follow_redirects=False)
    assert expired.status_code == 410
    _assert_page_headers(expired)
    assert "Сілтеменің мерзімі өтті" in expired.text


async def test_refusing_needs_a_reason_then_shows_only_the_refusal(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    # Too short for the schema (400), or blank once trimmed (422): either way, a reason field.
    for blank, status in (("", 400), ("   ", 422), (" \n\t ", 422)):
        refused = await client.post(link["path"] + "/refuse", json={"reason": blank})
        assert refused.status_code == status, refused.text
        assert problem(refused)["errors"][0]["field"] == "reason"  # type: ignore[index]
    link_id = await _link_id(build, link, "sign")
    async with build.sessionmaker() as session:
        row = await session.get_one(CustomerLink, link_id)
        assert row.refused_at is None
        assert row.refusal_reason is None
    refusals = (AuditEntry.action == "act.refused", AuditEntry.entity_id == str(link["act_id"]))
    assert await build.count(AuditEntry, *refusals) == 0

    refused = await client.post(
        link["path"] + "/refuse", json={"reason": "  Не согласен с объёмом работ  "}
    )
    assert refused.status_code == 200, refused.text
    async with build.sessionmaker() as session:
        row = await session.get_one(CustomerLink, link_id)
        assert row.refusal_reason == "Не согласен с объёмом работ"
    assert await build.count(AuditEntry, *refusals) == 1
    page = await client.get(link["path"], headers={"Accept-Language": "ru"})
    assert page.status_code == 409
    assert "Сіз бұл актіге қол қоюдан бас тарттыңыз" in page.text
    assert "Сілтеме бұрын пайдаланылған" not in page.text  # only the refusal, nothing else
    again = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert problem(again)["code"] == "link_refused"

    async with build.sessionmaker() as session:
        act = await session.get_one(Act, link["act_id"])
    verify = await client.get(f"/verify/acts/{act.public_id}?lang=en")
    assert verify.status_code == 200
    _assert_page_headers(verify)
    assert "The customer refused to sign the act" in verify.text
    assert "Awaiting" not in verify.text
    # The kind of work is the work done, not the kind of document.
    work_type = parse_snapshot(act.snapshot_json).work_order.type
    assert work_type_name(work_type, "en").capitalize() in verify.text
    as_json = await client.get(
        f"/verify/acts/{act.public_id}", headers={"Accept": "application/json"}
    )
    assert as_json.json()["refused_at"] is not None
    assert as_json.json()["work_type"] == work_type


async def _link_id(build: Builder, link: dict[str, str], purpose: str) -> Any:
    async with build.sessionmaker() as session:
        link_id = await session.scalar(
            select(CustomerLink.id).where(
                CustomerLink.act_id == link["act_id"], CustomerLink.purpose == purpose
            )
        )
    assert link_id is not None
    return link_id


async def test_the_signing_page_is_hardened_and_large_for_low_vision(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    page = await client.get(link["path"])
    assert page.status_code == 200
    _assert_page_headers(page)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<body class="large">' not in page.text
    assert 'id="pad" role="img"' in page.text  # the signature box has an accessible name
    async with build.sessionmaker() as session, session.begin():
        await session.execute(
            update(Customer)
            .where(Customer.id == field.order.customer_id)
            .values(accessibility_needs=["low_vision"])
        )
    large = await client.get(link["path"])
    assert '<body class="large">' in large.text
    assert 'id="large-text" aria-pressed="true"' in large.text


async def test_the_result_links_a_copy_that_lives_copy_link_days(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    before = datetime.now(UTC)
    signed = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["act_number"] == link["act_number"]
    assert body["copy_url"].startswith("http://127.0.0.1:8000/mobile/v1/acts/copy/")
    copy_id = await _link_id(build, link, "copy")
    async with build.sessionmaker() as session:
        expires = (await session.get_one(CustomerLink, copy_id)).expires_at
    # NARYAD_COPY_LINK_DAYS defaults to 365.
    assert timedelta(days=364) < expires - before < timedelta(days=366)
    assert await build.count(ActSignature, ActSignature.act_id == link["act_id"]) == 1


async def test_copy_link_days_is_read_and_bounded() -> None:
    base = {"NARYAD_ENV": "test"}
    assert load_settings(base).customer_links.copy_link_days == 365
    assert (
        load_settings({**base, "NARYAD_COPY_LINK_DAYS": "30"}).customer_links.copy_link_days == 30
    )
    for wrong in ("0", "5000"):
        with pytest.raises(SettingsError, match="NARYAD_COPY_LINK_DAYS"):
            load_settings({**base, "NARYAD_COPY_LINK_DAYS": wrong})


async def test_the_rating_page_is_hardened_and_says_whom_to_call(client: Any) -> None:
    page = await client.get("/rate/" + "z" * 43, headers={"Accept-Language": "en"})
    assert page.status_code == 404
    _assert_page_headers(page)
    assert "This link is not valid" in page.text
    assert "+7 700 000 00 00" in page.text


async def test_the_customers_reason_answers_the_technicians_refusal_outcome(
    client: Any, build: Builder, field: Field
) -> None:
    link = await _signing_link(client, field)
    refused = await client.post(link["path"] + "/refuse", json={"reason": "Не согласен со сроками"})
    assert refused.status_code == 200, refused.text
    # The technician ends the visit without typing the customer's words again.
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    ended = await phone.push(phone.op("outcome", {"outcome": "customer_refused_to_sign"}))
    assert ended[0]["status"] == "applied", ended
    async with build.sessionmaker() as session:
        reason = await session.scalar(
            select(ChecklistAnswer.value).where(
                ChecklistAnswer.visit_id == field.visit.id,
                ChecklistAnswer.step_id == "refusal_reason",
            )
        )
    assert reason == "Не согласен со сроками"
