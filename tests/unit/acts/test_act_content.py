"""The act's content builder: answers as answered, statements, evidence, equipment lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from checklists import Answer, CompiledTemplate, evaluate, load_templates
from checklists.schema import (
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    GeoPoint,
    Location,
    NumberStep,
    PersonNameStep,
    PhotoStep,
    SerialEntry,
    SerialStep,
    SignatureStep,
    Step,
    TextStep,
    YesNoStep,
)
from reports.i18n import format_distance
from reports.snapshot import Language
from service.acts.content import (
    InstalledRecord,
    RowSource,
    answer_text,
    checklist_rows,
    equipment_lines,
)

TEMPLATES = load_templates()
ZONE = ZoneInfo("Asia/Almaty")
SITE = GeoPoint(lat=43.23913, lon=76.92872)
# ~35 m north-east of the site.
NEAR = Location(lat=43.23938, lon=76.92898, accuracy_m=12.0)
AT = datetime(2026, 12, 4, 5, 30, tzinfo=UTC)
COORDINATES = re.compile(r"-?\d{1,3}\.\d{3,}\s*,\s*-?\d{1,3}\.\d{3,}")
STEP_ID = re.compile(r"^[a-z]+_[a-z_]+$")


def _value_for(step: Step, index: int) -> Answer:
    """A valid answer for any step kind, distinct per step so each can be found in its row."""
    at = AT.replace(minute=index % 60)
    if isinstance(step, ConfirmStep):
        return Answer(step_id=step.id, value=True, answered_at=at, location=NEAR)
    if isinstance(step, YesNoStep):
        return Answer(step_id=step.id, value=True, answered_at=at, location=NEAR)
    if isinstance(step, ChoiceStep):
        return Answer(step_id=step.id, value=step.options[-1].value, answered_at=at, location=NEAR)
    if isinstance(step, NumberStep):
        value = 12345.5 if step.max is None or step.max >= 12345.5 else (step.min or 0) + 1
        return Answer(step_id=step.id, value=value, answered_at=at, location=NEAR)
    if isinstance(step, PersonNameStep):
        return Answer(step_id=step.id, value="Әлия Нұрланова", answered_at=at, location=NEAR)
    if isinstance(step, TextStep):
        return Answer(step_id=step.id, value=f"Заметка {step.id}", answered_at=at, location=NEAR)
    if isinstance(step, PhotoStep):
        photos = tuple(f"p-{step.id}-{n}" for n in range(max(step.min_count, 3)))
        return Answer(step_id=step.id, photo_ids=photos, answered_at=at, location=NEAR)
    if isinstance(step, GeoCheckStep):
        return Answer(step_id=step.id, answered_at=at, location=NEAR)
    if isinstance(step, SerialStep):
        entries = tuple(
            SerialEntry(value=f"SN{index:02d}{n}", method="typed")
            for n in range(max(step.min_count, 2))
        )
        return Answer(step_id=step.id, value=entries, answered_at=at, location=NEAR)
    assert isinstance(step, SignatureStep)
    return Answer(step_id=step.id, value="sig-1", answered_at=at, location=NEAR)


def _answers(template: CompiledTemplate) -> dict[str, Answer]:
    return {
        step_id: _value_for(compiled.step, index)
        for index, (step_id, compiled) in enumerate(template.steps.items())
        if compiled.phase_index is not None
    }


def _rows(template: CompiledTemplate, lang: str = "ru", newest: CompiledTemplate | None = None):  # type: ignore[no-untyped-def]
    answers = _answers(template)
    state = evaluate(template, answers, lang=lang, site=SITE)  # type: ignore[arg-type]
    rows = checklist_rows(
        RowSource(pinned=template, newest=newest),
        answers,
        answered=set(state.answered_steps),
        language=lang,  # type: ignore[arg-type]
        zone=ZONE,
        site=SITE,
        fallback_time=AT,
    )
    return answers, rows


@pytest.mark.parametrize("key", TEMPLATES.keys())
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_row_of_every_template_shows_the_answer_as_answered(key: str, lang: str) -> None:
    template = TEMPLATES.get(key)
    answers, rows = _rows(template, lang)
    assert rows
    by_step = {row.step_id: row for row in rows}
    for step_id, row in by_step.items():
        step = template.steps[step_id].step
        answer = answers[step_id]
        # A location was sent with every answer: it must never stand in for the value.
        assert not COORDINATES.search(row.answer), (step_id, row.answer)
        assert row.label == step.statement.get(lang)  # type: ignore[union-attr]
        assert not STEP_ID.match(row.label)
        assert row.answered_at.utcoffset() == ZONE.utcoffset(AT.replace(tzinfo=None))
        if isinstance(step, PersonNameStep | TextStep):
            assert row.answer == answer.value
        elif isinstance(step, ChoiceStep):
            assert row.answer == step.options[-1].label.get(lang)  # type: ignore[arg-type]
            assert row.answer != step.options[-1].value
        elif isinstance(step, NumberStep):
            assert row.answer.endswith(step.unit.get(lang))  # type: ignore[arg-type]
            assert ("12345,5" if lang != "en" else "12345.5") in row.answer
        elif isinstance(step, SerialStep):
            assert all(entry.value in row.answer for entry in answer.value)  # type: ignore[union-attr]
        elif isinstance(step, PhotoStep):
            assert row.answer.startswith(f"{len(answer.photo_ids)} ")
        elif isinstance(step, GeoCheckStep):
            assert row.answer == {"ru": "У адреса объекта", "kk": "Нысан мекенжайында"}.get(
                lang, "At the site address"
            )
            assert row.evidence is not None
            assert "35" in row.evidence  # type: ignore[operator]
            assert "±12" in row.evidence  # type: ignore[operator]
        else:
            assert row.answer == {"ru": "Да", "kk": "Иә", "en": "Yes"}[lang]


@pytest.mark.parametrize("key", TEMPLATES.keys())
def test_internal_and_after_signing_steps_are_not_rows(key: str) -> None:
    _, rows = _rows(TEMPLATES.get(key))
    step_ids = {row.step_id for row in rows}
    assert not step_ids & {
        "supervisor_check",
        "materials_ready",
        "overshoes_on_hand",
        "visit_time_known",
        "support_contacts_known",
        "standing_rules_ack",
        "geo_mismatch_note",
        "sign_act",
        "sign_handover_act",
        "thanked",
    }
    assert {"geo_arrival", "show_id", "acceptor_name"} <= step_ids


@pytest.mark.parametrize("key", TEMPLATES.keys())
def test_an_old_pinned_version_borrows_the_newest_statements(key: str) -> None:
    old = TEMPLATES.get(key, 1)
    newest = TEMPLATES.get(key)
    _, rows = _rows(old, "kk", newest=newest)
    for row in rows:
        assert row.label == newest.steps[row.step_id].step.statement.get("kk")  # type: ignore[union-attr]
    assert "supervisor_check" not in {row.step_id for row in rows}


def test_an_old_version_without_a_newer_one_keeps_its_titles_but_still_hides_preparation() -> None:
    old = TEMPLATES.get("repair", 1)
    _, rows = _rows(old)
    assert "supervisor_check" not in {row.step_id for row in rows}
    assert rows[0].label == old.steps[rows[0].step_id].step.title.ru


def test_an_answer_to_a_hidden_step_is_not_printed() -> None:
    template = TEMPLATES.get("repair")
    answers = _answers(template)
    answers["equipment_replaced"] = Answer(step_id="equipment_replaced", value=False)
    state = evaluate(template, answers, site=SITE)
    rows = checklist_rows(
        RowSource(pinned=template),
        answers,
        answered=set(state.answered_steps),
        language="ru",
        zone=ZONE,
        site=SITE,
        fallback_time=AT,
    )
    by_step = {row.step_id: row for row in rows}
    assert by_step["equipment_replaced"].answer == "Нет"
    assert "equipment_installed" not in by_step


def test_arrival_far_from_the_site_says_so_with_the_distance() -> None:
    step = TEMPLATES.get("repair").steps["geo_arrival"].step
    far = Location(lat=43.24913, lon=76.92872, accuracy_m=8)
    text, evidence = answer_text(step, Answer(step_id="geo_arrival", location=far), "en", SITE)
    assert text == "Away from the site address"
    assert evidence == "1.1 km from the address (accuracy ±8 m)"
    _, in_russian = answer_text(step, Answer(step_id="geo_arrival", location=far), "ru", SITE)
    assert in_russian == "1,1 км от адреса (точность ±8 м)"
    unknown_site = answer_text(step, Answer(step_id="geo_arrival", location=far), "ru", None)
    assert unknown_site == ("Местоположение отмечено", None)


@pytest.mark.parametrize(
    ("metres", "language", "printed"),
    [
        (5000.0, "ru", "5,0 км"),
        (5000.0, "kk", "5,0 км"),
        (5000.0, "en", "5.0 km"),
        (999.4, "ru", "999 м"),
        (999.6, "en", "1.0 km"),
        (12_345.0, "kk", "12,3 км"),
        (35.2, "kk", "35 м"),
    ],
)
def test_distances_from_a_kilometre_are_printed_in_kilometres(
    metres: float, language: Language, printed: str
) -> None:
    assert format_distance(metres, language) == printed


def test_equipment_records_with_replacements_and_checklist_serials() -> None:
    lines = equipment_lines(
        order_items=[{"name": "ONT", "quantity": 1, "unit": "pcs"}],
        installed=[
            InstalledRecord(name="ONT HG8245", serial="NEW1", replaces_serial="OLD1"),
            InstalledRecord(name="Роутер", serial="R2", model="AX3000"),
        ],
        checklist_serials=["NEW1", "SN9"],
        language="kk",
    )
    assert [(line.name, line.serial, line.action) for line in lines] == [
        ("ONT HG8245", "NEW1", "replaced"),
        ("Роутер", "R2", "installed"),
        ("Жабдық", "SN9", "installed"),
    ]
    assert lines[0].replaced_serial == "OLD1"
    assert {line.unit for line in lines} == {"дана"}


def test_order_equipment_stands_without_records_and_units_follow_the_language() -> None:
    lines = equipment_lines(
        order_items=[
            {"name": "Кабель", "quantity": 18.5, "unit": "m"},
            {"name": "ONT", "serial": "A1", "unit": "шт"},
        ],
        installed=[],
        checklist_serials=["A1"],
        language="en",
    )
    # Only serials were recorded on site: the planned ONT carrying one is named, the cable
    # (never recorded as used) is not claimed.
    assert [(line.name, line.quantity, line.unit, line.serial) for line in lines] == [
        ("ONT", Decimal(1), "pcs", "A1"),
    ]
    planned = equipment_lines(
        order_items=[{"name": "Кабель", "quantity": 18.5, "unit": "m"}],
        installed=[],
        checklist_serials=[],
        language="en",
    )
    assert [(line.name, line.quantity, line.unit) for line in planned] == [
        ("Кабель", Decimal("18.5"), "m"),
    ]
