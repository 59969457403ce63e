"""The appeal form's link on customer pages: language always, the act when known."""

from __future__ import annotations

from service.common.appeal_links import appeal_link


def test_the_link_carries_the_language_and_the_act() -> None:
    link = appeal_link("kk", "kzw-QXE5US8FOgG72xM7jA")
    assert link.url == "/appeal?lang=kk&act=kzw-QXE5US8FOgG72xM7jA"
    assert link.text == "Сұрағыңыз немесе шағымыңыз бар ма? Бізге жазыңыз"
    assert appeal_link("ru").url == "/appeal?lang=ru"
    assert appeal_link("en", "").url == "/appeal?lang=en"
    assert appeal_link("en").text == "A question or a complaint? Write to us"
    # An id is put in the query escaped, whatever it holds.
    assert appeal_link("ru", "a&b=c").url == "/appeal?lang=ru&act=a%26b%3Dc"
