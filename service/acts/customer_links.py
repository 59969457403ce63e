"""The links a customer was sent for a visit (their copy of the act, the rating), for staff.

Customers are reached by SMS; when one calls saying the message is lost, the dispatcher or
coordinator of the territory reads the current links here instead of digging in the SMS queue.
Tokens are stored only as hashes; both links' tokens are derived from their link's id with the
server secret, so they can be computed again and checked against the stored hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor
from service.common.link_tokens import COPY_LABEL, derived_link_token, link_token_hash
from service.db.base import utcnow
from service.db.models import CustomerLink
from service.ratings.services import RATING_LABEL
from service.scheduling.services import VisitService
from service.settings import Settings


class CustomerLinkView(msgspec.Struct):
    """One link as the customer received it, and where it stands."""

    url: str
    state: str  # open | used | expired
    expires_at: datetime
    sent_at: datetime | None
    used_at: datetime | None


class VisitCustomerLinks(msgspec.Struct):
    """A visit's current customer links; absent when none was issued (or none can be shown)."""

    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    act_id: uuid.UUID | None = None
    copy: CustomerLinkView | None = None
    rating: CustomerLinkView | None = None


class CustomerLinkService:
    """Reads a visit's customer links for staff of its territory."""

    def __init__(self, session: AsyncSession, actor: Actor, settings: Settings) -> None:
        self.session = session
        self.actor = actor
        self.secret = settings.auth.jwt_secret
        self.base_url = settings.server.public_base_url

    async def for_visit(self, visit_id: uuid.UUID) -> VisitCustomerLinks:
        """The newest copy link and the rating link of a visit in the caller's scope."""
        visit = await VisitService(self.session, self.actor).get(visit_id)
        links = (
            await self.session.scalars(
                select(CustomerLink)
                .where(CustomerLink.visit_id == visit.id)
                .order_by(CustomerLink.created_at.desc())
            )
        ).all()
        copy = next((link for link in links if link.purpose == "copy"), None)
        rating = next((link for link in links if link.purpose == "rating"), None)
        result = VisitCustomerLinks(visit_id=visit.id, work_order_id=visit.work_order_id)
        if copy is not None:
            result.act_id = copy.act_id
            # The copy token is derived from the signing link that produced it.
            for sign in (link for link in links if link.purpose == "sign"):
                token = derived_link_token(self.secret, COPY_LABEL, sign.id)
                if link_token_hash(token) == copy.token_hash:
                    result.copy = self._view(copy, f"/mobile/v1/acts/copy/{token}")
                    break
        if rating is not None:
            token = derived_link_token(self.secret, RATING_LABEL, rating.id)
            # Links issued before tokens were derived cannot be shown again.
            if link_token_hash(token) == rating.token_hash:
                result.rating = self._view(rating, f"/rate/{token}")
        return result

    def _view(self, link: CustomerLink, path: str) -> CustomerLinkView:
        state = "used" if link.used_at else "expired" if link.expires_at <= utcnow() else "open"
        return CustomerLinkView(
            url=f"{self.base_url}{path}",
            state=state,
            expires_at=link.expires_at,
            sent_at=link.sent_at,
            used_at=link.used_at,
        )
