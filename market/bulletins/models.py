"""Price bulletins: a period's prices drafted from the data, edited and published by officials.

A published bulletin is never changed: a correction is a new row (``version`` + 1) that
``supersedes`` the one before and says why in ``correction_note``; the old row stays readable at
its own address and gets ``superseded_at`` once the correction is published.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import User
from market.catalogue.models import Commodity, Market
from market.db import TimestampMixin, utcnow
from market.extensions import db

PRICE = Numeric(18, 4)
PERCENT = Numeric(10, 2)


class Bulletin(TimestampMixin, db.Model):
    """One version of the bulletin of one week (Monday–Sunday) or one calendar month."""

    __tablename__ = "bulletin"
    __table_args__ = (
        # Drafting the same period twice updates the draft: never two rows of one version.
        UniqueConstraint("period_kind", "period_start", "version"),
        Index("ix_bulletin_published", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(10))  # week | month
    period_start: Mapped[date]
    period_end: Mapped[date]
    version: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletin.id", ondelete="SET NULL"), index=True
    )
    # Required on a correction, shown at its top.
    correction_note: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    # Markdown, as the official wrote it; rendered and sanitised for every reader.
    commentary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | published
    # The sections shown, in order: keys of ``market.bulletins.services.SECTIONS``.
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Figures from other domains, frozen at drafting time (see ``market.bulletins.snapshots``).
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]

    items: Mapped[list[BulletinItem]] = relationship(
        back_populates="bulletin",
        cascade="all, delete-orphan",
        order_by="[BulletinItem.position, BulletinItem.id]",
    )
    supersedes: Mapped[Bulletin | None] = relationship(remote_side=[id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def is_current(self) -> bool:
        """Published and not replaced by a published correction."""
        return self.is_published and self.superseded_at is None

    @property
    def included_items(self) -> list[BulletinItem]:
        return [item for item in self.items if item.included]


class BulletinItem(db.Model):
    """One row of a bulletin's price table: a commodity at one market, or at all markets."""

    __tablename__ = "bulletin_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletin.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    included: Mapped[bool] = mapped_column(default=True)
    commodity_id: Mapped[int] = mapped_column(ForeignKey("commodity.id"))
    # None: every market with a price, each (market, day) counted once.
    market_id: Mapped[int | None] = mapped_column(ForeignKey("market.id"))
    price_type: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    # The mean of the daily prices (a day's price: the mean of the sources that gave one);
    # lowest and highest: of the ranges the sources printed.
    average: Mapped[Decimal] = mapped_column(PRICE)
    minimum: Mapped[Decimal] = mapped_column(PRICE)
    maximum: Mapped[Decimal] = mapped_column(PRICE)
    previous_average: Mapped[Decimal | None] = mapped_column(PRICE)
    previous_change: Mapped[Decimal | None] = mapped_column(PERCENT)  # %
    year_ago_average: Mapped[Decimal | None] = mapped_column(PRICE)
    year_ago_change: Mapped[Decimal | None] = mapped_column(PERCENT)  # %
    anomaly_level: Mapped[str | None] = mapped_column(String(10))
    anomaly_method: Mapped[str | None] = mapped_column(String(10))
    days: Mapped[int] = mapped_column(default=0)
    observations: Mapped[int] = mapped_column(default=0)
    sources: Mapped[int] = mapped_column(default=0)
    markets: Mapped[int] = mapped_column(default=1)
    note: Mapped[str | None] = mapped_column(String(500))

    bulletin: Mapped[Bulletin] = relationship(back_populates="items")
    commodity: Mapped[Commodity] = relationship(lazy="joined")
    market: Mapped[Market | None] = relationship(lazy="joined")

    @property
    def key(self) -> tuple[int, int | None, str, str, str]:
        return (self.commodity_id, self.market_id, self.price_type, self.unit_code, self.currency)
