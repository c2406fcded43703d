"""Price bulletins: drafting from the data, editing, publishing, corrections, subscriptions and
the e-mails that go with them.

``actor=None`` is the platform itself (the weekly job, the command line, the demo); pages and
the API always pass the signed-in user, whose permission is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from market.accounts.models import Role, User
from market.alerts.models import EmailPreference, Frequency
from market.alerts.registry import register_kind
from market.alerts.services import frequency_for, queue_email, set_preference
from market.audit.services import describe_actions, record
from market.bulletins.compute import (
    PERIOD_KINDS,
    Period,
    compute,
    last_complete,
    period_of,
)
from market.bulletins.markdown import render_markdown
from market.bulletins.models import Bulletin, BulletinItem
from market.bulletins.snapshots import provider_label, take_snapshot
from market.db import utcnow
from market.errors import DomainError
from market.extensions import db
from market.permissions import require, rule
from market.urls import absolute_url

SECTIONS = {
    "commentary": _l("Commentary"),
    "movers": _l("Biggest movers"),
    "prices": _l("Price table"),
    "supply_demand": _l("Supply and demand on the exchange"),
}
DEFAULT_SECTIONS = ["commentary", "movers", "prices", "supply_demand"]
PERIOD_LABELS = {"week": _l("Weekly"), "month": _l("Monthly")}
MOVERS = 5
EMAIL_ROWS = 25  # rows of the price table in the e-mail; the page and the PDF have them all
MAX_TITLE, MAX_COMMENTARY, MAX_NOTE = 200, 20_000, 500
DRAFTED_ELSEWHERE = _l("This bulletin was just drafted by someone else; reload the page.")

# The user's preference for this kind is the subscription itself: off until they subscribe,
# here or on the bulletins page, and the one-click link in each bulletin turns it off again.
BULLETIN_KIND = register_kind(
    "bulletins",
    _l("Price bulletins"),
    _l("Each new weekly or monthly price bulletin, as soon as it is published."),
    default=Frequency.off,
    digestible=False,
    order=30,
)
DRAFT_KIND = register_kind(
    "bulletin_draft",
    _l("Bulletin drafts (staff)"),
    _l("The weekly draft is ready to edit and publish."),
    essential=True,  # a work notice to the department's staff, not a subscription
    digestible=False,
)

describe_actions(
    {
        "bulletin.drafted": _l("Bulletin drafted"),
        "bulletin.edited": _l("Bulletin edited"),
        "bulletin.published": _l("Bulletin published"),
        "bulletin.correction_started": _l("Bulletin correction started"),
        "bulletin.discarded": _l("Bulletin draft discarded"),
    }
)


@rule("edit", "bulletins")
def _can_edit(user: User | None, _subject: Any) -> bool:
    return user is not None and user.is_official


@rule("publish", "bulletins")
def _can_publish(user: User | None, _subject: Any) -> bool:
    return user is not None and user.is_official


@rule("subscribe", "bulletins")
def _can_subscribe(user: User | None, _subject: Any) -> bool:
    return user is not None


def _system_or(actor: User | None, action: str, subject: Any = "bulletins") -> None:
    if actor is not None:
        require(actor, action, subject)


# Periods and titles ---------------------------------------------------------------------------


def resolve_period(kind: str, day: date | None = None, *, today: date | None = None) -> Period:
    """The period containing ``day``; without a day, the last one that has ended."""
    if kind not in PERIOD_KINDS:
        raise DomainError(_("Choose a week or a month."), field="period")
    today = today or date.today()
    period = period_of(kind, day) if day else last_complete(kind, today)
    if period.start > today:
        raise DomainError(_("That period has not started yet."), field="day")
    return period


def period_label(kind: str, start: date, end: date) -> str:
    """The period as readers say it, in the current language: "week 16/2026 (13/04–19/04/2026)"
    or "month 4/2026"."""
    if kind == "week":
        return _(
            "week %(week)d/%(year)d (%(start)s–%(end)s)",
            week=start.isocalendar().week,
            year=start.isocalendar().year,
            start=start.strftime("%d/%m"),
            end=end.strftime("%d/%m/%Y"),
        )
    return _("month %(month)d/%(year)d", month=start.month, year=start.year)


def default_title(period: Period) -> str:
    """Bulletins are written in Vietnamese, whoever drafts them."""
    with force_locale("vi"):
        return _(
            "Market price bulletin, %(period)s",
            period=period_label(period.kind, period.start, period.end),
        )


# Drafting ---------------------------------------------------------------------------------------


@dataclass
class DraftOutcome:
    bulletin: Bulletin
    created: bool  # False: the existing draft was recomputed

    def summary(self) -> str:
        b = self.bulletin
        verb = "drafted" if self.created else "recomputed the existing draft of"
        return (
            f"{verb} {b.period_kind} {b.period_start.isoformat()}–{b.period_end.isoformat()} "
            f"(bulletin {b.id}, version {b.version}, {len(b.items)} rows, "
            f"{len(b.included_items)} included)"
        )


def _insert_version(bulletin: Bulletin) -> None:
    """Add a new version in a savepoint: the weekly job and an official (or two clicks on
    "Correct") may insert the same period and version at once, and the unique constraint
    decides; the loser gets a message instead of an error page, its transaction intact."""
    try:
        with db.session.begin_nested():
            db.session.add(bulletin)
    except IntegrityError as exc:
        raise DomainError(str(DRAFTED_ELSEWHERE)) from exc


def latest_version(period_kind: str, period_start: date) -> Bulletin | None:
    return db.session.scalar(
        select(Bulletin)
        .where(Bulletin.period_kind == period_kind, Bulletin.period_start == period_start)
        .order_by(Bulletin.version.desc())
        .limit(1)
    )


def draft_bulletin(
    *,
    actor: User | None,
    period: str,
    day: date | None = None,
    today: date | None = None,
) -> DraftOutcome:
    """Draft the bulletin of a period from the published prices.

    Drafting a period again recomputes its draft (the official's commentary, choices, order and
    notes stay); a published period is refused: it changes only through a correction.
    """
    _system_or(actor, "edit")
    chosen = resolve_period(period, day, today=today)
    existing = latest_version(chosen.kind, chosen.start)
    if existing is not None and existing.is_published:
        raise DomainError(
            _(
                "The bulletin for this period is already published (version %(version)d). "
                "To change it, publish a correction.",
                version=existing.version,
            )
        )
    figures = compute(chosen)
    if not figures.rows:
        raise DomainError(_("No published price in this period: there is nothing to draft."))
    created = existing is None
    bulletin = existing or Bulletin(
        period_kind=chosen.kind,
        period_start=chosen.start,
        period_end=chosen.end,
        version=1,
        title=default_title(chosen),
        commentary="",
        status="draft",
        sections=list(DEFAULT_SECTIONS),
        created_by_id=actor.id if actor else None,
    )
    if created:
        _insert_version(bulletin)
    _fill_items(bulletin, figures.rows)
    bulletin.snapshot = take_snapshot(start=chosen.start, end=chosen.end)
    bulletin.computed_at = utcnow()
    db.session.flush()
    record(
        actor=actor,
        action="bulletin.drafted",
        subject=bulletin,
        detail={"created": created, "rows": len(figures.rows), "version": bulletin.version},
    )
    return DraftOutcome(bulletin, created)


def _fill_items(bulletin: Bulletin, rows: list) -> None:
    """Put the computed rows in. Rows the official already edited keep their id, choices,
    order and note; new ones go to the end; rows whose prices are gone are dropped.

    Bulk statements, not one ORM object per row: a bulletin over every market has thousands.
    """
    db.session.flush()  # the bulletin's id
    # Bulk statements bypass the rows this session already holds: let them reload (rows
    # already expired have no values in their __dict__ and reload anyway).
    for held in list(db.session.identity_map.values()):
        if isinstance(held, BulletinItem) and held.__dict__.get("bulletin_id") == bulletin.id:
            db.session.expire(held)
    existing = {
        tuple(found[2:]): (found[0], found[1])
        for found in db.session.execute(
            select(
                BulletinItem.id,
                BulletinItem.position,
                BulletinItem.commodity_id,
                BulletinItem.market_id,
                BulletinItem.price_type,
                BulletinItem.unit_code,
                BulletinItem.currency,
            ).where(BulletinItem.bulletin_id == bulletin.id)
        )
    }
    step = max((position for _id, position in existing.values()), default=0)
    updates, inserts, kept = [], [], set()
    for row in rows:
        values = row.values()
        if row.key in existing:
            item_id = existing[row.key][0]
            kept.add(item_id)
            updates.append({"id": item_id, **values})
        else:
            step += 10
            inserts.append(
                {"bulletin_id": bulletin.id, "included": row.included, "position": step, **values}
            )
    gone = [item_id for item_id, _position in existing.values() if item_id not in kept]
    if gone:
        db.session.execute(delete(BulletinItem).where(BulletinItem.id.in_(gone)))
    if updates:
        db.session.execute(update(BulletinItem), updates)
    if inserts:
        db.session.execute(insert(BulletinItem), inserts)
    db.session.expire(bulletin, ["items"])


# Editing ----------------------------------------------------------------------------------------


@dataclass
class ItemChoice:
    included: bool
    position: int
    note: str | None


def update_bulletin(
    *,
    actor: User,
    bulletin: Bulletin,
    title: str,
    commentary: str,
    sections: list[str],
    items: dict[int, ItemChoice],
    correction_note: str | None = None,
) -> Bulletin:
    """Save the official's edits to a draft; a published bulletin only changes by correction."""
    require(actor, "edit", "bulletins")
    if not bulletin.is_draft:
        raise DomainError(
            _("A published bulletin cannot be changed. Publish a correction instead.")
        )
    title = (title or "").strip()
    if not title:
        raise DomainError(_("The bulletin needs a title."), field="title")
    if len(title) > MAX_TITLE:
        raise DomainError(_("At most %(max)d characters.", max=MAX_TITLE), field="title")
    commentary = (commentary or "").replace("\r\n", "\n")
    if len(commentary) > MAX_COMMENTARY:
        raise DomainError(_("At most %(max)d characters.", max=MAX_COMMENTARY), field="commentary")
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown or len(set(sections)) != len(sections):
        raise DomainError(_("Choose the sections from the list."), field="sections")
    note = (correction_note or "").strip() or None
    if bulletin.version > 1 and not note:
        raise DomainError(
            _("Say what this correction changes: readers see the note."),
            field="correction_note",
        )
    chosen = [(item, items[item.id]) for item in bulletin.items if item.id in items]
    notes = {item.id: (choice.note or "").strip() or None for item, choice in chosen}
    for item, _choice in chosen:
        if len(notes[item.id] or "") > MAX_NOTE:
            # The field is the row's input name: the desk marks that row.
            raise DomainError(
                _("At most %(max)d characters.", max=MAX_NOTE), field=f"item-{item.id}-note"
            )
    for item, choice in chosen:
        item.included, item.position, item.note = choice.included, choice.position, notes[item.id]
    bulletin.title, bulletin.commentary, bulletin.sections = title, commentary, list(sections)
    if bulletin.version > 1:
        bulletin.correction_note = note
    bulletin.items.sort(key=lambda i: (i.position, i.id or 0))
    db.session.flush()
    record(actor=actor, action="bulletin.edited", subject=bulletin)
    return bulletin


def discard_draft(*, actor: User, bulletin: Bulletin) -> None:
    require(actor, "edit", "bulletins")
    if not bulletin.is_draft:
        raise DomainError(_("Only a draft can be discarded."))
    record(
        actor=actor,
        action="bulletin.discarded",
        subject=bulletin,
        detail={"period": bulletin.period_start.isoformat(), "version": bulletin.version},
    )
    db.session.delete(bulletin)
    db.session.flush()


# Publishing and corrections -----------------------------------------------------------------


def publish_bulletin(*, actor: User | None, bulletin: Bulletin) -> int:
    """Publish a draft, retire the version it corrects, e-mail the subscribers.

    Returns how many e-mails were queued.
    """
    _system_or(actor, "publish")
    if not bulletin.is_draft:
        raise DomainError(_("This bulletin is already published."))
    if not bulletin.included_items:
        raise DomainError(_("Include at least one row in the price table before publishing."))
    if bulletin.version > 1 and not (bulletin.correction_note or "").strip():
        raise DomainError(
            _("Say what this correction changes: readers see the note."),
            field="correction_note",
        )
    now = utcnow()
    bulletin.status = "published"
    bulletin.published_at = now
    bulletin.published_by_id = actor.id if actor else None
    for earlier in db.session.scalars(
        select(Bulletin).where(
            Bulletin.period_kind == bulletin.period_kind,
            Bulletin.period_start == bulletin.period_start,
            Bulletin.version < bulletin.version,
            Bulletin.status == "published",
            Bulletin.superseded_at.is_(None),
        )
    ):
        earlier.superseded_at = now
    db.session.flush()
    record(
        actor=actor,
        action="bulletin.published",
        subject=bulletin,
        reason=bulletin.correction_note,
        detail={
            "version": bulletin.version,
            "period": f"{bulletin.period_start.isoformat()}/{bulletin.period_end.isoformat()}",
        },
    )
    return _email_subscribers(bulletin)


def correct_bulletin(*, actor: User, bulletin: Bulletin, note: str) -> Bulletin:
    """Start a correction: a new draft version copying the published one, with a note."""
    require(actor, "edit", "bulletins")
    if not bulletin.is_published:
        raise DomainError(_("Only a published bulletin can be corrected; edit the draft instead."))
    latest = latest_version(bulletin.period_kind, bulletin.period_start)
    if latest is not None and latest.is_draft:
        return latest  # a correction is already being prepared: carry on with it
    if latest is not None and latest.id != bulletin.id:
        raise DomainError(_("Correct the latest version of this bulletin."))
    note = (note or "").strip()
    if not note:
        raise DomainError(
            _("Say what this correction changes: readers see the note."), field="note"
        )
    if len(note) > MAX_NOTE:
        raise DomainError(_("At most %(max)d characters.", max=MAX_NOTE), field="note")
    correction = Bulletin(
        period_kind=bulletin.period_kind,
        period_start=bulletin.period_start,
        period_end=bulletin.period_end,
        version=bulletin.version + 1,
        supersedes_id=bulletin.id,
        correction_note=note,
        title=bulletin.title,
        commentary=bulletin.commentary,
        status="draft",
        sections=list(bulletin.sections or DEFAULT_SECTIONS),
        snapshot=bulletin.snapshot,
        computed_at=bulletin.computed_at,
        created_by_id=actor.id,
    )
    copied = [c.key for c in BulletinItem.__table__.columns if c.key not in ("id", "bulletin_id")]
    correction.items = [
        BulletinItem(**{name: getattr(item, name) for name in copied}) for item in bulletin.items
    ]
    _insert_version(correction)
    record(
        actor=actor,
        action="bulletin.correction_started",
        subject=correction,
        reason=note,
        detail={"corrects": bulletin.id, "version": correction.version},
    )
    return correction


# Reading ----------------------------------------------------------------------------------------


def get_bulletin(bulletin_id: int) -> Bulletin | None:
    return db.session.get(Bulletin, bulletin_id)


def get_published(bulletin_id: int) -> Bulletin | None:
    """A published version (current or corrected since), for everyone; drafts are not found."""
    bulletin = get_bulletin(bulletin_id)
    return bulletin if bulletin is not None and bulletin.is_published else None


def get_for_staff(*, actor: User, bulletin_id: int) -> Bulletin | None:
    require(actor, "edit", "bulletins")
    return get_bulletin(bulletin_id)


def published(*, page: int = 1, per_page: int = 20) -> tuple[list[Bulletin], int]:
    """The current version of each published bulletin, newest period first, and the total."""
    where = (Bulletin.status == "published", Bulletin.superseded_at.is_(None))
    total = db.session.scalar(select(func.count(Bulletin.id)).where(*where)) or 0
    rows = db.session.scalars(
        select(Bulletin)
        .where(*where)
        .order_by(Bulletin.period_start.desc(), Bulletin.period_kind, Bulletin.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def staff_list(*, actor: User, limit: int = 100) -> list[Bulletin]:
    require(actor, "edit", "bulletins")
    return list(
        db.session.scalars(
            select(Bulletin)
            .order_by(Bulletin.period_start.desc(), Bulletin.period_kind, Bulletin.version.desc())
            .limit(limit)
        )
    )


def versions_of(bulletin: Bulletin, *, include_drafts: bool = False) -> list[Bulletin]:
    stmt = select(Bulletin).where(
        Bulletin.period_kind == bulletin.period_kind,
        Bulletin.period_start == bulletin.period_start,
    )
    if not include_drafts:
        stmt = stmt.where(Bulletin.status == "published")
    return list(db.session.scalars(stmt.order_by(Bulletin.version)))


def current_of(versions: list[Bulletin]) -> Bulletin | None:
    """The version readers should see among a period's versions (from ``versions_of``)."""
    return next((version for version in versions if version.is_current), None)


def current_version(bulletin: Bulletin) -> Bulletin | None:
    """The published version readers should see for this bulletin's period."""
    return current_of(versions_of(bulletin))


def movers(bulletin: Bulletin, *, n: int = MOVERS) -> tuple[list[BulletinItem], list[BulletinItem]]:
    """The included rows that rose and fell most against the previous period.

    One row per commodity and price type: its "all markets" row when included, else its
    included markets.
    """
    rows = bulletin.included_items
    summarised = {(i.commodity_id, i.price_type) for i in rows if i.market_id is None}
    candidates = [
        i
        for i in rows
        if i.previous_change is not None
        and (i.market_id is None or (i.commodity_id, i.price_type) not in summarised)
    ]
    up = sorted((i for i in candidates if i.previous_change > 0), key=lambda i: -i.previous_change)
    down = sorted((i for i in candidates if i.previous_change < 0), key=lambda i: i.previous_change)
    return up[:n], down[:n]


def sections_available(bulletin: Bulletin) -> list[str]:
    """The sections this bulletin can show (supply and demand only once the exchange exists)."""
    return [key for key in SECTIONS if key != "supply_demand" or bulletin.snapshot]


def presentation(bulletin: Bulletin) -> dict[str, Any]:
    """What the page, the preview and the PDF show, in the same shape for all three."""
    up, down = movers(bulletin)
    available = sections_available(bulletin)
    snapshot = [
        (provider_label(key), data) for key, data in (bulletin.snapshot or {}).items() if data
    ]
    return {
        "bulletin": bulletin,
        "commentary": render_markdown(bulletin.commentary),
        "sections": [s for s in bulletin.sections or [] if s in available],
        "rows": bulletin.included_items,
        "movers_up": up,
        "movers_down": down,
        "snapshot": snapshot,
    }


# Tables for the downloads -----------------------------------------------------------------------

TABLE_COLUMNS = [
    "bulletin_id",
    "version",
    "period",
    "period_start",
    "period_end",
    "commodity_code",
    "commodity_vi",
    "commodity_en",
    "market_code",
    "market_name",
    "price_type",
    "unit",
    "currency",
    "average",
    "minimum",
    "maximum",
    "previous_average",
    "change_previous_pct",
    "year_ago_average",
    "change_year_ago_pct",
    "anomaly_level",
    "anomaly_method",
    "days",
    "observations",
    "sources",
    "markets",
    "note",
]


def table_rows(bulletin: Bulletin) -> list[list[Any]]:
    """The price table as published (included rows, in order); "" market = all markets."""
    return [
        [
            bulletin.id,
            bulletin.version,
            bulletin.period_kind,
            bulletin.period_start.isoformat(),
            bulletin.period_end.isoformat(),
            i.commodity.code,
            i.commodity.name_vi,
            i.commodity.name_en,
            i.market.code if i.market else "",
            i.market.name if i.market else "",
            i.price_type,
            i.unit_code,
            i.currency,
            i.average,
            i.minimum,
            i.maximum,
            i.previous_average,
            i.previous_change,
            i.year_ago_average,
            i.year_ago_change,
            i.anomaly_level or "",
            i.anomaly_method or "",
            i.days,
            i.observations,
            i.sources,
            i.markets,
            i.note or "",
        ]
        for i in bulletin.included_items
    ]


# Subscriptions and e-mail -------------------------------------------------------------------------


def is_subscribed(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return frequency_for(user, BULLETIN_KIND) != Frequency.off


def subscribe(*, actor: User) -> None:
    """E-mail every published bulletin to ``actor``: the same switch as on the e-mail settings."""
    require(actor, "subscribe", "bulletins")
    set_preference(user=actor, kind=BULLETIN_KIND.key, frequency=Frequency.immediate)


def unsubscribe(*, actor: User) -> None:
    require(actor, "subscribe", "bulletins")
    set_preference(user=actor, kind=BULLETIN_KIND.key, frequency=Frequency.off)


def subscribers() -> list[User]:
    """Active accounts with a confirmed address that turned the bulletins on."""
    return list(
        db.session.scalars(
            select(User)
            .join(EmailPreference, EmailPreference.user_id == User.id)
            .where(
                EmailPreference.kind == BULLETIN_KIND.key,
                EmailPreference.frequency != Frequency.off,
                User.active.is_(True),
                User.email_verified_at.is_not(None),
            )
            .order_by(User.id)
        )
    )


def _links(bulletin: Bulletin) -> dict[str, str]:
    return {
        "link": absolute_url("bulletins.show", bulletin_id=bulletin.id),
        "pdf_link": absolute_url("bulletins.pdf", bulletin_id=bulletin.id),
    }


def _email_subscribers(bulletin: Bulletin) -> int:
    """One e-mail per subscriber and version, in each subscriber's language."""
    rows = bulletin.included_items
    shown, more, links = rows[:EMAIL_ROWS], max(0, len(rows) - EMAIL_ROWS), _links(bulletin)
    queued = 0
    for user in subscribers():
        message = queue_email(
            user=user,
            kind=BULLETIN_KIND.key,
            template="bulletin",
            dedupe_key=f"bulletin:{bulletin.id}:{user.id}",
            bulletin=bulletin,
            rows=shown,
            more=more,
            **links,
        )
        queued += message is not None
    return queued


def notify_officials(*, bulletin: Bulletin) -> int:
    """Tell the department's staff that a draft waits for them (once per draft and person)."""
    staff = db.session.scalars(
        select(User)
        .where(User.role.in_([Role.official, Role.admin]), User.active.is_(True))
        .order_by(User.id)
    )
    queued = 0
    for user in staff:
        message = queue_email(
            user=user,
            kind=DRAFT_KIND.key,
            template="bulletin_draft",
            dedupe_key=f"bulletin-draft:{bulletin.id}:{user.id}",
            bulletin=bulletin,
            edit_link=absolute_url("bulletins_admin.edit", bulletin_id=bulletin.id),
            rows=len(bulletin.items),
            included=len(bulletin.included_items),
        )
        queued += message is not None
    return queued
