"""Golden checks of the shipped templates against DOMAIN.md's stable step ids."""

from __future__ import annotations

import pytest

from checklists import (
    TEMPLATES_DIR,
    CompiledTemplate,
    TemplateSet,
    check_directory,
    load_templates,
    needs_native_review,
)
from checklists.schema import (
    ConfirmStep,
    GeoCheckStep,
    NumberStep,
    PhotoStep,
    SerialStep,
    SignatureStep,
    YesNoStep,
)

# DOMAIN.md, "The on-site visit algorithm (seed 000 §12), as checklist steps".
DOMAIN_STEPS = {
    "before_departure": [
        "supervisor_check",
        "materials_ready",
        "overshoes_on_hand",
        "visit_time_known",
        "support_contacts_known",
    ],
    "arrival": [
        "geo_arrival",
        "greeting",
        "show_id",
        "adult_present",
        "acceptor_name",
        "overshoes_on",
        "invited_in",
    ],
    "work": [
        "photo_before",
        "actions_explained",
        "no_damage_area_clean",
        "photo_after",
        "equipment_installed",
    ],
    "completion": [
        "demo_service",
        "customer_satisfied",
        "usage_advice",
        "channels_informed",
        "sign_act",
        "thanked",
    ],
}
OUTCOMES = {
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
}
STANDING_RULES = {"no_money", "no_moving_furniture", "no_informal_relations", "no_negative_talk"}


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    return load_templates()


def phase_of(template: CompiledTemplate) -> dict[str, str]:
    return {step.id: phase.phase.id for phase in template.phases for step in phase.steps}


def gate_of(template: CompiledTemplate, phase_id: str) -> list[tuple[str, object]]:
    (phase,) = [p for p in template.phases if p.phase.id == phase_id]
    return [(r.step_id, r.equals) for r in phase.gate]


def test_shipped_directory_is_valid() -> None:
    templates, issues = check_directory(TEMPLATES_DIR)
    assert issues == []
    assert sorted(f"{t.key}.v{t.version}.yaml" for t in templates) == sorted(
        path.name for path in TEMPLATES_DIR.glob("*.yaml")
    )


@pytest.mark.parametrize("key", ["installation", "repair"])
def test_every_domain_step_is_in_its_phase(templates: TemplateSet, key: str) -> None:
    template = templates.get(key)
    phases = phase_of(template)
    assert [p.phase.id for p in template.phases] == list(DOMAIN_STEPS)
    for phase_id, step_ids in DOMAIN_STEPS.items():
        for step_id in step_ids:
            assert phases.get(step_id) == phase_id, f"{key}: {step_id}"


@pytest.mark.parametrize("key", ["installation", "repair", "construction", "meter_check"])
def test_common_visit_rules(templates: TemplateSet, key: str) -> None:
    template = templates.get(key)
    assert set(template.outcomes) == OUTCOMES
    assert {rule.id for rule in template.template.standing_rules} == STANDING_RULES
    phases = phase_of(template)
    for step_id in DOMAIN_STEPS["before_departure"] + DOMAIN_STEPS["arrival"]:
        assert phases[step_id] in ("before_departure", "arrival"), step_id
    ack = template.steps["standing_rules_ack"].step
    assert isinstance(ack, ConfirmStep)
    assert ack.acknowledges_standing_rules
    assert phases["standing_rules_ack"] == "before_departure"
    assert gate_of(template, "work") == [
        ("show_id", None),
        ("adult_present", True),
        ("overshoes_on", None),
    ]
    assert isinstance(template.steps["geo_arrival"].step, GeoCheckStep)
    assert isinstance(template.steps["adult_present"].step, YesNoStep)
    assert isinstance(template.steps["sign_act"].step, SignatureStep)
    waiting = template.outcomes["waiting_for_adult"].definition
    assert waiting.auto_when == "adult_present == false"
    assert not waiting.final
    incident = template.outcomes["aborted_safety"].definition.incident
    assert incident is not None
    assert (incident.kind, incident.notify) == ("safety", ("supervisor",))


@pytest.mark.parametrize(
    ("key", "completion_gate"),
    [
        ("installation", ["demo_service", "customer_satisfied", "sign_act", "sign_handover_act"]),
        ("repair", ["demo_service", "customer_satisfied", "sign_act"]),
        ("construction", ["demo_service", "customer_satisfied", "sign_act"]),
        ("meter_check", ["meter_reading", "customer_satisfied", "sign_act"]),
    ],
)
def test_completion_gates(templates: TemplateSet, key: str, completion_gate: list[str]) -> None:
    gate = templates.get(key).outcomes["completed"].gate
    assert [r.step_id for r in gate] == completion_gate


def test_handover_act_only_where_equipment_is_handed_over(templates: TemplateSet) -> None:
    handover = templates.get("installation").steps["sign_handover_act"]
    assert isinstance(handover.step, SignatureStep)
    assert handover.step.document == "handover_act"
    assert handover.condition is None
    assert "sign_handover_act" not in templates.get("repair").steps
    assert "sign_handover_act" not in templates.get("meter_check").steps
    construction = templates.get("construction").steps["sign_handover_act"].step
    assert construction.visible_when == "materials_handed_over == true"


def test_repair_asks_for_serials_only_when_equipment_was_replaced(
    templates: TemplateSet,
) -> None:
    repair = templates.get("repair")
    assert repair.steps["equipment_installed"].step.visible_when == "equipment_replaced == true"
    assert isinstance(repair.steps["equipment_installed"].step, SerialStep)
    assert templates.get("installation").steps["equipment_installed"].condition is None


def test_meter_check_records_the_meter(templates: TemplateSet) -> None:
    meter = templates.get("meter_check")
    reading = meter.steps["meter_reading"].step
    assert isinstance(reading, NumberStep)
    assert reading.unit.en == "kWh"
    assert (reading.min, reading.max) == (0, 999999.99)
    serial = meter.steps["meter_serial"].step
    assert isinstance(serial, SerialStep)
    assert (serial.min_count, serial.max_count) == (1, 1)
    assert isinstance(meter.steps["meter_photo"].step, PhotoStep)
    assert phase_of(meter)["meter_reading"] == "work"
    assert "demo_service" not in meter.steps
    assert "equipment_installed" not in meter.steps


def test_greeting_scripts_name_the_work_type(templates: TemplateSet) -> None:
    expected = {
        "installation": "наряд на подключение",
        "repair": "наряд на устранение повреждения",
        "construction": "наряд на строительно-монтажные работы",
        "meter_check": "наряд на проверку прибора учёта",
    }
    for key, phrase in expected.items():
        greeting = templates.get(key).steps["greeting"].step.help
        assert greeting is not None
        assert "Здравствуйте!" in greeting.ru
        assert phrase in greeting.ru
        assert "Сәлеметсіз бе!" in greeting.kk


def test_acceptor_script_comes_from_the_standard(templates: TemplateSet) -> None:
    help_text = templates.get("installation").steps["acceptor_name"].step.help
    assert help_text is not None
    assert "«Простите, Вы будете принимать работу? Как к Вам можно обращаться?»" in help_text.ru


def test_kazakh_awaits_review_and_is_listed(templates: TemplateSet) -> None:
    template = templates.get("installation").template
    pending = needs_native_review(template)
    assert "$.title" in pending
    assert "$.phases[1].steps[2].help" in pending  # the greeting script


def test_every_text_is_in_three_languages(templates: TemplateSet) -> None:
    from checklists.texts import iter_texts

    for compiled in templates:
        for path, text in iter_texts(compiled.template):
            assert text.ru.strip(), path
            assert text.kk.strip(), path
            assert text.en.strip(), path
            assert text.ru != text.en or text.ru.isascii(), path
