"""What the scheduler process keeps in the database: its lock and a record of each job run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db import utcnow
from market.extensions import db


class SchedulerLock(db.Model):
    """A lease held by the one scheduler process allowed to run jobs.

    A second process started by mistake finds the lease held and fresh, and waits; if the holder
    dies, its heartbeat stops and the lease passes on after it expires.
    """

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(db.Model):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60), index=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="running")  # running|ok|failed
    message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None]
