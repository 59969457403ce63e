"""Admin operations: replay or drop outbox messages, manage staff accounts (all audited)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.admin import schemas
from service.audit.services import record
from service.auth.passwords import hash_password
from service.auth.services import AuthService
from service.common.actor import Actor
from service.common.pagination import keyset_page, split_page
from service.common.patching import changed_fields
from service.db.base import utcnow
from service.db.models import OutboxMessage, Territory, User
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.notifications.templates import secret_fields
from service.settings import AuthSettings

STAFF_ROLES = ("dispatcher", "coordinator", "supervisor")


def is_retriable(message: OutboxMessage) -> bool:
    """Whether sending it again would send what was meant (its link or code still there)."""
    if message.status not in ("dead", "pending"):
        return False
    return all(name in message.context for name in secret_fields(message.template))


def outbox_schema(message: OutboxMessage) -> schemas.OutboxMessage:
    """The API view: no address, no context (links, codes, personal data)."""
    return schemas.OutboxMessage(
        id=message.id,
        created_at=message.created_at,
        event=message.event,
        template=message.template,
        channel=message.channel,
        recipient_kind=message.recipient_kind,
        language=message.language,
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        last_error=message.last_error,
        retriable=is_retriable(message),
    )


def _audit_view(message: OutboxMessage) -> dict[str, Any]:
    return {
        "event": message.event,
        "template": message.template,
        "channel": message.channel,
        "status": message.status,
        "attempts": message.attempts,
    }


class OutboxAdminService:
    """Dead and pending messages: list, send again, or drop."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def page(
        self, status: schemas.OutboxListStatus, cursor: str | None, limit: int
    ) -> schemas.OutboxPage:
        """Messages in one status, newest first."""
        stmt = keyset_page(
            select(OutboxMessage).where(OutboxMessage.status == status),
            OutboxMessage,
            cursor,
            limit,
        )
        rows = (await self.session.scalars(stmt)).all()
        items, next_cursor = split_page(rows, limit, lambda m: (m.created_at, m.id))
        return schemas.OutboxPage(items=[outbox_schema(m) for m in items], next_cursor=next_cursor)

    async def _locked(self, message_id: uuid.UUID) -> OutboxMessage:
        message = await self.session.scalar(
            select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
        )
        if message is None:
            raise NotFound("No such outbox message")
        return message

    async def retry(self, message_id: uuid.UUID) -> OutboxMessage:
        """A dead or pending message is due now, with its attempts counted afresh."""
        message = await self._locked(message_id)
        if message.status not in ("dead", "pending"):
            raise Conflict(f"A {message.status} message cannot be retried", code="not_retriable")
        if not is_retriable(message):
            raise Conflict(
                "The message's one-time link or code was removed when it died; "
                "send the customer a new one instead",
                code="secret_removed",
            )
        before = _audit_view(message)
        message.status = "pending"
        message.attempts = 0
        message.last_error = None
        # The quiet-hours floor stays: never earlier than not_before.
        message.next_attempt_at = func.greatest(func.now(), OutboxMessage.not_before)
        await self.session.flush()
        await self.session.refresh(message)
        await record(
            self.session,
            self.actor,
            "outbox.retried",
            "outbox_message",
            message.id,
            before=before,
            after=_audit_view(message),
        )
        return message

    async def discard(self, message_id: uuid.UUID) -> None:
        """Drop a dead or pending message for good (the audit log keeps what it was)."""
        message = await self._locked(message_id)
        if message.status not in ("dead", "pending"):
            raise Conflict(
                f"A {message.status} message cannot be discarded", code="not_discardable"
            )
        before = _audit_view(message)
        await self.session.execute(delete(OutboxMessage).where(OutboxMessage.id == message.id))
        await record(
            self.session,
            self.actor,
            "outbox.discarded",
            "outbox_message",
            message_id,
            before=before,
        )


def staff_schema(user: User) -> schemas.StaffUser:
    """The API view of a staff account."""
    return schemas.StaffUser(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        territory_ids=sorted(t.id for t in user.territories),
        active=user.is_active,
        created_at=user.created_at,
    )


def _staff_audit(user: User) -> dict[str, Any]:
    # No name: the audit log is kept for years and needs only what changed the access.
    return {
        "username": user.username,
        "role": user.role,
        "territory_ids": sorted(str(t.id) for t in user.territories),
        "active": user.is_active,
    }


class StaffUserService:
    """Dispatchers, coordinators and supervisors: created, scoped, deactivated."""

    def __init__(self, session: AsyncSession, actor: Actor, auth: AuthSettings) -> None:
        self.session = session
        self.actor = actor
        self.auth = auth

    async def page(
        self, role: schemas.StaffRole | None, active: bool | None, cursor: str | None, limit: int
    ) -> schemas.StaffUserPage:
        """Staff accounts, newest first."""
        stmt = (
            select(User).where(User.role.in_(STAFF_ROLES)).options(selectinload(User.territories))
        )
        if role is not None:
            stmt = stmt.where(User.role == role)
        if active is not None:
            stmt = stmt.where(User.is_active.is_(active))
        rows = (await self.session.scalars(keyset_page(stmt, User, cursor, limit))).all()
        items, next_cursor = split_page(rows, limit, lambda u: (u.created_at, u.id))
        return schemas.StaffUserPage(
            items=[staff_schema(u) for u in items], next_cursor=next_cursor
        )

    async def get(self, user_id: uuid.UUID) -> User:
        """A staff account (admins and technicians are not managed here: 404)."""
        user = await self.session.scalar(
            select(User)
            .where(User.id == user_id, User.role.in_(STAFF_ROLES))
            .options(selectinload(User.territories))
            .execution_options(populate_existing=True)
        )
        if user is None:
            raise NotFound("No such staff account")
        return user

    async def create(self, data: schemas.StaffUserCreate) -> User:
        """A new staff account in its territories."""
        territories = await self._territories(data.territory_ids)
        if await self.session.scalar(select(exists().where(User.username == data.username))):
            raise Conflict(f"Username {data.username} is taken", code="duplicate_username")
        user = User(
            username=data.username,
            password_hash=hash_password(data.password),
            role=data.role,
            full_name=data.full_name,
            territories=territories,
        )
        self.session.add(user)
        await self.session.flush()
        user = await self.get(user.id)
        await record(
            self.session, self.actor, "user.created", "user", user.id, after=_staff_audit(user)
        )
        return user

    async def update(self, user_id: uuid.UUID, patch: schemas.StaffUserUpdate) -> User:
        """Rename or re-scope an account."""
        user = await self.get(user_id)
        before = _staff_audit(user)
        changes = changed_fields(patch)
        if "territory_ids" in changes:
            user.territories = await self._territories(changes["territory_ids"])
        if "full_name" in changes:
            user.full_name = changes["full_name"]
        await self.session.flush()
        user = await self.get(user_id)
        await record(
            self.session,
            self.actor,
            "user.updated",
            "user",
            user.id,
            before=before,
            after=_staff_audit(user),
        )
        return user

    async def deactivate(self, user_id: uuid.UUID) -> None:
        """The account can no longer log in, and its sessions end at once (every surface)."""
        user = await self.get(user_id)
        before = _staff_audit(user)
        user.is_active = False
        await AuthService(self.session, self.auth).revoke_user(user.id)
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "user.deactivated",
            "user",
            user.id,
            before=before,
            after=_staff_audit(user) | {"sessions_revoked_at": utcnow().isoformat()},
        )

    async def _territories(self, territory_ids: list[uuid.UUID]) -> list[Territory]:
        wanted = set(territory_ids)
        found = list(
            (await self.session.scalars(select(Territory).where(Territory.id.in_(wanted)))).all()
        )
        missing = wanted - {t.id for t in found}
        if missing:
            raise ValidationFailed(
                "Unknown territories",
                errors=[
                    FieldError(field="territory_ids", message=f"unknown territory {m}")
                    for m in sorted(missing)
                ],
            )
        return found
