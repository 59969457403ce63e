"""Acts signed by the customer on the technician's phone.

The technician freezes the act once the checklist reaches completion and gets a single-use,
short-lived signing link. The customer reads the whole act (or hears it read aloud), signs on the
canvas, optionally confirms a one-time code sent to their phone, and the signature is bound to
the SHA-256 of the exact snapshot shown and stored at once; the worker then renders, stores and
seals the PDF (service.acts.rendering), and the
customer gets a link to their copy.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

import msgspec
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

import reports
from checklists import Answer, Lang
from checklists.schema import Outcome, SignatureStep
from reports.snapshot import MAX_STROKE_POINTS
from service.acts.content import AFTER_SIGNING, act_kind
from service.acts.sealing import Sealer
from service.acts.services import ActService, photo_keys
from service.audit.services import record
from service.auth.services import AuthService
from service.common.actor import Actor
from service.common.geo import point_ewkt
from service.common.i18n import DEFAULT_LANGUAGE, Language, in_language, msg, pick_language
from service.common.link_tokens import (
    COPY_LABEL,
    derived_link_token,
    link_token_hash,
    new_link_token,
)
from service.common.schemas import AwareDatetime
from service.common.schemas import Point as GeoPoint
from service.db.base import utcnow
from service.db.models import (
    Act,
    ActSignature,
    Customer,
    CustomerLink,
    Territory,
    User,
    Visit,
    WorkOrder,
)
from service.db.models.visits import LIVE_STATUSES
from service.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from service.execution.act_draft import ActDrafter
from service.execution.services import FieldworkService
from service.notifications import Recipient, enqueue
from service.settings import Settings
from service.storage import BlobStore, blob_key
from service.visit_checklists.registry import TemplateRegistry
from service.visit_checklists.services import ChecklistService

SIGN_LINK_TTL = timedelta(minutes=30)
# The act start refused, in the technician's language (the phone shows the detail as it is).
CHECKLIST_INCOMPLETE = msg(
    "act.checklist_incomplete", "Finish the checklist before the act is drawn up."
)
STEPS_NOT_DONE = msg("act.steps_not_done", "Not done yet: {steps}.")
OTP_TTL = timedelta(minutes=10)
# Wrong codes allowed per link, across resent codes: a new code does not buy more guesses.
OTP_ATTEMPTS = 5
MAX_STROKES = 200
MAX_POINTS = MAX_STROKE_POINTS  # what reports.SignatureStrokes accepts
MAX_PNG_BYTES = 512 * 1024

Point = tuple[
    Annotated[float, msgspec.Meta(ge=0, le=1)], Annotated[float, msgspec.Meta(ge=0, le=1)]
]


# The outcome a refusal on the signing page leads to, and its question the customer answered.
REFUSED_OUTCOME: Outcome = "customer_refused_to_sign"
REFUSAL_REASON_STEP = "refusal_reason"


def _by_token(token: str, purpose: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Where-clauses finding a customer link by its token (stored only as a hash)."""
    return CustomerLink.token_hash == link_token_hash(token), CustomerLink.purpose == purpose


class ActStart(msgspec.Struct, forbid_unknown_fields=True):
    """Which act to freeze, and who accepts the work on the customer's behalf."""

    kind: Literal["completion", "handover"] = "completion"
    acceptor_name: Annotated[str, msgspec.Meta(min_length=2, max_length=200)] | None = None


class SigningLink(msgspec.Struct):
    """Where the customer signs, valid once and only until ``expires_at``."""

    act_id: uuid.UUID
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    act_number: str
    snapshot_sha256: str
    signing_url: str
    expires_at: datetime


class SignatureSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """What the signing page sends."""

    signer_name: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    document_sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    strokes: Annotated[
        list[Annotated[list[Point], msgspec.Meta(max_length=5000)]],
        msgspec.Meta(max_length=MAX_STROKES),
    ]
    png_base64: Annotated[str, msgspec.Meta(max_length=MAX_PNG_BYTES * 2)]
    device_time: AwareDatetime | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None
    otp: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None


class Refusal(msgspec.Struct, forbid_unknown_fields=True):
    """The customer will not sign; why."""

    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class SignedAct(msgspec.Struct):
    """The outcome shown to the customer, with the ids of what it links to."""

    act_id: uuid.UUID
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    act_number: str
    status: str
    snapshot_sha256: str
    pdf_sha256: str | None
    verify_url: str
    # The customer's own copy (PDF once rendered; a "being prepared" page until then).
    copy_url: str | None = None


LinkState = Literal["open", "unknown", "used", "refused", "expired"]


@dataclass(frozen=True, slots=True)
class SigningPageView:
    """The signing page, or why the link cannot show it; in the act's language when known."""

    state: LinkState
    issuer: tuple[str, str]  # the company's name and phone, to call when a link fails
    language: Language | None = None
    act: Act | None = None
    snapshot: reports.ActSnapshot | None = None
    low_vision: bool = False


@dataclass(frozen=True, slots=True)
class CustomerCopyView:
    """The customer's copy link: a download once the PDF exists, else why not."""

    state: Literal["open", "preparing", "unknown", "expired"]
    issuer: tuple[str, str]
    language: Language | None = None
    url: str | None = None
    act_public_id: str | None = None


def _link_state(link: CustomerLink) -> LinkState:
    if link.refused_at is not None:
        return "refused"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= utcnow():
        return "expired"
    return "open"


def otp_key(server_secret: str) -> bytes:
    """The key one-time codes are hashed with, derived from a server secret."""
    return hmac.new(server_secret.encode(), b"naryad one-time code v1", hashlib.sha256).digest()


def code_hash(key: bytes, link_id: uuid.UUID, code: str) -> str:
    """What the database keeps of a one-time code: a keyed hash, salted with the link id.

    Six digits are a million guesses: a plain hash would give the code away to anyone who
    reads the table, a keyed one does not without the server's secret.
    """
    return hmac.new(key, f"{link_id}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SigningDeps:
    """What signing needs from the running app, handed over explicitly."""

    settings: Settings
    registry: TemplateRegistry
    store: BlobStore
    sealer: Sealer | None
    # One-time code attempts are counted in a transaction of their own (kept on failure).
    sessionmaker: async_sessionmaker[AsyncSession]


class SigningService:
    """From a finished checklist to a signed, stored act."""

    def __init__(self, session: AsyncSession, actor: Actor | None, deps: SigningDeps) -> None:
        self.session = session
        self.actor = actor
        self.deps = deps
        self.settings = deps.settings
        self.registry = deps.registry
        self.store = deps.store
        self.base_url = deps.settings.server.public_base_url
        self.otp_key = otp_key(deps.settings.auth.jwt_secret)

    def _acts(self, actor: Actor) -> ActService:
        return ActService(
            self.session,
            actor,
            settings=self.settings,
            blob_store=self.store,
            sealer=self.deps.sealer,
        )

    # -- the technician ---------------------------------------------------------------------

    async def start(
        self, visit_id: uuid.UUID, data: ActStart, language: Language = DEFAULT_LANGUAGE
    ) -> SigningLink:
        """Freeze the act snapshot once the checklist allows it; return a signing link.

        A refusal says what is left in ``language``, the technician's (the act itself is in the
        customer's).
        """
        assert self.actor is not None
        fieldwork = FieldworkService(self.session, self.actor, self.registry)
        visit = await fieldwork.own_visit(visit_id)
        if visit.status != "on_site":
            raise Conflict("The act is signed on site", code="visit_not_on_site")
        checklists = ChecklistService(self.session, self.actor, self.registry)
        _, template = await checklists.pin(visit)
        answers = await checklists.effective_answers(visit.id)
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        lang: Lang = customer.preferred_language  # type: ignore[assignment]
        state = await checklists.state(visit, answers, lang=lang, outcome=None)
        missing = set(state.missing_required_steps) - AFTER_SIGNING
        if state.current_phase not in ("completion", None) or missing:
            detail = in_language(CHECKLIST_INCOMPLETE, language)
            if missing:
                titles = template.titles[language]
                opening, closing = ("“", "”") if language == "en" else ("«", "»")
                steps = ", ".join(
                    f"{opening}{titles[step]}{closing}"
                    for step in template.steps
                    if step in missing
                )
                detail = f"{detail} {in_language(STEPS_NOT_DONE, language).format(steps=steps)}"
            raise ValidationFailed(
                detail,
                errors=[
                    FieldError(field=f"checklist.{step}", message="required")
                    for step in sorted(missing)
                ]
                or [FieldError(field="checklist", message=str(state.current_phase))],
                code="checklist_incomplete",
            )
        acts = self._acts(self.actor)
        snapshot = await ActDrafter(self.session, acts, self.registry, self.store).snapshot(
            visit,
            kind=data.kind,
            acceptor_name=data.acceptor_name,
            template=template,
            answers=answers,
            state=state,
        )
        act = await acts.create_draft(visit.id, snapshot)
        token = new_link_token()
        expires_at = utcnow() + SIGN_LINK_TTL
        self.session.add(
            CustomerLink(
                token_hash=link_token_hash(token),
                purpose="sign",
                act_id=act.id,
                visit_id=visit.id,
                created_by=self.actor.user_id,
                expires_at=expires_at,
            )
        )
        await self.session.flush()
        return SigningLink(
            act_id=act.id,
            visit_id=act.visit_id,
            work_order_id=act.work_order_id,
            act_number=act.number,
            snapshot_sha256=act.snapshot_sha256,
            signing_url=f"{self.base_url}/mobile/v1/sign/{token}",
            expires_at=expires_at,
        )

    # -- the customer -----------------------------------------------------------------------

    async def link(
        self, token: str, *, purpose: str = "sign", for_update: bool = False
    ) -> CustomerLink:
        """A live link; spent, refused, expired or unknown ones are refused alike."""
        stmt = select(CustomerLink).where(*_by_token(token, purpose))
        if for_update:
            # populate_existing: what another request committed before we got the lock counts.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        link = await self.session.scalar(stmt)
        if link is None:
            raise NotFound("This link is not valid")
        if link.refused_at is not None:
            raise Conflict("The customer refused to sign with this link", code="link_refused")
        if link.used_at is not None:
            raise Conflict("This link has already been used", code="link_used")
        if link.expires_at <= utcnow():
            raise Conflict(
                "This link has expired; ask the technician for a new one", code="link_expired"
            )
        return link

    async def page(self, token: str) -> SigningPageView:
        """What the signing page shows: the exact frozen snapshot, or why it cannot."""
        link = await self.session.scalar(select(CustomerLink).where(*_by_token(token, "sign")))
        if link is None or link.act_id is None:
            return SigningPageView(state="unknown", issuer=self._issuer())
        act = await self.session.get_one(Act, link.act_id)
        language = pick_language(act.language)
        snapshot = reports.parse_snapshot(act.snapshot_json)
        issuer = (snapshot.issuer.legal_name, snapshot.issuer.phone)
        state = _link_state(link)
        if state == "open" and act.status != "draft":
            state = "used"
        if state != "open":
            return SigningPageView(state=state, language=language, issuer=issuer)
        customer = await self.session.scalar(
            select(Customer)
            .join(WorkOrder, WorkOrder.customer_id == Customer.id)
            .where(WorkOrder.id == act.work_order_id)
        )
        return SigningPageView(
            state="open",
            language=language,
            issuer=issuer,
            act=act,
            snapshot=snapshot,
            low_vision=customer is not None and "low_vision" in customer.accessibility_needs,
        )

    def _issuer(self) -> tuple[str, str]:
        issuer = self.settings.issuer
        return issuer.legal_name, issuer.phone

    async def send_code(self, token: str) -> datetime:
        """Send a one-time code to the customer's phone; the submission must then carry it."""
        link = await self.link(token, for_update=True)
        visit = await self.session.get_one(Visit, link.visit_id)
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        phone = next(iter(order.contact_phones or customer.phones), None)
        if phone is None:
            raise Conflict("There is no phone number to send a code to", code="no_phone")
        code = f"{secrets.randbelow(10**6):06d}"
        link.otp_hash = code_hash(self.otp_key, link.id, code)
        link.otp_expires_at = utcnow() + OTP_TTL
        await enqueue(
            self.session,
            event="otp.sent",
            event_key=f"{link.id}:{link.otp_hash}",
            channel="sms",
            recipient=Recipient(kind="customer", id=customer.id, address=phone),
            language=customer.preferred_language,  # type: ignore[arg-type]
            time_zone=territory.time_zone,
            context={"code": code, "ttl_minutes": int(OTP_TTL.total_seconds() // 60)},
        )
        await self.session.flush()
        return link.otp_expires_at

    async def submit(
        self, token: str, data: SignatureSubmission, user_agent: str | None
    ) -> SignedAct:
        """Bind the signature to the snapshot hash and store it; the PDF follows (worker).

        A replay of a submission that was already recorded (a double tap, a retry after a lost
        answer) answers the same result and records nothing again.
        """
        try:
            return await self._submit(token, data, user_agent)
        except Conflict as exc:
            if exc.code not in ("link_used", "act_signed"):
                raise
            replayed = await self._replayed(token, data)
            if replayed is None:
                raise
            return replayed

    async def _replayed(self, token: str, data: SignatureSubmission) -> SignedAct | None:
        """The result of this very submission if it was recorded before, else None."""
        link = await self.session.scalar(
            select(CustomerLink).where(
                *_by_token(token, "sign"),
                CustomerLink.used_at.is_not(None),
            )
        )
        if link is None:
            return None
        try:
            png_sha = hashlib.sha256(_png(data.png_base64)).hexdigest()
        except ValidationFailed:
            return None
        signature = await self.session.scalar(
            select(ActSignature).where(
                ActSignature.link_id == link.id,
                ActSignature.png_sha256 == png_sha,
                ActSignature.document_sha256 == data.document_sha256,
                ActSignature.signer_name == data.signer_name.strip(),
            )
        )
        if signature is None:
            return None
        act = await self.session.get_one(Act, signature.act_id)
        return self._signed_act(act, link)

    def _signed_act(self, act: Act, sign_link: CustomerLink) -> SignedAct:
        return SignedAct(
            act_id=act.id,
            visit_id=act.visit_id,
            work_order_id=act.work_order_id,
            act_number=act.number,
            status=act.status,
            snapshot_sha256=act.snapshot_sha256,
            pdf_sha256=act.pdf_sha256,
            verify_url=f"{self.base_url}/verify/acts/{act.public_id}",
            copy_url=f"{self.base_url}/mobile/v1/acts/copy/{self._copy_token(sign_link)}",
        )

    def _copy_token(self, sign_link: CustomerLink) -> str:
        """The copy link's token, derived from the signing link: a replay can answer it again."""
        return derived_link_token(self.settings.auth.jwt_secret, COPY_LABEL, sign_link.id)

    async def _submit(
        self, token: str, data: SignatureSubmission, user_agent: str | None
    ) -> SignedAct:
        link = await self.link(token)
        act = await self.session.get_one(Act, link.act_id)
        visit = await self.session.get_one(Visit, link.visit_id)
        if visit.status not in LIVE_STATUSES:
            # Checked before anything is stored: a signed PDF may be under Object Lock.
            raise Conflict(
                f"The visit is {visit.status}; the act can no longer be signed",
                code="visit_closed",
            )
        if data.document_sha256 != act.snapshot_sha256:
            raise Conflict(
                "The act changed since the page was opened; reload it", code="document_changed"
            )
        if not data.strokes or sum(len(s) for s in data.strokes) < 2:
            raise ValidationFailed(
                "Sign in the box first",
                errors=[FieldError(field="strokes", message="empty signature")],
                code="empty_signature",
            )
        if sum(len(s) for s in data.strokes) > MAX_POINTS:
            raise ValidationFailed(
                "The signature is too detailed",
                errors=[FieldError(field="strokes", message="too many points")],
            )
        png = _png(data.png_base64)
        if act.status == "draft":
            # Storage is asked before the rows are locked (a HEAD per photo, all at once); the
            # snapshot hash is checked again under the lock, so these are the photos signed.
            await self._require_photos_present(act)
        # The code is checked last, so that a form error does not spend one of its attempts.
        otp_verified = await self._check_code(link, data.otp)
        link = await self.link(token, for_update=True)
        # populate_existing: the act read above may have been redrafted before we got the lock.
        act = await self.session.get_one(
            Act, link.act_id, with_for_update=True, populate_existing=True
        )
        if act.status != "draft":
            raise Conflict("This act is already signed", code="act_signed")
        if data.document_sha256 != act.snapshot_sha256:
            raise Conflict(
                "The act changed since the page was opened; reload it", code="document_changed"
            )
        png_sha = hashlib.sha256(png).hexdigest()
        technician = await self._technician(link)
        signed_at = utcnow()
        signature = reports.Signature(
            role="customer",
            signer_name=data.signer_name.strip(),
            # The page is online: the server's clock is printed; the phone's is kept as evidence.
            signed_at=signed_at,
            document_sha256=act.snapshot_sha256,
            location=(
                reports.GeoLocation(lat=data.lat, lon=data.lon, accuracy_m=data.accuracy_m)
                if data.lat is not None and data.lon is not None and data.accuracy_m is not None
                else None
            ),
            strokes=reports.SignatureStrokes(strokes=tuple(tuple(s) for s in data.strokes)),
        )
        key = blob_key("signatures", str(act.id), f"{png_sha}.png")
        await self.store.put(key, png, content_type="image/png", sha256_hex=png_sha)
        checklists = ChecklistService(self.session, technician, self.registry)
        _, template = await checklists.pin(visit)
        # The signature step of this act's kind answers itself (the phone only repeats it).
        for compiled in template.steps.values():
            step = compiled.step
            if isinstance(step, SignatureStep) and act_kind(step.document) == act.kind:
                await checklists.record(
                    visit,
                    Answer(
                        step_id=step.id,
                        value=str(act.id),
                        answered_at=data.device_time or signed_at,
                    ),
                )
        acts = self._acts(technician)
        # The PDF and its seal take seconds: the worker makes them (service.acts.rendering).
        signed = await acts.record_signatures(act.id, [signature])
        self.session.add(
            ActSignature(
                act_id=act.id,
                link_id=link.id,
                signer_role="customer",
                signer_name=signature.signer_name,
                document_sha256=act.snapshot_sha256,
                strokes=[list(map(list, s)) for s in data.strokes],
                png_key=key,
                png_sha256=png_sha,
                device_time=data.device_time,
                server_time=signed_at,
                location=(
                    point_ewkt(GeoPoint(lat=data.lat, lon=data.lon))
                    if data.lat is not None and data.lon is not None
                    else None
                ),
                accuracy_m=data.accuracy_m,
                user_agent=(user_agent or "")[:500],
                technician_id=technician.technician_id,
                otp_verified=otp_verified,
            )
        )
        link.used_at = signed_at
        await self.session.flush()
        await self._send_copy(visit, signed, link)
        return self._signed_act(signed, link)

    async def refuse(self, token: str, data: Refusal) -> None:
        """Record that the customer refused to sign, and why (a blank reason is no reason)."""
        reason = data.reason.strip()
        if len(reason) < 3:
            raise ValidationFailed(
                "Give the reason for refusing",
                errors=[FieldError(field="reason", message="at least 3 characters")],
                code="reason_required",
            )
        link = await self.link(token, for_update=True)
        link.refused_at = utcnow()
        link.refusal_reason = reason
        await self.session.flush()
        technician = await self._technician(link)
        await record(
            self.session,
            technician,
            "act.refused",
            "act",
            link.act_id,
            after={"reason": reason},
        )
        await self._record_refusal_reason(link, technician, reason)

    async def _record_refusal_reason(
        self, link: CustomerLink, technician: Actor, reason: str
    ) -> None:
        """The customer's own words answer the refusal outcome's question for the technician."""
        visit = await self.session.get_one(Visit, link.visit_id)
        checklists = ChecklistService(self.session, technician, self.registry)
        _, template = await checklists.pin(visit)
        if REFUSAL_REASON_STEP not in template.steps:
            return
        try:
            async with self.session.begin_nested():
                await checklists.record(
                    visit,
                    Answer(step_id=REFUSAL_REASON_STEP, value=reason, answered_at=utcnow()),
                    outcome=REFUSED_OUTCOME,
                )
        except (ValidationFailed, Conflict):
            # A template whose refusal asks otherwise: the technician answers it on the phone.
            return

    async def copy(self, token: str) -> CustomerCopyView:
        """The customer's copy: a short-lived download URL of the signed PDF once it exists."""
        link = await self.session.scalar(select(CustomerLink).where(*_by_token(token, "copy")))
        if link is None or link.act_id is None:
            return CustomerCopyView(state="unknown", issuer=self._issuer())
        act = await self.session.get_one(Act, link.act_id)
        language = pick_language(act.language)
        issuer = (act.issuer_name, self.settings.issuer.phone)
        if link.expires_at <= utcnow():
            return CustomerCopyView(
                state="expired", language=language, issuer=issuer, act_public_id=act.public_id
            )
        key = act.sealed_pdf_key or act.pdf_key
        if key is None:
            return CustomerCopyView(
                state="preparing", language=language, issuer=issuer, act_public_id=act.public_id
            )
        url = await self.store.presign_get(key, expires_in=300, filename=f"{act.number}.pdf")
        return CustomerCopyView(state="open", language=language, issuer=issuer, url=url)

    async def copy_exists(self, token: str) -> bool:
        """Whether a live copy link has this token (its QR code is drawn only then)."""
        link = await self.session.scalar(
            select(CustomerLink.expires_at).where(*_by_token(token, "copy"))
        )
        return link is not None and link > utcnow()

    # -- helpers ----------------------------------------------------------------------------

    async def _check_code(self, link: CustomerLink, code: str | None) -> bool:
        """Whether the signer proved the phone; every check spends one of the link's attempts."""
        if link.otp_hash is None:
            return False
        if (link.otp_expires_at or utcnow()) <= utcnow():
            raise Unauthorized("The code has expired; request a new one")
        # Counted in a transaction of its own: the request's transaction rolls back with the
        # error below, and an uncounted wrong code would allow guessing without end.
        async with self.deps.sessionmaker() as counter, counter.begin():
            spent = await counter.scalar(
                update(CustomerLink)
                .where(CustomerLink.id == link.id, CustomerLink.otp_attempts < OTP_ATTEMPTS)
                .values(otp_attempts=CustomerLink.otp_attempts + 1)
                .returning(CustomerLink.otp_attempts)
            )
        if spent is None:
            raise Unauthorized("Too many wrong codes; ask the technician for a new link")
        if code is None or not hmac.compare_digest(
            link.otp_hash, code_hash(self.otp_key, link.id, code)
        ):
            raise ValidationFailed(
                "The code does not match",
                errors=[FieldError(field="otp", message="wrong code")],
                code="wrong_code",
            )
        return True

    async def _technician(self, link: CustomerLink) -> Actor:
        """The technician who opened the link: the act is signed in their name."""
        user = await self.session.scalar(
            select(User).where(User.id == link.created_by).options(selectinload(User.territories))
        )
        if user is None:
            raise NotFound("This link is not valid")
        return await AuthService(self.session, self.settings.auth).actor_for(user)

    async def _require_photos_present(self, act: Act) -> None:
        """Refuse a signature when a photo the customer sees can no longer be rendered.

        Photos were decoded at confirm and when the act was drawn up, and removal is refused
        once an act exists; only bytes lost from the store since can fail the PDF. A HEAD per
        photo keeps the submit fast; the customer may not sign other content than they read,
        so the technician draws the act up again.
        """
        wanted = {photo.sha256 for photo in reports.parse_snapshot(act.snapshot_json).photos}
        if not wanted:
            return
        keys = await photo_keys(self.session, act)
        heads = await asyncio.gather(*(self.store.head(key) for key in keys.values()))
        present = {sha for sha, info in zip(keys, heads, strict=True) if info is not None}
        if wanted - present:
            raise Conflict(
                "A photo in this act can no longer be shown; ask the technician to draw up the "
                "act again",
                code="act_photo_unusable",
            )

    async def _send_copy(self, visit: Visit, act: Act, sign_link: CustomerLink) -> None:
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        token = self._copy_token(sign_link)
        copy_url = f"{self.base_url}/mobile/v1/acts/copy/{token}"
        self.session.add(
            CustomerLink(
                token_hash=link_token_hash(token),
                purpose="copy",
                act_id=act.id,
                visit_id=visit.id,
                expires_at=utcnow() + timedelta(days=self.settings.customer_links.copy_link_days),
            )
        )
        phone = next(iter(order.contact_phones or customer.phones), None)
        if phone is not None:
            await enqueue(
                self.session,
                event="act.signed",
                event_key=str(act.id),
                channel="sms",
                recipient=Recipient(kind="customer", id=customer.id, address=phone),
                language=customer.preferred_language,  # type: ignore[arg-type]
                time_zone=territory.time_zone,
                context={"act_url": copy_url},
            )
        await self.session.flush()


def _png(data: str) -> bytes:
    # A data URL without its comma leaves nothing to decode: refused below as not a PNG.
    raw = data.partition(",")[2] if data.startswith("data:") else data
    try:
        png = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(
            "The signature image is not base64",
            errors=[FieldError(field="png_base64", message="invalid")],
        ) from exc
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or len(png) > MAX_PNG_BYTES:
        raise ValidationFailed(
            "The signature image must be a PNG under 512 KiB",
            errors=[FieldError(field="png_base64", message="not a PNG")],
        )
    return png
