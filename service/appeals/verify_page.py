"""The public page behind an answer letter's QR code: what the letter is, when it was sent on
the territory's clock, its checksums; no names and no text of the appeal (like the act's page).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from typing import Any

from reports import i18n
from service.acts.page import (
    appeal_paragraph,
    definition_list,
    local_moment,
    not_found_page,
    phone_item,
    public_page,
    technical_details,
    zone_of,
)
from service.appeals.schemas import LetterVerification
from service.common.appeal_links import appeal_link
from service.common.i18n import Language, Message, in_language, msg

# Kazakh wording awaits a native speaker's review, as the other customer-facing texts do.
_TEXT: dict[str, Message] = {
    "page_title": msg("letter_page.page_title", "Answer letter verification"),
    "status.sent": msg("letter_page.status.sent", "The answer was sent to the customer"),
    "status.sealed": msg(
        "letter_page.status.sealed",
        "The answer was sent to the customer, sealed with the company's electronic seal",
    ),
    "document": msg("letter_page.document", "Document"),
    "letter": msg("letter_page.letter", "Answer letter № {number}"),
    "appeal": msg("letter_page.appeal", "Appeal"),
    "appeal_of": msg("letter_page.appeal_of", "№ {number} of {date}"),
    "date": msg("letter_page.date", "Date of the letter"),
    "sent_at": msg("letter_page.sent_at", "Sent"),
    "times_in": msg("letter_page.times_in", "Times: {zone}."),
    "contact": msg("letter_page.contact", "Company's contact"),
    "company": msg("letter_page.company", "Company"),
    "phone": msg("letter_page.phone", "Phone"),
    "technical": msg("letter_page.technical", "Technical details"),
    "hashes": msg("letter_page.hashes", "SHA-256 checksums"),
    "snapshot_sha256": msg(
        "letter_page.snapshot_sha256", "Letter content (printed at the foot of every page)"
    ),
    "pdf_sha256": msg("letter_page.pdf_sha256", "PDF file of the letter"),
    "sealed_pdf_sha256": msg("letter_page.sealed_pdf_sha256", "Sealed PDF file"),
    "audit_hash": msg("letter_page.audit_hash", "Audit log entry"),
    "how_to": msg(
        "letter_page.how_to",
        "Compare the code at the foot of your letter's pages with “Letter content”. "
        "The SHA-256 of your file must equal one of the PDF files above.",
    ),
    "not_found": msg("letter_page.not_found", "Letter not found"),
    "not_found_hint": msg(
        "letter_page.not_found_hint",
        "Check the link, or scan the QR code on the letter again.",
    ),
}


def _t(key: str, language: Language) -> str:
    return in_language(_TEXT[key], language)


def render_letter_verification(
    record: LetterVerification,
    snapshot: dict[str, Any],
    language: Language,
    *,
    phone: str,
    nonce: str,
) -> str:
    """The page of one letter (``record``: the public JSON view), in ``language``."""
    zone = zone_of(str(snapshot.get("time_zone") or "UTC"))
    sent = datetime.fromisoformat(str(snapshot["recorded_at"]))
    letter_day = date.fromisoformat(str(snapshot["letter_date"]))
    registered = date.fromisoformat(str(snapshot["appeal_registered"]))
    status = "sealed" if record.sealed_pdf_sha256 else "sent"
    rows = [
        (_t("document", language), _t("letter", language).format(number=snapshot["letter_number"])),
        (
            _t("appeal", language),
            _t("appeal_of", language).format(
                number=record.appeal_number, date=i18n.format_long_date(registered, language)
            ),
        ),
        (_t("date", language), i18n.format_long_date(letter_day, language)),
        (_t("sent_at", language), local_moment(sent, zone, language)),
    ]
    zone_note = _t("times_in", language).format(
        zone=f"{zone.key} ({i18n.format_utc_offset(sent.astimezone(zone))})"
    )
    contact = definition_list([(_t("company", language), record.issuer)]) + phone_item(
        _t("phone", language), phone
    )
    hashes = [
        (_t(name, language), getattr(record, name) or "")
        for name in ("snapshot_sha256", "pdf_sha256", "sealed_pdf_sha256", "audit_hash")
    ]
    title = _t("page_title", language)
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="status" role="status">{escape(_t(f"status.{status}", language))}</p>'
        f"<dl>{definition_list(rows)}</dl><p>{escape(zone_note)}</p>"
        f"<h2>{escape(_t('contact', language))}</h2><dl>{contact}</dl>"
        + appeal_paragraph(appeal_link(language))
        + technical_details(
            _t("technical", language), _t("hashes", language), hashes, _t("how_to", language)
        )
    )
    return public_page(language, f"{title}: {record.appeal_number}", body, record.public_id, nonce)


def render_letter_not_found(language: Language, *, nonce: str) -> str:
    """The letter page for an unknown or malformed id."""
    return not_found_page(
        language, _t("not_found", language), _t("not_found_hint", language), nonce
    )
