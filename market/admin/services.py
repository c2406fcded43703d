"""The department's area: what officials see first."""

from __future__ import annotations

from typing import Any

from market.accounts.models import User
from market.audit.services import recent_events
from market.orgs import services as orgs
from market.permissions import require


def dashboard(*, actor: User) -> dict[str, Any]:
    require(actor, "view", "official_area")
    return {
        "organisation_counts": orgs.count_by_status(),
        "queue": orgs.verification_queue(actor=actor)[:10],
        "recent_events": recent_events(limit=10),
    }


def audit_log(*, actor: User, limit: int = 300) -> list:
    require(actor, "view", "official_area")
    return recent_events(limit=limit)
