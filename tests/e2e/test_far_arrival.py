"""A technician who checks in far from the site must say why before the work is closed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import pytest
from litestar import Litestar
from pypdf import PdfReader

from reports.i18n import label
from service.common.i18n import Language
from service.db.models import Visit, WorkOrder
from tests.conftest import problem
from tests.e2e.visit_flow import Phone, rendered_act, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio
METRES_PER_DEGREE = 111_195.08
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


async def test_completion_far_from_the_site_needs_the_mismatch_note(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    (visit,) = day["visits"]
    site = visit["location"]
    # 5 km north of the site: the arrival and the geo_arrival check are both made there.
    far = {"lat": site["lat"] + 5000 / METRES_PER_DEGREE, "lon": site["lon"], "accuracy_m": 8}
    phone = Phone(client, field.phone.access_token, visit["visit_id"], far)
    (arrived,) = await phone.push(phone.op("arrived", location=far))
    assert arrived["result"]["flagged"] is True
    assert 4900 < arrived["result"]["distance_m"] < 5100
    await phone.answer_until_signing(visit["work_type"], skip={"geo_mismatch_note"})
    state = await phone.checklist()
    assert state["missing_required_steps"] == [
        "geo_mismatch_note",
        "sign_act",
        "thanked",
    ]

    # Without the note the server refuses the act and the outcome, and says what is missing.
    early = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert early.status_code == 422, early.text
    body = problem(early)
    assert body["code"] == "checklist_incomplete"
    assert {e["field"] for e in body["errors"]} == {"checklist.geo_mismatch_note"}
    assert body["detail"] == (
        "Завершите чек-лист, прежде чем составлять акт. "
        "Ещё не выполнено: «Почему отметка далеко от адреса?»."
    )
    # The detail follows the phone's language, as the sync reasons do.
    for language, detail in (
        (
            "kk",
            "Акт жасамас бұрын тексеру парағын аяқтаңыз. Әлі орындалмаған: "
            "«Белгі неге мекенжайдан алыс?».",
        ),
        (
            "en",
            "Finish the checklist before the act is drawn up. Not done yet: "
            "“Why is the position far from the site?”.",
        ),
    ):
        refused_act = await client.post(
            f"/mobile/v1/visits/{visit['visit_id']}/acts",
            json={},
            headers={**field.phone.headers(), "Accept-Language": language},
        )
        assert refused_act.status_code == 422, refused_act.text
        assert problem(refused_act)["detail"] == detail
    (refused,) = await phone.push(phone.op("outcome", {"outcome": "completed"}))
    assert (refused["status"], refused["code"]) == ("rejected", "checklist_blocks_outcome")
    assert "Почему отметка далеко от адреса?" in refused["message"]
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, field.visit.id)).status == "on_site"
        assert (await session.get_one(WorkOrder, field.order.id)).status == "in_progress"

    # With the note the act is drawn up, signed, and the visit completes.
    (noted,) = await phone.push(
        phone.op(
            "checklist_answer",
            {
                "step_id": "geo_mismatch_note",
                "value": "Вход с соседней улицы, адрес в наряде неточен",
            },
        )
    )
    assert noted["status"] == "applied", noted
    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    link = started.json()
    path = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    signed = await client.post(path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    # What the customer signed says where the technician checked in, and why so far away.
    act, pdf = await rendered_act(app, build, link["act_id"])
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "act_far_arrival.pdf").write_bytes(pdf)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    language = cast("Language", act.language)
    assert label("answer.away_from_site", language) in text
    # 5 km reads as kilometres, not "5000 м".
    far_away = {
        "ru": "5,0 км от адреса",
        "kk": "мекенжайдан 5,0 км",
        "en": "5.0 km from the address",
    }
    assert far_away[language] in text
    # The technician's reason is the internal record's (the step is internal), not the act's.
    assert "адрес в наряде неточен" not in text
    done = await phone.push(
        phone.op("checklist_answer", {"step_id": "thanked", "value": True}),
        phone.op("outcome", {"outcome": "completed"}),
    )
    assert [r["status"] for r in done] == ["applied", "applied"], done
    async with build.sessionmaker() as session:
        assert (await session.get_one(Visit, field.visit.id)).status == "completed"
        assert (await session.get_one(WorkOrder, field.order.id)).status == "completed"
