"""Known events and their defaults: which template, whether urgent, what deadline applies.

The set is open: any dotted lower-case event name may be enqueued with an explicit template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class EventSpec:
    """Defaults for one event.

    ``urgent`` messages ignore quiet hours. ``deadline_field`` names a context date-time the
    message is about (a visit's start): it is sent before it, whatever the working hours.
    ``lifetime_field`` names a context number of minutes after queueing when the message is
    worthless (a one-time code's validity): not sent after that, and its secret not kept.
    """

    template: str
    urgent: bool
    deadline_field: str | None = None
    lifetime_field: str | None = None


EVENTS: dict[str, EventSpec] = {
    "visit.booked": EventSpec("visit.booked", urgent=False, deadline_field="window_start"),
    "visit.rescheduled": EventSpec(
        "visit.rescheduled", urgent=False, deadline_field="window_start"
    ),
    "visit.reassigned": EventSpec("visit.reassigned", urgent=False, deadline_field="window_start"),
    "visit.cancelled": EventSpec("visit.cancelled", urgent=False, deadline_field="window_start"),
    # The customer is waiting now: these cannot wait for working hours.
    "visit.late_predicted": EventSpec("visit.late_predicted", urgent=True),
    "dispatch.visit_late": EventSpec("dispatch.visit_late", urgent=True),
    "visit.en_route": EventSpec("visit.en_route", urgent=True),
    "otp.sent": EventSpec("otp.sent", urgent=True, lifetime_field="ttl_minutes"),
    "act.signed": EventSpec("act.signed", urgent=True),
    "escalation.raised": EventSpec("escalation.raised", urgent=True),
    # SLA escalations to staff (service/escalations/services.py): act now.
    "escalation.warning": EventSpec("escalation.warning", urgent=True),
    "escalation.breach": EventSpec("escalation.breach", urgent=True),
    "escalation.head": EventSpec("escalation.head", urgent=True),
    # 004 §5.4.10.5: a safety exit is told to the supervisor (else security) at once.
    "incident.raised": EventSpec("incident.raised", urgent=True),
    # The customer's apology waits for working hours, but never past the date it promises.
    "sla.apology": EventSpec("sla.apology", urgent=False, deadline_field="new_date"),
    "rating.requested": EventSpec("rating.requested", urgent=False),
    "follow_up.opened": EventSpec("follow_up.opened", urgent=False),
    "feedback.call_requested": EventSpec("feedback.call_requested", urgent=False),
    # Appeals: the customer's notices wait for working hours; staff escalations do not.
    "appeal.registered": EventSpec("appeal.registered", urgent=False),
    "appeal.answered": EventSpec("appeal.answered", urgent=False),
    "appeal.refused": EventSpec("appeal.refused", urgent=False),
    "appeal.outside_competence": EventSpec("appeal.outside_competence", urgent=False),
    "appeal.escalation.warning": EventSpec("appeal.escalation", urgent=True),
    "appeal.escalation.breach": EventSpec("appeal.escalation", urgent=True),
    "appeal.escalation.head": EventSpec("appeal.escalation", urgent=True),
}


def spec_for(event: str, template: str | None) -> EventSpec:
    """The event's defaults; an unknown event needs an explicit template and is not urgent."""
    if not EVENT_NAME.match(event) or len(event) > 64:
        raise ValueError(f"event name {event!r} must be dotted lower-case, at most 64 characters")
    known = EVENTS.get(event)
    if known is None:
        if template is None:
            raise ValueError(f"event {event!r} has no default template; pass template=")
        return EventSpec(template=template, urgent=False)
    if template is not None and template != known.template:
        return EventSpec(template=template, urgent=known.urgent)
    return known
