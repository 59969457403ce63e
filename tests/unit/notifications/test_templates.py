"""Templates: every key renders in kk, ru and en, in the recipient's local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from service.common.i18n import LANGUAGES, in_language
from service.notifications.events import EVENTS, spec_for
from service.notifications.templates import (
    TEMPLATES,
    FieldKind,
    TemplateError,
    placeholders,
    prepare_context,
    render,
)

SAMPLES: dict[FieldKind, Any] = {
    FieldKind.DATETIME: "2026-11-22T05:00:00+00:00",
    FieldKind.TEXT: "WO-2026-000123",
    FieldKind.URL: "https://naryad.example/a/Zx9",
    FieldKind.CODE: "482913",
    FieldKind.MINUTES: 5,
}


def sample_context(key: str) -> dict[str, Any]:
    """A valid context for a template."""
    return {name: SAMPLES[kind] for name, kind in TEMPLATES[key].fields.items()}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_renders_in_every_language(key: str, language: Any) -> None:
    rendered = render(key, language, sample_context(key), "Asia/Almaty")
    for part in (rendered.subject, rendered.text):
        assert part.strip()
        assert "{" not in part
        assert "}" not in part
    if language != "en":
        assert re.search("[а-яәіңғүұқөһ]", rendered.text, re.IGNORECASE), rendered.text


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_templates_use_only_their_declared_fields_and_use_them_all(key: str) -> None:
    template = TEMPLATES[key]
    available: set[str] = set()
    for name, kind in template.fields.items():
        shown = (f"{name}_date", f"{name}_time", f"{name}_last_day")
        available |= set(shown) if kind is FieldKind.DATETIME else {name}
    for language in LANGUAGES:
        used = placeholders(in_language(template.text, language)) | placeholders(
            in_language(template.subject, language)
        )
        assert used <= available, (language, used - available)
        for name, kind in template.fields.items():
            if kind is FieldKind.DATETIME:
                assert {f"{name}_time", f"{name}_last_day"} & used, (language, name)
            else:
                assert name in used, (language, name)


@pytest.mark.parametrize(
    ("language", "day"),
    [("ru", "не позднее 12.12."), ("kk", "12.12 кешіктірмей"), ("en", "by 12 Dec.")],
)
def test_an_appeal_deadline_at_midnight_is_announced_as_its_last_day(
    language: Any, day: str
) -> None:
    # Midnight of 13 December in Almaty ends the 12th: the customer is promised the 12th.
    context = {
        "appeal_number": "A-2026-000007",
        "due_at": "2026-12-12T19:00:00+00:00",
        "status_url": "https://naryad.example/appeal/status/x",
    }
    text = render("appeal.registered", language, context, "Asia/Almaty").text
    assert day in text, text
    assert "13" not in text.replace("A-2026-000007", ""), text
    assert "00:00" not in text, text


def test_every_known_event_has_a_template() -> None:
    for event, spec in EVENTS.items():
        assert spec.template in TEMPLATES, event
        if spec.deadline_field:
            assert TEMPLATES[spec.template].fields[spec.deadline_field] is FieldKind.DATETIME


def test_russian_texts_match_the_agreed_wording_in_local_time() -> None:
    window = {
        "window_start": datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
        "window_end": "2026-11-22T07:00:00Z",
    }
    booked = render("visit.booked", "ru", window, "Asia/Almaty")
    assert booked.text == "Ваш визит специалиста назначен на 22.11 с 10:00 до 12:00. naryad"
    late = render("visit.late_predicted", "ru", {"new_eta": "2026-11-22T07:40:00Z"}, "Asia/Almaty")
    assert late.text == (
        "Приносим извинения: специалист опаздывает. Новое время прибытия: 12:40. "
        "Если время не подходит, ответьте на это сообщение."
    )


def test_times_follow_the_recipients_zone_and_language() -> None:
    context = {"window_start": "2026-11-22T22:00:00Z", "window_end": "2026-11-23T00:00:00Z"}
    almaty = render("visit.booked", "en", context, "Asia/Almaty")
    barnaul = render("visit.booked", "kk", context, "Asia/Barnaul")
    assert "23 Nov, 03:00–05:00" in almaty.text
    assert "23.11, 05:00–07:00" in barnaul.text
    en_route = render("visit.en_route", "kk", {"eta": "2026-11-22T05:25:00+00:00"}, "Asia/Almaty")
    assert "10:25" in en_route.text


def test_otp_act_and_rating_texts_carry_their_values() -> None:
    otp = render("otp.sent", "en", {"code": "482913", "ttl_minutes": 5}, "Asia/Almaty")
    assert "482913" in otp.text
    assert "5 min" in otp.text
    act = render("act.signed", "kk", {"act_url": "https://x.example/a/1"}, "Asia/Almaty")
    assert "https://x.example/a/1" in act.text
    rating = render("rating.requested", "ru", {"rating_url": "https://x.example/r/1"}, "UTC")
    assert "от 1 до 5" in rating.text


@pytest.mark.parametrize(
    ("key", "context", "message"),
    [
        ("visit.booked", {"window_start": "2026-11-22T05:00:00Z"}, "missing context fields"),
        ("visit.en_route", {"eta": "2026-11-22T05:00:00"}, "offset"),
        ("visit.en_route", {"eta": "tomorrow"}, "RFC 3339"),
        ("otp.sent", {"code": "12ab", "ttl_minutes": 5}, "code"),
        ("otp.sent", {"code": "123456", "ttl_minutes": True}, "minutes"),
        ("otp.sent", {"code": "123456", "ttl_minutes": 0}, "minutes"),
        ("act.signed", {"act_url": "javascript:alert(1)"}, "url"),
        ("escalation.raised", {"work_order_number": "a\nb", "control_deadline": "x"}, "text"),
        ("no.such", {}, "unknown template"),
    ],
)
def test_bad_context_is_refused(key: str, context: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        prepare_context(key, context)


def test_prepared_context_is_plain_json_without_extras() -> None:
    prepared = prepare_context(
        "visit.en_route", {"eta": datetime(2026, 11, 22, 5, 0, tzinfo=UTC), "full_name": "x"}
    )
    assert prepared == {"eta": "2026-11-22T05:00:00+00:00"}


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(TemplateError, match="language"):
        render("visit.en_route", "de", {"eta": "2026-11-22T05:00:00Z"}, "UTC")  # type: ignore[arg-type]


def test_event_defaults_and_the_open_event_set() -> None:
    assert spec_for("visit.en_route", None).urgent
    assert not spec_for("rating.requested", None).urgent
    assert spec_for("visit.booked", None).deadline_field == "window_start"
    custom = spec_for("visit.reminder_day_before", "visit.booked")
    assert (custom.template, custom.urgent) == ("visit.booked", False)
    with pytest.raises(ValueError, match="no default template"):
        spec_for("visit.reminder_day_before", None)
    with pytest.raises(ValueError, match="dotted lower-case"):
        spec_for("VisitBooked", "visit.booked")


def test_lifetime_fields_are_minutes() -> None:
    for event, spec in EVENTS.items():
        if spec.lifetime_field is not None:
            assert TEMPLATES[spec.template].fields[spec.lifetime_field] is FieldKind.MINUTES, event
