"""Errors raised by blob stores; services map them to domain errors."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every blob store failure."""


class BlobNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no blob under {key!r}")
        self.key = key


class IntegrityError(StorageError):
    """The bytes do not match the declared SHA-256 or size; nothing was stored."""


class StorageUnavailable(StorageError):
    """The store cannot be reached or refuses service (network, 5xx, missing bucket)."""


class ObjectLocked(StorageError):
    """The object is under retention and may not be overwritten or deleted yet."""

    def __init__(self, key: str) -> None:
        super().__init__(f"blob {key!r} is under retention")
        self.key = key
