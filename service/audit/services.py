"""Appending to and verifying the audit chains, in the caller's transaction.

The log is split into ``CHAIN_SHARDS`` hash chains; an entry joins the chain its aggregate
(entity type and id) hashes to, so one aggregate's history is one chain, in order. An append
locks only its chain's advisory lock (held to COMMIT, so the chain never forks): writers on other
aggregates mostly take other locks and do not queue behind it. Chain 0 is the legacy chain:
entries written before the split (migration 0022), verified as they were, never appended to.

A caller applying many changes in one transaction (the sync push) opens an ``audit_batch``:
entries are kept and appended together at its end, with one lock statement, one read of the
chain heads and one insert.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import SmallInteger

from service.audit.chain import GENESIS_HASH, entry_hash
from service.common.actor import Actor
from service.db.base import utcnow
from service.db.models import AuditEntry

LEGACY_CHAIN = 0
CHAIN_SHARDS = 64
# First half of the two-int advisory lock key of a chain; the second half is the chain number.
_AUDIT_LOCK_NAMESPACE = 0x6E61
_BATCH_KEY = "naryad.audit_batch"

_LOCK_CHAINS = text(
    "SELECT count(pg_advisory_xact_lock(:namespace, chain)) FROM unnest(:chains) AS chain"
).bindparams(bindparam("chains", type_=ARRAY(SmallInteger)))
_CHAIN_HEADS = text(
    "SELECT chain, (SELECT hash FROM audit_log WHERE audit_log.chain = heads.chain "
    "ORDER BY id DESC LIMIT 1) FROM unnest(:chains) AS heads(chain)"
).bindparams(bindparam("chains", type_=ARRAY(SmallInteger)))


def to_audit_json(value: Any) -> Any:
    """Plain JSON-able data (UUIDs, datetimes and structs become strings and dicts)."""
    return msgspec.json.decode(msgspec.json.encode(value)) if value is not None else None


def chain_of(entity_type: str, entity_id: str) -> int:
    """The chain (1..CHAIN_SHARDS) an aggregate's entries join."""
    digest = hashlib.sha256(f"{entity_type}\n{entity_id}".encode()).digest()
    return 1 + int.from_bytes(digest[:4], "big") % CHAIN_SHARDS


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
    """Append one entry to its aggregate's chain, in the current transaction.

    Inside an ``audit_batch`` the entry is only queued: its id and hash are set when the batch
    ends.
    """
    entry = AuditEntry(
        occurred_at=utcnow(),
        actor_user_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=to_audit_json(before),
        after=to_audit_json(after),
    )
    entry.chain = chain_of(entry.entity_type, entry.entity_id)
    queued: list[AuditEntry] | None = session.info.get(_BATCH_KEY)
    if queued is not None:
        queued.append(entry)
        return entry
    await append(session, [entry])
    return entry


@asynccontextmanager
async def audit_batch(session: AsyncSession) -> AsyncIterator[list[AuditEntry]]:
    """Queue the entries recorded inside; append them together when the block ends normally.

    The yielded list is the queue: a caller that rolls back part of its work (a savepoint)
    drops the entries that work queued by truncating it.
    """
    if _BATCH_KEY in session.info:
        raise RuntimeError("audit batches do not nest")
    queued: list[AuditEntry] = []
    session.info[_BATCH_KEY] = queued
    try:
        yield queued
    finally:
        del session.info[_BATCH_KEY]
    await append(session, queued)


async def append(session: AsyncSession, entries: list[AuditEntry]) -> None:
    """Chain and insert entries (their ``chain`` set), in their order within each chain."""
    if not entries:
        return
    chains = sorted({entry.chain for entry in entries})
    # Sorted, so two transactions locking several chains always queue in the same order.
    await session.execute(_LOCK_CHAINS, {"namespace": _AUDIT_LOCK_NAMESPACE, "chains": chains})
    heads: dict[int, str] = {
        chain: head or GENESIS_HASH
        for chain, head in await session.execute(_CHAIN_HEADS, {"chains": chains})
    }
    for entry in entries:
        entry.prev_hash = heads[entry.chain]
        entry.hash = _hash_of(entry)
        heads[entry.chain] = entry.hash
    session.add_all(entries)
    await session.flush()


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
    """Result of walking the chains."""

    entries: int
    first_broken_id: int | None
    chains: int = 0

    @property
    def intact(self) -> bool:
        """True when every link and hash checks out."""
        return self.first_broken_id is None


async def verify_chain(session: AsyncSession, batch: int = 5000) -> ChainReport:
    """Recompute every hash, chain by chain in order; report the first entry that does not match.

    Every entry must also sit in the chain its aggregate hashes to (legacy entries excepted), so
    moving an entry between chains is caught as well as changing it.
    """
    await session.execute(text("SET TRANSACTION READ ONLY"))
    count = chains = 0
    last_chain, last_id = -1, 0
    expected_prev = GENESIS_HASH
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(tuple_(AuditEntry.chain, AuditEntry.id) > tuple_(last_chain, last_id))
                .order_by(AuditEntry.chain, AuditEntry.id)
                .limit(batch)
            )
        ).all()
        if not rows:
            return ChainReport(entries=count, first_broken_id=None, chains=chains)
        for entry in rows:
            if entry.chain != last_chain:
                expected_prev = GENESIS_HASH
                chains += 1
            misplaced = entry.chain != LEGACY_CHAIN and entry.chain != chain_of(
                entry.entity_type, entry.entity_id
            )
            if misplaced or entry.prev_hash != expected_prev or _hash_of(entry) != entry.hash:
                return ChainReport(entries=count, first_broken_id=entry.id, chains=chains)
            expected_prev = entry.hash
            count += 1
            last_chain, last_id = entry.chain, entry.id
