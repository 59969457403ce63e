"""Version 2 acts in the PDF: local time named once, description, statements, no step ids."""

from __future__ import annotations

import re

import pytest

from reports import (
    UnsupportedCharacter,
    canonical_json,
    parse_snapshot,
    printable_snapshot,
    render_act,
)
from tests.unit.reports.builders import (
    customer_strokes_signature,
    load_sample,
    page_texts,
    snapshot_dict,
    snapshot_v2_dict,
)

COORDINATES = re.compile(r"-?\d{1,3}\.\d{4,}\s*,\s*-?\d{1,3}\.\d{4,}")


def _text(data: dict[str, object]) -> str:
    snapshot = parse_snapshot(data)
    pdf = render_act(snapshot, signatures=[customer_strokes_signature(snapshot)])
    return re.sub(r"\s+", " ", " ".join(page_texts(pdf)))


def test_rows_show_statement_answer_and_evidence_without_step_ids() -> None:
    data = snapshot_v2_dict()
    text = _text(data)
    for row in data["checklist"]:  # type: ignore[attr-defined]
        assert f"{row['label']} {row['answer']}" in text
        assert row["step_id"] not in text
    assert "35 м от адреса (±12 м)" in text
    assert not COORDINATES.search(text.split("Геопозиция:")[0])
    assert "Что сделано" in text


def test_times_are_local_with_the_zone_named_once() -> None:
    data = snapshot_v2_dict()
    # Recorded in UTC: the act still prints the site's clock.
    data["arrived_at"] = "2025-03-12T05:12:00+00:00"
    text = _text(data)
    assert text.count("Asia/Almaty (UTC+05:00)") == 1
    assert "UTC+00:00" not in text
    assert "12.03.2025 10:12" in text
    assert "12.03.2025 10:00–12:00" in text


def test_a_site_in_utc_says_utc() -> None:
    data = snapshot_v2_dict()
    data["time_zone"] = "UTC"
    text = _text(data)
    assert "UTC (UTC+00:00)" in text
    assert "12.03.2025 05:12" in text


def test_description_equipment_actions_and_contractor_statement() -> None:
    text = _text(snapshot_v2_dict())
    assert "Обращение клиента Нет интернета с утра" in text
    assert "заменено, взамен 48575443FFEE0011" in text
    assert "установлено" in text
    assert "акт заверяется электронной печатью Исполнителя" in text
    assert "таб. № 004217" in text


@pytest.mark.parametrize("language", ["kk", "en"])
def test_other_languages(language: str) -> None:
    data = snapshot_v2_dict(language=language)
    data["contractor_signature"] = "contractor_statement"
    text = _text(data)
    if language == "kk":
        assert "Уақыт Asia/Almaty (UTC+05:00)" in text
        assert "48575443FFEE0011 орнына" in text
        assert "Орындаушы актіде көрсетілген жұмыстардың орындалғанын растайды." in text
    else:
        assert "Times Asia/Almaty (UTC+05:00)" in text
        assert "replaced, replacing 48575443FFEE0011" in text
        assert "electronic seal" not in text


def test_version_1_still_prints_step_ids_and_offsets_as_signed() -> None:
    # A signed version 1 act re-renders as it was: its layout is part of what was signed.
    text = _text(snapshot_dict())
    assert "step_0" in text
    assert "UTC+05:00" in text
    snapshot, signatures, assets = load_sample()
    assert render_act(snapshot, signatures=signatures, assets=assets) == render_act(
        snapshot, signatures=signatures, assets=assets
    )


def test_characters_the_font_cannot_draw_are_replaced_before_freezing() -> None:
    data = snapshot_v2_dict()
    data["checklist"][1]["answer"] = "Әлия 👍"  # type: ignore[index]
    snapshot = parse_snapshot(data)
    with pytest.raises(UnsupportedCharacter):
        render_act(snapshot)
    printable = printable_snapshot(snapshot)
    assert printable.checklist[1].answer == "Әлия \ufffd"
    assert "Әлия \ufffd" in " ".join(page_texts(render_act(printable)))
    # Text the font covers is left byte-for-byte alone.
    clean = parse_snapshot(snapshot_v2_dict())
    assert canonical_json(printable_snapshot(clean)) == canonical_json(clean)
