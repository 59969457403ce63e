"""Texts of the staff appeals pages (/coordinate/appeals), English here; kk and ru in the
naryad gettext catalogs (Kazakh wording awaits a native speaker's review, as elsewhere)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date

from service.common.i18n import Language, Message, in_language, msg
from service.sla.calendar import last_local_day

_TEXTS: dict[str, Message] = {
    "title": msg("appeals_page.title", "Appeals and complaints"),
    "nav": msg("appeals_page.nav", "Appeals"),
    # The whole count the filters find, not the page's rows (a page holds at most 50).
    "count": msg("appeals_page.count", "Appeals: {n}"),
    "state": msg("appeals_page.state", "State"),
    "kind": msg("appeals_page.kind", "Kind"),
    "any": msg("appeals_page.any", "Any"),
    "show": msg("appeals_page.show", "Show"),
    "state.registered": msg("appeals_page.state.registered", "Registered"),
    "state.in_progress": msg("appeals_page.state.in_progress", "Being considered"),
    "state.answered": msg("appeals_page.state.answered", "Answered"),
    "state.refused": msg("appeals_page.state.refused", "Not considered"),
    "kind.question": msg("appeals_page.kind.question", "Question"),
    "kind.request": msg("appeals_page.kind.request", "Request"),
    "kind.complaint": msg("appeals_page.kind.complaint", "Complaint"),
    "kind.quality_claim": msg("appeals_page.kind.quality_claim", "Claim on quality"),
    "channel": msg("appeals_page.channel", "Channel"),
    "channel.phone": msg("appeals_page.channel.phone", "Phone call"),
    "channel.visit": msg("appeals_page.channel.visit", "On a visit"),
    "channel.office": msg("appeals_page.channel.office", "At the office"),
    "channel.letter": msg("appeals_page.channel.letter", "Letter"),
    "channel.web": msg("appeals_page.channel.web", "Web form"),
    "col.number": msg("appeals_page.col.number", "Number"),
    "col.territory": msg("appeals_page.col.territory", "Territory"),
    "col.registered": msg("appeals_page.col.registered", "Registered"),
    "col.due": msg("appeals_page.col.due", "Answer due"),
    "col.owner": msg("appeals_page.col.owner", "Owner"),
    "left": msg("appeals_page.left", "{span} left"),
    # A deadline that is a whole day (the appeal's own, or a measure or request due by the end
    # of a chosen day) names that day, as the customer's pages do.
    "due_day": msg("appeals_page.due_day", "by the end of {day}"),
    "request_due_day": msg("appeals_page.request_due_day", "Answer by the end of {day}"),
    "overdue": msg("appeals_page.overdue", "overdue by {span}"),
    "closed_on_time": msg("appeals_page.closed_on_time", "closed on time"),
    "closed_late": msg("appeals_page.closed_late", "closed late"),
    "times_in": msg("appeals_page.times_in", "Times in each territory's zone: {zones}."),
    "nobody": msg("appeals_page.nobody", "nobody"),
    "new": msg("appeals_page.new", "Register an appeal"),
    "next": msg("appeals_page.next", "Next page"),
    "first": msg("appeals_page.first", "First page"),
    "empty": msg("appeals_page.empty", "No appeals here."),
    "back": msg("appeals_page.back", "All appeals"),
    "author": msg("appeals_page.author", "From"),
    "contacts": msg("appeals_page.contacts", "Contacts"),
    "reply": msg("appeals_page.reply", "Answer by"),
    "reply.sms": msg("appeals_page.reply.sms", "SMS"),
    "reply.email": msg("appeals_page.reply.email", "Email"),
    "language": msg("appeals_page.language", "Customer's language"),
    "text": msg("appeals_page.text", "The appeal"),
    "attachments": msg("appeals_page.attachments", "Attachments"),
    "none": msg("appeals_page.none", "none"),
    "notes": msg("appeals_page.notes", "Internal notes"),
    "note": msg("appeals_page.note", "Note"),
    "add_note": msg("appeals_page.add_note", "Add the note"),
    "decision": msg("appeals_page.decision", "Decision"),
    "decision.justified": msg("appeals_page.decision.justified", "Justified"),
    "decision.partly": msg("appeals_page.decision.partly", "Partly justified"),
    "decision.unjustified": msg("appeals_page.decision.unjustified", "Not justified"),
    "reasons": msg("appeals_page.reasons", "Reasons for the decision"),
    "reason_codes": msg("appeals_page.reason_codes", "Complaint reasons"),
    "decide": msg("appeals_page.decide", "Record the decision"),
    "measures": msg("appeals_page.measures", "Corrective measures"),
    "measure": msg("appeals_page.measure", "Measure"),
    "measure_due": msg("appeals_page.measure_due", "Due date"),
    "add_measure": msg("appeals_page.add_measure", "Add the measure"),
    "refuse": msg("appeals_page.refuse", "Leave unconsidered"),
    "ground": msg("appeals_page.ground", "Ground (only the listed ones)"),
    "ground.abusive": msg("appeals_page.ground.abusive", "Obscene or insulting words, threats"),
    "ground.repeat_without_new_facts": msg(
        "appeals_page.ground.repeat_without_new_facts", "A repeat with no new facts"
    ),
    "ground.protected_secret": msg(
        "appeals_page.ground.protected_secret", "An answer would disclose a protected secret"
    ),
    "ground.unreadable": msg("appeals_page.ground.unreadable", "The text cannot be read"),
    "ground.substance_unclear": msg(
        "appeals_page.ground.substance_unclear", "The substance cannot be made out"
    ),
    "refusal_note": msg("appeals_page.refusal_note", "Note to the customer (optional)"),
    "answer": msg("appeals_page.answer", "Answer on the merits"),
    "merits": msg("appeals_page.merits", "The answer the letter carries"),
    "send_answer": msg("appeals_page.send_answer", "Send the answer letter"),
    "letter": msg("appeals_page.letter", "Answer letter"),
    "letter_pdf": msg("appeals_page.letter_pdf", "Open the letter (PDF)"),
    "letter_verify": msg("appeals_page.letter_verify", "Verification page"),
    "take": msg("appeals_page.take", "Take it"),
    "you": msg("appeals_page.you", "you"),
    "refused_on": msg("appeals_page.refused_on", "Not considered: {ground}"),
    "register": msg("appeals_page.register", "Register"),
    "author_name": msg("appeals_page.author_name", "Customer's full name"),
    "phone": msg("appeals_page.phone", "Phone (+77011234567)"),
    "email": msg("appeals_page.email", "Email"),
    "notice.registered": msg(
        "appeals_page.notice.registered",
        "The appeal is registered; the customer is sent its number.",
    ),
    "notice.noted": msg("appeals_page.notice.noted", "The note is added."),
    "notice.decided": msg("appeals_page.notice.decided", "The decision is recorded."),
    "notice.measured": msg("appeals_page.notice.measured", "The measure is added."),
    "notice.refused": msg(
        "appeals_page.notice.refused", "Left unconsidered; the customer is told why."
    ),
    "notice.answered": msg("appeals_page.notice.answered", "The letter is sent to the customer."),
    "notice.taken": msg("appeals_page.notice.taken", "The appeal is yours now."),
    "err.input": msg("appeals_page.err.input", "Check the form: {detail}"),
    "err.closed": msg("appeals_page.err.closed", "This appeal is already closed."),
    "err.decision_required": msg(
        "appeals_page.err.decision_required",
        "Record the decision on the complaint before answering.",
    ),
    "err.measures_required": msg(
        "appeals_page.err.measures_required",
        "A justified complaint needs its corrective measures first.",
    ),
    "err.field.text": msg("appeals_page.err.field.text", "Write the text."),
    "err.field.reasons": msg(
        "appeals_page.err.field.reasons", "Give the reasons for the decision."
    ),
    "err.field.merits": msg("appeals_page.err.field.merits", "Write the answer on the merits."),
    "err.field.ground": msg("appeals_page.err.field.ground", "Choose a ground from the list."),
    "err.field.decision": msg("appeals_page.err.field.decision", "Choose the decision."),
    "err.field.author_name": msg("appeals_page.err.field.author_name", "Give the customer's name."),
    "err.field.contact_phone": msg(
        "appeals_page.err.field.contact_phone", "Enter the phone as +77011234567."
    ),
    "err.field.contact_email": msg(
        "appeals_page.err.field.contact_email", "Enter an email address."
    ),
    "err.field.territory_id": msg(
        "appeals_page.err.field.territory_id", "Choose one of your territories."
    ),
    "err.field.description": msg("appeals_page.err.field.description", "Describe the measure."),
    "err.field.owner_id": msg(
        "appeals_page.err.field.owner_id",
        "Choose the measure's owner among the staff of the appeal's territory.",
    ),
    "err.field.work_order_id": msg(
        "appeals_page.err.field.work_order_id", "The order is not one of this territory's."
    ),
    "worked_by": msg(
        "appeals_page.worked_by",
        "A coordinator or the head of the unit decides and answers this appeal.",
    ),
    "order": msg("appeals_page.order", "Work order"),
    "measure_owner": msg("appeals_page.measure_owner", "Owner of the measure"),
    "role.admin": msg("appeals_page.role.admin", "administrator"),
    "role.dispatcher": msg("appeals_page.role.dispatcher", "dispatcher"),
    "role.coordinator": msg("appeals_page.role.coordinator", "coordinator"),
    "role.supervisor": msg("appeals_page.role.supervisor", "head of unit"),
    "about_order": msg("appeals_page.about_order", "About work order {number}"),
    "err.field.due_at": msg(
        "appeals_page.err.field.due_at",
        "Choose a due date from today on (for a request, no later than the appeal's deadline).",
    ),
    "err.field.unit": msg("appeals_page.err.field.unit", "Name the unit."),
    "err.field.question": msg("appeals_page.err.field.question", "Write what the unit is asked."),
    "err.field.answer": msg("appeals_page.err.field.answer", "Write the unit's answer."),
    "err.already_answered": msg(
        "appeals_page.err.already_answered", "The unit's answer is already recorded."
    ),
    "requests": msg("appeals_page.requests", "Requests to other units"),
    "unit": msg("appeals_page.unit", "Unit"),
    "unit_question": msg("appeals_page.unit_question", "What is asked"),
    "request_due": msg("appeals_page.request_due", "Answer by"),
    "add_request": msg("appeals_page.add_request", "Send the request"),
    "unit_answer": msg("appeals_page.unit_answer", "The unit's answer"),
    "record_unit_answer": msg("appeals_page.record_unit_answer", "Record the answer"),
    "awaiting": msg("appeals_page.awaiting", "awaiting the answer"),
    "request_overdue": msg("appeals_page.request_overdue", "overdue"),
    "notice.requested": msg("appeals_page.notice.requested", "The request is sent."),
    "notice.request_answered": msg(
        "appeals_page.notice.request_answered", "The unit's answer is recorded."
    ),
    "err.field.kind": msg("appeals_page.err.field.kind", "Choose the kind."),
    "err.field.channel": msg("appeals_page.err.field.channel", "Choose the channel."),
    # -- tabs
    "tab.list": msg("appeals_page.tab.list", "List"),
    "tab.analysis": msg("appeals_page.tab.analysis", "Analysis"),
    "tab.reasons": msg("appeals_page.tab.reasons", "Complaint reasons"),
    # -- analysis (/coordinate/appeals/analysis)
    "an.title": msg("appeals_page.an.title", "Analysis of appeals and complaints"),
    "an.month": msg("appeals_page.an.month", "Month"),
    "an.from": msg("appeals_page.an.from", "Or from"),
    "an.to": msg("appeals_page.an.to", "to (inclusive)"),
    "an.all_territories": msg("appeals_page.an.all_territories", "All my territories"),
    "an.previous": msg("appeals_page.an.previous", "Previous month"),
    "an.next": msg("appeals_page.an.next", "Next month"),
    "an.period": msg(
        "appeals_page.an.period", "{period}, registered by the clock of {zone} ({offset})."
    ),
    "an.registered": msg("appeals_page.an.registered", "Appeals registered"),
    "an.complaints": msg("appeals_page.an.complaints", "Complaints and claims on quality"),
    "an.on_time": msg("appeals_page.an.on_time", "Answered on time"),
    "an.on_time_base": msg(
        "appeals_page.an.on_time_base", "{part} of {whole} whose answer was due in the period"
    ),
    "an.none_due": msg("appeals_page.an.none_due", "No answer was due in the period."),
    "an.overdue": msg("appeals_page.an.overdue", "Open past the deadline now"),
    "an.repeats": msg("appeals_page.an.repeats", "Repeat complaints"),
    "an.repeats_base": msg(
        "appeals_page.an.repeats_base", "the same customer within 90 days of a complaint"
    ),
    "an.by_reason": msg("appeals_page.an.by_reason", "Complaint reasons"),
    "an.by_reason_note": msg(
        "appeals_page.an.by_reason_note",
        "A complaint may have several reasons; the share is of all the period's complaints "
        "({n}). Not decided yet, so without a reason: {undecided}.",
    ),
    "an.by_territory": msg("appeals_page.an.by_territory", "Complaints by territory"),
    "an.by_work_type": msg("appeals_page.an.by_work_type", "Complaints by work type"),
    "an.by_work_type_note": msg(
        "appeals_page.an.by_work_type_note", "Complaints linked to a work order."
    ),
    "an.by_technician": msg("appeals_page.an.by_technician", "Complaints by technician"),
    "an.by_technician_note": msg(
        "appeals_page.an.by_technician_note",
        "Complaints linked to a visit, under the technician of that visit.",
    ),
    "an.repeat_customers": msg("appeals_page.an.repeat_customers", "Customers who complain again"),
    "an.col.reason": msg("appeals_page.an.col.reason", "Reason"),
    "an.col.complaints": msg("appeals_page.an.col.complaints", "Complaints"),
    "an.col.share": msg("appeals_page.an.col.share", "Share"),
    "an.col.territory": msg("appeals_page.an.col.territory", "Territory"),
    "an.col.work_type": msg("appeals_page.an.col.work_type", "Work type"),
    "an.col.technician": msg("appeals_page.an.col.technician", "Technician"),
    "an.col.customer": msg("appeals_page.an.col.customer", "Customer"),
    "an.col.appeals": msg("appeals_page.an.col.appeals", "Their complaints"),
    "an.retired": msg("appeals_page.an.retired", "retired"),
    "an.empty.complaints": msg(
        "appeals_page.an.empty.complaints", "No complaint was registered in this period."
    ),
    "an.empty.reasons": msg(
        "appeals_page.an.empty.reasons",
        "None of the period's complaints has a reason recorded yet: reasons are set with the "
        "decision.",
    ),
    "an.empty.work_type": msg(
        "appeals_page.an.empty.work_type", "None of the period's complaints is linked to an order."
    ),
    "an.empty.technician": msg(
        "appeals_page.an.empty.technician", "None of the period's complaints is linked to a visit."
    ),
    "an.empty.repeats": msg(
        "appeals_page.an.empty.repeats", "No customer complained again in this period."
    ),
    "an.err.month": msg("appeals_page.an.err.month", "Choose a month from 2000 to 2099."),
    "an.err.range": msg(
        "appeals_page.an.err.range",
        "Give both dates (from no later than to, at most two years apart), or a month.",
    ),
    # -- the reason taxonomy (/coordinate/appeals/reasons, administrators)
    "rs.title": msg("appeals_page.rs.title", "Complaint reasons"),
    "rs.intro": msg(
        "appeals_page.rs.intro",
        "The reasons a coordinator picks when deciding a complaint. A retired reason stays on "
        "the complaints that have it and in the analysis, but is not offered for new decisions.",
    ),
    "rs.code": msg("appeals_page.rs.code", "Code"),
    "rs.code_hint": msg(
        "appeals_page.rs.code_hint", "Latin lower-case letters, digits and _; never changes"
    ),
    "rs.name_ru": msg("appeals_page.rs.name_ru", "Name in Russian"),
    "rs.name_kk": msg("appeals_page.rs.name_kk", "Name in Kazakh"),
    "rs.name_en": msg("appeals_page.rs.name_en", "Name in English"),
    "rs.in_use": msg("appeals_page.rs.in_use", "offered for new decisions"),
    "rs.retired": msg("appeals_page.rs.retired", "retired"),
    "rs.save": msg("appeals_page.rs.save", "Save"),
    "rs.retire": msg("appeals_page.rs.retire", "Retire"),
    "rs.restore": msg("appeals_page.rs.restore", "Restore"),
    "rs.add": msg("appeals_page.rs.add", "Add a reason"),
    "rs.notice.added": msg("appeals_page.rs.notice.added", "The reason is added."),
    "rs.notice.saved": msg("appeals_page.rs.notice.saved", "The reason is saved."),
    "rs.notice.retired": msg(
        "appeals_page.rs.notice.retired", "The reason is retired: no longer offered."
    ),
    "rs.notice.restored": msg("appeals_page.rs.notice.restored", "The reason is offered again."),
    "rs.err.exists": msg(
        "appeals_page.rs.err.exists", "A reason with this code exists already; rename it below."
    ),
    "err.field.code": msg(
        "appeals_page.err.field.code",
        "The code: 2 to 40 Latin lower-case letters, digits and _, starting with a letter.",
    ),
    "err.field.names.ru": msg("appeals_page.err.field.names.ru", "Give the name in Russian."),
    "err.field.names.kk": msg("appeals_page.err.field.names.kk", "Give the name in Kazakh."),
    "err.field.names.en": msg("appeals_page.err.field.names.en", "Give the name in English."),
}


# The day of a day deadline: 10.12 in Russian and Kazakh, 10 Dec in English.
_DUE_DAY = {"ru": "dd.MM", "kk": "dd.MM", "en": "d MMM"}


def last_day(due_at: datetime, zone_key: str) -> date | None:
    """The last local day of a day deadline, or None for a deadline at another time.

    A day deadline is one at local midnight (the appeal's own, which ends the day before it) or
    at 23:59 or later (measures and requests the page sets by the end of a chosen day); which day
    it leaves is the customer pages' and messages' rule (``last_local_day``).
    """
    zone = ZoneInfo(zone_key)
    clock = due_at.astimezone(zone).time()
    if clock == time(0, 0) or clock >= time(23, 59):
        return last_local_day(due_at, zone)
    return None


def due_day(day: date, language: Language) -> str:
    """A deadline's last day as the staff pages print it (10.12 / 10 Dec)."""
    return format_date(day, _DUE_DAY[language], locale=language)


def appeal_texts(language: Language) -> dict[str, str]:
    """Every text of the staff appeals pages in one language."""
    return {key: in_language(text, language) for key, text in _TEXTS.items()}
