"""The BlobStore protocol, its value types and helpers shared by both implementations."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import urllib.parse
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable

import msgspec

from service.storage.errors import BlobNotFound, IntegrityError

DEFAULT_MAX_OBJECT_SIZE = 16 * 1024 * 1024
"""Largest object a store accepts (photos are up to 15 MiB)."""

DEFAULT_URL_TTL_SECONDS = 900
MAX_URL_TTL_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs cannot live longer
HASH_CHUNK_SIZE = 1024 * 1024

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# A media type as a phone would send it; CR/LF would let a caller smuggle headers.
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;[ -~]*)?")


class BlobInfo(msgspec.Struct, frozen=True):
    """What a store knows about one object.

    ``sha256`` is what the store recorded (our sidecar, an S3 checksum or metadata); an S3
    emulator may record a declared value it never verified, so integrity checks must use
    ``BlobStore.sha256_of`` or ``verify_blob``.
    """

    key: str
    size: int
    content_type: str
    sha256: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    retain_until: datetime | None = None


class BlobListing(NamedTuple):
    """One entry of ``list_keys``: unpacks as ``(key, size, last_modified)``."""

    key: str
    size: int
    last_modified: datetime


class PresignedRequest(msgspec.Struct, frozen=True):
    """An upload the phone performs itself: send exactly these headers with the bytes."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@runtime_checkable
class BlobStore(Protocol):
    """Object storage for photos and signed acts; every method is safe to await on the loop."""

    max_object_size: int
    default_url_ttl: int

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        sha256_hex: str | None = None,
        retain_until: datetime | None = None,
    ) -> BlobInfo:
        """Store bytes; raises IntegrityError (nothing stored) when sha256_hex does not match."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the whole object; raises BlobNotFound."""
        ...

    async def head(self, key: str) -> BlobInfo | None:
        """Describe the object, or None when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error. Raises ObjectLocked if retained."""
        ...

    async def list_keys(self, prefix: str = "") -> list[BlobListing]:
        """Every object whose key starts with prefix, sorted by key."""
        ...

    async def sha256_of(self, key: str) -> str:
        """SHA-256 (hex) computed by us from the stored bytes, streamed in chunks."""
        ...

    async def presign_put(
        self,
        key: str,
        *,
        content_type: str,
        size: int,
        sha256_hex: str,
        expires_in: int | None = None,
    ) -> PresignedRequest:
        """A time-limited upload bound to content type, size and SHA-256."""
        ...

    async def presign_get(
        self, key: str, *, expires_in: int | None = None, filename: str | None = None
    ) -> str:
        """A time-limited download URL; filename makes it an attachment."""
        ...

    async def ping(self) -> None:
        """Raise StorageUnavailable when the store cannot serve requests."""
        ...


async def verify_blob(store: BlobStore, key: str, *, size: int, sha256_hex: str) -> BlobInfo:
    """Check a stored object against the declared size and SHA-256 (the photo confirm step).

    Raises BlobNotFound when nothing was uploaded, IntegrityError when size or digest differ.
    The digest is always computed from the bytes: S3 emulators accept any x-amz-checksum-*.
    """
    expected = normalise_sha256(sha256_hex)
    info = await store.head(key)
    if info is None:
        raise BlobNotFound(key)
    if info.size != size:
        raise IntegrityError(f"{key!r} holds {info.size} bytes, {size} were declared")
    actual = await store.sha256_of(key)
    if actual != expected:
        raise IntegrityError(f"{key!r} does not match the declared SHA-256")
    return msgspec.structs.replace(info, sha256=actual)


def normalise_sha256(sha256_hex: str) -> str:
    """Lower-case hex digest, or ValueError."""
    if not _SHA256_HEX.fullmatch(sha256_hex):
        raise ValueError("sha256_hex must be 64 hexadecimal characters")
    return sha256_hex.lower()


def sha256_hex_to_b64(sha256_hex: str) -> str:
    """The base64 form S3 uses in x-amz-checksum-sha256."""
    return base64.b64encode(bytes.fromhex(normalise_sha256(sha256_hex))).decode("ascii")


def sha256_b64_to_hex(value: str) -> str | None:
    """Hex form of an x-amz-checksum-sha256 value; None for composite or malformed values."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == hashlib.sha256().digest_size else None


def check_content_type(content_type: str) -> str:
    """Return a content type safe to put in a header, or ValueError."""
    if not _CONTENT_TYPE.fullmatch(content_type) or len(content_type) > 255:
        raise ValueError(f"invalid content type {content_type!r}")
    return content_type


def check_size(size: int, max_object_size: int) -> int:
    """Return a size the store accepts, or ValueError."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError("size must be a non-negative integer")
    if size > max_object_size:
        raise ValueError(f"size {size} exceeds the store's limit of {max_object_size} bytes")
    return size


def check_ttl(expires_in: int | None, default: int) -> int:
    """Seconds a URL lives: the store default when None, at most seven days."""
    ttl = default if expires_in is None else expires_in
    if not 1 <= ttl <= MAX_URL_TTL_SECONDS:
        raise ValueError(f"expires_in must be between 1 and {MAX_URL_TTL_SECONDS} seconds")
    return ttl


def check_retain_until(retain_until: datetime | None) -> datetime | None:
    """Retention dates must carry a time zone; a naive one is ambiguous."""
    if retain_until is not None and retain_until.utcoffset() is None:
        raise ValueError("retain_until must be timezone-aware")
    return retain_until


def content_disposition(filename: str) -> str:
    """An attachment header with an ASCII fallback and the RFC 6266/5987 UTF-8 name."""
    cleaned = "".join(ch for ch in filename if ord(ch) >= 32 and ch not in '"\\/\x7f').strip()
    cleaned = cleaned or "download"
    fallback = cleaned.encode("ascii", "replace").decode("ascii").replace("?", "_")
    quoted = urllib.parse.quote(cleaned, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"
