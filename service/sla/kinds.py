"""Kinds of work-order events (the log SLA clocks are computed from) and what they carry.

Services record an event with ``service.sla.events.record_event`` in the same
transaction as the change it describes. ``at`` is when the fact happened (for the phone, the
device time of the operation); ``data`` is small JSON. Times inside ``data`` are RFC 3339.

Emitted by the back office (orders and scheduling services):

- ``work_order.created``: registration; starts every clock.
  data: ``type``, ``priority``, ``status``, ``control_deadline`` (set by hand, or null).
- ``work_order.updated``: data holds ``{field: [old, new]}`` for changed ``priority``,
  ``status``, ``control_deadline`` and ``hold_reason``. A priority change re-targets the clocks;
  a control deadline set by hand overrides the resolution due time (null clears the override).
- ``work_order.cancelled``: stops running clocks as ``cancelled``. data: ``reason``.
- ``visit.booked``: a window agreed with the customer; stops the response clock and ends a
  no-access or waiting-for-parts pause. data: ``window`` [start, end], ``technician_id``,
  ``channel``.
- ``visit.rescheduled``: data: ``reason`` (a reschedule reason code), ``old_window``,
  ``window``. With reason ``customer_request``, ``no_access`` or ``waiting_for_parts`` the time
  between the old and the new window start does not count.
- ``visit.reassigned`` (data: ``technician_id``, ``previous_technician_id``, ``reason``) and
  ``visit.cancelled`` (data: ``reason``): shown on the board, no effect on clocks.

To be emitted by the phone flow (service/execution) with the operation's device time:

- ``visit.en_route``: no effect on clocks.
- ``visit.arrived``: stops the arrival clock; ends an open pause.
- ``visit.completed``: stops the resolution clock (the work is done).
- ``visit.no_access``: customer not at home at the agreed time (001 §5.2); pauses the clocks
  until the next visit's agreed window starts.
- ``visit.needs_revisit``: data ``reason``; with reason ``waiting_for_parts`` it pauses the
  clocks until the next visit is booked.
- ``work_order.waiting_for_parts``: pauses the clocks until the next visit is booked, or
  ``work_order.resumed``.
- ``work_order.resumed``: ends an open pause.

Customer contacts (counted on the overdue board): ``visit.booked`` and ``visit.rescheduled``
(each is an agreement with the customer, seed 000 §9), ``customer.contacted`` (a coordinator's
call, e.g. an apology with a new control date, 000 §11) and ``customer.notified`` (a message
delivered to the customer by the notification worker; the escalation job records the SLA
apology's when it queues it, data: ``message``, ``target``, ``new_control_date``).
"""

from __future__ import annotations

ORDER_CREATED = "work_order.created"
ORDER_UPDATED = "work_order.updated"
ORDER_CANCELLED = "work_order.cancelled"
ORDER_WAITING_FOR_PARTS = "work_order.waiting_for_parts"
ORDER_RESUMED = "work_order.resumed"
VISIT_BOOKED = "visit.booked"
VISIT_RESCHEDULED = "visit.rescheduled"
VISIT_REASSIGNED = "visit.reassigned"
VISIT_CANCELLED = "visit.cancelled"
VISIT_EN_ROUTE = "visit.en_route"
VISIT_ARRIVED = "visit.arrived"
VISIT_COMPLETED = "visit.completed"
VISIT_NO_ACCESS = "visit.no_access"
VISIT_NEEDS_REVISIT = "visit.needs_revisit"
CUSTOMER_CONTACTED = "customer.contacted"
CUSTOMER_NOTIFIED = "customer.notified"
# A coordinator took the order or handed it to another (the workspace's owner).
ORDER_OWNER_CHANGED = "work_order.owner_changed"
# A coordinator escalated the order to the supervisors by hand.
ORDER_ESCALATED = "work_order.escalated"

ALL = frozenset(
    {
        ORDER_CREATED,
        ORDER_UPDATED,
        ORDER_CANCELLED,
        ORDER_WAITING_FOR_PARTS,
        ORDER_RESUMED,
        VISIT_BOOKED,
        VISIT_RESCHEDULED,
        VISIT_REASSIGNED,
        VISIT_CANCELLED,
        VISIT_EN_ROUTE,
        VISIT_ARRIVED,
        VISIT_COMPLETED,
        VISIT_NO_ACCESS,
        VISIT_NEEDS_REVISIT,
        CUSTOMER_CONTACTED,
        CUSTOMER_NOTIFIED,
        ORDER_OWNER_CHANGED,
        ORDER_ESCALATED,
    }
)
CONTACT_KINDS = (VISIT_BOOKED, VISIT_RESCHEDULED, CUSTOMER_CONTACTED, CUSTOMER_NOTIFIED)
# Kinds that cannot move a clock: recording one does not recompute the order's clocks (the
# refresh job still moves them at their next change).
CLOCK_NEUTRAL = frozenset(
    {
        VISIT_REASSIGNED,
        VISIT_CANCELLED,
        VISIT_EN_ROUTE,
        CUSTOMER_CONTACTED,
        CUSTOMER_NOTIFIED,
        ORDER_OWNER_CHANGED,
        ORDER_ESCALATED,
    }
)
# A visit's final status and the event that records it (the other outcomes only show in audit).
VISIT_OUTCOMES = {
    "completed": VISIT_COMPLETED,
    "no_access": VISIT_NO_ACCESS,
    "needs_revisit": VISIT_NEEDS_REVISIT,
}

# Documented reasons that stop a clock counting.
CUSTOMER_REQUEST = "customer_request"
NO_ACCESS = "no_access"
WAITING_FOR_PARTS = "waiting_for_parts"
PAUSE_REASONS = frozenset({CUSTOMER_REQUEST, NO_ACCESS, WAITING_FOR_PARTS})
