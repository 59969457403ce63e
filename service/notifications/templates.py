"""Message texts in the customer's language (kk, ru, en), with times in their local zone.

The texts are English here; Russian and Kazakh live in the naryad gettext catalogs
(``service/locale``, contexts ``notification.<template>.subject|text``). Every Kazakh text needs
native review: the wording follows the glossary in DOMAIN.md but has not yet been checked by a
native speaker (the catalog marks each entry so).

A template declares the context fields it needs and their kinds. A ``datetime`` field ``x``
(RFC 3339 with offset in the context) is shown through ``{x_date}`` and ``{x_time}`` in the
recipient's time zone, and as a deadline through ``{x_last_day}``: the last local day it leaves
(a deadline at 00:00 on the 13th ends the 12th); any other field ``y`` is shown as ``{y}``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_date

from service.common.i18n import LANGUAGES, Language, Message, in_language, msg
from service.sla.calendar import last_local_day

# Dates in a message: "4 Dec" in English, "04.12" in Russian and Kazakh (Babel patterns).
_DATE_PATTERNS: Mapping[Language, str] = {"ru": "dd.MM", "kk": "dd.MM", "en": "d MMM"}
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
    subject: Message
    text: Message


class Rendered(msgspec.Struct, frozen=True):
    """A rendered message: a short subject (e-mail subject, push title) and the text."""

    subject: str
    text: str


_WINDOW = {"window_start": FieldKind.DATETIME, "window_end": FieldKind.DATETIME}

_ESCALATION = {
    "work_order_number": FieldKind.TEXT,
    "target": FieldKind.TEXT,
    "due_at": FieldKind.DATETIME,
}

_ALL = (
    Template(
        key="visit.booked",
        fields=_WINDOW,
        subject=msg("notification.visit.booked.subject", "Technician visit booked"),
        text=msg(
            "notification.visit.booked.text",
            "Your technician visit is booked for {window_start_date}, "
            "{window_start_time}–{window_end_time}. naryad",
        ),
    ),
    Template(
        key="visit.rescheduled",
        fields=_WINDOW,
        subject=msg("notification.visit.rescheduled.subject", "Visit time changed"),
        text=msg(
            "notification.visit.rescheduled.text",
            "Your technician visit has been moved to {window_start_date}, "
            "{window_start_time}–{window_end_time}. naryad",
        ),
    ),
    Template(
        key="visit.reassigned",
        fields=_WINDOW,
        subject=msg(
            "notification.visit.reassigned.subject",
            "A different technician will visit you",
        ),
        text=msg(
            "notification.visit.reassigned.text",
            "A different technician will visit you at the same time: "
            "{window_start_date}, {window_start_time}–{window_end_time}. naryad",
        ),
    ),
    Template(
        key="visit.cancelled",
        fields=_WINDOW,
        subject=msg("notification.visit.cancelled.subject", "Technician visit cancelled"),
        text=msg(
            "notification.visit.cancelled.text",
            "Your technician visit on {window_start_date}, "
            "{window_start_time}–{window_end_time} is cancelled. We will contact you "
            "to agree a new time. naryad",
        ),
    ),
    # Seed 000 §11: apologise, explain, give the new time.
    Template(
        key="visit.late_predicted",
        fields={"new_eta": FieldKind.DATETIME},
        subject=msg(
            "notification.visit.late_predicted.subject",
            "Your technician is running late",
        ),
        text=msg(
            "notification.visit.late_predicted.text",
            "We apologise: your technician is running late. New arrival time: "
            "{new_eta_time}. If this time does not suit you, reply to this message.",
        ),
    ),
    Template(
        # For the dispatch desk (staff), so no customer data beyond the order number.
        key="dispatch.visit_late",
        fields={
            "work_order_number": FieldKind.TEXT,
            "window_end": FieldKind.DATETIME,
            "new_eta": FieldKind.DATETIME,
        },
        subject=msg("notification.dispatch.visit_late.subject", "Technician running late"),
        text=msg(
            "notification.dispatch.visit_late.text",
            "{work_order_number}: the technician will miss {window_end_time}, "
            "predicted arrival {new_eta_time}. The customer has been sent an apology.",
        ),
    ),
    Template(
        key="visit.en_route",
        fields={"eta": FieldKind.DATETIME},
        subject=msg("notification.visit.en_route.subject", "Your technician is on the way"),
        text=msg(
            "notification.visit.en_route.text",
            "Your technician is on the way. Expected arrival: {eta_time}. naryad",
        ),
    ),
    Template(
        key="act.signed",
        fields={"act_url": FieldKind.URL},
        subject=msg("notification.act.signed.subject", "Act of completed works"),
        text=msg(
            "notification.act.signed.text",
            "The act of completed works is signed. Your copy: {act_url} naryad",
        ),
    ),
    Template(
        key="rating.requested",
        fields={"rating_url": FieldKind.URL},
        subject=msg("notification.rating.requested.subject", "Rate the technician's work"),
        text=msg(
            "notification.rating.requested.text",
            "Please rate the technician's work from 1 to 5: {rating_url} naryad",
        ),
    ),
    # For the coordinator who owns the follow-up (staff): the order number, no customer data.
    Template(
        key="follow_up.opened",
        fields={
            "work_order_number": FieldKind.TEXT,
            "score": FieldKind.TEXT,
            "due_at": FieldKind.DATETIME,
        },
        subject=msg("notification.follow_up.opened.subject", "Follow-up on a customer rating"),
        text=msg(
            "notification.follow_up.opened.text",
            "Customer rating for work order {work_order_number}: {score}. Contact "
            "the customer by {due_at_date} {due_at_time}.",
        ),
    ),
    Template(
        key="otp.sent",
        fields={"code": FieldKind.CODE, "ttl_minutes": FieldKind.MINUTES},
        subject=msg("notification.otp.sent.subject", "Confirmation code"),
        text=msg(
            "notification.otp.sent.text",
            "Your confirmation code is {code}. Do not share it. Valid for {ttl_minutes} min.",
        ),
    ),
    Template(
        key="escalation.raised",
        fields={"work_order_number": FieldKind.TEXT, "control_deadline": FieldKind.DATETIME},
        subject=msg("notification.escalation.raised.subject", "Control deadline missed"),
        text=msg(
            "notification.escalation.raised.text",
            "Work order {work_order_number} is overdue: control deadline "
            "{control_deadline_date} {control_deadline_time}. Coordinator action "
            "needed.",
        ),
    ),
    # SLA escalations for staff: no customer data beyond the order number. ``target`` is the
    # clock (response, arrival, resolution), shown as its code the desk's tools know.
    Template(
        key="escalation.warning",
        fields=_ESCALATION,
        subject=msg("notification.escalation.warning.subject", "Deadline approaching"),
        text=msg(
            "notification.escalation.warning.text",
            "Work order {work_order_number} ({target}): due {due_at_date} "
            "{due_at_time}. Dispatcher action needed.",
        ),
    ),
    Template(
        key="escalation.breach",
        fields=_ESCALATION,
        subject=msg("notification.escalation.breach.subject", "Deadline missed"),
        text=msg(
            "notification.escalation.breach.text",
            "Work order {work_order_number} ({target}): deadline {due_at_date} "
            "{due_at_time} missed. The customer has been sent an apology. "
            "Coordinator action needed.",
        ),
    ),
    Template(
        key="escalation.head",
        fields=_ESCALATION,
        subject=msg(
            "notification.escalation.head.subject",
            "Overdue work order: for the head of unit",
        ),
        text=msg(
            "notification.escalation.head.text",
            "Work order {work_order_number} ({target}): deadline {due_at_date} "
            "{due_at_time} missed and the order is still open. Head of unit action "
            "needed.",
        ),
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
        subject=msg("notification.incident.raised.subject", "Safety incident on site"),
        text=msg(
            "notification.incident.raised.text",
            "Technician {technician} left the site of work order {work_order_number} "
            "for safety reasons ({occurred_at_date} {occurred_at_time}). Call the "
            "technician and acknowledge it on the board.",
        ),
    ),
    # Seed 000 §11: a missed deadline is apologised for, with the new control date.
    Template(
        key="sla.apology",
        fields={"work_order_number": FieldKind.TEXT, "new_date": FieldKind.DATETIME},
        subject=msg("notification.sla.apology.subject", "Our apologies"),
        text=msg(
            "notification.sla.apology.text",
            "We apologise: we did not complete the work on your order "
            "{work_order_number} by the promised time. New control date: "
            "{new_date_date} {new_date_time}. naryad",
        ),
    ),
    # Appeals (seed 001 §6.1): the customer hears the registration number and a status link at
    # once, the answer (a link to the letter) or the refusal with its ground; staff hear of an
    # appeal's deadline as they hear of an order's. Staff texts carry the number only.
    Template(
        key="appeal.registered",
        fields={
            "appeal_number": FieldKind.TEXT,
            "due_at": FieldKind.DATETIME,
            "status_url": FieldKind.URL,
        },
        subject=msg("notification.appeal.registered.subject", "Your appeal is registered"),
        text=msg(
            "notification.appeal.registered.text",
            "Your appeal {appeal_number} is registered. Answer by {due_at_last_day}. "
            "Status: {status_url} naryad",
        ),
    ),
    Template(
        key="appeal.answered",
        fields={"appeal_number": FieldKind.TEXT, "status_url": FieldKind.URL},
        subject=msg("notification.appeal.answered.subject", "Answer to your appeal"),
        text=msg(
            "notification.appeal.answered.text",
            "The answer to your appeal {appeal_number} is ready: {status_url} naryad",
        ),
    ),
    Template(
        key="appeal.refused",
        fields={"appeal_number": FieldKind.TEXT, "status_url": FieldKind.URL},
        subject=msg("notification.appeal.refused.subject", "Your appeal was not considered"),
        text=msg(
            "notification.appeal.refused.text",
            "Your appeal {appeal_number} cannot be considered. The reason: {status_url} naryad",
        ),
    ),
    Template(
        key="appeal.outside_competence",
        fields={"appeal_number": FieldKind.TEXT, "status_url": FieldKind.URL},
        subject=msg(
            "notification.appeal.outside_competence.subject",
            "Your question is outside our competence",
        ),
        text=msg(
            "notification.appeal.outside_competence.text",
            "The question in your appeal {appeal_number} is outside our company's competence. "
            "Details: {status_url} naryad",
        ),
    ),
    Template(
        key="appeal.escalation",
        fields={
            "appeal_number": FieldKind.TEXT,
            "level": FieldKind.TEXT,
            "due_at": FieldKind.DATETIME,
        },
        subject=msg("notification.appeal.escalation.subject", "Appeal deadline"),
        text=msg(
            "notification.appeal.escalation.text",
            "Appeal {appeal_number} ({level}): answer due {due_at_date} {due_at_time}. "
            "Action needed.",
        ),
    ),
    # Seed 000 §9: the feedback call after a connection, in the customer's working hours.
    Template(
        key="feedback.call_requested",
        fields={"work_order_number": FieldKind.TEXT},
        subject=msg("notification.feedback.call_requested.subject", "Feedback call"),
        text=msg(
            "notification.feedback.call_requested.text",
            "Call the customer for feedback on work order {work_order_number}.",
        ),
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


def _format_date(day: date, language: Language) -> str:
    # A local date, not a moment: Babel must not move it to another zone.
    return format_date(day, _DATE_PATTERNS[language], locale=language)


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
            values[f"{name}_date"] = _format_date(local.date(), language)
            values[f"{name}_time"] = local.strftime("%H:%M")
            values[f"{name}_last_day"] = _format_date(last_local_day(local, zone), language)
        else:
            values[name] = str(checked[name])
    return Rendered(
        subject=in_language(template.subject, language).format_map(values),
        text=in_language(template.text, language).format_map(values),
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
