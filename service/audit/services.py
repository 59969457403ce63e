"""Appending to and verifying the audit chain, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.chain import GENESIS_HASH, entry_hash
from service.common.actor import Actor
from service.db.base import utcnow
from service.db.models import AuditEntry

# One advisory lock serialises appends so the chain never forks; it is held until the
# transaction ends, which is why services append their audit entry as their last write.
_AUDIT_CHAIN_LOCK = 0x6E61727961640001


def to_audit_json(value: Any) -> Any:
    """Plain JSON-able data (UUIDs, datetimes and structs become strings and dicts)."""
    return msgspec.json.decode(msgspec.json.encode(value)) if value is not None else None


async def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry, chained to the latest, in the current transaction."""
    await session.execute(select(func.pg_advisory_xact_lock(_AUDIT_CHAIN_LOCK)))
    prev_hash = await session.scalar(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    )
    entry = AuditEntry(
        occurred_at=utcnow(),
        actor_user_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=to_audit_json(before),
        after=to_audit_json(after),
        prev_hash=prev_hash or GENESIS_HASH,
    )
    entry.hash = _hash_of(entry)
    session.add(entry)
    await session.flush()
    return entry


def _hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        prev_hash=entry.prev_hash,
        occurred_at=entry.occurred_at,
        actor_user_id=str(entry.actor_user_id) if entry.actor_user_id else None,
        actor_role=entry.actor_role,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        before=entry.before,
        after=entry.after,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Result of walking the chain."""

    entries: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        """True when every link and hash checks out."""
        return self.first_broken_id is None


async def verify_chain(session: AsyncSession, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    await session.execute(text("SET TRANSACTION READ ONLY"))
    expected_prev = GENESIS_HASH
    count = 0
    last_id = 0
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.id > last_id)
                .order_by(AuditEntry.id)
                .limit(batch)
            )
        ).all()
        if not rows:
            return ChainReport(entries=count, first_broken_id=None)
        for entry in rows:
            if entry.prev_hash != expected_prev or _hash_of(entry) != entry.hash:
                return ChainReport(entries=count, first_broken_id=entry.id)
            expected_prev = entry.hash
            count += 1
            last_id = entry.id
