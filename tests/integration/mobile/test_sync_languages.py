"""Sync results say why an operation was refused in the phone's language (Accept-Language)."""

from __future__ import annotations

from typing import Any

import pytest

from checklists import load_templates
from tests.integration.mobile.conftest import Field, op

pytestmark = pytest.mark.asyncio
REPAIR = load_templates().get("repair")

# What a technician reads, per language: the server's own reasons (gettext catalogs) and the
# checklist engine's (its own catalog), each checked word for word.
EXPECTED = {
    "ru": {
        "no_location": "Для отметки прибытия нужно местоположение телефона: включите геолокацию.",
        "id_reused": "Идентификатор этой операции уже использован для других данных.",
        "blocked": "Чек-лист пока не позволяет этот исход.",
        "required": "Не выполнен обязательный шаг «{title}».",
        "wrong_type": "Шаг «{title}»: ожидается подтверждение (true).",
    },
    "kk": {
        "no_location": (
            "Келуді белгілеу үшін телефонның орналасқан жері қажет: геолокацияны қосыңыз."
        ),
        "id_reused": "Бұл операцияның идентификаторы басқа деректер үшін қолданылған.",
        "blocked": "Тексеру парағы әзірге бұл нәтижеге рұқсат бермейді.",
        "required": "«{title}» міндетті қадамы орындалмаған.",
        "wrong_type": "«{title}» қадамы: растау (true) күтіледі.",
    },
    "en": {
        "no_location": "The arrival needs the phone's location: turn location on.",
        "id_reused": "This operation's id was already used for other data.",
        "blocked": "The checklist does not allow this outcome yet.",
        "required": "Required step “{title}” is not done.",
        "wrong_type": "Step “{title}” expects true.",
    },
}


def title(step_id: str, language: str) -> str:
    text: str = REPAIR.steps[step_id].step.title.get(language)  # type: ignore[arg-type]
    return text


async def push(client: Any, field: Field, language: str | None, *operations: Any) -> Any:
    headers = field.phone.headers()
    if language is not None:
        headers["Accept-Language"] = language
    response = await client.post(
        "/mobile/v1/sync/push", json={"operations": list(operations)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [("ru-RU,ru;q=0.9", "ru"), ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"), ("en-GB,en;q=0.9", "en")],
)
async def test_refusals_are_in_the_phones_language(
    client: Any, field: Field, accept_language: str, language: str
) -> None:
    texts = EXPECTED[language]
    site = field.area.point()
    here = {"lat": site["lat"], "lon": site["lon"], "accuracy_m": 5}
    no_location = op(field.visit.id, "arrived", minutes=0)
    wrong_type = op(
        field.visit.id, "checklist_answer", {"step_id": "materials_ready", "value": 7}, minutes=1
    )
    arrived = op(field.visit.id, "arrived", location=here, minutes=2)
    early = op(field.visit.id, "outcome", {"outcome": "completed"}, minutes=3)
    results = await push(client, field, accept_language, no_location, wrong_type, arrived, early)
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "no_location"),
        ("rejected", "wrong_type"),
        ("applied", None),
        ("rejected", "checklist_blocks_outcome"),
    ]
    assert results[0]["message"] == texts["no_location"]
    assert results[1]["message"] == texts["wrong_type"].format(
        title=title("materials_ready", language)
    )
    # A blocked outcome: the headline, then the engine's reasons in the same language.
    blocked = results[3]["message"]
    assert blocked.startswith(texts["blocked"] + " ")
    assert texts["required"].format(title=title("supervisor_check", language)) in blocked

    forged = {**arrived, "payload": {"text": "other"}}
    (reused,) = await push(client, field, accept_language, forged)
    assert (reused["status"], reused["code"]) == ("rejected", "id_reused")
    assert reused["message"] == texts["id_reused"]


async def test_without_accept_language_the_phone_hears_russian(client: Any, field: Field) -> None:
    (result,) = await push(client, field, None, op(field.visit.id, "arrived"))
    assert result["message"] == EXPECTED["ru"]["no_location"]
    (other,) = await push(client, field, "de-DE,fr;q=0.5", op(field.visit.id, "arrived"))
    assert other["message"] == EXPECTED["ru"]["no_location"]


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
async def test_the_checklist_speaks_the_phones_language_unless_asked_otherwise(
    client: Any, field: Field, language: str
) -> None:
    path = f"/mobile/v1/visits/{field.visit.id}/checklist"
    headers = {**field.phone.headers(), "Accept-Language": f"{language};q=0.9"}
    state = (await client.get(path, headers=headers)).json()["state"]
    first = state["phases"][0]
    assert first["title"] == REPAIR.phases[0].phase.title.get(language)  # type: ignore[arg-type]
    # ?lang= still wins (the app names its language explicitly).
    asked = (await client.get(path, params={"lang": "kk"}, headers=headers)).json()["state"]
    assert asked["phases"][0]["title"] == REPAIR.phases[0].phase.title.get("kk")
