"""Snapshot schema, canonical JSON and hashing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import (
    ActSnapshot,
    Customer,
    InvalidSignature,
    InvalidSnapshot,
    ReportError,
    canonical_json,
    parse_signatures,
    parse_snapshot,
    render_act,
    snapshot_sha256,
)

from .builders import CUSTOMER_NAME, build_snapshot, snapshot_dict


def test_canonical_json_is_sorted_compact_and_independent_of_input_key_order() -> None:
    data = snapshot_dict()
    reversed_keys = json.loads(json.dumps(dict(reversed(list(data.items())))))
    first, second = parse_snapshot(data), parse_snapshot(json.dumps(reversed_keys))

    assert canonical_json(first) == canonical_json(second)
    assert snapshot_sha256(first) == snapshot_sha256(second)
    text = canonical_json(first).decode()
    # Exactly the JSON that sorted keys and no whitespace produce, nested objects included.
    normalised = json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert text == normalised
    assert text.startswith('{"acceptor":')


def test_canonical_json_round_trips_to_an_equal_snapshot() -> None:
    snapshot = build_snapshot()

    assert msgspec.json.decode(canonical_json(snapshot), type=ActSnapshot) == snapshot
    assert CUSTOMER_NAME in canonical_json(snapshot).decode()


def test_hash_changes_with_any_visible_content() -> None:
    snapshot = build_snapshot()
    renamed = msgspec.structs.replace(
        snapshot, customer=Customer(name="Әлия Нұрланова", phones=snapshot.customer.phones)
    )

    assert len(snapshot_sha256(snapshot)) == 64
    assert snapshot_sha256(renamed) != snapshot_sha256(snapshot)


def test_times_keep_their_offset_in_canonical_form() -> None:
    snapshot = build_snapshot()

    assert '"arrived_at":"2025-03-12T10:12:00+05:00"' in canonical_json(snapshot).decode()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("act_number"), "snapshot.act_number"),
        (lambda d: d["customer"].pop("name"), "snapshot.customer.name"),
        (lambda d: d.update(surprise=1), "snapshot.surprise"),
        (lambda d: d.update(arrived_at="2025-03-12T10:12:00"), "snapshot.arrived_at"),
        (lambda d: d.update(language="de"), "snapshot.language"),
        (
            lambda d: d["agreed_window"].update(end="2025-03-12T09:00:00+05:00"),
            "snapshot.agreed_window",
        ),
        (lambda d: d["equipment"][1].update(quantity="0"), "snapshot.equipment[1]"),
        (lambda d: d["checklist"][0].pop("answered_at"), "snapshot.checklist[0].answered_at"),
        (lambda d: d.update(photos=[{"sha256": "XYZ"}]), "snapshot.photos[0].sha256"),
        (lambda d: d.update(verify_url="javascript:alert(1)"), "snapshot.verify_url"),
    ],
)
def test_bad_snapshot_names_the_field(
    mutate: Callable[[dict[str, Any]], object], field: str
) -> None:
    data = copy.deepcopy(snapshot_dict())
    mutate(data)

    with pytest.raises(InvalidSnapshot) as caught:
        parse_snapshot(json.dumps(data, ensure_ascii=False))

    assert caught.value.field == field
    assert field in str(caught.value)
    assert isinstance(caught.value, ReportError)


def test_not_json_is_an_invalid_snapshot() -> None:
    with pytest.raises(InvalidSnapshot, match="not valid JSON"):
        parse_snapshot(b"{not json")


def test_snapshot_built_in_python_with_wrong_types_is_rejected_before_rendering() -> None:
    snapshot = build_snapshot()
    broken = msgspec.structs.replace(snapshot, act_number=12345)  # type: ignore[arg-type]

    with pytest.raises(InvalidSnapshot, match="act_number"):
        render_act(broken)


def test_signature_needs_exactly_one_of_strokes_or_image() -> None:
    snapshot = build_snapshot()
    base = {
        "role": "customer",
        "signer_name": CUSTOMER_NAME,
        "signed_at": "2025-03-12T11:47:00+05:00",
        "document_sha256": snapshot_sha256(snapshot),
    }

    with pytest.raises(InvalidSignature, match="exactly one of strokes or image_sha256"):
        parse_signatures([base])
    with pytest.raises(InvalidSignature, match=r"signatures\[0\]\.strokes"):
        parse_signatures([{**base, "strokes": {"strokes": [[[1.5, 0.2]]]}}])


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=80), remarks=st.text(max_size=200))
def test_any_text_round_trips_and_hashes_stably(name: str, remarks: str) -> None:
    data = snapshot_dict()
    data["customer"]["name"] = name
    data["customer_remarks"] = remarks
    snapshot = parse_snapshot(data)

    again = parse_snapshot(canonical_json(snapshot))

    assert again == snapshot
    assert snapshot_sha256(again) == snapshot_sha256(snapshot)
