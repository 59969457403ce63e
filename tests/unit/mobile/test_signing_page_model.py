"""The signing page's view model, without a database: what the customer reads, in local time."""

from __future__ import annotations

import msgspec
import pytest

from mobile_api.signing_page import MESSAGE_STATUS, message_model, page_model
from reports import parse_snapshot
from tests.unit.reports.builders import snapshot_v2_dict


def _model(language: str = "ru") -> dict[str, object]:
    snapshot = parse_snapshot(msgspec.json.encode(snapshot_v2_dict(language=language)))
    return page_model(snapshot, "a" * 64, "token", nonce="n0nce")


def test_times_are_local_and_the_zone_is_named_once() -> None:
    model = _model()
    assert model["zone_note"] == "Время указано по зоне Asia/Almaty (UTC+05:00)."
    times = [time for time, *_ in model["checklist"]]  # type: ignore[attr-defined]
    assert times[0] == "12.03.2025 10:12"  # recorded at 10:12+05:00, shown on the site's clock
    assert all("UTC" not in time for time in times)


@pytest.mark.parametrize(
    ("language", "written"),
    [("ru", "«12» марта 2025 г."), ("kk", "2025 жылғы 12 наурыз"), ("en", "12 March 2025")],
)
def test_the_act_date_reads_as_the_act_prints_it(language: str, written: str) -> None:
    assert str(_model(language)["place_date"]).endswith(written)


def test_answers_evidence_and_equipment_as_the_customer_reads_them() -> None:
    model = _model()
    rows = {label: (answer, evidence) for _, label, answer, evidence in model["checklist"]}  # type: ignore[attr-defined]
    assert rows["Прибыл по адресу объекта"] == ("Да", "35 м от адреса (±12 м)")
    assert rows["Установил причину неисправности"][0] == "Повреждение оптического кабеля"
    replaced, installed = model["equipment"]  # type: ignore[misc]
    assert replaced["name"] == "Оптический терминал · HG8245X6"
    assert "заменено (взамен 48575443FFEE0011)" in replaced["detail"]
    assert installed["detail"].endswith("2 шт")
    assert model["description"].startswith("Нет интернета с утра")  # type: ignore[union-attr]
    assert all("geo_arrival" not in str(value) for value in model.values())


def test_every_language_has_every_page_text_with_the_phone_filled_in() -> None:
    texts = _model("kk")["texts"]
    assert set(texts) == {"ru", "kk", "en"}  # type: ignore[arg-type]
    keys = [set(t) for t in texts.values()]  # type: ignore[attr-defined]
    assert keys[0] == keys[1] == keys[2]
    for language_texts in texts.values():  # type: ignore[attr-defined]
        assert all("{phone}" not in text for text in language_texts.values())


@pytest.mark.parametrize(
    ("state", "language", "heading"),
    [
        ("unknown", "en", "This link is not valid"),
        ("used", "kk", "Сілтеме бұрын пайдаланылған"),
        ("refused", "ru", "Вы отказались подписать этот акт"),
        ("expired", "ru", "Срок действия ссылки истёк"),
        ("preparing", "en", "Your copy is being prepared"),
    ],
)
def test_link_messages(state: str, language: str, heading: str) -> None:
    model = message_model(
        state,
        language,
        company="ТОО Дала",
        phone="+7 (727) 300-00-00",
        nonce="n",  # type: ignore[arg-type]
    )
    assert model["heading"] == heading
    assert model["phone_uri"] == "tel:+77273000000"
    assert "ТОО Дала" in model["contact"]
    assert MESSAGE_STATUS[state] in (200, 404, 409, 410)
