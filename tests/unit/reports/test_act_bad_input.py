"""Bad input raises a clear ReportError subclass, never a broken PDF."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from PIL import Image

from reports import (
    ActSnapshot,
    AssetHashMismatch,
    AssetMissing,
    AssetNotImage,
    AssetTooLarge,
    InvalidSignature,
    ReportError,
    UnsupportedCharacter,
    parse_snapshot,
    render_act,
    snapshot_sha256,
)

from .builders import (
    build_snapshot,
    customer_strokes_signature,
    jpeg,
    sha256,
    snapshot_dict,
)


def _photo_act(bad: bytes) -> tuple[ActSnapshot, dict[str, bytes]]:
    """An act whose third photo («Фото 3») is `bad`, with good bytes for the others."""
    photos = [jpeg(1), jpeg(2), bad]
    return build_snapshot(photos=photos), {sha256(data): data for data in photos}


def test_asset_that_is_not_an_image_is_named_by_photo() -> None:
    snapshot, assets = _photo_act(b"%PDF-1.7 definitely not a photo")

    with pytest.raises(AssetNotImage) as caught:
        render_act(snapshot, assets=assets)

    assert "photos[2] «Фото 3»" in str(caught.value)
    assert caught.value.used_by == "photos[2] «Фото 3»"
    assert caught.value.sha256 == sha256(b"%PDF-1.7 definitely not a photo")


def test_unsupported_image_format_is_named() -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="GIF")
    snapshot, assets = _photo_act(out.getvalue())

    with pytest.raises(AssetNotImage, match=r"photos\[2\].*GIF image; JPEG, PNG or WebP expected"):
        render_act(snapshot, assets=assets)


def test_truncated_jpeg_is_rejected_as_damaged() -> None:
    snapshot, assets = _photo_act(jpeg(3, size=(640, 480))[:1500])

    with pytest.raises(AssetNotImage, match="damaged"):
        render_act(snapshot, assets=assets)


def test_forty_megabyte_photo_is_rejected() -> None:
    # A real JPEG followed by padding, as an over-sized camera file would arrive.
    huge = jpeg(4) + b"\0" * (40 * 1024 * 1024)
    snapshot, assets = _photo_act(huge)

    with pytest.raises(AssetTooLarge, match=r"photos\[2\] «Фото 3».*40\.0 MiB, over the 15\.0 MiB"):
        render_act(snapshot, assets=assets)


def test_image_with_too_many_pixels_is_rejected_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")  # 64 Mpx in a few kilobytes
    snapshot, assets = _photo_act(out.getvalue())

    with pytest.raises(AssetTooLarge, match="8000x8000 pixels"):
        render_act(snapshot, assets=assets)


def test_asset_whose_bytes_do_not_match_its_hash() -> None:
    snapshot, assets = _photo_act(jpeg(5))
    key = sha256(jpeg(5))
    assets[key] = jpeg(6)

    with pytest.raises(AssetHashMismatch) as caught:
        render_act(snapshot, assets=assets)

    assert caught.value.sha256 == key
    assert sha256(jpeg(6)) in str(caught.value)


def test_missing_asset() -> None:
    snapshot, assets = _photo_act(jpeg(7))
    del assets[sha256(jpeg(7))]

    with pytest.raises(AssetMissing, match=r"photos\[2\] «Фото 3».*not supplied"):
        render_act(snapshot, assets=assets)


def test_missing_signature_image() -> None:
    snapshot = build_snapshot()
    signature = msgspec.structs.replace(
        customer_strokes_signature(snapshot), strokes=None, image_sha256="ab" * 32
    )

    with pytest.raises(AssetMissing, match=r"signatures\[customer\]\.image_sha256"):
        render_act(snapshot, signatures=[signature])


@pytest.mark.parametrize(
    ("place", "value", "field", "character"),
    [
        (lambda d: d["customer"], "Әлия 漢 Нұрланова", "snapshot.customer.name", "U+6F22"),
        (lambda d: d["site"], "ул. Абая\u0007", "snapshot.site.address", "U+0007"),
        (lambda d: d["checklist"][1], "ok \U0001f9ff", "snapshot.checklist[1].answer", "U+1F9FF"),
    ],
)
def test_character_outside_the_font_names_field_and_code_point(
    place: Callable[[dict[str, Any]], dict[str, Any]], value: str, field: str, character: str
) -> None:
    data = snapshot_dict()
    place(data)[field.rsplit(".", 1)[1]] = value
    snapshot = parse_snapshot(data)

    with pytest.raises(UnsupportedCharacter) as caught:
        render_act(snapshot)

    assert caught.value.field == field
    assert caught.value.code_point == character
    assert field in str(caught.value)
    assert character in str(caught.value)


def test_signer_name_outside_the_font_is_rejected() -> None:
    snapshot = build_snapshot()
    signature = msgspec.structs.replace(customer_strokes_signature(snapshot), signer_name="李")

    with pytest.raises(
        UnsupportedCharacter, match=r"signatures\[0\]\.signer_name contains U\+674E"
    ):
        render_act(snapshot, signatures=[signature])


def test_signature_over_another_document_is_rejected() -> None:
    snapshot = build_snapshot()
    other = build_snapshot(language="en")
    signature = customer_strokes_signature(other)

    with pytest.raises(InvalidSignature, match=snapshot_sha256(snapshot)):
        render_act(snapshot, signatures=[signature])


def test_two_signatures_for_one_party_are_rejected() -> None:
    snapshot = build_snapshot()
    signature = customer_strokes_signature(snapshot)

    with pytest.raises(InvalidSignature, match="second customer signature"):
        render_act(snapshot, signatures=[signature, signature])


def test_every_error_is_a_report_error() -> None:
    for error in (AssetNotImage, AssetTooLarge, AssetMissing, AssetHashMismatch):
        assert issubclass(error, ReportError)
    assert issubclass(UnsupportedCharacter, ReportError)
    assert issubclass(InvalidSignature, ReportError)
