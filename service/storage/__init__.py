"""Blob storage for photos and signed acts: the BlobStore protocol and its two stores.

``build_blob_store(settings)`` is called once from ``create_app``; the store lives on
``app.state.blob_store`` and handlers receive it through the ``blob_store`` dependency.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from service.common.page_security import url_origin
from service.storage.base import (
    DEFAULT_MAX_OBJECT_SIZE,
    BlobInfo,
    BlobListing,
    BlobStore,
    PresignedRequest,
    verify_blob,
)
from service.storage.errors import (
    BlobNotFound,
    IntegrityError,
    ObjectLocked,
    StorageError,
    StorageUnavailable,
)
from service.storage.keys import InvalidKey, act_key, blob_key, photo_key, validate_key
from service.storage.local import LocalBlobStore
from service.storage.s3 import S3BlobStore

if TYPE_CHECKING:
    from litestar.datastructures import State

    from service.settings import Settings, StorageSettings

__all__ = [
    "DEFAULT_MAX_OBJECT_SIZE",
    "BlobInfo",
    "BlobListing",
    "BlobNotFound",
    "BlobStore",
    "IntegrityError",
    "InvalidKey",
    "LocalBlobStore",
    "ObjectLocked",
    "PresignedRequest",
    "S3BlobStore",
    "StorageError",
    "StorageUnavailable",
    "act_key",
    "act_retain_until",
    "blob_key",
    "build_blob_store",
    "photo_key",
    "provide_blob_store",
    "validate_key",
    "verify_blob",
]


def build_blob_store(
    settings: Settings, *, max_object_size: int = DEFAULT_MAX_OBJECT_SIZE
) -> BlobStore:
    """The store ``NARYAD_STORAGE`` selects. No network I/O happens here.

    The S3 client is built on first use and shared by the process; the bucket is created
    (``NARYAD_S3_CREATE_BUCKET``) on the first call that reaches S3, typically ``/ready``.
    """
    storage = settings.storage
    if storage.backend == "s3":
        return S3BlobStore.from_settings(
            storage,
            max_object_size=max_object_size,
            browser_origin=url_origin(settings.server.public_base_url),
        )
    store = LocalBlobStore(
        storage.local_dir,
        # load_settings already falls back to the JWT secret; mirror that for hand-built settings.
        signing_key=storage.url_signing_key or settings.auth.jwt_secret,
        public_base_url=settings.server.public_base_url,
        max_object_size=max_object_size,
        default_url_ttl=storage.url_ttl_seconds,
    )
    store.ensure_root()
    return store


def provide_blob_store(state: State) -> BlobStore:
    """Litestar dependency ``blob_store``: the store ``create_app`` put on ``app.state``."""
    store: Any = state.get("blob_store")
    if store is None:
        raise StorageUnavailable("no blob store on app.state (is the lifespan running?)")
    return cast("BlobStore", store)


def act_retain_until(storage: StorageSettings, now: datetime | None = None) -> datetime | None:
    """Object Lock retention for a newly signed act, or None when none is configured."""
    if storage.s3_object_lock_days <= 0:
        return None
    return (now or datetime.now(UTC)) + timedelta(days=storage.s3_object_lock_days)
