"""Pure act helpers: numbers, initials, language choice, what a PDF claims, the HTML page."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime

import msgspec
import pytest

from reports import parse_snapshot, render_act, snapshot_sha256
from reports.samples import SAMPLE_ACT
from service.acts.numbering import format_number, prefix_for
from service.acts.page import html_headers, render_not_found, render_verification
from service.acts.schemas import ActVerification, PublicIssuer
from service.acts.verification import (
    NotAPdf,
    choose_language,
    initials,
    inspect_pdf,
    is_public_id,
    verify_url,
)
from service.settings import IssuerSettings


def test_numbers_are_prefix_year_and_six_digits() -> None:
    issuer = IssuerSettings()
    assert format_number(prefix_for(issuer, "completion"), 2026, 123) == "АВР-2026-000123"
    assert format_number(prefix_for(issuer, "handover"), 2026, 45) == "АСП-2026-000045"
    custom = IssuerSettings(completion_prefix="AVR", handover_prefix="ASP")
    assert format_number(prefix_for(custom, "handover"), 2027, 1_234_567) == "ASP-2027-1234567"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Нұрланова Әлия", "Н. Ә."),
        ("Әлия Қанатқызы Нұрланова", "Ә. Қ. Н."),
        ("  серікбаев   қанат  ", "С. Қ."),
        ("«Дала» Телеком Сервис Плюс", "Д. Т. С."),
        ("", ""),
        ("— 123", ""),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


@pytest.mark.parametrize(
    ("requested", "accept", "default", "expected"),
    [
        ("en", "ru", "kk", "en"),
        (None, "kk-KZ,ru;q=0.8", "ru", "kk"),
        (None, "fr, en;q=0.4, ru;q=0.9", "kk", "ru"),
        (None, "ru;q=0, en", "kk", "en"),
        (None, "de, fr", "kk", "kk"),
        ("xx", None, "ru", "ru"),
        (None, "ru;q=bad, en;q=0.1", "kk", "en"),
        (None, None, "zz", "ru"),
    ],
)
def test_language_choice(
    requested: str | None, accept: str | None, default: str, expected: str
) -> None:
    assert choose_language(requested, accept, default) == expected


def test_public_ids_and_urls() -> None:
    assert is_public_id("Q2f8Zs1h_-abcdefghijkl")
    assert not is_public_id("short")
    assert not is_public_id("../../etc/passwd/aaaaaaaaaa")
    assert verify_url("https://acts.example/", "abc") == "https://acts.example/verify/acts/abc"


def test_a_rendered_act_claims_its_snapshot_hash() -> None:
    envelope = msgspec.json.decode(SAMPLE_ACT.read_bytes())
    sample = parse_snapshot(msgspec.json.encode(envelope["snapshot"]))
    snapshot = msgspec.structs.replace(sample, photos=())
    pdf = render_act(snapshot)
    claims = inspect_pdf(pdf)
    digest = snapshot_sha256(snapshot)
    assert claims.sha256 == hashlib.sha256(pdf).hexdigest()
    assert claims.size == len(pdf)
    assert claims.snapshot_sha256 == (digest,)
    assert claims.id_prefixes == (digest[:32],)
    # A rewrite that drops the Info dictionary still leaves the trailer /ID.
    stripped = re.sub(rb"/Subject \(sha256:[0-9a-f]{64}\)", b"", pdf)
    assert inspect_pdf(stripped).id_prefixes == (digest[:32],)
    assert inspect_pdf(stripped).snapshot_sha256 == ()


def test_a_file_stuffed_with_claims_keeps_the_last_few_once_each() -> None:
    # 100,000 distinct /ID claims (a hostile upload): the reader shows the last one, and only
    # a handful are kept; the old list-based scan took about a minute on this input.
    ids = [f"{n:032x}" for n in range(100_000)]
    data = b"%PDF-1.7\n" + b"".join(f"/ID[<{i}>]".encode() for i in ids + ids[-3:])
    claims = inspect_pdf(data)
    assert claims.id_prefixes == tuple(reversed(ids[-8:]))


@pytest.mark.parametrize(
    "data", [b"", b"GIF89a", b"<html>" + b" " * 2000 + b"%PDF-", b"PK\x03\x04"]
)
def test_not_a_pdf(data: bytes) -> None:
    with pytest.raises(NotAPdf):
        inspect_pdf(data)


def _view(**changes: object) -> ActVerification:
    values: dict[str, object] = {
        "public_id": "Q2f8Zs1h_-abcdefghijkl",
        "kind": "completion",
        "number": "АВР-2026-000123",
        "act_date": date(2026, 3, 12),
        "status": "sealed",
        "issuer": PublicIssuer(legal_name="ТОО «Дала»", tax_id="180940012345", tax_id_kind="bin"),
        "customer_initials": "Н. Ә.",
        "technician_initials": "С. Қ.",
        "snapshot_sha256": "a" * 64,
        "pdf_sha256": "b" * 64,
        "sealed_pdf_sha256": "c" * 64,
        "signed_at": datetime(2026, 3, 12, 6, 48, tzinfo=UTC),
        "sealed_at": datetime(2026, 3, 12, 6, 49, tzinfo=UTC),
        "audit_hash": "d" * 64,
        "verify_url": "https://x/verify/acts/Q2f8Zs1h_-abcdefghijkl",
    }
    values.update(changes)
    return ActVerification(**values)  # type: ignore[arg-type]


def _render(view: ActVerification, language: str = "ru", **kwargs: object) -> str:
    options: dict[str, object] = {
        "time_zone": "Asia/Almaty",
        "phone": "+7 727 000 11 22",
        "nonce": "n0nce",
        **kwargs,
    }
    return render_verification(view, language, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        (
            "ru",
            [
                "Акт выполненных работ №\u00a0АВР-2026-000123",
                "«12» марта 2026 г.",
                "БИН",
                "Выполнение работ",
                "Акт подписан клиентом",
            ],
        ),
        ("kk", ["Орындалған жұмыстар актісі", "2026 жылғы 12 наурыз", "БСН", "Техникалық"]),
        ("en", ["Act of completed works", "12 March 2026", "Signed by the customer and sealed"]),
    ],
)
def test_page_in_each_language(language: str, phrases: list[str]) -> None:
    page = _render(_view(), language)
    assert f'<html lang="{language}">' in page
    for phrase in phrases:
        assert phrase in page
    # The hashes are there, but folded under "technical details".
    technical = page.split("<details>", 1)
    assert len(technical) == 2
    for digest in ("a" * 64, "b" * 64, "c" * 64, "d" * 64):
        assert digest not in technical[0]
        assert digest in technical[1]
    assert "<script" not in page


def test_page_shows_local_time_with_the_zone_named_once_and_no_personal_data() -> None:
    page = _render(_view(), "ru")
    # 06:48 UTC is 11:48 in Almaty (UTC+05:00 since 2024).
    assert "12.03.2026 11:48" in page
    assert "06:48" not in page
    assert page.count("Asia/Almaty") == 1
    assert "UTC+05:00" in page
    assert "Н. Ә." not in page
    assert "С. Қ." not in page
    assert 'href="tel:+77270001122"' in page


def test_a_refused_act_says_so_in_plain_words() -> None:
    view = _view(
        status="draft", signed_at=None, sealed_at=None, pdf_sha256=None, sealed_pdf_sha256=None
    )
    refused = _render(view, "en", refused_at=datetime(2026, 3, 12, 7, 0, tzinfo=UTC))
    assert "The customer refused to sign the act" in refused
    assert "12:00" in refused
    waiting = _render(view, "en")
    assert "Awaiting the customer&#x27;s signature" in waiting
    assert "refused to sign" not in waiting


def test_page_escapes_everything_it_shows() -> None:
    hostile = _view(
        issuer=PublicIssuer(
            legal_name='<script>alert(1)</script>"', tax_id="180940012345", tax_id_kind="bin"
        ),
        number="<img src=x onerror=alert(1)>",
    )
    page = _render(hostile, "ru")
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page


def test_page_style_carries_the_nonce_the_csp_allows() -> None:
    page = render_not_found("kk", nonce="abc123")
    assert re.search(r'<style nonce="abc123">', page)
    policy = html_headers("abc123")["Content-Security-Policy"]
    assert "style-src 'nonce-abc123'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "Акт табылмады" in page
