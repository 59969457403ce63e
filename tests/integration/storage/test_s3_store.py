"""S3-specific behaviour against the emulator: bucket set-up, Object Lock, shared client."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from botocore.exceptions import ClientError

from service.storage import (
    ObjectLocked,
    S3BlobStore,
    StorageUnavailable,
    act_key,
    blob_key,
)
from service.storage.s3 import new_client
from tests.integration.storage.conftest import S3Emulator, make_s3_store, unique_bucket


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
async def lock_store(s3_emulator: S3Emulator) -> S3BlobStore:
    """A store on a bucket created with Object Lock enabled."""
    store = make_s3_store(s3_emulator, unique_bucket("lock"), object_lock=True)
    await store.ping()  # creates the bucket
    assert store.object_lock_enabled
    assert store.versioned
    return store


async def test_bucket_is_created_on_first_use(s3_emulator: S3Emulator) -> None:
    store = make_s3_store(s3_emulator, unique_bucket("new"))
    await store.ping()
    store.client.head_bucket(Bucket=store.bucket)
    assert not store.object_lock_enabled


async def test_missing_bucket_is_unavailable(s3_emulator: S3Emulator) -> None:
    store = make_s3_store(s3_emulator, unique_bucket("absent"), create_bucket=False)
    with pytest.raises(StorageUnavailable):
        await store.ping()
    with pytest.raises(StorageUnavailable):
        await store.put("photos/x.jpg", b"x", content_type="image/jpeg")


async def test_unreachable_endpoint_is_unavailable() -> None:
    store = S3BlobStore(
        "naryad",
        endpoint_url="http://127.0.0.1:9",
        access_key_id="testing",
        secret_access_key="testing",
    )
    with pytest.raises(StorageUnavailable):
        await store.ping()
    with pytest.raises(StorageUnavailable):
        await store.get("photos/x.jpg")


async def test_client_is_shared_per_process(s3_emulator: S3Emulator, s3_store: S3BlobStore) -> None:
    again = make_s3_store(s3_emulator, s3_store.bucket)
    assert again.client is s3_store.client


async def test_put_records_the_checksum(s3_store: S3BlobStore) -> None:
    data = b"photo bytes"
    key = blob_key("photos", "2026", "11", f"{uuid.uuid4()}.jpg")
    await s3_store.put(key, data, content_type="image/jpeg")
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert head["Metadata"]["sha256"] == sha(data)


async def test_presigned_put_signs_type_length_and_checksum(s3_store: S3BlobStore) -> None:
    data = b"x" * 10
    upload = await s3_store.presign_put(
        "photos/2026/11/a.jpg", content_type="image/jpeg", size=10, sha256_hex=sha(data)
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(upload.url).query)
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-type", "content-length", "x-amz-checksum-sha256", "host"} <= set(signed)
    assert upload.headers == {
        "Content-Type": "image/jpeg",
        "Content-Length": "10",
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
    }
    assert query["X-Amz-Expires"] == [str(s3_store.default_url_ttl)]
    url = await s3_store.presign_get("photos/2026/11/a.jpg", filename="a.jpg", expires_in=30)
    get_query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert get_query["X-Amz-Expires"] == ["30"]
    assert get_query["response-content-disposition"][0].startswith("attachment;")


async def test_act_gets_compliance_retention(lock_store: S3BlobStore) -> None:
    data = b"%PDF-1.7 signed act"
    key = act_key(uuid.uuid4(), sha(data))
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    info = await lock_store.put(
        key, data, content_type="application/pdf", sha256_hex=sha(data), retain_until=until
    )
    assert info.retain_until == until
    head = await lock_store.head(key)
    assert head is not None
    assert head.retain_until == until
    raw = lock_store.client.head_object(Bucket=lock_store.bucket, Key=key)
    assert raw["ObjectLockMode"] == "COMPLIANCE"
    assert raw["ObjectLockRetainUntilDate"] == until
    with pytest.raises(ObjectLocked):
        await lock_store.delete(key)
    assert await lock_store.get(key) == data


async def test_delete_on_versioned_bucket_removes_every_version(lock_store: S3BlobStore) -> None:
    key = blob_key("photos", "2026", "11", f"{uuid.uuid4()}.jpg")
    await lock_store.put(key, b"v1", content_type="image/jpeg")
    await lock_store.put(key, b"v2", content_type="image/jpeg")
    await lock_store.delete(key)
    assert await lock_store.head(key) is None
    versions = lock_store.client.list_object_versions(Bucket=lock_store.bucket, Prefix=key)
    assert versions.get("Versions", []) == []
    assert versions.get("DeleteMarkers", []) == []


async def test_retention_is_skipped_without_object_lock(s3_store: S3BlobStore) -> None:
    key = blob_key("acts", str(uuid.uuid4()), f"{sha(b'a')}.pdf")
    until = datetime.now(UTC) + timedelta(days=1)
    info = await s3_store.put(key, b"a", content_type="application/pdf", retain_until=until)
    assert info.retain_until is None
    await s3_store.delete(key)
    assert await s3_store.head(key) is None


def test_new_client_is_a_fresh_client(s3_emulator: S3Emulator, s3_store: S3BlobStore) -> None:
    fresh = new_client(
        endpoint_url=s3_emulator.endpoint_url,
        region="us-east-1",
        access_key_id=s3_emulator.access_key_id,
        secret_access_key=s3_emulator.secret_access_key,
    )
    assert fresh is not s3_store.client
    url = fresh.generate_presigned_url("get_object", Params={"Bucket": "bk1", "Key": "a/b.jpg"})
    # Path-style addressing (emulators have no per-bucket host names) and SigV4.
    assert url.startswith(f"{s3_emulator.endpoint_url}/bk1/a/b.jpg?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url


APP_ORIGIN = "https://naryad.example.kz"


def put_rules(store: S3BlobStore) -> list[dict[str, object]]:
    """The bucket's CORS rules that let a page PUT."""
    rules = store.client.get_bucket_cors(Bucket=store.bucket)["CORSRules"]
    return [dict(rule) for rule in rules if "PUT" in rule["AllowedMethods"]]


async def test_a_managed_bucket_lets_the_app_upload_from_the_browser(
    s3_emulator: S3Emulator,
) -> None:
    bucket = unique_bucket("cors")
    # The operator's own rule (downloads for a report site) is there before naryad starts.
    store = make_s3_store(s3_emulator, bucket)
    await store.ping()
    other = {"AllowedOrigins": ["https://reports.example.kz"], "AllowedMethods": ["GET"]}
    store.client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [other]})
    for _ in range(2):  # two processes (or restarts) add the rule once
        started = make_s3_store(s3_emulator, bucket, browser_origin=APP_ORIGIN)
        await started.ping()
    rules = started.client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [rule["AllowedOrigins"] for rule in rules] == [
        ["https://reports.example.kz"],
        [APP_ORIGIN],
    ]
    (upload,) = put_rules(started)
    assert upload["AllowedMethods"] == ["PUT"]
    assert upload["AllowedHeaders"] == ["*"]


async def test_a_bucket_the_operator_manages_is_not_changed_but_warned_about(
    s3_emulator: S3Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = unique_bucket("cors-theirs")
    await make_s3_store(s3_emulator, bucket).ping()
    theirs = make_s3_store(s3_emulator, bucket, create_bucket=False, browser_origin=APP_ORIGIN)
    with caplog.at_level("WARNING", logger="naryad.storage"):
        await theirs.put("photos/x.jpg", b"x", content_type="image/jpeg")
    assert f"no CORS rule letting {APP_ORIGIN} PUT" in caplog.text
    with pytest.raises(ClientError):
        theirs.client.get_bucket_cors(Bucket=bucket)  # still none
    # A rule that allows PUT but not the upload's headers fails the browser's preflight.
    no_headers = {"AllowedOrigins": [APP_ORIGIN], "AllowedMethods": ["PUT"]}
    theirs.client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [no_headers]})
    caplog.clear()
    with caplog.at_level("WARNING", logger="naryad.storage"):
        await make_s3_store(
            s3_emulator, bucket, create_bucket=False, browser_origin=APP_ORIGIN
        ).put("photos/z.jpg", b"z", content_type="image/jpeg")
    assert f"no CORS rule letting {APP_ORIGIN} PUT" in caplog.text
    # A wildcard rule of theirs that covers the app and its headers is enough.
    wildcard = {
        "AllowedOrigins": ["https://*.example.kz"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["Content-Type", "x-amz-checksum-sha256"],
    }
    theirs.client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [wildcard]})
    caplog.clear()
    again = make_s3_store(s3_emulator, bucket, create_bucket=False, browser_origin=APP_ORIGIN)
    with caplog.at_level("WARNING", logger="naryad.storage"):
        await again.put("photos/y.jpg", b"y", content_type="image/jpeg")
    assert "CORS" not in caplog.text


def test_presigned_urls_origin_is_what_the_app_may_connect_to(s3_emulator: S3Emulator) -> None:
    emulated = make_s3_store(s3_emulator, unique_bucket("origin"))
    assert emulated.url_origin == s3_emulator.endpoint_url.rstrip("/")
    # On AWS itself (no endpoint URL) the URLs name the bucket's own host.
    aws = S3BlobStore(
        "naryad-photos", region="eu-central-1", access_key_id="a", secret_access_key="b"
    )
    assert aws.url_origin.startswith("https://naryad-photos.s3.")
    assert aws.url_origin.endswith(".amazonaws.com")


async def test_presigned_urls_name_the_public_endpoint_when_there_is_one(
    s3_emulator: S3Emulator,
) -> None:
    # The API reaches the emulator as 127.0.0.1; phones know it as localhost (a compose
    # network's "minio:9000" against the host's published port).
    public = s3_emulator.endpoint_url.replace("127.0.0.1", "localhost")
    store = make_s3_store(s3_emulator, unique_bucket("public"), public_endpoint_url=public)
    data = b"\xff\xd8\xff" + b"photo"
    upload = await store.presign_put(
        "photos/p.jpg", content_type="image/jpeg", size=len(data), sha256_hex=sha(data)
    )
    assert upload.url.startswith(f"{public}/{store.bucket}/photos/p.jpg?")
    assert store.url_origin == public
    async with httpx.AsyncClient() as http:
        put = await http.put(upload.url, content=data, headers=dict(upload.headers))
        assert put.status_code == 200, put.text
        # The API itself still talks to the store by its own name.
        assert await store.get("photos/p.jpg") == data
        download = await store.presign_get("photos/p.jpg")
        assert download.startswith(f"{public}/")
        assert (await http.get(download)).content == data
