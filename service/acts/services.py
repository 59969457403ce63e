"""Act rules: drafts with gapless numbers, signing (render, store, seal), scope, verification.

Storage of the PDFs: the signed PDF is rendered deterministically from the snapshot and the
signatures and stored under ``acts/<act id>/<sha256>.pdf``. When a seal is configured, the
sealed PDF is stored *as well*, under its own content address, and the act becomes ``sealed``.
Both files stay: the signed one can be re-rendered byte for byte from the database at any time,
the sealed one carries the issuer's PAdES signature. ``GET /acts/{id}/pdf`` serves the sealed
file when there is one; verification accepts either.

A PDF is stored before the transaction commits. If the transaction then rolls back, the object
stays unreferenced under the act's prefix (it cannot be deleted under Object Lock anyway); a
retried signing renders the same bytes and lands on the same key.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast
from zoneinfo import ZoneInfo

import anyio.to_thread
import msgspec
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import ColumnElement, Select, exists, func, literal_column, or_, select, true
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

import reports
from reports.errors import FontNotFound, InvalidAsset, InvalidSnapshot, ReportError, SealError
from reports.i18n import work_type_name
from reports.render import NO_ASSETS
from reports.snapshot import revalidate_signatures, revalidate_snapshot
from service.acts import schemas
from service.acts.content import equipment_lines
from service.acts.numbering import next_number, prefix_for
from service.acts.sealing import SealConfigError, Sealer, load_sealer
from service.acts.verification import (
    MAX_UPLOAD_BYTES,
    NotAPdf,
    PdfClaims,
    initials,
    inspect_pdf,
    is_public_id,
    public_view,
    verify_url,
)
from service.audit.services import record
from service.common.actor import Actor, Role
from service.common.pagination import keyset_page, split_page
from service.common.params import CurrentActor, DbSession
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import (
    Act,
    AuditEntry,
    Customer,
    CustomerLink,
    Photo,
    Site,
    Technician,
    Territory,
    Visit,
    WorkOrder,
)
from service.db.models.acts import IMMUTABLE_MARKER
from service.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from service.scheduling.services import VisitService
from service.settings import Settings
from service.storage import (
    BlobStore,
    StorageError,
    act_key,
    act_retain_until,
    provide_blob_store,
    verify_blob,
)
from service.storage import IntegrityError as StorageIntegrityError

logger = logging.getLogger("naryad.acts")

PDF_CONTENT_TYPE = "application/pdf"
# Placeholders snapshot_for() leaves for create_draft() to fill in.
DRAFT_NUMBER = "DRAFT"
DRAFT_PUBLIC_ID = "pending"
# Visits that have reached the customer: acts are drawn up on site or right after.
DRAFTABLE_VISITS = ("on_site", "completed")
WRITERS = frozenset({Role.TECHNICIAN, Role.ADMIN})
_SEALER_STATE_KEY = "act_sealer"


class ActStorageFailed(DomainError):
    """The blob store did not keep the act's PDF intact; nothing was referenced."""

    status_code = 503
    title = "Storage failed"
    type_slug = "storage-failed"


@dataclass(frozen=True, slots=True)
class StoredPdf:
    """A PDF the blob store holds intact (we hashed it back)."""

    key: str
    sha256: str
    size: int


class ActFilters(msgspec.Struct, frozen=True):
    """List filters, combined with AND."""

    work_order_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    status: str | None = None


def scope_condition(actor: Actor) -> ColumnElement[bool]:
    """Technicians see acts of their own visits; staff acts of their territories' orders."""
    if actor.role is Role.TECHNICIAN:
        return exists().where(Visit.id == Act.visit_id, Visit.technician_id == actor.technician_id)
    if actor.is_admin:
        return true()
    return exists().where(
        WorkOrder.id == Act.work_order_id, territory_condition(actor, WorkOrder.territory_id)
    )


def act_schema(act: Act, base_url: str) -> schemas.Act:
    """Model to API schema (with the snapshot exactly as stored)."""
    return schemas.Act(
        id=act.id,
        public_id=act.public_id,
        kind=cast("schemas.ActKind", act.kind),
        number=act.number,
        status=cast("schemas.ActStatus", act.status),
        visit_id=act.visit_id,
        work_order_id=act.work_order_id,
        language=act.language,
        act_date=act.act_date,
        verify_url=verify_url(base_url, act.public_id),
        snapshot_sha256=act.snapshot_sha256,
        pdf_sha256=act.pdf_sha256,
        pdf_size=act.pdf_size,
        sealed_pdf_sha256=act.sealed_pdf_sha256,
        sealed_pdf_size=act.sealed_pdf_size,
        signed_at=act.signed_at,
        sealed_at=act.sealed_at,
        seal_signer=act.seal_signer,
        retain_until=act.retain_until,
        audit_hash=act.audit_hash,
        created_at=act.created_at,
        updated_at=act.updated_at,
        snapshot=msgspec.json.decode(act.snapshot_json),
    )


def act_summary(act: Act) -> schemas.ActSummary:
    """Model to list item."""
    return schemas.ActSummary(
        id=act.id,
        public_id=act.public_id,
        kind=cast("schemas.ActKind", act.kind),
        number=act.number,
        status=cast("schemas.ActStatus", act.status),
        visit_id=act.visit_id,
        work_order_id=act.work_order_id,
        act_date=act.act_date,
        snapshot_sha256=act.snapshot_sha256,
        pdf_sha256=act.pdf_sha256,
        sealed_pdf_sha256=act.sealed_pdf_sha256,
        signed_at=act.signed_at,
        created_at=act.created_at,
    )


def etag_for(act: Act) -> str:
    """Strong ETag: an act changes only by moving along draft -> signed -> sealed."""
    return f'"{act.status}-{(act.audit_hash or act.snapshot_sha256)[:16]}"'


def sealer_from_state(state: State) -> Sealer | None:
    """The configured seal, loaded on first use and kept on ``app.state``."""
    missing = object()
    cached = state.get(_SEALER_STATE_KEY, missing)
    if cached is missing:
        settings: Settings = state.settings
        try:
            cached = load_sealer(settings.seal)
        except SealConfigError as exc:
            # Reading acts must not fail over the seal: acts are signed unsealed (and can be
            # sealed later with ActService.seal) until the configuration is fixed.
            logger.error("acts will not be sealed: %s", exc)
            cached = None
        state[_SEALER_STATE_KEY] = cached
    return cast("Sealer | None", cached)


def _checked_signatures(signatures: Sequence[reports.Signature]) -> tuple[reports.Signature, ...]:
    """Signatures revalidated as the renderer will read them; the customer's is required."""
    try:
        checked = tuple(revalidate_signatures(signatures))
    except ReportError as exc:
        raise _invalid(exc, "signatures") from exc
    if not any(s.role == "customer" for s in checked):
        raise ValidationFailed(
            "The customer's signature is required",
            errors=[FieldError(field="signatures", message="no customer signature")],
            code="customer_signature_required",
        )
    return checked


def _invalid(exc: ReportError, default_field: str) -> ValidationFailed:
    field = getattr(exc, "field", None) or default_field
    if isinstance(exc, InvalidAsset):
        field = exc.used_by
    return ValidationFailed(str(exc), errors=[FieldError(field=field, message=str(exc))])


def _works_performed(order: WorkOrder, language: reports.Language) -> tuple[str, ...]:
    """The kind of work done, for each service the order named (an act never lists none).

    A repair order names the service that failed ("Низкая скорость"): alone, that reads as if
    the symptom were the work, so each line says what kind of work it was.
    """
    name = work_type_name(cast("reports.WorkType", order.type), language)
    kind = name[:1].upper() + name[1:]
    return tuple(f"{kind}: {service}"[:2000] for service in order.requested_services) or (kind,)


async def photo_keys(session: AsyncSession, act: Act) -> dict[str, str]:
    """The storage keys of the stored photos the act's snapshot shows, keyed by SHA-256.

    A photo the snapshot names but no stored photo of the visit holds is absent from the map.
    """
    snapshot = reports.parse_snapshot(act.snapshot_json)
    wanted = {photo.sha256 for photo in snapshot.photos}
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(Photo.sha256, Photo.object_key).where(
                Photo.visit_id == act.visit_id,
                Photo.status == "stored",
                Photo.sha256.in_(wanted),
            )
        )
    ).all()
    return dict(rows)


class ActService:
    """Drafting, signing, sealing, reading and verifying acts.

    ``create_draft`` and ``sign`` are for the technician of the visit (and admins); reads follow
    the work-order scope rules; ``verify_pdf`` is open to every role.
    """

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        settings: Settings,
        blob_store: BlobStore,
        sealer: Sealer | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.settings = settings
        self.blob_store = blob_store
        self.sealer = sealer

    @classmethod
    def from_state(cls, session: AsyncSession, actor: Actor, state: State) -> ActService:
        """A service wired to the app's settings, blob store and seal."""
        return cls(
            session,
            actor,
            settings=state.settings,
            blob_store=provide_blob_store(state),
            sealer=sealer_from_state(state),
        )

    @property
    def base_url(self) -> str:
        """Where the public verification pages live."""
        return self.settings.server.public_base_url

    # Reading

    def _scoped(self) -> Select[Act]:
        return select(Act).where(scope_condition(self.actor))

    async def get(self, act_id: uuid.UUID, *, for_update: bool = False) -> Act:
        """One act in scope, or NotFound."""
        stmt = self._scoped().where(Act.id == act_id)
        if for_update:
            # populate_existing: a row this session read before the lock may have changed since
            # (a redraft, a signature); what we decide on must be what is locked.
            stmt = stmt.with_for_update(of=Act).execution_options(populate_existing=True)
        act = await self.session.scalar(stmt)
        if act is None:
            raise NotFound("Act not found")
        return act

    async def page(self, filters: ActFilters, cursor: str | None, limit: int) -> schemas.ActPage:
        """Acts in scope matching the filters, newest first (keyset pages)."""
        stmt = self._scoped()
        if filters.work_order_id:
            stmt = stmt.where(Act.work_order_id == filters.work_order_id)
        if filters.visit_id:
            stmt = stmt.where(Act.visit_id == filters.visit_id)
        if filters.status:
            stmt = stmt.where(Act.status == filters.status)
        rows = (await self.session.scalars(keyset_page(stmt, Act, cursor, limit))).all()
        items, next_cursor = split_page(rows, limit, lambda a: (a.created_at, a.id))
        return schemas.ActPage(items=[act_summary(a) for a in items], next_cursor=next_cursor)

    async def pdf_url(self, act_id: uuid.UUID) -> str:
        """A short-lived download URL of the act's final PDF (the sealed one when sealed)."""
        act = await self.get(act_id)
        key = act.sealed_pdf_key or act.pdf_key
        if key is None and act.status == "signed":
            raise Conflict("The act is signed; its PDF is being prepared", code="pdf_pending")
        if key is None:
            raise Conflict("The act has not been signed yet; it has no PDF", code="act_not_signed")
        return await self.blob_store.presign_get(key, filename=f"{act.number}.pdf")

    # Drafting

    def _require_writer(self) -> None:
        if self.actor.role not in WRITERS:
            raise Forbidden(f"The {self.actor.role.value} role may not draw up or sign acts")

    async def snapshot_for(
        self,
        visit_id: uuid.UUID,
        *,
        kind: reports.ActKind = "completion",
        acceptor_name: str | None = None,
        works_performed: Sequence[str] | None = None,
        equipment: Sequence[reports.EquipmentLine] | None = None,
        checklist: Sequence[reports.ChecklistEntry] = (),
        photos: Sequence[reports.Photo] = (),
        customer_remarks: str = "",
        arrived_at: datetime | None = None,
        finished_at: datetime | None = None,
        employee_no: str | None = None,
        place: str | None = None,
    ) -> reports.ActSnapshot:
        """Assemble a version 2 act snapshot of a visit from the database and issuer settings.

        The act number and verify URL are placeholders that ``create_draft`` fills in. Times
        are on the site territory's clock, which the act names; the language is the
        customer's. The contractor's side is confirmed by the seal statement.
        """
        visit = await VisitService(self.session, self.actor).get(visit_id)
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        site = await self.session.get_one(Site, order.site_id)
        technician = await self.session.get_one(Technician, visit.technician_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        zone = ZoneInfo(territory.time_zone)
        window = visit.agreed_window
        assert window.lower is not None
        assert window.upper is not None
        finished = (finished_at or visit.finished_at or utcnow()).astimezone(zone)
        arrived = (arrived_at or visit.arrived_at or min(window.lower, finished)).astimezone(zone)
        issuer = self.settings.issuer
        language = cast("reports.Language", customer.preferred_language)
        return reports.ActSnapshot(
            version=2,
            time_zone=territory.time_zone,
            # Only a configured seal may be promised on the act.
            contractor_signature=(
                "seal_statement" if self.sealer is not None else "contractor_statement"
            ),
            act_number=DRAFT_NUMBER,
            kind=kind,
            language=language,
            place=place or issuer.place or territory.name,
            act_date=finished.date(),
            issuer=reports.Issuer(
                legal_name=issuer.legal_name,
                tax_id=issuer.tax_id,
                tax_id_kind=issuer.tax_id_kind,
                address=issuer.address,
                phone=issuer.phone,
            ),
            work_order=reports.WorkOrder(
                number=order.number,
                type=cast("reports.WorkType", order.type),
                requested_services=tuple(order.requested_services),
                description=(order.description or "").strip()[:2000],
            ),
            customer=reports.Customer(name=customer.full_name, phones=tuple(customer.phones[:5])),
            acceptor=reports.Acceptor(name=acceptor_name or customer.full_name),
            site=reports.Site(address=site.address),
            technician=reports.Technician(
                name=technician.full_name,
                # A dash, never an invented number, for a technician recorded without one.
                employee_no=employee_no or technician.personnel_no or "—",
            ),
            agreed_window=reports.TimeWindow(
                start=window.lower.astimezone(zone), end=window.upper.astimezone(zone)
            ),
            arrived_at=min(arrived, finished),
            finished_at=finished,
            works_performed=tuple(
                _works_performed(order, language) if works_performed is None else works_performed
            ),
            equipment=(
                equipment_lines(
                    order_items=order.equipment,
                    installed=(),
                    checklist_serials=(),
                    language=language,
                )
                if equipment is None
                else tuple(equipment)
            ),
            checklist=tuple(checklist),
            photos=tuple(photos),
            customer_remarks=customer_remarks,
            verify_url=verify_url(self.base_url, DRAFT_PUBLIC_ID),
        )

    async def create_draft(self, visit_id: uuid.UUID, snapshot: reports.ActSnapshot) -> Act:
        """Open (or, for a retry, refresh) the visit's draft act of the snapshot's kind.

        The act takes the next number of its issuer's series for the act year and an
        unguessable public id; both replace the snapshot's ``act_number`` and ``verify_url``.
        A draft that already exists keeps its number and takes the new content; a signed act of
        that kind is a 409.
        """
        self._require_writer()
        visit = await VisitService(self.session, self.actor).get(visit_id, for_update=True)
        if visit.status not in DRAFTABLE_VISITS:
            raise Conflict(
                f"A {visit.status} visit has no act yet: the technician must be on site",
                code="visit_not_on_site",
            )
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        if snapshot.work_order.number != order.number:
            raise ValidationFailed(
                "The snapshot names another work order",
                errors=[
                    FieldError(field="snapshot.work_order.number", message="not this visit's order")
                ],
            )
        existing = await self.session.scalar(
            select(Act).where(Act.visit_id == visit.id, Act.kind == snapshot.kind).with_for_update()
        )
        if existing is not None:
            return await self._refresh_draft(existing, snapshot)
        number = await next_number(
            self.session,
            issuer_tax_id=snapshot.issuer.tax_id,
            prefix=prefix_for(self.settings.issuer, snapshot.kind),
            kind=snapshot.kind,
            year=snapshot.act_date.year,
        )
        public_id = secrets.token_urlsafe(16)
        final = self._finalise(snapshot, number.text, public_id)
        canonical = reports.canonical_json(final)
        act = Act(
            id=uuid.uuid4(),
            visit_id=visit.id,
            work_order_id=order.id,
            kind=final.kind,
            status="draft",
            issuer_tax_id=number.issuer_tax_id,
            year=number.year,
            sequence=number.sequence,
            number=number.text,
            public_id=public_id,
            created_by=self.actor.user_id,
            **self._content_fields(final, canonical),
        )
        entry = await record(
            self.session,
            self.actor,
            "act.drafted",
            "act",
            act.id,
            after={
                "number": act.number,
                "kind": act.kind,
                "visit_id": act.visit_id,
                "work_order_id": act.work_order_id,
                "public_id": act.public_id,
                "snapshot_sha256": act.snapshot_sha256,
            },
        )
        act.audit_hash = entry.hash
        self.session.add(act)
        await self._flush()
        return act

    async def update_draft(self, act_id: uuid.UUID, snapshot: reports.ActSnapshot) -> Act:
        """Replace a draft's content (same number and public id); a signed act is a 409."""
        self._require_writer()
        act = await self.get(act_id, for_update=True)
        return await self._refresh_draft(act, snapshot)

    async def _refresh_draft(self, act: Act, snapshot: reports.ActSnapshot) -> Act:
        if act.status != "draft":
            raise Conflict(
                f"Act {act.number} is {act.status}; a signed act cannot be changed",
                code="act_signed",
            )
        if snapshot.kind != act.kind:
            raise ValidationFailed(
                "An act cannot change its kind",
                errors=[FieldError(field="snapshot.kind", message=f"must be {act.kind}")],
            )
        final = self._finalise(snapshot, act.number, act.public_id)
        canonical = reports.canonical_json(final)
        fields = self._content_fields(final, canonical)
        if fields["snapshot_sha256"] == act.snapshot_sha256:
            return act
        entry = await record(
            self.session,
            self.actor,
            "act.redrafted",
            "act",
            act.id,
            before={"snapshot_sha256": act.snapshot_sha256},
            after={"number": act.number, "snapshot_sha256": fields["snapshot_sha256"]},
        )
        for name, value in fields.items():
            setattr(act, name, value)
        act.audit_hash = entry.hash
        await self._flush()
        return act

    def _finalise(
        self, snapshot: reports.ActSnapshot, number: str, public_id: str
    ) -> reports.ActSnapshot:
        try:
            checked = revalidate_snapshot(
                msgspec.structs.replace(
                    snapshot,
                    act_number=number,
                    verify_url=verify_url(self.base_url, public_id),
                )
            )
        except InvalidSnapshot as exc:
            raise _invalid(exc, "snapshot") from exc
        # An emoji typed on a phone must not make the act impossible to render at signing.
        return reports.printable_snapshot(checked)

    @staticmethod
    def _content_fields(snapshot: reports.ActSnapshot, canonical: bytes) -> dict[str, Any]:
        return {
            "language": snapshot.language,
            "act_date": snapshot.act_date,
            "issuer_name": snapshot.issuer.legal_name,
            "issuer_tax_id_kind": snapshot.issuer.tax_id_kind,
            "customer_initials": initials(snapshot.customer.name),
            "technician_initials": initials(snapshot.technician.name),
            "snapshot_json": canonical.decode("utf-8"),
            "snapshot_sha256": hashlib.sha256(canonical).hexdigest(),
        }

    # Signing and sealing

    def stored_snapshot(self, act: Act) -> reports.ActSnapshot:
        """The act's snapshot, checked against its stored SHA-256."""
        raw = act.snapshot_json.encode("utf-8")
        if hashlib.sha256(raw).hexdigest() != act.snapshot_sha256:
            raise RuntimeError(f"act {act.id}: stored snapshot does not match its SHA-256")
        return reports.parse_snapshot(raw)

    async def _render(
        self,
        snapshot: reports.ActSnapshot,
        signatures: Sequence[reports.Signature],
        assets: Mapping[str, bytes],
    ) -> bytes:
        # reportlab is CPU-bound for tens to hundreds of milliseconds: keep it off the loop.
        work = partial(reports.render_act, snapshot, signatures=signatures, assets=assets)
        try:
            return await anyio.to_thread.run_sync(work)
        except FontNotFound:
            raise
        except ReportError as exc:
            raise _invalid(exc, "signatures") from exc

    async def sign(
        self,
        act_id: uuid.UUID,
        signatures: Sequence[reports.Signature],
        assets: Mapping[str, bytes] = NO_ASSETS,
    ) -> Act:
        """Render the signed PDF, store it (SHA-256 checked by us), mark the act signed, seal it.

        ``signatures`` must include the customer's and be made over the act's snapshot hash;
        ``assets`` are the image bytes (signature images, photos) keyed by their SHA-256.
        A seal failure is logged and leaves the act signed (``seal`` can be retried).
        """
        self._require_writer()
        act = await self.get(act_id, for_update=True)
        if act.status != "draft":
            raise Conflict(
                f"Act {act.number} is already {act.status}; a signed act cannot be changed",
                code="act_signed",
            )
        checked = _checked_signatures(signatures)
        pdf = await self._render(self.stored_snapshot(act), checked, assets)
        retain_until = act_retain_until(self.settings.storage)
        stored = await self._store(act, pdf, retain_until)
        # Seal before touching the audit chain: its lock is held until commit, and sealing
        # and storing take far longer than the two audited updates below.
        sealed: StoredPdf | None = None
        if self.sealer is not None:
            try:
                sealed = await self._sealed_copy(act, pdf, self.sealer, retain_until)
            except (SealError, ActStorageFailed):
                logger.warning("act %s signed but not sealed: the seal failed", act.id)
        signatures_json = msgspec.json.encode(checked, order="sorted").decode("utf-8")
        pdf_fields = {"pdf_key": stored.key, "pdf_sha256": stored.sha256, "pdf_size": stored.size}
        entry = await self._record_signed(act, checked, signatures_json, pdf_fields)
        act.status = "signed"
        act.signatures_json = signatures_json
        act.pdf_key = stored.key
        act.pdf_sha256 = stored.sha256
        act.pdf_size = stored.size
        act.retain_until = retain_until
        act.signed_at = utcnow()
        act.signed_by = self.actor.user_id
        act.audit_hash = entry.hash
        await self._flush()
        if sealed is not None and self.sealer is not None:
            await self._mark_sealed(act, sealed, self.sealer)
        return act

    async def record_signatures(
        self, act_id: uuid.UUID, signatures: Sequence[reports.Signature]
    ) -> Act:
        """Mark the act signed with these signatures; its PDF is rendered afterwards.

        Everything the signature binds (the snapshot, its hash, the signatures) is stored in
        the caller's transaction; ``render_signed`` (the worker) adds the PDF and the seal.
        """
        self._require_writer()
        act = await self.get(act_id, for_update=True)
        if act.status != "draft":
            raise Conflict(
                f"Act {act.number} is already {act.status}; a signed act cannot be changed",
                code="act_signed",
            )
        checked = _checked_signatures(signatures)
        self.stored_snapshot(act)  # refuses a snapshot that no longer matches its hash
        signatures_json = msgspec.json.encode(checked, order="sorted").decode("utf-8")
        entry = await self._record_signed(act, checked, signatures_json, {"pdf": "pending"})
        act.status = "signed"
        act.signatures_json = signatures_json
        act.retain_until = act_retain_until(self.settings.storage)
        act.signed_at = utcnow()
        act.signed_by = self.actor.user_id
        act.audit_hash = entry.hash
        await self._flush()
        return act

    async def _record_signed(
        self,
        act: Act,
        checked: Sequence[reports.Signature],
        signatures_json: str,
        pdf_fields: dict[str, object],
    ) -> AuditEntry:
        """The audit entry of a signing: what the signatures bind, and the PDF (or its absence)."""
        return await record(
            self.session,
            self.actor,
            "act.signed",
            "act",
            act.id,
            before={"status": act.status},
            after={
                "status": "signed",
                "number": act.number,
                "snapshot_sha256": act.snapshot_sha256,
                "signatures_sha256": hashlib.sha256(signatures_json.encode()).hexdigest(),
                "signers": sorted(s.role for s in checked),
                **pdf_fields,
            },
        )

    async def render_signed(self, act: Act, assets: Mapping[str, bytes] = NO_ASSETS) -> Act:
        """Render, store and seal the PDF of an act signed without one (``act`` is locked)."""
        if act.status != "signed" or act.pdf_key is not None or act.signatures_json is None:
            return act
        signatures = reports.parse_signatures(act.signatures_json)
        pdf = await self._render(self.stored_snapshot(act), signatures, assets)
        stored = await self._store(act, pdf, act.retain_until)
        sealed: StoredPdf | None = None
        if self.sealer is not None:
            try:
                sealed = await self._sealed_copy(act, pdf, self.sealer, act.retain_until)
            except (SealError, ActStorageFailed):
                logger.warning("act %s rendered but not sealed: the seal failed", act.id)
        entry = await record(
            self.session,
            self.actor,
            "act.rendered",
            "act",
            act.id,
            before={"status": act.status, "pdf": "pending"},
            after={
                "status": act.status,
                "number": act.number,
                "snapshot_sha256": act.snapshot_sha256,
                "pdf_key": stored.key,
                "pdf_sha256": stored.sha256,
                "pdf_size": stored.size,
            },
        )
        act.pdf_key = stored.key
        act.pdf_sha256 = stored.sha256
        act.pdf_size = stored.size
        act.audit_hash = entry.hash
        await self._flush()
        if sealed is not None and self.sealer is not None:
            await self._mark_sealed(act, sealed, self.sealer)
        return act

    async def photo_assets(self, act: Act) -> dict[str, bytes]:
        """The bytes of the photos the act's snapshot shows, keyed by their SHA-256."""
        keys = await photo_keys(self.session, act)
        return {sha: await self.blob_store.get(key) for sha, key in keys.items()}

    async def seal(self, act_id: uuid.UUID) -> Act:
        """Seal a signed act that was signed while no seal was configured (or sealing failed)."""
        self._require_writer()
        if self.sealer is None:
            raise Conflict("No seal certificate is configured", code="seal_not_configured")
        act = await self.get(act_id, for_update=True)
        if act.status != "signed" or act.pdf_key is None:
            raise Conflict(f"Act {act.number} is {act.status}, not signed", code="not_sealable")
        pdf = await self.blob_store.get(act.pdf_key)
        if hashlib.sha256(pdf).hexdigest() != act.pdf_sha256:
            raise ActStorageFailed("The stored PDF does not match its SHA-256", code="pdf_corrupt")
        try:
            sealed = await self._sealed_copy(act, pdf, self.sealer, act.retain_until)
        except SealError as exc:
            raise Conflict(f"The seal failed: {exc}", code="seal_failed") from exc
        await self._mark_sealed(act, sealed, self.sealer)
        return act

    async def _sealed_copy(
        self, act: Act, pdf: bytes, sealer: Sealer, retain_until: datetime | None
    ) -> StoredPdf:
        sealed = await sealer.seal(pdf, reason=f"{act.number} sha256:{act.snapshot_sha256}")
        return await self._store(act, sealed, retain_until)

    async def _mark_sealed(self, act: Act, sealed: StoredPdf, sealer: Sealer) -> None:
        entry = await record(
            self.session,
            self.actor,
            "act.sealed",
            "act",
            act.id,
            before={"status": act.status},
            after={
                "status": "sealed",
                "number": act.number,
                "snapshot_sha256": act.snapshot_sha256,
                "pdf_sha256": act.pdf_sha256,
                "sealed_pdf_key": sealed.key,
                "sealed_pdf_sha256": sealed.sha256,
                "sealed_pdf_size": sealed.size,
                "signer": sealer.signer_name,
            },
        )
        act.status = "sealed"
        act.sealed_pdf_key = sealed.key
        act.sealed_pdf_sha256 = sealed.sha256
        act.sealed_pdf_size = sealed.size
        act.sealed_at = utcnow()
        act.seal_signer = sealer.signer_name
        act.audit_hash = entry.hash
        await self._flush()

    async def _store(self, act: Act, pdf: bytes, retain_until: datetime | None) -> StoredPdf:
        """Put the PDF and read it back through our own hash; raise before referencing it."""
        sha256 = hashlib.sha256(pdf).hexdigest()
        key = act_key(act.id, sha256)
        try:
            await self.blob_store.put(
                key,
                pdf,
                content_type=PDF_CONTENT_TYPE,
                sha256_hex=sha256,
                retain_until=retain_until,
            )
            # S3 emulators accept any declared checksum: the digest that counts is ours.
            try:
                await verify_blob(self.blob_store, key, size=len(pdf), sha256_hex=sha256)
            except StorageIntegrityError:
                await self._discard(key)
                raise
        except StorageError as exc:
            logger.error("act %s: PDF not stored intact under %s: %s", act.id, key, exc)
            raise ActStorageFailed(
                "The act's PDF could not be stored intact; nothing was recorded",
                code="storage_integrity",
            ) from exc
        return StoredPdf(key=key, sha256=sha256, size=len(pdf))

    async def _discard(self, key: str) -> None:
        try:
            await self.blob_store.delete(key)
        except StorageError:
            # Under Object Lock it stays until retention ends; it is never referenced.
            logger.warning("could not delete the unverified act PDF %s", key)

    async def rerender(self, act_id: uuid.UUID, assets: Mapping[str, bytes] = NO_ASSETS) -> bytes:
        """Render a signed act again from its stored snapshot and signatures (same bytes)."""
        act = await self.get(act_id)
        if act.signatures_json is None:
            raise Conflict("The act has not been signed yet", code="act_not_signed")
        signatures = reports.parse_signatures(act.signatures_json)
        return await self._render(self.stored_snapshot(act), signatures, assets)

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except DatabaseIntegrityError as exc:
            if IMMUTABLE_MARKER in str(exc):
                raise Conflict("A signed act cannot be changed", code="act_signed") from exc
            if "uq_acts_visit_kind" in str(exc):
                raise Conflict("The visit already has this act", code="act_exists") from exc
            raise

    # Verification

    async def verify_pdf(self, data: bytes) -> schemas.PdfVerification:
        """Say which act an uploaded PDF is (or claims to be) and whether it is intact."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValidationFailed(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB",
                errors=[FieldError(field="file", message="too large")],
                code="too_large",
            )
        try:
            # Hashing and scanning up to 20 MiB: off the event loop.
            claims = await anyio.to_thread.run_sync(inspect_pdf, data)
        except NotAPdf as exc:
            raise ValidationFailed(
                "The file is not a PDF document",
                errors=[FieldError(field="file", message=str(exc))],
                code="not_a_pdf",
            ) from exc
        act = await self.session.scalar(
            select(Act).where(
                Act.status != "draft",
                or_(Act.pdf_sha256 == claims.sha256, Act.sealed_pdf_sha256 == claims.sha256),
            )
        )
        if act is not None:
            matched = "sealed_pdf" if act.sealed_pdf_sha256 == claims.sha256 else "signed_pdf"
            detail = (
                "The file is exactly the sealed PDF of this act."
                if matched == "sealed_pdf"
                else "The file is exactly the signed PDF of this act."
            )
            return await self._verdict(claims, act, "intact", detail, matched=matched)
        act = await self._claimed_act(claims)
        if act is None:
            return schemas.PdfVerification(
                verdict="unknown",
                sha256=claims.sha256,
                size=claims.size,
                detail="The file does not name any act issued here.",
            )
        if act.status == "draft":
            return await self._verdict(
                claims, act, "not_signed", "The file names an act that has not been signed."
            )
        seal: schemas.SealCheck | None = None
        if act.status == "sealed" and self.sealer is not None:
            report = await self.sealer.verify(data)
            seal = schemas.SealCheck(
                status=report.status.value,
                signer=report.signer,
                signed_at=report.signed_at,
                detail=report.detail,
            )
        return await self._verdict(
            claims,
            act,
            "modified",
            "The file names this act but differs from every PDF stored for it.",
            seal=seal,
        )

    async def _claimed_act(self, claims: PdfClaims) -> Act | None:
        for digest in claims.snapshot_sha256:
            act = await self.session.scalar(select(Act).where(Act.snapshot_sha256 == digest))
            if act is not None:
                return act
        for prefix in claims.id_prefixes:
            act = await self.session.scalar(
                # A literal 32 (not a bind parameter) so the expression index applies.
                select(Act)
                .where(func.left(Act.snapshot_sha256, literal_column("32")) == prefix)
                .limit(1)
            )
            if act is not None:
                return act
        return None

    async def _verdict(
        self,
        claims: PdfClaims,
        act: Act,
        verdict: schemas.Verdict,
        detail: str,
        *,
        matched: str | None = None,
        seal: schemas.SealCheck | None = None,
    ) -> schemas.PdfVerification:
        in_scope = await self.session.scalar(
            select(exists().where(Act.id == act.id, scope_condition(self.actor)))
        )
        return schemas.PdfVerification(
            verdict=verdict,
            sha256=claims.sha256,
            size=claims.size,
            detail=detail,
            matched=cast("Any", matched),
            act=public_view(act, self.base_url),
            act_id=act.id if in_scope else None,
            seal=seal,
        )


async def find_public(session: AsyncSession, public_id: str) -> Act | None:
    """The act behind a public id: one indexed row, without its snapshot or signatures."""
    if not is_public_id(public_id):
        return None
    return await session.scalar(
        select(Act)
        .where(Act.public_id == public_id)
        .options(
            defer(Act.snapshot_json, raiseload=True), defer(Act.signatures_json, raiseload=True)
        )
    )


async def public_context(
    session: AsyncSession, act: Act
) -> tuple[datetime | None, str, str | None]:
    """When the customer refused to sign (None: did not), the site's zone, the kind of work."""
    refused_at = await session.scalar(
        select(func.max(CustomerLink.refused_at)).where(
            CustomerLink.act_id == act.id, CustomerLink.purpose == "sign"
        )
    )
    place = (
        await session.execute(
            select(Territory.time_zone, WorkOrder.type)
            .join(WorkOrder, WorkOrder.territory_id == Territory.id)
            .where(WorkOrder.id == act.work_order_id)
        )
    ).first()
    if place is None:
        return refused_at, "UTC", None
    return refused_at, place.time_zone or "UTC", place.type


async def provide_act_service(
    db_session: DbSession, actor: CurrentActor, state: State
) -> ActService:
    """The request's act service, wired to the app's settings, blob store and seal."""
    return ActService.from_state(db_session, actor, state)


# A handler's parameter ``acts`` of this type gets the request's act service.
Acts = NamedDependency[ActService]
