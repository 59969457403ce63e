"""Confirm refuses a photo whose bytes are not the declared image type, on both stores.

Each case uploads through the presigned URL the API hands out (the local store's signed URL,
or moto's S3 server over HTTP), then confirms.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from service.db.models import AuditEntry, Photo
from service.storage import BlobStore
from tests import photo_samples
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field, log_in
from tests.integration.storage.conftest import (  # noqa: F401 (fixture)
    S3Emulator,
    make_s3_store,
    s3_emulator,
    unique_bucket,
)

pytestmark = pytest.mark.asyncio


@dataclass
class Store:
    """The store the app uses in this test and how a phone PUTs to its URLs."""

    name: str
    blob_store: BlobStore
    put: Callable[[str, bytes, dict[str, str]], Any]


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, app: Litestar, client: Any) -> AsyncIterator[Store]:
    """The app's own local store, or (swapped in for the test) an S3 store on moto."""
    if request.param == "local":

        async def put_local(url: str, data: bytes, headers: dict[str, str]) -> Any:
            parts = urlsplit(url)
            return await client.put(f"{parts.path}?{parts.query}", content=data, headers=headers)

        yield Store("local", app.state.blob_store, put_local)
        return
    emulator: S3Emulator = request.getfixturevalue("s3_emulator")
    s3 = make_s3_store(emulator, unique_bucket("photos"))
    original = app.state.blob_store
    app.state.blob_store = s3
    async with httpx.AsyncClient(timeout=30) as http:

        async def put_s3(url: str, data: bytes, headers: dict[str, str]) -> Any:
            return await http.put(url, content=data, headers=headers)

        try:
            yield Store("s3", s3, put_s3)
        finally:
            app.state.blob_store = original
            for item in await s3.list_keys():
                await s3.delete(item.key)


async def _upload(
    client: Any, field: Field, store: Store, data: bytes, content_type: str
) -> tuple[dict[str, Any], Any]:
    """Start an upload declared as ``content_type``, PUT the bytes, confirm."""
    started = await client.post(
        "/mobile/v1/photos/uploads",
        json={
            "visit_id": str(field.visit.id),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": content_type,
            "step_id": "photo_before",
        },
        headers=field.phone.headers(),
    )
    assert started.status_code == 201, started.text
    photo: dict[str, Any] = started.json()
    put = await store.put(photo["upload"]["url"], data, photo["upload"]["headers"])
    assert put.status_code in (200, 201, 204), put.text
    confirmed = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    return photo, confirmed


async def _row(build: Builder, photo_id: str) -> Photo:
    async with build.sessionmaker() as session:
        return await session.get_one(Photo, photo_id)


@pytest.mark.parametrize(
    ("content_type", "make"),
    [
        ("image/jpeg", photo_samples.jpeg),
        ("image/png", photo_samples.png),
        ("image/webp", photo_samples.webp),
        ("image/heic", photo_samples.heif),
    ],
)
async def test_real_photos_are_stored(
    client: Any,
    build: Builder,
    field: Field,
    store: Store,
    content_type: str,
    make: Callable[[], bytes],
) -> None:
    photo, confirmed = await _upload(client, field, store, make(), content_type)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "stored"
    row = await _row(build, photo["id"])
    assert row.status == "stored"
    assert await store.blob_store.head(row.object_key) is not None


@pytest.mark.parametrize(
    ("content_type", "make", "found"),
    [
        ("image/jpeg", photo_samples.text, "text"),
        ("image/jpeg", photo_samples.png, "a PNG image"),
        ("image/jpeg", photo_samples.truncated_jpeg, "a damaged JPEG image"),
        ("image/png", photo_samples.png_bomb, "an image of 10000x8000 pixels"),
        ("image/heic", photo_samples.jpeg, "a JPEG image"),
    ],
)
async def test_a_lying_photo_is_refused_and_deleted(
    client: Any,
    build: Builder,
    field: Field,
    store: Store,
    content_type: str,
    make: Callable[[], bytes],
    found: str,
) -> None:
    photo, refused = await _upload(client, field, store, make(), content_type)
    assert refused.status_code == 422, refused.text
    body = problem(refused)
    assert body["code"] == "not_declared_type"
    # Said to the technician (in Russian, the phone asked for no language); what was found
    # is in ``errors`` for the app's developers.
    assert body["detail"] == (
        "Сервер не может прочитать файл как фотографию. Загрузка удалена: сделайте фото ещё раз."
    )
    assert body["errors"] == [
        {"field": "content_type", "message": f"declared {content_type}; found {found}"}
    ]
    row = await _row(build, photo["id"])
    # The phone can act on it: rejected, with the reason, and the bytes are gone.
    assert row.status == "rejected"
    assert row.status_reason is not None
    assert found in row.status_reason
    assert await store.blob_store.head(row.object_key) is None
    async with build.sessionmaker() as session:
        audit = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "photo.rejected", AuditEntry.entity_id == photo["id"]
            )
        )
    assert audit is not None
    # Confirming again does not resurrect it; a new upload takes its place.
    again = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert again.status_code == 409
    assert problem(again)["code"] == "photo_rejected"
    _, retried = await _upload(client, field, store, photo_samples.jpeg(), "image/jpeg")
    assert retried.status_code == 200, retried.text


async def test_a_rejected_photo_cannot_be_attached_to_an_answer(
    client: Any, build: Builder, field: Field
) -> None:
    started = await client.post(
        "/mobile/v1/photos/uploads",
        json={
            "visit_id": str(field.visit.id),
            "sha256": hashlib.sha256(photo_samples.text()).hexdigest(),
            "size": len(photo_samples.text()),
            "content_type": "image/jpeg",
        },
        headers=field.phone.headers(),
    )
    photo = started.json()
    parts = urlsplit(photo["upload"]["url"])
    await client.put(
        f"{parts.path}?{parts.query}",
        content=photo_samples.text(),
        headers=photo["upload"]["headers"],
    )
    refused = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert refused.status_code == 422
    pushed = await client.post(
        "/mobile/v1/sync/push",
        json={
            "operations": [
                {
                    "id": str(uuid.uuid4()),
                    "type": "photo_attached",
                    "visit_id": str(field.visit.id),
                    "device_time": "2026-01-01T10:00:00+05:00",
                    "payload": {"photo_id": photo["id"], "step_id": "photo_before"},
                }
            ]
        },
        headers=field.phone.headers(),
    )
    result = pushed.json()["results"][0]
    assert result["status"] == "rejected"
    assert result["code"] == "photo_not_confirmed"


async def test_confirm_is_for_the_photos_own_technician_only(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    data = photo_samples.text()  # would be rejected (and deleted) if anyone else could confirm
    started = await client.post(
        "/mobile/v1/photos/uploads",
        json={
            "visit_id": str(field.visit.id),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": "image/jpeg",
        },
        headers=field.phone.headers(),
    )
    photo = started.json()
    parts = urlsplit(photo["upload"]["url"])
    await client.put(
        f"{parts.path}?{parts.query}", content=data, headers=photo["upload"]["headers"]
    )
    path = f"/mobile/v1/photos/{photo['id']}/confirm"
    other_area = await build.area()
    stranger = await log_in(client, await build.technician_at(other_area, 0.1, 0.1))
    colleague = await log_in(client, await build.technician_at(field.area, 0.2, 0.2))
    dispatcher = await log_in(client, field.dispatcher)
    anonymous = await client.post(path, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert anonymous.status_code == 401
    problem(anonymous)
    wrong_role = await client.post(path, headers=dispatcher.headers())
    assert wrong_role.status_code == 403
    problem(wrong_role)
    for other in (colleague, stranger):  # same territory, another territory
        response = await client.post(path, headers=other.headers())
        assert response.status_code == 404, response.text
        problem(response)
    row = await _row(build, photo["id"])
    assert row.status == "pending"
    assert await app.state.blob_store.head(row.object_key) is not None


async def test_a_removed_photo_leaves_the_store(
    client: Any, build: Builder, field: Field, store: Store
) -> None:
    photo, confirmed = await _upload(client, field, store, photo_samples.jpeg(), "image/jpeg")
    assert confirmed.status_code == 200, confirmed.text
    key = (await _row(build, photo["id"])).object_key
    assert await store.blob_store.head(key) is not None
    pushed = await client.post(
        "/mobile/v1/sync/push",
        json={
            "operations": [
                {
                    "id": str(uuid.uuid4()),
                    "type": "photo_removed",
                    "visit_id": str(field.visit.id),
                    "device_time": "2026-01-01T10:00:00+05:00",
                    "payload": {"photo_id": photo["id"]},
                }
            ]
        },
        headers=field.phone.headers(),
    )
    assert pushed.json()["results"][0]["status"] == "applied", pushed.text
    assert await store.blob_store.head(key) is None
    assert (await _row(build, photo["id"])).status == "removed"
