"""The offline sync protocol's rules: each operation applied at most once, in device order."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import BigInteger, Uuid, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from checklists import Location
from service.audit.services import audit_batch
from service.common.actor import Actor
from service.common.schemas import AwareDatetime
from service.db.base import utcnow
from service.db.driver import driver_connection
from service.db.models import SyncOperation, TechnicianChange, Visit
from service.db.models.visits import LIVE_STATUSES
from service.errors import Conflict, DomainError, NotFound, ValidationFailed
from service.execution import schemas
from service.execution.day_reads import VISITS_BY_ID, visit_bundle
from service.execution.photos import PhotoService
from service.execution.services import FieldworkService
from service.incidents.services import IncidentRouting
from service.observability.metrics import SYNC_OPERATIONS
from service.ratings.services import RatingLinks
from service.storage import BlobStore
from service.visit_checklists.registry import TemplateRegistry

MAX_CLOCK_SKEW = timedelta(hours=24)


class OperationIn(msgspec.Struct, forbid_unknown_fields=True):
    """One operation recorded offline, as it arrives.

    The payload stays plain JSON until the operation is applied, where it is decoded into its
    typed ``schemas.Operation``: a payload that does not fit is that operation's rejection, not
    the batch's. The contract (openapi.yaml) shows the typed union.
    """

    id: uuid.UUID
    type: schemas.OperationType
    visit_id: uuid.UUID
    device_time: AwareDatetime
    payload: dict[str, Any] = {}
    location: Location | None = None


class OperationResult(msgspec.Struct, omit_defaults=True):
    """What happened to one operation; a duplicate carries the original outcome."""

    id: uuid.UUID
    status: str  # applied | duplicate | rejected | conflict
    code: str | None = None
    message: str | None = None
    result: dict[str, Any] | None = None
    original_status: str | None = None


class Change(msgspec.Struct, omit_defaults=True):
    """A visit the phone must refresh, or drop when ``visit`` is absent."""

    kind: str
    visit_id: uuid.UUID
    visit: schemas.VisitBundle | None = None


class PullResult(msgspec.Struct):
    """Changes since the cursor, from one consistent snapshot."""

    cursor: str
    changes: list[Change]
    templates: dict[str, Any]


def _fingerprint(operation: OperationIn) -> str:
    return hashlib.sha256(msgspec.json.encode(operation, order="sorted")).hexdigest()


def _lock_key(operation_id: uuid.UUID) -> int:
    return int.from_bytes(operation_id.bytes[:8], "big", signed=True)


_LOCK_OPERATIONS = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM unnest(:keys) AS key"
).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))


def _ids_param(ids: list[uuid.UUID]) -> Any:
    """One array parameter: the same statement text (and prepared statement) for any batch size."""
    return bindparam("ids", sorted(set(ids)), type_=ARRAY(Uuid()))


# Operations whose handler checks everything before its only write, an insert the database has
# no reason to refuse (the visit is locked and live): they need no savepoint of their own.
_CHECKED_BEFORE_WRITING = frozenset({"note", "equipment_installed"})


def _outcome_of(exc: Exception) -> tuple[str, str, str]:
    """(status, code, message) of an operation that was not applied."""
    match exc:
        case msgspec.ValidationError():
            return "rejected", "invalid_payload", str(exc)
        case NotFound():
            return "rejected", "not_found", exc.detail
        case Conflict():
            return "conflict", exc.code or "conflict", exc.detail
        case DomainError():
            details = "".join(f"; {e.field}: {e.message}" for e in exc.errors or [])
            return "rejected", exc.code or "invalid", exc.detail + details
        case IntegrityError():
            return "conflict", "conflict", str(exc.orig).splitlines()[0]
    raise exc


class SyncService:
    """Applies pushed operations and answers pulls for the calling technician."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        registry: TemplateRegistry,
        *,
        rating_links: RatingLinks | None = None,
        store: BlobStore | None = None,
        incident_routing: IncidentRouting | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.registry = registry
        self.fieldwork = FieldworkService(
            session,
            actor,
            registry,
            rating_links=rating_links,
            incident_routing=incident_routing,
        )
        # Photo operations delete bytes; pulls need no store.
        self.store = store

    async def push(self, operations: list[OperationIn]) -> list[OperationResult]:
        """Apply a batch; each operation stands alone (one bad one does not lose the others).

        Set-wise: the batch's operation ids are locked and looked up in one statement each, its
        visits locked once, the new operation rows (and notes) inserted together at the end, and
        its audit entries appended as one batch.
        """
        if not operations:
            return []
        fingerprints = [_fingerprint(operation) for operation in operations]
        # Two deliveries of the same operation (a retry racing the original) queue here; sorted,
        # so two batches sharing operations never wait for each other in a cycle.
        await self.session.execute(
            _LOCK_OPERATIONS, {"keys": sorted({_lock_key(o.id) for o in operations})}
        )
        known: dict[uuid.UUID, SyncOperation] = {
            stored.id: stored
            for stored in await self.session.scalars(
                select(SyncOperation).where(
                    SyncOperation.id == any_(_ids_param([o.id for o in operations]))
                )
            )
        }
        await self.fieldwork.lock_visits({o.visit_id for o in operations if o.id not in known})
        results: dict[int, OperationResult] = {}
        async with audit_batch(self.session) as audit_queue:
            # Device order; the batch order breaks ties, so per-visit order is the phone's.
            for index in sorted(
                range(len(operations)), key=lambda i: (operations[i].device_time, i)
            ):
                operation, fingerprint = operations[index], fingerprints[index]
                stored = known.get(operation.id)
                if stored is not None:
                    results[index] = self._seen_before(operation, fingerprint, stored)
                    continue
                stored = await self._one(operation, fingerprint, audit_queue)
                known[operation.id] = stored
                results[index] = OperationResult(
                    id=operation.id,
                    status=stored.status,
                    code=stored.code,
                    message=stored.message,
                    result=stored.result,
                )
        await self.session.flush()
        for outcome in results.values():
            SYNC_OPERATIONS.labels(outcome.status).inc()
        return [results[i] for i in range(len(operations))]

    def _seen_before(
        self, operation: OperationIn, fingerprint: str, stored: SyncOperation
    ) -> OperationResult:
        """A duplicate carries the first outcome; the same id with other data is refused."""
        if stored.payload_sha256 != fingerprint or stored.technician_id != self.actor.technician_id:
            return OperationResult(
                id=operation.id,
                status="rejected",
                code="id_reused",
                message="This operation id was used for other data",
            )
        return OperationResult(
            id=operation.id,
            status="duplicate",
            code=stored.code,
            message=stored.message,
            result=stored.result,
            original_status=stored.status,
        )

    async def _one(
        self, operation: OperationIn, fingerprint: str, audit_queue: list[Any]
    ) -> SyncOperation:
        status, code, message, result = "applied", None, None, None
        queued = len(audit_queue)
        try:
            if operation.type in _CHECKED_BEFORE_WRITING:
                # Refused (if at all) before anything is written: no savepoint to pay for.
                result = await self._apply(operation)
            else:
                async with self.session.begin_nested():
                    result = await self._apply(operation)
        except (msgspec.ValidationError, DomainError, IntegrityError) as exc:
            # The operation's writes were rolled back with its savepoint: so are its entries,
            # and the visit it changed is read again by the next operation on it.
            del audit_queue[queued:]
            self.fieldwork.forget_visit(operation.visit_id)
            status, code, message = _outcome_of(exc)
        stored = SyncOperation(
            id=operation.id,
            technician_id=self.actor.technician_id,
            visit_id=operation.visit_id,
            type=operation.type,
            device_time=operation.device_time,
            payload_sha256=fingerprint,
            status=status,
            code=code,
            message=message,
            result=result,
        )
        self.session.add(stored)
        return stored

    async def _apply(self, operation: OperationIn) -> dict[str, Any]:
        if operation.device_time > utcnow() + MAX_CLOCK_SKEW:
            raise ValidationFailed("The device time is in the future", code="device_time")
        payload = schemas.typed_operation(msgspec.structs.asdict(operation)).payload
        visit = await self.fieldwork.own_visit(operation.visit_id)
        at = operation.device_time
        match payload:
            case schemas.EnRoutePayload(eta=eta):
                return await self.fieldwork.en_route(visit, eta, at)
            case schemas.ArrivedPayload():
                if operation.location is None:
                    raise ValidationFailed("Arrival needs the device location", code="no_location")
                return await self.fieldwork.arrive(visit, operation.location, at)
            case schemas.AnswerPayload():
                return await self.fieldwork.answer(
                    visit, payload, at, operation.location, operation.id
                )
            case schemas.PhotoAttachedPayload(photo_id=photo_id, step_id=step_id):
                answer = schemas.AnswerPayload(step_id=step_id, photo_ids=[str(photo_id)])
                return await self.fieldwork.answer(
                    visit, answer, at, operation.location, operation.id
                )
            case schemas.EquipmentPayload():
                return await self.fieldwork.equipment(visit, payload, at, operation.id)
            case schemas.NotePayload(text=note):
                return await self.fieldwork.note(visit, note, at, operation.id)
            case schemas.OutcomePayload():
                return await self.fieldwork.outcome(visit, payload, at)
            case schemas.PhotoRemovedPayload(photo_id=photo_id, reason=reason):
                return await self._photos().remove(visit, photo_id, reason, at)
            case schemas.PhotoReplacedPayload(photo_id=photo_id, replacement_id=replacement_id):
                return await self._photos().replace(visit, photo_id, replacement_id, at)
        raise ValidationFailed(f"Unknown operation {operation.type}", code="invalid_payload")

    def _photos(self) -> PhotoService:
        if self.store is None:
            raise RuntimeError("SyncService needs the blob store for photo operations")
        return PhotoService(self.session, self.actor, self.registry, self.store)

    async def pull(self, cursor: str | None) -> PullResult:
        """Everything changed for the caller since ``cursor``; the new cursor never goes back.

        The cursor is a transaction-id horizon: every transaction below it has finished, so no
        change committed later can carry a smaller one (a sequence number could).
        """
        if not self.session.in_transaction():
            # Over HTTP the route's SNAPSHOT opt has already begun it at REPEATABLE READ.
            await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        horizon = int(
            await self.session.scalar(
                text("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
            )
            or 0
        )
        since = _parse_cursor(cursor)
        rows = (
            await self.session.execute(
                select(TechnicianChange.kind, TechnicianChange.visit_id)
                .where(
                    (TechnicianChange.technician_id == self.actor.technician_id)
                    | TechnicianChange.technician_id.is_(None),
                    TechnicianChange.txid >= since,
                    TechnicianChange.txid < horizon,
                )
                .order_by(TechnicianChange.txid, TechnicianChange.id)
            )
        ).all()
        latest: dict[uuid.UUID, str] = {}
        templates_changed = since == 0
        for kind, visit_id in rows:
            if visit_id is None:
                templates_changed = True
            else:
                latest.pop(visit_id, None)
                latest[visit_id] = kind
        if since == 0:
            for visit_id in await self._live_visit_ids():
                latest.setdefault(visit_id, "visit.assigned")
        # The changed visits still the caller's, as bundles straight from rows: one statement
        # on the session's own connection (inside its snapshot), whatever their number.
        driver = await driver_connection(self.session)
        fresh = {
            row[0]: visit_bundle(row)
            for row in await driver.fetch(VISITS_BY_ID, list(latest), self.actor.technician_id)
        }
        changes = [
            Change(kind=kind, visit_id=visit_id, visit=fresh[visit_id])
            if visit_id in fresh
            else Change(
                kind="visit.removed" if kind == "visit.assigned" else kind, visit_id=visit_id
            )
            for visit_id, kind in latest.items()
        ]
        pins = {(c.visit.checklist.key, c.visit.checklist.version) for c in changes if c.visit}
        templates: dict[str, Any] = {}
        if templates_changed or pins:
            # Encoded bytes per key@version from the registry's cache (they never change).
            templates = dict(await self.registry.encoded(self.session, pins))
        return PullResult(cursor=str(horizon), changes=changes, templates=templates)

    async def _live_visit_ids(self) -> list[uuid.UUID]:
        now = utcnow()
        return list(
            (
                await self.session.scalars(
                    select(Visit.id).where(
                        Visit.technician_id == self.actor.technician_id,
                        Visit.status.in_(LIVE_STATUSES),
                        Visit.agreed_window.op("&&")(
                            func.tstzrange(now - timedelta(days=1), now + timedelta(days=8))
                        ),
                    )
                )
            ).all()
        )


def _parse_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 20:
        raise ValidationFailed("The cursor is not one this API issued", code="invalid_cursor")
    return int(cursor)
