"""The gettext catalogs: every text the code marks is translated, placeholders survive
translation, and the committed .mo files are compiled from the .po files as they stand."""

from __future__ import annotations

import io
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service.common.i18n import LANGUAGES, Message, in_language, translations

ROOT = Path(__file__).resolve().parents[2]
# (domain, directory of the catalogs, extraction config)
DOMAINS = [
    ("naryad", ROOT / "service" / "locale", ROOT / "service" / "locale" / "babel.cfg"),
    # The reports library has its own domain: it may not import the service.
    ("reports", ROOT / "reports" / "locale", ROOT / "reports" / "locale" / "babel.cfg"),
]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "msg": ((1, "c"), 2),
    "_msg": ((1, "c"), 2),
    "nmsg": ((1, "c"), 2, 3),
}
TRANSLATED = ("ru", "kk")  # English is the source language


def _catalog(directory: Path, domain: str, language: str) -> Catalog:
    with (directory / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return read_po(handle, locale=language, domain=domain)


def _marked(config: Path) -> set[tuple[str | None, str]]:
    with config.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return {
        (context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


@pytest.mark.parametrize(("domain", "directory", "config"), DOMAINS)
def test_every_marked_text_is_in_every_catalog(domain: str, directory: Path, config: Path) -> None:
    marked = _marked(config)
    assert len(marked) > 20
    for language in LANGUAGES:
        catalog = _catalog(directory, domain, language)
        known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
        assert sorted(marked - known, key=str) == [], f"run `make i18n` ({language})"


@pytest.mark.parametrize(("domain", "directory", "config"), DOMAINS)
@pytest.mark.parametrize("language", TRANSLATED)
def test_russian_and_kazakh_are_complete_and_keep_placeholders(
    domain: str, directory: Path, config: Path, language: str
) -> None:
    catalog = _catalog(directory, domain, language)
    for message in catalog:
        if not message.id:
            continue
        where = f"{language} {message.context}"
        # A fuzzy entry is left out of the .mo: the page would quietly fall back to English.
        assert not message.fuzzy, f"{where} is fuzzy"
        sources = (message.id,) if isinstance(message.id, str) else message.id
        forms = (message.string,) if isinstance(message.string, str) else message.string
        if message.pluralizable:
            # As many forms as the language's Plural-Forms: Russian 3, Kazakh 2.
            assert len(forms) == catalog.num_plurals, f"{where}: {len(forms)} plural forms"
        names = {n for source in sources for _, n, _, _ in string.Formatter().parse(source) if n}
        for form in forms:
            assert form, f"{where} is not translated"
            translated = {n for _, n, _, _ in string.Formatter().parse(form) if n}
            assert translated == names, f"{where}: placeholders {translated} != {names}"


@pytest.mark.parametrize(("domain", "directory", "config"), DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_files_match_their_po(
    domain: str, directory: Path, config: Path, language: str
) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(directory, domain, language))
    committed = (directory / language / "LC_MESSAGES" / f"{domain}.mo").read_bytes()
    assert committed == compiled.getvalue(), f"{domain}.mo for {language} is stale: make i18n"


def test_lookups_translate_and_fall_back_to_english() -> None:
    sign_in = Message("board.sign_in", "Sign in")
    assert [in_language(sign_in, lang) for lang in ("ru", "kk", "en")] == [
        "Войти",
        "Кіру",
        "Sign in",
    ]
    unknown = Message("board.not_in_the_catalog", "Only English")
    assert in_language(unknown, "kk") == "Only English"
    with pytest.raises(ValueError, match="unsupported language"):
        translations("de")  # type: ignore[arg-type]
