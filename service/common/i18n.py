"""The languages customer and staff pages speak (kk, ru, en), how one is chosen, and the
gettext catalogs their texts live in.

Texts are written in the code in English, each under a context naming its place
(``msg("board.sign_in", "Sign in")``); ``service/locale/{ru,kk,en}/LC_MESSAGES/naryad.po``
hold the translations (`make i18n` extracts the messages with pybabel and compiles the ``.mo``
files next to them). Kazakh entries carry the translator comment "needs native review" until a
native speaker has read them.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

from babel.support import Translations

Language = Literal["ru", "kk", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "kk", "en")
DEFAULT_LANGUAGE: Language = "ru"
DOMAIN = "naryad"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


class Message(NamedTuple):
    """A translatable text: its context (a dotted name) and its English source."""

    context: str
    english: str


def msg(context: str, english: str) -> Message:
    """Mark a text for translation (pybabel extracts ``msg`` calls as context + message)."""
    return Message(context, english)


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The compiled catalog of a language (loaded once per process)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    found = Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)
    if language != "en" and not isinstance(found, Translations):
        # Babel falls back to no translation at all; a missing catalog must not quietly turn
        # every Russian or Kazakh page into English.
        raise FileNotFoundError(f"no compiled {DOMAIN}.mo for {language} in {LOCALE_DIR}")
    return found


def in_language(entry: Message, language: Language) -> str:
    """The text of ``entry`` in ``language`` (its English source when untranslated)."""
    return translations(language).pgettext(entry.context, entry.english)


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
