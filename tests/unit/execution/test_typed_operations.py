"""Sync operations decode, one at a time, into the typed union the contract shows."""

from __future__ import annotations

import typing
import uuid
from typing import Any

import msgspec
import pytest

from service.execution import schemas
from service.execution.sync import OperationIn

VISIT = str(uuid.uuid4())


def wire(kind: str, payload: dict[str, Any] | None = None, **extra: Any) -> bytes:
    """One operation exactly as the phone sends it."""
    body = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "visit_id": VISIT,
        "device_time": "2026-03-03T11:30:00+05:00",
        **({"payload": payload} if payload is not None else {}),
        **extra,
    }
    return msgspec.json.encode(body)


def typed(raw: bytes) -> schemas.Operation:
    envelope = msgspec.json.decode(raw, type=OperationIn)
    return schemas.typed_operation(msgspec.structs.asdict(envelope))


def test_every_operation_type_has_exactly_one_typed_struct() -> None:
    tags = {member.__struct_config__.tag: member for member in typing.get_args(schemas.Operation)}
    assert set(tags) == set(typing.get_args(schemas.OperationType))
    assert len(tags) == len(typing.get_args(schemas.Operation))


@pytest.mark.parametrize(
    ("raw", "struct", "payload"),
    [
        (
            wire("en_route", {"eta": "2026-03-03T12:00:00+05:00"}),
            schemas.EnRouteOperation,
            schemas.EnRoutePayload,
        ),
        # Arrival carries no payload at all on the wire; the location is the operation's.
        (
            wire("arrived", location={"lat": 43.2, "lon": 76.9, "accuracy_m": 5}),
            schemas.ArrivedOperation,
            schemas.ArrivedPayload,
        ),
        (
            wire("checklist_answer", {"step_id": "meter", "value": 12.5}),
            schemas.ChecklistAnswerOperation,
            schemas.AnswerPayload,
        ),
        (
            wire(
                "checklist_answer",
                {"step_id": "serials", "value": [{"value": "SN1", "method": "scanned"}]},
            ),
            schemas.ChecklistAnswerOperation,
            schemas.AnswerPayload,
        ),
        (
            wire("photo_attached", {"photo_id": str(uuid.uuid4()), "step_id": "meter_photo"}),
            schemas.PhotoAttachedOperation,
            schemas.PhotoAttachedPayload,
        ),
        (
            wire("equipment_installed", {"items": [{"name": "Router", "serial": "R1"}]}),
            schemas.EquipmentInstalledOperation,
            schemas.EquipmentPayload,
        ),
        (wire("note", {"text": "Собака во дворе"}), schemas.NoteOperation, schemas.NotePayload),
        (
            wire("outcome", {"outcome": "no_access", "reason": "Никого нет"}),
            schemas.OutcomeOperation,
            schemas.OutcomePayload,
        ),
        (
            wire("photo_removed", {"photo_id": str(uuid.uuid4())}),
            schemas.PhotoRemovedOperation,
            schemas.PhotoRemovedPayload,
        ),
        (
            wire(
                "photo_replaced",
                {"photo_id": str(uuid.uuid4()), "replacement_id": str(uuid.uuid4())},
            ),
            schemas.PhotoReplacedOperation,
            schemas.PhotoReplacedPayload,
        ),
    ],
)
def test_the_phones_wire_format_decodes_into_its_typed_struct(
    raw: bytes, struct: type, payload: type
) -> None:
    operation = typed(raw)
    assert type(operation) is struct
    assert type(operation.payload) is payload
    assert str(operation.visit_id) == VISIT


def test_serial_answers_become_serial_entries() -> None:
    operation = typed(
        wire("checklist_answer", {"step_id": "s", "value": [{"value": "A1", "method": "typed"}]})
    )
    assert isinstance(operation, schemas.ChecklistAnswerOperation)
    assert isinstance(operation.payload.value, list)
    [entry] = operation.payload.value
    assert (entry.value, entry.method) == ("A1", "typed")


@pytest.mark.parametrize(
    "raw",
    [
        wire("note", {"txt": "typo"}),  # unknown field
        wire("note"),  # no payload where one is needed
        wire("en_route", {"eta": "2026-03-03T12:00:00"}),  # naive time
        wire("photo_removed", {"photo_id": "not-a-uuid"}),
        wire("checklist_answer", {"step_id": "s", "value": {"a": 1}}),  # no step kind's shape
        wire("checklist_answer", {"step_id": "s", "value": [{"value": "A1"}]}),  # no method
    ],
)
def test_a_payload_that_does_not_fit_fails_alone(raw: bytes) -> None:
    # The envelope still decodes: the batch is fine, only this operation is rejected.
    msgspec.json.decode(raw, type=OperationIn)
    with pytest.raises(msgspec.ValidationError):
        typed(raw)


def test_an_unknown_type_is_an_envelope_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(wire("dance", {}), type=OperationIn)
