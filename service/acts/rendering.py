"""The worker's half of signing: the PDF (and seal) of acts the customer has just signed.

The customer's submit stores the signature, the snapshot's hash and the act's ``signed``
status in one transaction and answers at once; rendering with reportlab and sealing with
pyHanko take seconds, so they happen here. Safe as many processes: each act is claimed with
``FOR UPDATE SKIP LOCKED`` inside the transaction that stores its PDF, so two workers never
render the same act, and a worker that dies leaves the act to the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from service.acts.sealing import SealConfigError, Sealer, load_sealer
from service.acts.services import ActService
from service.auth.services import AuthService
from service.common.actor import Actor
from service.db.models import Act, User
from service.settings import Settings
from service.storage import BlobStore

logger = logging.getLogger("naryad.acts.rendering")

# An act whose rendering failed waits this long before it is tried again by this process,
# so that it cannot keep the acts signed after it waiting.
RETRY_SECONDS = 60.0


def worker_sealer(settings: Settings) -> Sealer | None:
    """The configured seal; a broken configuration leaves acts unsealed, not unrendered."""
    try:
        return load_sealer(settings.seal)
    except SealConfigError as exc:
        logger.error("acts will not be sealed: %s", exc)
        return None


@dataclass
class ActRenderer:
    """Claims signed acts still without a PDF, oldest first, and renders them one by one."""

    sessionmaker: async_sessionmaker[AsyncSession]
    store: BlobStore
    settings: Settings
    sealer: Sealer | None = None
    _retry_at: dict[uuid.UUID, float] = field(default_factory=dict)

    async def render_next(self, act_id: uuid.UUID | None = None) -> uuid.UUID | None:
        """Render one waiting act (``act_id``: that one only); its id, or None when none waits.

        None also when every waiting act is being rendered by another worker.
        """
        now = time.monotonic()
        waiting = [act_id for act_id, at in self._retry_at.items() if at > now]
        async with self.sessionmaker() as session, session.begin():
            query = (
                select(Act)
                .where(Act.status == "signed", Act.pdf_key.is_(None))
                .order_by(Act.signed_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if waiting:
                query = query.where(Act.id.not_in(waiting))
            if act_id is not None:
                query = query.where(Act.id == act_id)
            act = await session.scalar(query)
            if act is None:
                return None
            try:
                service = ActService(
                    session,
                    await self._signer(session, act),
                    settings=self.settings,
                    blob_store=self.store,
                    sealer=self.sealer,
                )
                await service.render_signed(act, await service.photo_assets(act))
            except Exception:
                self._retry_at[act.id] = time.monotonic() + RETRY_SECONDS
                raise
        self._retry_at.pop(act.id, None)
        return act.id

    async def _signer(self, session: AsyncSession, act: Act) -> Actor:
        # The PDF is recorded in the name of whoever recorded the signature.
        user = await session.scalar(
            select(User).where(User.id == act.signed_by).options(selectinload(User.territories))
        )
        if user is None:
            raise LookupError(f"act {act.id}: the user who recorded the signature is gone")
        return await AuthService(session, self.settings.auth).actor_for(user)

    async def drain(self, limit: int = 100) -> int:
        """Render every waiting act (up to ``limit``); how many were rendered."""
        done = 0
        while done < limit:
            try:
                rendered = await self.render_next()
            except Exception:
                # That act waits RETRY_SECONDS; the others are taken at the next poll.
                logger.exception("an act could not be rendered; retrying later")
                break
            if rendered is None:
                break
            done += 1
        return done

    async def loop(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """Render acts as they are signed, until ``stop``."""
        while not stop.is_set():
            try:
                await self.drain()
            except Exception:
                logger.exception("rendering signed acts failed; retrying later")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
