"""The public act verification page: plain HTML, large text, ru/kk/en, every value escaped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import MediaType, Request, Response

from reports import i18n
from reports.snapshot import TaxIdKind, WorkType
from service.acts.schemas import ActVerification
from service.acts.verification import choose_language
from service.common.appeal_links import AppealLink, appeal_link
from service.common.i18n import LANGUAGES, Language, Message, in_language, msg
from service.common.page_security import new_page_nonce, page_headers

# Kazakh wording is ours (NATIVE REVIEW), in the spirit of the glossary in DOMAIN.md.
# English here; Russian and Kazakh in the naryad gettext catalogs.
_TEXT: dict[str, Message] = {
    "page_title": msg("act_page.page_title", "Act verification"),
    "status.draft": msg("act_page.status.draft", "Awaiting the customer's signature"),
    "status.refused": msg("act_page.status.refused", "The customer refused to sign the act"),
    "status.signed": msg("act_page.status.signed", "Signed by the customer"),
    "status.sealed": msg(
        "act_page.status.sealed",
        "Signed by the customer and sealed with the contractor's electronic seal",
    ),
    "status": msg("act_page.status", "Status"),
    "kind_of_work": msg("act_page.kind_of_work", "Kind of work"),
    "kind.completion": msg("act_page.kind.completion", "Work completed (act of completed works)"),
    "kind.handover": msg("act_page.kind.handover", "Equipment handover (handover act)"),
    "refused_at": msg("act_page.refused_at", "Refusal recorded"),
    "contact": msg("act_page.contact", "Contractor's contact"),
    "phone": msg("act_page.phone", "Phone"),
    "times_in": msg("act_page.times_in", "Times: {zone}."),
    "technical": msg("act_page.technical", "Technical details"),
    "document": msg("act_page.document", "Document"),
    "date": msg("act_page.date", "Date"),
    "signed_at": msg("act_page.signed_at", "Signed"),
    "sealed_at": msg("act_page.sealed_at", "Sealed"),
    "hashes": msg("act_page.hashes", "SHA-256 checksums"),
    "snapshot_sha256": msg(
        "act_page.snapshot_sha256", "Act content (printed at the foot of every page)"
    ),
    "pdf_sha256": msg("act_page.pdf_sha256", "PDF file of the act"),
    "sealed_pdf_sha256": msg("act_page.sealed_pdf_sha256", "Sealed PDF file"),
    "audit_hash": msg("act_page.audit_hash", "Audit log entry"),
    "how_to": msg(
        "act_page.how_to",
        "Compare the code at the foot of your act's pages with “Act content”. "
        "The SHA-256 of your file must equal one of the PDF files above.",
    ),
    "not_found": msg("act_page.not_found", "Act not found"),
    "not_found_hint": msg(
        "act_page.not_found_hint",
        "Check the link, or scan the QR code on the act again.",
    ),
    "language": msg("act_page.language", "Language"),
}
_LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

_STYLE = (
    "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
    "sans-serif;font-size:1.25rem;line-height:1.5;color:#111;background:#fff}"
    "main{max-width:44rem;margin:0 auto;padding:1.5rem 1rem 3rem}"
    "h1{font-size:1.9rem;margin:0 0 1rem}h2{font-size:1.4rem;margin:2rem 0 .5rem}"
    ".status{font-size:1.5rem;font-weight:700;padding:.75rem 1rem;border-radius:.5rem;"
    "border:3px solid #1b5e20;background:#e8f5e9;color:#1b5e20}"
    ".status.draft{border-color:#8a5a00;background:#fff8e1;color:#6d4700}"
    ".status.refused{border-color:#a4161a;background:#fdecea;color:#8b0f12}"
    "details{margin-top:2rem}"
    "summary{min-height:44px;padding:.5rem 0;cursor:pointer;font-weight:700}"
    "a{color:#0b3d91}main{overflow-wrap:anywhere}"
    "nav a,dd a{display:inline-block;min-height:44px;padding:.5rem 0}"
    "dl{margin:1rem 0}dt{font-weight:700;margin-top:.75rem}dd{margin:0}"
    "code{font-size:1.05rem;word-break:break-all;background:#f3f3f3;padding:.1rem .3rem}"
    "nav{margin-top:2rem;font-size:1.1rem}nav a{margin-right:1rem;color:#0b3d91}"
    ".appeal a{display:inline-block;min-height:44px;padding:.5rem 0;font-weight:700}"
    "@media (prefers-color-scheme:dark){body{background:#111;color:#eee}"
    "code{background:#222}nav a,.appeal a,dd a{color:#9ecbff}}"
)


def html_headers(nonce: str) -> dict[str, str]:
    """The board's nonce CSP (nothing on this page runs), no framing, not indexed."""
    return {**page_headers(nonce, form_action="'none'"), "X-Robots-Tag": "noindex"}


def public_html(
    request: Request[Any, Any, Any],
    lang: str | None,
    default_language: str,
    render: Callable[[Language, str], str],
    *,
    status_code: int = 200,
    vary: bool = True,
) -> Response[bytes]:
    """A public verification page (an act's or a letter's) as a response: in ``?lang=``, else the
    Accept-Language's best, else ``default_language``; ``render(language, nonce)`` writes it."""
    language = choose_language(lang, request.headers.get("accept-language"), default_language)
    nonce = new_page_nonce()
    headers = {**html_headers(nonce), "Content-Language": language}
    if vary:
        headers["Vary"] = "Accept, Accept-Language"
    return Response(
        render(language, nonce).encode("utf-8"),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers=headers,
    )


def _t(key: str, language: Language) -> str:
    return in_language(_TEXT[key], language)


def act_status_text(status: str, language: Language) -> str:
    """An act's status in words, as the verification page says it (staff pages reuse it)."""
    return _t(f"status.{status}", language) if f"status.{status}" in _TEXT else status


def public_page(
    language: Language, title: str, body: str, public_id: str | None, nonce: str
) -> str:
    """A public verification page: large text, the language links when something was found."""
    links = ""
    if public_id is not None:
        items = []
        for code in LANGUAGES:
            current = ' aria-current="page"' if code == language else ""
            items.append(
                f'<a href="?lang={code}" hreflang="{code}" lang="{code}"{current}>'
                f"{escape(_LANGUAGE_NAMES[code])}</a>"
            )
        label = escape(_t("language", language))
        links = f'<nav aria-label="{label}">{" ".join(items)}</nav>'
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{_STYLE}</style></head>'
        f"<body><main>{body}{links}</main></body></html>"
    )


def _kind_of_work(view: ActVerification, language: Language) -> str:
    """The work done ("Устранение повреждения"), as the act names it; else the act's kind."""
    if view.work_type in ("installation", "repair", "construction", "meter_check"):
        name = i18n.work_type_name(cast("WorkType", view.work_type), language)
        return name[:1].upper() + name[1:]
    return _t(f"kind.{view.kind}", language)


def render_verification(
    view: ActVerification,
    language: Language,
    *,
    time_zone: str,
    phone: str,
    nonce: str,
    refused_at: datetime | None = None,
) -> str:
    """The verification page of one act, for people: plain words, local time, no personal data."""
    zone = zone_of(time_zone)
    status = "refused" if view.status == "draft" and refused_at is not None else view.status
    rows: list[tuple[str, str]] = [
        (_t("document", language), f"{i18n.title(view.kind, language)} №\u00a0{view.number}"),
        (_t("date", language), i18n.format_long_date(view.act_date, language)),
        (_t("kind_of_work", language), _kind_of_work(view, language)),
    ]
    moments = [
        (key, value)
        for key, value in (
            ("signed_at", view.signed_at),
            ("sealed_at", view.sealed_at),
            ("refused_at", refused_at if status == "refused" else None),
        )
        if value is not None
    ]
    rows.extend((_t(key, language), local_moment(value, zone, language)) for key, value in moments)
    contractor = [
        (
            i18n.label("contractor", language),
            f"{view.issuer.legal_name}, "
            f"{i18n.tax_id_label(cast('TaxIdKind', view.issuer.tax_id_kind), language)} "
            f"{view.issuer.tax_id}",
        ),
    ]
    hashes = [
        (_t(name, language), value)
        for name, value in (
            ("snapshot_sha256", view.snapshot_sha256),
            ("pdf_sha256", view.pdf_sha256),
            ("sealed_pdf_sha256", view.sealed_pdf_sha256),
            ("audit_hash", view.audit_hash),
        )
        if value
    ]
    contact = definition_list(contractor) + phone_item(_t("phone", language), phone)
    status_class = {"draft": "status draft", "refused": "status refused"}.get(status, "status")
    status_text = escape(_t(f"status.{status}", language))
    title = _t("page_title", language)
    zone_note = _t("times_in", language).format(zone=_zone_label(zone, view, refused_at))
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="{status_class}" role="status">{status_text}</p>'
        f"<dl>{definition_list(rows)}</dl>"
        + (f"<p>{escape(zone_note)}</p>" if moments else "")
        + f"<h2>{escape(_t('contact', language))}</h2><dl>{contact}</dl>"
        + appeal_paragraph(appeal_link(language, view.public_id))
        + technical_details(
            _t("technical", language), _t("hashes", language), hashes, _t("how_to", language)
        )
    )
    return public_page(language, f"{title}: {view.number}", body, view.public_id, nonce)


def definition_list(rows: Iterable[tuple[str, str]], *, code: bool = False) -> str:
    """``<dt>``/``<dd>`` pairs of a public page (values in ``<code>`` when asked); a row without
    a value is left out."""
    start, end = ("<code>", "</code>") if code else ("", "")
    return "".join(f"<dt>{escape(k)}</dt><dd>{start}{escape(v)}{end}</dd>" for k, v in rows if v)


def phone_item(label: str, phone: str) -> str:
    """The company's phone as a ``<dt>``/``<dd>`` pair, a ``tel:`` link a phone can call."""
    uri = "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return f'<dt>{escape(label)}</dt><dd><a href="{escape(uri)}">{escape(phone)}</a></dd>'


def technical_details(
    summary: str, heading: str, hashes: Iterable[tuple[str, str]], how_to: str
) -> str:
    """The folded checksums of a public page, with how to compare them."""
    return (
        f"<details><summary>{escape(summary)}</summary>"
        f"<h2>{escape(heading)}</h2><dl>{definition_list(hashes, code=True)}</dl>"
        f"<p>{escape(how_to)}</p></details>"
    )


def appeal_paragraph(link: AppealLink) -> str:
    """The link to the appeal form, as the public pages show it."""
    return f'<p class="appeal"><a href="{escape(link.url)}">{escape(link.text)}</a></p>'


def zone_of(name: str) -> ZoneInfo:
    """The named zone (UTC for a name this machine does not know)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_moment(value: datetime, zone: ZoneInfo, language: Language) -> str:
    """A moment on the local clock, as the pages print it."""
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d.%m.%Y %H:%M"
    return value.astimezone(zone).strftime(pattern)


def _zone_label(zone: ZoneInfo, view: ActVerification, refused_at: datetime | None) -> str:
    sample = view.signed_at or refused_at or datetime.now(zone)
    return f"{zone.key} ({i18n.format_utc_offset(sample.astimezone(zone))})"


def not_found_page(language: Language, title: str, hint: str, nonce: str) -> str:
    """A public page for an unknown or malformed id: says nothing about what exists."""
    body = f"<h1>{escape(title)}</h1><p>{escape(hint)}</p>"
    return public_page(language, title, body, None, nonce)


def render_not_found(language: Language, *, nonce: str) -> str:
    """The act page for an unknown or malformed id."""
    return not_found_page(
        language, _t("not_found", language), _t("not_found_hint", language), nonce
    )
