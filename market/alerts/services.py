"""E-mail that never gets lost: queue in the caller's transaction, deliver later over SMTP.

``queue_email`` writes an ``OutboxMessage`` (or a digest entry) in the current transaction, so
a rolled-back action sends nothing. ``deliver_outbox`` claims due rows, sends them over one
SMTP connection, and records each answer; transient failures retry with exponential backoff,
permanent ones (5xx) fail with the server's reason.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from market.accounts.models import User
from market.alerts import mailer
from market.alerts.models import (
    DigestEntry,
    EmailPreference,
    Frequency,
    OutboxMessage,
    OutboxStatus,
)
from market.alerts.registry import EmailKind, get_kind, optional_kinds, register_kind
from market.db import utcnow
from market.errors import DomainError
from market.extensions import db
from market.permissions import require, rule
from market.urls import absolute_url

log = logging.getLogger(__name__)

FREQUENCY_LABELS = {
    Frequency.immediate: _l("Immediately"),
    Frequency.daily: _l("Daily digest"),
    Frequency.weekly: _l("Weekly digest"),
    Frequency.off: _l("Off"),
}

ACCOUNT_KIND = register_kind(
    "account",
    _l("Account e-mails"),
    _l("Confirmation and password links."),
    essential=True,
    digestible=False,
)
DIGEST_KIND = register_kind("digest", _l("Digest"), essential=True, digestible=False)


@rule("view", "outbox")
def _can_view_outbox(user: User | None, _subject: Any) -> bool:
    return user is not None and user.is_admin


# Preferences ---------------------------------------------------------------------------------


def frequency_for(user: User, kind: EmailKind) -> Frequency:
    if kind.essential:
        return Frequency.immediate
    chosen = db.session.scalar(
        select(EmailPreference.frequency).where(
            EmailPreference.user_id == user.id, EmailPreference.kind == kind.key
        )
    )
    return chosen or kind.default


def preferences(user: User) -> list[tuple[EmailKind, Frequency]]:
    chosen = dict(
        db.session.execute(
            select(EmailPreference.kind, EmailPreference.frequency).where(
                EmailPreference.user_id == user.id
            )
        ).all()
    )
    return [(k, chosen.get(k.key, k.default)) for k in optional_kinds()]


def set_preference(*, user: User, kind: str, frequency: Frequency | str) -> None:
    """Store one choice; the only place that decides which choices a kind allows."""
    email_kind = get_kind(kind)
    field = f"kind-{kind}"
    if email_kind.essential:
        raise DomainError(_("This e-mail cannot be turned off."), field=field)
    try:
        frequency = Frequency(frequency)
    except ValueError:
        raise DomainError(_("Please choose one of the offered options."), field=field) from None
    if frequency not in email_kind.choices:
        # Not digestible: only "immediately" and "off" are offered.
        raise DomainError(_("This e-mail cannot wait for a digest."), field=field)
    row = db.session.scalar(
        select(EmailPreference).where(
            EmailPreference.user_id == user.id, EmailPreference.kind == kind
        )
    )
    if row is None:
        db.session.add(EmailPreference(user_id=user.id, kind=kind, frequency=frequency))
    else:
        row.frequency = frequency
    db.session.flush()


# Unsubscribe links ---------------------------------------------------------------------------


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="market-unsubscribe")


def unsubscribe_token(user: User, kind: str, *, restore: Frequency | None = None) -> str:
    """A signed link naming the user and kind; ``restore`` is the choice an undo brings back."""
    payload: dict[str, Any] = {"u": user.id, "k": kind}
    if restore is not None:
        payload["f"] = restore.value
    return _unsubscribe_serializer().dumps(payload)


def read_unsubscribe_token(*, token: str) -> tuple[User, EmailKind, Frequency | None]:
    """The user, the kind and the choice to restore (if the token carries one); changes nothing."""
    try:
        payload = _unsubscribe_serializer().loads(token)
        user = db.session.get(User, int(payload["u"]))
        kind = get_kind(str(payload["k"]))
        restore = Frequency(payload["f"]) if payload.get("f") is not None else None
    except (AttributeError, BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError(_("This link is not valid.")) from exc
    if user is None:
        raise DomainError(_("This link is not valid."))
    return user, kind, restore


def unsubscribe(*, token: str) -> tuple[User, EmailKind, str]:
    """Turn one kind of e-mail off for the user the signed token names; no login needed.

    Returns the user, the kind and a token for the undo button that remembers the earlier
    choice: the token is the one place to keep it without another column.
    """
    user, kind, _restore = read_unsubscribe_token(token=token)
    previous = frequency_for(user, kind)
    set_preference(user=user, kind=kind.key, frequency=Frequency.off)
    restore = None if previous == Frequency.off else previous
    return user, kind, unsubscribe_token(user, kind.key, restore=restore)


def resubscribe(*, token: str) -> tuple[User, EmailKind]:
    """Undo an unsubscribe: the choice the token remembers, else the kind's default."""
    user, kind, restore = read_unsubscribe_token(token=token)
    frequency = restore if restore in kind.choices and restore != Frequency.off else kind.default
    set_preference(user=user, kind=kind.key, frequency=frequency)
    return user, kind


# Queueing ---------------------------------------------------------------------------------


def message_id_for(dedupe_key: str) -> str:
    """The same event always gets the same Message-ID: a resend after a crash is recognisable."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@{mailer.mail_domain()}>"


def _queued(model: type[OutboxMessage] | type[DigestEntry], dedupe_key: str) -> bool:
    """Checked before any rendering, so a repeated event costs one indexed lookup."""
    return db.session.scalar(select(model.id).where(model.dedupe_key == dedupe_key)) is not None


def _insert_once(row: OutboxMessage | DigestEntry) -> bool:
    """Add ``row``; the unique dedupe key is the real guard against a concurrent twin, and a
    savepoint keeps the caller's work intact when that twin won."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # a concurrent transaction queued the same key first
        return False
    return True


def _call(value: Any) -> Any:
    """Digest texts may be callables, so that they are worded in the recipient's language."""
    return value() if callable(value) else value


def queue_email(
    *,
    user: User | None = None,
    recipient: str | None = None,
    kind: str,
    template: str,
    dedupe_key: str,
    locale: str | None = None,
    digest_title: str | None = None,
    digest_summary: str | None = None,
    digest_link: str | None = None,
    **context: Any,
) -> OutboxMessage | DigestEntry | None:
    """Queue one e-mail in the current transaction, following the user's preference.

    Returns the outbox row, the digest entry it became, or None when the user turned this kind
    off or the same ``dedupe_key`` was queued before.
    """
    email_kind = get_kind(kind)
    if user is None and recipient is None:
        raise ValueError("queue_email needs a user or a recipient")
    locale = locale or (user.locale if user else "vi")
    frequency = frequency_for(user, email_kind) if user else Frequency.immediate
    if frequency == Frequency.off:
        return None
    if frequency in (Frequency.daily, Frequency.weekly) and email_kind.digestible and user:
        if _queued(DigestEntry, dedupe_key):
            return None
        with force_locale(locale):
            entry = DigestEntry(
                dedupe_key=dedupe_key,
                user_id=user.id,
                kind=kind,
                frequency=frequency,
                title=str(_call(digest_title) or email_kind.label),
                summary=str(_call(digest_summary) or ""),
                link=digest_link,
            )
        return entry if _insert_once(entry) else None

    if _queued(OutboxMessage, dedupe_key):
        return None
    headers: dict[str, str] = {}
    unsubscribe_url = None
    if user is not None and not email_kind.essential:
        unsubscribe_url = absolute_url(
            "alerts.unsubscribe", token=unsubscribe_token(user, email_kind.key)
        )
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    rendered = mailer.render_email(
        template,
        locale=locale,
        user=user,
        unsubscribe_url=unsubscribe_url,
        preferences_url=absolute_url("alerts.preferences"),
        kind=email_kind,
        **context,
    )
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        user_id=user.id if user else None,
        recipient=recipient or user.email,
        locale=locale,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        headers=headers or None,
        status=OutboxStatus.queued,
        next_attempt_at=utcnow(),
    )
    return message if _insert_once(message) else None


# Delivery ---------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed}, sent {self.sent}, retry later {self.retried}, "
            f"failed {self.failed}"
        )


def _settings() -> dict[str, Any]:
    config = current_app.config
    return {
        "batch": int(config.get("MARKET_OUTBOX_BATCH", 200)),
        "lease": int(config.get("MARKET_OUTBOX_LEASE_SECONDS", 300)),
        "max_attempts": int(config.get("MARKET_OUTBOX_MAX_ATTEMPTS", 8)),
        "backoff": int(config.get("MARKET_OUTBOX_BACKOFF_SECONDS", 60)),
    }


def claim_batch(*, limit: int, lease_seconds: int, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due rows as ours and commit; returns their ids.

    PostgreSQL: the inner SELECT ... FOR UPDATE SKIP LOCKED lets several senders claim
    disjoint rows at once. SQLite ignores FOR UPDATE, so the claim runs inside BEGIN IMMEDIATE,
    which takes the write lock first: one claim at a time, still one atomic UPDATE ... RETURNING.
    """
    now = now or utcnow()
    db.session.commit()  # the claim must open its own transaction (BEGIN IMMEDIATE on SQLite)
    _write_transaction()
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.queued)
                & (OutboxMessage.next_attempt_at <= now),
                # A sender that crashed mid-batch: its lease has run out.
                (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.lease_until < now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=OutboxStatus.sending,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(ids)


def _write_transaction() -> None:
    """Start a transaction that writes: on SQLite, take the write lock up front (BEGIN
    IMMEDIATE), or a concurrent sender's commit makes our read-then-write fail at once."""
    db.session.connection(execution_options={"sqlite_immediate": True})


class _Outcomes:
    """Each row's outcome, written back in small groups: one transaction per message would
    cost more than the SMTP conversation. A crash loses at most one group's marks; those rows
    are resent after their lease with the same Message-ID."""

    def __init__(self, report: DeliveryReport, now: datetime | None, every: int = 50) -> None:
        self.report = report
        self.now = now
        self.every = every
        self.pending: list[dict[str, Any]] = []

    def sent(self, message: _Claimed) -> None:
        self._add(message, status=OutboxStatus.sent, sent_at=utcnow(), last_error=None)
        self.report.sent += 1

    def failed(self, message: _Claimed, reason: str) -> None:
        self._add(message, status=OutboxStatus.failed, last_error=reason[:500])
        self.report.failed += 1

    def retry_or_fail(self, message: _Claimed, reason: str) -> None:
        settings = _settings()
        if message.attempts >= settings["max_attempts"]:
            self.failed(message, reason)
            return
        delay = min(settings["backoff"] * 2 ** (message.attempts - 1), 6 * 3600)
        self._add(
            message,
            status=OutboxStatus.queued,
            next_attempt_at=(self.now or utcnow()) + timedelta(seconds=delay),
            last_error=reason[:500],
        )
        self.report.retried += 1

    def _add(self, message: _Claimed, **values: Any) -> None:
        self.pending.append({"id": message.id, "lease_until": None, **values})
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        _write_transaction()
        # Group rows by the columns they set, so each group is one executemany UPDATE.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in self.pending:
            clean = {
                k: v for k, v in row.items() if v is not None or k in ("lease_until", "last_error")
            }
            groups.setdefault(tuple(sorted(clean)), []).append(clean)
        for rows in groups.values():
            db.session.execute(update(OutboxMessage), rows)
        db.session.commit()
        self.pending.clear()


def deliver_outbox(*, limit: int | None = None, now: datetime | None = None) -> DeliveryReport:
    """Send what is due, one SMTP connection per batch, until nothing due is left (or ``limit``)."""
    report = DeliveryReport()
    settings = _settings()
    remaining = limit
    while remaining is None or remaining > 0:
        batch_size = settings["batch"] if remaining is None else min(settings["batch"], remaining)
        ids = claim_batch(limit=batch_size, lease_seconds=settings["lease"], now=now)
        if not ids:
            break
        report.claimed += len(ids)
        if remaining is not None:
            remaining -= len(ids)
        _send_batch(ids, report, now=now)
    return report


@dataclass(frozen=True)
class _Claimed:
    """A claimed row's content, copied out so no transaction stays open during SMTP."""

    id: int
    dedupe_key: str
    recipient: str
    subject: str
    text_body: str
    html_body: str
    headers: dict[str, str] | None
    attempts: int


def _send_batch(ids: list[int], report: DeliveryReport, *, now: datetime | None) -> None:
    messages = [
        _Claimed(
            r.id,
            r.dedupe_key,
            r.recipient,
            r.subject,
            r.text_body,
            r.html_body,
            r.headers,
            r.attempts,
        )
        for r in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
    ]
    db.session.commit()
    outcomes = _Outcomes(report, now)
    try:
        if not mailer.smtp_configured():
            for message in messages:
                log.info(
                    "E-mail (no MARKET_SMTP_HOST set) to %s: %s\n%s",
                    message.recipient,
                    message.subject,
                    message.text_body,
                )
                outcomes.sent(message)
            return
        try:
            conn = mailer.open_smtp()
        except (OSError, smtplib.SMTPException) as exc:
            reason = f"SMTP server unreachable: {exc}"
            report.errors.append(reason)
            for message in messages:
                outcomes.retry_or_fail(message, reason)
            return
        try:
            for message in messages:
                _send_one(conn, message, outcomes)
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()
    finally:
        outcomes.flush()


def _send_one(conn: smtplib.SMTP, message: _Claimed, outcomes: _Outcomes) -> None:
    rendered = mailer.RenderedEmail(
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        headers=dict(message.headers or {}),
    )
    msg = mailer.build_message(
        to=message.recipient, rendered=rendered, message_id=message_id_for(message.dedupe_key)
    )
    try:
        result = mailer.deliver(conn, msg)
    except (OSError, smtplib.SMTPException) as exc:
        # The connection broke mid-batch: this message (and the rest) retry later.
        outcomes.retry_or_fail(message, f"SMTP connection lost: {exc}")
        return
    if result.ok:
        outcomes.sent(message)
    elif result.permanent:
        outcomes.failed(message, result.answer)
    else:
        outcomes.retry_or_fail(message, result.answer)


# Digests ----------------------------------------------------------------------------------


def _local_now(now: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def build_digests(*, now: datetime | None = None, send_hour: int = 7) -> int:
    """Gather due digest entries into one e-mail per user and frequency; returns e-mails queued.

    Daily digests go out from 07:00 local time, weekly ones from Monday 07:00. The job runs
    hourly: once a period's digest exists, entries that arrive later wait for the next period.
    """
    local = _local_now(now or utcnow())
    if local.hour < send_hour:
        return 0
    due = [Frequency.daily]
    if local.weekday() == 0:
        due.append(Frequency.weekly)
    queued = 0
    for frequency in due:
        user_ids = db.session.scalars(
            select(DigestEntry.user_id)
            .where(DigestEntry.digested_at.is_(None), DigestEntry.frequency == frequency)
            .distinct()
        ).all()
        for user_id in user_ids:
            queued += _digest_for(db.session.get(User, user_id), frequency, local.date())
    return queued


def _digest_for(user: User, frequency: Frequency, day: date) -> int:
    year, week, _weekday = day.isocalendar()
    period = day.isoformat() if frequency == Frequency.daily else f"{year}-W{week:02d}"
    dedupe_key = f"digest:{user.id}:{frequency.value}:{period}"
    if _queued(OutboxMessage, dedupe_key):
        return 0  # this period's digest went out already; later entries keep for the next one
    entries = list(
        db.session.scalars(
            select(DigestEntry)
            .where(
                DigestEntry.user_id == user.id,
                DigestEntry.frequency == frequency,
                DigestEntry.digested_at.is_(None),
            )
            .order_by(DigestEntry.kind, DigestEntry.id)
        )
    )
    if not entries:
        return 0
    message = queue_email(
        user=user,
        kind="digest",
        template="digest",
        dedupe_key=dedupe_key,
        entries=entries,
        frequency=frequency,
        day=day,
        kind_labels={k.key: k.label for k in optional_kinds()},
        unsubscribe_links={
            e.kind: absolute_url("alerts.unsubscribe", token=unsubscribe_token(user, e.kind))
            for e in entries
        },
    )
    if message is None:  # a concurrent run queued it; its transaction stamps the entries
        return 0
    stamp = utcnow()
    for entry in entries:
        entry.digested_at = stamp
    db.session.flush()
    return 1


# The admin's view of the outbox -------------------------------------------------------------


def outbox_summary(*, actor: User) -> dict[str, Any]:
    require(actor, "view", "outbox")
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    failed = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.failed)
            .order_by(OutboxMessage.id.desc())
            .limit(200)
        )
    )
    retrying = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.queued, OutboxMessage.attempts > 0)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(50)
        )
    )
    return {"counts": counts, "failed": failed, "retrying": retrying}


def retry_failed(*, actor: User, message_id: int | None = None) -> int:
    """Put failed rows (one, or all) back in the queue, to be sent at the next run."""
    require(actor, "view", "outbox")
    stmt = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.failed)
    if message_id is not None:
        stmt = stmt.where(OutboxMessage.id == message_id)
    result = db.session.execute(
        stmt.values(
            status=OutboxStatus.queued, next_attempt_at=utcnow(), attempts=0
        ).execution_options(synchronize_session=False)
    )
    db.session.flush()
    from market.audit.services import record

    record(
        actor=actor,
        action="outbox.retry",
        subject=db.session.get(OutboxMessage, message_id) if message_id else None,
        subject_type="outbox_message",
        detail={"rows": result.rowcount},
    )
    return result.rowcount
