"""Numbers in staff texts take the plural form their language asks for (no "1 visits")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service.board.texts import text as board_text
from service.common.i18n import Language, Plural, PluralText
from service.staff.coordinate_texts import coord_texts
from service.staff.schedule_texts import dispatch_texts
from service.staff.texts import all_texts
from service.staff.texts import text as staff_text

POT = Path(__file__).resolve().parents[2] / "service" / "locale" / "naryad.pot"

# n -> the text, for n in (1, 2, 5, 11, 21, 22): Russian's three forms and its exceptions
# (11 is "many", 21 is "one" again); Kazakh counts with the singular noun.
NUMBERS = (1, 2, 5, 11, 21, 22)
VISITS = {
    "en": ["1 visit", "2 visits", "5 visits", "11 visits", "21 visits", "22 visits"],
    "ru": ["1 визит", "2 визита", "5 визитов", "11 визитов", "21 визит", "22 визита"],
    "kk": ["1 бару", "2 бару", "5 бару", "11 бару", "21 бару", "22 бару"],
}


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_the_schedule_counts_visits_in_each_language(language: Language) -> None:
    counted = dispatch_texts(language)["visits_count"]
    assert [counted.format(count=n) for n in NUMBERS] == VISITS[language]


def test_offers_count_the_technicians_visits_that_day() -> None:
    assert staff_text("load", "en", n=1) == "1 visit that day"
    assert staff_text("load", "en", n=3) == "3 visits that day"
    assert staff_text("load", "ru", n=1) == "1 визит в этот день"
    assert staff_text("load", "ru", n=3) == "3 визита в этот день"
    assert staff_text("load", "ru", n=7) == "7 визитов в этот день"
    assert staff_text("load", "kk", n=7) == "сол күні 7 бару"
    # The page's table of texts formats the same way.
    assert all_texts("en")["load"].format(n=1) == "1 visit that day"


def test_the_coordinators_inbox_counts_orders() -> None:
    assert coord_texts("en")["esc_count"].format(n=2, o=1) == "2 unacknowledged on 1 order"
    assert coord_texts("en")["esc_count"].format(n=3, o=2) == "3 unacknowledged on 2 orders"
    assert coord_texts("ru")["esc_count"].format(n=1, o=1) == "без подтверждения: 1 по 1 заказу"
    assert coord_texts("ru")["esc_count"].format(n=5, o=5) == "без подтверждения: 5 по 5 заказам"


def test_the_board_figures_count_their_base() -> None:
    assert board_text("kpi.rating_base", "en", whole=1) == "1 rating"
    assert board_text("kpi.rating_base", "en", whole=4) == "4 ratings"
    assert board_text("kpi.rating_base", "ru", whole=3) == "3 оценки"
    assert board_text("kpi.no_access_base", "en", part=0, whole=1) == "0 of 1 visit"
    assert board_text("kpi.no_access_base", "ru", part=1, whole=21) == "1 из 21 визита"
    assert board_text("kpi.no_access_base", "ru", part=1, whole=5) == "1 из 5 визитов"


def test_a_plural_text_needs_a_whole_number() -> None:
    counted = PluralText(
        Plural("staff.schedule.visits_count", "{c} visit", "{c} visits", "c"), "en"
    )
    assert str(counted) == "{c} visits"  # shown as is, it reads as the plural
    with pytest.raises(TypeError):
        counted.format(c="3")
    with pytest.raises(KeyError):
        counted.format(n=3)


def test_no_english_text_puts_a_plural_noun_after_a_bare_count() -> None:
    """A count followed by "...s" belongs in nmsg(), or "1 visits" is back."""
    with POT.open("rb") as handle:
        catalog = read_po(handle)
    count_then_plural = re.compile(r"\{(?:n|count|whole|total|o)\} [a-z]+s\b")
    offenders = [
        (m.context, m.id)
        for m in catalog
        if isinstance(m.id, str) and m.id and count_then_plural.search(m.id)
    ]
    assert offenders == []
