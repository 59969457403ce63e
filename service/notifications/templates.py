"""Message texts in the customer's language (kk, ru, en), with times in their local zone.

Every Kazakh text needs native review: the wording follows the glossary in DOMAIN.md but
has not yet been checked by a native speaker.

A template declares the context fields it needs and their kinds. A ``datetime`` field ``x``
(RFC 3339 with offset in the context) is shown through ``{x_date}`` and ``{x_time}`` in the
recipient's time zone; any other field ``y`` is shown as ``{y}``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from service.common.i18n import LANGUAGES, Language

SIGNATURE = "naryad"
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CODE = re.compile(r"^[0-9]{4,10}$")
_URL = re.compile(r"^https?://[^\s]{1,2000}$")
_TEXT = re.compile(r"^[^\r\n]{1,100}$")


class TemplateError(ValueError):
    """The template is unknown or its context is incomplete or malformed."""


class FieldKind(StrEnum):
    """How a context field is checked and shown."""

    DATETIME = "datetime"
    TEXT = "text"
    URL = "url"
    CODE = "code"
    MINUTES = "minutes"


@dataclass(frozen=True, slots=True)
class Template:
    """A message's fields and its subject and text per language."""

    key: str
    fields: Mapping[str, FieldKind]
    subject: Mapping[Language, str]
    text: Mapping[Language, str]


class Rendered(msgspec.Struct, frozen=True):
    """A rendered message: a short subject (e-mail subject, push title) and the text."""

    subject: str
    text: str


_WINDOW = {"window_start": FieldKind.DATETIME, "window_end": FieldKind.DATETIME}
_RU_WINDOW = "{window_start_date} с {window_start_time} до {window_end_time}"
_KK_WINDOW = "{window_start_date}, {window_start_time}–{window_end_time}"
_EN_WINDOW = "{window_start_date}, {window_start_time}–{window_end_time}"

_ESCALATION = {
    "work_order_number": FieldKind.TEXT,
    "target": FieldKind.TEXT,
    "due_at": FieldKind.DATETIME,
}

_ALL = (
    Template(
        key="visit.booked",
        fields=_WINDOW,
        subject={
            "kk": "Маманның келуі белгіленді",
            "ru": "Визит специалиста назначен",
            "en": "Technician visit booked",
        },
        text={
            "kk": f"Маманның келу уақыты: {_KK_WINDOW}. {SIGNATURE}",
            "ru": f"Ваш визит специалиста назначен на {_RU_WINDOW}. {SIGNATURE}",
            "en": f"Your technician visit is booked for {_EN_WINDOW}. {SIGNATURE}",
        },
    ),
    Template(
        key="visit.rescheduled",
        fields=_WINDOW,
        subject={
            "kk": "Маманның келу уақыты өзгертілді",
            "ru": "Время визита изменено",
            "en": "Visit time changed",
        },
        text={
            "kk": f"Маманның келу уақыты өзгертілді: {_KK_WINDOW}. {SIGNATURE}",
            "ru": f"Время визита специалиста изменено: {_RU_WINDOW}. {SIGNATURE}",
            "en": f"Your technician visit has been moved to {_EN_WINDOW}. {SIGNATURE}",
        },
    ),
    Template(
        key="visit.reassigned",
        fields=_WINDOW,
        subject={
            "kk": "Сізге басқа маман келеді",
            "ru": "К Вам приедет другой специалист",
            "en": "A different technician will visit you",
        },
        text={
            "kk": f"Сізге басқа маман келеді. Келу уақыты өзгеріссіз: {_KK_WINDOW}. {SIGNATURE}",
            "ru": (
                f"К Вам приедет другой специалист. Время визита прежнее: {_RU_WINDOW}. {SIGNATURE}"
            ),
            "en": (
                f"A different technician will visit you at the same time: {_EN_WINDOW}. {SIGNATURE}"
            ),
        },
    ),
    Template(
        key="visit.cancelled",
        fields=_WINDOW,
        subject={
            "kk": "Маманның келуі тоқтатылды",
            "ru": "Визит специалиста отменён",
            "en": "Technician visit cancelled",
        },
        text={
            "kk": (
                f"Маманның {_KK_WINDOW} келуі тоқтатылды. "
                f"Жаңа уақытты келісу үшін сізбен хабарласамыз. {SIGNATURE}"
            ),
            "ru": (
                f"Визит специалиста {_RU_WINDOW} отменён. "
                f"Мы свяжемся с Вами, чтобы согласовать новое время. {SIGNATURE}"
            ),
            "en": (
                f"Your technician visit on {_EN_WINDOW} is cancelled. "
                f"We will contact you to agree a new time. {SIGNATURE}"
            ),
        },
    ),
    # Seed 000 §11: apologise, explain, give the new time.
    Template(
        key="visit.late_predicted",
        fields={"new_eta": FieldKind.DATETIME},
        subject={
            "kk": "Маман кешігіп келеді",
            "ru": "Специалист опаздывает",
            "en": "Your technician is running late",
        },
        text={
            "kk": (
                "Кешірім сұраймыз: маман кешігіп келеді. Жаңа келу уақыты: {new_eta_time}. "
                "Уақыт ыңғайсыз болса, осы хабарламаға жауап беріңіз."
            ),
            "ru": (
                "Приносим извинения: специалист опаздывает. Новое время прибытия: "
                "{new_eta_time}. Если время не подходит, ответьте на это сообщение."
            ),
            "en": (
                "We apologise: your technician is running late. New arrival time: "
                "{new_eta_time}. If this time does not suit you, reply to this message."
            ),
        },
    ),
    Template(
        # For the dispatch desk (staff), so no customer data beyond the order number.
        key="dispatch.visit_late",
        fields={
            "work_order_number": FieldKind.TEXT,
            "window_end": FieldKind.DATETIME,
            "new_eta": FieldKind.DATETIME,
        },
        subject={
            "kk": "Маман кешігеді",
            "ru": "Специалист опаздывает",
            "en": "Technician running late",
        },
        text={
            "kk": (
                "{work_order_number}: маман {window_end_time} дейін үлгермейді, "
                "болжам {new_eta_time}. Клиентке кешірім хабарламасы жіберілді."
            ),
            "ru": (
                "{work_order_number}: специалист не успевает к {window_end_time}, "
                "прогноз прибытия {new_eta_time}. Клиенту отправлено извинение."
            ),
            "en": (
                "{work_order_number}: the technician will miss {window_end_time}, "
                "predicted arrival {new_eta_time}. The customer has been sent an apology."
            ),
        },
    ),
    Template(
        key="visit.en_route",
        fields={"eta": FieldKind.DATETIME},
        subject={
            "kk": "Маман жолда",
            "ru": "Специалист в пути",
            "en": "Your technician is on the way",
        },
        text={
            "kk": f"Маман сізге шықты. Болжамды келу уақыты: {{eta_time}}. {SIGNATURE}",
            "ru": f"Специалист выехал к Вам. Ожидаемое время прибытия: {{eta_time}}. {SIGNATURE}",
            "en": f"Your technician is on the way. Expected arrival: {{eta_time}}. {SIGNATURE}",
        },
    ),
    Template(
        key="act.signed",
        fields={"act_url": FieldKind.URL},
        subject={
            "kk": "Орындалған жұмыстар актісі",
            "ru": "Акт выполненных работ",
            "en": "Act of completed works",
        },
        text={
            "kk": (
                f"Орындалған жұмыстар актісіне қол қойылды. Сіздің данаңыз: {{act_url}} {SIGNATURE}"
            ),
            "ru": f"Акт выполненных работ подписан. Ваш экземпляр: {{act_url}} {SIGNATURE}",
            "en": f"The act of completed works is signed. Your copy: {{act_url}} {SIGNATURE}",
        },
    ),
    Template(
        key="rating.requested",
        fields={"rating_url": FieldKind.URL},
        subject={
            "kk": "Маманның жұмысын бағалаңыз",
            "ru": "Оцените работу специалиста",
            "en": "Rate the technician's work",
        },
        text={
            "kk": (
                "Маманның жұмысын 1-ден 5-ке дейін бағалауыңызды сұраймыз: "
                f"{{rating_url}} {SIGNATURE}"
            ),
            "ru": (
                "Оцените, пожалуйста, работу специалиста по шкале от 1 до 5: "
                f"{{rating_url}} {SIGNATURE}"
            ),
            "en": f"Please rate the technician's work from 1 to 5: {{rating_url}} {SIGNATURE}",
        },
    ),
    # For the coordinator who owns the follow-up (staff): the order number, no customer data.
    Template(
        key="follow_up.opened",
        fields={
            "work_order_number": FieldKind.TEXT,
            "score": FieldKind.TEXT,
            "due_at": FieldKind.DATETIME,
        },
        subject={
            "kk": "Клиенттің бағасы бойынша тапсырма",
            "ru": "Задача по оценке клиента",
            "en": "Follow-up on a customer rating",
        },
        text={
            "kk": (
                "{work_order_number} тапсырысы бойынша клиент бағасы: {score}. "
                "Клиентпен {due_at_date} {due_at_time} дейін хабарласыңыз."
            ),
            "ru": (
                "Оценка клиента по наряду {work_order_number}: {score}. "
                "Свяжитесь с клиентом до {due_at_date} {due_at_time}."
            ),
            "en": (
                "Customer rating for work order {work_order_number}: {score}. "
                "Contact the customer by {due_at_date} {due_at_time}."
            ),
        },
    ),
    Template(
        key="otp.sent",
        fields={"code": FieldKind.CODE, "ttl_minutes": FieldKind.MINUTES},
        subject={"kk": "Растау коды", "ru": "Код подтверждения", "en": "Confirmation code"},
        text={
            "kk": "Растау коды: {code}. Оны ешкімге айтпаңыз. Код {ttl_minutes} минут жарамды.",
            "ru": (
                "Код подтверждения: {code}. Никому не сообщайте его. "
                "Код действует {ttl_minutes} мин."
            ),
            "en": (
                "Your confirmation code is {code}. Do not share it. Valid for {ttl_minutes} min."
            ),
        },
    ),
    Template(
        key="escalation.raised",
        fields={"work_order_number": FieldKind.TEXT, "control_deadline": FieldKind.DATETIME},
        subject={
            "kk": "Бақылау мерзімі өтті",
            "ru": "Контрольный срок нарушен",
            "en": "Control deadline missed",
        },
        text={
            "kk": (
                "{work_order_number} тапсырысының бақылау мерзімі өтті: "
                "{control_deadline_date} {control_deadline_time}. Үйлестірушінің шешімі қажет."
            ),
            "ru": (
                "Наряд {work_order_number} просрочен: контрольный срок "
                "{control_deadline_date} {control_deadline_time}. Требуется решение координатора."
            ),
            "en": (
                "Work order {work_order_number} is overdue: control deadline "
                "{control_deadline_date} {control_deadline_time}. Coordinator action needed."
            ),
        },
    ),
    # SLA escalations for staff: no customer data beyond the order number. ``target`` is the
    # clock (response, arrival, resolution), shown as its code the desk's tools know.
    Template(
        key="escalation.warning",
        fields=_ESCALATION,
        subject={
            "kk": "Бақылау мерзімі жақындады",
            "ru": "Контрольный срок близко",
            "en": "Deadline approaching",
        },
        text={
            "kk": (
                "{work_order_number} ({target}): мерзім {due_at_date} {due_at_time} аяқталады. "
                "Диспетчердің әрекеті қажет."
            ),
            "ru": (
                "Наряд {work_order_number} ({target}): срок истекает {due_at_date} в "
                "{due_at_time}. Требуется действие диспетчера."
            ),
            "en": (
                "Work order {work_order_number} ({target}): due {due_at_date} {due_at_time}. "
                "Dispatcher action needed."
            ),
        },
    ),
    Template(
        key="escalation.breach",
        fields=_ESCALATION,
        subject={
            "kk": "Бақылау мерзімі өтті",
            "ru": "Контрольный срок нарушен",
            "en": "Deadline missed",
        },
        text={
            "kk": (
                "{work_order_number} ({target}): мерзім {due_at_date} {due_at_time} өтті. "
                "Клиентке кешірім хабарламасы жіберілді. Үйлестірушінің шешімі қажет."
            ),
            "ru": (
                "Наряд {work_order_number} ({target}): срок {due_at_date} {due_at_time} "
                "нарушен. Клиенту отправлено извинение. Требуется решение координатора."
            ),
            "en": (
                "Work order {work_order_number} ({target}): deadline {due_at_date} "
                "{due_at_time} missed. The customer has been sent an apology. "
                "Coordinator action needed."
            ),
        },
    ),
    Template(
        key="escalation.head",
        fields=_ESCALATION,
        subject={
            "kk": "Мерзімі өткен тапсырыс: басшыға",
            "ru": "Просроченный наряд: руководителю",
            "en": "Overdue work order: for the head of unit",
        },
        text={
            "kk": (
                "{work_order_number} ({target}): мерзім {due_at_date} {due_at_time} өтті, "
                "тапсырыс әлі жабылмаған. Басшының шешімі қажет."
            ),
            "ru": (
                "Наряд {work_order_number} ({target}): срок {due_at_date} {due_at_time} "
                "нарушен, наряд всё ещё открыт. Требуется решение руководителя."
            ),
            "en": (
                "Work order {work_order_number} ({target}): deadline {due_at_date} "
                "{due_at_time} missed and the order is still open. Head of unit action needed."
            ),
        },
    ),
    # Seed 004 §5.4.10.5, for the supervisor or the security desk: who, which order, when.
    # The technician's name is staff data (an employee), not a customer's.
    Template(
        key="incident.raised",
        fields={
            "work_order_number": FieldKind.TEXT,
            "technician": FieldKind.TEXT,
            "occurred_at": FieldKind.DATETIME,
        },
        subject={
            "kk": "Қауіпсіздік оқиғасы",
            "ru": "Угроза безопасности на объекте",
            "en": "Safety incident on site",
        },
        text={
            "kk": (
                "Маман {technician} {occurred_at_date} {occurred_at_time} қауіп төнгендіктен "
                "{work_order_number} тапсырысы бойынша нысаннан кетті. Маманға хабарласыңыз "
                "және тақтада растаңыз."
            ),
            "ru": (
                "Специалист {technician} покинул объект по наряду {work_order_number} "
                "из-за угрозы безопасности ({occurred_at_date} {occurred_at_time}). "
                "Свяжитесь со специалистом и подтвердите на доске."
            ),
            "en": (
                "Technician {technician} left the site of work order {work_order_number} "
                "for safety reasons ({occurred_at_date} {occurred_at_time}). Call the "
                "technician and acknowledge it on the board."
            ),
        },
    ),
    # Seed 000 §11: a missed deadline is apologised for, with the new control date.
    Template(
        key="sla.apology",
        fields={"work_order_number": FieldKind.TEXT, "new_date": FieldKind.DATETIME},
        subject={
            "kk": "Кешірім сұраймыз",
            "ru": "Приносим извинения",
            "en": "Our apologies",
        },
        text={
            "kk": (
                "Кешірім сұраймыз: {work_order_number} тапсырысы бойынша жұмысты уәде "
                "етілген мерзімде орындай алмадық. Жаңа бақылау мерзімі: {new_date_date} "
                f"{{new_date_time}}. {SIGNATURE}"
            ),
            "ru": (
                "Приносим извинения: мы не успели выполнить работы по заявке "
                "{work_order_number} в обещанный срок. Новый контрольный срок: "
                f"{{new_date_date}} {{new_date_time}}. {SIGNATURE}"
            ),
            "en": (
                "We apologise: we did not complete the work on your order "
                "{work_order_number} by the promised time. New control date: "
                f"{{new_date_date}} {{new_date_time}}. {SIGNATURE}"
            ),
        },
    ),
    # Seed 000 §9: the feedback call after a connection, in the customer's working hours.
    Template(
        key="feedback.call_requested",
        fields={"work_order_number": FieldKind.TEXT},
        subject={
            "kk": "Кері байланыс қоңырауы",
            "ru": "Звонок обратной связи",
            "en": "Feedback call",
        },
        text={
            "kk": "{work_order_number} тапсырысы бойынша клиентке кері байланыс қоңырауын шалыңыз.",
            "ru": "Позвоните клиенту для обратной связи по наряду {work_order_number}.",
            "en": "Call the customer for feedback on work order {work_order_number}.",
        },
    ),
)

TEMPLATES: Mapping[str, Template] = {t.key: t for t in _ALL}


def get_template(key: str) -> Template:
    """The template with this key, or TemplateError."""
    try:
        return TEMPLATES[key]
    except KeyError:
        raise TemplateError(f"unknown template {key!r}") from None


def _parse_datetime(name: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise TemplateError(f"{name}: not an RFC 3339 date-time") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TemplateError(f"{name}: a date-time with an offset is required")
    return value


def _check_field(name: str, kind: FieldKind, value: Any) -> Any:
    """The JSON form of one valid field value."""
    if kind is FieldKind.DATETIME:
        return _parse_datetime(name, value).isoformat()
    if kind is FieldKind.MINUTES:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1440:
            raise TemplateError(f"{name}: whole minutes from 1 to 1440 are required")
        return value
    pattern = {FieldKind.TEXT: _TEXT, FieldKind.URL: _URL, FieldKind.CODE: _CODE}[kind]
    if not isinstance(value, str) or not pattern.match(value):
        raise TemplateError(f"{name}: not a valid {kind.value}")
    return value


def prepare_context(key: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``context`` against the template's fields; return its JSON form (extras dropped)."""
    template = get_template(key)
    missing = sorted(set(template.fields) - set(context))
    if missing:
        raise TemplateError(f"{key}: missing context fields {', '.join(missing)}")
    return {name: _check_field(name, kind, context[name]) for name, kind in template.fields.items()}


def _format_date(moment: datetime, language: Language) -> str:
    if language == "en":
        return f"{moment.day} {_EN_MONTHS[moment.month - 1]}"
    return moment.strftime("%d.%m")


def render(key: str, language: Language, context: Mapping[str, Any], time_zone: str) -> Rendered:
    """The message in ``language``, date-times shown in the recipient's ``time_zone``."""
    if language not in LANGUAGES:
        raise TemplateError(f"unsupported language {language!r}")
    template = get_template(key)
    checked = prepare_context(key, context)
    zone = ZoneInfo(time_zone)
    values: dict[str, str] = {}
    for name, kind in template.fields.items():
        if kind is FieldKind.DATETIME:
            local = datetime.fromisoformat(checked[name]).astimezone(zone)
            values[f"{name}_date"] = _format_date(local, language)
            values[f"{name}_time"] = local.strftime("%H:%M")
        else:
            values[name] = str(checked[name])
    return Rendered(
        subject=template.subject[language].format_map(values),
        text=template.text[language].format_map(values),
    )


# Fields that are secrets of their own: a link opening a customer's act or rating, a one-time
# code. Needed until the message is sent, removed from the outbox row once it is finished.
SECRET_KINDS = frozenset({FieldKind.URL, FieldKind.CODE})


def secret_fields(key: str) -> frozenset[str]:
    """The template's context fields that must not stay at rest once the message is sent."""
    template = TEMPLATES.get(key)
    if template is None:
        return frozenset()
    return frozenset(name for name, kind in template.fields.items() if kind in SECRET_KINDS)


def all_secret_fields() -> tuple[str, ...]:
    """Every field name any template treats as a secret (for sweeping old rows in SQL)."""
    return tuple(sorted({name for t in _ALL for name in secret_fields(t.key)}))


def redacted_context(key: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """The context without its secret fields (what a finished outbox row keeps)."""
    secrets = secret_fields(key)
    return {name: value for name, value in context.items() if name not in secrets}


def placeholders(text: str) -> set[str]:
    """The names a template text refers to (for tests and template authors)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
