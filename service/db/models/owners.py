"""Who owns an overdue order on the coordinators' side (taken or handed over; else on duty)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow


class OrderOwner(Base):
    """The coordinator an order was taken by or handed to; absent: the territory's on duty."""

    __tablename__ = "order_owners"
    __table_args__ = (Index("ix_order_owners_user", "user_id"),)

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
