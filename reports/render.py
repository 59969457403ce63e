"""Act snapshot (+ signatures + image assets) -> deterministic PDF bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from reports import i18n
from reports.assets import MAX_ASSET_BYTES, prepare_image
from reports.errors import InvalidSignature
from reports.fonts import FontSet, load_fonts
from reports.layout import make_styles
from reports.page import PageFurniture, PdfIdentity, build_pdf
from reports.sections import ActContent, build_story
from reports.snapshot import (
    ActSnapshot,
    Signature,
    SignerRole,
    canonical_json,
    parse_snapshot,
    revalidate_signatures,
    revalidate_snapshot,
    snapshot_sha256,
)

NO_ASSETS: Mapping[str, bytes] = MappingProxyType({})
_SIGNATURE_ENCODER = msgspec.json.Encoder(order="sorted")


def render_act(
    snapshot: ActSnapshot,
    *,
    signatures: Sequence[Signature] = (),
    assets: Mapping[str, bytes] = NO_ASSETS,
    font_dir: str | Path | None = None,
    max_asset_bytes: int = MAX_ASSET_BYTES,
) -> bytes:
    """Render the act as PDF bytes; equal inputs give byte-identical output."""
    # Structs built in Python skip msgspec's checks; re-decoding applies them and guarantees
    # that what we draw is exactly what canonical_json (and so the hash) describes.
    snapshot = revalidate_snapshot(snapshot)
    checked_signatures = revalidate_signatures(signatures)
    document_sha256 = snapshot_sha256(snapshot)
    by_role = _signatures_by_role(checked_signatures, document_sha256)
    fonts = load_fonts(font_dir)
    _check_characters(snapshot, checked_signatures, fonts)
    act = ActContent(
        snapshot=snapshot,
        document_sha256=document_sha256,
        signatures=by_role,
        photos=[
            prepare_image(
                photo.sha256,
                assets,
                used_by=_photo_name(index, photo.caption),
                max_bytes=max_asset_bytes,
            )
            for index, photo in enumerate(snapshot.photos)
        ],
        signature_images={
            role: prepare_image(
                signature.image_sha256,
                assets,
                used_by=f"signatures[{role}].image_sha256",
                max_bytes=max_asset_bytes,
                keep_alpha=True,
            )
            for role, signature in by_role.items()
            if signature.image_sha256 is not None
        },
        fonts=fonts,
        styles=make_styles(fonts),
        one_offset=_one_offset(snapshot, checked_signatures),
    )
    return _build_pdf(act, checked_signatures)


def printable_snapshot(snapshot: ActSnapshot, *, font_dir: str | Path | None = None) -> ActSnapshot:
    """The snapshot with characters the act's font cannot draw (emoji...) replaced by U+FFFD.

    Applied before an act is frozen, so that text typed on a phone can never make the act
    impossible to render, and what is hashed is exactly what the PDF shows.
    """
    fonts = load_fonts(font_dir)
    data = msgspec.json.decode(canonical_json(snapshot))
    return parse_snapshot(_SIGNATURE_ENCODER.encode(_printable(data, fonts)))


def _printable(value: Any, fonts: FontSet) -> Any:
    if isinstance(value, str):
        return fonts.printable(value)
    if isinstance(value, dict):
        return {key: _printable(item, fonts) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item, fonts) for item in value]
    return value


def _one_offset(snapshot: ActSnapshot, signatures: Sequence[Signature]) -> bool:
    """Whether every time of a version 2 act has the same UTC offset on the site's clock."""
    zone = snapshot.zone
    if zone is None:
        return False
    times = [
        snapshot.arrived_at,
        snapshot.finished_at,
        snapshot.agreed_window.start,
        snapshot.agreed_window.end,
        *(entry.answered_at for entry in snapshot.checklist),
        *(photo.taken_at for photo in snapshot.photos if photo.taken_at is not None),
        *(signature.signed_at for signature in signatures),
    ]
    return len({value.astimezone(zone).utcoffset() for value in times}) == 1


def _signatures_by_role(
    signatures: Sequence[Signature], document_sha256: str
) -> dict[SignerRole, Signature]:
    by_role: dict[SignerRole, Signature] = {}
    for index, signature in enumerate(signatures):
        if signature.document_sha256 != document_sha256:
            raise InvalidSignature(
                f"signatures[{index}] ({signature.role}) was made over document "
                f"{signature.document_sha256}, not this snapshot ({document_sha256})"
            )
        if signature.role in by_role:
            raise InvalidSignature(f"signatures[{index}]: a second {signature.role} signature")
        by_role[signature.role] = signature
    return by_role


def _check_characters(
    snapshot: ActSnapshot, signatures: Sequence[Signature], fonts: FontSet
) -> None:
    fonts.check_all(msgspec.to_builtins(snapshot), "snapshot")
    for index, signature in enumerate(signatures):
        fonts.check_text(f"signatures[{index}].signer_name", signature.signer_name)


def _photo_name(index: int, caption: str) -> str:
    return f"photos[{index}] «{caption}»" if caption else f"photos[{index}]"


def _build_pdf(act: ActContent, signatures: Sequence[Signature]) -> bytes:
    snapshot = act.snapshot
    language = snapshot.language
    heading = f"{i18n.title(snapshot.kind, language)} {act.label('number')} {snapshot.act_number}"
    instance = hashlib.sha256(
        canonical_json(snapshot) + _SIGNATURE_ENCODER.encode(tuple(signatures))
    ).hexdigest()
    identity = PdfIdentity(
        act_date=snapshot.act_date,
        recorded_at=snapshot.finished_at,
        permanent_id=act.document_sha256[:32],
        instance_id=instance[:32],
    )
    furniture = PageFurniture(
        fonts=act.fonts,
        language=language,
        act_heading=heading,
        act_short=act.label("act_short", number=snapshot.act_number),
        issuer_name=snapshot.issuer.legal_name,
        document_sha256=act.document_sha256,
        verify_url=snapshot.verify_url,
    )
    return build_pdf(
        build_story(act), furniture, identity, template_id="act", keywords=snapshot.act_number
    )
