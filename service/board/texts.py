"""The coordinator board's texts (English here, Russian and Kazakh in the naryad catalogs)
and language-aware formatting through Babel.

Kazakh strings await a native speaker's review (the DOMAIN.md glossary is followed where it
has a term): the catalog marks each with "needs native review", and "NATIVE REVIEW" notes
there mark the wordings we are least sure of.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal

from service.common.i18n import (
    LANGUAGES,
    Message,
    Plural,
    msg,
    nmsg,
    pick_language,
    text_in_language,
)
from service.common.i18n import Language as BoardLanguage

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "BoardLanguage", "pick_language"]

LANGUAGE_NAMES: dict[BoardLanguage, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

# Board labels by key, in English; their Russian and Kazakh are in the naryad catalogs.
TEXTS: dict[str, Message | Plural] = {
    "brand": msg("board.brand", "Naryad"),
    "board": msg("board.board", "Coordinator board"),
    "login_title": msg("board.login_title", "Coordinator sign-in"),
    "login_hint": msg(
        "board.login_hint",
        "Sign in with a coordinator, dispatcher or supervisor account.",
    ),
    "username": msg("board.username", "Username"),
    "password": msg("board.password", "Password"),
    "language": msg("board.language", "Language"),
    "sign_in": msg("board.sign_in", "Sign in"),
    "sign_out": msg("board.sign_out", "Sign out"),
    "wrong_credentials": msg("board.wrong_credentials", "Wrong username or password."),
    "role_refused": msg(
        "board.role_refused",
        "The board is for coordinators, dispatchers, supervisors and administrators only.",
    ),
    "too_many_attempts": msg(
        "board.too_many_attempts",
        "Too many failed sign-in attempts. Wait a little and try again.",
    ),
    "form_expired": msg(
        "board.form_expired", "This form has expired. Reload the page and try again."
    ),
    "forbidden_title": msg("board.forbidden_title", "Request refused"),
    "calendar_year_missing": msg(
        "board.calendar_year_missing",
        "No holiday calendar for {year} ({codes}): SLA deadlines count every "
        "weekday as working. Run “naryad calendar refresh” or enter the holidays "
        "by hand.",
    ),
    "back_to_board": msg("board.back_to_board", "Back to the board"),
    "as_of": msg("board.as_of", "As of"),
    "auto_refresh": msg("board.auto_refresh", "Refreshes every minute"),
    "refresh_now": msg("board.refresh_now", "Refresh"),
    "signed_in_as": msg("board.signed_in_as", "Signed in as"),
    # -- buckets
    "buckets_title": msg("board.buckets_title", "Control deadlines"),
    "bucket.due_2h": msg("board.bucket.due_2h", "Due within 2 h"),
    "bucket.overdue_0_4h": msg("board.bucket.overdue_0_4h", "Overdue 0–4 h"),
    "bucket.overdue_4_24h": msg("board.bucket.overdue_4_24h", "Overdue 4–24 h"),
    "bucket.overdue_1_3d": msg("board.bucket.overdue_1_3d", "Overdue 1–3 days"),
    "bucket.overdue_3d_plus": msg("board.bucket.overdue_3d_plus", "Overdue over 3 days"),
    "total": msg("board.total", "Total"),
    "show_bucket": msg("board.show_bucket", "Show only these"),
    # -- KPIs
    "kpis_title": msg("board.kpis_title", "Figures for {month}"),
    "figures_as_of": msg("board.figures_as_of", "Figures as of {time}"),
    "counts_as_of": msg("board.counts_as_of", "Counts as of {time}"),
    "kpi.on_time": msg("board.kpi.on_time", "On-time arrival"),
    "kpi.on_time_base": nmsg(
        "board.kpi.on_time_base", "{part} of {whole} arrival", "{part} of {whole} arrivals", "whole"
    ),
    "kpi.first_visit": msg("board.kpi.first_visit", "First-visit resolution"),
    "kpi.first_visit_base": msg("board.kpi.first_visit_base", "{part} of {whole} completed"),
    "kpi.no_access": msg("board.kpi.no_access", "No-access rate"),
    "kpi.no_access_base": nmsg(
        "board.kpi.no_access_base", "{part} of {whole} visit", "{part} of {whole} visits", "whole"
    ),
    "kpi.deadlines": msg("board.kpi.deadlines", "Deadline compliance"),
    "kpi.deadlines_base": nmsg(
        "board.kpi.deadlines_base",
        "{part} of {whole} control deadline met",
        "{part} of {whole} control deadlines met",
        "whole",
    ),
    "kpi.rating": msg("board.kpi.rating", "Average rating"),
    "kpi.rating_base": nmsg("board.kpi.rating_base", "{whole} rating", "{whole} ratings", "whole"),
    "kpi.overdue": msg("board.kpi.overdue", "Overdue share"),
    "kpi.overdue_base": nmsg(
        "board.kpi.overdue_base",
        "{part} of {whole} open order",
        "{part} of {whole} open orders",
        "whole",
    ),
    "no_data": msg("board.no_data", "no data"),
    "appeal_kpis_title": msg("board.appeal_kpis_title", "Appeals and complaints"),
    "kpi.appeals": msg("board.kpi.appeals", "Appeals registered"),
    "kpi.appeals_base": nmsg(
        "board.kpi.appeals_base", "{part} of them a complaint", "{part} of them complaints", "part"
    ),
    "kpi.appeals_on_time": msg("board.kpi.appeals_on_time", "Answered on time"),
    "kpi.appeals_on_time_base": nmsg(
        "board.kpi.appeals_on_time_base",
        "{part} of {whole} due this month",
        "{part} of {whole} due this month",
        "whole",
    ),
    "kpi.appeals_none_due": msg("board.kpi.appeals_none_due", "no answer was due"),
    "kpi.appeals_overdue": msg("board.kpi.appeals_overdue", "Appeals overdue"),
    "kpi.appeals_overdue_base": msg(
        "board.kpi.appeals_overdue_base", "open past the answer deadline now"
    ),
    "kpi.appeals_repeat": msg("board.kpi.appeals_repeat", "Repeat complaints"),
    "kpi.appeals_repeat_base": nmsg(
        "board.kpi.appeals_repeat_base", "of {whole} complaint", "of {whole} complaints", "whole"
    ),
    "top_reasons": msg("board.top_reasons", "Most frequent complaint reasons"),
    "no_reasons": msg("board.no_reasons", "No complaint of this month has a reason recorded yet."),
    "analysis_link": msg("board.analysis_link", "Analysis of complaints"),
    # -- filters and list
    "overdue_title": msg("board.overdue_title", "Overdue and due-soon orders"),
    "filters": msg("board.filters", "Filters"),
    "territory": msg("board.territory", "Territory"),
    "type": msg("board.type", "Work type"),
    "priority": msg("board.priority", "Priority"),
    "bucket": msg("board.bucket", "Deadline bucket"),
    "technician": msg("board.technician", "Technician"),
    "any": msg("board.any", "Any"),
    "apply": msg("board.apply", "Apply"),
    "reset": msg("board.reset", "Reset"),
    "next_page": msg("board.next_page", "Next page"),
    "first_page": msg("board.first_page", "Back to the first page"),
    "nothing_overdue": msg("board.nothing_overdue", "Nothing is overdue or due soon."),
    "col.number": msg("board.col.number", "Order"),
    "col.territory": msg("board.col.territory", "Territory"),
    "col.type": msg("board.col.type", "Type · priority"),
    "col.deadline": msg("board.col.deadline", "Control deadline"),
    "col.reason": msg("board.col.reason", "Reason"),
    "col.last_event": msg("board.col.last_event", "Last event"),
    "col.owner": msg("board.col.owner", "Owner"),
    "col.technician": msg("board.col.technician", "Technician"),
    "col.contacts": msg("board.col.contacts", "Customer contacts"),
    "overdue_by": msg("board.overdue_by", "{span} overdue"),
    "due_in": msg("board.due_in", "due in {span}"),
    "hours_minutes": msg("board.hours_minutes", "{h} h {m} min"),
    "minutes": msg("board.minutes", "{m} min"),
    "days_hours": msg("board.days_hours", "{d} d {h} h"),
    "not_assigned": msg("board.not_assigned", "not assigned"),
    "local_time_note": msg("board.local_time_note", "Times are the territory's local time."),
    "zone_many": msg(
        "board.zone_many",
        "Territories span several time zones: each time names its zone.",
    ),
    # -- safety incidents (004 §5.4.10.5)
    "incidents_title": msg("board.incidents_title", "Safety incidents: a technician left the site"),
    "incident.safety": msg("board.incident.safety", "Safety threat"),
    "incident_pending": msg("board.incident_pending", "Not acknowledged"),
    "incident_done": msg("board.incident_done", "Acknowledged"),
    "incident_at": msg("board.incident_at", "When"),
    "incident_technician": msg("board.incident_technician", "Technician"),
    "incident_reason": msg("board.incident_reason", "Technician's words"),
    "incident_told": msg("board.incident_told", "Told"),
    "told.supervisor": msg("board.told.supervisor", "supervisors"),
    "told.security": msg("board.told.security", "security desk"),
    "incident_acknowledged_by": msg("board.incident_acknowledged_by", "Acknowledged"),
    "incident_comment_hint": msg(
        "board.incident_comment_hint",
        "What was done: reached the technician, they are safe, next steps",
    ),
    "incident_comment_required": msg(
        "board.incident_comment_required",
        "Write a comment: an incident cannot be acknowledged without one.",
    ),
    "incident_acknowledged": msg("board.incident_acknowledged", "Incident acknowledged."),
    "incident_gone": msg(
        "board.incident_gone",
        "This incident is already acknowledged or no longer available.",
    ),
    # -- escalations
    "escalations_title": msg("board.escalations_title", "Escalations awaiting acknowledgement"),
    "no_escalations": msg("board.no_escalations", "No escalations are waiting."),
    "escalations_unavailable": msg(
        "board.escalations_unavailable", "Escalations are not available yet."
    ),
    "raised_at": msg("board.raised_at", "Raised"),
    "due_at": msg("board.due_at", "Due"),
    "comment": msg("board.comment", "Comment"),
    "comment_hint": msg(
        "board.comment_hint", "What was done: customer called, new date, who is on it"
    ),
    "acknowledge": msg("board.acknowledge", "Acknowledge"),
    "comment_required": msg(
        "board.comment_required",
        "Write a comment: an escalation cannot be acknowledged without one.",
    ),
    "ack_not_yours": msg(
        "board.ack_not_yours",
        "This escalation is addressed to another role; it is theirs to acknowledge.",
    ),
    "ack_theirs": msg("board.ack_theirs", "Addressed to {role}: theirs to acknowledge."),
    "comment_not_saved": msg("board.comment_not_saved", "Your comment was not saved: «{comment}»"),
    "comment_too_long": msg(
        "board.comment_too_long", "The comment is too long: 2000 characters at most."
    ),
    "acknowledged": msg("board.acknowledged", "Escalation acknowledged."),
    "escalation_gone": msg(
        "board.escalation_gone",
        "This escalation is already acknowledged or no longer available.",
    ),
    "level.warning": msg("board.level.warning", "Warning"),
    "level.breach": msg("board.level.breach", "Breach"),
    "level.head": msg("board.level.head", "To the head of unit"),
    "target.response": msg("board.target.response", "Response"),
    "target.arrival": msg("board.target.arrival", "Arrival"),
    "target.resolution": msg("board.target.resolution", "Resolution"),
    "recipient": msg("board.recipient", "To"),
    "role.dispatcher": msg("board.role.dispatcher", "dispatchers"),
    "role.coordinator": msg("board.role.coordinator", "coordinators"),
    "role.supervisor": msg("board.role.supervisor", "supervisors"),
    "new_date": msg("board.new_date", "New customer date"),
    # -- codes
    "type.installation": msg("board.type.installation", "Installation"),
    "type.repair": msg("board.type.repair", "Repair"),
    "type.construction": msg("board.type.construction", "Construction"),
    "type.meter_check": msg("board.type.meter_check", "Meter check"),
    "priority.low": msg("board.priority.low", "Low"),
    "priority.normal": msg("board.priority.normal", "Normal"),
    "priority.high": msg("board.priority.high", "High"),
    "priority.urgent": msg("board.priority.urgent", "Urgent"),
    "reason.customer_request": msg(
        "board.reason.customer_request", "Moved at the customer's request"
    ),
    "reason.no_access": msg("board.reason.no_access", "No access"),
    "reason.waiting_for_parts": msg("board.reason.waiting_for_parts", "Waiting for parts"),
    "reason.on_hold": msg("board.reason.on_hold", "On hold"),
    "reason.not_scheduled": msg("board.reason.not_scheduled", "No visit booked"),
    "reason.visit_missed": msg("board.reason.visit_missed", "Visit window passed, nobody arrived"),
    "reason.visit_after_deadline": msg(
        "board.reason.visit_after_deadline", "Visit booked after the deadline"
    ),
    "reason.in_progress": msg("board.reason.in_progress", "Work in progress"),
    "reason.scheduled": msg("board.reason.scheduled", "Visit booked"),
    "event.work_order.created": msg("board.event.work_order.created", "Order registered"),
    "event.work_order.updated": msg("board.event.work_order.updated", "Order changed"),
    "event.work_order.cancelled": msg("board.event.work_order.cancelled", "Order cancelled"),
    "event.work_order.waiting_for_parts": msg(
        "board.event.work_order.waiting_for_parts", "Waiting for parts"
    ),
    "event.work_order.resumed": msg("board.event.work_order.resumed", "Work resumed"),
    "event.visit.booked": msg("board.event.visit.booked", "Visit agreed"),
    "event.visit.rescheduled": msg("board.event.visit.rescheduled", "Visit rescheduled"),
    "event.visit.reassigned": msg("board.event.visit.reassigned", "Technician changed"),
    "event.visit.cancelled": msg("board.event.visit.cancelled", "Visit cancelled"),
    "event.visit.en_route": msg("board.event.visit.en_route", "Technician on the way"),
    "event.visit.arrived": msg("board.event.visit.arrived", "Technician arrived"),
    "event.visit.completed": msg("board.event.visit.completed", "Work completed"),
    "event.visit.no_access": msg("board.event.visit.no_access", "No access"),
    "event.visit.needs_revisit": msg("board.event.visit.needs_revisit", "Revisit needed"),
    "event.customer.contacted": msg("board.event.customer.contacted", "Customer called"),
    "event.customer.notified": msg("board.event.customer.notified", "Customer notified"),
    "event.escalation.raised": msg("board.event.escalation.raised", "Escalated"),
    "event.escalation.acknowledged": msg(
        "board.event.escalation.acknowledged", "Escalation acknowledged"
    ),
}


def text(key: str, language: BoardLanguage, **values: object) -> str:
    """A board label; unknown codes (a new event kind) fall back to the code itself."""
    entry = TEXTS.get(key)
    if entry is None:
        return key.split(".", 1)[-1]
    value = text_in_language(entry, language)
    return value.format(**values) if values else value


def all_texts(language: BoardLanguage) -> dict[str, str]:
    """Every label in one language (the template looks them up by key)."""
    return {key: text_in_language(entry, language) for key, entry in TEXTS.items()}


# Babel patterns per language: people write "04.12.2026 18:30" in Russian and Kazakh.
_DATETIME = {"ru": "dd.MM.y HH:mm", "kk": "dd.MM.y HH:mm", "en": "d MMM y, HH:mm"}
_SHORT = {"ru": "dd.MM HH:mm", "kk": "dd.MM HH:mm", "en": "d MMM, HH:mm"}
# A month heading uses the stand-alone (nominative) month: "март 2026", not "марта".
# NATIVE REVIEW: "2026 жылғы наурыз" reads as the heading of a month's report.


def format_datetime(value: datetime, language: BoardLanguage) -> str:
    """Wall-clock date and time in the value's own offset, as people write it in each language."""
    # tzinfo dropped: Babel would otherwise convert to its default zone; the value is already
    # in the zone the board shows.
    return babel_datetime(value.replace(tzinfo=None), _DATETIME[language], locale=language)


def format_short(value: datetime, language: BoardLanguage) -> str:
    """Date and time without the year (lists)."""
    return babel_datetime(value.replace(tzinfo=None), _SHORT[language], locale=language)


def format_span(minutes: int, language: BoardLanguage) -> str:
    """A duration rounded to what matters at that size: minutes, hours, days."""
    minutes = abs(minutes)
    if minutes < 60:
        return text("minutes", language, m=minutes)
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return text("hours_minutes", language, h=hours, m=rest)
    days, hours = divmod(hours, 24)
    return text("days_hours", language, d=days, h=hours)


def format_number(value: float | None, language: BoardLanguage, digits: int = 2) -> str:
    """A decimal number with the language's decimal mark and no grouping (1234,50)."""
    if value is None:
        return "—"
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(round(value, digits), pattern, locale=language)
