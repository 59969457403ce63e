"""The act snapshot (what the customer reads and signs) and the signatures kept beside it.

Two versions share one set of structs. Version 1 is what acts were signed with first; version 2
adds what a customer needs to trust the act (see `ActSnapshot`). Every field version 2 added
defaults to `msgspec.UNSET`, which msgspec never encodes: a version 1 snapshot decodes, encodes
and hashes byte-for-byte as it did when it was signed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, UnsetType

from reports.errors import InvalidSignature, InvalidSnapshot

Language = Literal["ru", "kk", "en"]
ActKind = Literal["completion", "handover"]
WorkType = Literal["installation", "repair", "construction", "meter_check"]
TaxIdKind = Literal["bin", "inn"]
SignerRole = Literal["contractor", "customer"]
SnapshotVersion = Literal[1, 2]
# What happened to a piece of equipment during the visit (version 2).
EquipmentAction = Literal["installed", "replaced", "removed"]
# How the contractor's side is signed (version 2), so its line is never left empty:
# "technician": the technician signs on the device; "seal_statement": a statement that the
# contractor confirms the act and certifies it with its electronic seal (when a seal is
# configured); "contractor_statement": the same confirmation without claiming a seal.
ContractorSignatureMode = Literal["technician", "seal_statement", "contractor_statement"]
LATEST_VERSION: SnapshotVersion = 2

Sha256Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
# Bounds keep a hostile or buggy snapshot from producing a 500-page PDF or a layout crash.
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
OptionalText = Annotated[str, msgspec.Meta(max_length=300)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
UnitInterval = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
DescriptionText = Annotated[str, msgspec.Meta(max_length=2000)]
ZoneName = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$", max_length=64)
]

MAX_STROKE_POINTS = 20_000


class _Input(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Shared configuration of every input struct (immutable, strict, keyword-only)."""


class Issuer(_Input, frozen=True, kw_only=True):
    """Requisites of the company that did the work (Исполнитель)."""

    legal_name: ShortText
    tax_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{9,12}$")]
    tax_id_kind: TaxIdKind = "bin"
    address: ShortText
    phone: ShortText


class WorkOrder(_Input, frozen=True, kw_only=True):
    """The work order (наряд) the visit belongs to.

    `description` (version 2): the customer's reported problem or request, as the order
    recorded it ("" when the order has none).
    """

    number: ShortText
    type: WorkType
    requested_services: Annotated[tuple[ShortText, ...], msgspec.Meta(max_length=50)] = ()
    description: DescriptionText | UnsetType = UNSET


class Customer(_Input, frozen=True, kw_only=True):
    """The customer (Заказчик) as named in the work order."""

    name: ShortText
    phones: Annotated[tuple[ShortText, ...], msgspec.Meta(max_length=5)] = ()


class Acceptor(_Input, frozen=True, kw_only=True):
    """The person who accepted the work on the customer's behalf."""

    name: ShortText


class Site(_Input, frozen=True, kw_only=True):
    """Where the work was done."""

    address: ShortText


class Technician(_Input, frozen=True, kw_only=True):
    """The specialist who did the work; `employee_no` is the personnel number (табельный №)."""

    name: ShortText
    employee_no: ShortText


class TimeWindow(_Input, frozen=True, kw_only=True):
    """A time window {start, end}; end is after start."""

    start: AwareDatetime
    end: AwareDatetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("window end must be after its start")


class EquipmentLine(_Input, frozen=True, kw_only=True):
    """One line of the equipment and materials table.

    `unit` is printed as is: in version 2 it is already in the act's language (шт / дана / pcs).
    Version 2 adds `action` (installed, replaced or removed during the visit) and, for a
    replacement, `replaced_serial`: the serial number of the unit taken out.
    """

    name: ShortText
    model: OptionalText = ""
    serial: OptionalText = ""
    quantity: Decimal
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    action: EquipmentAction | UnsetType = UNSET
    replaced_serial: OptionalText | UnsetType = UNSET

    def __post_init__(self) -> None:
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise ValueError("quantity must be a positive number")
        if self.replaced_serial is not UNSET and self.action != "replaced":
            raise ValueError("replaced_serial belongs to a replaced line only")


class ChecklistEntry(_Input, frozen=True, kw_only=True):
    """One answered checklist step, in the order it was answered.

    Version 1: `label` is the step's title as the technician's app shows it, `answer` a summary.
    Version 2: `label` is the customer-facing statement in the past tense and the act's language
    ("Показал служебное удостоверение"); `answer` is the answer as given, in human words (a name,
    a choice label, a number with its unit, a serial, yes/no, "3 photos"), never a location;
    `evidence` is what backs it, e.g. "35 m from the address (±12 m)". `step_id` is kept for
    data and is never printed. Internal steps (preparation before departure) are not rows.
    """

    step_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: ShortText
    answer: Annotated[str, msgspec.Meta(max_length=2000)]
    answered_at: AwareDatetime
    evidence: OptionalText | UnsetType = UNSET


class Photo(_Input, frozen=True, kw_only=True):
    """A photo shown as a thumbnail; its bytes come separately, keyed by `sha256`."""

    sha256: Sha256Hex
    caption: OptionalText = ""
    taken_at: AwareDatetime | None = None


class ActSnapshot(_Input, frozen=True, kw_only=True):
    """The frozen content of an act: exactly what the customer reads, signs and we hash.

    Version 2 (`version=2`, what new acts are built with) requires:
    - `time_zone`: IANA name of the site's territory zone; every time is printed in it, with the
      zone named once;
    - `work_order.description` (the reported problem; may be "");
    - `contractor_signature`: "technician" (the technician signs on the device),
      "seal_statement" (the contractor confirms the act and certifies it with its electronic
      seal) or "contractor_statement" (the confirmation alone, when no seal is configured): a
      statement replaces the empty signature line;
    - `action` on every equipment line;
    and gives checklist rows the meaning described in `ChecklistEntry`. A version 1 snapshot
    must not carry any of these fields.
    """

    version: SnapshotVersion = 1
    act_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    kind: ActKind
    language: Language
    place: ShortText
    act_date: date
    issuer: Issuer
    work_order: WorkOrder
    customer: Customer
    acceptor: Acceptor
    site: Site
    technician: Technician
    agreed_window: TimeWindow
    arrived_at: AwareDatetime
    finished_at: AwareDatetime
    works_performed: Annotated[tuple[LongText, ...], msgspec.Meta(max_length=200)] = ()
    equipment: Annotated[tuple[EquipmentLine, ...], msgspec.Meta(max_length=500)] = ()
    checklist: Annotated[tuple[ChecklistEntry, ...], msgspec.Meta(max_length=500)] = ()
    photos: Annotated[tuple[Photo, ...], msgspec.Meta(max_length=30)] = ()
    customer_remarks: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    verify_url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=500)]
    time_zone: ZoneName | UnsetType = UNSET
    contractor_signature: ContractorSignatureMode | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.finished_at < self.arrived_at:
            raise ValueError("finished_at must not be before arrived_at")
        if self.version == 1:
            if self._version_2_fields_set():
                raise ValueError("a version 1 snapshot carries no version 2 fields")
            return
        if self.time_zone is UNSET:
            raise ValueError("time_zone is required in version 2")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"time_zone {self.time_zone!r} is not a known IANA zone") from exc
        if self.contractor_signature is UNSET:
            raise ValueError("contractor_signature is required in version 2")
        if self.work_order.description is UNSET:
            raise ValueError("work_order.description is required in version 2")
        if any(line.action is UNSET for line in self.equipment):
            raise ValueError("every equipment line needs an action in version 2")

    @property
    def zone(self) -> ZoneInfo | None:
        """The site's time zone (version 2); None for version 1, whose times keep their offset."""
        return None if self.time_zone is UNSET else ZoneInfo(self.time_zone)

    def _version_2_fields_set(self) -> bool:
        return (
            self.time_zone is not UNSET
            or self.contractor_signature is not UNSET
            or self.work_order.description is not UNSET
            or any(
                line.action is not UNSET or line.replaced_serial is not UNSET
                for line in self.equipment
            )
            or any(entry.evidence is not UNSET for entry in self.checklist)
        )


class GeoLocation(_Input, frozen=True, kw_only=True):
    """Where the device was when the act was signed (WGS 84, accuracy in metres)."""

    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0.0)]


class SignatureStrokes(_Input, frozen=True, kw_only=True):
    """Handwriting as strokes of points in a unit box (0..1, origin top-left, y down)."""

    # Width / height of the pad the strokes were captured on, so they are not distorted.
    aspect_ratio: Annotated[float, msgspec.Meta(gt=0.2, lt=10.0)] = 3.0
    strokes: Annotated[
        tuple[tuple[tuple[UnitInterval, UnitInterval], ...], ...], msgspec.Meta(min_length=1)
    ]

    def __post_init__(self) -> None:
        points = sum(len(stroke) for stroke in self.strokes)
        if points == 0:
            raise ValueError("strokes hold no points")
        if points > MAX_STROKE_POINTS:
            raise ValueError(f"strokes hold {points} points, more than {MAX_STROKE_POINTS}")


class Signature(_Input, frozen=True, kw_only=True):
    """One party's signature over the snapshot whose SHA-256 is `document_sha256`."""

    role: SignerRole
    signer_name: ShortText
    signed_at: AwareDatetime
    document_sha256: Sha256Hex
    location: GeoLocation | None = None
    strokes: SignatureStrokes | None = None
    image_sha256: Sha256Hex | None = None

    def __post_init__(self) -> None:
        if (self.strokes is None) == (self.image_sha256 is None):
            raise ValueError("a signature needs exactly one of strokes or image_sha256")


_CANONICAL_ENCODER = msgspec.json.Encoder(order="sorted")
_FIELD_IN_MESSAGE = re.compile(r"field `(?P<name>[^`]+)`")
_PATH_IN_MESSAGE = re.compile(r" - at `\$(?P<path>[^`]*)`$")

_T = TypeVar("_T")


def canonical_json(snapshot: ActSnapshot) -> bytes:
    """Stable JSON bytes of a snapshot: sorted keys, defaults included, no whitespace."""
    return _CANONICAL_ENCODER.encode(snapshot)


def snapshot_sha256(snapshot: ActSnapshot) -> str:
    """Hex SHA-256 of `canonical_json(snapshot)`: the identity of the signed content."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def parse_snapshot(data: bytes | str | Mapping[str, Any]) -> ActSnapshot:
    """Decode JSON (or already-parsed JSON objects) into an `ActSnapshot`, or raise."""
    return _parse(data, ActSnapshot, root="snapshot", error=InvalidSnapshot)


def parse_signatures(data: bytes | str | Sequence[Any]) -> tuple[Signature, ...]:
    """Decode a JSON array of signatures, or raise `InvalidSignature`."""
    return _parse(data, tuple[Signature, ...], root="signatures", error=InvalidSignature)


def revalidate_snapshot(snapshot: ActSnapshot) -> ActSnapshot:
    """Round-trip a snapshot built in Python through the decoder so its constraints hold."""
    # Struct constructors do not check types or Meta constraints; decoding does.
    try:
        encoded = canonical_json(snapshot)
    except (TypeError, ValueError) as exc:
        raise InvalidSnapshot(f"snapshot cannot be encoded: {exc}") from exc
    return parse_snapshot(encoded)


def revalidate_signatures(signatures: Sequence[Signature]) -> tuple[Signature, ...]:
    """Round-trip signatures built in Python through the decoder so their constraints hold."""
    try:
        encoded = _CANONICAL_ENCODER.encode(tuple(signatures))
    except (TypeError, ValueError) as exc:
        raise InvalidSignature(f"signatures cannot be encoded: {exc}") from exc
    return parse_signatures(encoded)


def _parse(
    data: bytes | str | Mapping[str, Any] | Sequence[Any],
    target: type[_T],
    *,
    root: str,
    error: type[InvalidSnapshot] | type[InvalidSignature],
) -> _T:
    try:
        if isinstance(data, bytes | str):
            return msgspec.json.decode(data, type=target)
        return msgspec.convert(data, type=target)
    except msgspec.ValidationError as exc:
        message, field = _describe_validation_error(str(exc), root)
        if error is InvalidSnapshot:
            raise InvalidSnapshot(message, field=field) from exc
        raise InvalidSignature(message) from exc
    except msgspec.DecodeError as exc:
        raise error(f"{root}: not valid JSON ({exc})") from exc


def _describe_validation_error(message: str, root: str) -> tuple[str, str]:
    """Turn msgspec's "... - at `$.a.b`" into ("root.a.b.field: ...", "root.a.b.field")."""
    path_match = _PATH_IN_MESSAGE.search(message)
    path = root + (path_match.group("path") if path_match else "")
    reason = message[: path_match.start()] if path_match else message
    # "Object missing required field `x`" names the field one level below the path.
    field_match = _FIELD_IN_MESSAGE.search(reason)
    if field_match and ("missing required field" in reason or "unknown field" in reason):
        path = f"{path}.{field_match.group('name')}"
    return f"{path}: {reason}", path
