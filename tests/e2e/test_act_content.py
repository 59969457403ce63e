"""The signed act's PDF tells the truth: answers as answered, local time, no ids or internal steps.

A whole visit through the phone API, with a position sent along with every answer (as phones
do), then signed; the stored PDF is read back with pypdf.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from pypdf import PdfReader
from sqlalchemy import select, update

from checklists.schema import step_kind
from checklists.validation import is_customer_visible, iter_steps
from reports import parse_snapshot
from reports.i18n import format_quantity, label, work_type_name
from service.db.models import (
    Act,
    ChecklistAnswer,
    Customer,
    Technician,
    Visit,
    VisitChecklist,
    WorkOrder,
)
from tests.e2e.visit_flow import TEMPLATES, Phone, rendered_act, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
COORDINATES = re.compile(r"-?\d{1,3}\.\d{4,}\s*,\s*-?\d{1,3}\.\d{4,}")
AFTER_SIGNING = ("sign_act", "sign_handover_act", "thanked")


class TruthfulPhone(Phone):
    """A phone that sends its position with every answer and gives distinct answers."""

    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = language
        # What each row must show, keyed by step id.
        self.expected: dict[str, str] = {}
        # ~30 m from the site: close enough to count as arrived, far enough to be a distance.
        self.here = {"lat": self.site["lat"] + 0.00027, "lon": self.site["lon"], "accuracy_m": 7}

    async def answer(self, step: Any) -> None:
        kind = step_kind(step)
        payload: dict[str, Any] = {"step_id": step.id}
        lang = self.language
        yes = label("answer.yes", lang)  # type: ignore[arg-type]
        if kind in ("confirm", "yes_no"):
            payload["value"] = True
            self.expected[step.id] = yes
        elif kind == "choice":
            option = step.options[-1]
            payload["value"] = option.value
            self.expected[step.id] = option.label.get(lang)
        elif kind == "person_name":
            payload["value"] = "Нұрланова Әлия Қанатқызы"
            self.expected[step.id] = payload["value"]
        elif kind == "text":
            payload["value"] = f"Жазба {step.id[:4]}"
            self.expected[step.id] = payload["value"]
        elif kind == "number":
            payload["value"] = step.min if step.min is not None else 1
            quantity = format_quantity(Decimal(str(payload["value"])), lang)  # type: ignore[arg-type]
            self.expected[step.id] = f"{quantity} {step.unit.get(lang)}"
        elif kind == "photo":
            payload["photo_ids"] = [await self.photo(step.id) for _ in range(step.min_count)]
            key = "answer.photo" if step.min_count == 1 else "answer.photos"
            self.expected[step.id] = label(key, lang, count=step.min_count)  # type: ignore[arg-type]
        elif kind == "serial":
            serial = f"SN{uuid.uuid4().hex[:10].upper()}"
            payload["value"] = [{"value": serial, "method": "scanned"}]
            self.expected[step.id] = serial
        elif kind == "geo_check":
            self.expected[step.id] = label("answer.at_site", lang)  # type: ignore[arg-type]
        results = await self.push(self.op("checklist_answer", payload, self.here))
        assert results[0]["status"] == "applied", (step.id, results)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("work_type", "language", "pinned_version"),
    [
        ("repair", "ru", None),
        ("repair", "kk", None),
        ("installation", "ru", None),
        ("installation", "kk", None),
        # A visit pinned to version 1 (no statements yet) borrows the newest version's texts.
        ("repair", "ru", 1),
    ],
)
async def test_signed_act_pdf_tells_the_truth(
    app: Litestar,
    client: Any,
    build: Builder,
    field: Field,
    work_type: str,
    language: str,
    pinned_version: int | None,
) -> None:
    async with build.sessionmaker() as session:
        if pinned_version is not None:
            old = TEMPLATES.get(work_type, pinned_version)
            session.add(
                VisitChecklist(
                    visit_id=field.visit.id,
                    template_key=old.key,
                    template_version=old.version,
                    content_hash=old.content_hash,
                    pinned_at=datetime.now(UTC),
                )
            )
        await session.execute(
            update(WorkOrder).where(WorkOrder.id == field.order.id).values(type=work_type)
        )
        await session.execute(
            update(Customer)
            .where(Customer.id == field.order.customer_id)
            .values(preferred_language=language)
        )
        personnel_no = await session.scalar(
            select(Technician.personnel_no).where(
                Technician.id == field.technician.actor.technician_id
            )
        )
        await session.commit()
    assert personnel_no
    day = await client.get("/mobile/v1/day", headers=field.phone.headers())
    (visit,) = day.json()["visits"]
    phone = TruthfulPhone(
        client, field.phone.access_token, visit["visit_id"], visit["location"], language=language
    )
    results = await phone.push(
        phone.op("en_route", {"eta": phone.clock.isoformat()}),
        phone.op("arrived", location=phone.here),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    replaced = {"old": f"OLD{uuid.uuid4().hex[:8].upper()}", "new": f"NEW{uuid.uuid4().hex[:8]}"}
    if work_type == "repair":
        installed = {
            "name": "ONT HG8245",
            "serial": replaced["new"],
            "replaces_serial": replaced["old"],
        }
        pushed = await phone.push(phone.op("equipment_installed", {"items": [installed]}))
        assert pushed[0]["status"] == "applied", pushed
    await phone.answer_until_signing(work_type)

    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    link = started.json()
    token_path = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    signed = await client.post(token_path, json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    act, pdf = await rendered_act(app, build, link["act_id"])
    async with build.sessionmaker() as session:
        pin = await session.get_one(VisitChecklist, field.visit.id)
    assert pin.template_version == (pinned_version or TEMPLATES.get(work_type).version)
    ARTIFACTS.mkdir(exist_ok=True)
    suffix = f"_v{pinned_version}" if pinned_version else ""
    (ARTIFACTS / f"act_{work_type}_{language}{suffix}.pdf").write_bytes(pdf)
    text = _flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    # Drawn up where the work was: the visit's territory (no NARYAD_ISSUER_PLACE is set).
    assert re.search(rf"№ \S+ {re.escape(field.area.territory.name)} ", text), text[:400]

    template = TEMPLATES.get(work_type)
    rows = 0
    for entry in iter_steps(template.template):
        step = entry.step
        if step.id not in phone.expected or step.id in AFTER_SIGNING:
            continue
        if not is_customer_visible(template.template, entry):
            # Preparation and the technician's own notes stay in the internal record.
            assert _flat(step.title.get(language)) not in text  # type: ignore[arg-type]
            continue
        statement = _flat(step.statement.get(language))  # type: ignore[union-attr,arg-type]
        rows += 1
        at = text.find(statement)
        assert at >= 0, (step.id, statement)
        # The answer stands in the same row: right after the statement, before the next row.
        row = text[at + len(statement) : at + len(statement) + 120]
        assert row.lstrip().startswith(_flat(phone.expected[step.id])), (step.id, row)
    assert rows >= 12
    for step_id in template.steps:
        assert step_id not in text, step_id
    # No coordinate pair in the act except where the signature's position is labelled.
    location_label = label("location", language)  # type: ignore[arg-type]
    for match in COORDINATES.finditer(text):
        assert text[: match.start()].rstrip().endswith(f"{location_label}:"), match.group()
    assert "UTC+00:00" not in text
    assert "Asia/Almaty (UTC+05:00)" in text
    assert field.order.description in text
    assert personnel_no in text
    # The contractor's line carries its statement, never an empty line; a seal only if one is.
    mode = parse_snapshot(act.snapshot_json).contractor_signature
    assert mode == ("seal_statement" if app.state.settings.seal.enabled else "contractor_statement")
    assert _flat(label(str(mode), language)) in text  # type: ignore[arg-type]
    assert "35 м" in text or "30 м" in text  # the arrival distance, as evidence
    if work_type == "repair":
        assert replaced["new"] in text
        assert label("replaced_serial", language, serial=replaced["old"]) in text  # type: ignore[arg-type]


async def test_an_act_claims_no_arrival_or_equipment_that_was_not_recorded(
    client: Any, build: Builder, field: Field
) -> None:
    # As the demo data has it: the visit is on site, its arrival never recorded as such, and
    # the order plans a patch cord that the technician never records as left.
    async with build.sessionmaker() as session:
        await session.execute(
            update(WorkOrder)
            .where(WorkOrder.id == field.order.id)
            .values(type="repair", equipment=[{"name": "Патч-корд SC/APC", "quantity": 1}])
        )
        await session.execute(
            update(Visit)
            .where(Visit.id == field.visit.id)
            .values(status="on_site", arrived_at=None)
        )
        await session.commit()
    day = await client.get("/mobile/v1/day", headers=field.phone.headers())
    (visit,) = day.json()["visits"]
    phone = TruthfulPhone(
        client, field.phone.access_token, visit["visit_id"], visit["location"], language="ru"
    )
    await phone.answer_until_signing("repair")
    started = await client.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    async with build.sessionmaker() as session:
        act = await session.get_one(Act, uuid.UUID(started.json()["act_id"]))
        checked_in = await session.scalar(
            select(ChecklistAnswer.answered_at).where(
                ChecklistAnswer.visit_id == field.visit.id,
                ChecklistAnswer.step_id == "geo_arrival",
            )
        )
    snapshot = parse_snapshot(act.snapshot_json)
    # The arrival printed is the check-in, not the start of the agreed window.
    assert checked_in is not None
    assert snapshot.arrived_at == checked_in
    assert snapshot.arrived_at != snapshot.agreed_window.start
    # Only what was recorded on site is in the equipment table, never the order's plan.
    names = [line.name for line in snapshot.equipment]
    assert not any("Патч-корд" in name for name in names), names
    # The kind of work is said with the service it concerned.
    name = work_type_name("repair", snapshot.language)
    kind = name[:1].upper() + name[1:]
    assert snapshot.works_performed
    assert all(work.startswith(kind) for work in snapshot.works_performed), kind
