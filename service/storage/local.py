"""Blob store on the local filesystem, with HMAC-signed URLs served by the API itself."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TypeVar

import anyio.to_thread
import msgspec

from service.storage.base import (
    DEFAULT_MAX_OBJECT_SIZE,
    DEFAULT_URL_TTL_SECONDS,
    HASH_CHUNK_SIZE,
    BlobInfo,
    BlobListing,
    PresignedRequest,
    check_content_type,
    check_retain_until,
    check_size,
    check_ttl,
    normalise_sha256,
)
from service.storage.errors import (
    BlobNotFound,
    IntegrityError,
    ObjectLocked,
    StorageError,
    StorageUnavailable,
)
from service.storage.keys import InvalidKey, validate_key, validate_prefix

T = TypeVar("T")

BLOB_URL_PREFIX = "/blobs"
_SIDECAR_SUFFIX = ".meta.json"
_WRITE_BUFFER = 1024 * 1024  # batch small ASGI chunks so each thread hop writes a useful amount
_FALLBACK_CONTENT_TYPE = "application/octet-stream"
_SIGNATURE_CONTEXT = b"naryad/blob-url/v1"


class SignedUrlRejected(StorageError):
    """A signed blob URL is malformed, tampered with, expired or used with another method."""

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail)
        self.code = code


class SignedGrant(msgspec.Struct, frozen=True):
    """What a verified signed URL allows."""

    method: str
    key: str
    expires: int
    content_type: str = ""
    size: int = -1
    sha256: str = ""
    filename: str = ""


class _Sidecar(msgspec.Struct, frozen=True):
    # `inode` ties the sidecar to one version of the blob: a reader that finds another inode
    # (an overwrite racing with it) ignores the metadata instead of reporting a wrong digest.
    content_type: str
    sha256: str
    size: int
    inode: int
    retain_until: datetime | None = None


_sidecar_decoder = msgspec.json.Decoder(_Sidecar)


class LocalBlobStore:
    """Files under one directory; keys map to relative paths, metadata to hidden sidecars.

    Writes go to a temp file in the target directory and become visible with ``os.replace``
    only after size and SHA-256 were verified, so a reader never sees a partial object.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        signing_key: str | bytes,
        public_base_url: str,
        max_object_size: int = DEFAULT_MAX_OBJECT_SIZE,
        default_url_ttl: int = DEFAULT_URL_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_key:
            raise ValueError("the local blob store needs a URL signing key")
        secret = signing_key.encode() if isinstance(signing_key, str) else signing_key
        # Derive a key for this one purpose: the configured secret may default to the JWT secret.
        self._url_key = hmac.new(secret, _SIGNATURE_CONTEXT, hashlib.sha256).digest()
        self.root = Path(root).absolute()
        self.public_base_url = public_base_url.rstrip("/")
        self.max_object_size = max_object_size
        self.default_url_ttl = check_ttl(default_url_ttl, default_url_ttl)
        self._clock = clock

    # -- paths -------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        # validate_key forbids '..', '.'-prefixed and empty segments, leading '/' and NUL, so
        # the joined path stays under root and never names a sidecar or temp file.
        return self.root.joinpath(*validate_key(key).split("/"))

    @staticmethod
    def _sidecar_path(path: Path) -> Path:
        return path.with_name(f".{path.name}{_SIDECAR_SUFFIX}")

    def _read_sidecar(self, path: Path) -> _Sidecar | None:
        try:
            return _sidecar_decoder.decode(self._sidecar_path(path).read_bytes())
        except (FileNotFoundError, NotADirectoryError, msgspec.DecodeError):
            return None

    def _info(self, key: str, path: Path, st: os.stat_result) -> BlobInfo:
        meta = self._read_sidecar(path)
        if meta is not None and (meta.inode != st.st_ino or meta.size != st.st_size):
            meta = None  # written for another version of the file
        return BlobInfo(
            key=key,
            size=st.st_size,
            content_type=meta.content_type if meta else _FALLBACK_CONTENT_TYPE,
            sha256=meta.sha256 if meta else None,
            etag=meta.sha256 if meta else None,
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            retain_until=meta.retain_until if meta else None,
        )

    def _stat_file(self, path: Path) -> os.stat_result | None:
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st if path.is_file() else None

    def _locked_info(self, key: str, path: Path) -> BlobInfo | None:
        """The existing object if it is under retention now, else None."""
        st = self._stat_file(path)
        if st is None:
            return None
        info = self._info(key, path, st)
        if info.retain_until is not None and info.retain_until > datetime.now(UTC):
            return info
        return None

    def _check_unlocked(self, key: str, path: Path) -> None:
        if self._locked_info(key, path) is not None:
            raise ObjectLocked(key)

    # -- writing -----------------------------------------------------------------------------

    def _open_temp(self, path: Path) -> tuple[Path, IO[bytes]]:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise StorageError(f"{path.name!r} collides with an existing object") from exc
        if path.is_dir():
            raise StorageError(f"{path.name!r} collides with a prefix of other objects")
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        return tmp, os.fdopen(fd, "wb")

    def _commit(
        self,
        key: str,
        path: Path,
        tmp: Path,
        handle: IO[bytes],
        *,
        content_type: str,
        sha256: str,
        size: int,
        retain_until: datetime | None,
    ) -> BlobInfo:
        handle.flush()
        os.fsync(handle.fileno())
        st = os.fstat(handle.fileno())
        handle.close()
        self._check_unlocked(key, path)
        meta = _Sidecar(
            content_type=content_type,
            sha256=sha256,
            size=size,
            inode=st.st_ino,
            retain_until=retain_until.astimezone(UTC) if retain_until else None,
        )
        sidecar = self._sidecar_path(path)
        sidecar_tmp = sidecar.with_name(f"{sidecar.name}.{secrets.token_hex(8)}.tmp")
        try:
            sidecar_tmp.write_bytes(msgspec.json.encode(meta))
            # Sidecar first: once the blob is visible its metadata is already there.
            os.replace(sidecar_tmp, sidecar)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                sidecar_tmp.unlink()
            raise
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return self._info(key, path, st)

    def _put_sync(
        self,
        key: str,
        data: bytes,
        content_type: str,
        sha256_hex: str | None,
        retain_until: datetime | None,
    ) -> BlobInfo:
        path = self._path(key)
        check_size(len(data), self.max_object_size)
        digest = hashlib.sha256(data).hexdigest()
        if sha256_hex is not None and digest != sha256_hex:
            raise IntegrityError(f"{key!r}: the bytes do not match the declared SHA-256")
        locked = self._locked_info(key, path)
        if locked is not None:
            # Storing the same retained bytes again (a retried act upload) is a no-op.
            if locked.sha256 == digest and locked.size == len(data):
                return locked
            raise ObjectLocked(key)
        tmp, handle = self._open_temp(path)
        try:
            handle.write(data)
            return self._commit(
                key,
                path,
                tmp,
                handle,
                content_type=content_type,
                sha256=digest,
                size=len(data),
                retain_until=retain_until,
            )
        finally:
            _discard(tmp, handle)

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        sha256_hex: str | None = None,
        retain_until: datetime | None = None,
    ) -> BlobInfo:
        """Store bytes atomically; IntegrityError (nothing stored) on a SHA-256 mismatch."""
        check_content_type(content_type)
        expected = normalise_sha256(sha256_hex) if sha256_hex is not None else None
        check_retain_until(retain_until)
        return await _run(self._put_sync, key, data, content_type, expected, retain_until)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str,
        size: int,
        sha256_hex: str,
        retain_until: datetime | None = None,
    ) -> BlobInfo:
        """Store a stream that must be exactly ``size`` bytes with the given SHA-256.

        The object becomes visible only after both were verified; on any failure the temp
        file is removed and nothing is stored.
        """
        check_content_type(content_type)
        check_size(size, self.max_object_size)
        expected = normalise_sha256(sha256_hex)
        check_retain_until(retain_until)
        path = self._path(key)
        await _run(self._check_unlocked, key, path)
        tmp, handle = await _run(self._open_temp, path)
        try:
            hasher = hashlib.sha256()
            received = 0
            buffer: list[bytes] = []
            buffered = 0
            async for chunk in chunks:
                if not chunk:
                    continue
                received += len(chunk)
                if received > size:
                    raise IntegrityError(f"{key!r}: more than the declared {size} bytes")
                hasher.update(chunk)
                buffer.append(chunk)
                buffered += len(chunk)
                if buffered >= _WRITE_BUFFER:
                    await _run(handle.write, b"".join(buffer))
                    buffer, buffered = [], 0
            if buffer:
                await _run(handle.write, b"".join(buffer))
            if received != size:
                raise IntegrityError(f"{key!r}: {received} bytes received, {size} declared")
            if hasher.hexdigest() != expected:
                raise IntegrityError(f"{key!r}: the bytes do not match the declared SHA-256")
            return await _run(
                lambda: self._commit(
                    key,
                    path,
                    tmp,
                    handle,
                    content_type=content_type,
                    sha256=expected,
                    size=size,
                    retain_until=retain_until,
                )
            )
        finally:
            await _run(_discard, tmp, handle)

    # -- reading -----------------------------------------------------------------------------

    def _get_sync(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise BlobNotFound(key) from exc

    async def get(self, key: str) -> bytes:
        """The whole object; BlobNotFound when absent."""
        return await _run(self._get_sync, key)

    def _head_sync(self, key: str) -> BlobInfo | None:
        path = self._path(key)
        st = self._stat_file(path)
        return None if st is None else self._info(key, path, st)

    async def head(self, key: str) -> BlobInfo | None:
        """Size, content type, recorded SHA-256 and mtime; None when absent."""
        return await _run(self._head_sync, key)

    def _sha256_sync(self, key: str) -> str:
        path = self._path(key)
        hasher = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(HASH_CHUNK_SIZE):
                    hasher.update(chunk)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise BlobNotFound(key) from exc
        return hasher.hexdigest()

    async def sha256_of(self, key: str) -> str:
        """SHA-256 of the bytes on disk; the sidecar is never trusted for this."""
        return await _run(self._sha256_sync, key)

    def _open_sync(self, key: str) -> tuple[BlobInfo, IO[bytes]]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise BlobNotFound(key) from exc
        # Describe the file we opened, not whatever the path names by now.
        return self._info(key, path, os.fstat(handle.fileno())), handle

    async def open_stream(
        self, key: str, chunk_size: int = 256 * 1024
    ) -> tuple[BlobInfo, AsyncIterator[bytes]]:
        """Describe the object and stream its bytes (the signed-GET endpoint uses this)."""
        info, handle = await _run(self._open_sync, key)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await _run(handle.read, chunk_size):
                    yield chunk
            finally:
                handle.close()

        return info, chunks()

    # -- deleting and listing ----------------------------------------------------------------

    def _delete_sync(self, key: str) -> None:
        path = self._path(key)
        if self._stat_file(path) is None:
            return
        self._check_unlocked(key, path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            self._sidecar_path(path).unlink()

    async def delete(self, key: str) -> None:
        """Remove the object and its sidecar; ObjectLocked while under retention."""
        await _run(self._delete_sync, key)

    def _list_sync(self, prefix: str) -> list[BlobListing]:
        validate_prefix(prefix)
        directory, _, _ = prefix.rpartition("/")
        base = self.root.joinpath(*directory.split("/")) if directory else self.root
        found: list[BlobListing] = []
        for current, dirs, files in os.walk(base):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            rel = Path(current).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith("."):
                    continue  # sidecars and temp files
                key = name if rel == "." else f"{rel}/{name}"
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.stat(os.path.join(current, name))
                except FileNotFoundError:
                    continue  # deleted while we walked
                found.append(BlobListing(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC)))
        # S3 lists in UTF-8 byte order; match it so callers can page the same way.
        found.sort(key=lambda item: item.key.encode())
        return found

    async def list_keys(self, prefix: str = "") -> list[BlobListing]:
        """Objects whose key starts with prefix (a string prefix, as in S3), sorted."""
        return await _run(self._list_sync, prefix)

    def _ping_sync(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"blob directory {self.root} is missing or not writable")

    async def ping(self) -> None:
        """StorageUnavailable when the directory is missing or read-only."""
        await _run(self._ping_sync)

    def ensure_root(self) -> None:
        """Create the blob directory (called once at start-up)."""
        self.root.mkdir(parents=True, exist_ok=True)

    # -- signed URLs -------------------------------------------------------------------------

    def _signature(self, grant: SignedGrant) -> str:
        # The JSON array is an unambiguous encoding: no field can bleed into the next.
        message = msgspec.json.encode(
            [
                grant.method,
                grant.key,
                grant.expires,
                grant.content_type,
                grant.size,
                grant.sha256,
                grant.filename,
            ]
        )
        mac = hmac.new(self._url_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def _url(self, key: str, query: dict[str, str]) -> str:
        path = urllib.parse.quote(key, safe="/")
        return f"{self.public_base_url}{BLOB_URL_PREFIX}/{path}?{urllib.parse.urlencode(query)}"

    async def presign_put(
        self,
        key: str,
        *,
        content_type: str,
        size: int,
        sha256_hex: str,
        expires_in: int | None = None,
    ) -> PresignedRequest:
        """A signed PUT URL bound to content type, size and SHA-256."""
        validate_key(key)
        ttl = check_ttl(expires_in, self.default_url_ttl)
        grant = SignedGrant(
            method="PUT",
            key=key,
            expires=int(self._clock()) + ttl,
            content_type=check_content_type(content_type),
            size=check_size(size, self.max_object_size),
            sha256=normalise_sha256(sha256_hex),
        )
        query = {
            "method": grant.method,
            "expires": str(grant.expires),
            "ct": grant.content_type,
            "len": str(grant.size),
            "sha256": grant.sha256,
            "sig": self._signature(grant),
        }
        return PresignedRequest(
            url=self._url(key, query),
            method="PUT",
            headers={"Content-Type": grant.content_type, "Content-Length": str(grant.size)},
            expires_at=datetime.fromtimestamp(grant.expires, UTC),
        )

    async def presign_get(
        self, key: str, *, expires_in: int | None = None, filename: str | None = None
    ) -> str:
        """A signed GET URL; filename makes the download an attachment with that name."""
        validate_key(key)
        ttl = check_ttl(expires_in, self.default_url_ttl)
        grant = SignedGrant(
            method="GET", key=key, expires=int(self._clock()) + ttl, filename=filename or ""
        )
        query = {"method": "GET", "expires": str(grant.expires)}
        if grant.filename:
            query["fn"] = grant.filename
        query["sig"] = self._signature(grant)
        return self._url(key, query)

    def verify_signed_url(self, key: str, query: Mapping[str, str], *, method: str) -> SignedGrant:
        """Check a signed URL's signature, method and expiry; raises SignedUrlRejected."""
        try:
            grant = SignedGrant(
                method=query["method"],
                key=validate_key(key),
                expires=int(query["expires"]),
                content_type=query.get("ct", ""),
                size=int(query.get("len", "-1")),
                sha256=query.get("sha256", ""),
                filename=query.get("fn", ""),
            )
            signature = query["sig"]
        except (KeyError, ValueError, InvalidKey) as exc:
            raise SignedUrlRejected(
                "the URL is not a valid signed URL", code="bad_signature"
            ) from exc
        # compare_digest refuses non-ASCII str: compare bytes, which any signature encodes to.
        if not hmac.compare_digest(
            self._signature(grant).encode(), signature.encode(errors="replace")
        ):
            raise SignedUrlRejected("the URL signature does not match", code="bad_signature")
        if grant.method != method:
            raise SignedUrlRejected(
                f"the URL was signed for {grant.method}, not {method}", code="wrong_method"
            )
        if grant.expires < self._clock():
            raise SignedUrlRejected("the URL has expired", code="url_expired")
        return grant


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; some filesystems refuse O_RDONLY fsync on directories.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(tmp: Path, handle: IO[bytes]) -> None:
    handle.close()
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


async def _run(func: Callable[..., T], *args: object) -> T:
    """Run blocking filesystem work in a worker thread, off the event loop."""
    return await anyio.to_thread.run_sync(func, *args)
