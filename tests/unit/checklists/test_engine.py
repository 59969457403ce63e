"""The engine on the shipped installation template: phases, gates, outcomes, compliance."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from checklists import (
    Answer,
    AnswerRejected,
    CompiledTemplate,
    Lang,
    TemplateSet,
    UnknownOutcome,
    evaluate,
    load_templates,
    validate_answer,
)
from tests.unit.checklists.builders import (
    AT_SITE,
    FAR_AWAY,
    SITE,
    START,
    answer,
    build,
    complete_answers,
    outcome,
    phase,
    step,
    valid_answer,
)

ARRIVAL_BEFORE_WORK = [
    "supervisor_check",
    "materials_ready",
    "overshoes_on_hand",
    "visit_time_known",
    "support_contacts_known",
    "standing_rules_ack",
    "geo_arrival",
    "greeting",
    "show_id",
    "adult_present",
    "acceptor_name",
    "overshoes_on",
    "invited_in",
]


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    return load_templates()


@pytest.fixture(scope="module")
def installation(templates: TemplateSet) -> CompiledTemplate:
    return templates.get("installation")


@pytest.fixture(scope="module")
def complete(installation: CompiledTemplate) -> dict[str, Answer]:
    return complete_answers(installation)


def up_to_work(installation: CompiledTemplate) -> dict[str, Answer]:
    return {
        step_id: valid_answer(installation.steps[step_id].step, START + timedelta(minutes=n))
        for n, step_id in enumerate(ARRIVAL_BEFORE_WORK)
    }


def without(answers: dict[str, Answer], *step_ids: str) -> dict[str, Answer]:
    return {key: value for key, value in answers.items() if key not in step_ids}


# ---------------------------------------------------------------- progress


def test_fresh_visit_starts_before_departure(installation: CompiledTemplate) -> None:
    state = evaluate(installation, {})
    assert state.current_phase == "before_departure"
    assert state.next_required_steps == tuple(ARRIVAL_BEFORE_WORK[:6])
    assert [p.status for p in state.phases] == ["open", "open", "locked", "locked"]
    assert not state.completion_allowed
    assert state.outcome is None
    assert state.compliance.score == 0


def test_complete_visit_may_be_completed(
    installation: CompiledTemplate, complete: dict[str, Answer]
) -> None:
    state = evaluate(installation, complete, site=SITE, outcome="completed")
    assert state.completion_allowed
    assert state.outcome == "completed"
    assert state.final
    assert state.current_phase is None
    assert state.missing_required_steps == ()
    assert state.blocking_reasons == ()
    assert state.compliance.score == 1
    assert state.compliance.required == len(complete)
    assert state.template_key == "installation"
    assert state.content_hash == installation.content_hash


def test_declared_completion_is_refused_while_a_step_is_missing(
    installation: CompiledTemplate, complete: dict[str, Answer]
) -> None:
    state = evaluate(installation, without(complete, "thanked"), outcome="completed", lang="en")
    assert not state.completion_allowed
    assert state.outcome is None
    assert state.missing_required_steps == ("thanked",)
    (reason,) = state.blocking_reasons
    assert reason.code == "required_step"
    assert reason.step_id == "thanked"
    assert reason.message == "Required step “Thanked the customer and said goodbye” is not done."


def test_completion_far_from_the_site_waits_for_the_mismatch_note(
    installation: CompiledTemplate, complete: dict[str, Answer]
) -> None:
    answers = {**complete, "geo_arrival": answer("geo_arrival", location=FAR_AWAY)}
    refused = evaluate(installation, answers, site=SITE, outcome="completed", lang="en")
    assert refused.outcome is None
    assert refused.missing_required_steps == ("geo_mismatch_note",)
    (reason,) = refused.blocking_reasons
    assert (reason.code, reason.step_id) == ("required_step", "geo_mismatch_note")
    assert "Why is the position far from the site?" in reason.message
    noted = {
        **answers,
        "geo_mismatch_note": answer("geo_mismatch_note", "Entrance on a side street"),
    }
    assert evaluate(installation, noted, site=SITE, outcome="completed").outcome == "completed"
    # Without the site nothing is measured: the note is not asked for (why the server passes it).
    assert evaluate(installation, answers, outcome="completed").outcome == "completed"


# ---------------------------------------------------------------- gates


@pytest.mark.parametrize("missing", ["show_id", "overshoes_on"])
def test_work_is_locked_until_its_gate_holds(installation: CompiledTemplate, missing: str) -> None:
    answers = without(up_to_work(installation), missing)
    state = evaluate(installation, answers, lang="en")
    assert state.phases[2].status == "locked"
    assert state.current_phase == "arrival"
    assert state.next_required_steps == (missing,)
    gate_reasons = [r for r in state.blocking_reasons if r.code == "phase_gate"]
    assert [(r.phase, r.step_id) for r in gate_reasons] == [("work", missing)]
    title = installation.steps[missing].step.title.en
    assert gate_reasons[0].message == f"Phase “Work” is locked: first complete “{title}”."


def test_work_opens_when_the_gate_holds(installation: CompiledTemplate) -> None:
    state = evaluate(installation, up_to_work(installation))
    assert state.phases[2].status == "open"
    assert state.current_phase == "work"
    assert state.next_required_steps == (
        "photo_before",
        "actions_explained",
        "no_damage_area_clean",
        "photo_after",
        "equipment_installed",
    )


def test_answer_in_a_locked_phase_is_rejected(installation: CompiledTemplate) -> None:
    answers = without(up_to_work(installation), "show_id")
    photo = valid_answer(installation.steps["photo_before"].step)
    with pytest.raises(AnswerRejected) as caught:
        validate_answer(installation, answers, photo, lang="en")
    assert caught.value.code == "phase_locked"
    assert caught.value.message == (
        "Phase “Work” is not open yet: first complete “Showed the company ID”."
    )
    state = evaluate(installation, {**answers, "photo_before": photo})
    assert "photo_before" not in state.answered_steps
    assert [(i.step_id, i.code) for i in state.rejected_answers] == [
        ("photo_before", "phase_locked")
    ]


def test_completion_gate_is_declared_in_the_template() -> None:
    # The same engine with a template whose completion needs nothing but `b`.
    template = build(
        [phase("p", [step("a", "confirm", required=False), step("b", "confirm")])],
        [outcome("completed", gate=[{"step": "a"}])],
    )
    state = evaluate(template, {"b": answer("b", True)}, lang="en")
    assert not state.completion_allowed
    assert [(r.code, r.step_id) for r in state.blocking_reasons] == [("outcome_gate", "a")]
    assert evaluate(template, {"a": answer("a", True), "b": answer("b", True)}).completion_allowed


def test_gate_with_a_value_explains_the_expected_answer() -> None:
    template = build(
        [
            phase("first", [step("ready", "yes_no")]),
            phase("second", [step("done", "confirm")], gate=[{"step": "ready", "equals": True}]),
        ]
    )
    state = evaluate(template, {"ready": answer("ready", False)}, lang="kk")
    (reason,) = state.blocking_reasons
    assert reason.message == "«second» кезеңі қолжетімсіз: «ready» қадамына «Иә» жауабы қажет."


# ---------------------------------------------------------------- minors and outcomes


def test_minor_at_the_door_blocks_work_and_waits_for_an_adult(
    installation: CompiledTemplate,
) -> None:
    answers = up_to_work(installation)
    answers["adult_present"] = answer("adult_present", False)
    state = evaluate(installation, answers, lang="en")
    assert state.outcome == "waiting_for_adult"
    assert not state.final
    assert state.incident is None
    assert state.phases[2].status == "locked"
    # Inside steps vanish: the technician must not enter.
    assert {"acceptor_name", "overshoes_on", "invited_in"}.isdisjoint(state.visible_steps)
    assert {i.step_id: i.code for i in state.rejected_answers} == {
        "acceptor_name": "step_hidden",
        "overshoes_on": "step_hidden",
        "invited_in": "step_hidden",
    }
    gate = [r for r in state.blocking_reasons if r.code == "phase_gate"]
    assert [r.step_id for r in gate] == ["adult_present"]
    assert gate[0].message.endswith("do not enter; wait for an adult.")
    # The technician checked in on site, so giving up as no_access is possible too.
    assert {"waiting_for_adult", "no_access"} <= set(state.allowed_outcomes)
    assert "completed" not in state.allowed_outcomes


def test_waiting_for_adult_ends_when_an_adult_comes(installation: CompiledTemplate) -> None:
    state = evaluate(installation, up_to_work(installation))
    assert state.outcome is None
    assert state.phases[2].status == "open"


def test_waiting_for_adult_may_end_as_no_access(installation: CompiledTemplate) -> None:
    answers = {
        "geo_arrival": answer("geo_arrival", location=AT_SITE),
        "adult_present": answer("adult_present", False),
    }
    assert "no_access" in evaluate(installation, answers).allowed_outcomes
    pending = evaluate(installation, answers, outcome="no_access", lang="en")
    assert pending.outcome == "waiting_for_adult"
    assert pending.next_required_steps == ("no_access_reason",)
    assert [r.step_id for r in pending.blocking_reasons] == ["no_access_reason"]
    answers["no_access_reason"] = answer("no_access_reason", "no_adult_arrived")
    closed = evaluate(installation, answers, outcome="no_access")
    assert closed.outcome == "no_access"
    assert closed.final
    assert not closed.completion_allowed


def test_no_access_needs_proof_of_arrival(installation: CompiledTemplate) -> None:
    answers = {"no_access_reason": answer("no_access_reason", "customer_absent")}
    state = evaluate(installation, answers, outcome="no_access", lang="en")
    assert state.outcome is None
    assert [(r.code, r.step_id) for r in state.blocking_reasons] == [
        ("outcome_gate", "geo_arrival")
    ]


def test_safety_abort_raises_an_incident_at_once(installation: CompiledTemplate) -> None:
    state = evaluate(installation, up_to_work(installation), outcome="aborted_safety")
    assert state.outcome == "aborted_safety"
    assert state.final
    assert state.incident is not None
    assert state.incident.kind == "safety"
    assert state.incident.notify == ("supervisor",)
    assert state.incident.fallback_notify == ("security",)
    assert not state.completion_allowed
    encoded = msgspec.json.decode(msgspec.json.encode(state))
    assert encoded["incident"] == {
        "kind": "safety",
        "notify": ["supervisor"],
        "fallback_notify": ["security"],
    }


def test_revisit_asks_for_a_note_only_for_other_reasons(installation: CompiledTemplate) -> None:
    answers = {"revisit_reason": answer("revisit_reason", "parts_missing")}
    state = evaluate(installation, answers, outcome="needs_revisit")
    assert state.outcome == "needs_revisit"
    assert "revisit_note" not in state.visible_steps
    answers = {"revisit_reason": answer("revisit_reason", "other")}
    state = evaluate(installation, answers, outcome="needs_revisit")
    assert state.outcome is None
    assert state.next_required_steps == ("revisit_note",)


def test_refusal_to_sign_records_the_reason(
    installation: CompiledTemplate, complete: dict[str, Answer]
) -> None:
    answers = without(complete, "sign_act", "sign_handover_act", "thanked")
    state = evaluate(installation, answers, outcome="customer_refused_to_sign")
    assert state.outcome is None
    assert state.next_required_steps == ("refusal_reason",)
    answers["refusal_reason"] = answer("refusal_reason", "Не согласен с объёмом работ")
    state = evaluate(installation, answers, outcome="customer_refused_to_sign")
    assert state.outcome == "customer_refused_to_sign"
    assert state.final


def test_outcome_steps_need_their_outcome_declared(installation: CompiledTemplate) -> None:
    reason = answer("refusal_reason", "—")
    with pytest.raises(AnswerRejected) as caught:
        validate_answer(installation, {}, reason)
    assert caught.value.code == "outcome_not_declared"
    state = evaluate(installation, {"refusal_reason": reason})
    assert [(i.step_id, i.code) for i in state.rejected_answers] == [
        ("refusal_reason", "outcome_not_declared")
    ]


def test_unknown_outcome_is_an_error(installation: CompiledTemplate) -> None:
    with pytest.raises(UnknownOutcome):
        evaluate(installation, {}, outcome="lost")  # type: ignore[arg-type]


# ---------------------------------------------------------------- visibility and bad answers


def test_hidden_step_is_rejected_with_its_title(installation: CompiledTemplate) -> None:
    answers = {"customer_satisfied": answer("customer_satisfied", True)}
    note = answer("dissatisfaction_note", "Долго")
    with pytest.raises(AnswerRejected) as caught:
        validate_answer(installation, up_to_work(installation) | answers, note, lang="ru")
    assert caught.value.code == "step_hidden"
    assert (
        caught.value.message
        == "Шаг «Что не устраивает клиента» не показывается при текущих ответах."
    )


def test_unknown_step_is_rejected(installation: CompiledTemplate) -> None:
    with pytest.raises(AnswerRejected) as caught:
        validate_answer(installation, {}, answer("teleport", True), lang="en")
    assert caught.value.code == "unknown_step"
    assert caught.value.message == "Step “teleport” is not in this checklist."
    state = evaluate(installation, {"teleport": answer("teleport", True)})
    assert [(i.step_id, i.code) for i in state.rejected_answers] == [("teleport", "unknown_step")]


def test_answer_stored_under_another_key_is_not_counted(installation: CompiledTemplate) -> None:
    state = evaluate(installation, {"greeting": answer("show_id", True)}, lang="en")
    (issue,) = state.rejected_answers
    assert issue.code == "step_id_mismatch"
    assert issue.message == "The answer is stored under “greeting” but names step “show_id”."


def test_changing_an_answer_hides_later_answers(installation: CompiledTemplate) -> None:
    answers = up_to_work(installation)
    answers["adult_present"] = answer("adult_present", False)
    state = evaluate(installation, answers)
    assert "acceptor_name" not in state.answered_steps


def test_replacing_an_answer_is_validated_without_the_old_one(
    installation: CompiledTemplate,
) -> None:
    answers = up_to_work(installation)
    answers["adult_present"] = answer("adult_present", False)
    # Re-answering adult_present itself is fine even though work is now locked.
    validate_answer(installation, answers, answer("adult_present", True))


# ---------------------------------------------------------------- compliance


def test_step_answered_before_an_earlier_phase_is_out_of_order(
    installation: CompiledTemplate, complete: dict[str, Answer]
) -> None:
    answers = dict(complete)
    early = START - timedelta(hours=1)
    answers["photo_before"] = msgspec.structs.replace(complete["photo_before"], answered_at=early)
    state = evaluate(installation, answers, site=SITE)
    assert state.compliance.out_of_order == ("photo_before",)
    assert state.compliance.compliant == state.compliance.required - 1
    assert state.completion_allowed  # order is a quality measure, not a block


def test_step_answered_before_the_step_its_condition_reads_is_out_of_order() -> None:
    template = build(
        [
            phase(
                "p",
                [step("ok", "yes_no"), step("why", "text", visible_when="ok == false")],
            )
        ]
    )
    answers = {
        "ok": answer("ok", False, answered_at=START + timedelta(minutes=5)),
        "why": answer("why", "сломано", answered_at=START),
    }
    assert evaluate(template, answers).compliance.out_of_order == ("why",)


def test_missing_photo_evidence_is_reported(
    installation: CompiledTemplate, complete: dict[str, Answer]
) -> None:
    answers = dict(complete)
    answers["sign_act"] = msgspec.structs.replace(complete["sign_act"], location=None)
    state = evaluate(installation, answers, site=SITE)
    assert [(g.step_id, g.missing) for g in state.compliance.missing_evidence] == [
        ("sign_act", ("location",))
    ]
    assert state.compliance.score == round((len(complete) - 1) / len(complete), 4)


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("lang", "pattern"),
    [
        ("ru", "Не выполнен обязательный шаг «{}»."),
        ("kk", "«{}» міндетті қадамы орындалмаған."),
        ("en", "Required step “{}” is not done."),
    ],
)
def test_blocking_reasons_speak_the_requested_language(
    installation: CompiledTemplate, lang: Lang, pattern: str
) -> None:
    state = evaluate(installation, {}, lang=lang)
    title = installation.template.phases[0].steps[0].title
    assert state.blocking_reasons[0].message == pattern.format(title.get(lang))
    assert title.get(lang) != title.get("ru" if lang != "ru" else "en")
    assert state.phases[0].title == installation.template.phases[0].title.get(lang)
