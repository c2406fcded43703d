"""Writing and reading the audit log. Any domain may call ``record``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from market.accounts.models import User
from market.audit.models import AuditEvent
from market.extensions import db

# What each action is called on screen; domains add theirs with ``describe_actions``.
ACTION_LABELS: dict[str, Any] = {}


def describe_actions(labels: dict[str, Any]) -> None:
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def record(
    *,
    actor: User | None,
    action: str,
    subject: Any,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    subject_type: str | None = None,
) -> AuditEvent:
    """Write one audit event in the caller's transaction (so it exists only if the action does)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        subject_type=subject_type or type(subject).__tablename__,
        subject_id=getattr(subject, "id", None),
        subject_label=_label(subject),
        reason=reason,
        detail=detail,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _label(subject: Any) -> str | None:
    for attr in ("name", "number", "title", "subject"):
        if value := getattr(subject, attr, None):
            return str(value)[:200]
    return None


def recent_events(*, limit: int = 200, subject: Any | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if subject is not None:
        stmt = stmt.where(
            AuditEvent.subject_type == type(subject).__tablename__,
            AuditEvent.subject_id == subject.id,
        )
    return list(db.session.scalars(stmt))
