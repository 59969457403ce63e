"""Photos: presigned upload straight to the store, confirm checks size and SHA-256."""

from __future__ import annotations

import hashlib
import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar

from service.db.models import Photo
from tests import photo_samples
from tests.conftest import problem
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field

pytestmark = pytest.mark.asyncio


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


async def _start(client: Any, field: Field, data: bytes, **extra: Any) -> Any:
    return await client.post(
        "/mobile/v1/photos/uploads",
        json={
            "visit_id": str(field.visit.id),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": "image/jpeg",
            "step_id": "photo_before",
            **extra,
        },
        headers=field.phone.headers(),
    )


async def test_upload_then_confirm(client: Any, build: Builder, field: Field) -> None:
    data = photo_samples.jpeg()
    started = await _start(client, field, data)
    assert started.status_code == 201, started.text
    photo = started.json()
    assert photo["status"] == "pending"
    upload = photo["upload"]
    assert upload["method"] == "PUT"
    early = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert early.status_code == 409  # nothing uploaded yet
    put = await client.put(_local(upload["url"]), content=data, headers=upload["headers"])
    assert put.status_code in (200, 201, 204), put.text
    confirmed = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "stored"
    again = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert again.json()["status"] == "stored"


async def test_other_bytes_are_rejected_and_the_object_removed(
    app: Litestar, client: Any, build: Builder, field: Field
) -> None:
    declared = b"\xff\xd8\xff" + os.urandom(2000)
    photo = (await _start(client, field, declared)).json()
    async with build.sessionmaker() as session:
        key = (await session.get_one(Photo, photo["id"])).object_key
    # Bytes of the right size but other content reach the store (an emulator that does not
    # enforce checksums, or a broken client): confirm must notice.
    await app.state.blob_store.put(
        key, b"\xff\xd8\xff" + os.urandom(2000), content_type="image/jpeg"
    )
    refused = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert refused.status_code == 422
    assert problem(refused)["code"] == "integrity"
    assert await app.state.blob_store.head(key) is None
    async with build.sessionmaker() as session:
        assert (await session.get_one(Photo, photo["id"])).status == "rejected"
    retry = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm", headers=field.phone.headers()
    )
    assert retry.status_code == 409


@pytest.mark.parametrize(
    ("stored", "language", "told"),
    [
        # Cut off on the way (an emulator that does not check the length): fewer bytes.
        (
            lambda sent: sent[:-100],
            "kk",
            "Сурет толық келмеді: жіберу кезінде байланыс үзілді. "
            "Жүктелген файл жойылды: суретті қайта түсіріңіз.",
        ),
        (
            lambda sent: sent[:-100],
            "en",
            "The photo did not arrive whole: the connection broke during the upload. "
            "The upload was deleted: take the photo again.",
        ),
        # As many bytes, other ones.
        (
            lambda sent: sent[:-10] + b"0123456789",
            "ru",
            "Фото пришло повреждённым: его байты не совпадают с отправленными телефоном. "
            "Загрузка удалена: сделайте фото ещё раз.",
        ),
    ],
)
async def test_a_refused_confirm_tells_the_technician_in_their_language(
    app: Litestar,
    client: Any,
    build: Builder,
    field: Field,
    stored: Any,
    language: str,
    told: str,
) -> None:
    sent = photo_samples.jpeg()
    photo = (await _start(client, field, sent)).json()
    async with build.sessionmaker() as session:
        key = (await session.get_one(Photo, photo["id"])).object_key
    await app.state.blob_store.put(key, stored(sent), content_type="image/jpeg")
    refused = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm",
        headers={**field.phone.headers(), "Accept-Language": language},
    )
    assert refused.status_code == 422
    body = problem(refused)
    assert body["code"] == "integrity"
    assert body["detail"] == told
    # The technical finding stays in English for the app's developers and the logs.
    assert body["errors"][0]["field"] == "sha256"
    async with build.sessionmaker() as session:
        row = await session.get_one(Photo, photo["id"])
    assert row.status == "rejected"
    assert row.status_reason is not None
    assert row.status_reason.startswith("The up")  # the English detail, for staff and audit
    # Confirming it again: refused as already rejected, in the language asked.
    again = await client.post(
        f"/mobile/v1/photos/{photo['id']}/confirm",
        headers={**field.phone.headers(), "Accept-Language": "en"},
    )
    assert again.status_code == 409
    assert problem(again)["detail"] == "The server refused the photo: take it again."


async def test_upload_requests_are_checked(client: Any, build: Builder, field: Field) -> None:
    before = await build.count(Photo)
    cases = [
        ({"size": 16 * 1024 * 1024}, 400),
        ({"content_type": "application/pdf"}, 400),
        ({"sha256": "not-a-digest"}, 400),
        ({"visit_id": "00000000-0000-4000-8000-000000000000"}, 404),
    ]
    for change, status in cases:
        body = {
            "visit_id": str(field.visit.id),
            "sha256": "a" * 64,
            "size": 100,
            "content_type": "image/png",
        } | change
        response = await client.post(
            "/mobile/v1/photos/uploads", json=body, headers=field.phone.headers()
        )
        assert response.status_code == status, (change, response.text)
        problem(response)
    assert await build.count(Photo) == before
