"""Texts of the schedule board, the map and the lateness inbox.

English here; Russian and Kazakh in the naryad gettext catalogs (Kazakh awaits a native
speaker's review). Templates get them as ``dt``.
"""

from __future__ import annotations

from service.common.i18n import (
    LANGUAGES,
    Language,
    Message,
    Plural,
    msg,
    nmsg,
    text_in_language,
)

TEXTS: dict[str, Message | Plural] = {
    "subnav_label": msg("staff.schedule.subnav_label", "Dispatch"),
    "schedule_title": msg("staff.schedule.schedule_title", "Technicians' schedule"),
    "map_title": msg("staff.schedule.map_title", "Territory map"),
    "lateness_title": msg("staff.schedule.lateness_title", "Today's late visits"),
    "territory": msg("staff.schedule.territory", "Territory"),
    "day": msg("staff.schedule.day", "Day"),
    "view_day": msg("staff.schedule.view_day", "Day"),
    "view_week": msg("staff.schedule.view_week", "Week"),
    "show": msg("staff.schedule.show", "Show"),
    "previous_day": msg("staff.schedule.previous_day", "Previous day"),
    "next_day": msg("staff.schedule.next_day", "Next day"),
    "previous_week": msg("staff.schedule.previous_week", "Previous week"),
    "next_week": msg("staff.schedule.next_week", "Next week"),
    "today": msg("staff.schedule.today", "Today"),
    "times_in": msg("staff.schedule.times_in", "Times in {zone}"),
    "technician": msg("staff.schedule.technician", "Technician"),
    "no_technicians": msg(
        "staff.schedule.no_technicians", "This territory has no active technicians."
    ),
    "legend": msg("staff.schedule.legend", "Legend"),
    "legend_shift": msg("staff.schedule.legend_shift", "shift"),
    "legend_absence": msg("staff.schedule.legend_absence", "absence"),
    "legend_window": msg("staff.schedule.legend_window", "agreed window"),
    "legend_travel": msg("staff.schedule.legend_travel", "travel"),
    "legend_work": msg("staff.schedule.legend_work", "work (planned)"),
    "legend_late": msg("staff.schedule.legend_late", "late"),
    "window": msg("staff.schedule.window", "Window"),
    "planned_arrival": msg("staff.schedule.planned_arrival", "Arrival"),
    "travel_minutes": msg("staff.schedule.travel_minutes", "{minutes} min travel"),
    "late": msg("staff.schedule.late", "late"),
    "busy_elsewhere": msg("staff.schedule.busy_elsewhere", "busy (other territory)"),
    "visits_count": nmsg("staff.schedule.visits_count", "{count} visit", "{count} visits", "count"),
    "late_count": msg("staff.schedule.late_count", "{count} late"),
    "live": msg("staff.schedule.live", "Phone statuses refresh by themselves."),
    "status_planned": msg("staff.schedule.status_planned", "planned"),
    "status_en_route": msg("staff.schedule.status_en_route", "en route"),
    "status_on_site": msg("staff.schedule.status_on_site", "on site"),
    "status_completed": msg("staff.schedule.status_completed", "done"),
    "status_no_access": msg("staff.schedule.status_no_access", "no access"),
    "status_waiting_for_adult": msg(
        "staff.schedule.status_waiting_for_adult", "waiting for an adult"
    ),
    "status_aborted_safety": msg("staff.schedule.status_aborted_safety", "aborted (safety)"),
    "status_needs_revisit": msg("staff.schedule.status_needs_revisit", "needs revisit"),
    "status_customer_refused_to_sign": msg(
        "staff.schedule.status_customer_refused_to_sign", "refused to sign"
    ),
    "map_hint": msg(
        "staff.schedule.map_hint",
        "Territory outlines, the day's visit sites and technicians' last known positions.",
    ),
    "map_no_tiles": msg(
        "staff.schedule.map_no_tiles", "No map tiles configured: outlines and points only."
    ),
    "map_sites": msg("staff.schedule.map_sites", "Visit sites"),
    "map_positions": msg("staff.schedule.map_positions", "Technicians (last position)"),
    "map_no_position": msg("staff.schedule.map_no_position", "no position known"),
    "map_position_at": msg("staff.schedule.map_position_at", "at {time}"),
    "lateness_hint": msg(
        "staff.schedule.lateness_hint",
        "Visits predicted late today. Call the customer, or give the visit to another technician.",
    ),
    "lateness_empty": msg("staff.schedule.lateness_empty", "No late visits today."),
    "open_alerts": msg("staff.schedule.open_alerts", "{count} waiting"),
    "order": msg("staff.schedule.order", "Order"),
    "customer": msg("staff.schedule.customer", "Customer"),
    "phone": msg("staff.schedule.phone", "Phone"),
    "raised_at": msg("staff.schedule.raised_at", "Alert"),
    "predicted_arrival": msg("staff.schedule.predicted_arrival", "Predicted arrival"),
    "minutes_late": msg("staff.schedule.minutes_late", "{minutes} min after the window"),
    "actions": msg("staff.schedule.actions", "Actions"),
    "customer_informed": msg("staff.schedule.customer_informed", "Customer informed"),
    "informed_at": msg("staff.schedule.informed_at", "Informed at {time}"),
    "reassign": msg("staff.schedule.reassign", "Reassign"),
    "not_reassignable": msg("staff.schedule.not_reassignable", "technician already set out"),
    "notice_informed": msg(
        "staff.schedule.notice_informed", "Recorded: the customer was informed."
    ),
    "notice_already_informed": msg(
        "staff.schedule.notice_already_informed", "This was already recorded."
    ),
    "notice_reassigned": msg("staff.schedule.notice_reassigned", "The visit now goes to {name}."),
    "error_no_candidate": msg(
        "staff.schedule.error_no_candidate",
        "No technician is free for this window. Reschedule it with the customer.",
    ),
    "error_not_late": msg("staff.schedule.error_not_late", "This visit has no lateness alert."),
    "bad_query": msg(
        "staff.schedule.bad_query", "A parameter of the address is not valid: {name}."
    ),
    "error_changed": msg(
        "staff.schedule.error_changed",
        "The visit changed while the page was open. Check and try again.",
    ),
}


def dispatch_texts(language: Language) -> dict[str, str]:
    """Every text of these pages in ``language`` (templates get them as ``dt``)."""
    chosen: Language = language if language in LANGUAGES else "ru"
    return {key: text_in_language(entry, chosen) for key, entry in TEXTS.items()}
