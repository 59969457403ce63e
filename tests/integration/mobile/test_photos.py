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
