"""The job runner and the scheduler's lease."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from jobs.runner import JOBS, run_job
from market.db import utcnow
from market.extensions import db
from market.scheduler.models import JobRun
from market.scheduler.services import acquire_lock, last_runs, release_lock


def test_every_job_is_registered_with_a_trigger(app) -> None:
    assert {"send_outbox", "build_digests"} <= set(JOBS)
    for spec in JOBS.values():
        assert spec.trigger(app) is not None and spec.description


def test_a_failing_job_is_recorded_and_does_not_raise(app, database) -> None:
    def broken() -> None:
        raise ValueError("the source moved")

    outcome = run_job(app, "broken_job", func=broken)
    assert not outcome.ok and "the source moved" in outcome.message
    ok = run_job(app, "fine_job", func=lambda: "12 rows")
    assert ok.ok and ok.message == "12 rows"
    with app.app_context():
        runs = {r.job: r for r in db.session.scalars(select(JobRun))}
    assert runs["broken_job"].status == "failed"
    assert runs["fine_job"].status == "ok" and runs["fine_job"].duration_ms >= 0


def test_a_failing_job_writes_nothing(app, database) -> None:
    from market.alerts.models import OutboxMessage

    def half_done() -> None:
        db.session.add(
            OutboxMessage(
                dedupe_key="half",
                kind="account",
                recipient="a@example.com",
                subject="s",
                text_body="t",
                html_body="h",
            )
        )
        db.session.flush()
        raise RuntimeError("failed after writing")

    assert not run_job(app, "half_done", func=half_done).ok
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.id)) is None


def test_lease_goes_to_one_holder_and_passes_on_when_stale(ctx) -> None:
    assert acquire_lock(holder="a", ttl_seconds=60)
    assert not acquire_lock(holder="b", ttl_seconds=60)
    assert acquire_lock(holder="a", ttl_seconds=60)  # renewal
    later = utcnow() + timedelta(seconds=61)
    assert acquire_lock(holder="b", ttl_seconds=60, now=later)
    assert not acquire_lock(holder="a", ttl_seconds=60, now=later)
    release_lock(holder="b")
    assert acquire_lock(holder="a", ttl_seconds=60, now=later)


def test_last_runs_keeps_a_rare_job_behind_many_frequent_runs(ctx) -> None:
    now = utcnow()
    db.session.add(JobRun(job="weekly_report", status="ok", started_at=now - timedelta(days=6)))
    db.session.flush()
    db.session.execute(
        insert(JobRun),
        [{"job": "send_outbox", "status": "ok", "started_at": now} for _ in range(1001)],
    )
    runs = last_runs()
    assert runs["weekly_report"].status == "ok"
    assert runs["send_outbox"].id == db.session.scalar(select(func.max(JobRun.id)))
