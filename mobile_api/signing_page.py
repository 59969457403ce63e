"""The signing page's view model: every label in the customer's language, the act in full."""

from __future__ import annotations

from typing import Any

import reports
from reports.i18n import format_datetime, format_quantity, format_window, label, title
from service.common.i18n import Language, in_language

# Page-only texts; Kazakh strings await a native speaker's review.
_PAGE = {
    "read_aloud": ("Прочитать вслух", "Дауыстап оқу", "Read aloud"),
    "stop_reading": ("Остановить чтение", "Оқуды тоқтату", "Stop reading"),
    "scroll_hint": (
        "Прочитайте акт до конца — подпись станет доступна внизу.",
        "Актіні соңына дейін оқыңыз — қол қою өрісі төменде ашылады.",
        "Read the act to the end; the signature box opens below it.",
    ),
    "your_name": (
        "Ваши фамилия, имя, отчество",
        "Тегіңіз, атыңыз, әкеңіздің аты",
        "Your full name",
    ),
    "sign_here": ("Распишитесь в рамке", "Жақтаудың ішіне қол қойыңыз", "Sign inside the box"),
    "clear": ("Стереть", "Өшіру", "Clear"),
    "send_code": ("Получить код по SMS", "SMS арқылы код алу", "Get a code by SMS"),
    "code": ("Код из SMS", "SMS-тегі код", "Code from the SMS"),
    "sign": ("Подписать акт", "Актіге қол қою", "Sign the act"),
    "refuse": ("Отказаться от подписи", "Қол қоюдан бас тарту", "Refuse to sign"),
    "refuse_reason": ("Причина отказа", "Бас тарту себебі", "Reason for refusing"),
    "signed": (
        "Акт подписан. Копия придёт в SMS.",
        "Актіге қол қойылды. Көшірмесі SMS-пен келеді.",
        "The act is signed. Your copy will arrive by SMS.",
    ),
    "refused": ("Отказ записан.", "Бас тарту тіркелді.", "Your refusal has been recorded."),
}


def page_text(key: str, language: Language) -> str:
    """A page label in the customer's language."""
    return in_language(_PAGE[key], language)


def page_model(snapshot: reports.ActSnapshot, snapshot_sha256: str, token: str) -> dict[str, Any]:
    """Everything the template shows, already in the customer's language."""
    lang = snapshot.language
    t = {key: page_text(key, lang) for key in _PAGE}
    return {
        "lang": lang,
        "speech_lang": {"ru": "ru-RU", "kk": "kk-KZ", "en": "en-GB"}[lang],
        "token": token,
        "sha256": snapshot_sha256,
        "t": t,
        "title": title(snapshot.kind, lang),
        "number": label("act_short", lang, number=snapshot.act_number),
        "place_date": f"{snapshot.place}, {snapshot.act_date.isoformat()}",
        "parties": [
            (
                label("contractor", lang),
                f"{snapshot.issuer.legal_name}, "
                f"{label('tax_id.' + snapshot.issuer.tax_id_kind, lang)} {snapshot.issuer.tax_id}",
            ),
            (label("technician", lang), snapshot.technician.name),
            (label("customer", lang), snapshot.customer.name),
            (label("acceptor", lang), snapshot.acceptor.name),
            (label("site", lang), snapshot.site.address),
            (label("work_order", lang), snapshot.work_order.number),
            (
                label("agreed_window", lang),
                format_window(snapshot.agreed_window.start, snapshot.agreed_window.end, lang),
            ),
            (label("arrived_at", lang), format_datetime(snapshot.arrived_at, lang)),
            (label("finished_at", lang), format_datetime(snapshot.finished_at, lang)),
        ],
        "works_title": label("section.works", lang),
        "works": list(snapshot.works_performed),
        "equipment_title": label("section.equipment", lang),
        "equipment_columns": [
            label(c, lang)
            for c in ("col.item", "col.model", "col.serial", "col.quantity", "col.unit")
        ],
        "equipment": [
            (e.name, e.model, e.serial, format_quantity(e.quantity, lang), e.unit)
            for e in snapshot.equipment
        ],
        "checklist_title": label("section.checklist", lang),
        "checklist": [
            (format_datetime(c.answered_at, lang, with_offset=False), c.label, c.answer)
            for c in snapshot.checklist
        ],
        "photos_title": label("section.photos", lang),
        "photos": len(snapshot.photos),
        "statement": label(f"statement.{snapshot.kind}", lang),
        "sha_label": label("document_sha256", lang),
        "acceptor_name": snapshot.acceptor.name,
    }
