"""Checklists in the service: publishing, pinning, answers through the engine, state per visit."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from checklists import TEMPLATES_DIR, Answer, Location, VersionConflict
from service.common.actor import Role
from service.db.models import ChecklistAnswer, ChecklistTemplate, Visit
from service.errors import Conflict, ValidationFailed
from service.visit_checklists.registry import TemplateRegistry, publish
from service.visit_checklists.services import ChecklistService
from tests.conftest import problem
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio
REGISTRY = TemplateRegistry()
BEFORE_DEPARTURE = [
    "supervisor_check",
    "materials_ready",
    "overshoes_on_hand",
    "visit_time_known",
    "support_contacts_known",
    "standing_rules_ack",
]


async def _scene(build: Builder, status: str = "en_route") -> tuple[Any, Any, Visit]:
    area = await build.area()
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    order = await build.order(area, status="in_progress")
    visit = await build.visit(order, tech.technician, status=status)
    return area, tech, visit


async def _record(
    build: Builder, tech: Any, visit: Visit, answer: Answer, operation_id: uuid.UUID | None = None
) -> ChecklistAnswer:
    async with build.sessionmaker() as session:
        service = ChecklistService(session, tech.actor, REGISTRY)
        fresh = await session.get_one(Visit, visit.id)
        row = await service.record(fresh, answer, operation_id=operation_id)
        await session.commit()
        return row


async def test_answers_flow_into_state_and_compliance(client: Any, build: Builder) -> None:
    area, tech, visit = await _scene(build)
    now = datetime.now(UTC)
    for step in BEFORE_DEPARTURE:
        await _record(build, tech, visit, Answer(step_id=step, value=True, answered_at=now))
    site = area.point()
    await _record(
        build,
        tech,
        visit,
        Answer(
            step_id="geo_arrival",
            answered_at=now,
            location=Location(lat=site["lat"], lon=site["lon"], accuracy_m=8),
        ),
    )
    response = await client.get(
        f"/api/v1/visits/{visit.id}/checklist", params={"lang": "kk"}, headers=tech.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["template"]["key"] == "repair"
    state = body["state"]
    assert state["current_phase"] == "arrival"
    assert "greeting" in state["next_required_steps"]
    assert not state["completion_allowed"]
    assert state["blocking_reasons"]
    assert 0 < state["compliance"]["score"] < 1
    stored = {a["step_id"]: a for a in body["answers"]}
    assert stored["geo_arrival"]["location"] == {
        "lat": site["lat"],
        "lon": site["lon"],
        "accuracy_m": 8.0,
    }
    assert stored["supervisor_check"]["answered_at"] is not None
    assert stored["supervisor_check"]["received_at"] is not None


async def test_bad_answers_are_refused_and_not_stored(build: Builder) -> None:
    _, tech, visit = await _scene(build)
    cases = [
        (Answer(step_id="teleported", value=True), "unknown_step"),
        (Answer(step_id="supervisor_check", value="yes"), "wrong_type"),
        (Answer(step_id="acceptor_name", value="Әлия"), None),  # hidden until adult_present
        (Answer(step_id="photo_before", photo_ids=("p1",)), None),  # work phase is locked
    ]
    for answer, code in cases:
        with pytest.raises(ValidationFailed) as refused:
            await _record(build, tech, visit, answer)
        assert refused.value.errors
        if code:
            assert refused.value.code == code
    assert await build.count(ChecklistAnswer, ChecklistAnswer.visit_id == visit.id) == 0


async def test_same_operation_is_stored_once(build: Builder) -> None:
    _, tech, visit = await _scene(build)
    operation = uuid.uuid4()
    answer = Answer(step_id="supervisor_check", value=True)
    first = await _record(build, tech, visit, answer, operation)
    again = await _record(build, tech, visit, answer, operation)
    assert first.id == again.id
    assert await build.count(ChecklistAnswer, ChecklistAnswer.visit_id == visit.id) == 1


async def test_closed_visit_refuses_answers(build: Builder) -> None:
    _, tech, visit = await _scene(build, status="completed")
    with pytest.raises(Conflict, match="closed"):
        await _record(build, tech, visit, Answer(step_id="supervisor_check", value=True))


async def test_visit_keeps_its_pinned_version_after_a_new_one(
    build: Builder, tmp_path: Path
) -> None:
    _, tech, pinned_visit = await _scene(build)
    await _record(build, tech, pinned_visit, Answer(step_id="supervisor_check", value=True))
    edited = tmp_path / "templates"
    edited.mkdir()
    for source in TEMPLATES_DIR.glob("*.yaml"):
        shutil.copy(source, edited / source.name)
    repair = (edited / "repair.v2.yaml").read_text(encoding="utf-8")
    (edited / "repair.v2.yaml").write_text(
        repair.replace("Устранение повреждения", "Устранение повреждения (ред.)", 1),
        encoding="utf-8",
    )
    async with build.sessionmaker() as session:
        with pytest.raises(VersionConflict):
            await publish(session, edited)  # same version, other content
    (edited / "repair.v2.yaml").rename(edited / "repair.v3.yaml")
    v3 = (edited / "repair.v3.yaml").read_text(encoding="utf-8")
    (edited / "repair.v3.yaml").write_text(
        v3.replace("version: 2", "version: 3", 1), encoding="utf-8"
    )
    async with build.sessionmaker() as session:
        report = await publish(session, edited)
        await session.commit()
    assert any(line.startswith("published repair v3") for line in report)
    _, other_tech, new_visit = await _scene(build)
    await _record(build, other_tech, new_visit, Answer(step_id="supervisor_check", value=True))
    async with build.sessionmaker() as session:
        service = ChecklistService(session, tech.actor, REGISTRY)
        old_pin, _ = await service.pin(await session.get_one(Visit, pinned_visit.id))
        new_pin, _ = await service.pin(await session.get_one(Visit, new_visit.id))
    assert (old_pin.version, new_pin.version) == (2, 3)


async def test_published_versions_are_immutable(build: Builder) -> None:
    async with build.sessionmaker() as session:
        with pytest.raises(DBAPIError, match="immutable"):
            await session.execute(
                text("UPDATE checklist_templates SET content_hash = 'x' WHERE key = 'repair'")
            )
    assert await build.count(ChecklistTemplate) >= 4


async def test_checklist_endpoint_scope(client: Any, build: Builder) -> None:
    area, _, visit = await _scene(build)
    stranger = await build.person(Role.TECHNICIAN, area.territory)
    outsider_area = await build.area()
    outsider = await build.person(Role.DISPATCHER, outsider_area.territory)
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    url = f"/api/v1/visits/{visit.id}/checklist"
    assert (await client.get(url)).status_code == 401
    for person in (stranger, outsider):
        response = await client.get(url, headers=person.headers)
        assert response.status_code == 404
        problem(response)
    assert (await client.get(url, headers=dispatcher.headers)).status_code == 200
    bad_lang = await client.get(url, params={"lang": "de"}, headers=dispatcher.headers)
    assert bad_lang.status_code == 400
    problem(bad_lang)
