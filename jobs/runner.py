"""How every periodic job runs: in the app context, in one transaction, timed and recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from flask import Flask

from market.extensions import db
from market.scheduler import services as scheduler

log = logging.getLogger("market.jobs")

TriggerFactory = Callable[[Flask], BaseTrigger]


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[[], Any]
    trigger: TriggerFactory
    description: str


JOBS: dict[str, JobSpec] = {}


def job(name: str, *, trigger: TriggerFactory, description: str = "") -> Callable:
    """Register a job: a thin function calling one service; its return value is the summary."""

    def register(func: Callable[[], Any]) -> Callable[[], Any]:
        JOBS[name] = JobSpec(name, func, trigger, description or (func.__doc__ or "").strip())
        return func

    return register


@dataclass
class Outcome:
    job: str
    ok: bool
    message: str
    duration_ms: int


def run_job(
    app: Flask, name: str, *, holder: str | None = None, func: Callable | None = None
) -> Outcome:
    """Run one job now. A failure is logged and recorded, never raised: the scheduler goes on."""
    spec_func = func or JOBS[name].func
    with app.app_context():
        run_id = scheduler.start_run(job=name, holder=holder)
        started = time.monotonic()
        try:
            result = spec_func()
            db.session.commit()
            ok, message = True, "" if result is None else str(result)
        except Exception as exc:
            db.session.rollback()
            log.exception("job %s failed", name)
            ok, message = False, f"{type(exc).__name__}: {exc}"
        duration_ms = int((time.monotonic() - started) * 1000)
        scheduler.finish_run(
            run_id=run_id, status="ok" if ok else "failed", message=message, duration_ms=duration_ms
        )
        db.session.remove()
    log.info(
        "job %s %s in %d ms%s",
        name,
        "ok" if ok else "FAILED",
        duration_ms,
        f": {message}" if message else "",
    )
    return Outcome(name, ok, message, duration_ms)
