"""Every step kind: which answers it takes, the precise error for those it refuses."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from checklists import (
    Answer,
    AnswerRejected,
    Lang,
    Location,
    SerialEntry,
    Template,
    evaluate,
    haversine_m,
    validate_answer,
)
from tests.unit.checklists.builders import (
    AT_SITE,
    FAR_AWAY,
    SITE,
    answer,
    build,
    one_step,
    phase,
    step,
)


def rejection(template: Template, given: Answer, lang: Lang = "en") -> AnswerRejected:
    with pytest.raises(AnswerRejected) as caught:
        validate_answer(template, {}, given, lang=lang)
    assert caught.value.step_id == given.step_id
    return caught.value


def accepted(template: Template, given: Answer) -> None:
    validate_answer(template, {}, given)
    state = evaluate(template, {given.step_id: given})
    assert state.answered_steps == (given.step_id,)
    assert state.rejected_answers == ()


# ---------------------------------------------------------------- confirm / yes_no


def test_confirm_takes_only_true() -> None:
    template = one_step("confirm")
    accepted(template, answer("s", True))
    assert rejection(template, answer("s", False)).code == "invalid_value"
    error = rejection(template, answer("s", "yes"))
    assert error.code == "wrong_type"
    assert error.message == "Step “s” expects true."


@pytest.mark.parametrize("value", [True, False])
def test_yes_no_takes_both_booleans(value: bool) -> None:
    accepted(one_step("yes_no"), answer("s", value))


@pytest.mark.parametrize("value", [1, "no", None])
def test_yes_no_refuses_non_booleans(value: Any) -> None:
    assert rejection(one_step("yes_no"), answer("s", value)).code == "wrong_type"


# ---------------------------------------------------------------- choice


def choice_template() -> Template:
    options = [
        {"value": "line", "label": {"ru": "Линия", "kk": "Желі", "en": "Line"}},
        {"value": "modem", "label": {"ru": "Модем", "kk": "Модем", "en": "Modem"}},
    ]
    return one_step("choice", options=options)


def test_choice_takes_a_listed_option() -> None:
    accepted(choice_template(), answer("s", "modem"))


def test_choice_refuses_an_unlisted_option_and_lists_the_options() -> None:
    error = rejection(choice_template(), answer("s", "router"))
    assert error.code == "invalid_option"
    assert error.message == "“s”: “router” is not an option (options: line, modem)."


def test_choice_refuses_a_non_string() -> None:
    assert rejection(choice_template(), answer("s", 1)).code == "wrong_type"


# ---------------------------------------------------------------- text / person_name


@pytest.mark.parametrize("kind", ["text", "person_name"])
def test_text_kinds_take_non_blank_strings(kind: str) -> None:
    accepted(one_step(kind), answer("s", "Айгерім"))


@pytest.mark.parametrize(("kind", "value"), [("text", "  "), ("person_name", "")])
def test_text_kinds_refuse_blank(kind: str, value: str) -> None:
    assert rejection(one_step(kind), answer("s", value)).code == "empty_value"


def test_text_length_is_limited() -> None:
    template = one_step("text", max_length=5)
    accepted(template, answer("s", "12345"))
    error = rejection(template, answer("s", "123456"))
    assert error.code == "too_long"
    assert "at most 5 characters" in error.message


# ---------------------------------------------------------------- number


def meter_template() -> Template:
    unit = {"ru": "кВт·ч", "kk": "кВт·сағ", "en": "kWh"}
    return one_step("number", unit=unit, min=0, max=99999.9)


@pytest.mark.parametrize("value", [0, 0.0, 12345, 99999.9])
def test_number_takes_values_in_range(value: float) -> None:
    accepted(meter_template(), answer("s", value))


def test_number_below_minimum_names_the_bound_and_unit() -> None:
    error = rejection(meter_template(), answer("s", -1), lang="ru")
    assert error.code == "out_of_range"
    assert error.message == "«s»: -1 меньше минимума 0 кВт·ч."


def test_number_above_maximum() -> None:
    error = rejection(meter_template(), answer("s", 100000))
    assert error.code == "out_of_range"
    assert error.message == "“s”: 100000 is above the maximum of 99999.9 kWh."


@pytest.mark.parametrize("value", [True, "12", None])
def test_number_refuses_non_numbers(value: Any) -> None:
    assert rejection(meter_template(), answer("s", value)).code == "wrong_type"


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_number_refuses_non_finite(value: float) -> None:
    assert rejection(meter_template(), answer("s", value)).code == "invalid_value"


def test_number_conditions_see_the_value() -> None:
    unit = {"ru": "м", "kk": "м", "en": "m"}
    built = build(
        [
            phase(
                "p",
                [
                    step("length", "number", unit=unit, min=0),
                    step("why_long", "text", visible_when="length > 30"),
                ],
            )
        ]
    )
    assert "why_long" not in evaluate(built, {"length": answer("length", 30)}).visible_steps
    assert "why_long" in evaluate(built, {"length": answer("length", 30.5)}).visible_steps


# ---------------------------------------------------------------- photo


def photo_template() -> Template:
    return one_step("photo", min_count=2, max_count=3)


def test_photo_answer_is_its_photo_ids() -> None:
    accepted(photo_template(), answer("s", photo_ids=("p1", "p2")))


@pytest.mark.parametrize("photo_ids", [("p1",), ("p1", "p2", "p3", "p4")])
def test_photo_count_out_of_range(photo_ids: tuple[str, ...]) -> None:
    error = rejection(photo_template(), answer("s", photo_ids=photo_ids))
    assert error.code == "photo_count"
    assert error.message == f"“s”: needs 2 to 3 photos, got {len(photo_ids)}."


def test_photo_ids_must_be_distinct() -> None:
    error = rejection(photo_template(), answer("s", photo_ids=("p1", "p1")))
    assert error.code == "invalid_photo_ids"


def test_photo_value_must_stay_empty() -> None:
    assert rejection(photo_template(), answer("s", "p1", photo_ids=("p1", "p2"))).code == (
        "wrong_type"
    )


# ---------------------------------------------------------------- signature


def test_signature_answer_is_a_signature_id() -> None:
    template = one_step("signature", document="completion_act")
    accepted(template, answer("s", "sig-7f3a"))
    assert rejection(template, answer("s", " ")).code == "empty_value"
    assert rejection(template, answer("s", True)).code == "wrong_type"


# ---------------------------------------------------------------- geo_check


def geo_template() -> Template:
    return one_step("geo_check", radius_m=100)


def test_haversine_matches_known_distances() -> None:
    # One degree of latitude is about 111.2 km; Almaty to Astana is about 971 km.
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(43.2389, 76.8897, 51.1694, 71.4491) == pytest.approx(971_000, rel=0.01)
    assert haversine_m(SITE.lat, SITE.lon, SITE.lat, SITE.lon) == 0


def test_geo_within_radius_is_clean() -> None:
    state = evaluate(geo_template(), {"s": answer("s", location=AT_SITE)}, site=SITE)
    assert state.answered_steps == ("s",)
    assert state.flags == ()


def test_geo_outside_radius_is_flagged_not_rejected() -> None:
    validate_answer(geo_template(), {}, answer("s", location=FAR_AWAY), site=SITE)
    state = evaluate(geo_template(), {"s": answer("s", location=FAR_AWAY)}, site=SITE, lang="en")
    assert state.answered_steps == ("s",)
    (flag,) = state.flags
    assert flag.code == "outside_radius"
    assert flag.distance_m == pytest.approx(1112, abs=2)
    assert flag.radius_m == 100
    assert flag.message == "Position is 1112 m from the site (allowed 100 m)."


def test_geo_without_site_is_flagged_as_unchecked() -> None:
    state = evaluate(geo_template(), {"s": answer("s", location=FAR_AWAY)})
    assert state.answered_steps == ("s",)
    assert [flag.code for flag in state.flags] == ["site_unknown"]


def test_geo_with_poor_accuracy_is_flagged() -> None:
    fuzzy = Location(lat=AT_SITE.lat, lon=AT_SITE.lon, accuracy_m=500)
    state = evaluate(geo_template(), {"s": answer("s", location=fuzzy)}, site=SITE)
    assert [flag.code for flag in state.flags] == ["low_accuracy"]


def test_geo_needs_a_location() -> None:
    assert rejection(geo_template(), answer("s")).code == "missing_location"


def test_geo_refuses_impossible_coordinates() -> None:
    bad = Location(lat=91.0, lon=0.0)
    assert rejection(geo_template(), answer("s", location=bad)).code == "invalid_location"


def test_geo_value_in_conditions_is_within_radius() -> None:
    built = build(
        [
            phase(
                "p",
                [
                    step("here", "geo_check", radius_m=100),
                    step("why_far", "text", visible_when="here == false"),
                ],
            )
        ]
    )
    near = {"here": answer("here", location=AT_SITE)}
    far = {"here": answer("here", location=FAR_AWAY)}
    assert "why_far" not in evaluate(built, near, site=SITE).visible_steps
    assert "why_far" in evaluate(built, far, site=SITE).visible_steps
    # Without a site nobody knows whether the technician was far away.
    assert "why_far" not in evaluate(built, far).visible_steps


# ---------------------------------------------------------------- serial


def serial_template() -> Template:
    return one_step("serial", min_count=1, max_count=2)


def test_serial_takes_scanned_and_typed_entries() -> None:
    entries = (
        SerialEntry(value="ZTE-F660-0001", method="scanned"),
        SerialEntry(value="ZTE-F660-0002", method="typed"),
    )
    accepted(serial_template(), answer("s", entries))


def test_serial_refuses_an_empty_number() -> None:
    error = rejection(serial_template(), answer("s", (SerialEntry(value=" ", method="typed"),)))
    assert error.code == "serial_empty"
    assert error.message == "“s”: a serial number is empty."


def test_serial_refuses_too_many_and_none() -> None:
    three = tuple(SerialEntry(value=f"SN{n}", method="typed") for n in range(3))
    assert rejection(serial_template(), answer("s", three)).code == "serial_count"
    assert rejection(serial_template(), answer("s", ())).code == "serial_count"


def test_serial_refuses_a_repeated_number() -> None:
    twice = (
        SerialEntry(value="SN1", method="typed"),
        SerialEntry(value="SN1 ", method="scanned"),
    )
    assert rejection(serial_template(), answer("s", twice)).code == "invalid_value"


def test_serial_refuses_a_plain_string() -> None:
    assert rejection(serial_template(), answer("s", "SN1")).code == "wrong_type"


# ---------------------------------------------------------------- evidence


def test_answer_time_must_carry_an_offset() -> None:
    naive = answer("s", True, answered_at=datetime(2025, 3, 14, 10, 0))
    error = rejection(one_step("confirm"), naive)
    assert error.code == "invalid_timestamp"


def test_missing_evidence_lowers_compliance_but_is_accepted() -> None:
    template = one_step("confirm", evidence=["timestamp", "location", "photo"])
    bare = Answer(step_id="s", value=True)
    validate_answer(template, {}, bare)
    state = evaluate(template, {"s": bare})
    assert state.answered_steps == ("s",)
    assert state.compliance.score == 0
    (gap,) = state.compliance.missing_evidence
    assert gap.missing == ("timestamp", "location", "photo")
    full = answer("s", True, location=AT_SITE, photo_ids=("p1",))
    assert evaluate(template, {"s": full}).compliance.score == 1
