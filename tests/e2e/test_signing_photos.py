"""No photo can make an act unsignable: HEIC is counted, bytes that do not decode are skipped."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pypdf
import pytest
from litestar import Litestar
from sqlalchemy import select

import reports
from service.db.base import utcnow
from service.db.models import Act, AuditEntry, Photo
from service.execution.photos import photo_count_text, photos_label
from service.storage import photo_key
from tests import photo_samples
from tests.conftest import problem
from tests.e2e.visit_flow import Phone, rendered_act, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


async def _on_site_done(client: Any, field: Field) -> Phone:
    day = (await client.get("/mobile/v1/day", headers=field.phone.headers())).json()
    visit = day["visits"][0]
    phone = Phone(client, field.phone.access_token, visit["visit_id"], visit["location"])
    here = {"lat": visit["location"]["lat"], "lon": visit["location"]["lon"], "accuracy_m": 5}
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"])
    return phone


async def _heic_photo(client: Any, field: Field) -> str:
    """A HEIC photo uploaded and confirmed through the API, as an iPhone sends it."""
    data = photo_samples.heif()
    started = await client.post(
        "/mobile/v1/photos/uploads",
        json={
            "visit_id": str(field.visit.id),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": "image/heic",
            "step_id": "photo_after",
        },
        headers=field.phone.headers(),
    )
    photo = started.json()
    parts = urlsplit(photo["upload"]["url"])
    await client.put(
        f"{parts.path}?{parts.query}", content=data, headers=photo["upload"]["headers"]
    )
    confirmed = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert confirmed.json()["status"] == "stored", confirmed.text
    return str(photo["id"])


async def _legacy_bad_photo(app: Litestar, build: Builder, field: Field) -> uuid.UUID:
    """A text file confirmed as a JPEG before confirm decoded photos: stored, not an image."""
    data = photo_samples.text()
    photo_id = uuid.uuid4()
    now = utcnow()
    key = photo_key(photo_id, extension="jpg", at=now)
    await app.state.blob_store.put(key, data, content_type="image/jpeg")
    async with build.sessionmaker() as session, session.begin():
        session.add(
            Photo(
                id=photo_id,
                visit_id=field.visit.id,
                technician_id=field.technician.technician.id,  # type: ignore[union-attr]
                step_id="photo_after",
                object_key=key,
                content_type="image/jpeg",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                status="stored",
                created_at=now,
                confirmed_at=now,
                expires_at=now + timedelta(minutes=15),
            )
        )
    return photo_id


async def _start(client: Any, field: Field) -> dict[str, str]:
    started = await client.post(
        f"/mobile/v1/visits/{field.visit.id}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    link: dict[str, str] = started.json()
    link["path"] = link["signing_url"].split("127.0.0.1:8000", 1)[-1]
    return link


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


async def test_an_act_with_a_heic_photo_and_a_bad_stored_asset_is_signed(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    await _on_site_done(client, field)
    await _heic_photo(client, field)
    bad_id = await _legacy_bad_photo(app, build, field)

    link = await _start(client, field)
    async with build.sessionmaker() as session:
        act = await session.get_one(Act, link["act_id"])
        bad = await session.get_one(Photo, bad_id)
        skipped = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "photo.skipped_in_act", AuditEntry.entity_id == str(bad_id)
            )
        )
    snapshot = reports.parse_snapshot(act.snapshot_json)
    # Two good JPEGs (before, after) are embedded; the text file is not; the HEIC is counted.
    assert len(snapshot.photos) == 2
    assert bad.sha256 not in {p.sha256 for p in snapshot.photos}
    assert skipped is not None
    assert "do not decode" in skipped.after["reason"]
    [row] = [entry for entry in snapshot.checklist if entry.step_id == "photos"]
    assert row.label == photos_label(snapshot.language)
    assert row.answer == photo_count_text(3, 1, 0, snapshot.language)

    signed = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    act, pdf = await rendered_act(app, build, link["act_id"])
    assert act.status in ("signed", "sealed")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "act_with_heic_and_bad_photo.pdf").write_bytes(pdf)  # to look at
    text = " ".join(_pdf_text(pdf).split())
    assert " ".join(row.answer.split()) in text


async def test_a_draft_whose_photo_went_bad_is_refused_clearly_then_redrawn_and_signed(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    await _on_site_done(client, field)
    link = await _start(client, field)
    async with build.sessionmaker() as session:
        act = await session.get_one(Act, link["act_id"])
        embedded = {p.sha256 for p in reports.parse_snapshot(act.snapshot_json).photos}
        photo = await session.scalar(select(Photo).where(Photo.sha256.in_(embedded)).limit(1))
    assert photo is not None
    # The bytes behind a frozen draft are lost (a store fault, or a draft frozen before
    # photos were checked): the customer cannot sign other content than they read.
    await app.state.blob_store.delete(photo.object_key)
    refused = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
    assert refused.status_code == 409, refused.text
    assert problem(refused)["code"] == "act_photo_unusable"
    async with build.sessionmaker() as session:
        assert (await session.get_one(Act, link["act_id"])).status == "draft"

    # The technician draws the act up again: the lost photo is left out, and it is signed.
    again = await _start(client, field)
    assert again["act_id"] == link["act_id"]
    assert again["snapshot_sha256"] != link["snapshot_sha256"]
    signed = await client.post(again["path"], json=signature_body(again["snapshot_sha256"]))
    assert signed.status_code == 200, signed.text
    async with build.sessionmaker() as session:
        act = await session.get_one(Act, link["act_id"])
    assert photo.sha256 not in {p.sha256 for p in reports.parse_snapshot(act.snapshot_json).photos}
