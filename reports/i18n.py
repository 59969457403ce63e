"""Labels and date/number formats of the act in Russian, Kazakh and English."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

from reports.snapshot import ActKind, Language, TaxIdKind, WorkType

LANGUAGES: tuple[Language, ...] = ("ru", "kk", "en")

# Kazakh labels follow the glossary in DOMAIN.md; like the glossary they await review by a
# native speaker. Entries marked "NATIVE REVIEW" are our own wording, not from the glossary.
_LABELS: dict[str, tuple[str, str, str]] = {
    # key: (ru, kk, en)
    "title.completion": (
        "Акт выполненных работ",
        "Орындалған жұмыстар актісі",
        "Act of completed works",
    ),
    "title.handover": (
        "Акт сдачи-приёма выполненных работ, оборудования и материалов",
        # NATIVE REVIEW: our translation of the handover act title.
        "Орындалған жұмыстарды, жабдықты және материалдарды тапсыру-қабылдау актісі",
        "Handover act for completed works, equipment and materials",
    ),
    "number": ("№", "№", "No."),
    # NATIVE REVIEW: Kazakh puts the number before the noun.
    "act_short": ("Акт № {number}", "№ {number} акт", "Act No. {number}"),
    "continued": ("продолжение", "жалғасы", "continued"),
    "tax_id.bin": ("БИН", "БСН", "BIN"),
    # NATIVE REVIEW: ИНН is a Russian registry number; Kazakh text keeps the Russian abbreviation.
    "tax_id.inn": ("ИНН", "ИНН", "INN"),
    "address": ("Адрес", "Мекенжай", "Address"),
    "phone": ("Тел.", "Тел.", "Tel."),
    "contractor": ("Исполнитель", "Орындаушы", "Contractor"),
    "customer": ("Заказчик", "Тапсырыс беруші", "Customer"),
    "acceptor": ("Работу принял(а)", "Жұмысты қабылдаған", "Accepted by"),
    "technician": ("Специалист", "Маман", "Technician"),
    "employee_no": ("таб. №", "табель №", "employee No."),
    "site": ("Адрес объекта", "Объектінің мекенжайы", "Site address"),
    "work_order": ("Наряд", "Тапсырыс", "Work order"),
    "work_type": ("Вид работ", "Жұмыс түрі", "Type of work"),
    "work_type.installation": (
        "подключение (инсталляция)",
        "қосу (инсталляция)",
        "installation / connection",
    ),
    "work_type.repair": ("устранение повреждения", "зақымдануды жою", "repair"),
    "work_type.construction": (
        "строительно-монтажные работы",
        "құрылыс-монтаж жұмыстары",
        "construction and installation works",
    ),
    "work_type.meter_check": (
        "проверка прибора учёта",
        "есептеу құралын тексеру",
        "meter check",
    ),
    "requested_services": (
        "Заказанные услуги",
        "Тапсырыс берілген қызметтер",
        "Requested services",
    ),
    "agreed_window": (
        "Согласованное время визита",
        "Келісілген келу уақыты",
        "Agreed visit window",
    ),
    "arrived_at": ("Фактическое прибытие", "Нақты келген уақыты", "Actual arrival"),
    "finished_at": ("Окончание работ", "Жұмыстың аяқталуы", "Work finished"),
    "section.works": ("Выполненные работы", "Орындалған жұмыстар", "Works performed"),
    "section.equipment": (
        "Оборудование и материалы",
        "Жабдық және материалдар",
        "Equipment and materials",
    ),
    "section.checklist": ("Ход выполнения работ", "Жұмыстың орындалу барысы", "Checklist log"),
    "section.photos": ("Фотофиксация", "Фотосуреттер", "Photos"),
    "section.signatures": ("Подписи сторон", "Тараптардың қолдары", "Signatures"),
    "col.no": ("№", "№", "No."),
    "col.description": ("Наименование работ", "Жұмыстардың атауы", "Description"),
    "col.item": ("Наименование", "Атауы", "Item"),
    "col.model": ("Модель", "Моделі", "Model"),
    "col.serial": ("Серийный номер", "Сериялық нөмір", "Serial number"),
    "col.quantity": ("Кол-во", "Саны", "Qty"),
    "col.unit": ("Ед.", "Өлш.", "Unit"),
    "col.time": ("Время", "Уақыты", "Time"),
    "col.step": ("Этап", "Кезең", "Step"),
    "col.answer": ("Результат", "Нәтиже", "Result"),
    "none": ("нет", "жоқ", "none"),
    "statement.completion": (
        "Перечисленные работы выполнены. Заказчик ознакомлен с содержанием акта, "
        "претензий по объёму и качеству работ не имеет.",
        # NATIVE REVIEW
        "Жоғарыда аталған жұмыстар орындалды. Тапсырыс беруші акт мазмұнымен танысты, "
        "жұмыстардың көлемі мен сапасына шағымы жоқ.",
        "The works listed above have been performed. The customer has read this act and "
        "has no claims as to the scope and quality of the works.",
    ),
    "statement.handover": (
        "Работы выполнены; оборудование и материалы, перечисленные в акте, переданы Заказчику "
        "в исправном состоянии и в указанном количестве. Заказчик ознакомлен с содержанием "
        "акта, претензий не имеет.",
        # NATIVE REVIEW
        "Жұмыстар орындалды; актіде аталған жабдық пен материалдар Тапсырыс берушіге жарамды "
        "күйде және көрсетілген санда тапсырылды. Тапсырыс беруші акт мазмұнымен танысты, "
        "шағымы жоқ.",
        "The works have been performed; the equipment and materials listed in this act have "
        "been handed over to the customer in working order and in the quantities stated. "
        "The customer has read this act and has no claims.",
    ),
    "remarks": ("Замечания Заказчика", "Тапсырыс берушінің ескертпелері", "Customer's remarks"),
    "signature": ("подпись", "қолы", "signature"),
    "signed_at": ("Подписано", "Қол қойылды", "Signed"),
    "location": ("Геопозиция", "Геолокация", "Location"),
    "metres": ("м", "м", "m"),
    "taken_at": ("Снято", "Түсірілді", "Taken"),
    # NATIVE REVIEW: "{pages} беттің {page}-беті" is the usual Kazakh order for "page x of y".
    "page_of": ("Стр. {page} из {pages}", "{pages} беттің {page}-беті", "Page {page} of {pages}"),
    "document_sha256": ("SHA-256 документа", "Құжаттың SHA-256", "Document SHA-256"),
    "verify": ("Проверка подлинности", "Түпнұсқалығын тексеру", "Verify at"),
    # Version 2 of the act: the words its content is written with (see service/acts/content.py).
    "time_zone": ("Время", "Уақыт", "Times"),
    "description": ("Обращение клиента", "Тапсырыс берушінің өтініші", "Customer's request"),
    "col.done": ("Что сделано", "Не істелді", "What was done"),
    "answer.yes": ("Да", "Иә", "Yes"),
    "answer.no": ("Нет", "Жоқ", "No"),
    # Photos are counted with the numeral: "фото" does not decline in Russian or Kazakh.
    "answer.photos": ("{count} фото", "{count} фото", "{count} photos"),
    "answer.photo": ("{count} фото", "{count} фото", "{count} photo"),
    # The row counting a visit's photos when some are not embedded; labelled "section.photos".
    # NATIVE REVIEW (the three Kazakh texts)
    "photos.taken": ("сделано фото: {count}", "түсірілген фото: {count}", "{count} photos taken"),
    "photos.heic": (
        "{count} в формате HEIC не встроены в акт и хранятся в системе",
        "HEIC форматындағы {count} фото актіге енгізілмеген, жүйеде сақталады",
        "{count} HEIC photos are not embedded in the act and are kept in storage",
    ),
    "photos.over": (
        "{count} сверх {limit} не встроены в акт и хранятся в системе",
        "{limit}-дан асқан {count} фото актіге енгізілмеген, жүйеде сақталады",
        "{count} photos beyond {limit} are not embedded in the act and are kept in storage",
    ),
    "answer.at_site": ("У адреса объекта", "Нысан мекенжайында", "At the site address"),
    "answer.away_from_site": (
        "Вдали от адреса объекта",
        "Нысан мекенжайынан алыс",
        "Away from the site address",
    ),
    "answer.location_recorded": (
        "Местоположение отмечено",
        "Орналасқан жері белгіленді",
        "Location recorded",
    ),
    # NATIVE REVIEW
    "evidence.distance": (
        "{distance} м от адреса (точность ±{accuracy} м)",
        "мекенжайдан {distance} м (дәлдігі ±{accuracy} м)",
        "{distance} m from the address (accuracy ±{accuracy} m)",
    ),
    "evidence.distance_no_accuracy": (
        "{distance} м от адреса",
        "мекенжайдан {distance} м",
        "{distance} m from the address",
    ),
    "col.action": ("Действие", "Әрекет", "Action"),
    "action.installed": ("установлено", "орнатылды", "installed"),
    "action.replaced": ("заменено", "ауыстырылды", "replaced"),
    "action.removed": ("снято", "алынды", "removed"),
    # Kazakh puts the postposition after the serial. NATIVE REVIEW
    "replaced_serial": ("взамен {serial}", "{serial} орнына", "replacing {serial}"),
    "equipment_unnamed": ("Оборудование", "Жабдық", "Equipment"),
    "unit.pcs": ("шт", "дана", "pcs"),
    "unit.m": ("м", "м", "m"),
    "unit.kg": ("кг", "кг", "kg"),
    "unit.l": ("л", "л", "l"),
    "contractor_statement": (
        "Исполнитель подтверждает выполнение работ, указанных в акте. Подлинность акта "
        "проверяется по QR-коду и SHA-256 документа.",
        # NATIVE REVIEW
        "Орындаушы актіде көрсетілген жұмыстардың орындалғанын растайды. Актінің "
        "түпнұсқалығы QR-код және құжаттың SHA-256 бойынша тексеріледі.",
        "The contractor confirms that the works listed in this act were performed. The act's "
        "authenticity is checked by its QR code and document SHA-256.",
    ),
    "seal_statement": (
        "Исполнитель подтверждает выполнение работ, указанных в акте; акт заверяется электронной "
        "печатью Исполнителя.",
        # NATIVE REVIEW
        "Орындаушы актіде көрсетілген жұмыстардың орындалғанын растайды; акт Орындаушының "
        "электрондық мөрімен куәландырылады.",
        "The contractor confirms that the works listed in this act were performed; the act is "
        "certified with the contractor's electronic seal.",
    ),
}

_LANGUAGE_INDEX: Mapping[Language, int] = MappingProxyType({"ru": 0, "kk": 1, "en": 2})

_MONTHS: Mapping[Language, tuple[str, ...]] = MappingProxyType(
    {
        # Genitive, as in «12» марта 2025 г.
        "ru": (
            "января", "февраля", "марта", "апреля", "мая", "июня",
            "июля", "августа", "сентября", "октября", "ноября", "декабря",
        ),
        "kk": (
            "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
            "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
        ),
        "en": (
            "January", "February", "March", "April", "May", "June",
            "July", "August", "September", "October", "November", "December",
        ),
    }
)  # fmt: skip

_PDF_LANG: Mapping[Language, str] = MappingProxyType({"ru": "ru-RU", "kk": "kk-KZ", "en": "en"})


def label(key: str, language: Language, **values: object) -> str:
    """The label `key` in `language`, with `{name}` placeholders filled from `values`."""
    text = _LABELS[key][_LANGUAGE_INDEX[language]]
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
    month = _MONTHS[language][value.month - 1]
    if language == "ru":
        return f"«{value.day:02d}» {month} {value.year} г."
    if language == "kk":
        return f"{value.year} жылғы {value.day} {month}"
    return f"{value.day} {month} {value.year}"


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
    """A quantity without trailing zeros, with a decimal comma in Russian and Kazakh."""
    normalised = value.normalize()
    # normalize() turns 100 into 1E+2; quantize back to a plain integer when it is whole.
    if normalised == normalised.to_integral_value():
        text = f"{normalised.quantize(Decimal(1)):f}"
    else:
        text = f"{normalised:f}"
    return text if language == "en" else text.replace(".", ",")
