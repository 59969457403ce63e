"""Signed-URL endpoints that stand in for S3 presigned URLs when blobs live on local disk."""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Stream

from service.errors import Conflict, DomainError, Forbidden, NotFound
from service.storage import provide_blob_store
from service.storage.base import DEFAULT_MAX_OBJECT_SIZE, BlobStore, content_disposition
from service.storage.errors import BlobNotFound, IntegrityError, ObjectLocked
from service.storage.local import BLOB_URL_PREFIX, LocalBlobStore, SignedGrant, SignedUrlRejected

# Types a browser may render inline from the API's origin. Anything else (HTML, SVG, ...)
# is served as an attachment so an uploaded file can never run script on this origin.
_INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/heic",
        "image/heif",
        "application/pdf",
    }
)


class UploadRejected(DomainError):
    """The upload does not match what the signed URL allows; nothing was stored."""

    status_code = 400
    title = "Upload rejected"
    type_slug = "upload-rejected"


def _local_store(blob_store: BlobStore) -> LocalBlobStore:
    if not isinstance(blob_store, LocalBlobStore):
        # With S3 the phone talks to S3; these URLs are never issued.
        raise NotFound("signed blob URLs are not served by this deployment")
    return blob_store


def _verify(store: LocalBlobStore, key: str, request: Request[Any, Any, Any]) -> SignedGrant:
    try:
        return store.verify_signed_url(key, request.query_params, method=request.method)
    except SignedUrlRejected as exc:
        raise Forbidden(str(exc), code=exc.code) from exc


def _path_key(key: str) -> str:
    # Litestar hands `path` parameters over with their leading '/'.
    return key[1:] if key.startswith("/") else key


class BlobController(Controller):
    """Uploads and downloads through HMAC-signed, expiring URLs (the local blob store).

    The signature is the authorisation, so the JWT middleware is skipped. Register it
    whenever the local store may be in use; with S3 it answers 404. The body limit is the
    store's default object size: subclass and set ``request_max_body_size`` for a larger one.
    """

    path = BLOB_URL_PREFIX
    include_in_schema = False
    opt = {"exclude_from_auth": True}
    # Overrides the app's 1 MiB limit for this controller only: photos may be 15 MiB.
    request_max_body_size = DEFAULT_MAX_OBJECT_SIZE
    dependencies = {"blob_store": Provide(provide_blob_store, sync_to_thread=False)}

    @put("/{key:path}", status_code=200, operation_id="UploadBlob")
    async def upload(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        blob_store: NamedDependency[BlobStore],
    ) -> Response[bytes]:
        """Store an upload that matches its signed URL (type, length, SHA-256)."""
        store = _local_store(blob_store)
        key = _path_key(key)
        # Everything below is checked before a single body byte is read.
        grant = _verify(store, key, request)
        content_type = request.headers.get("content-type", "")
        if content_type.strip().lower() != grant.content_type.lower():
            raise UploadRejected(
                f"Content-Type must be {grant.content_type!r}", code="content_type_mismatch"
            )
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit() or int(declared) != grant.size:
            raise UploadRejected(
                f"Content-Length must be {grant.size}", code="content_length_mismatch"
            )
        if grant.size > store.max_object_size:
            raise HTTPException(status_code=413, detail="The object is larger than allowed")
        try:
            info = await store.put_stream(
                key,
                request.stream(),
                content_type=grant.content_type,
                size=grant.size,
                sha256_hex=grant.sha256,
            )
        except IntegrityError as exc:
            raise UploadRejected(str(exc), code="integrity_mismatch") from exc
        except ObjectLocked as exc:
            raise Conflict(str(exc), code="object_locked") from exc
        return Response(content=b"", headers={"ETag": f'"{info.etag or info.sha256}"'})

    @get("/{key:path}", operation_id="DownloadBlob")
    async def download(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        blob_store: NamedDependency[BlobStore],
    ) -> Stream:
        """Stream a stored object to the holder of a valid signed GET URL."""
        store = _local_store(blob_store)
        key = _path_key(key)
        grant = _verify(store, key, request)
        try:
            info, chunks = await store.open_stream(key)
        except BlobNotFound as exc:
            raise NotFound("no such blob") from exc
        media_type = info.content_type.split(";", 1)[0].strip().lower()
        headers = {
            "Content-Length": str(info.size),
            "X-Content-Type-Options": "nosniff",
            # The URL stays valid until it expires; let the holder cache it that long.
            "Cache-Control": f"private, max-age={max(0, grant.expires - int(time.time()))}",
        }
        if info.etag:
            headers["ETag"] = f'"{info.etag}"'
        if grant.filename:
            headers["Content-Disposition"] = content_disposition(grant.filename)
        elif media_type not in _INLINE_TYPES:
            headers["Content-Disposition"] = "attachment"
        return Stream(chunks, media_type=info.content_type, headers=headers)
