"""Which stored photos an act embeds, read from a store held in memory (no database)."""

from __future__ import annotations

import hashlib
import uuid
from typing import cast

import pytest

from service.db.models import Photo
from service.execution.photos import MAX_ACT_PHOTOS, photo_count_text, photos_for_act
from service.storage import BlobNotFound, BlobStore, StorageUnavailable
from tests import photo_samples


class _Store:
    """Just ``get``, counting what was read."""

    def __init__(self, blobs: dict[str, bytes], failing: frozenset[str] = frozenset()) -> None:
        self.blobs = blobs
        self.failing = failing
        self.read: list[str] = []

    async def get(self, key: str) -> bytes:
        self.read.append(key)
        if key in self.failing:
            raise StorageUnavailable("the store is down")
        try:
            return self.blobs[key]
        except KeyError:
            raise BlobNotFound(key) from None


def _photo(content_type: str, data: bytes, *, sha256: str | None = None) -> Photo:
    photo_id = uuid.uuid4()
    return Photo(
        id=photo_id,
        object_key=f"photos/{photo_id}",
        content_type=content_type,
        size=len(data),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        status="stored",
    )


async def test_heic_and_photos_past_the_limit_are_counted_unread() -> None:
    jpeg = photo_samples.jpeg()
    heic_bytes = photo_samples.heif()
    heic = _photo("image/heic", heic_bytes)
    missing = _photo("image/jpeg", jpeg)
    text = _photo("image/jpeg", photo_samples.text())
    tampered = _photo("image/png", photo_samples.png(), sha256="0" * 64)
    good = [_photo("image/jpeg", jpeg) for _ in range(MAX_ACT_PHOTOS + 2)]
    stored = [heic, missing, text, tampered, *good]
    blobs = {p.object_key: jpeg for p in good}
    blobs |= {heic.object_key: heic_bytes, text.object_key: photo_samples.text()}
    blobs[tampered.object_key] = photo_samples.png()
    store = _Store(blobs)

    chosen = await photos_for_act(cast(BlobStore, store), stored, "en")

    assert chosen.embedded == good[:MAX_ACT_PHOTOS]
    reasons = {photo.id: reason for photo, reason in chosen.skipped}
    assert reasons == {
        missing.id: "the stored object is missing",
        text.id: "the stored bytes do not decode as image/jpeg",
        tampered.id: "the stored bytes do not match the photo's SHA-256",
    }
    assert chosen.note == photo_count_text(MAX_ACT_PHOTOS + 3, 1, 2, "en")
    # Neither the HEIC nor the two photos past the limit were downloaded.
    unread = {heic.object_key, *(p.object_key for p in good[MAX_ACT_PHOTOS:])}
    assert not unread & set(store.read)
    assert len(store.read) == 3 + MAX_ACT_PHOTOS


async def test_every_photo_embedded_needs_no_note() -> None:
    jpeg = photo_samples.jpeg()
    stored = [_photo("image/jpeg", jpeg), _photo("image/webp", photo_samples.webp())]
    store = _Store({stored[0].object_key: jpeg, stored[1].object_key: photo_samples.webp()})
    chosen = await photos_for_act(cast(BlobStore, store), stored, "ru")
    assert chosen.embedded == stored
    assert chosen.note is None
    assert chosen.skipped == []


async def test_a_storage_outage_propagates() -> None:
    jpeg = photo_samples.jpeg()
    photo = _photo("image/jpeg", jpeg)
    store = _Store({photo.object_key: jpeg}, failing=frozenset({photo.object_key}))
    with pytest.raises(StorageUnavailable):
        await photos_for_act(cast(BlobStore, store), [photo], "ru")
