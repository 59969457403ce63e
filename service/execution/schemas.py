"""What the phone gets for a visit, and what it sends back (operation payloads)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from checklists.schema import Location, SerialEntry
from service.common.schemas import AwareDatetime, Point, Window
from service.orders.schemas import EquipmentItem


class CustomerOnSite(msgspec.Struct):
    """Only what the technician needs at the door (personal data minimised)."""

    name: str
    phone: str | None
    language: str
    accessibility_needs: list[str]


class PinnedChecklist(msgspec.Struct):
    """The checklist version this visit follows (the template itself is in the bundle)."""

    key: str
    version: int
    content_hash: str


class VisitBundle(msgspec.Struct):
    """One visit as the phone shows it offline."""

    visit_id: uuid.UUID
    status: str
    window: Window
    planned_start: datetime | None
    work_order_id: uuid.UUID
    work_order_number: str
    work_type: str
    priority: str
    description: str
    requested_services: list[str]
    equipment: list[EquipmentItem]
    address: str
    location: Point
    access_notes: str | None
    customer: CustomerOnSite
    checklist: PinnedChecklist
    version: int


class DayBundle(msgspec.Struct):
    """The technician's visits in order, plus every checklist template they reference."""

    technician_id: uuid.UUID
    time_zone: str
    start: datetime
    end: datetime
    visits: list[VisitBundle]
    templates: dict[str, Any]
    etag: str
    # The phone downscales every photo to this longer side before hashing and uploading it.
    photo_max_side_px: int


OperationType = Literal[
    "en_route",
    "arrived",
    "checklist_answer",
    "photo_attached",
    "equipment_installed",
    "note",
    "outcome",
    "photo_removed",
    "photo_replaced",
]
OutcomeName = Literal[
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
]


class EnRoutePayload(msgspec.Struct, forbid_unknown_fields=True):
    """On my way, arriving at ``eta``."""

    eta: AwareDatetime


class ArrivedPayload(msgspec.Struct, forbid_unknown_fields=True):
    """At the site (the operation's location is required)."""


# The engine checks a value against its step's kind; the union only rules out shapes no kind has.
AnswerValue = Annotated[
    bool | int | float | str | list[SerialEntry] | None,
    msgspec.Meta(
        description=(
            "The answer, shaped by the step's kind (see the checklist template): "
            "`confirm` true; `yes_no` true or false; `choice` the option's value (string); "
            "`text` and `person_name` a non-blank string; `number` an integer or number within "
            "the step's min and max; `signature` the signature id (string); `serial` a list of "
            "{value, method: scanned|typed}; `photo` and `geo_check` null (their photos go in "
            "`photo_ids`, their position in the operation's `location`)."
        )
    ),
]


class AnswerPayload(msgspec.Struct, forbid_unknown_fields=True):
    """One checklist answer."""

    step_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    value: AnswerValue = None
    photo_ids: list[str] = []


class PhotoAttachedPayload(msgspec.Struct, forbid_unknown_fields=True):
    """A confirmed photo belongs to a step."""

    photo_id: uuid.UUID
    step_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class PhotoRemovedPayload(msgspec.Struct, forbid_unknown_fields=True):
    """Take a photo back before the act is frozen: its bytes are deleted, it no longer counts."""

    photo_id: uuid.UUID
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class PhotoReplacedPayload(msgspec.Struct, forbid_unknown_fields=True):
    """A confirmed photo takes another's place (in the answers too) before the act is frozen."""

    photo_id: uuid.UUID
    replacement_id: uuid.UUID


class InstalledItem(msgspec.Struct, forbid_unknown_fields=True):
    """Equipment left with the customer."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    method: Literal["scanned", "typed"] = "typed"
    model: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # Serial of the unit this one replaced (a repair); the act lists both.
    replaces_serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class EquipmentPayload(msgspec.Struct, forbid_unknown_fields=True):
    """Serials of installed equipment."""

    items: Annotated[list[InstalledItem], msgspec.Meta(min_length=1, max_length=100)]


class NotePayload(msgspec.Struct, forbid_unknown_fields=True):
    """A free-text note."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class OutcomePayload(msgspec.Struct, forbid_unknown_fields=True):
    """How the visit ended (or, for waiting_for_adult, where it stands).

    ``answers`` are the outcome's own checklist steps (e.g. why there was no access); they are
    validated under that outcome and stored only if the outcome is accepted.
    """

    outcome: OutcomeName
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    answers: Annotated[list[AnswerPayload], msgspec.Meta(max_length=20)] = []


class _Operation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    """What every operation recorded offline carries; ``type`` names its payload."""

    id: uuid.UUID
    visit_id: uuid.UUID
    device_time: AwareDatetime
    location: Location | None = None


class EnRouteOperation(_Operation, tag="en_route"):
    """The technician set off for the visit."""

    payload: EnRoutePayload


class ArrivedOperation(_Operation, tag="arrived"):
    """The technician is at the site; ``location`` is required."""

    payload: ArrivedPayload = msgspec.field(default_factory=ArrivedPayload)


class ChecklistAnswerOperation(_Operation, tag="checklist_answer"):
    """An answer to one checklist step."""

    payload: AnswerPayload


class PhotoAttachedOperation(_Operation, tag="photo_attached"):
    """A confirmed photo added to a photo step."""

    payload: PhotoAttachedPayload


class EquipmentInstalledOperation(_Operation, tag="equipment_installed"):
    """Equipment left with the customer."""

    payload: EquipmentPayload


class NoteOperation(_Operation, tag="note"):
    """A free-text note on the visit."""

    payload: NotePayload


class OutcomeOperation(_Operation, tag="outcome"):
    """How the visit ended."""

    payload: OutcomePayload


class PhotoRemovedOperation(_Operation, tag="photo_removed"):
    """A photo taken back before the act is frozen."""

    payload: PhotoRemovedPayload


class PhotoReplacedOperation(_Operation, tag="photo_replaced"):
    """A photo replaced by another before the act is frozen."""

    payload: PhotoReplacedPayload


Operation = (
    EnRouteOperation
    | ArrivedOperation
    | ChecklistAnswerOperation
    | PhotoAttachedOperation
    | EquipmentInstalledOperation
    | NoteOperation
    | OutcomeOperation
    | PhotoRemovedOperation
    | PhotoReplacedOperation
)
"""One operation recorded offline, tagged by ``type``: the contract's shape of every operation."""


def typed_operation(fields: dict[str, Any]) -> Operation:
    """Decode one operation's fields (its payload still plain JSON) into its typed struct.

    Raises ``msgspec.ValidationError`` when the payload does not fit its type: the sync protocol
    rejects that one operation, not the batch it came in.
    """
    operation: Operation = msgspec.convert(fields, Operation, from_attributes=True)
    return operation
