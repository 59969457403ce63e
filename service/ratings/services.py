"""Customer ratings after a completed visit (000 §9-10, 002) and the follow-ups they open.

When a visit completes, the customer gets a single-use link by SMS in their language. The page
asks for 1-5 stars, a comment and four things they saw (000 §12: ID shown, overshoes on, the
service demonstrated, the area left clean). A score of 3 or lower, or a 'no' on any of the four,
opens a follow-up task for a coordinator of the order's territory, due at the end of the N-th
working day on the territory's calendar (004 App. 1: contact within 2 working days).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record
from service.common.i18n import Language, pick_language
from service.common.link_tokens import derived_link_token, link_token_hash
from service.db.base import utcnow
from service.db.models import (
    Act,
    Customer,
    CustomerLink,
    FollowUpTask,
    Rating,
    Technician,
    Territory,
    User,
    Visit,
    WorkOrder,
)
from service.errors import Conflict, Gone, NotFound
from service.notifications import Recipient, enqueue
from service.notifications.staff import staff_condition, staff_recipients
from service.ratings.schemas import RatingReceived, RatingSubmission
from service.settings import RatingSettings, Settings
from service.sla.calendar import CalendarError, WorkingCalendar, add_working_days
from service.sla.clocks import territory_measure

logger = logging.getLogger("naryad.ratings")

LOW_SCORE = 3
# The label a rating link's token is derived under (service/acts/customer_links.py reads it).
RATING_LABEL = "rating"
# What the customer confirms, and the follow-up reason a 'no' gives.
CONFIRMATIONS = {
    "id_shown": "id_not_shown",
    "overshoes_on": "no_overshoes",
    "service_demonstrated": "not_demonstrated",
    "area_clean": "area_not_clean",
}


@dataclass(frozen=True, slots=True)
class RatingLinks:
    """Where rating links point and how long they live."""

    base_url: str
    ttl: timedelta
    # Tokens are derived from the link's id with this secret, so staff can be shown the link.
    secret: str

    @classmethod
    def from_settings(cls, settings: Settings) -> RatingLinks:
        """From the app's settings."""
        return cls(
            base_url=settings.server.public_base_url,
            ttl=timedelta(days=settings.ratings.link_days),
            secret=settings.auth.jwt_secret,
        )


@dataclass(frozen=True, slots=True)
class RatingPage:
    """What the rating page may show: first names, the order number and the visit date only."""

    state: str  # open | used | expired | invalid
    language: Language
    customer_first_name: str = ""
    technician_first_name: str = ""
    work_order_number: str = ""
    visit_date: str = ""
    # The visit's act (public id), for the appeal form's link; empty when there is none.
    act_public_id: str = ""


def first_name(full_name: str) -> str:
    """The given name of a stored full name ("Surname Given [Patronymic]", as on acts)."""
    parts = full_name.split()
    if len(parts) >= 2:
        return parts[1]
    return parts[0] if parts else ""


def follow_up_reasons(score: int, confirmations: dict[str, bool | None]) -> list[str]:
    """Why a rating needs a follow-up; empty when it does not (an unanswered item is no 'no')."""
    reasons = ["low_score"] if score <= LOW_SCORE else []
    reasons += [reason for key, reason in CONFIRMATIONS.items() if confirmations.get(key) is False]
    return reasons


def follow_up_due(start: datetime, working_days: int, calendar: WorkingCalendar | None) -> datetime:
    """The end of the ``working_days``-th working day after the day of ``start``.

    Counting whole days after the rating's day gives the coordinator full working days even for
    a rating sent late in the evening. Without a calendar, ``working_days`` x 24 h.
    """
    if calendar is None:
        return start + timedelta(days=working_days)
    return add_working_days(start, working_days, calendar)


async def request_rating(
    session: AsyncSession,
    visit: Visit,
    order: WorkOrder,
    links: RatingLinks,
    created_by: uuid.UUID | None = None,
) -> bool:
    """Issue the visit's rating link and SMS it; at most once per visit. True when sent now."""
    customer = await session.get_one(Customer, order.customer_id)
    phone = next(iter(order.contact_phones or customer.phones), None)
    if phone is None:
        logger.info("visit %s: no phone to send the rating link to", visit.id)
        return False
    link_id = uuid.uuid4()
    token = derived_link_token(links.secret, RATING_LABEL, link_id)
    issued_at = utcnow()
    # A replayed completion (or two racing ones) finds the visit's link and sends nothing.
    issued = await session.scalar(
        insert(CustomerLink)
        .values(
            id=link_id,
            token_hash=link_token_hash(token),
            purpose="rating",
            visit_id=visit.id,
            created_by=created_by,
            created_at=issued_at,
            # Provisional: the worker restarts the same lifetime when the SMS is sent.
            expires_at=issued_at + links.ttl,
        )
        .on_conflict_do_nothing(
            index_elements=[CustomerLink.visit_id], index_where=text("purpose = 'rating'")
        )
        .returning(CustomerLink.id)
    )
    if issued is None:
        return False
    territory = await session.get_one(Territory, order.territory_id)
    await enqueue(
        session,
        event="rating.requested",
        event_key=str(visit.id),
        channel="sms",
        recipient=Recipient(kind="customer", id=customer.id, address=phone),
        language=pick_language(customer.preferred_language),
        time_zone=territory.time_zone,
        context={"rating_url": f"{links.base_url}/rate/{token}"},
        # The link's days count from when the SMS leaves, not from now (quiet hours).
        link_id=issued,
    )
    return True


class RatingService:
    """The customer's side of the rating: no account, a single-use token in the URL."""

    def __init__(self, session: AsyncSession, settings: RatingSettings) -> None:
        self.session = session
        self.settings = settings

    async def _find(self, token: str, *, for_update: bool = False) -> CustomerLink | None:
        stmt = select(CustomerLink).where(
            CustomerLink.token_hash == link_token_hash(token), CustomerLink.purpose == "rating"
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    @staticmethod
    def _state(link: CustomerLink | None) -> str:
        if link is None or link.visit_id is None:
            return "invalid"
        if link.used_at is not None:
            return "used"
        if link.expires_at <= utcnow():
            return "expired"
        return "open"

    async def _live_link(self, token: str) -> CustomerLink:
        """The link, locked; unknown 404, spent 409, expired 410."""
        link = await self._find(token, for_update=True)
        state = self._state(link)
        if state == "invalid" or link is None:
            raise NotFound("This link is not valid")
        if state == "used":
            raise Conflict("This visit has already been rated; thank you", code="link_used")
        if state == "expired":
            raise Gone("This rating link has expired", code="link_expired")
        return link

    async def page(
        self, token: str, lang: str | None, accept_language: str | None = None
    ) -> RatingPage:
        """What the page shows; a dead link is a state of the page, not an error body.

        Its language: the one asked for, else the customer's when the link is known, else
        the browser's.
        """
        link = await self._find(token)
        state = self._state(link)
        if link is None:
            return RatingPage(
                state=state, language=pick_language(lang, accept_language=accept_language)
            )
        visit = await self.session.get_one(Visit, link.visit_id)
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        customer = await self.session.get_one(Customer, order.customer_id)
        act_public_id = (
            await self.session.scalar(
                select(Act.public_id)
                .where(Act.visit_id == visit.id)
                .order_by(Act.created_at.desc())
                .limit(1)
            )
        ) or ""
        if state != "open":
            return RatingPage(
                state=state,
                language=pick_language(lang, customer.preferred_language),
                act_public_id=act_public_id,
            )
        technician = await self.session.get_one(Technician, visit.technician_id)
        territory = await self.session.get_one(Territory, order.territory_id)
        when = visit.finished_at or visit.agreed_window.lower or link.created_at
        return RatingPage(
            state="open",
            language=pick_language(lang, customer.preferred_language),
            customer_first_name=first_name(customer.full_name),
            technician_first_name=first_name(technician.full_name),
            work_order_number=order.number,
            visit_date=when.astimezone(ZoneInfo(territory.time_zone)).strftime("%d.%m.%Y"),
            act_public_id=act_public_id,
        )

    async def submit(self, token: str, data: RatingSubmission) -> RatingReceived:
        """Store the rating once; a poor one opens a follow-up for a coordinator."""
        link = await self._live_link(token)
        visit = await self.session.get_one(Visit, link.visit_id)
        order = await self.session.get_one(WorkOrder, visit.work_order_id)
        confirmations = {key: getattr(data, key) for key in CONFIRMATIONS}
        now = utcnow()
        rating = Rating(
            work_order_id=order.id,
            visit_id=visit.id,
            score=data.score,
            comment=(data.comment or "").strip() or None,
            confirmations=confirmations,
            created_at=now,
        )
        self.session.add(rating)
        link.used_at = now
        await self.session.flush()
        reasons = follow_up_reasons(data.score, confirmations)
        task = None
        if reasons:
            task = await open_follow_up(
                self.session, order, visit, rating, reasons, self.settings.follow_up_working_days
            )
        # Last write (it holds the audit chain's lock); no actor, as the customer has no account.
        # Neither the comment nor any name: only whether there is a comment.
        await record(
            self.session,
            None,
            "rating.submitted",
            "rating",
            rating.id,
            after={
                "work_order_id": order.id,
                "visit_id": visit.id,
                "score": rating.score,
                "confirmations": confirmations,
                "has_comment": rating.comment is not None,
                "follow_up_id": task.id if task else None,
            },
        )
        if task is None:
            return RatingReceived(status="received", score=data.score)
        # A poor rating gets an apology and the date by which someone calls, as the site
        # reads its clock.
        territory = await self.session.get_one(Territory, order.territory_id)
        return RatingReceived(
            status="received",
            score=data.score,
            reply="apology",
            call_by=task.due_at.astimezone(ZoneInfo(territory.time_zone)),
            time_zone=territory.time_zone,
        )


async def least_loaded_coordinator(
    session: AsyncSession, territory_id: uuid.UUID
) -> uuid.UUID | None:
    """The territory's active coordinator with the fewest open follow-ups (ties by username)."""
    open_tasks = (
        select(func.count())
        .where(FollowUpTask.owner_id == User.id, FollowUpTask.status == "open")
        .correlate(User)
        .scalar_subquery()
    )
    return await session.scalar(
        select(User.id)
        .where(staff_condition(territory_id, "coordinator"))
        .order_by(open_tasks, User.username)
        .limit(1)
    )


async def open_follow_up(
    session: AsyncSession,
    order: WorkOrder,
    visit: Visit,
    rating: Rating,
    reasons: list[str],
    working_days: int,
) -> FollowUpTask:
    """Open the task, give it an owner and a deadline, and tell the owner (or the desk)."""
    now = rating.created_at
    territory = await session.get_one(Territory, order.territory_id)
    calendar, _ = await territory_measure(session, territory.id, since=now.date())
    try:
        due = follow_up_due(now, working_days, calendar)
    except CalendarError:
        due = follow_up_due(now, working_days, None)
    owner = await least_loaded_coordinator(session, territory.id)
    task = FollowUpTask(
        work_order_id=order.id,
        visit_id=visit.id,
        rating_id=rating.id,
        territory_id=territory.id,
        reasons=reasons,
        score=rating.score,
        owner_id=owner,
        due_at=due,
        status="open",
    )
    session.add(task)
    await session.flush()
    # Staff messages go to the gateway (webhook) addressed by user, or the territory's desk.
    [recipient] = staff_recipients("coordinator", territory.code, [owner] if owner else [])
    await enqueue(
        session,
        event="follow_up.opened",
        event_key=str(task.id),
        channel="webhook",
        recipient=recipient,
        language="ru",
        time_zone=territory.time_zone,
        context={"work_order_number": order.number, "score": f"{rating.score}/5", "due_at": due},
    )
    return task
