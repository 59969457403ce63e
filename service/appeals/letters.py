"""The answer letter: rendered by ``reports`` on the letterhead in the customer's language,
stored once (content-addressed, SHA-256 checked, Object Lock retention like acts), sealed with
the acts' certificate when one is configured, sent by the customer's channel, verifiable by its
public id like an act.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any, cast

import anyio.to_thread
import msgspec
from litestar.datastructures import State
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.errors import SealError, UnsupportedCharacter
from reports.letter import (
    LetterIssuer,
    LetterMeasure,
    LetterSnapshot,
    Responsible,
    letter_sha256,
    render_letter,
)
from service.acts.sealing import Sealer
from service.acts.services import sealer_from_state
from service.appeals import schemas
from service.appeals.deadlines import salutation_gender, salutation_name
from service.appeals.services import (
    AppealService,
    _invalid,
    letter_url,
    require_text,
)
from service.audit.services import record
from service.db.models import Appeal, AppealLetter, AppealMeasure, Territory, User
from service.errors import Conflict, ValidationFailed
from service.storage import act_retain_until
from service.storage.keys import blob_key

logger = logging.getLogger("naryad.appeals")

_ROLE_NAMES = {
    "ru": {
        "coordinator": "Координатор",
        "supervisor": "Руководитель подразделения",
        "admin": "Администратор",
        "dispatcher": "Диспетчер",
    },
    "kk": {
        "coordinator": "Үйлестіруші",
        "supervisor": "Бөлімше басшысы",
        "admin": "Әкімші",
        "dispatcher": "Диспетчер",
    },
    "en": {
        "coordinator": "Coordinator",
        "supervisor": "Head of unit",
        "admin": "Administrator",
        "dispatcher": "Dispatcher",
    },
}


def sealer_for(state: State) -> Sealer | None:
    """The acts' seal, when configured."""
    return sealer_from_state(state)


def new_public_id() -> str:
    """A public id like an act's: 22 URL-safe characters."""
    return secrets.token_urlsafe(16)


class LetterService:
    """Answers an appeal with a letter."""

    def __init__(self, appeals: AppealService, sealer: Sealer | None) -> None:
        self.appeals = appeals
        self.session: AsyncSession = appeals.session
        self.sealer = sealer

    async def answer(self, appeal_id: Any, data: schemas.AnswerCreate) -> schemas.Appeal:
        """Answer on the merits: letter rendered, stored, sealed, the customer sent its link."""
        appeals = self.appeals
        appeals._require_staff()
        merits = require_text(
            data.merits, "merits", "The answer needs its substance", "merits_required"
        )
        appeal = await appeals._open(appeal_id)
        if appeal.kind in ("complaint", "quality_claim") and appeal.decision is None:
            raise Conflict(
                "A complaint is answered after it is found justified or not",
                code="decision_required",
            )
        measures = (
            await self.session.scalars(
                select(AppealMeasure)
                .where(AppealMeasure.appeal_id == appeal.id)
                .order_by(AppealMeasure.due_at, AppealMeasure.id)
            )
        ).all()
        if appeal.decision == "justified" and not measures:
            raise Conflict(
                "A justified complaint needs its corrective measures first",
                code="measures_required",
            )
        settings = appeals.settings
        territory = await self.session.get_one(Territory, appeal.territory_id)
        responsible = await self.session.get_one(User, appeal.owner_id or appeals.actor.user_id)
        public_id = new_public_id()
        snapshot = self._snapshot(appeal, merits, measures, responsible, territory, public_id)
        try:
            pdf = await anyio.to_thread.run_sync(lambda: render_letter(snapshot))
        except UnsupportedCharacter as exc:
            raise ValidationFailed(
                f"The letter cannot print a character: {exc}", code="unprintable"
            ) from exc
        store = appeals.core.store
        if store is None:
            raise Conflict("No blob store is configured", code="storage_unavailable")
        retain = act_retain_until(settings.storage)
        sha = hashlib.sha256(pdf).hexdigest()
        key = blob_key("letters", str(appeal.id), f"{sha}.pdf")
        await store.put(
            key, pdf, content_type="application/pdf", sha256_hex=sha, retain_until=retain
        )
        sealed_key = sealed_sha = None
        if self.sealer is not None:
            try:
                sealed = await self.sealer.seal(pdf, reason=f"{appeal.number} sha256:{sha}")
                sealed_sha = hashlib.sha256(sealed).hexdigest()
                sealed_key = blob_key("letters", str(appeal.id), f"{sealed_sha}.pdf")
                await store.put(
                    sealed_key,
                    sealed,
                    content_type="application/pdf",
                    sha256_hex=sealed_sha,
                    retain_until=retain,
                )
            except SealError:
                logger.warning("appeal letter %s stored but not sealed", appeal.id)
                sealed_key = sealed_sha = None
        await appeals.close_answered(appeal, merits)
        entry = await record(
            self.session,
            appeals.actor,
            "appeal.answered",
            "appeal",
            appeal.id,
            before={"state": "open"},
            after={
                "state": "answered",
                "public_id": public_id,
                "snapshot_sha256": letter_sha256(snapshot),
                "pdf_sha256": sha,
                "sealed_pdf_sha256": sealed_sha,
            },
        )
        self.session.add(
            AppealLetter(
                appeal_id=appeal.id,
                public_id=public_id,
                language=appeal.language,
                snapshot=msgspec.to_builtins(snapshot),
                snapshot_sha256=letter_sha256(snapshot),
                pdf_key=key,
                pdf_sha256=sha,
                pdf_size=len(pdf),
                sealed_pdf_key=sealed_key,
                sealed_pdf_sha256=sealed_sha,
                audit_hash=entry.hash,
            )
        )
        await self.session.flush()
        await appeals.core.notify(
            appeal,
            "appeal.answered",
            territory.time_zone,
            {
                "appeal_number": appeal.number,
                "status_url": appeals.core.status_url(appeal.id),
            },
        )
        return await appeals._view(appeal)

    def _snapshot(
        self,
        appeal: Appeal,
        merits: str,
        measures: Any,
        responsible: User,
        territory: Territory,
        public_id: str,
    ) -> LetterSnapshot:
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        settings = self.appeals.settings
        zone = ZoneInfo(territory.time_zone)
        now = datetime.now(UTC).astimezone(zone)
        language = cast("Any", appeal.language)
        issuer = settings.issuer
        name = responsible.full_name or responsible.username
        try:
            return msgspec.convert(
                msgspec.to_builtins(
                    LetterSnapshot(
                        version=1,
                        language=language,
                        issuer=LetterIssuer(
                            legal_name=issuer.legal_name,
                            tax_id=issuer.tax_id,
                            address=issuer.address,
                            phone=issuer.phone,
                        ),
                        letter_number=f"{appeal.number}/1",
                        letter_date=now.date(),
                        recorded_at=now,
                        appeal_number=appeal.number,
                        appeal_registered=appeal.registered_at.astimezone(zone).date(),
                        addressee=appeal.author_name,
                        salutation_name=salutation_name(appeal.author_name),
                        salutation=salutation_gender(appeal.author_name),
                        time_zone=territory.time_zone,
                        question=appeal.text,
                        merits=merits,
                        responsible=Responsible(
                            name=name,
                            role=_ROLE_NAMES[language].get(responsible.role, responsible.role),
                            phone=issuer.phone,
                        ),
                        verify_url=letter_url(self.appeals.core.base_url, public_id),
                        decision=cast("Any", appeal.decision),
                        decision_reasons=appeal.decision_reasons,
                        measures=tuple(
                            LetterMeasure(
                                description=m.description, due=m.due_at.astimezone(zone).date()
                            )
                            for m in measures
                        ),
                    )
                ),
                LetterSnapshot,
            )
        except msgspec.ValidationError as exc:
            raise _invalid("merits", f"The letter cannot be drawn up: {exc}", "bad_letter") from exc


async def find_letter(session: AsyncSession, public_id: str) -> tuple[AppealLetter, Appeal] | None:
    """The letter with this public id and its appeal."""
    if not 16 <= len(public_id) <= 32:
        return None
    row = (
        await session.execute(
            select(AppealLetter, Appeal)
            .join(Appeal, Appeal.id == AppealLetter.appeal_id)
            .where(AppealLetter.public_id == public_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])
