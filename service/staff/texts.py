"""Every text of the staff pages (layout, sign-in, dispatch), and their formatting.

English here; Russian and Kazakh in the naryad gettext catalogs (``service/locale``, `make
i18n`), where Kazakh entries carry "needs native review" until a native speaker has read them
(the DOMAIN.md glossary is followed where it has a term).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from service.common.i18n import (
    LANGUAGES,
    Language,
    Message,
    Plural,
    msg,
    nmsg,
    text_in_language,
)

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "Language", "all_texts", "text"]

LANGUAGE_NAMES: dict[Language, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

# Staff labels by key, in English; their Russian and Kazakh are in the naryad catalogs.
TEXTS: dict[str, Message | Plural] = {
    "brand": msg("staff.brand", "Naryad"),
    "nav_label": msg("staff.nav_label", "Sections"),
    "nav_dispatch": msg("staff.nav_dispatch", "Dispatch"),
    "nav_coordinate": msg("staff.nav_coordinate", "Overdue desk"),
    "nav_appeals": msg("staff.nav_appeals", "Appeals"),
    "nav_board": msg("staff.nav_board", "Coordinator board"),
    "language": msg("staff.language", "Language"),
    "signed_in_as": msg("staff.signed_in_as", "Signed in as"),
    "sign_out": msg("staff.sign_out", "Sign out"),
    "skip_to_content": msg("staff.skip_to_content", "Skip to content"),
    "login_title": msg("staff.login_title", "Staff sign-in"),
    "login_hint": msg(
        "staff.login_hint",
        "Sign in with a dispatcher, coordinator, supervisor or administrator account.",
    ),
    "username": msg("staff.username", "Username"),
    "password": msg("staff.password", "Password"),
    "sign_in": msg("staff.sign_in", "Sign in"),
    "wrong_credentials": msg("staff.wrong_credentials", "Wrong username or password."),
    "role_refused": msg(
        "staff.role_refused",
        "Staff pages are for dispatchers, coordinators, supervisors and administrators only.",
    ),
    "too_many_attempts": msg(
        "staff.too_many_attempts", "Too many failed sign-in attempts. Wait a little and try again."
    ),
    "form_expired": msg(
        "staff.form_expired", "This form has expired. Reload the page and try again."
    ),
    "session_expired": msg(
        "staff.session_expired",
        "Your session has expired. Sign in again; what you typed was not saved.",
    ),
    "login_form_expired": msg(
        "staff.login_form_expired",
        "The sign-in form was open too long. Sign in again; you will go on to the page you wanted.",
    ),
    "session_ended": msg(
        "staff.session_ended",
        "Your session has expired. Sign in again to return to the page you were on.",
    ),
    "forbidden_title": msg("staff.forbidden_title", "Request refused"),
    "not_for_role_title": msg("staff.not_for_role_title", "Not for your role"),
    "not_for_role": msg(
        "staff.not_for_role", "This section is for other roles. Go to your own section."
    ),
    "not_found_title": msg("staff.not_found_title", "Not found"),
    "not_found": msg(
        "staff.not_found", "There is no such record, or it is outside your territories."
    ),
    "to_my_home": msg("staff.to_my_home", "Go to my section"),
    "technician_refused": msg(
        "staff.technician_refused",
        "Technicians work in the mobile app; staff pages are not available to them.",
    ),
    "date_placeholder": msg("staff.date_placeholder", "yyyy-mm-dd"),
    "err.date": msg("staff.err.date", "Type the date as yyyy-mm-dd."),
    "time_zone": msg("staff.time_zone", "Time zone"),
    "dispatch_title": msg("staff.dispatch_title", "Dispatch"),
    "queue_title": msg("staff.queue_title", "Unscheduled orders"),
    "queue_hint": msg(
        "staff.queue_hint", "New, on hold, no access and needs revisit, by control deadline."
    ),
    "search": msg("staff.search", "Search"),
    "search_hint": msg("staff.search_hint", "Phone, customer name, order number or address"),
    "filter_type": msg("staff.filter_type", "Work type"),
    "filter_priority": msg("staff.filter_priority", "Priority"),
    "filter_territory": msg("staff.filter_territory", "Territory"),
    "filter_skill": msg("staff.filter_skill", "Skill"),
    "all": msg("staff.all", "All"),
    "apply": msg("staff.apply", "Apply"),
    "reset": msg("staff.reset", "Reset"),
    "next_page": msg("staff.next_page", "Next"),
    "first_page": msg("staff.first_page", "First page"),
    "col_order": msg("staff.col_order", "Order"),
    "col_customer": msg("staff.col_customer", "Customer"),
    "col_address": msg("staff.col_address", "Address"),
    "col_deadline": msg("staff.col_deadline", "Control deadline"),
    "col_waiting": msg("staff.col_waiting", "Why waiting"),
    "no_deadline": msg("staff.no_deadline", "no deadline"),
    "left": msg("staff.left", "{span} left"),
    "overdue_by": msg("staff.overdue_by", "overdue by {span}"),
    "queue_empty": msg("staff.queue_empty", "The queue is empty."),
    "new_customer": msg("staff.new_customer", "New customer"),
    "times_in": msg("staff.times_in", "Times in {zone}"),
    "waiting.new": msg("staff.waiting.new", "New"),
    "waiting.on_hold": msg("staff.waiting.on_hold", "On hold"),
    "waiting.no_access": msg("staff.waiting.no_access", "No access"),
    "waiting.needs_revisit": msg("staff.waiting.needs_revisit", "Needs revisit"),
    "waiting.other": msg("staff.waiting.other", "No visit"),
    "type.installation": msg("staff.type.installation", "Installation"),
    "type.repair": msg("staff.type.repair", "Repair"),
    "type.construction": msg("staff.type.construction", "Construction"),
    "type.meter_check": msg("staff.type.meter_check", "Meter check"),
    "priority.low": msg("staff.priority.low", "Low"),
    "priority.normal": msg("staff.priority.normal", "Normal"),
    "priority.high": msg("staff.priority.high", "High"),
    "priority.urgent": msg("staff.priority.urgent", "Urgent"),
    "status.new": msg("staff.status.new", "New"),
    "status.scheduled": msg("staff.status.scheduled", "Scheduled"),
    "status.in_progress": msg("staff.status.in_progress", "In progress"),
    "status.completed": msg("staff.status.completed", "Completed"),
    "status.closed": msg("staff.status.closed", "Closed"),
    "status.cancelled": msg("staff.status.cancelled", "Cancelled"),
    "status.on_hold": msg("staff.status.on_hold", "On hold"),
    "back_to_queue": msg("staff.back_to_queue", "← Back to the queue"),
    "back_to_desk": msg("staff.back_to_desk", "← Back to the overdue desk"),
    "order": msg("staff.order", "Order"),
    "status": msg("staff.status", "Status"),
    "description": msg("staff.description", "Description"),
    "customer": msg("staff.customer", "Customer"),
    "call": msg("staff.call", "Call"),
    "site": msg("staff.site", "Site"),
    "coordinates": msg("staff.coordinates", "Coordinates"),
    "access_notes": msg("staff.access_notes", "Access"),
    "edit": msg("staff.edit", "Edit"),
    "visits": msg("staff.visits", "Visits"),
    "no_visits": msg("staff.no_visits", "No visits yet."),
    "window": msg("staff.window", "Window"),
    "technician": msg("staff.technician", "Technician"),
    "agreed": msg("staff.agreed", "Agreed"),
    "timeline": msg("staff.timeline", "Timeline"),
    "clocks": msg("staff.clocks", "SLA clocks"),
    "clock_due": msg("staff.clock_due", "due {due}"),
    "clock_paused": msg("staff.clock_paused", "paused"),
    "acts": msg("staff.acts", "Acts"),
    "pdf": msg("staff.pdf", "PDF"),
    "photos": msg("staff.photos", "Photos"),
    "photo_alt": msg("staff.photo_alt", "Visit photo {n}"),
    "rating": msg("staff.rating", "Customer rating"),
    "register_appeal": msg("staff.register_appeal", "Register a complaint or question"),
    "order_appeals": msg("staff.order_appeals", "Appeals about this order"),
    "none": msg("staff.none", "none"),
    "clock.running": msg("staff.clock.running", "running"),
    "clock.warning": msg("staff.clock.warning", "due soon"),
    "clock.paused": msg("staff.clock.paused", "paused"),
    "clock.met": msg("staff.clock.met", "met"),
    "clock.breached": msg("staff.clock.breached", "breached"),
    "clock.cancelled": msg("staff.clock.cancelled", "cancelled"),
    "book_title": msg("staff.book_title", "Book a visit"),
    "offers_for": msg("staff.offers_for", "Windows from"),
    "show_offers": msg("staff.show_offers", "Show windows"),
    "no_offers": msg("staff.no_offers", "No free windows. Choose another date."),
    "travel": msg("staff.travel", "{m} min travel"),
    # A number in it: the form follows the number (1 visit, 2 визита, 5 визитов).
    "load": nmsg("staff.load", "{n} visit that day", "{n} visits that day"),
    "arrival": msg("staff.arrival", "arrives {t}"),
    "agreed_with": msg("staff.agreed_with", "Agreed with (customer's name)"),
    "channel": msg("staff.channel", "How it was agreed"),
    "channel.phone": msg("staff.channel.phone", "Phone call"),
    "channel.sms": msg("staff.channel.sms", "SMS"),
    "channel.in_person": msg("staff.channel.in_person", "In person"),
    "channel.portal": msg("staff.channel.portal", "Portal"),
    "book": msg("staff.book", "Book"),
    "booked": msg("staff.booked", "The visit is booked."),
    "just_taken": msg("staff.just_taken", "That window was just taken. Here are fresh offers."),
    "choose_slot": msg("staff.choose_slot", "Choose a window and a technician."),
    "best_offers": msg("staff.best_offers", "Each technician's best window"),
    "more_windows": msg("staff.more_windows", "Other windows, by time ({n})"),
    "reschedule": msg("staff.reschedule", "Reschedule"),
    "reschedule_title": msg("staff.reschedule_title", "Reschedule the visit"),
    "rescheduled": msg("staff.rescheduled", "The visit is rescheduled."),
    "reassign": msg("staff.reassign", "Reassign"),
    "reassign_title": msg("staff.reassign_title", "Reassign the visit"),
    "reassigned": msg("staff.reassigned", "The visit is reassigned."),
    "best_candidate": msg("staff.best_candidate", "Best free technician"),
    "cancel_visit": msg("staff.cancel_visit", "Cancel the visit"),
    "visit_cancelled": msg("staff.visit_cancelled", "The visit is cancelled."),
    "cancel_order": msg("staff.cancel_order", "Cancel the order"),
    "order_cancelled": msg("staff.order_cancelled", "The order is cancelled."),
    "reason": msg("staff.reason", "Reason"),
    "choose": msg("staff.choose", "— choose —"),
    "note": msg("staff.note", "Note"),
    "new_date": msg("staff.new_date", "New date"),
    "reason.customer_request": msg("staff.reason.customer_request", "Customer's request"),
    "reason.technician_unavailable": msg(
        "staff.reason.technician_unavailable", "Technician unavailable"
    ),
    "reason.waiting_for_parts": msg("staff.reason.waiting_for_parts", "Waiting for parts"),
    "reason.no_access": msg("staff.reason.no_access", "No access"),
    "reason.weather": msg("staff.reason.weather", "Weather"),
    "reason.dispatch_error": msg("staff.reason.dispatch_error", "Dispatch error"),
    "reason.other": msg("staff.reason.other", "Other"),
    "reason.conflict_of_interest": msg("staff.reason.conflict_of_interest", "Conflict of interest"),
    "reason.skills": msg("staff.reason.skills", "Other skills needed"),
    "reason.workload": msg("staff.reason.workload", "Workload"),
    "err.required": msg("staff.err.required", "Fill in this field."),
    "err.reason_required": msg("staff.err.reason_required", "Give a reason."),
    "err.agreement_required": msg("staff.err.agreement_required", "Say who agreed, and how."),
    "err.stale": msg(
        "staff.err.stale",
        "The order changed while you were working. Check the new data; what you typed is kept.",
    ),
    "err.refused": msg("staff.err.refused", "Not done: {detail}"),
    "err.phone": msg("staff.err.phone", "Phone as +77011234567 (with the country code)."),
    "err.invalid": msg("staff.err.invalid", "Check this value."),
    "err.latlon": msg("staff.err.latlon", "Latitude −90 to 90, longitude −180 to 180."),
    "err.form": msg("staff.err.form", "Correct the marked fields."),
    "not_allowed_action": msg("staff.not_allowed_action", "Your role may not do this."),
    "target.response": msg("staff.target.response", "Response"),
    "target.arrival": msg("staff.target.arrival", "Arrival"),
    "target.resolution": msg("staff.target.resolution", "Resolution"),
    "clock_steps": msg("staff.clock_steps", "How it is counted"),
    "phone": msg("staff.phone", "Phone"),
    "event.work_order.created": msg("staff.event.work_order.created", "Order created"),
    "event.work_order.updated": msg("staff.event.work_order.updated", "Order changed"),
    "event.work_order.cancelled": msg("staff.event.work_order.cancelled", "Order cancelled"),
    "event.work_order.waiting_for_parts": msg(
        "staff.event.work_order.waiting_for_parts", "Waiting for parts"
    ),
    "event.work_order.resumed": msg("staff.event.work_order.resumed", "Work resumed"),
    "event.work_order.owner_changed": msg("staff.event.work_order.owner_changed", "Owner changed"),
    "event.work_order.escalated": msg("staff.event.work_order.escalated", "Escalated by hand"),
    "event.visit.booked": msg("staff.event.visit.booked", "Visit booked"),
    "event.visit.rescheduled": msg("staff.event.visit.rescheduled", "Visit rescheduled"),
    "event.visit.reassigned": msg("staff.event.visit.reassigned", "Visit reassigned"),
    "event.visit.cancelled": msg("staff.event.visit.cancelled", "Visit cancelled"),
    "event.visit.en_route": msg("staff.event.visit.en_route", "Technician en route"),
    "event.visit.arrived": msg("staff.event.visit.arrived", "Technician on site"),
    "event.visit.completed": msg("staff.event.visit.completed", "Visit completed"),
    "event.visit.no_access": msg("staff.event.visit.no_access", "No access"),
    "event.visit.needs_revisit": msg("staff.event.visit.needs_revisit", "Revisit needed"),
    "event.customer.contacted": msg("staff.event.customer.contacted", "Customer contacted"),
    "event.customer.notified": msg("staff.event.customer.notified", "Customer notified"),
    "visit.planned": msg("staff.visit.planned", "Planned"),
    "visit.en_route": msg("staff.visit.en_route", "En route"),
    "visit.on_site": msg("staff.visit.on_site", "On site"),
    "visit.completed": msg("staff.visit.completed", "Completed"),
    "visit.no_access": msg("staff.visit.no_access", "No access"),
    "visit.waiting_for_adult": msg("staff.visit.waiting_for_adult", "Waiting for an adult"),
    "visit.aborted_safety": msg("staff.visit.aborted_safety", "Aborted (safety)"),
    "visit.needs_revisit": msg("staff.visit.needs_revisit", "Needs revisit"),
    "visit.customer_refused_to_sign": msg(
        "staff.visit.customer_refused_to_sign", "Customer refused to sign"
    ),
    "visit.cancelled": msg("staff.visit.cancelled", "Cancelled"),
    "customer_title": msg("staff.customer_title", "Customer"),
    "full_name": msg("staff.full_name", "Full name or company"),
    "phones": msg("staff.phones", "Phones (comma-separated)"),
    "preferred_language": msg("staff.preferred_language", "Preferred language"),
    "notes": msg("staff.notes", "Notes"),
    "save": msg("staff.save", "Save"),
    "saved": msg("staff.saved", "Saved."),
    "sites": msg("staff.sites", "Sites"),
    "new_site": msg("staff.new_site", "New site"),
    "address": msg("staff.address", "Address"),
    "map_pick": msg(
        "staff.map_pick", "Map of the site: click to place it, drag the marker to move it"
    ),
    "latitude": msg("staff.latitude", "Latitude"),
    "longitude": msg("staff.longitude", "Longitude"),
    "map_hint": msg("staff.map_hint", "Pick the coordinates on the map or type them in."),
}


def text(key: str, language: Language, **values: object) -> str:
    """One text in ``language``, with ``{name}`` placeholders filled from ``values``."""
    template = text_in_language(TEXTS[key], language)
    return template.format(**values) if values else template


def all_texts(language: Language) -> dict[str, str]:
    """Every text in ``language`` (templates look texts up by key)."""
    return {key: text_in_language(entry, language) for key, entry in TEXTS.items()}


def format_local(value: datetime, zone_key: str) -> str:
    """A time in a territory's zone as ``dd.mm.yyyy HH:MM``, the zone named after it."""
    local = value.astimezone(ZoneInfo(zone_key))
    return f"{local:%d.%m.%Y %H:%M} ({zone_key})"


def format_window(start: datetime, end: datetime, zone_key: str) -> str:
    """A window in a territory's zone: ``dd.mm.yyyy HH:MM–HH:MM (zone)``."""
    zone = ZoneInfo(zone_key)
    a, b = start.astimezone(zone), end.astimezone(zone)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%d.%m.%Y %H:%M}"
    return f"{a:%d.%m.%Y %H:%M}–{tail} ({zone_key})"


def format_span(minutes: int, language: Language) -> str:
    """A duration as days, hours and minutes (``1 д 4 ч``, ``35 мин``)."""
    units = {"ru": ("д", "ч", "мин"), "kk": ("к", "сағ", "мин"), "en": ("d", "h", "min")}[language]
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} {units[0]}"] if days else []
    if hours:
        parts.append(f"{hours} {units[1]}")
    if not days and (mins or not hours):
        parts.append(f"{mins} {units[2]}")
    return " ".join(parts)


# Dates people type and read: the Russian and Kazakh way (05.12.2026) in ru and kk, and the
# unambiguous ISO form in English (a browser's own date input follows the browser's locale,
# not the page's, so the pages use a text field in these patterns).
_INPUT_DATE = {"ru": "dd.MM.y", "kk": "dd.MM.y", "en": "y-MM-dd"}
# Week columns: weekday and day of month (вт, 8 дек. / сс, 8 жел. / Tue, 8 Dec).
_SHORT_DAY = {"ru": "EEE, d MMM", "kk": "EEE, d MMM", "en": "EEE, d MMM"}
# Beside a date field: the whole date with its weekday, so a mistyped day shows at once.
_LONG_DAY = {"ru": "EEEE, d MMMM y", "kk": "y 'ж'. d MMMM, EEEE", "en": "EEEE, d MMMM y"}


def input_date(value: date | None, language: Language) -> str:
    """A date as the page's date field shows it (empty for none)."""
    return "" if value is None else format_date(value, _INPUT_DATE[language], locale=language)


def short_day(value: date, language: Language) -> str:
    """Weekday and day of the month, the heading of a day column."""
    return format_date(value, _SHORT_DAY[language], locale=language)


def long_day(value: date, language: Language) -> str:
    """The date with the weekday and month named in ``language``."""
    return format_date(value, _LONG_DAY[language], locale=language)


def parse_date(value: str) -> date:
    """A typed date: ``dd.mm.yyyy`` (or ``/``, ``-`` between), or ISO ``yyyy-mm-dd``.

    Raises ``ValueError`` for anything else, including days that do not exist.
    """
    text_value = value.strip()
    if len(text_value) > 10:
        raise ValueError(f"not a date: {value!r}")
    parts = re.split(r"[./-]", text_value)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date: {value!r}")
    if len(parts[0]) == 4:
        year, month, day = (int(p) for p in parts)
    elif len(parts[2]) == 4:
        day, month, year = (int(p) for p in parts)
    else:
        raise ValueError(f"not a date: {value!r}")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc
