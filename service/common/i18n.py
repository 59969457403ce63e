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
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

from babel.dates import format_date
from babel.numbers import format_decimal
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


class Plural(NamedTuple):
    """A text with a number in it: English singular and plural, and the placeholder counted.

    Each catalog holds as many forms as its Plural-Forms header asks (Russian three: 1 визит,
    2 визита, 5 визитов; Kazakh and English two).
    """

    context: str
    singular: str
    plural: str
    number: str


def nmsg(context: str, singular: str, plural: str, number: str = "n") -> Plural:
    """Mark a plural text (pybabel extracts ``nmsg`` calls as context + singular + plural)."""
    return Plural(context, singular, plural, number)


class PluralText(str):
    """A plural text in one language; ``format`` picks the form for the counted value.

    A ``str`` (the language's form for 5, shown as is when nothing is counted), so it sits in
    the same text tables as every other text and a template formats it the same way:
    ``texts["visits_count"].format(count=1)`` gives "1 visit", ``count=3`` "3 visits".
    """

    entry: Plural
    language: Language

    def __new__(cls, entry: Plural, language: Language) -> PluralText:
        many = translations(language).npgettext(entry.context, entry.singular, entry.plural, 5)
        made = super().__new__(cls, many)
        made.entry = entry
        made.language = language
        return made

    def form(self, n: int) -> str:
        """The unformatted form for ``n`` in this language."""
        entry = self.entry
        return translations(self.language).npgettext(entry.context, entry.singular, entry.plural, n)

    def format(self, *args: object, **kwargs: object) -> str:
        """The form for the counted value, with every placeholder filled."""
        number = kwargs[self.entry.number]
        if not isinstance(number, int):
            raise TypeError(f"{self.entry.context}: {self.entry.number} must be a whole number")
        return self.form(number).format(*args, **kwargs)


def text_in_language(entry: Message | Plural, language: Language) -> str:
    """A text table's entry in ``language`` (a plural one formats by its number)."""
    if isinstance(entry, Plural):
        return PluralText(entry, language)
    return in_language(entry, language)


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


def format_share(value: float | None, language: Language) -> str:
    """A 0..1 share as a percentage with the language's decimal mark (12,5 % / 12.5%)."""
    if value is None:
        return "—"
    # Rounded to one place first, so 12.04 shows as 12 and not as 12,0.
    number = format_decimal(round(value * 100, 1), "0.#", locale=language)
    return f"{number}%" if language == "en" else f"{number}\u00a0%"


_MONTH = {"ru": "LLLL y", "kk": "y 'жылғы' LLLL", "en": "LLLL y"}


def format_month(value: datetime, language: Language) -> str:
    """Month and year: март 2026 / 2026 жылғы наурыз / March 2026."""
    heading = format_date(value.date(), _MONTH[language], locale=language)
    # CLDR capitalises Kazakh stand-alone months; in a running heading they are lower case.
    return heading.lower() if language == "kk" else heading
