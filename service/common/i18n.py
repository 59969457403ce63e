"""The languages customer and staff pages speak (kk, ru, en) and how one is chosen."""

from __future__ import annotations

from typing import Literal

Language = Literal["ru", "kk", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "kk", "en")
DEFAULT_LANGUAGE: Language = "ru"
# Text tables keep each entry as (ru, kk, en).
_INDEX: dict[Language, int] = {"ru": 0, "kk": 1, "en": 2}


def in_language(entry: tuple[str, str, str], language: Language) -> str:
    """The ``language`` text of a (ru, kk, en) entry."""
    return entry[_INDEX[language]]


def pick_language(*candidates: str | None, accept_language: str | None = None) -> Language:
    """The first supported explicit choice, else the best Accept-Language match, else ru."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, position, tag.strip().lower().split("-")[0]))
    for quality, _, tag in sorted(ranked, key=lambda item: (-item[0], item[1])):
        if quality > 0 and tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
