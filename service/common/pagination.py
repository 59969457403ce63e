"""Keyset pagination: an opaque cursor holding the last row's sort key."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy import tuple_

from service.errors import FieldError, ValidationFailed

T = TypeVar("T")

Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]
DEFAULT_LIMIT = 50


class Cursor(msgspec.Struct, array_like=True, frozen=True):
    """The (created_at, id) of the last row of a page; pages run newest first."""

    created_at: datetime
    id: uuid.UUID


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """Opaque, URL-safe cursor."""
    raw = msgspec.json.encode(Cursor(created_at=created_at, id=row_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """Parse a cursor from a previous page; a bad one is a 422 on `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return msgspec.json.decode(raw, type=Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise ValidationFailed(
            "The cursor is not one this API issued",
            errors=[FieldError(field="cursor", message="invalid cursor")],
        ) from exc


class TerritoryPageQuery(msgspec.Struct, frozen=True):
    """What a staff list of one area takes: an optional territory, a cursor and a page size."""

    territory_id: uuid.UUID | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def keyset_page(
    stmt: Any, model: Any, cursor: str | None, limit: int, *, oldest_first: bool = False
) -> Any:
    """Order by (created_at, id), newest first unless ``oldest_first``, and start after the
    cursor; fetches one extra row to detect more."""
    key = tuple_(model.created_at, model.id)
    if cursor:
        after = decode_cursor(cursor)
        mark = (after.created_at, after.id)
        stmt = stmt.where(key > mark if oldest_first else key < mark)
    if oldest_first:
        return stmt.order_by(model.created_at, model.id).limit(limit + 1)
    return stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], Any]
) -> tuple[list[T], str | None]:
    """The page's rows and the cursor of the next page (None on the last page)."""
    if len(rows) <= limit:
        return list(rows), None
    last = rows[limit - 1]
    created_at, row_id = key(last)
    return list(rows[:limit]), encode_cursor(created_at, row_id)
