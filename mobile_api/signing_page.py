"""The signing page's view model: every label in the customer's language, the act in full.

The act's content is frozen in the language it was drawn up in (the signature is bound to its
hash); the page's own texts (buttons, hints, messages) are sent in all three languages so the
customer can switch them without reloading the page and losing a drawn signature.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

import reports
from reports.i18n import (
    format_long_date,
    format_quantity,
    format_utc_offset,
    format_zone,
    in_zone,
    label,
    title,
)
from service.common.appeal_links import appeal_link
from service.common.i18n import LANGUAGES, Language, Message, in_language, msg

# Page-only texts; Kazakh strings await a native speaker's review.
_PAGE: dict[str, Message] = {
    "read_aloud": msg("signing.read_aloud", "Read aloud"),
    "stop_reading": msg("signing.stop_reading", "Stop reading"),
    "no_voice": msg("signing.no_voice", "This phone has no voice that reads the act's language."),
    "read_with": msg("signing.read_with", "Read with the voice:"),
    "no_speech": msg("signing.no_speech", "This browser cannot read aloud."),
    "large_text": msg("signing.large_text", "Large text"),
    "language": msg("signing.language", "Page language"),
    "act_language_note": msg(
        "signing.act_language_note",
        "The act's content is shown in the language it was drawn up in.",
    ),
    "times_in": msg("signing.times_in", "Times: {zone}."),
    "scroll_hint": msg(
        "signing.scroll_hint",
        "Read the act to the end; the signature box opens below it.",
    ),
    "your_name": msg("signing.your_name", "Your full name"),
    "sign_here": msg("signing.sign_here", "Sign inside the box"),
    "pad_label": msg("signing.pad_label", "Signature box: draw your signature with a finger"),
    "clear": msg("signing.clear", "Clear the signature"),
    "send_code": msg("signing.send_code", "Get a code by SMS"),
    "code": msg("signing.code", "Code from the SMS"),
    "sign": msg("signing.sign", "Sign the act"),
    "signing": msg("signing.signing", "Sending your signature…"),
    "refuse": msg("signing.refuse", "Refuse to sign"),
    "refuse_reason": msg("signing.refuse_reason", "Reason for refusing"),
    "refuse_confirm": msg("signing.refuse_confirm", "Confirm the refusal"),
    "refuse_warning": msg(
        "signing.refuse_warning",
        "The act will stay unsigned. Give the reason; the contractor will see it.",
    ),
    "reason_required": msg(
        "signing.reason_required",
        "Write the reason for refusing (at least 3 characters).",
    ),
    "name_required": msg("signing.name_required", "Write your name (at least 2 characters)."),
    "signature_required": msg("signing.signature_required", "Sign inside the box."),
    "signed": msg("signing.signed", "The act is signed"),
    "act_number": msg("signing.act_number", "Act number"),
    "copy_link": msg("signing.copy_link", "Open your copy (PDF)"),
    "copy_qr": msg(
        "signing.copy_qr",
        "Scan the code with your own phone to keep a copy of the act.",
    ),
    "copy_sms": msg("signing.copy_sms", "The link to your copy also comes by SMS."),
    "return_phone": msg("signing.return_phone", "Please return the phone to the technician."),
    "refused": msg("signing.refused", "Your refusal has been recorded"),
    "refused_hint": msg(
        "signing.refused_hint",
        "The act is not signed. The contractor will contact you: {phone}.",
    ),
    "technical": msg("signing.technical", "Technical details"),
    # Answers to the problem codes the page can receive from the server.
    "error.link_used": msg("signing.error.link_used", "This link has already been used."),
    "error.link_expired": msg(
        "signing.error.link_expired",
        "This link has expired. Ask the technician for a new one.",
    ),
    "error.document_changed": msg(
        "signing.error.document_changed",
        "The act has changed. Reload the page and read it again.",
    ),
    "error.wrong_code": msg("signing.error.wrong_code", "The code does not match."),
    "error.generic": msg("signing.error.generic", "That did not work. Try again or call {phone}."),
    "error.network": msg(
        "signing.error.network",
        "No connection to the server. Check the internet and try again.",
    ),
}
LANGUAGE_NAMES: dict[Language, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
SPEECH_LANGUAGES: dict[Language, str] = {"ru": "ru-RU", "kk": "kk-KZ", "en": "en-GB"}
# Error codes the page translates; anything else is the generic message with the phone.
_ERROR_CODES = ("link_used", "link_expired", "document_changed", "wrong_code")


def page_text(key: str, language: Language) -> str:
    """A page label in the customer's language."""
    return in_language(_PAGE[key], language)


def page_texts(language: Language, phone: str) -> dict[str, str]:
    """Every page label in one language, with the company's phone filled in."""
    return {
        key: in_language(entry, language).replace("{phone}", phone) for key, entry in _PAGE.items()
    }


def site_zone(snapshot: reports.ActSnapshot) -> ZoneInfo | None:
    """The site's time zone (version 2 snapshots name one; version 1 times keep their offset)."""
    return snapshot.zone


def local(value: datetime, zone: ZoneInfo | None) -> datetime:
    """A time in the site's zone (or in the offset it was recorded with)."""
    return in_zone(value, zone)


def local_time(value: datetime, zone: ZoneInfo | None, language: Language) -> str:
    """Date and wall-clock time; the zone is named once per page, not after every time."""
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d.%m.%Y %H:%M"
    return local(value, zone).strftime(pattern)


def zone_name(zone: ZoneInfo | None, sample: datetime) -> str:
    """How the page names the zone: «Asia/Almaty (UTC+05:00)»."""
    return format_zone(zone, sample) if zone is not None else format_utc_offset(sample)


def page_model(
    snapshot: reports.ActSnapshot,
    snapshot_sha256: str,
    token: str,
    *,
    nonce: str,
    large_text: bool = False,
) -> dict[str, Any]:
    """Everything the template shows, already in the customer's language."""
    lang = snapshot.language
    phone = snapshot.issuer.phone
    zone = site_zone(snapshot)
    window = snapshot.agreed_window
    same_day = local(window.start, zone).date() == local(window.end, zone).date()
    window_text = (
        f"{local_time(window.start, zone, lang)}–{local(window.end, zone):%H:%M}"
        if same_day
        else f"{local_time(window.start, zone, lang)} – {local_time(window.end, zone, lang)}"
    )
    texts = {code: page_texts(code, phone) for code in LANGUAGES}
    description = snapshot.work_order.description
    return {
        "lang": lang,
        "nonce": nonce,
        "large_text": large_text,
        "speech_lang": SPEECH_LANGUAGES[lang],
        "speech_languages": SPEECH_LANGUAGES,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in ("kk", "ru", "en")],
        "token": token,
        "sha256": snapshot_sha256,
        "t": texts[lang],
        "texts": texts,
        "error_codes": list(_ERROR_CODES),
        "title": title(snapshot.kind, lang),
        "number": label("act_short", lang, number=snapshot.act_number),
        "act_number": snapshot.act_number,
        # The date as the act itself prints it, not an ISO string.
        "place_date": f"{snapshot.place}, {format_long_date(snapshot.act_date, lang)}",
        "zone_note": page_text("times_in", lang).format(zone=zone_name(zone, snapshot.finished_at)),
        "description_title": label("description", lang),
        "description": description if isinstance(description, str) else "",
        "parties": [
            (
                label("contractor", lang),
                f"{snapshot.issuer.legal_name}, "
                f"{label('tax_id.' + snapshot.issuer.tax_id_kind, lang)} {snapshot.issuer.tax_id}",
            ),
            (
                label("technician", lang),
                f"{snapshot.technician.name}, "
                f"{label('employee_no', lang)} {snapshot.technician.employee_no}",
            ),
            (label("customer", lang), snapshot.customer.name),
            (label("acceptor", lang), snapshot.acceptor.name),
            (label("site", lang), snapshot.site.address),
            (label("work_order", lang), snapshot.work_order.number),
            (label("agreed_window", lang), window_text),
            (label("arrived_at", lang), local_time(snapshot.arrived_at, zone, lang)),
            (label("finished_at", lang), local_time(snapshot.finished_at, zone, lang)),
        ],
        "works_title": label("section.works", lang),
        "works": list(snapshot.works_performed),
        "equipment_title": label("section.equipment", lang),
        "equipment": [_equipment_card(e, lang) for e in snapshot.equipment],
        "checklist_title": label("section.checklist", lang),
        "checklist_columns": [label(c, lang) for c in ("col.time", "col.step", "col.answer")],
        "checklist": [
            (
                local_time(c.answered_at, zone, lang),
                c.label,
                c.answer,
                "" if c.evidence is UNSET else c.evidence,
            )
            for c in snapshot.checklist
        ],
        "photos_title": label("section.photos", lang),
        "photos": len(snapshot.photos),
        "statement": label(f"statement.{snapshot.kind}", lang),
        "sha_label": label("document_sha256", lang),
        "acceptor_name": snapshot.acceptor.name,
        "phone": phone,
    }


def _equipment_card(line: reports.EquipmentLine, lang: Language) -> dict[str, str]:
    """One equipment line as the page's card: what, which unit, what happened to it."""
    parts = [f"{label('col.serial', lang)}: {line.serial}"] if line.serial else []
    if line.action is not UNSET:
        action = label(f"action.{line.action}", lang)
        if line.replaced_serial is not UNSET and line.replaced_serial:
            action += f" ({label('replaced_serial', lang, serial=line.replaced_serial)})"
        parts.append(action)
    parts.append(f"{format_quantity(line.quantity, lang)} {line.unit}")
    return {
        "name": f"{line.name} · {line.model}" if line.model else line.name,
        "detail": " · ".join(parts),
    }


# The pages a customer's link may answer instead of the act: (title, explanation) per state.
_MESSAGES: dict[str, tuple[Message, Message]] = {
    "unknown": (
        msg("signing.state.unknown.heading", "This link is not valid"),
        msg(
            "signing.state.unknown.hint",
            "Check the link from the SMS, or ask the technician for a new one.",
        ),
    ),
    "used": (
        msg("signing.state.used.heading", "This link has been used"),
        msg(
            "signing.state.used.hint",
            "The act behind this link is already signed. Your copy comes by SMS.",
        ),
    ),
    "refused": (
        msg("signing.state.refused.heading", "You refused to sign this act"),
        msg(
            "signing.state.refused.hint",
            "The refusal is recorded. If this is a mistake, call the contractor.",
        ),
    ),
    "expired": (
        msg("signing.state.expired.heading", "This link has expired"),
        msg("signing.state.expired.hint", "Ask the technician or the contractor for a new link."),
    ),
    "preparing": (
        msg("signing.state.preparing.heading", "Your copy is being prepared"),
        msg(
            "signing.state.preparing.hint",
            "The act is signed. The file is ready in a few seconds; this page refreshes itself.",
        ),
    ),
}
_CONTACT = msg("signing.contact", "Contractor {name}, phone:")
# HTTP status of each state of a customer link.
MESSAGE_STATUS = {"unknown": 404, "used": 409, "refused": 409, "expired": 410, "preparing": 200}


def message_model(
    state: str,
    language: Language,
    *,
    company: str,
    phone: str,
    nonce: str,
    refresh: bool = False,
    act_public_id: str | None = None,
) -> dict[str, Any]:
    """A customer link's answer when it cannot show the act: what happened, whom to call, and
    the appeal form (tied to the act when the link knows it)."""
    heading, hint = _MESSAGES[state]
    return {
        "appeal": appeal_link(language, act_public_id),
        "lang": language,
        "nonce": nonce,
        "state": state,
        "heading": in_language(heading, language),
        "hint": in_language(hint, language),
        "contact": in_language(_CONTACT, language).format(name=company),
        "phone": phone,
        "phone_uri": "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+"),
        "refresh": refresh,
    }
