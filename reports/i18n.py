"""Labels and date/number formats of the act in Russian, Kazakh and English.

The labels are English here; Russian and Kazakh are in this library's own gettext catalogs
(``reports/locale/{ru,kk,en}/LC_MESSAGES/reports.po``, domain ``reports``, built by
`make i18n`), so the library keeps importing nothing from the service. Dates and numbers are
formatted by Babel.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import Translations

from reports.snapshot import ActKind, Language, TaxIdKind, WorkType

LANGUAGES: tuple[Language, ...] = ("ru", "kk", "en")
DOMAIN = "reports"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class Label(NamedTuple):
    """A translatable label: its context and its English source."""

    context: str
    english: str


def _msg(context: str, english: str) -> Label:
    """Mark a label for translation (pybabel extracts ``_msg`` calls as context + message)."""
    return Label(context, english)


@cache
def _translations(language: Language) -> gettext.NullTranslations:
    found = Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)
    if language != "en" and not isinstance(found, Translations):
        # Without its catalog a Russian or Kazakh act would quietly print in English.
        raise FileNotFoundError(f"no compiled {DOMAIN}.mo for {language} in {LOCALE_DIR}")
    return found


# Kazakh labels follow the glossary in DOMAIN.md; like the glossary they await review by a
# native speaker (the catalog marks each "needs native review"; "NATIVE REVIEW" notes there
# mark our own wording, not from the glossary).
_LABELS: dict[str, Label] = {
    "title.completion": _msg("act.title.completion", "Act of completed works"),
    "title.handover": _msg(
        "act.title.handover",
        "Handover act for completed works, equipment and materials",
    ),
    "number": _msg("act.number", "No."),
    # NATIVE REVIEW: Kazakh puts the number before the noun.
    "act_short": _msg("act.act_short", "Act No. {number}"),
    "continued": _msg("act.continued", "continued"),
    "tax_id.bin": _msg("act.tax_id.bin", "BIN"),
    # NATIVE REVIEW: ИНН is a Russian registry number; Kazakh text keeps the Russian abbreviation.
    "tax_id.inn": _msg("act.tax_id.inn", "INN"),
    "address": _msg("act.address", "Address"),
    "phone": _msg("act.phone", "Tel."),
    "contractor": _msg("act.contractor", "Contractor"),
    "customer": _msg("act.customer", "Customer"),
    "acceptor": _msg("act.acceptor", "Accepted by"),
    "technician": _msg("act.technician", "Technician"),
    "employee_no": _msg("act.employee_no", "employee No."),
    "site": _msg("act.site", "Site address"),
    "work_order": _msg("act.work_order", "Work order"),
    "work_type": _msg("act.work_type", "Type of work"),
    "work_type.installation": _msg("act.work_type.installation", "installation / connection"),
    "work_type.repair": _msg("act.work_type.repair", "repair"),
    "work_type.construction": _msg(
        "act.work_type.construction", "construction and installation works"
    ),
    "work_type.meter_check": _msg("act.work_type.meter_check", "meter check"),
    "requested_services": _msg("act.requested_services", "Requested services"),
    "agreed_window": _msg("act.agreed_window", "Agreed visit window"),
    "arrived_at": _msg("act.arrived_at", "Actual arrival"),
    "finished_at": _msg("act.finished_at", "Work finished"),
    "section.works": _msg("act.section.works", "Works performed"),
    "section.equipment": _msg("act.section.equipment", "Equipment and materials"),
    "section.checklist": _msg("act.section.checklist", "Checklist log"),
    "section.photos": _msg("act.section.photos", "Photos"),
    "section.signatures": _msg("act.section.signatures", "Signatures"),
    "col.no": _msg("act.col.no", "No."),
    "col.description": _msg("act.col.description", "Description"),
    "col.item": _msg("act.col.item", "Item"),
    "col.model": _msg("act.col.model", "Model"),
    "col.serial": _msg("act.col.serial", "Serial number"),
    "col.quantity": _msg("act.col.quantity", "Qty"),
    "col.unit": _msg("act.col.unit", "Unit"),
    "col.time": _msg("act.col.time", "Time"),
    "col.step": _msg("act.col.step", "Step"),
    "col.answer": _msg("act.col.answer", "Result"),
    "none": _msg("act.none", "none"),
    "statement.completion": _msg(
        "act.statement.completion",
        "The works listed above have been performed. The customer has read this "
        "act and has no claims as to the scope and quality of the works.",
    ),
    "statement.handover": _msg(
        "act.statement.handover",
        "The works have been performed; the equipment and materials listed in "
        "this act have been handed over to the customer in working order and in "
        "the quantities stated. The customer has read this act and has no claims.",
    ),
    "remarks": _msg("act.remarks", "Customer's remarks"),
    "signature": _msg("act.signature", "signature"),
    "signed_at": _msg("act.signed_at", "Signed"),
    "location": _msg("act.location", "Location"),
    "metres": _msg("act.metres", "m"),
    "taken_at": _msg("act.taken_at", "Taken"),
    # NATIVE REVIEW: "{pages} беттің {page}-беті" is the usual Kazakh order for "page x of y".
    "page_of": _msg("act.page_of", "Page {page} of {pages}"),
    "document_sha256": _msg("act.document_sha256", "Document SHA-256"),
    "verify": _msg("act.verify", "Verify at"),
    # Version 2 of the act: the words its content is written with (see service/acts/content.py).
    "time_zone": _msg("act.time_zone", "Times"),
    "description": _msg("act.description", "Customer's request"),
    "col.done": _msg("act.col.done", "What was done"),
    "answer.yes": _msg("act.answer.yes", "Yes"),
    "answer.no": _msg("act.answer.no", "No"),
    # Photos are counted with the numeral: "фото" does not decline in Russian or Kazakh.
    "answer.photos": _msg("act.answer.photos", "{count} photos"),
    "answer.photo": _msg("act.answer.photo", "{count} photo"),
    # The row counting a visit's photos when some are not embedded; labelled "section.photos".
    # NATIVE REVIEW (the three Kazakh texts)
    "photos.taken": _msg("act.photos.taken", "{count} photos taken"),
    "photos.heic": _msg(
        "act.photos.heic",
        "{count} HEIC photos are not embedded in the act and are kept in storage",
    ),
    "photos.over": _msg(
        "act.photos.over",
        "{count} photos beyond {limit} are not embedded in the act and are kept in storage",
    ),
    "answer.at_site": _msg("act.answer.at_site", "At the site address"),
    "answer.away_from_site": _msg("act.answer.away_from_site", "Away from the site address"),
    "answer.location_recorded": _msg("act.answer.location_recorded", "Location recorded"),
    # NATIVE REVIEW
    # {distance} is format_distance's: "850 m" or "5.0 km", its unit included.
    "evidence.distance": _msg(
        "act.evidence.distance",
        "{distance} from the address (accuracy ±{accuracy} m)",
    ),
    "evidence.distance_no_accuracy": _msg(
        "act.evidence.distance_no_accuracy", "{distance} from the address"
    ),
    "distance.metres": _msg("act.distance.metres", "{distance} m"),
    "distance.kilometres": _msg("act.distance.kilometres", "{distance} km"),
    "col.action": _msg("act.col.action", "Action"),
    "action.installed": _msg("act.action.installed", "installed"),
    "action.replaced": _msg("act.action.replaced", "replaced"),
    "action.removed": _msg("act.action.removed", "removed"),
    # Kazakh puts the postposition after the serial. NATIVE REVIEW
    "replaced_serial": _msg("act.replaced_serial", "replacing {serial}"),
    "equipment_unnamed": _msg("act.equipment_unnamed", "Equipment"),
    "unit.pcs": _msg("act.unit.pcs", "pcs"),
    "unit.m": _msg("act.unit.m", "m"),
    "unit.kg": _msg("act.unit.kg", "kg"),
    "unit.l": _msg("act.unit.l", "l"),
    "contractor_statement": _msg(
        "act.contractor_statement",
        "The contractor confirms that the works listed in this act were "
        "performed. The act's authenticity is checked by its QR code and "
        "document SHA-256.",
    ),
    "seal_statement": _msg(
        "act.seal_statement",
        "The contractor confirms that the works listed in this act were "
        "performed; the act is certified with the contractor's electronic seal.",
    ),
    # The answer letter to a customer's appeal (reports/letter.py).
    "letter.title": _msg("letter.title", "Answer to appeal No. {number}"),
    "letter.tax_id": _msg("letter.tax_id", "Tax ID"),
    "letter.outgoing": _msg("letter.outgoing", "Ref. No. {number}"),
    "letter.to": _msg("letter.to", "To: {name}"),
    "letter.dear": _msg("letter.dear", "Dear {name},"),
    "letter.dear.female": _msg("letter.dear.female", "Dear {name},"),
    "letter.dear.male": _msg("letter.dear.male", "Dear {name},"),
    "letter.local_time": _msg("letter.local_time", "{time} local time, {zone}"),
    "letter.intro": _msg(
        "letter.intro",
        "We have considered your appeal No. {number} registered on {date} and answer it below.",
    ),
    "letter.question": _msg("letter.question", "Your appeal"),
    "letter.decision": _msg("letter.decision", "Our finding"),
    "letter.decision.justified": _msg("letter.decision.justified", "The complaint is justified."),
    "letter.decision.partly": _msg("letter.decision.partly", "The complaint is partly justified."),
    "letter.decision.unjustified": _msg(
        "letter.decision.unjustified", "The complaint is not justified."
    ),
    "letter.answer": _msg("letter.answer", "Our answer"),
    "letter.measures": _msg("letter.measures", "What we will do"),
    "letter.measure": _msg("letter.measure", "Measure"),
    "letter.due": _msg("letter.due", "Planned by"),
    "letter.responsible": _msg("letter.responsible", "Responsible person"),
    "letter.contacts": _msg("letter.contacts", "Contacts: {contacts}"),
    "letter.verify_note": _msg(
        "letter.verify_note",
        "The authenticity of this letter can be checked with the QR code or the address below.",
    ),
}

# Babel patterns of the act's date line; Russian uses the genitive month («12» марта 2025 г.).
_LONG_DATE: Mapping[Language, str] = MappingProxyType(
    {"ru": "«dd» MMMM y 'г.'", "kk": "y 'жылғы' d MMMM", "en": "d MMMM y"}
)

_PDF_LANG: Mapping[Language, str] = MappingProxyType({"ru": "ru-RU", "kk": "kk-KZ", "en": "en"})


def label(key: str, language: Language, **values: object) -> str:
    """The label `key` in `language`, with `{name}` placeholders filled from `values`."""
    entry = _LABELS[key]
    text = _translations(language).pgettext(entry.context, entry.english)
    return text.format(**values) if values else text


def label_keys() -> tuple[str, ...]:
    """Every label key (for tests that check all languages render)."""
    return tuple(_LABELS)


def unit_name(unit: str, language: Language) -> str:
    """A unit of measure in the act's language (pcs -> шт / дана / pcs); other units as given.

    The one definition of unit names: order lines, installed items and the act all use it.
    Russian and Kazakh short forms are accepted as codes too, so "шт" on an order reads
    "дана" in a Kazakh act.
    """
    code = _UNIT_CODES.get(unit.strip().lower().rstrip("."), None)
    return label(f"unit.{code}", language) if code else unit


_UNIT_CODES: Mapping[str, str] = MappingProxyType(
    {
        "pcs": "pcs", "pc": "pcs", "piece": "pcs", "шт": "pcs", "дана": "pcs",
        "m": "m", "м": "m", "kg": "kg", "кг": "kg", "l": "l", "л": "l",
    }
)  # fmt: skip


def title(kind: ActKind, language: Language) -> str:
    """The act's title for its kind."""
    return label(f"title.{kind}", language)


def work_type_name(work_type: WorkType, language: Language) -> str:
    """Human name of a work order type."""
    return label(f"work_type.{work_type}", language)


def tax_id_label(kind: TaxIdKind, language: Language) -> str:
    """БИН / БСН / ИНН, as the issuer's country and the act's language require."""
    return label(f"tax_id.{kind}", language)


def pdf_language_tag(language: Language) -> str:
    """BCP 47 tag written into the PDF catalog so screen readers pick the right voice."""
    return _PDF_LANG[language]


def format_long_date(value: date, language: Language) -> str:
    """«12» марта 2025 г. / 2025 жылғы 12 наурыз / 12 March 2025."""
    return format_date(value, _LONG_DATE[language], locale=language)


def format_datetime(value: datetime, language: Language, *, with_offset: bool = True) -> str:
    """Wall-clock time where it happened, with its UTC offset: 12.03.2025 10:05 (UTC+05:00)."""
    # Times are shown in the offset they were recorded with: that is the customer's clock.
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d.%m.%Y %H:%M"
    stamp = value.strftime(pattern)
    return f"{stamp} ({format_utc_offset(value)})" if with_offset else stamp


def format_window(start: datetime, end: datetime, language: Language) -> str:
    """A visit window, collapsing the date when both ends fall on the same day."""
    if start.date() == end.date() and start.utcoffset() == end.utcoffset():
        day = start.strftime("%Y-%m-%d") if language == "en" else start.strftime("%d.%m.%Y")
        return f"{day} {start:%H:%M}–{end:%H:%M} ({format_utc_offset(start)})"
    return f"{format_datetime(start, language)} – {format_datetime(end, language)}"


def in_zone(value: datetime, zone: ZoneInfo | None) -> datetime:
    """The time on the site's clock (version 2 snapshots); as recorded when there is no zone."""
    return value if zone is None else value.astimezone(zone)


def format_zone(zone: ZoneInfo, at: datetime) -> str:
    """The zone named once per page: "Asia/Almaty (UTC+05:00)"."""
    return f"{zone.key} ({format_utc_offset(at.astimezone(zone))})"


def format_utc_offset(value: datetime) -> str:
    """UTC+05:00 style offset of an aware datetime."""
    offset = value.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_quantity(value: Decimal, language: Language) -> str:
    """A quantity without trailing zeros or grouping, with a decimal comma in Russian and
    Kazakh (1,5 / 1.5; 100)."""
    # No quantisation: every significant digit the order carries is printed.
    return format_decimal(value.normalize(), "0.#", locale=language, decimal_quantization=False)


def format_distance(metres: float, language: Language) -> str:
    """A distance as a person reads it: whole metres below 1 km, then kilometres with one
    decimal (850 м; 5,0 км in Russian and Kazakh, 5.0 km in English)."""
    whole = round(metres)
    if whole < 1000:
        return label("distance.metres", language, distance=whole)
    kilometres = format_decimal(Decimal(whole) / 1000, "0.0", locale=language)
    return label("distance.kilometres", language, distance=kilometres)
