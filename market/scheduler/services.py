"""The scheduler's lease lock and its record of job runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from market.db import utcnow
from market.extensions import db
from market.scheduler.models import JobRun, SchedulerLock

LOCK_NAME = "scheduler"

# JobRun.status as people read it on the operations page.
RUN_STATUS_LABELS = {
    "running": _l("running"),
    "ok": _l("succeeded"),
    "failed": _l("failed"),
}


def acquire_lock(*, holder: str, ttl_seconds: int, now: datetime | None = None) -> bool:
    """Take (or keep) the scheduler lease; False while another live process holds it.

    One atomic UPDATE decides between two processes starting together: it only matches when
    the lease is ours already or its holder stopped sending heartbeats ``ttl_seconds`` ago.
    """
    now = now or utcnow()
    result = db.session.execute(
        update(SchedulerLock)
        .where(
            SchedulerLock.name == LOCK_NAME,
            or_(
                SchedulerLock.holder == holder,
                SchedulerLock.heartbeat_at < now - timedelta(seconds=ttl_seconds),
            ),
        )
        .values(holder=holder, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        db.session.commit()
        return True
    exists = db.session.scalar(select(SchedulerLock.name).where(SchedulerLock.name == LOCK_NAME))
    if exists is not None:
        db.session.commit()
        return False
    try:
        db.session.add(
            SchedulerLock(name=LOCK_NAME, holder=holder, acquired_at=now, heartbeat_at=now)
        )
        db.session.commit()
    except IntegrityError:  # the other process inserted it first
        db.session.rollback()
        return False
    return True


def release_lock(*, holder: str) -> None:
    db.session.execute(
        update(SchedulerLock)
        .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == holder)
        .values(heartbeat_at=datetime(1970, 1, 1, tzinfo=utcnow().tzinfo))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def lock_holder() -> SchedulerLock | None:
    return db.session.get(SchedulerLock, LOCK_NAME)


def start_run(*, job: str, holder: str | None, scheduled_for: datetime | None = None) -> int:
    run = JobRun(job=job, holder=holder, scheduled_for=scheduled_for, started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    return run.id


def finish_run(*, run_id: int, status: str, message: str | None, duration_ms: int) -> None:
    run = db.session.get(JobRun, run_id)
    run.status = status
    run.message = (message or "")[:4000] or None
    run.finished_at = utcnow()
    run.duration_ms = duration_ms
    db.session.commit()


def last_runs() -> dict[str, JobRun]:
    """The latest run of each job, for the operations page and ``market jobs list``.

    One row per job however long ago it ran: a weekly job is not crowded out by the minutely
    ones, as it was when we scanned only the newest rows.
    """
    latest = select(func.max(JobRun.id)).group_by(JobRun.job).scalar_subquery()
    return {run.job: run for run in db.session.scalars(select(JobRun).where(JobRun.id.in_(latest)))}
