"""Version 2 of the act snapshot: required fields, version 1 kept byte-identical."""

from __future__ import annotations

import msgspec
import pytest

from reports import InvalidSnapshot, canonical_json, parse_snapshot, snapshot_sha256
from tests.unit.reports.builders import load_sample, snapshot_dict, snapshot_v2_dict


def test_version_2_round_trips_through_canonical_json() -> None:
    snapshot = parse_snapshot(snapshot_v2_dict())
    assert snapshot.version == 2
    assert snapshot.time_zone == "Asia/Almaty"
    assert snapshot.work_order.description.startswith("Нет интернета")  # type: ignore[union-attr]
    assert snapshot.equipment[0].action == "replaced"
    assert snapshot.equipment[0].replaced_serial == "48575443FFEE0011"
    assert snapshot.checklist[0].evidence == "35 м от адреса (±12 м)"
    assert parse_snapshot(canonical_json(snapshot)) == snapshot
    assert b'"time_zone":"Asia/Almaty"' in canonical_json(snapshot)


def test_version_1_encodes_no_version_2_field() -> None:
    snapshot = parse_snapshot(snapshot_dict())
    encoded = canonical_json(snapshot)
    for name in (b"time_zone", b"contractor_signature", b"description", b"action", b"evidence"):
        assert name not in encoded
    # A signed sample stays bound to its signatures: its hash did not move.
    sample, signatures, _ = load_sample()
    assert all(s.document_sha256 == snapshot_sha256(sample) for s in signatures)


@pytest.mark.parametrize(
    ("field", "drop"),
    [
        ("time_zone", lambda d: d.pop("time_zone")),
        ("contractor_signature", lambda d: d.pop("contractor_signature")),
        ("description", lambda d: d["work_order"].pop("description")),
        ("action", lambda d: d["equipment"][1].pop("action")),
    ],
)
def test_version_2_requires_its_fields(field: str, drop: object) -> None:
    data = snapshot_v2_dict()
    drop(data)  # type: ignore[operator]
    with pytest.raises(InvalidSnapshot, match=field):
        parse_snapshot(data)


def test_unknown_zone_is_refused() -> None:
    data = snapshot_v2_dict()
    data["time_zone"] = "Mars/Olympus"
    with pytest.raises(InvalidSnapshot, match="IANA"):
        parse_snapshot(data)


def test_version_1_may_not_carry_version_2_fields() -> None:
    data = snapshot_dict()
    data["time_zone"] = "Asia/Almaty"
    with pytest.raises(InvalidSnapshot, match="version 1"):
        parse_snapshot(data)


def test_replaced_serial_only_on_a_replaced_line() -> None:
    data = snapshot_v2_dict()
    data["equipment"][0]["action"] = "installed"
    with pytest.raises(InvalidSnapshot, match="replaced_serial"):
        parse_snapshot(data)


def test_zone_property() -> None:
    assert parse_snapshot(snapshot_dict()).zone is None
    zone = parse_snapshot(snapshot_v2_dict()).zone
    assert zone is not None
    assert zone.key == "Asia/Almaty"
    assert msgspec.json.decode(canonical_json(parse_snapshot(snapshot_v2_dict())))["version"] == 2
