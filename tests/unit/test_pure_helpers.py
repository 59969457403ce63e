"""Pure helpers: cursors, search, If-Match, geometry, windows, settings, audit hashing."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from service.audit.chain import GENESIS_HASH, entry_hash
from service.common.geo import point_ewkt, point_from_wkb
from service.common.pagination import decode_cursor, encode_cursor, split_page
from service.common.schemas import Point, Window
from service.errors import PreconditionFailed, PreconditionRequired, ValidationFailed
from service.orders.services import parse_if_match, search_query
from service.settings import SettingsError, load_settings, normalise_database_url


def test_cursor_round_trip_and_garbage() -> None:
    moment = datetime(2026, 11, 22, 8, 30, 1, 123456, tzinfo=UTC)
    row_id = uuid.uuid4()
    cursor = decode_cursor(encode_cursor(moment, row_id))
    assert (cursor.created_at, cursor.id) == (moment, row_id)
    for garbage in ("%%%", "bm90IGpzb24", encode_cursor(moment, row_id)[:-5]):
        with pytest.raises(ValidationFailed):
            decode_cursor(garbage)


def test_split_page() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(moment - timedelta(seconds=i), uuid.uuid4()) for i in range(5)]
    items, cursor = split_page(rows, 3, lambda r: r)
    assert items == rows[:3]
    assert cursor is not None
    assert decode_cursor(cursor).id == rows[2][1]
    assert split_page(rows, 5, lambda r: r) == (rows, None)


def test_search_query_prefixes_words_and_drops_operators() -> None:
    assert search_query("WO-2026-000123") == "wo:* & 2026:* & 000123:*"
    assert search_query("Замена  роутера") == "замена:* & роутера:*"
    assert search_query("' | ! & :*") is None


def test_if_match() -> None:
    parse_if_match('"v3"', 3)
    parse_if_match('"v1", "v3"', 3)
    parse_if_match("*", 7)
    with pytest.raises(PreconditionRequired):
        parse_if_match(None, 3)
    with pytest.raises(PreconditionFailed):
        parse_if_match('"v2"', 3)
    with pytest.raises(PreconditionFailed):
        parse_if_match('W/"v3"', 3)  # If-Match uses strong comparison


def test_point_wkb_round_trip() -> None:
    ewkb = struct.pack("<BII", 1, 0x20000001, 4326) + struct.pack("<dd", 76.9286, 43.2567)
    assert point_from_wkb(ewkb) == Point(lat=43.2567, lon=76.9286)
    big_endian = struct.pack(">BI", 0, 1) + struct.pack(">dd", 83.77, 53.35)
    assert point_from_wkb(big_endian) == Point(lat=53.35, lon=83.77)
    assert point_ewkt(Point(lat=43.25, lon=76.9)) == "SRID=4326;POINT(76.9 43.25)"


def test_point_and_window_validation() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"lat": 91, "lon": 0}, Point)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"lat": 0, "lon": 180.5}, Point)
    with pytest.raises(msgspec.ValidationError, match="end must be after"):
        msgspec.json.decode(
            b'{"start": "2026-11-22T10:00:00+05:00", "end": "2026-11-22T10:00:00+05:00"}',
            type=Window,
        )
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            b'{"start": "2026-11-22T10:00:00", "end": "2026-11-22T12:00:00"}', type=Window
        )


def test_settings_from_environment() -> None:
    settings = load_settings(
        {"NARYAD_DATABASE_URL": "postgresql://u:p@db:5432/x", "NARYAD_PORT": "9000"}
    )
    assert settings.database.url == "postgresql+asyncpg://u:p@db:5432/x"
    assert settings.server.port == 9000
    assert settings.storage.backend == "local"
    with pytest.raises(SettingsError, match="NARYAD_JWT_SECRET"):
        load_settings({"NARYAD_ENV": "production"})
    with pytest.raises(SettingsError, match="NARYAD_PORT"):
        load_settings({"NARYAD_PORT": "eighty"})
    with pytest.raises(SettingsError, match="NARYAD_STORAGE"):
        load_settings({"NARYAD_STORAGE": "ftp"})
    assert normalise_database_url("postgres://a/b") == "postgresql+asyncpg://a/b"


def test_audit_hash_covers_every_field_and_the_previous_hash() -> None:
    base = {
        "prev_hash": GENESIS_HASH,
        "occurred_at": datetime(2026, 11, 22, tzinfo=UTC),
        "actor_user_id": "u1",
        "actor_role": "dispatcher",
        "action": "work_order.updated",
        "entity_type": "work_order",
        "entity_id": "42",
        "before": {"priority": "low"},
        "after": {"priority": "high"},
    }
    reference = entry_hash(**base)  # type: ignore[arg-type]
    assert reference == entry_hash(**base)  # type: ignore[arg-type]
    for key, other in [
        ("prev_hash", "f" * 64),
        ("action", "work_order.created"),
        ("after", {"priority": "urgent"}),
        ("actor_user_id", "u2"),
    ]:
        assert entry_hash(**{**base, key: other}) != reference  # type: ignore[arg-type]
