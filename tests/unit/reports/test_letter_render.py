"""The answer letter read back with pypdf in kk, ru and en: what the customer must see, nothing
internal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from reports.errors import UnsupportedCharacter
from reports.letter import (
    LetterIssuer,
    LetterMeasure,
    LetterSnapshot,
    Responsible,
    letter_sha256,
    render_letter,
)

from .builders import page_texts

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# 09:30 UTC is 16:30 in Barnaul (UTC+07:00): the letter names the customer's clock.
RECORDED = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)

CASES = {
    "ru": {
        "addressee": "Иванова Мария Петровна",
        "salutation_name": "Мария Петровна",
        "salutation": "female",
        "question": "Мастер опоздал на три часа и не предупредил.",
        "reasons": "Опоздание подтверждено журналом выездов.",
        "merits": "Приносим извинения. Повторный визит назначен на удобное вам время.",
        "measure": "Инструктаж мастера о предупреждении клиента",
        "role": "Координатор",
        "expect": [
            "Уважаемая Мария Петровна!",
            "Кому: Иванова Мария Петровна",
            "Ответ на обращение № A-2026-000002",
            "Исх. № A-2026-000002/1",
            "«05» декабря 2026 г.",
            "16:30 по местному времени, Asia/Barnaul (UTC+07:00)",
            "Ваше обращение",  # a complaint is not "your question"
            "Жалоба признана обоснованной.",
            "Корректирующие меры",
            "«10» декабря 2026 г.",
            "Ответственное лицо",
            "Координатор: Ольга Ким",
            "Контакты: +7 700 000 00 00",
            "Стр. 1 из 1",
        ],
    },
    "kk": {
        "addressee": "Сәрсенбаева Айгүл Нұрланқызы",
        "salutation_name": "Айгүл Нұрланқызы",
        "salutation": "female",
        "question": "Шебер келісілген уақытта келмеді, ескертпеді.",
        "reasons": "Шебер кестеге сәйкес келмеген.",
        "merits": "Кешірім сұраймыз. Есептегіш 10 желтоқсанда ауыстырылады.",
        "measure": "Шеберге нұсқама өткізу",
        "role": "Үйлестіруші",
        "expect": [
            "Құрметті Айгүл Нұрланқызы!",
            "Кімге: Сәрсенбаева Айгүл Нұрланқызы",
            "№ A-2026-000002 өтінішке жауап",
            "2026 жылғы 5 желтоқсан",
            "жергілікті уақыт бойынша 16:30, Asia/Barnaul (UTC+07:00)",
            "Сіздің өтінішіңіз",
            "Шағым негізді деп танылды.",
            "Түзету шаралары",
            "2026 жылғы 10 желтоқсан",
            "Жауапты тұлға",
            "Үйлестіруші: Ольга Ким",
        ],
    },
    "en": {
        "addressee": "John Smith",
        "salutation_name": "John Smith",
        "salutation": None,
        "question": "The technician left without testing the boiler.",
        "reasons": "The visit log shows the test step was skipped.",
        "merits": "We apologise. A senior technician will test the boiler free of charge.",
        "measure": "Retrain the technician on the test step",
        "role": "Coordinator",
        "expect": [
            "Dear John Smith,",
            "To: John Smith",
            "Answer to appeal No. A-2026-000002",
            "Ref. No. A-2026-000002/1",
            "5 December 2026",
            "16:30 local time, Asia/Barnaul (UTC+07:00)",
            "Your appeal",
            "The complaint is justified.",
            "What we will do",
            "10 December 2026",
            "Responsible person",
            "Coordinator: Ольга Ким",
            "Contacts: +7 700 000 00 00",
            "Page 1 of 1",
        ],
    },
}


def snapshot(language: str) -> LetterSnapshot:
    case = CASES[language]
    return LetterSnapshot(
        version=1,
        language=language,  # type: ignore[arg-type]
        issuer=LetterIssuer(
            legal_name="ТОО «Сервис»",
            tax_id="123456789012",
            address="Барнаул, ул. Ленина, 1",
            phone="+7 700 000 00 00",
        ),
        letter_number="A-2026-000002/1",
        letter_date=date(2026, 12, 5),
        recorded_at=RECORDED,
        appeal_number="A-2026-000002",
        appeal_registered=date(2026, 12, 3),
        addressee=str(case["addressee"]),
        salutation_name=str(case["salutation_name"]),
        salutation=case["salutation"],  # type: ignore[arg-type]
        question=str(case["question"]),
        merits=str(case["merits"]),
        responsible=Responsible(name="Ольга Ким", role=str(case["role"]), phone="+7 700 000 00 00"),
        verify_url="https://naryad.example/verify/letters/kzw-QXE5US8FOgG72xM7jA",
        decision="justified",
        decision_reasons=str(case["reasons"]),
        measures=(LetterMeasure(description=str(case["measure"]), due=date(2026, 12, 10)),),
        time_zone="Asia/Barnaul",
    )


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_letter_reads_back_in_the_customers_language(language: str) -> None:
    letter = snapshot(language)
    pdf = render_letter(letter)
    pages = page_texts(pdf)
    flat = " ".join(" ".join(pages).split())
    case = CASES[language]
    for expected in [
        *case["expect"],  # type: ignore[misc]
        "ТОО «Сервис»",
        "Барнаул, ул. Ленина, 1",
        case["question"],
        case["reasons"],
        case["merits"],
        case["measure"],
        "kzw-QXE5US8FOgG72xM7jA",  # the verification address, as on acts
    ]:
        assert str(expected) in flat, (language, expected, flat)
    # Nothing internal: no UUIDs, no coordinates, no UTC wall-clock time of the server.
    assert not UUID.search(flat)
    assert "09:30" not in flat
    assert letter_sha256(letter) in flat  # the content hash in the footer, as on acts
    assert render_letter(letter) == pdf  # deterministic: the stored bytes can be re-derived


def test_letter_without_a_known_gender_keeps_the_neutral_russian_salutation() -> None:
    letter = snapshot("ru")
    neutral = LetterSnapshot(
        **{
            **{f: getattr(letter, f) for f in letter.__struct_fields__},
            "salutation": None,
            "addressee": "Мадина",
            "salutation_name": "Мадина",
        }
    )
    flat = " ".join(" ".join(page_texts(render_letter(neutral))).split())
    assert "Уважаемый(ая) Мадина!" in flat


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("letter.salutation_name", {"salutation_name": "Мария 漢"}),
        ("letter.issuer.phone", {"issuer": LetterIssuer("ТОО", "1", "Барнаул", "漢 1")}),
        ("letter.responsible.phone", {"responsible": Responsible("Ким", "Глава", "漢")}),
    ],
)
def test_every_drawn_text_is_checked_against_the_font(field: str, change: dict[str, Any]) -> None:
    """A character without a glyph anywhere in the letter is refused by name, never drawn blank."""
    letter = msgspec.structs.replace(snapshot("ru"), **change)
    with pytest.raises(UnsupportedCharacter) as raised:
        render_letter(letter)
    assert raised.value.field == field
