"""Key building and validation (pure, but it guards the filesystem and the bucket)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.settings import StorageSettings
from service.storage import InvalidKey, act_key, act_retain_until, blob_key, photo_key
from service.storage.base import content_disposition, sha256_b64_to_hex, sha256_hex_to_b64
from service.storage.keys import validate_key, validate_prefix

DIGEST = "ab" * 32


def test_blob_key_shapes() -> None:
    photo_id = uuid.uuid4()
    assert blob_key("photos", "2026", "11", f"{photo_id}.jpg") == f"photos/2026/11/{photo_id}.jpg"
    at = datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # 30 Nov in UTC
    assert photo_key(photo_id, extension=".JPG", at=at) == f"photos/2026/11/{photo_id}.jpg"
    act_id = uuid.uuid4()
    assert act_key(act_id, DIGEST.upper()) == f"acts/{act_id}/{DIGEST}.pdf"


@pytest.mark.parametrize(
    ("kind", "parts"),
    [
        ("Photos", ("a",)),
        ("photos", ()),
        ("photos", ("..",)),
        ("photos", ("a/b",)),
        ("photos", (".x",)),
        ("photos", ("a b",)),
        ("photos", ("",)),
        ("photos", ("x" * 256,)),
    ],
)
def test_blob_key_refuses_unsafe_parts(kind: str, parts: tuple[str, ...]) -> None:
    with pytest.raises(InvalidKey):
        blob_key(kind, *parts)


def test_validate_key_limits() -> None:
    assert validate_key("a/b c/ü.jpg") == "a/b c/ü.jpg"
    for bad in ("a" * 1025, "a/\ud800", "a/\x7f", " a", "a /b"):
        with pytest.raises(InvalidKey):
            validate_key(bad)
    assert validate_prefix("") == ""
    assert validate_prefix("photos/") == "photos/"
    with pytest.raises(InvalidKey):
        validate_prefix("../")


def test_act_retain_until() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert act_retain_until(StorageSettings(), now) is None
    assert act_retain_until(StorageSettings(s3_object_lock_days=10), now) == now + timedelta(10)


def test_checksum_forms() -> None:
    assert sha256_b64_to_hex(sha256_hex_to_b64(DIGEST)) == DIGEST
    assert sha256_b64_to_hex("not base64!") is None
    assert sha256_b64_to_hex("AAAA") is None  # a CRC-sized value, not a SHA-256
    with pytest.raises(ValueError, match="sha256"):
        sha256_hex_to_b64("xyz")


def test_content_disposition_is_header_safe() -> None:
    header = content_disposition('evil"\r\nSet-Cookie: x=1/../a.pdf')
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('attachment; filename="evilSet-Cookie: x=1..a.pdf"')
