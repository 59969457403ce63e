"""SLA clocks from events: start, stop, pause and resume, re-targeting, warnings, explanations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service.sla import kinds
from service.sla.calendar import CalendarTime, Period, WorkingCalendar, make_week
from service.sla.clock import ClockState, Event, Targets, compute_clocks
from service.sla.policies import PolicyRule, choose

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # Monday 09:00 in Almaty
NORMAL = Targets(response=120, arrival=300, resolution=600, measure="calendar", policy_name="N")
URGENT = Targets(response=30, arrival=120, resolution=240, measure="calendar", policy_name="U")
ALMATY = ZoneInfo("Asia/Almaty")
KZ = WorkingCalendar(
    zone=ALMATY,
    week=make_week((d, Period.of("09:00", "18:00")) for d in range(5)),
    holidays=frozenset({date(2026, 3, 9)}),
)


def m(n: float) -> timedelta:
    return timedelta(minutes=n)


def iso(value: datetime) -> str:
    return value.isoformat()


def created(**data: Any) -> Event:
    return Event(kinds.ORDER_CREATED, T0, {"priority": "normal", **data}, id=1)


def booked(at: datetime, window_start: datetime, event_id: int = 2) -> Event:
    window = [iso(window_start), iso(window_start + m(120))]
    return Event(kinds.VISIT_BOOKED, at, {"window": window}, id=event_id)


def clocks(
    events: list[Event],
    now: datetime,
    targets: dict[str, Targets | None] | None = None,
    measure: Any = None,
) -> dict[str, ClockState]:
    found = compute_clocks(
        events,
        "normal",
        targets if targets is not None else {"normal": NORMAL, "urgent": URGENT},
        measure or CalendarTime(),
        now,
    )
    return {c.target: c for c in found}


def test_a_new_order_runs_warns_and_breaches() -> None:
    running = clocks([created()], T0 + m(300))["resolution"]
    assert running.status == "running"
    assert running.due_at == T0 + m(600)
    assert running.warning_at == T0 + m(480)
    assert running.remaining_minutes == 300
    assert running.next_change_at == T0 + m(480)

    warned = clocks([created()], T0 + m(500))["resolution"]
    assert warned.status == "warning"
    assert warned.next_change_at == T0 + m(600)

    late = clocks([created()], T0 + m(700))["resolution"]
    assert late.status == "breached"
    assert late.breached_at == T0 + m(600)
    assert late.settled_at == T0 + m(600)
    assert late.next_change_at is None
    assert [s.kind for s in late.steps] == ["started", "warning", "breached"]


def test_booking_stops_the_response_clock_arrival_and_completion_the_others() -> None:
    events = [
        created(),
        booked(T0 + m(30), T0 + m(200)),
        Event(kinds.VISIT_ARRIVED, T0 + m(350), id=3),
        Event(kinds.VISIT_COMPLETED, T0 + m(500), id=4),
    ]
    result = clocks(events, T0 + m(900))
    assert result["response"].status == "met"
    assert result["response"].stopped_at == T0 + m(30)
    assert result["arrival"].status == "breached"  # 350 > 300
    assert result["arrival"].breached_at == T0 + m(300)
    assert result["arrival"].stopped_at == T0 + m(350)
    assert result["resolution"].status == "met"
    assert result["resolution"].settled_at == T0 + m(500)
    assert result["resolution"].steps[-1].kind == "met"
    assert result["resolution"].steps[-1].event_id == 4


def test_a_customer_reschedule_pauses_between_the_old_and_the_new_window() -> None:
    old, new = T0 + m(120), T0 + m(120 + 1440)
    move = Event(
        kinds.VISIT_RESCHEDULED,
        T0 + m(60),
        {
            "reason": "customer_request",
            "old_window": [iso(old), iso(old + m(120))],
            "window": [iso(new), iso(new + m(120))],
        },
        id=3,
    )
    events = [created(), booked(T0 + m(10), old), move]
    before = clocks(events, T0 + m(100))["resolution"]
    assert before.status == "running"  # the pause is planned, not started
    assert before.due_at == T0 + m(600 + 1440)
    assert before.next_change_at == old

    paused = clocks(events, T0 + m(200))["resolution"]
    assert paused.status == "paused"
    assert paused.paused_since == old
    assert paused.resumes_at == new
    assert paused.reason == "customer_request"
    assert paused.paused_minutes == 80
    assert paused.remaining_minutes == 600 - 120

    resumed = clocks(events, new + m(10))["resolution"]
    assert resumed.status == "running"
    assert resumed.paused_minutes == 1440
    kinds_seen = [s.kind for s in resumed.steps]
    assert kinds_seen == ["started", "paused", "resumed", "due"]


def test_a_technician_reschedule_does_not_pause() -> None:
    old, new = T0 + m(120), T0 + m(2000)
    move = Event(
        kinds.VISIT_RESCHEDULED,
        T0 + m(60),
        {"reason": "technician_unavailable", "old_window": [iso(old)], "window": [iso(new)]},
    )
    assert clocks([created(), move], T0 + m(100))["resolution"].due_at == T0 + m(600)


def test_no_access_pauses_until_the_next_agreed_window() -> None:
    no_access = Event(kinds.VISIT_NO_ACCESS, T0 + m(180), id=3)
    events = [created(), booked(T0 + m(10), T0 + m(120)), no_access]
    open_pause = clocks(events, T0 + m(300))["resolution"]
    assert open_pause.status == "paused"
    assert open_pause.due_at is None
    assert open_pause.resumes_at is None
    assert open_pause.remaining_minutes == 420
    assert open_pause.next_change_at is None

    rebooked = [*events, booked(T0 + m(400), T0 + m(1000), event_id=4)]
    again = clocks(rebooked, T0 + m(500))["resolution"]
    assert again.status == "paused"
    assert again.resumes_at == T0 + m(1000)
    assert again.due_at == T0 + m(600 + 820)


def test_waiting_for_parts_pauses_until_the_next_booking() -> None:
    parts = Event(kinds.VISIT_NEEDS_REVISIT, T0 + m(200), {"reason": "waiting_for_parts"}, id=3)
    events = [created(), booked(T0 + m(10), T0 + m(100)), parts]
    rebooked = [*events, booked(T0 + m(500), T0 + m(900), event_id=4)]
    result = clocks(rebooked, T0 + m(600))["resolution"]
    assert result.status == "running"
    assert result.due_at == T0 + m(600 + 300)
    assert result.reason == "waiting_for_parts"
    other = Event(kinds.VISIT_NEEDS_REVISIT, T0 + m(200), {"reason": "access_to_riser"})
    assert clocks([created(), other], T0 + m(300))["resolution"].status == "running"


def test_a_pause_does_not_undo_a_breach() -> None:
    parts = Event(kinds.ORDER_WAITING_FOR_PARTS, T0 + m(700), id=3)
    result = clocks([created(), parts], T0 + m(800))["resolution"]
    assert result.status == "breached"
    assert result.breached_at == T0 + m(600)


def test_a_priority_change_retargets_from_registration() -> None:
    raised = Event(kinds.ORDER_UPDATED, T0 + m(60), {"priority": ["normal", "urgent"]}, id=3)
    result = compute_clocks(
        [created(), raised],
        "urgent",
        {"normal": NORMAL, "urgent": URGENT},
        CalendarTime(),
        T0 + m(100),
    )
    resolution = next(c for c in result if c.target == "resolution")
    assert resolution.due_at == T0 + m(240)
    assert resolution.target_minutes == 240
    step = next(s for s in resolution.steps if s.kind == "retargeted")
    assert step.at == T0 + m(60)
    assert "normal -> urgent" in step.detail
    assert "240" in step.detail


def test_a_deadline_set_by_hand_replaces_the_resolution_due_time() -> None:
    by_hand = T0 + m(1000)
    events = [created(control_deadline=iso(by_hand))]
    result = clocks(events, T0 + m(10))
    assert result["resolution"].due_at == by_hand
    assert result["resolution"].target_minutes == 1000
    assert result["resolution"].warning_at == T0 + m(800)
    assert result["response"].due_at == T0 + m(120)  # the other clocks keep the policy
    cleared = Event(kinds.ORDER_UPDATED, T0 + m(5), {"control_deadline": [iso(by_hand), None]})
    assert clocks([*events, cleared], T0 + m(10))["resolution"].due_at == T0 + m(600)


def test_cancelling_stops_running_clocks_but_keeps_breaches() -> None:
    cancel = Event(kinds.ORDER_CANCELLED, T0 + m(400), {"reason": "x"}, id=3)
    result = clocks([created(), booked(T0 + m(10), T0 + m(100)), cancel], T0 + m(500))
    assert result["response"].status == "met"
    assert result["arrival"].status == "breached"  # 300 passed before the cancellation
    assert result["resolution"].status == "cancelled"
    assert result["resolution"].stopped_at == T0 + m(400)
    assert result["resolution"].settled_at is None


def test_business_time_skips_nights_weekends_and_holidays() -> None:
    friday_5pm = datetime.combine(date(2026, 3, 6), time(17), tzinfo=ALMATY)
    events = [Event(kinds.ORDER_CREATED, friday_5pm, {"priority": "normal"})]
    business = Targets(response=120, arrival=300, resolution=600, measure="business")
    result = clocks(events, friday_5pm + m(30), {"normal": business}, KZ)
    response = result["response"]
    assert response.measure == "business"
    # 1 h on Friday, then Monday 9 March is a holiday: Tuesday 10:00.
    assert response.due_at == datetime.combine(date(2026, 3, 10), time(10), tzinfo=ALMATY)
    # 1 h on Friday and all of Tuesday: the due time is the end of Tuesday, not Wednesday 09:00.
    assert result["resolution"].due_at == datetime.combine(
        date(2026, 3, 10), time(18), tzinfo=ALMATY
    )


def test_reconstructed_events_say_so_and_no_policy_means_no_clocks() -> None:
    derived = Event(kinds.VISIT_COMPLETED, T0 + m(100), derived=True)
    result = clocks([created(), derived], T0 + m(200))["resolution"]
    assert result.status == "met"
    assert "reconstructed" in result.steps[-1].detail
    assert clocks([created()], T0, {"normal": None}) == {}


def test_the_most_specific_policy_wins() -> None:
    def rule(**key: Any) -> PolicyRule:
        fields = {"work_type": None, "priority": None, "segment": None, "area_kind": None}
        return PolicyRule(
            id=uuid.uuid4(),
            name=str(key),
            response_minutes=1,
            arrival_minutes=2,
            resolution_minutes=3,
            measure="business",
            warning_ratio=0.8,
            **(fields | key),
        )

    catch_all = rule()
    repair = rule(work_type="repair")
    urgent = rule(priority="urgent")
    repair_rural = rule(work_type="repair", area_kind="rural")
    repair_urgent = rule(work_type="repair", priority="urgent")
    rules = [catch_all, repair, urgent, repair_rural, repair_urgent]
    assert choose(rules, "repair", "urgent", "b2c", "rural") is repair_urgent
    assert choose(rules, "repair", "normal", "b2c", "rural") is repair_rural
    assert choose(rules, "repair", "normal", "b2c", "urban") is repair
    assert choose(rules, "installation", "urgent", "b2b", "urban") is urgent
    assert choose(rules, "installation", "low", "b2b", "urban") is catch_all
    assert choose([repair], "installation", "low", "b2b", "urban") is None
