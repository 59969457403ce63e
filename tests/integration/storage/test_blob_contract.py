"""The BlobStore contract, run against the local store and the S3 store (over HTTP)."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from service.storage import (
    BlobNotFound,
    IntegrityError,
    InvalidKey,
    blob_key,
    verify_blob,
)
from tests.integration.storage.conftest import Backend


def new_key(kind: str = "photos", ext: str = "jpg") -> str:
    return blob_key(kind, "2026", "11", f"{uuid.uuid4()}.{ext}")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_get_head_list_delete_round_trip(backend: Backend) -> None:
    store = backend.store
    prefix = f"rt/{uuid.uuid4()}/"
    keys = [f"{prefix}b.jpg", f"{prefix}a.jpg", f"{prefix}sub/c.pdf"]
    payloads = {key: os.urandom(1000 + i) for i, key in enumerate(keys)}
    before = datetime.now(UTC).replace(microsecond=0)

    for key, data in payloads.items():
        info = await store.put(key, data, content_type="image/jpeg")
        assert (info.key, info.size, info.sha256) == (key, len(data), sha(data))

    for key, data in payloads.items():
        assert await store.get(key) == data
        head = await store.head(key)
        assert head is not None
        assert head.size == len(data)
        assert head.content_type == "image/jpeg"
        assert head.sha256 == sha(data)
        assert head.etag

    listing = await store.list_keys(prefix)
    assert [item.key for item in listing] == sorted(keys)
    for key, size, last_modified in listing:
        assert size == len(payloads[key])
        assert last_modified.tzinfo is not None
        assert last_modified >= before.replace(second=0)
    assert [item.key for item in await store.list_keys(f"{prefix}sub/")] == [f"{prefix}sub/c.pdf"]
    assert [item.key for item in await store.list_keys(f"{prefix}a")] == [f"{prefix}a.jpg"]

    await store.delete(keys[0])
    assert await store.head(keys[0]) is None
    with pytest.raises(BlobNotFound):
        await store.get(keys[0])
    await store.delete(keys[0])  # deleting what is gone is not an error
    assert [item.key for item in await store.list_keys(prefix)] == sorted(keys[1:])


async def test_overwrite_replaces_bytes_and_metadata(backend: Backend) -> None:
    key = new_key()
    await backend.store.put(key, b"first", content_type="image/jpeg")
    await backend.store.put(key, b"second!", content_type="image/png")
    head = await backend.store.head(key)
    assert head is not None
    assert (head.size, head.content_type, head.sha256) == (7, "image/png", sha(b"second!"))
    assert await backend.store.get(key) == b"second!"


async def test_sha256_of_streams_the_stored_bytes(backend: Backend) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # several hashing chunks
    key = new_key()
    await backend.store.put(key, data, content_type="image/jpeg")
    assert await backend.store.sha256_of(key) == hashlib.sha256(data).hexdigest()


async def test_put_with_declared_sha256(backend: Backend) -> None:
    data = b"act bytes"
    key = new_key("acts", "pdf")
    info = await backend.store.put(
        key, data, content_type="application/pdf", sha256_hex=sha(data).upper()
    )
    assert info.sha256 == sha(data)


async def test_put_with_wrong_sha256_stores_nothing(backend: Backend) -> None:
    prefix = f"bad/{uuid.uuid4()}/"
    key = f"{prefix}x.pdf"
    with pytest.raises(IntegrityError):
        await backend.store.put(
            key, b"real bytes", content_type="application/pdf", sha256_hex=sha(b"other bytes")
        )
    assert await backend.store.head(key) is None
    assert await backend.store.list_keys(prefix) == []


async def test_missing_object(backend: Backend) -> None:
    key = new_key()
    assert await backend.store.head(key) is None
    with pytest.raises(BlobNotFound):
        await backend.store.get(key)
    with pytest.raises(BlobNotFound):
        await backend.store.sha256_of(key)
    with pytest.raises(BlobNotFound):
        await verify_blob(backend.store, key, size=1, sha256_hex=sha(b"x"))


@pytest.mark.parametrize(
    "key",
    ["", "/abs/x.jpg", "../x.jpg", "a/../../x.jpg", "a//b.jpg", "a/./b.jpg", "a/b\x00.jpg",
     ".hidden", "a/.b.meta.json", "a\\b.jpg", "a/b.jpg/"],
)  # fmt: skip
async def test_unsafe_keys_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(InvalidKey):
        await backend.store.put(key, b"x", content_type="image/jpeg")
    with pytest.raises(InvalidKey):
        await backend.store.head(key)
    with pytest.raises(InvalidKey):
        await backend.store.presign_get(key)


async def test_presigned_put_then_verify(backend: Backend, http: httpx.AsyncClient) -> None:
    # Larger than the app's 1 MiB body limit: the signed-URL endpoint must lift it.
    data = os.urandom(2 * 1024 * 1024 + 3)
    digest = sha(data)
    key = new_key()
    upload = await backend.store.presign_put(
        key, content_type="image/jpeg", size=len(data), sha256_hex=digest, expires_in=300
    )
    assert upload.method == "PUT"
    assert upload.headers["Content-Type"] == "image/jpeg"
    assert upload.headers["Content-Length"] == str(len(data))
    assert 250 < (upload.expires_at - datetime.now(UTC)).total_seconds() <= 300

    response = await http.request(upload.method, upload.url, content=data, headers=upload.headers)
    assert response.status_code == 200, response.text

    head = await backend.store.head(key)
    assert head is not None
    assert (head.size, head.content_type) == (len(data), "image/jpeg")
    assert await backend.store.sha256_of(key) == digest
    verified = await verify_blob(backend.store, key, size=len(data), sha256_hex=digest)
    assert verified.sha256 == digest


async def test_presigned_get_downloads_the_bytes(backend: Backend, http: httpx.AsyncClient) -> None:
    data = os.urandom(300_000)
    key = new_key("acts", "pdf")
    await backend.store.put(key, data, content_type="application/pdf")

    plain = await http.get(await backend.store.presign_get(key, expires_in=60))
    assert plain.status_code == 200, plain.text
    assert plain.content == data
    assert plain.headers["content-type"].startswith("application/pdf")

    named = await http.get(
        await backend.store.presign_get(key, expires_in=60, filename="Акт 17.pdf")
    )
    assert named.status_code == 200
    assert named.content == data
    disposition = named.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%D0%90%D0%BA%D1%82%2017.pdf" in disposition


async def test_upload_of_other_bytes_is_caught(backend: Backend, http: httpx.AsyncClient) -> None:
    declared = os.urandom(50_000)
    sent = os.urandom(len(declared))  # same size, other bytes
    key = new_key()
    upload = await backend.store.presign_put(
        key, content_type="image/jpeg", size=len(declared), sha256_hex=sha(declared)
    )
    response = await http.put(upload.url, content=sent, headers=upload.headers)
    if backend.enforces_upload_checksum:
        assert response.status_code == 400, response.text
        assert await backend.store.head(key) is None
        return
    # moto stores the bytes regardless of x-amz-checksum-sha256: our own hashing, which the
    # confirm step uses, must notice.
    assert response.status_code == 200
    assert await backend.store.sha256_of(key) != sha(declared)
    with pytest.raises(IntegrityError):
        await verify_blob(backend.store, key, size=len(declared), sha256_hex=sha(declared))


async def test_verify_blob_checks_size(backend: Backend) -> None:
    data = b"0123456789"
    key = new_key()
    await backend.store.put(key, data, content_type="image/jpeg")
    with pytest.raises(IntegrityError):
        await verify_blob(backend.store, key, size=len(data) + 1, sha256_hex=sha(data))
    info = await verify_blob(backend.store, key, size=len(data), sha256_hex=sha(data))
    assert info.size == len(data)


async def test_presign_refuses_bad_arguments(backend: Backend) -> None:
    key = new_key()
    digest = sha(b"x")
    with pytest.raises(ValueError, match="exceeds"):
        await backend.store.presign_put(
            key,
            content_type="image/jpeg",
            size=backend.store.max_object_size + 1,
            sha256_hex=digest,
        )
    with pytest.raises(ValueError, match="content type"):
        await backend.store.presign_put(
            key, content_type="image/jpeg\r\nX-Evil: 1", size=1, sha256_hex=digest
        )
    with pytest.raises(ValueError, match="sha256"):
        await backend.store.presign_put(key, content_type="image/jpeg", size=1, sha256_hex="ab")
    with pytest.raises(ValueError, match="expires_in"):
        await backend.store.presign_get(key, expires_in=0)


async def test_ping(backend: Backend) -> None:
    await backend.store.ping()
