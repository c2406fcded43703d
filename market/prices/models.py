"""Prices: where they come from, each collection run, each observation and its history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import User
from market.catalogue.models import Commodity, Market
from market.db import TimestampMixin, utcnow
from market.extensions import db

PRICE = Numeric(18, 4)


class PriceSource(TimestampMixin, db.Model):
    """A web page, file or database the department collects prices from, on its own schedule."""

    __tablename__ = "price_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # html_table | agro_mae | csv | xlsx | manual | import
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(500))
    # Cron expression (minute hour day month weekday) in Asia/Ho_Chi_Minh.
    schedule: Mapped[str | None] = mapped_column(String(100))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    respect_robots: Mapped[bool] = mapped_column(default=True)
    # A price type when the page does not say (many pages only show wholesale prices).
    default_price_type: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    # Set by "collect now" in the web page; the scheduler runs the source within a minute.
    run_requested_at: Mapped[datetime | None]

    runs: Mapped[list[CollectionRun]] = relationship(
        back_populates="source", order_by="CollectionRun.id.desc()", lazy="dynamic"
    )

    @property
    def collected(self) -> bool:
        """Sources the scheduler runs (manual entry and file imports are not collected)."""
        return self.kind not in ("manual", "import")


class CollectionRun(db.Model):
    """One execution of a source: what was fetched, read, stored, and what went wrong."""

    __tablename__ = "collection_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("price_source.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="running")  # running|ok|partial|failed
    pages: Mapped[int] = mapped_column(default=0)
    parsed: Mapped[int] = mapped_column(default=0)
    stored: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    flagged: Mapped[int] = mapped_column(default=0)
    unmapped: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Rejected rows (row, text, reason), warnings and the URLs fetched, for the run's page.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    source: Mapped[PriceSource] = relationship(back_populates="runs")

    @property
    def rows_found(self) -> int:
        return self.parsed + self.rejected


class PriceObservation(TimestampMixin, db.Model):
    """One price of one commodity at one market on one day, as one source reported it."""

    __tablename__ = "price_observation"
    __table_args__ = (
        UniqueConstraint("source_id", "commodity_id", "market_id", "price_type", "observed_on"),
        Index(
            "ix_price_observation_series", "commodity_id", "market_id", "price_type", "observed_on"
        ),
        Index("ix_price_observation_day", "observed_on"),
        # A commodity's latest prices across markets (its page), newest first.
        Index("ix_price_observation_commodity_day", "commodity_id", "price_type", "observed_on"),
        # Only the few unpublished rows (the review queue): an index over every row's status
        # leads SQLite's planner, which has no statistics, away from the date and series
        # indexes on a large history.
        Index(
            "ix_price_observation_unpublished",
            "status",
            sqlite_where=text("status != 'ok'"),
            postgresql_where=text("status != 'ok'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("price_source.id"), index=True)
    commodity_id: Mapped[int] = mapped_column(ForeignKey("commodity.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("market.id"), index=True)
    price_type: Mapped[str] = mapped_column(String(20))  # farm_gate|wholesale|retail|export
    observed_on: Mapped[date]
    # In ``currency`` per ``unit_code`` (a base unit: kg, m3, con, ...).
    price: Mapped[Decimal] = mapped_column(PRICE)
    price_min: Mapped[Decimal] = mapped_column(PRICE)
    price_max: Mapped[Decimal] = mapped_column(PRICE)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    change: Mapped[Decimal | None] = mapped_column(PRICE)
    source_url: Mapped[str | None] = mapped_column(String(500))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw_text: Mapped[str | None] = mapped_column(String(1000))
    # ok: published | flagged: doubtful, waits for an official | rejected: not published
    status: Mapped[str] = mapped_column(String(10), default="ok")
    flag_reason: Mapped[str | None] = mapped_column(String(300))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("collection_run.id", ondelete="SET NULL"))

    commodity: Mapped[Commodity] = relationship(lazy="joined")
    market: Mapped[Market] = relationship(lazy="joined")
    source: Mapped[PriceSource] = relationship(lazy="joined")
    revisions: Mapped[list[PriceRevision]] = relationship(
        back_populates="observation", cascade="all, delete-orphan", order_by="PriceRevision.id"
    )


class PriceRevision(db.Model):
    """The value an observation had before a re-collection or correction changed it."""

    __tablename__ = "price_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("price_observation.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    price: Mapped[Decimal] = mapped_column(PRICE)
    price_min: Mapped[Decimal] = mapped_column(PRICE)
    price_max: Mapped[Decimal] = mapped_column(PRICE)
    unit_code: Mapped[str] = mapped_column(String(20))
    raw_text: Mapped[str | None] = mapped_column(String(1000))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("collection_run.id", ondelete="SET NULL"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    observation: Mapped[PriceObservation] = relationship(back_populates="revisions")


class UnmappedName(db.Model):
    """A commodity or market name a source printed that the catalogue does not know yet.

    Observations carrying it wait in ``HeldPrice`` until an official maps the name; the mapping
    is remembered for every later run.
    """

    __tablename__ = "unmapped_name"
    __table_args__ = (UniqueConstraint("kind", "name_folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # commodity | market
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("price_source.id", ondelete="SET NULL")
    )
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    seen_count: Mapped[int] = mapped_column(default=1)
    commodity_id: Mapped[int | None] = mapped_column(ForeignKey("commodity.id"))
    market_id: Mapped[int | None] = mapped_column(ForeignKey("market.id"))
    ignored: Mapped[bool] = mapped_column(default=False)
    mapped_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    mapped_at: Mapped[datetime | None]

    source: Mapped[PriceSource | None] = relationship(lazy="joined")
    commodity: Mapped[Commodity | None] = relationship(lazy="joined")
    market: Mapped[Market | None] = relationship(lazy="joined")


class HeldPrice(db.Model):
    """A normalised price waiting for its commodity or market name to be mapped."""

    __tablename__ = "held_price"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_id: Mapped[int] = mapped_column(ForeignKey("price_source.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("collection_run.id", ondelete="SET NULL"))
    commodity_name_id: Mapped[int | None] = mapped_column(
        ForeignKey("unmapped_name.id", ondelete="CASCADE"), index=True
    )
    market_name_id: Mapped[int | None] = mapped_column(
        ForeignKey("unmapped_name.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


__all__ = [
    "CollectionRun",
    "HeldPrice",
    "PriceObservation",
    "PriceRevision",
    "PriceSource",
    "UnmappedName",
    "User",
]


class PriceSeries(db.Model):
    """The state of one series (commodity × market × price type × unit × currency), kept up to
    date as prices arrive, so the board reads a few thousand rows instead of millions."""

    __tablename__ = "price_series"
    __table_args__ = (
        UniqueConstraint("commodity_id", "market_id", "price_type", "unit_code", "currency"),
        Index("ix_price_series_commodity", "commodity_id", "last_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commodity_id: Mapped[int] = mapped_column(ForeignKey("commodity.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("market.id"), index=True)
    price_type: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    first_on: Mapped[date]
    last_on: Mapped[date]
    observations: Mapped[int] = mapped_column(default=0)
    # The day's price is the mean of the sources that reported it that day.
    last_price: Mapped[Decimal] = mapped_column(PRICE)
    last_min: Mapped[Decimal] = mapped_column(PRICE)
    last_max: Mapped[Decimal] = mapped_column(PRICE)
    prev_price: Mapped[Decimal | None] = mapped_column(PRICE)
    prev_on: Mapped[date | None]
    price_7d: Mapped[Decimal | None] = mapped_column(PRICE)
    price_30d: Mapped[Decimal | None] = mapped_column(PRICE)
    price_365d: Mapped[Decimal | None] = mapped_column(PRICE)
    last_source_id: Mapped[int | None] = mapped_column(ForeignKey("price_source.id"))
    # The last 60 days as [[iso date, price], ...] for the small trend line.
    spark: Mapped[list[Any] | None] = mapped_column(JSON)
    # Anomaly warning: ipa | robust_z, its level and score, and a data-quality score.
    anomaly_method: Mapped[str | None] = mapped_column(String(10))
    anomaly_level: Mapped[str | None] = mapped_column(String(10), index=True)
    anomaly_value: Mapped[float | None]
    anomaly_quality: Mapped[float | None]
    anomaly_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    anomaly_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    commodity: Mapped[Commodity] = relationship(lazy="joined")
    market: Mapped[Market] = relationship(lazy="joined")
    last_source: Mapped[PriceSource | None] = relationship(lazy="joined")

    def change(self, against: Decimal | None) -> float | None:
        """Percentage change from ``against`` to the latest price."""
        if against in (None, 0) or self.last_price is None:
            return None
        return float((self.last_price - against) / against * 100)


class PriceAlertRule(db.Model):
    """A user's standing request: tell me when this commodity's price does this."""

    __tablename__ = "price_alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    commodity_id: Mapped[int] = mapped_column(ForeignKey("commodity.id"), index=True)
    market_id: Mapped[int | None] = mapped_column(ForeignKey("market.id"))
    # above | below | weekly_change | anomaly
    kind: Mapped[str] = mapped_column(String(20))
    # đồng per the commodity's base unit (above/below), or a percentage (weekly_change)
    threshold: Mapped[Decimal | None] = mapped_column(PRICE)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_triggered_on: Mapped[date | None]

    commodity: Mapped[Commodity] = relationship(lazy="joined")
    market: Mapped[Market | None] = relationship(lazy="joined")
