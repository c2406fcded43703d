"""The weekly price bulletin: drafted every Monday at 06:00, after the night's price warnings
(05:30), and announced to the department's officials by e-mail."""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from jobs.runner import job
from market.bulletins import services
from market.errors import DomainError


@job(
    "bulletin_weekly",
    trigger=lambda app: CronTrigger(
        day_of_week="mon", hour=6, minute=0, timezone=app.config["BABEL_DEFAULT_TIMEZONE"]
    ),
    description="Draft last week's price bulletin and e-mail the officials",
)
def bulletin_weekly() -> str:
    try:
        outcome = services.draft_bulletin(actor=None, period="week")
    except DomainError as error:
        # Already published, or no prices last week: nothing to do, and nothing failed.
        return f"no draft: {error.message}"
    sent = services.notify_officials(bulletin=outcome.bulletin)
    return f"{outcome.summary()}; {sent} officials e-mailed"
