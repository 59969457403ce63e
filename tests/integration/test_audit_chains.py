"""Audit chains per shard: appends on other aggregates do not wait; every chain verifies."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.chain import GENESIS_HASH, entry_hash
from service.audit.services import (
    LEGACY_CHAIN,
    audit_batch,
    chain_of,
    record,
    verify_chain,
)
from service.db.models import AuditEntry
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


def _ids_in_other_chains(count: int) -> list[str]:
    """New entity ids whose aggregates land in ``count`` different chains."""
    found: dict[int, str] = {}
    prefix = uuid.uuid4().hex
    n = 0
    while len(found) < count:
        found.setdefault(chain_of("test", f"{prefix}-{n}"), f"{prefix}-{n}")
        n += 1
    return list(found.values())


async def _insert_raw(session: AsyncSession, chain: int, prev: str, entity_id: str) -> str:
    """An entry written straight into the table (as before the split, or by a forger)."""
    at = datetime(2030, 1, 1, tzinfo=UTC)
    digest = entry_hash(
        prev_hash=prev,
        occurred_at=at,
        actor_user_id=None,
        actor_role=None,
        action="test.raw",
        entity_type="test",
        entity_id=entity_id,
        before=None,
        after=None,
    )
    await session.execute(
        text(
            "INSERT INTO audit_log (occurred_at, action, entity_type, entity_id, chain,"
            " prev_hash, hash) VALUES (:at, 'test.raw', 'test', :id, :chain, :prev, :hash)"
        ),
        {"at": at, "id": entity_id, "chain": chain, "prev": prev, "hash": digest},
    )
    return digest


async def test_an_open_append_does_not_hold_up_another_aggregate(build: Builder) -> None:
    first, second = _ids_in_other_chains(2)
    async with build.sessionmaker() as holding:
        await record(holding, None, "test.slow", "test", first)
        # The first transaction still holds its chain's lock; another aggregate's append commits.
        async with build.sessionmaker() as other:
            await asyncio.wait_for(record(other, None, "test.fast", "test", second), timeout=5)
            await other.commit()
        # The same aggregate does wait for it (its chain must not fork).
        async with build.sessionmaker() as same:
            waiting = asyncio.ensure_future(record(same, None, "test.same", "test", first))
            await asyncio.sleep(0.5)
            assert not waiting.done()
            await holding.commit()
            await asyncio.wait_for(waiting, timeout=5)
            await same.commit()
    async with build.sessionmaker() as session:
        assert (await verify_chain(session)).intact


async def test_concurrent_batches_over_many_chains_never_fork(build: Builder) -> None:
    ids = _ids_in_other_chains(6)

    async def batch(n: int) -> None:
        async with build.sessionmaker() as session:
            async with audit_batch(session):
                # Each batch touches the chains in another order: locks are taken sorted.
                for entity_id in ids[n % 6 :] + ids[: n % 6]:
                    await record(session, None, "test.batch", "test", entity_id, after={"n": n})
            await session.commit()

    await asyncio.gather(*(batch(n) for n in range(6)))
    async with build.sessionmaker() as session:
        report = await verify_chain(session)
    assert report.intact
    assert report.entries == await build.count(AuditEntry)
    for entity_id in ids:
        assert await build.count(AuditEntry, AuditEntry.entity_id == entity_id) == 6


async def test_a_batch_queues_until_it_ends_and_drops_nothing_it_keeps(build: Builder) -> None:
    async with build.sessionmaker() as session:
        async with audit_batch(session) as queued:
            entry = await record(session, None, "test.kept", "test", "batch-1")
            await record(session, None, "test.dropped", "test", "batch-1")
            assert entry.id is None  # not written yet
            del queued[1:]  # as a caller undoing a savepoint does
        await session.commit()
    assert entry.id is not None
    assert await build.count(AuditEntry, AuditEntry.action == "test.kept") == 1
    assert await build.count(AuditEntry, AuditEntry.action == "test.dropped") == 0


async def test_legacy_entries_verify_and_a_forged_link_is_found(build: Builder) -> None:
    # Legacy rows and forgeries are rolled back: the other tests verify the shared log.
    async with build.sessionmaker() as session:
        head = GENESIS_HASH
        first_legacy = await session.scalar(text("SELECT count(*) FROM audit_log WHERE chain = 0"))
        assert first_legacy == 0
        for n in range(3):
            head = await _insert_raw(session, LEGACY_CHAIN, head, f"legacy-{n}")
        await record(session, None, "test.appended", "test", "after-split")
        report = await verify_chain(session)
        assert report.intact
        assert report.entries == await session.scalar(text("SELECT count(*) FROM audit_log"))
        await session.rollback()

    async with build.sessionmaker() as session:
        # An entry slipped into a chain with a made-up predecessor breaks it there.
        forged_id = f"forged-{uuid.uuid4().hex}"
        await _insert_raw(session, chain_of("test", forged_id), "f" * 64, forged_id)
        forged = await session.scalar(
            text("SELECT id FROM audit_log WHERE entity_id = :id"), {"id": forged_id}
        )
        report = await verify_chain(session)
        await session.rollback()
    assert report.first_broken_id == forged


async def test_an_entry_in_the_wrong_chain_is_found(build: Builder) -> None:
    entity_id = f"misplaced-{uuid.uuid4().hex}"
    wrong = 1 + chain_of("test", entity_id) % 64
    async with build.sessionmaker() as session:
        await _insert_raw(session, wrong, GENESIS_HASH, entity_id)
        report = await verify_chain(session)
        await session.rollback()
    assert not report.intact
