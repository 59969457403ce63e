"""The periodic job schedule: one row per job, shared by every worker process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class JobSchedule(Base):
    """When a periodic job is next due, and how its runs went (read by /metrics)."""

    __tablename__ = "job_schedule"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A worker claims the row (FOR UPDATE SKIP LOCKED) when this has passed and moves it on.
    next_run_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The exception's class name only: messages may carry personal data.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_handled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
