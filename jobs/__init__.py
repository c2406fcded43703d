"""The scheduler process: one per installation, never inside the web workers.

``build_scheduler`` registers every job of ``jobs/`` on APScheduler's blocking scheduler. Each
run first checks the database lease: a second ``market scheduler`` started by mistake holds no
lease and runs nothing, and takes over only if the first one stops.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from jobs.runner import JOBS, run_job
from market.scheduler import services as scheduler_services

log = logging.getLogger("market.scheduler")

# Jobs that come from the database (price sources, each on its own cron): providers return
# (job id, trigger, callable) for what should be scheduled now; the sync job reconciles.
DynamicJob = tuple[str, Any, Callable[[], Any]]
_providers: list[Callable[[Flask], Iterable[DynamicJob]]] = []


def dynamic_jobs(provider: Callable[[Flask], Iterable[DynamicJob]]) -> Callable:
    _providers.append(provider)
    return provider


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """APScheduler plus the database lease; ``start()`` blocks."""

    def __init__(self, app: Flask, *, holder: str | None = None) -> None:
        self.app = app
        self.holder = holder or holder_name()
        config = app.config
        self.ttl = int(config.get("MARKET_SCHEDULER_LOCK_TTL_SECONDS", 120))
        self.heartbeat_seconds = int(config.get("MARKET_SCHEDULER_HEARTBEAT_SECONDS", 30))
        self.scheduler = BlockingScheduler(
            timezone=config["BABEL_DEFAULT_TIMEZONE"],
            job_defaults={
                "coalesce": True,  # after a pause, one catch-up run, not a burst
                "max_instances": 1,
                # Minutes, not APScheduler's one second, which drops runs after a restart.
                "misfire_grace_time": int(config.get("MARKET_MISFIRE_GRACE_SECONDS", 600)),
            },
        )
        self.scheduler.add_job(
            self.heartbeat, IntervalTrigger(seconds=self.heartbeat_seconds), id="_heartbeat"
        )
        for spec in JOBS.values():
            self.scheduler.add_job(
                self.guarded, spec.trigger(app), id=spec.name, args=[spec.name], name=spec.name
            )
        if _providers:
            self.scheduler.add_job(
                self.sync_dynamic_jobs, IntervalTrigger(seconds=60), id="_sync_dynamic"
            )

    def has_lease(self) -> bool:
        with self.app.app_context():
            try:
                return scheduler_services.acquire_lock(holder=self.holder, ttl_seconds=self.ttl)
            finally:
                from market.extensions import db

                db.session.remove()

    def heartbeat(self) -> None:
        if not self.has_lease():
            log.info("another scheduler holds the lease; %s stands by", self.holder)

    def guarded(self, name: str, func: Callable | None = None) -> None:
        if not self.has_lease():
            log.info("job %s skipped: another scheduler process holds the lease", name)
            return
        run_job(self.app, name, holder=self.holder, func=func)

    def sync_dynamic_jobs(self) -> None:
        wanted: dict[str, DynamicJob] = {}
        for provider in _providers:
            for job_id, trigger, func in provider(self.app):
                wanted[job_id] = (job_id, trigger, func)
        for existing in self.scheduler.get_jobs():
            if existing.id.startswith("dyn:") and existing.id not in wanted:
                existing.remove()
        for job_id, trigger, func in wanted.values():
            current = self.scheduler.get_job(job_id)
            if current is None:
                self.scheduler.add_job(self.guarded, trigger, id=job_id, args=[job_id, func])
            elif str(current.trigger) != str(trigger):
                current.reschedule(trigger)

    def start(self) -> None:
        if self.has_lease():
            log.info("scheduler %s holds the lease", self.holder)
        else:
            log.info("scheduler %s: lease held elsewhere, standing by", self.holder)
        if _providers:
            self.sync_dynamic_jobs()
        try:
            self.scheduler.start()
        finally:
            with self.app.app_context():
                scheduler_services.release_lock(holder=self.holder)

    def shutdown(self) -> None:
        """Stop taking new runs and let the running ones finish (a stop never cuts a job)."""
        self.scheduler.shutdown(wait=True)


def build_scheduler(app: Flask, *, holder: str | None = None) -> Scheduler:
    return Scheduler(app, holder=holder)


# Register the jobs (each module adds its own with @job / @dynamic_jobs).
from jobs import bulletins, outbox, prices  # noqa: E402, F401
