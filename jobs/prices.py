"""Price collection: each enabled source on its own cron, plus "collect now" requests."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from jobs import dynamic_jobs
from jobs.runner import job
from market.extensions import db
from market.prices import services
from market.prices.collect import collect_source


def collect_one(source_id: int) -> str:
    source = services.get_source(source_id=source_id)
    if source is None or not source.enabled:
        return "source removed or disabled"
    run = collect_source(source=source)
    return (
        f"{source.name}: {run.status}, {run.stored} new, {run.updated} changed, "
        f"{run.flagged} flagged, {run.unmapped} unmapped, {run.rejected} rejected"
    )


@dynamic_jobs
def source_jobs(app: Flask) -> Iterator[tuple]:
    """One job per enabled source with a schedule; re-read every minute, so a source added,
    changed or disabled takes effect without restarting the scheduler."""
    timezone = app.config["BABEL_DEFAULT_TIMEZONE"]
    with app.app_context():
        try:
            rows = [(s.id, s.schedule) for s in services.sources() if s.enabled and s.schedule]
        finally:
            db.session.remove()
    for source_id, schedule in rows:
        try:
            trigger = CronTrigger.from_crontab(schedule, timezone=timezone)
        except ValueError:
            continue  # saved sources are validated; a bad one loaded by hand is skipped
        yield f"dyn:collect:{source_id}", trigger, partial(collect_one, source_id)


@job(
    "collect_requested",
    trigger=lambda app: IntervalTrigger(seconds=30),
    description="Run the price sources an official asked to collect now",
)
def collect_requested() -> str:
    done = []
    for source in services.requested_sources():
        source.run_requested_at = None
        db.session.commit()
        done.append(collect_one(source.id))
    return "; ".join(done) or "nothing requested"


@job(
    "price_warnings",
    trigger=lambda app: CronTrigger(
        hour=5, minute=30, timezone=app.config["BABEL_DEFAULT_TIMEZONE"]
    ),
    description="Compute anomaly warnings (FAO IPA or the recent-median test) for every series",
)
def price_warnings() -> str:
    from market.prices.warnings import compute_anomalies

    return f"{compute_anomalies()} series with a warning"
