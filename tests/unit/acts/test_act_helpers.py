"""Pure act helpers: numbers, initials, language choice, what a PDF claims, the HTML page."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime

import msgspec
import pytest

from reports import parse_snapshot, render_act, snapshot_sha256
from reports.samples import SAMPLE_ACT
from service.acts.numbering import format_number, prefix_for
from service.acts.page import HTML_HEADERS, render_not_found, render_verification
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


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("ru", ["Акт выполненных работ №\u00a0АВР-2026-000123", "«12» марта 2026 г.", "БИН"]),
        ("kk", ["Орындалған жұмыстар актісі", "2026 жылғы 12 наурыз", "БСН"]),
        ("en", ["Act of completed works", "12 March 2026", "signed and sealed"]),
    ],
)
def test_page_in_each_language(language: str, phrases: list[str]) -> None:
    page = render_verification(_view(), language)  # type: ignore[arg-type]
    assert f'<html lang="{language}">' in page
    for phrase in phrases:
        assert phrase in page
    for digest in ("a" * 64, "b" * 64, "c" * 64, "d" * 64):
        assert digest in page
    assert "<script" not in page


def test_page_escapes_everything_it_shows() -> None:
    hostile = _view(
        issuer=PublicIssuer(
            legal_name='<script>alert(1)</script>"', tax_id="180940012345", tax_id_kind="bin"
        ),
        number="<img src=x onerror=alert(1)>",
    )
    page = render_verification(hostile, "ru")
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page


def test_page_style_is_the_one_the_csp_allows() -> None:
    page = render_not_found("kk")
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in HTML_HEADERS["Content-Security-Policy"]
    assert "Акт табылмады" in page
