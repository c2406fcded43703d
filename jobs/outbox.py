"""Deliver queued e-mail, and gather digests."""

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.runner import job
from market.alerts.services import build_digests, deliver_outbox


@job(
    "send_outbox",
    trigger=lambda app: IntervalTrigger(
        seconds=int(app.config.get("MARKET_OUTBOX_INTERVAL_SECONDS", 60))
    ),
    description="Deliver queued e-mails over SMTP",
)
def send_outbox() -> str:
    return str(deliver_outbox())


@job(
    "build_digests",
    trigger=lambda app: CronTrigger(minute=5, timezone=app.config["BABEL_DEFAULT_TIMEZONE"]),
    description="Gather daily and weekly digests (from 07:00, Mondays for weekly)",
)
def digests() -> str:
    return f"{build_digests()} digest e-mails queued"
