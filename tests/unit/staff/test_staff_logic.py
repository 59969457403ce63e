"""Pure logic of the staff pages: where sign-in may return to, forms, cursors, spans."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from service.common.actor import Role
from service.errors import PreconditionFailed
from service.staff.customer_forms import customer_create, normalise_phone, phones_of, site_fields
from service.staff.dispatch import agreement_from, check_version, parse_slot, slot_value
from service.staff.queue import decode_cursor, encode_cursor, phone_digits, time_left_minutes
from service.staff.texts import (
    TEXTS,
    format_span,
    format_window,
    input_date,
    long_day,
    parse_date,
    short_day,
    text,
)
from service.staff.web import _with_language, safe_next


@pytest.mark.parametrize(
    ("candidate", "role", "expected"),
    [
        ("/dispatch", Role.DISPATCHER, "/dispatch"),
        ("/dispatch/orders/1?offers=1", None, "/dispatch/orders/1?offers=1"),
        ("/board", Role.DISPATCHER, "/board"),
        ("/dispatch", Role.SUPERVISOR, None),  # not a section the role may open
        ("//evil.example/dispatch", None, None),
        ("/\\evil.example", None, None),
        ("https://evil.example/dispatch", None, None),
        ("/api/v1/work-orders", None, None),  # not a staff page
        ("/staff/login", None, None),
        ("/dispatchers", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_sign_in_returns_only_to_staff_pages(
    candidate: str | None, role: Role | None, expected: str | None
) -> None:
    assert safe_next(candidate, role) == expected


def test_language_links_keep_the_other_parameters() -> None:
    assert _with_language("/dispatch?q=70&lang=ru", "kk") == "/dispatch?q=70&lang=kk"
    assert _with_language("/dispatch", "en") == "/dispatch?lang=en"


def test_slot_values_round_trip_and_refuse_garbage() -> None:
    start = datetime(2026, 12, 5, 11, tzinfo=UTC)
    technician = uuid.uuid4()
    window, chosen = parse_slot(slot_value(start, start + timedelta(hours=2), technician)) or (
        None,
        None,
    )
    assert window is not None
    assert (window.start, window.end, chosen) == (start, start + timedelta(hours=2), technician)
    best = parse_slot(slot_value(start, start + timedelta(hours=2), None))
    assert best is not None
    assert best[1] is None
    for bad in (
        "",
        "x",
        "a|b|c",
        f"{start.isoformat()}|{start.isoformat()}|",
        "2026-12-05T11:00|2026-12-05T13:00|",
    ):
        assert parse_slot(bad) is None, bad


def test_agreement_needs_a_name_and_a_known_channel() -> None:
    agreed = agreement_from({"agreed_with": " Әлия ", "channel": "sms"})
    assert agreed is not None
    assert (agreed.name, agreed.channel) == ("Әлия", "sms")
    assert agreement_from({"agreed_with": "", "channel": "phone"}) is None
    assert agreement_from({"agreed_with": "Әлия", "channel": "pigeon"}) is None


def test_a_form_read_at_another_version_is_stale() -> None:
    check_version("3", 3)
    for presented in ("2", "", None, "v3"):
        with pytest.raises(PreconditionFailed):
            check_version(presented, 3)


def test_queue_cursor_round_trips_and_ignores_foreign_values() -> None:
    row = uuid.uuid4()
    at = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    cursor = decode_cursor(encode_cursor(at, row))
    assert cursor is not None
    assert (cursor.deadline, cursor.id) == (at, row)
    empty = decode_cursor(encode_cursor(None, row))
    assert empty is not None
    assert empty.deadline is None
    assert decode_cursor("not-a-cursor") is None
    assert decode_cursor(None) is None


def test_phone_searches_are_recognised_by_their_characters() -> None:
    assert phone_digits("+7 (701) 777-00-11") == "77017770011"
    assert phone_digits("777 00 11") == "7770011"
    # Dialled the local way, with the trunk prefix: the stored +7 number.
    assert phone_digits("8 701 777 00 11") == "77017770011"
    assert phone_digits("8701") == "8701"  # a fragment may be anywhere in the number
    assert phone_digits("123") is None  # too short to mean a phone
    assert phone_digits("WO-2026-1234") is None
    assert phone_digits("Абая 10") is None


def test_time_left_and_spans() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert time_left_minutes(now + timedelta(hours=2, minutes=5), now) == 125
    assert time_left_minutes(now - timedelta(minutes=30), now) == -30
    assert time_left_minutes(None, now) is None
    assert format_span(125, "ru") == "2 ч 5 мин"
    assert format_span(-30, "en") == "30 min"
    assert format_span(60 * 24 + 180, "kk") == "1 к 3 сағ"
    assert format_span(0, "en") == "0 min"


def test_windows_are_shown_in_the_territorys_zone_and_named() -> None:
    start = datetime(2026, 12, 5, 4, tzinfo=UTC)
    assert (
        format_window(start, start + timedelta(hours=2), "Asia/Almaty")
        == "05.12.2026 09:00–11:00 (Asia/Almaty)"
    )


def test_phones_are_normalised_and_checked_like_the_api() -> None:
    assert normalise_phone("8 (701) 555-44-33") == "+77015554433"
    assert normalise_phone("+7 701 555 44 33") == "+77015554433"
    assert phones_of("+77015554433, 8 701 000 11 22\n") == ["+77015554433", "+77010001122"]
    territory = str(uuid.uuid4())
    good, errors = customer_create(
        {"territory": territory, "full_name": "Әлия", "phones": "8 701 555 44 33"}
    )
    assert good is not None
    assert errors == {}
    bad, errors = customer_create({"territory": territory, "full_name": "Әлия", "phones": "701"})
    assert bad is None
    assert set(errors) == {"phones"}
    missing, errors = customer_create(
        {"territory": "", "full_name": "Әлия", "phones": "+77015554433"}
    )
    assert missing is None
    assert set(errors) == {"territory"}


def test_site_points_accept_decimal_commas_and_refuse_the_impossible() -> None:
    fields, errors = site_fields({"address": "ул. Абая, 10", "lat": "43,25", "lon": "76.95"})
    assert errors == {}
    assert fields is not None
    assert fields["location"] == {"lat": 43.25, "lon": 76.95}
    for lat, lon in (("95", "76"), ("43", "190"), ("north", "76")):
        refused, errors = site_fields({"address": "ул. Абая, 10", "lat": lat, "lon": lon})
        assert refused is None
        assert set(errors) == {"lat"}
    short, errors = site_fields({"address": "ab", "lat": "43", "lon": "76"})
    assert short is None
    assert set(errors) == {"address"}


def test_every_text_has_three_languages() -> None:
    for key in TEXTS:
        assert all(text(key, language).strip() for language in ("ru", "kk", "en")), key
    # The catalogs are loaded, not the English source shown in every language.
    assert [text("sign_out", language) for language in ("ru", "kk", "en")] == [
        "Выйти",
        "Шығу",
        "Sign out",
    ]
    assert text("left", "kk", span="2 сағ") == "2 сағ қалды"


def test_dates_are_typed_and_read_in_the_page_language() -> None:
    day = date(2026, 12, 8)
    assert [input_date(day, lang) for lang in ("ru", "kk", "en")] == [
        "08.12.2026",
        "08.12.2026",
        "2026-12-08",
    ]
    # Weekday and month names come from Babel (CLDR), not from a table of ours.
    assert short_day(day, "ru") == "вт, 8 дек."
    assert short_day(day, "en") == "Tue, 8 Dec"
    assert long_day(day, "ru") == "вторник, 8 декабря 2026"
    assert "желтоқсан" in long_day(day, "kk")
    assert input_date(None, "ru") == ""
    for typed in ("08.12.2026", "8.12.2026", "2026-12-08", "08/12/2026", " 08-12-2026 "):
        assert parse_date(typed) == day


@pytest.mark.parametrize("typed", ["", "12/2026", "31.02.2026", "2026.13.01", "08.12.26", "x" * 40])
def test_a_date_that_cannot_be_read_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(typed)
