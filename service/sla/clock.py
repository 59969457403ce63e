"""SLA clocks of one work order from its ordered events (pure, explainable).

Three clocks run from registration: ``response`` (stops when a visit is agreed), ``arrival``
(stops when a technician arrives) and ``resolution`` (stops when the work is completed). Each
counts time on the policy's measure (calendar or business time) and skips pauses:

- a reschedule for a documented reason (customer request, no access, waiting for parts) does not
  count the time between the old and the new window start;
- no access at the door pauses until the next visit's agreed window starts;
- waiting for parts pauses until the next visit is booked (or an explicit resume).

``due_at`` is when the counted time reaches the target; ``warning_at`` when it reaches the
policy's warning ratio. A priority change re-targets: the new priority's policy applies from
registration. A control deadline set by hand replaces the resolution due time. Every clock comes
with the steps that explain it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from service.sla import kinds
from service.sla.calendar import Measure, minutes

RESPONSE = "response"
ARRIVAL = "arrival"
RESOLUTION = "resolution"
TARGETS = (RESPONSE, ARRIVAL, RESOLUTION)

RUNNING = "running"
WARNING = "warning"
PAUSED = "paused"
MET = "met"
BREACHED = "breached"
CANCELLED = "cancelled"
STATUSES = (RUNNING, WARNING, PAUSED, MET, BREACHED, CANCELLED)
OPEN_STATUSES = (RUNNING, WARNING, PAUSED)

_STOP_KIND = {
    RESPONSE: kinds.VISIT_BOOKED,
    ARRIVAL: kinds.VISIT_ARRIVED,
    RESOLUTION: kinds.VISIT_COMPLETED,
}
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Event:
    """One logged (or, when ``derived``, reconstructed from records) event of the order."""

    kind: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    visit_id: UUID | None = None
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Targets:
    """A policy's targets in minutes of its measure."""

    response: int
    arrival: int
    resolution: int
    measure: str = "business"
    warning_ratio: float = 0.8
    policy_id: UUID | None = None
    policy_name: str = ""

    def minutes_for(self, target: str) -> int:
        """The target of one clock."""
        return int(getattr(self, target))


@dataclass(frozen=True, slots=True)
class Pause:
    """Time that does not count: [start, end), open-ended while ``end`` is None."""

    start: datetime
    end: datetime | None
    reason: str
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a clock's explanation."""

    at: datetime
    kind: str
    detail: str
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClockState:
    """A clock as of ``now``."""

    target: str
    status: str
    measure: str
    target_minutes: int
    started_at: datetime
    due_at: datetime | None
    warning_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    paused_since: datetime | None
    resumes_at: datetime | None
    paused_minutes: int
    remaining_minutes: int | None
    reason: str | None
    next_change_at: datetime | None
    policy_id: UUID | None
    steps: tuple[Step, ...]

    @property
    def settled_at(self) -> datetime | None:
        """When the outcome was decided: met when stopped, breached at the due time."""
        if self.status == MET:
            return self.stopped_at
        if self.status == BREACHED:
            return self.breached_at
        return None


@dataclass(slots=True)
class Timeline:
    """What the events say, independent of any policy."""

    registered_at: datetime
    priority: str
    priority_changes: list[tuple[datetime, str, str, int | None]] = field(default_factory=list)
    manual_deadline: datetime | None = None
    manual_steps: list[Step] = field(default_factory=list)
    stops: dict[str, Event] = field(default_factory=dict)
    cancelled: Event | None = None
    pauses: list[Pause] = field(default_factory=list)


def instant(value: Any) -> datetime | None:
    """A datetime from an event's data (RFC 3339 text or a datetime)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("event times carry an offset")
    return parsed


def _window_start(value: Any) -> datetime | None:
    if isinstance(value, list | tuple) and value:
        return instant(value[0])
    return None


def build_timeline(events: Sequence[Event], priority: str) -> Timeline:
    """Read the ordered events once; ``priority`` is the order's current one (a fallback)."""
    ordered = sorted(events, key=lambda e: (e.at, e.id or 0))
    created = next((e for e in ordered if e.kind == kinds.ORDER_CREATED), None)
    if created is None:
        raise ValueError("a work order's events start with work_order.created")
    # A reconstructed registration does not know the first priority: the first logged change
    # names it, else the order's current priority is all there is.
    first_change = next(
        (
            e.data["priority"][0]
            for e in ordered
            if e.kind == kinds.ORDER_UPDATED and isinstance(e.data.get("priority"), list | tuple)
        ),
        None,
    )
    initial = created.data.get("priority") or first_change or priority
    timeline = Timeline(registered_at=created.at, priority=str(initial))
    if created.data.get("control_deadline"):
        timeline.manual_deadline = instant(created.data["control_deadline"])
        timeline.manual_steps.append(
            Step(created.at, "deadline_set", "control deadline given at registration", created.id)
        )
    open_pause: tuple[datetime, str, int | None] | None = None

    def close_open(end: datetime) -> None:
        nonlocal open_pause
        if open_pause is not None:
            start, reason, event_id = open_pause
            timeline.pauses.append(Pause(start, max(end, start), reason, event_id))
            open_pause = None

    for event in ordered:
        data = event.data
        if event.kind == kinds.ORDER_UPDATED:
            change = data.get("priority")
            if isinstance(change, list | tuple) and len(change) == 2 and change[1]:
                old, new = str(change[0]), str(change[1])
                timeline.priority_changes.append((event.at, old, new, event.id))
                timeline.priority = new
            deadline = data.get("control_deadline")
            if isinstance(deadline, list | tuple) and len(deadline) == 2:
                timeline.manual_deadline = instant(deadline[1])
                detail = (
                    "control deadline set by hand"
                    if deadline[1]
                    else "control deadline set by hand was cleared; the policy applies"
                )
                timeline.manual_steps.append(Step(event.at, "deadline_set", detail, event.id))
        elif event.kind == kinds.ORDER_CANCELLED and timeline.cancelled is None:
            timeline.cancelled = event
        elif event.kind == kinds.VISIT_RESCHEDULED:
            reason = str(data.get("reason") or "")
            old_start = _window_start(data.get("old_window"))
            new_start = _window_start(data.get("window"))
            if reason in kinds.PAUSE_REASONS and old_start and new_start and new_start > old_start:
                timeline.pauses.append(Pause(old_start, new_start, reason, event.id))
        elif event.kind == kinds.VISIT_NO_ACCESS:
            close_open(event.at)
            open_pause = (event.at, kinds.NO_ACCESS, event.id)
        elif event.kind == kinds.ORDER_WAITING_FOR_PARTS or (
            event.kind == kinds.VISIT_NEEDS_REVISIT
            and data.get("reason") == kinds.WAITING_FOR_PARTS
        ):
            close_open(event.at)
            open_pause = (event.at, kinds.WAITING_FOR_PARTS, event.id)
        elif event.kind == kinds.VISIT_BOOKED and open_pause is not None:
            # The customer's availability ends a no-access pause (the new agreed window);
            # parts in hand end a waiting-for-parts pause (the booking itself).
            end = event.at
            if open_pause[1] == kinds.NO_ACCESS:
                end = max(event.at, _window_start(data.get("window")) or event.at)
            close_open(end)
        elif event.kind in (kinds.VISIT_ARRIVED, kinds.ORDER_RESUMED):
            close_open(event.at)
        for target, kind in _STOP_KIND.items():
            if event.kind == kind and target not in timeline.stops:
                timeline.stops[target] = event
    if open_pause is not None:
        start, reason, event_id = open_pause
        timeline.pauses.append(Pause(start, None, reason, event_id))
    return timeline


# -- counting ------------------------------------------------------------------------------

Segment = tuple[datetime, datetime | None]


def _active_segments(
    start: datetime, stop: datetime | None, pauses: Iterable[Pause]
) -> list[Segment]:
    """[start, stop) without the union of the pauses; None as an end means "open"."""
    segments: list[Segment] = [(start, stop)]
    for pause in sorted(pauses, key=lambda p: p.start):
        result: list[Segment] = []
        for low, high in segments:
            p_low, p_high = pause.start, pause.end
            # No overlap: keep the segment.
            if (high is not None and p_low >= high) or (p_high is not None and p_high <= low):
                result.append((low, high))
                continue
            if p_low > low:
                result.append((low, p_low))
            if p_high is not None and (high is None or p_high < high):
                result.append((p_high, high))
        segments = result
    return segments


def _consumed(measure: Measure, segments: Sequence[Segment], until: datetime) -> timedelta:
    total = _ZERO
    for low, high in segments:
        end = until if high is None else min(high, until)
        if end > low:
            total += measure.elapsed(low, end)
    return total


def _reach(measure: Measure, segments: Sequence[Segment], amount: timedelta) -> datetime | None:
    """The instant at which ``amount`` has been counted, or None (an open-ended pause)."""
    remaining = amount
    for low, high in segments:
        if high is None:
            return measure.add(low, remaining)
        available = measure.elapsed(low, high)
        if remaining <= available:
            return measure.add(low, remaining)
        remaining -= available
    return None


def _warning_amount(target: timedelta, ratio: float) -> timedelta:
    return timedelta(seconds=round(target.total_seconds() * ratio))


# -- clocks --------------------------------------------------------------------------------


def compute_clocks(
    events: Sequence[Event],
    priority: str,
    targets_for: Mapping[str, Targets | None],
    measure: Measure,
    now: datetime,
    *,
    measure_note: str | None = None,
) -> list[ClockState]:
    """The three clocks as of ``now``; empty when no policy covers the order's priority.

    ``targets_for`` maps each priority the order has had to its policy's targets.
    """
    timeline = build_timeline(events, priority)
    targets = targets_for.get(timeline.priority)
    if targets is None:
        return []
    return [
        _clock(target, timeline, targets, targets_for, measure, now, measure_note)
        for target in TARGETS
    ]


def _clock(
    target: str,
    timeline: Timeline,
    targets: Targets,
    targets_for: Mapping[str, Targets | None],
    measure: Measure,
    now: datetime,
    measure_note: str | None,
) -> ClockState:
    start = timeline.registered_at
    stop_event = timeline.stops.get(target)
    stop = stop_event.at if stop_event is not None and stop_event.at <= now else None
    cancel = timeline.cancelled if timeline.cancelled and timeline.cancelled.at <= now else None
    end = stop or (cancel.at if cancel else None)
    pauses = [p for p in timeline.pauses if end is None or p.start < end]
    segments = _active_segments(start, end, pauses)
    goal = timedelta(minutes=targets.minutes_for(target))
    manual = timeline.manual_deadline if target == RESOLUTION else None
    # Due and warning times look past ``now``: pauses already planned (a moved window) count.
    ahead = _active_segments(start, None, pauses)
    if manual is not None:
        due: datetime | None = manual
        goal = _consumed(measure, ahead, manual)
    else:
        due = _reach(measure, ahead, goal)
    warning = _reach(measure, ahead, _warning_amount(goal, targets.warning_ratio))
    if warning is not None and due is not None:
        warning = min(warning, due)

    status: str
    stopped_at = breached_at = paused_since = resumes_at = None
    current = next((p for p in pauses if p.start <= now and (p.end is None or now < p.end)), None)
    if stop is not None or cancel is not None:
        stopped_at = end
        assert stopped_at is not None
        if due is not None and stopped_at > due:
            status, breached_at = BREACHED, due
        else:
            status = MET if stop is not None else CANCELLED
    elif due is not None and now >= due:
        status, breached_at = BREACHED, due
    elif current is not None:
        status, paused_since, resumes_at = PAUSED, current.start, current.end
    elif warning is not None and now >= warning:
        status = WARNING
    else:
        status = RUNNING

    horizon = end or now
    counted = _consumed(measure, segments, horizon)
    paused = measure.elapsed(start, horizon) - counted
    remaining = None
    if status in (RUNNING, WARNING, PAUSED):
        remaining = max(minutes(goal - counted), 0)
    past_pauses = [p for p in pauses if p.start <= horizon]
    reason = current.reason if current else (past_pauses[-1].reason if past_pauses else None)
    next_change = None
    if status in (RUNNING, WARNING, PAUSED):
        moments = [due] + ([warning] if status == RUNNING else [])
        moments += [p.start for p in pauses] + [p.end for p in pauses]
        upcoming = [m for m in moments if m is not None and m > now]
        next_change = min(upcoming) if upcoming else None

    steps = _steps(
        _Explain(target, timeline, targets, targets_for, measure, now, measure_note),
        pauses,
        goal,
        due,
        warning,
        status,
        stopped_at,
        stop_event if stop else cancel,
    )
    return ClockState(
        target=target,
        status=status,
        measure=measure.name,
        target_minutes=minutes(goal),
        started_at=start,
        due_at=due,
        warning_at=warning,
        stopped_at=stopped_at,
        breached_at=breached_at,
        paused_since=paused_since,
        resumes_at=resumes_at,
        paused_minutes=minutes(paused),
        remaining_minutes=remaining,
        reason=reason,
        next_change_at=next_change,
        policy_id=targets.policy_id,
        steps=steps,
    )


def _fmt(value: datetime) -> str:
    return value.isoformat(timespec="minutes")


@dataclass(frozen=True, slots=True)
class _Explain:
    target: str
    timeline: Timeline
    targets: Targets
    targets_for: Mapping[str, Targets | None]
    measure: Measure
    now: datetime
    measure_note: str | None


def _steps(
    context: _Explain,
    pauses: Sequence[Pause],
    goal: timedelta,
    due: datetime | None,
    warning: datetime | None,
    status: str,
    stopped_at: datetime | None,
    stop_event: Event | None,
) -> tuple[Step, ...]:
    target, timeline, targets = context.target, context.timeline, context.targets
    targets_for, measure, now = context.targets_for, context.measure, context.now
    measure_note = context.measure_note
    first = (
        targets_for.get(timeline.priority_changes[0][1]) if timeline.priority_changes else targets
    )
    first = first or targets
    unit = f"{measure.name} minutes"
    steps = [
        Step(
            timeline.registered_at,
            "started",
            f"registered; policy {first.policy_name or '-'}: {target} within "
            f"{first.minutes_for(target)} {unit}" + (f" ({measure_note})" if measure_note else ""),
        )
    ]
    horizon = stopped_at or now
    for at, old, new, event_id in timeline.priority_changes:
        if at > horizon:
            continue
        policy = targets_for.get(new)
        detail = f"priority {old} -> {new}; " + (
            f"policy {policy.policy_name or '-'}: {target} within {policy.minutes_for(target)} "
            f"{unit}, counted from registration"
            if policy
            else "no policy covers it"
        )
        steps.append(Step(at, "retargeted", detail, event_id))
    if target == RESOLUTION:
        steps.extend(s for s in timeline.manual_steps if s.at <= horizon)
    for pause in pauses:
        planned = " (planned)" if pause.start > now else ""
        steps.append(Step(pause.start, "paused", f"{pause.reason}{planned}", pause.event_id))
        if pause.end is not None:
            later = " (planned)" if pause.end > now else ""
            steps.append(Step(pause.end, "resumed", f"after {pause.reason}{later}", pause.event_id))
    if warning is not None and warning <= horizon:
        steps.append(
            Step(warning, "warning", f"{targets.warning_ratio:.0%} of {minutes(goal)} {unit} used")
        )
    if due is not None:
        if status == BREACHED:
            steps.append(Step(due, "breached", "the target was exceeded"))
        elif status in OPEN_STATUSES:
            steps.append(Step(due, "due", f"{minutes(goal)} {unit} reached unless stopped"))
    if stop_event is not None and stopped_at is not None:
        label = {MET: "met", BREACHED: "stopped", CANCELLED: "cancelled"}.get(status, "stopped")
        source = " (reconstructed from the visit record)" if stop_event.derived else ""
        steps.append(Step(stopped_at, label, f"{stop_event.kind}{source}", stop_event.id))
    steps.sort(key=lambda s: s.at)
    return tuple(steps)
