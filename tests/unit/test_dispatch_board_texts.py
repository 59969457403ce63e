"""The schedule, map and lateness pages have every text in ru, kk and en, with the same blanks."""

from __future__ import annotations

import re

import pytest

from service.common.i18n import text_in_language
from service.staff.schedule_texts import TEXTS, dispatch_texts

_BLANK = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_each_text_has_three_languages_with_the_same_blanks(key: str) -> None:
    ru, kk, en = (text_in_language(TEXTS[key], language) for language in ("ru", "kk", "en"))
    assert ru.strip()
    assert kk.strip()
    assert en.strip()
    assert set(_BLANK.findall(ru)) == set(_BLANK.findall(kk)) == set(_BLANK.findall(en))


def test_texts_are_picked_by_language() -> None:
    assert dispatch_texts("ru")["lateness_title"] == "Опоздания за сегодня"
    assert dispatch_texts("kk")["lateness_title"] == "Бүгінгі кешігулер"
    assert dispatch_texts("en")["lateness_title"] == "Today's late visits"
