"""The local store's signed URLs, served by BlobController over real HTTP."""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.settings import load_settings
from service.storage import (
    LocalBlobStore,
    ObjectLocked,
    S3BlobStore,
    blob_key,
    build_blob_store,
)
from service.storage.controllers import BlobController
from tests.integration.storage.conftest import blob_app


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_key() -> str:
    return blob_key("photos", "2026", "11", f"{uuid.uuid4()}.jpg")


def problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = msgspec.json.decode(response.content)
    assert body["status"] == status
    return body


def with_query(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def leftovers(store: LocalBlobStore) -> list[Path]:
    return [path for path in store.root.rglob("*.tmp")]


@pytest.fixture
async def upload_case(local_store: LocalBlobStore, blob_server: str) -> tuple[str, bytes, str]:
    """A fresh key, its bytes and a signed PUT URL for them."""
    data = os.urandom(10_000)
    key = new_key()
    upload = await local_store.presign_put(
        key, content_type="image/jpeg", size=len(data), sha256_hex=sha(data)
    )
    assert upload.url.startswith(f"{blob_server}/blobs/{key}?")
    return key, data, upload.url


@pytest.mark.parametrize(
    "tamper",
    [
        {"sig": "A" * 43},
        {"len": "10001"},
        {"sha256": "0" * 64},
        {"ct": "text/html"},
        {"expires": "4102444800"},
        {"method": "GET"},
    ],
)
async def test_tampered_put_url_is_forbidden(
    local_store: LocalBlobStore,
    http: httpx.AsyncClient,
    upload_case: tuple[str, bytes, str],
    tamper: dict[str, str],
) -> None:
    key, data, url = upload_case
    response = await http.put(
        with_query(url, **tamper),
        content=data,
        headers={"Content-Type": "image/jpeg", "Content-Length": str(len(data))},
    )
    assert problem(response, 403)["code"] == "bad_signature"
    assert await local_store.head(key) is None


async def test_signed_put_url_is_bound_to_its_key(
    local_store: LocalBlobStore, http: httpx.AsyncClient, upload_case: tuple[str, bytes, str]
) -> None:
    key, data, url = upload_case
    other = url.replace(key, new_key())
    response = await http.put(other, content=data, headers={"Content-Type": "image/jpeg"})
    problem(response, 403)
    missing = url.split("?", 1)[0]
    problem(await http.put(missing, content=data, headers={"Content-Type": "image/jpeg"}), 403)


async def test_put_url_cannot_download(
    local_store: LocalBlobStore, http: httpx.AsyncClient, upload_case: tuple[str, bytes, str]
) -> None:
    key, data, url = upload_case
    await local_store.put(key, data, content_type="image/jpeg")
    assert problem(await http.get(url), 403)["code"] == "wrong_method"


async def test_tampered_get_url_is_forbidden(
    local_store: LocalBlobStore, http: httpx.AsyncClient
) -> None:
    key = new_key()
    await local_store.put(key, b"secret photo", content_type="image/jpeg")
    url = await local_store.presign_get(key, expires_in=60)
    assert (await http.get(url)).content == b"secret photo"
    problem(await http.get(with_query(url, expires="4102444800")), 403)
    problem(await http.get(with_query(url, fn="other.jpg")), 403)
    problem(await http.get(url.replace(key, new_key())), 403)


async def test_expired_url_says_so(local_store: LocalBlobStore, http: httpx.AsyncClient) -> None:
    key = new_key()
    await local_store.put(key, b"x", content_type="image/jpeg")
    now = datetime.now(UTC).timestamp()
    past = LocalBlobStore(
        local_store.root,
        signing_key="test-signing-key-" + "x" * 32,
        public_base_url=local_store.public_base_url,
        clock=lambda: now - 3600,
    )
    url = await past.presign_get(key, expires_in=60)
    assert problem(await http.get(url), 403)["code"] == "url_expired"


async def test_wrong_content_type_or_length_stores_nothing(
    local_store: LocalBlobStore, http: httpx.AsyncClient, upload_case: tuple[str, bytes, str]
) -> None:
    key, data, url = upload_case
    wrong_type = await http.put(url, content=data, headers={"Content-Type": "image/png"})
    assert problem(wrong_type, 400)["code"] == "content_type_mismatch"
    shorter = await http.put(url, content=data[:-1], headers={"Content-Type": "image/jpeg"})
    assert problem(shorter, 400)["code"] == "content_length_mismatch"
    longer = await http.put(url, content=data + b"!", headers={"Content-Type": "image/jpeg"})
    assert problem(longer, 400)["code"] == "content_length_mismatch"
    assert await local_store.head(key) is None
    assert leftovers(local_store) == []


async def test_bytes_not_matching_sha256_are_refused(
    local_store: LocalBlobStore, http: httpx.AsyncClient, upload_case: tuple[str, bytes, str]
) -> None:
    key, data, url = upload_case
    tampered = bytes([data[0] ^ 1]) + data[1:]
    response = await http.put(url, content=tampered, headers={"Content-Type": "image/jpeg"})
    body = problem(response, 400)
    assert body["code"] == "integrity_mismatch"
    assert body["instance"] == f"/blobs/{key}"
    assert await local_store.head(key) is None
    assert leftovers(local_store) == []
    # The genuine bytes still go through on the same URL.
    ok = await http.put(url, content=data, headers={"Content-Type": "image/jpeg"})
    assert ok.status_code == 200
    assert ok.headers["etag"] == f'"{sha(data)}"'
    assert await local_store.sha256_of(key) == sha(data)


async def test_body_larger_than_the_store_limit_is_refused(tmp_path: Path) -> None:
    store = LocalBlobStore(
        tmp_path, signing_key="k" * 32, public_base_url="http://testserver.local"
    )
    store.ensure_root()
    big = BlobController.request_max_body_size + 1
    store.max_object_size = big  # a store configured above what the handler admits
    upload = await store.presign_put(
        "photos/big.jpg", content_type="image/jpeg", size=big, sha256_hex="0" * 64
    )
    async with AsyncTestClient(app=blob_app(store)) as client:
        response = await client.put(upload.url, content=b"\0" * big, headers=upload.headers)
    problem(response, 413)
    assert await store.head("photos/big.jpg") is None


async def test_downloads_are_not_rendered_unless_safe(
    local_store: LocalBlobStore, http: httpx.AsyncClient
) -> None:
    key = new_key()
    await local_store.put(key, b"<script>alert(1)</script>", content_type="text/html")
    response = await http.get(await local_store.presign_get(key))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == "attachment"
    assert response.headers["x-content-type-options"] == "nosniff"
    photo, jpeg = new_key(), b"\xff\xd8jpeg"
    await local_store.put(photo, jpeg, content_type="image/jpeg")
    inline = await http.get(await local_store.presign_get(photo))
    assert "content-disposition" not in inline.headers
    assert inline.headers["etag"] == f'"{sha(jpeg)}"'
    assert inline.headers["content-length"] == "6"


async def test_missing_blob_is_404(local_store: LocalBlobStore, http: httpx.AsyncClient) -> None:
    url = await local_store.presign_get(new_key())
    problem(await http.get(url), 404)


async def test_controller_answers_404_when_the_store_is_s3(tmp_path: Path) -> None:
    s3 = S3BlobStore("unused", endpoint_url="http://127.0.0.1:9")
    local = LocalBlobStore(tmp_path, signing_key="k" * 32, public_base_url="http://testserver")
    url = await local.presign_get("photos/x.jpg")
    async with AsyncTestClient(app=blob_app(s3)) as client:
        response = await client.get(url)
    problem(response, 404)


async def test_no_sidecars_or_temp_files_in_listings(local_store: LocalBlobStore) -> None:
    prefix = f"listing/{uuid.uuid4()}/"
    await local_store.put(f"{prefix}a.jpg", b"a", content_type="image/jpeg")
    (local_store.root / prefix / ".a.jpg.junk.tmp").write_bytes(b"partial")
    assert [item.key for item in await local_store.list_keys(prefix)] == [f"{prefix}a.jpg"]
    assert (local_store.root / prefix / ".a.jpg.meta.json").exists()
    assert await local_store.list_keys("no-such-prefix/") == []


async def test_stale_sidecar_is_ignored(local_store: LocalBlobStore) -> None:
    key = new_key()
    await local_store.put(key, b"original", content_type="image/jpeg")
    path = local_store.root / key
    replacement = path.with_name("replacement")
    replacement.write_bytes(b"swapped behind our back")
    os.replace(replacement, path)
    head = await local_store.head(key)
    assert head is not None
    assert head.sha256 is None  # the sidecar describes another file
    assert head.content_type == "application/octet-stream"
    assert await local_store.sha256_of(key) == sha(b"swapped behind our back")


async def test_retained_act_cannot_be_deleted_or_rewritten(local_store: LocalBlobStore) -> None:
    key = blob_key("acts", str(uuid.uuid4()), f"{sha(b'act')}.pdf")
    until = datetime.now(UTC) + timedelta(days=1)
    info = await local_store.put(key, b"act", content_type="application/pdf", retain_until=until)
    assert info.retain_until == until
    head = await local_store.head(key)
    assert head is not None
    assert head.retain_until == until
    # Storing the same bytes again (a retry) is a no-op; other bytes are refused.
    await local_store.put(key, b"act", content_type="application/pdf", retain_until=until)
    with pytest.raises(ObjectLocked):
        await local_store.put(key, b"forged", content_type="application/pdf")
    with pytest.raises(ObjectLocked):
        await local_store.delete(key)
    assert await local_store.get(key) == b"act"


async def test_expired_retention_allows_delete(local_store: LocalBlobStore) -> None:
    key = new_key()
    past = datetime.now(UTC) - timedelta(seconds=1)
    await local_store.put(key, b"old", content_type="image/jpeg", retain_until=past)
    await local_store.delete(key)
    assert await local_store.head(key) is None


async def test_naive_retention_is_refused(local_store: LocalBlobStore) -> None:
    with pytest.raises(ValueError, match="timezone"):
        await local_store.put(
            new_key(), b"x", content_type="image/jpeg", retain_until=datetime(2030, 1, 1)
        )


async def test_ping_fails_without_directory(tmp_path: Path) -> None:
    from service.storage import StorageUnavailable

    store = LocalBlobStore(tmp_path / "missing", signing_key="k", public_base_url="http://x")
    with pytest.raises(StorageUnavailable):
        await store.ping()


def test_build_blob_store_from_settings(tmp_path: Path) -> None:
    local = build_blob_store(
        load_settings({"NARYAD_BLOB_DIR": str(tmp_path / "blobs"), "NARYAD_URL_TTL_SECONDS": "60"})
    )
    assert isinstance(local, LocalBlobStore)
    assert local.root.is_dir()
    assert local.default_url_ttl == 60
    # Building the S3 store does no network I/O, even towards a dead endpoint.
    s3 = build_blob_store(
        load_settings(
            {
                "NARYAD_STORAGE": "s3",
                "NARYAD_S3_ENDPOINT_URL": "http://127.0.0.1:9",
                "NARYAD_S3_BUCKET": "acts-and-photos",
                "NARYAD_S3_OBJECT_LOCK_DAYS": "30",
            }
        )
    )
    assert isinstance(s3, S3BlobStore)
    assert s3.bucket == "acts-and-photos"


async def test_key_colliding_with_a_prefix_is_a_storage_error(local_store: LocalBlobStore) -> None:
    from service.storage import StorageError

    prefix = f"collide/{uuid.uuid4()}"
    await local_store.put(f"{prefix}/inner.jpg", b"x", content_type="image/jpeg")
    with pytest.raises(StorageError):
        await local_store.put(prefix, b"y", content_type="image/jpeg")
    with pytest.raises(StorageError):
        await local_store.put(f"{prefix}/inner.jpg/deeper.jpg", b"z", content_type="image/jpeg")
    assert await local_store.head(prefix) is None
