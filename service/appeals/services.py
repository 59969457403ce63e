"""Appeal rules: registration, deadlines, work (notes, requests, decisions, measures), refusal
on the listed grounds only, the answer, escalation of unanswered appeals.

Seed 001 §6.1: an answer on the merits within the kind's deadline (7 days, 30 at most); within
5 working days the customer is told a question is outside the company's competence; a complaint
is considered only once found justified, partly justified or unjustified, with reasons, and
corrective measures are set for a justified one; an appeal is left unconsidered only on the
listed grounds, with notice to the customer. §6.2: the head of the unit controls the deadlines.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals import schemas
from service.appeals.deadlines import Policy, clock_status, deadlines
from service.audit.services import record
from service.common.actor import STAFF_ROLES, Actor, Role
from service.common.i18n import Language
from service.common.link_tokens import derived_link_token, link_token_hash
from service.common.pagination import TerritoryPageQuery, keyset_page, split_page
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import (
    Act,
    Appeal,
    AppealAttachment,
    AppealEscalation,
    AppealLetter,
    AppealMeasure,
    AppealNote,
    AppealNumberCounter,
    AppealPolicy,
    AppealReason,
    AppealUnitRequest,
    Customer,
    Territory,
    User,
    Visit,
    WorkOrder,
)
from service.db.models.appeals import OPEN_APPEAL_STATES
from service.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from service.escalations.services import (
    BREACH,
    HEAD,
    RECIPIENT_ROLE,
    WARNING,
    ClockView,
    EscalationPolicy,
    due_levels,
)
from service.execution.images import PhotoMismatch, check_photo, describe
from service.notifications import Recipient, enqueue
from service.notifications.staff import staff_condition, staff_ids, staff_recipients
from service.settings import EscalationSettings, Settings
from service.sla.clocks import territory_measure
from service.storage import BlobStore
from service.storage.keys import blob_key

logger = logging.getLogger("naryad.appeals")

STATUS_LABEL = "appeal-status"
# Who works an appeal (owner, requests, decision, measures, refusal, answer); dispatchers
# register and read appeals and add notes (seed 001 §6.2: the head of the unit controls them).
WORKER_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.SUPERVISOR})
_STAFF_ROLE_NAMES = tuple(r.value for r in STAFF_ROLES)
COMPLAINT_KINDS = ("complaint", "quality_claim")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
ATTACHMENT_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
REASON_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
# A complaint of the same customer within this long after an earlier one counts as a repeat.
REPEAT_WINDOW = timedelta(days=90)
ESCALATION_BATCH = 200
_Child = TypeVar("_Child", AppealAttachment, AppealNote, AppealUnitRequest, AppealMeasure)
# A clock the escalation decision reads as running (warning or breached follow from the times).
_RUNNING = "running"


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field=field, message=message)], code=code)


def status_token(secret: str, appeal_id: uuid.UUID) -> str:
    """The customer's status link token: derived from the appeal's id with the server secret."""
    return derived_link_token(secret, STATUS_LABEL, appeal_id)


def letter_url(base_url: str, public_id: str) -> str:
    """The public verification page of an answer letter (printed as its QR code)."""
    return f"{base_url.rstrip('/')}/verify/letters/{public_id}"


# -- pure checks ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An attachment whose bytes were sniffed to be what it says."""

    content_type: str
    extension: str
    sha256: str
    size: int


def check_attachment(data: bytes, declared: str) -> CheckedFile:
    """Size and type from the bytes themselves (like photos); ValidationFailed otherwise."""
    declared = declared.split(";", maxsplit=1)[0].strip().lower()
    if not data:
        raise _invalid("file", "The file is empty", "attachment_empty")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise _invalid(
            "file",
            f"The file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB",
            "attachment_too_large",
        )
    extension = ATTACHMENT_TYPES.get(declared)
    if extension is None:
        raise _invalid(
            "file", "Only JPEG, PNG, WebP images and PDF files are accepted", "attachment_type"
        )
    if declared == "application/pdf":
        if not data.startswith(b"%PDF-"):
            raise _invalid(
                "file",
                f"The file says it is a PDF, but its bytes are {describe(data)}",
                "attachment_mismatch",
            )
    else:
        try:
            check_photo(data, declared)
        except PhotoMismatch as exc:
            raise _invalid(
                "file",
                f"The file says it is {declared}, but its bytes are {exc.found}",
                "attachment_mismatch",
            ) from None
    return CheckedFile(declared, extension, hashlib.sha256(data).hexdigest(), len(data))


def require_text(value: str | None, field: str, message: str, code: str) -> str:
    """A text that is not just blanks."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise _invalid(field, message, code)
    return cleaned


# -- schemas -------------------------------------------------------------------------------


def _clock(appeal: Appeal, now: datetime) -> schemas.AppealClock:
    return schemas.AppealClock(
        status=cast(
            "schemas.ClockStatus",
            clock_status(appeal.due_at, appeal.warning_at, appeal.closed_at, now),
        ),
        due_at=appeal.due_at,
        warning_at=appeal.warning_at,
        max_due_at=appeal.max_due_at,
        competence_due_at=appeal.competence_due_at,
        closed_at=appeal.closed_at,
    )


def summary_schema(appeal: Appeal, now: datetime) -> schemas.AppealSummary:
    """A list row."""
    return schemas.AppealSummary(
        id=appeal.id,
        number=appeal.number,
        territory_id=appeal.territory_id,
        kind=cast("schemas.AppealKind", appeal.kind),
        channel=cast("schemas.AppealChannel", appeal.channel),
        state=cast("schemas.AppealState", appeal.state),
        owner_id=appeal.owner_id,
        registered_at=appeal.registered_at,
        due_at=appeal.due_at,
        clock_status=_clock(appeal, now).status,
    )


def policy_of(row: AppealPolicy) -> Policy:
    """A stored policy as the pure deadline maths reads it."""
    return Policy(
        merits_days=row.merits_days,
        max_days=row.max_days,
        day_kind=row.day_kind,
        competence_working_days=row.competence_working_days,
        warning_ratio=row.warning_ratio,
    )


# -- registration (staff and public) -------------------------------------------------------


@dataclass(slots=True)
class NewAppeal:
    """What registration needs, from the staff API or the public form."""

    kind: str
    channel: str
    territory_id: uuid.UUID
    author_name: str
    text: str
    reply_channel: str
    language: str
    contact_phone: str | None = None
    contact_email: str | None = None
    customer_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    act_id: uuid.UUID | None = None
    registered_at: datetime | None = None


class AppealCore:
    """Rules shared by the staff service and the public form."""

    def __init__(self, session: AsyncSession, settings: Settings, store: BlobStore | None) -> None:
        self.session = session
        self.settings = settings
        self.store = store

    @property
    def secret(self) -> str:
        """The server secret the status links are derived with."""
        return self.settings.auth.jwt_secret

    @property
    def base_url(self) -> str:
        """Where the public pages live."""
        return self.settings.server.public_base_url

    def status_url(self, appeal_id: uuid.UUID) -> str:
        """The customer's status page of an appeal."""
        return f"{self.base_url.rstrip('/')}/appeal/status/{status_token(self.secret, appeal_id)}"

    async def _number(self, year: int) -> str:
        value = await self.session.scalar(
            insert(AppealNumberCounter)
            .values(year=year, last_value=1)
            .on_conflict_do_update(
                index_elements=[AppealNumberCounter.year],
                set_={"last_value": AppealNumberCounter.last_value + 1},
            )
            .returning(AppealNumberCounter.last_value)
        )
        return f"A-{year}-{int(value or 0):06d}"

    async def create(
        self, data: NewAppeal, actor: Actor | None, files: Sequence[tuple[bytes, str]] = ()
    ) -> Appeal:
        """Register an appeal: links checked, deadlines from policy, number, notice sent."""
        now = utcnow()
        checked = [check_attachment(content, declared) for content, declared in files]
        if len(checked) > MAX_ATTACHMENTS:
            raise _invalid("file", f"At most {MAX_ATTACHMENTS} files", "too_many_attachments")
        registered_at = data.registered_at or now
        if registered_at > now + timedelta(minutes=5):
            raise _invalid("registered_at", "must not be in the future", "registered_in_future")
        if registered_at < now - timedelta(days=30):
            raise _invalid("registered_at", "older than 30 days", "registered_too_early")
        if data.reply_channel == "sms" and not data.contact_phone:
            raise _invalid("contact_phone", "An SMS answer needs a phone", "contact_required")
        if data.reply_channel == "email" and not data.contact_email:
            raise _invalid("contact_email", "An email answer needs an address", "contact_required")
        territory = await self.session.get(Territory, data.territory_id)
        if territory is None:
            raise _invalid("territory_id", "No such territory", "unknown_territory")
        await self._check_links(data)
        policy_row = await self.session.get_one(AppealPolicy, data.kind)
        calendar, _ = await territory_measure(
            self.session, territory.id, since=registered_at.date() - timedelta(days=1)
        )
        clocks = deadlines(
            registered_at, policy_of(policy_row), ZoneInfo(territory.time_zone), calendar
        )
        appeal = Appeal(
            id=uuid.uuid4(),
            number=await self._number(registered_at.year),
            territory_id=territory.id,
            kind=data.kind,
            channel=data.channel,
            reply_channel=data.reply_channel,
            language=data.language,
            customer_id=data.customer_id,
            work_order_id=data.work_order_id,
            visit_id=data.visit_id,
            act_id=data.act_id,
            author_name=data.author_name.strip(),
            contact_phone=data.contact_phone,
            contact_email=data.contact_email,
            text=data.text,
            state="registered",
            registered_at=registered_at,
            registered_by=actor.user_id if actor else None,
            due_at=clocks.due_at,
            warning_at=clocks.warning_at,
            max_due_at=clocks.max_due_at,
            competence_due_at=clocks.competence_due_at,
            reason_codes=[],
            repeat_of_id=await self._repeat_of(data, registered_at),
        )
        appeal.status_token_hash = link_token_hash(status_token(self.secret, appeal.id))
        self.session.add(appeal)
        await self.session.flush()
        for file, (content, _) in zip(checked, files, strict=True):
            await self._store_attachment(appeal, file, content)
        await record(
            self.session,
            actor,
            "appeal.registered",
            "appeal",
            appeal.id,
            after={
                "number": appeal.number,
                "kind": appeal.kind,
                "channel": appeal.channel,
                "due_at": appeal.due_at,
                "attachments": [f.sha256 for f in checked],
            },
        )
        await self.notify(
            appeal,
            "appeal.registered",
            territory.time_zone,
            {
                "appeal_number": appeal.number,
                "due_at": appeal.due_at,
                "status_url": self.status_url(appeal.id),
            },
        )
        return appeal

    async def _check_links(self, data: NewAppeal) -> None:
        """Every linked record exists, belongs to the territory, and agrees with the others."""
        if data.act_id is not None:
            act = await self.session.get(Act, data.act_id)
            if act is None:
                raise _invalid("act_id", "No such act", "unknown_act")
            data.visit_id = data.visit_id or act.visit_id
            if data.visit_id != act.visit_id:
                raise _invalid("act_id", "The act is of another visit", "links_disagree")
        if data.visit_id is not None:
            visit = await self.session.get(Visit, data.visit_id)
            if visit is None:
                raise _invalid("visit_id", "No such visit", "unknown_visit")
            data.work_order_id = data.work_order_id or visit.work_order_id
            if data.work_order_id != visit.work_order_id:
                raise _invalid("visit_id", "The visit is of another order", "links_disagree")
        if data.work_order_id is not None:
            order = await self.session.get(WorkOrder, data.work_order_id)
            if order is None or order.territory_id != data.territory_id:
                raise _invalid("work_order_id", "No such order here", "unknown_work_order")
            data.customer_id = data.customer_id or order.customer_id
            if data.customer_id != order.customer_id:
                raise _invalid("customer_id", "The order is another customer's", "links_disagree")
        if data.customer_id is not None:
            customer = await self.session.get(Customer, data.customer_id)
            if customer is None or customer.territory_id != data.territory_id:
                raise _invalid("customer_id", "No such customer here", "unknown_customer")

    async def _repeat_of(self, data: NewAppeal, registered_at: datetime) -> uuid.UUID | None:
        """The customer's latest complaint in the repeat window, if this is a complaint."""
        if data.kind not in COMPLAINT_KINDS or data.customer_id is None:
            return None
        return cast(
            "uuid.UUID | None",
            await self.session.scalar(
                select(Appeal.id)
                .where(
                    Appeal.customer_id == data.customer_id,
                    Appeal.kind.in_(COMPLAINT_KINDS),
                    Appeal.registered_at >= registered_at - REPEAT_WINDOW,
                    Appeal.registered_at <= registered_at,
                )
                .order_by(Appeal.registered_at.desc())
                .limit(1)
            ),
        )

    async def _store_attachment(self, appeal: Appeal, file: CheckedFile, content: bytes) -> None:
        if self.store is None:
            raise Conflict("No blob store is configured", code="storage_unavailable")
        key = blob_key("appeals", str(appeal.id), f"{file.sha256}.{file.extension}")
        await self.store.put(key, content, content_type=file.content_type, sha256_hex=file.sha256)
        self.session.add(
            AppealAttachment(
                appeal_id=appeal.id,
                object_key=key,
                content_type=file.content_type,
                size=file.size,
                sha256=file.sha256,
            )
        )
        await self.session.flush()

    async def notify(
        self, appeal: Appeal, event: str, time_zone: str, context: dict[str, Any]
    ) -> bool:
        """A message to the customer by the channel they chose (the outbox delivers it)."""
        if appeal.reply_channel == "email" and appeal.contact_email:
            channel, address = "email", appeal.contact_email
        elif appeal.contact_phone:
            channel, address = "sms", appeal.contact_phone
        else:
            return False
        return await enqueue(
            self.session,
            event=event,
            event_key=str(appeal.id),
            channel=cast("Any", channel),
            recipient=Recipient(kind="customer", id=appeal.customer_id, address=address),
            language=cast("Any", appeal.language),
            time_zone=time_zone,
            context=context,
        )


# -- the staff service ---------------------------------------------------------------------


class AppealService:
    """Appeals of the caller's territories (all of them for admins)."""

    def __init__(
        self, session: AsyncSession, actor: Actor, settings: Settings, store: BlobStore | None
    ) -> None:
        self.session = session
        self.actor = actor
        self.settings = settings
        self.core = AppealCore(session, settings, store)

    def _require_staff(self) -> None:
        if self.actor.role not in STAFF_ROLES:
            raise Forbidden("Appeals are worked by staff")

    def _scoped(self) -> Select[Appeal]:
        return select(Appeal).where(territory_condition(self.actor, Appeal.territory_id))

    async def _get(self, appeal_id: uuid.UUID, *, lock: bool = False) -> Appeal:
        stmt = self._scoped().where(Appeal.id == appeal_id)
        if lock:
            stmt = stmt.with_for_update()
        appeal = await self.session.scalar(stmt)
        if appeal is None:
            raise NotFound("Appeal not found")
        return appeal

    async def _open(self, appeal_id: uuid.UUID) -> Appeal:
        appeal = await self._get(appeal_id, lock=True)
        if appeal.state not in OPEN_APPEAL_STATES:
            raise Conflict(f"Appeal {appeal.number} is already {appeal.state}", code="closed")
        return appeal

    async def register(self, data: schemas.AppealCreate) -> schemas.Appeal:
        """Register an appeal taken by staff; the customer gets the number and a status link."""
        self._require_staff()
        if not self.actor.covers_territory(data.territory_id):
            raise _invalid("territory_id", "Not one of your territories", "unknown_territory")
        language = data.language
        if language is None and data.customer_id is not None:
            customer = await self.session.get(Customer, data.customer_id)
            language = cast("Any", customer.preferred_language) if customer else None
        appeal = await self.core.create(
            NewAppeal(
                kind=data.kind,
                channel=data.channel,
                territory_id=data.territory_id,
                author_name=require_text(
                    data.author_name, "author_name", "Give the author's name", "name_required"
                ),
                text=require_text(data.text, "text", "Give the appeal's text", "text_required"),
                reply_channel=data.reply_channel,
                language=language or "ru",
                contact_phone=data.contact_phone,
                contact_email=data.contact_email,
                customer_id=data.customer_id,
                work_order_id=data.work_order_id,
                visit_id=data.visit_id,
                act_id=data.act_id,
                registered_at=data.registered_at,
            ),
            self.actor,
        )
        view = await self.get(appeal.id)
        view.status_url = self.core.status_url(appeal.id)
        return view

    async def page(
        self,
        query: TerritoryPageQuery,
        state: schemas.AppealState | None,
        kind: schemas.AppealKind | None,
        mine: bool,
    ) -> schemas.AppealPage:
        """A page of appeals, newest first."""
        self._require_staff()
        stmt = self._filtered(query.territory_id, state, kind, mine)
        rows = (
            await self.session.scalars(keyset_page(stmt, Appeal, query.cursor, query.limit))
        ).all()
        page, cursor = split_page(rows, query.limit, lambda a: (a.created_at, a.id))
        now = utcnow()
        return schemas.AppealPage(items=[summary_schema(a, now) for a in page], next_cursor=cursor)

    async def count(
        self,
        territory_id: uuid.UUID | None,
        state: schemas.AppealState | None,
        kind: schemas.AppealKind | None,
        mine: bool,
    ) -> int:
        """How many appeals the same filters as ``page`` find, on all pages."""
        self._require_staff()
        stmt = self._filtered(territory_id, state, kind, mine)
        return int(
            await self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        )

    def _filtered(
        self,
        territory_id: uuid.UUID | None,
        state: schemas.AppealState | None,
        kind: schemas.AppealKind | None,
        mine: bool,
    ) -> Select[Appeal]:
        stmt = self._scoped()
        if territory_id is not None:
            stmt = stmt.where(Appeal.territory_id == territory_id)
        if state is not None:
            stmt = stmt.where(Appeal.state == state)
        if kind is not None:
            stmt = stmt.where(Appeal.kind == kind)
        if mine:
            stmt = stmt.where(Appeal.owner_id == self.actor.user_id)
        return stmt

    async def get(self, appeal_id: uuid.UUID) -> schemas.Appeal:
        """One appeal with its notes, requests, measures, attachments and letter."""
        self._require_staff()
        appeal = await self._get(appeal_id)
        return await self._view(appeal)

    async def letter_url(self, appeal_id: uuid.UUID) -> str:
        """A short-lived download of the appeal's answer letter (the sealed one when sealed)."""
        self._require_staff()
        appeal = await self._get(appeal_id)
        letter = await self.session.scalar(
            select(AppealLetter).where(AppealLetter.appeal_id == appeal.id)
        )
        if letter is None or self.core.store is None:
            raise NotFound("This appeal has no letter")
        return await self.core.store.presign_get(
            letter.sealed_pdf_key or letter.pdf_key,
            expires_in=300,
            filename=f"{appeal.number}.pdf",
        )

    async def _children(self, model: type[_Child], appeal_id: uuid.UUID) -> Sequence[_Child]:
        """An appeal's rows of one kind, oldest first."""
        return (
            await self.session.scalars(
                select(model)
                .where(model.appeal_id == appeal_id)
                .order_by(model.created_at, model.id)
            )
        ).all()

    async def _view(self, appeal: Appeal) -> schemas.Appeal:
        session, now = self.session, utcnow()
        attachments = await self._children(AppealAttachment, appeal.id)
        notes = await self._children(AppealNote, appeal.id)
        requests = await self._children(AppealUnitRequest, appeal.id)
        measures = await self._children(AppealMeasure, appeal.id)
        letter = await session.scalar(
            select(AppealLetter).where(AppealLetter.appeal_id == appeal.id)
        )
        return schemas.Appeal(
            id=appeal.id,
            number=appeal.number,
            territory_id=appeal.territory_id,
            kind=cast("schemas.AppealKind", appeal.kind),
            channel=cast("schemas.AppealChannel", appeal.channel),
            reply_channel=cast("schemas.ReplyChannel", appeal.reply_channel),
            language=cast("Language", appeal.language),
            state=cast("schemas.AppealState", appeal.state),
            author_name=appeal.author_name,
            text=appeal.text,
            contact_phone=appeal.contact_phone,
            contact_email=appeal.contact_email,
            customer_id=appeal.customer_id,
            work_order_id=appeal.work_order_id,
            visit_id=appeal.visit_id,
            act_id=appeal.act_id,
            owner_id=appeal.owner_id,
            registered_at=appeal.registered_at,
            clock=_clock(appeal, now),
            decision=cast("schemas.Decision | None", appeal.decision),
            decision_reasons=appeal.decision_reasons,
            reason_codes=list(appeal.reason_codes),
            refusal_ground=cast("schemas.RefusalGround | None", appeal.refusal_ground),
            refusal_note=appeal.refusal_note,
            answer_text=appeal.answer_text,
            answered_at=appeal.answered_at,
            outside_competence_at=appeal.outside_competence_at,
            repeat_of_id=appeal.repeat_of_id,
            attachments=[
                schemas.Attachment(
                    id=a.id,
                    content_type=a.content_type,
                    size=a.size,
                    sha256=a.sha256,
                    created_at=a.created_at,
                )
                for a in attachments
            ],
            notes=[
                schemas.Note(id=n.id, author_id=n.author_id, text=n.text, created_at=n.created_at)
                for n in notes
            ],
            requests=[
                schemas.UnitRequest(
                    id=r.id,
                    unit=r.unit,
                    question=r.question,
                    due_at=r.due_at,
                    answer=r.answer,
                    answered_at=r.answered_at,
                    overdue=r.answered_at is None and r.due_at <= now,
                    created_at=r.created_at,
                )
                for r in requests
            ],
            measures=[
                schemas.Measure(
                    id=m.id,
                    description=m.description,
                    owner_id=m.owner_id,
                    due_at=m.due_at,
                    done_at=m.done_at,
                    created_at=m.created_at,
                )
                for m in measures
            ],
            letter=None
            if letter is None
            else schemas.Letter(
                public_id=letter.public_id,
                language=letter.language,
                pdf_sha256=letter.pdf_sha256,
                snapshot_sha256=letter.snapshot_sha256,
                sealed=letter.sealed_pdf_key is not None,
                verify_url=letter_url(self.core.base_url, letter.public_id),
                created_at=letter.created_at,
            ),
        )

    async def _staff_of(self, user_id: uuid.UUID, territory_id: uuid.UUID, field: str) -> None:
        """A staff user assigned to the territory (or an admin), else a 422 on ``field``."""
        found = await self.session.scalar(
            select(User.id).where(
                User.id == user_id,
                or_(
                    and_(User.role == Role.ADMIN.value, User.is_active.is_(True)),
                    staff_condition(territory_id, *_STAFF_ROLE_NAMES),
                ),
            )
        )
        if found is None:
            raise _invalid(field, "Not a staff member of the appeal's territory", "unknown_user")

    async def of_order(self, work_order_id: uuid.UUID) -> list[schemas.AppealSummary]:
        """The appeals about one work order, newest first (for the order's panel)."""
        self._require_staff()
        rows = (
            await self.session.scalars(
                self._scoped()
                .where(Appeal.work_order_id == work_order_id)
                .order_by(Appeal.registered_at.desc())
                .limit(20)
            )
        ).all()
        now = utcnow()
        return [summary_schema(a, now) for a in rows]

    async def territory_staff(self, territory_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str]]:
        """Active staff assigned to a territory (id, name, role): who may own its measures."""
        self._require_staff()
        rows = await self.session.execute(
            select(User.id, User.full_name, User.username, User.role)
            .where(staff_condition(territory_id, *_STAFF_ROLE_NAMES))
            .order_by(User.full_name, User.username)
        )
        return [(r.id, r.full_name or r.username, r.role) for r in rows]

    async def update(self, appeal_id: uuid.UUID, data: schemas.AppealUpdate) -> schemas.Appeal:
        """Owner, an extension within the maximum (with a reason), outside-competence notice."""
        self._require_staff()
        appeal = await self._open(appeal_id)
        before = {"owner_id": appeal.owner_id, "due_at": appeal.due_at}
        if isinstance(data.owner_id, uuid.UUID):
            await self._staff_of(data.owner_id, appeal.territory_id, "owner_id")
            appeal.owner_id = data.owner_id
        if isinstance(data.due_at, datetime):
            if data.due_at <= appeal.due_at:
                raise _invalid("due_at", "An extension moves the deadline later", "not_later")
            if data.due_at > appeal.max_due_at:
                raise _invalid(
                    "due_at", "Beyond the kind's maximum deadline", "beyond_max_deadline"
                )
            reason = require_text(
                data.extension_reason,
                "extension_reason",
                "Say why the deadline is extended",
                "reason_required",
            )
            appeal.due_at = data.due_at
            appeal.warning_at = max(appeal.warning_at, data.due_at - timedelta(days=1))
            appeal.extended_reason = reason
        if data.outside_competence is True and appeal.outside_competence_at is None:
            appeal.outside_competence_at = utcnow()
            zone = await self._zone(appeal)
            await self.core.notify(
                appeal,
                "appeal.outside_competence",
                zone,
                {
                    "appeal_number": appeal.number,
                    "status_url": self.core.status_url(appeal.id),
                },
            )
        if appeal.state == "registered":
            appeal.state = "in_progress"
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "appeal.updated",
            "appeal",
            appeal.id,
            before=before,
            after={
                "owner_id": appeal.owner_id,
                "due_at": appeal.due_at,
                "outside_competence_at": appeal.outside_competence_at,
            },
        )
        return await self._view(appeal)

    async def time_zone(self, appeal_id: uuid.UUID) -> str:
        """The zone of the appeal's territory (an appeal outside the caller's scope: NotFound)."""
        self._require_staff()
        return await self._zone(await self._get(appeal_id))

    async def _zone(self, appeal: Appeal) -> str:
        return cast(
            "str",
            await self.session.scalar(
                select(Territory.time_zone).where(Territory.id == appeal.territory_id)
            ),
        )

    async def attach(self, appeal_id: uuid.UUID, content: bytes, declared: str) -> schemas.Appeal:
        """Attach a file whose bytes are the type it declares (like photos), while open."""
        self._require_staff()
        file = check_attachment(content, declared)
        appeal = await self._open(appeal_id)
        count = await self.session.scalar(
            select(func.count()).where(AppealAttachment.appeal_id == appeal.id)
        )
        if (count or 0) >= MAX_ATTACHMENTS:
            raise _invalid("file", f"At most {MAX_ATTACHMENTS} files", "too_many_attachments")
        await self.core._store_attachment(appeal, file, content)
        return await self._view(appeal)

    async def add_note(self, appeal_id: uuid.UUID, data: schemas.NoteCreate) -> schemas.Appeal:
        """An internal note (any state: a note may follow the answer)."""
        self._require_staff()
        text = require_text(data.text, "text", "The note is empty", "text_required")
        appeal = await self._get(appeal_id, lock=True)
        self.session.add(AppealNote(appeal_id=appeal.id, author_id=self.actor.user_id, text=text))
        await self.session.flush()
        return await self._view(appeal)

    async def add_request(
        self, appeal_id: uuid.UUID, data: schemas.UnitRequestCreate
    ) -> schemas.Appeal:
        """Ask another unit, by a date no later than the appeal's own deadline."""
        self._require_staff()
        unit = require_text(data.unit, "unit", "Name the unit", "unit_required")
        question = require_text(data.question, "question", "Ask something", "question_required")
        appeal = await self._open(appeal_id)
        if data.due_at <= utcnow():
            raise _invalid("due_at", "The due date is in the past", "due_in_past")
        if data.due_at > appeal.due_at:
            raise _invalid("due_at", "Later than the appeal's own deadline", "after_deadline")
        self.session.add(
            AppealUnitRequest(
                appeal_id=appeal.id,
                unit=unit,
                question=question,
                due_at=data.due_at,
                created_by=self.actor.user_id,
            )
        )
        appeal.state = "in_progress"
        await self.session.flush()
        return await self._view(appeal)

    async def answer_request(
        self, appeal_id: uuid.UUID, request_id: uuid.UUID, data: schemas.UnitRequestAnswer
    ) -> schemas.Appeal:
        """Record the other unit's answer once."""
        self._require_staff()
        answer = require_text(data.answer, "answer", "The answer is empty", "answer_required")
        appeal = await self._get(appeal_id, lock=True)
        request = await self.session.scalar(
            select(AppealUnitRequest).where(
                AppealUnitRequest.id == request_id, AppealUnitRequest.appeal_id == appeal.id
            )
        )
        if request is None:
            raise NotFound("Request not found")
        if request.answered_at is not None:
            raise Conflict("The request is already answered", code="already_answered")
        request.answer = answer
        request.answered_at = utcnow()
        await self.session.flush()
        return await self._view(appeal)

    async def decide(self, appeal_id: uuid.UUID, data: schemas.DecisionCreate) -> schemas.Appeal:
        """A complaint's decision with reasons and taxonomy codes (complaints only)."""
        self._require_staff()
        reasons = require_text(
            data.reasons, "reasons", "A decision needs its reasons", "reasons_required"
        )
        codes = list(dict.fromkeys(data.reason_codes))
        if codes:
            known = set(
                (
                    await self.session.scalars(
                        select(AppealReason.code).where(
                            AppealReason.code.in_(codes), AppealReason.active.is_(True)
                        )
                    )
                ).all()
            )
            unknown = [c for c in codes if c not in known]
            if unknown:
                raise _invalid(
                    "reason_codes", f"Unknown reasons: {', '.join(unknown)}", "unknown_reason"
                )
        appeal = await self._open(appeal_id)
        if appeal.kind not in COMPLAINT_KINDS:
            raise Conflict("Only complaints and claims are decided", code="not_a_complaint")
        before = {"decision": appeal.decision}
        appeal.decision = data.decision
        appeal.decision_reasons = reasons
        appeal.reason_codes = codes
        appeal.decided_at = utcnow()
        appeal.state = "in_progress"
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "appeal.decided",
            "appeal",
            appeal.id,
            before=before,
            after={"decision": data.decision, "reason_codes": codes},
        )
        return await self._view(appeal)

    async def add_measure(
        self, appeal_id: uuid.UUID, data: schemas.MeasureCreate
    ) -> schemas.Appeal:
        """A corrective measure of a (partly) justified complaint."""
        self._require_staff()
        description = require_text(
            data.description, "description", "Describe the measure", "description_required"
        )
        appeal = await self._get(appeal_id, lock=True)
        if appeal.decision not in ("justified", "partly"):
            raise Conflict("Measures are set for a complaint found justified", code="not_justified")
        if data.due_at <= utcnow():
            raise _invalid("due_at", "The due date is in the past", "due_in_past")
        await self._staff_of(data.owner_id, appeal.territory_id, "owner_id")
        self.session.add(
            AppealMeasure(
                appeal_id=appeal.id,
                description=description,
                owner_id=data.owner_id,
                due_at=data.due_at,
            )
        )
        await self.session.flush()
        return await self._view(appeal)

    async def refuse(self, appeal_id: uuid.UUID, data: schemas.AppealRefusal) -> schemas.Appeal:
        """Leave the appeal unconsidered on a listed ground; the customer is told."""
        self._require_staff()
        appeal = await self._open(appeal_id)
        now = utcnow()
        appeal.state = "refused"
        appeal.refusal_ground = data.ground
        appeal.refusal_note = (data.note or "").strip() or None
        appeal.closed_at = now
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "appeal.refused",
            "appeal",
            appeal.id,
            before={"state": "open"},
            after={"state": "refused", "ground": data.ground},
        )
        await self.core.notify(
            appeal,
            "appeal.refused",
            await self._zone(appeal),
            {
                "appeal_number": appeal.number,
                "status_url": self.core.status_url(appeal.id),
            },
        )
        return await self._view(appeal)

    async def close_answered(self, appeal: Appeal, merits: str) -> None:
        """Mark the appeal answered on the merits (the letter is stored by the caller)."""
        now = utcnow()
        appeal.state = "answered"
        appeal.answer_text = merits
        appeal.answered_at = now
        appeal.closed_at = now
        appeal.owner_id = appeal.owner_id or self.actor.user_id
        await self.session.flush()

    async def policies(self) -> list[schemas.PolicyView]:
        """The kinds' control deadlines."""
        self._require_staff()
        rows = (await self.session.scalars(select(AppealPolicy).order_by(AppealPolicy.kind))).all()
        return [_policy_view(p) for p in rows]

    async def put_policy(self, kind: str, data: schemas.PolicyUpdate) -> schemas.PolicyView:
        """Change a kind's deadlines (admin); appeals registered later follow it."""
        if not self.actor.is_admin:
            raise Forbidden("Only an administrator changes the appeal deadlines")
        if data.merits_days > data.max_days:
            raise _invalid("merits_days", "Longer than the maximum", "merits_after_max")
        row = await self.session.get(AppealPolicy, kind, with_for_update=True)
        if row is None:
            raise NotFound("No such kind")
        before = _policy_view(row)
        row.merits_days = data.merits_days
        row.max_days = data.max_days
        row.day_kind = data.day_kind
        row.competence_working_days = data.competence_working_days
        row.warning_ratio = data.warning_ratio
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "appeal.policy",
            "appeal_policy",
            kind,
            before=before,
            after=_policy_view(row),
        )
        return _policy_view(row)

    async def reasons(self) -> list[schemas.ReasonView]:
        """The complaint-reason taxonomy."""
        self._require_staff()
        rows = (await self.session.scalars(select(AppealReason).order_by(AppealReason.code))).all()
        return [schemas.ReasonView(code=r.code, names=dict(r.names), active=r.active) for r in rows]

    async def put_reason(self, code: str, data: schemas.ReasonPut) -> schemas.ReasonView:
        """Create, rename or retire a reason (admin); codes are never reused for another."""
        if not self.actor.is_admin:
            raise Forbidden("Only an administrator edits the reasons")
        if not REASON_CODE.fullmatch(code):
            raise _invalid("code", "lower-case letters, digits and _, 2-40", "bad_code")
        names = {
            "ru": data.names.ru.strip(),
            "kk": data.names.kk.strip(),
            "en": data.names.en.strip(),
        }
        for language, name in names.items():
            if not name:
                raise _invalid(f"names.{language}", "A name is empty", "name_required")
        row = await self.session.scalar(
            select(AppealReason).where(AppealReason.code == code).with_for_update()
        )
        if row is None:
            row = AppealReason(code=code, names=names, active=data.active)
            self.session.add(row)
        else:
            row.names = names
            row.active = data.active
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "appeal.reason",
            "appeal_reason",
            code,
            after={"names": names, "active": data.active},
        )
        return schemas.ReasonView(code=row.code, names=dict(row.names), active=row.active)


def _policy_view(row: AppealPolicy) -> schemas.PolicyView:
    return schemas.PolicyView(
        kind=cast("schemas.AppealKind", row.kind),
        merits_days=row.merits_days,
        max_days=row.max_days,
        day_kind=cast("schemas.DayKind", row.day_kind),
        competence_working_days=row.competence_working_days,
        warning_ratio=row.warning_ratio,
    )


# -- the public side -----------------------------------------------------------------------


async def find_by_status_token(
    session: AsyncSession, token: str
) -> tuple[Appeal, str, AppealLetter | None] | None:
    """The appeal a status token opens, its territory's zone and its letter (None otherwise)."""
    if not 16 <= len(token) <= 100:
        return None
    row = (
        await session.execute(
            select(Appeal, Territory.time_zone, AppealLetter)
            .join(Territory, Territory.id == Appeal.territory_id)
            .outerjoin(AppealLetter, AppealLetter.appeal_id == Appeal.id)
            .where(Appeal.status_token_hash == link_token_hash(token))
        )
    ).one_or_none()
    if row is None:
        return None
    return row[0], row[1], row[2]


# -- escalation ----------------------------------------------------------------------------


async def escalate_appeals(
    session: AsyncSession,
    _store: object = None,
    *,
    settings: EscalationSettings | None = None,
    now: datetime | None = None,
    limit: int = ESCALATION_BATCH,
) -> int:
    """Raise warning, breach and head escalations of open appeals' deadlines; returns how many.

    The levels and their recipients are the order clocks' (``escalations.services``): the
    warning to the territory's dispatchers, the breach to its coordinators, the head of the unit
    (its supervisors, seed 001 §6.2) after the configured delay. Each level is raised once per
    appeal and due time (unique constraint, ON CONFLICT DO NOTHING), so concurrent workers and
    reruns add nothing. The caller commits.
    """
    now = now or utcnow()
    policy = EscalationPolicy.from_settings(settings or EscalationSettings())
    # The highest level due now; an appeal that already has it for this due time is done until
    # its due time moves, so it is not picked again to crowd the rest out of the batch.
    top_level = case(
        (Appeal.due_at + policy.head_delay <= now, HEAD),
        (Appeal.due_at <= now, BREACH),
        else_=WARNING,
    )
    raised_top = exists().where(
        AppealEscalation.appeal_id == Appeal.id,
        AppealEscalation.due_at == Appeal.due_at,
        AppealEscalation.level == top_level,
    )
    appeals = (
        await session.execute(
            select(Appeal, Territory.code, Territory.time_zone)
            .join(Territory, Territory.id == Appeal.territory_id)
            .where(Appeal.closed_at.is_(None), Appeal.warning_at <= now, ~raised_top)
            .order_by(Appeal.due_at)
            .limit(limit)
            .with_for_update(of=Appeal, skip_locked=True)
        )
    ).all()
    raised = 0
    recipients: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for appeal, code, zone in appeals:
        view = ClockView(_RUNNING, appeal.due_at, appeal.warning_at)
        for level in due_levels(view, now, policy.head_delay):
            role = RECIPIENT_ROLE[level]
            key = (appeal.territory_id, role)
            if key not in recipients:
                recipients[key] = await staff_ids(session, appeal.territory_id, role)
            escalation_id = await session.scalar(
                insert(AppealEscalation)
                .values(
                    id=uuid.uuid4(),
                    appeal_id=appeal.id,
                    level=level,
                    due_at=appeal.due_at,
                    recipient_role=role,
                    recipient_ids=recipients[key],
                    created_at=now,
                )
                .on_conflict_do_nothing(constraint="uq_appeal_escalations_occurrence")
                .returning(AppealEscalation.id)
            )
            if escalation_id is None:
                continue
            raised += 1
            for recipient in staff_recipients(role, code, recipients[key]):
                await enqueue(
                    session,
                    event=f"appeal.escalation.{level}",
                    event_key=str(escalation_id),
                    channel="webhook",
                    recipient=recipient,
                    language="ru",
                    time_zone=zone,
                    context={
                        "appeal_number": appeal.number,
                        "level": level,
                        "due_at": appeal.due_at,
                    },
                    now=now,
                )
    return raised
