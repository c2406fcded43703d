"""A bulletin's figures, computed from the published prices (status "ok") in aggregate SQL.

For a period (a week Monday–Sunday, or a calendar month), each series (commodity × market ×
price type × unit × currency) gets:

* ``average``: the mean of its daily prices, a day's price being the mean of the sources that
  reported it that day (as on the board); ``minimum``/``maximum``: the lowest and highest
  price any source printed (its ranges' ends);
* the same average for the previous period (the week before, or the month before) and for the
  same period a year earlier (52 weeks before a week, so it is Monday–Sunday again; the same
  month of the previous year), and the changes against them in per cent;
* the number of days, observations and distinct sources.

The row for "all markets" of a commodity (per price type, unit and currency) is the mean of
every (market, day) price, so each market weighs by the days it reported. Its changes compare
like with like: only the markets with prices in both periods count on either side, so a market
that reported this week but not last week does not move the change.

Three range queries, one per period, each over the ``observed_on`` index, grouped in the
database first by series and day, then by series: a week's bulletin reads three weeks of rows,
whatever the length of the history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select

from market.catalogue.models import HOME_PROVINCE_CODE, Commodity, Market
from market.extensions import db
from market.prices.history import bounds
from market.prices.models import PriceObservation, PriceSeries
from market.prices.series import WARNING_ORDER

SeriesKey = tuple[int, int, str, str, str]  # commodity, market, price type, unit, currency
GroupKey = tuple[int, str, str, str]  # commodity, price type, unit, currency
PERIOD_KINDS = ("week", "month")
CENT = Decimal("0.01")
PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Period:
    kind: str  # week | month
    start: date
    end: date

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def year_ago(self) -> Period:
        if self.kind == "week":
            return Period("week", self.start - timedelta(weeks=52), self.end - timedelta(weeks=52))
        return period_of("month", self.start.replace(year=self.start.year - 1))


def period_of(kind: str, day: date) -> Period:
    """The week (Monday–Sunday) or calendar month that contains ``day``."""
    if kind in PERIOD_KINDS:
        return Period(kind, *bounds(day, kind))
    raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}")


def last_complete(kind: str, today: date) -> Period:
    """The latest week or month that has ended before ``today``."""
    current = period_of(kind, today)
    return current.previous()


@dataclass
class Stats:
    """Sums that combine exactly: the mean of several series is total / days."""

    total: Decimal = Decimal(0)
    days: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    observations: int = 0

    @property
    def mean(self) -> Decimal | None:
        return (self.total / self.days).quantize(PLACES) if self.days else None

    def add(self, other: Stats) -> None:
        self.total += other.total
        self.days += other.days
        self.observations += other.observations
        for name, pick in (("low", min), ("high", max)):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, theirs if mine is None else pick(mine, theirs))


def _decimal(value: Any) -> Decimal:
    # SQLite hands back floats for aggregates of NUMERIC columns, PostgreSQL Decimals.
    return value if isinstance(value, Decimal) else Decimal(str(value))


_KEY_COLUMNS = (
    PriceObservation.commodity_id,
    PriceObservation.market_id,
    PriceObservation.price_type,
    PriceObservation.unit_code,
    PriceObservation.currency,
)


def _in_period(period: Period):
    return (
        PriceObservation.observed_on >= period.start,
        PriceObservation.observed_on <= period.end,
        PriceObservation.status == "ok",
    )


def window_stats(period: Period) -> dict[SeriesKey, Stats]:
    """Each series' daily-mean sums over ``period``, two GROUP BYs in the database."""
    daily = (
        select(
            *_KEY_COLUMNS,
            func.avg(PriceObservation.price).label("price"),
            func.min(PriceObservation.price_min).label("low"),
            func.max(PriceObservation.price_max).label("high"),
            func.count(PriceObservation.id).label("n"),
        )
        .where(*_in_period(period))
        .group_by(*_KEY_COLUMNS, PriceObservation.observed_on)
        .subquery()
    )
    keys = (daily.c.commodity_id, daily.c.market_id, daily.c.price_type, daily.c.unit_code)
    keys = (*keys, daily.c.currency)
    rows = db.session.execute(
        select(
            *keys,
            func.sum(daily.c.price),
            func.count(),
            func.min(daily.c.low),
            func.max(daily.c.high),
            func.sum(daily.c.n),
        ).group_by(*keys)
    )
    result: dict[SeriesKey, Stats] = {}
    for commodity_id, market_id, price_type, unit, currency, total, days, low, high, n in rows:
        result[(commodity_id, market_id, price_type, unit, currency)] = Stats(
            total=_decimal(total),
            days=int(days),
            low=_decimal(low),
            high=_decimal(high),
            observations=int(n),
        )
    return result


def source_counts(period: Period) -> tuple[dict[SeriesKey, int], dict[GroupKey, int]]:
    """Distinct sources per series and per commodity (all markets) within ``period``."""
    per_series = {
        tuple(row[:5]): int(row[5])
        for row in db.session.execute(
            select(*_KEY_COLUMNS, func.count(distinct(PriceObservation.source_id)))
            .where(*_in_period(period))
            .group_by(*_KEY_COLUMNS)
        )
    }
    group_columns = (
        PriceObservation.commodity_id,
        PriceObservation.price_type,
        PriceObservation.unit_code,
        PriceObservation.currency,
    )
    per_group = {
        tuple(row[:4]): int(row[4])
        for row in db.session.execute(
            select(*group_columns, func.count(distinct(PriceObservation.source_id)))
            .where(*_in_period(period))
            .group_by(*group_columns)
        )
    }
    return per_series, per_group  # type: ignore[return-value]


def change(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    """Per cent from ``before`` to ``now``, to two places; None without a base."""
    if now is None or before is None or before <= 0:
        return None
    return ((now - before) / before * 100).quantize(CENT)


@dataclass
class Row:
    """One future ``BulletinItem``."""

    commodity_id: int
    market_id: int | None
    price_type: str
    unit_code: str
    currency: str
    current: Stats
    previous: Stats | None
    year_ago: Stats | None
    sources: int
    markets: int = 1
    # "All markets" rows: this period over only the markets that reported in the other one.
    matched_previous: Stats | None = None
    matched_year_ago: Stats | None = None
    anomaly_level: str | None = None
    anomaly_method: str | None = None
    included: bool = True

    @property
    def key(self) -> tuple[int, int | None, str, str, str]:
        return (self.commodity_id, self.market_id, self.price_type, self.unit_code, self.currency)

    def values(self) -> dict[str, Any]:
        average = self.current.mean
        previous = self.previous.mean if self.previous else None
        year_ago = self.year_ago.mean if self.year_ago else None
        against_previous = self.matched_previous.mean if self.matched_previous else average
        against_year_ago = self.matched_year_ago.mean if self.matched_year_ago else average
        return {
            "commodity_id": self.commodity_id,
            "market_id": self.market_id,
            "price_type": self.price_type,
            "unit_code": self.unit_code,
            "currency": self.currency,
            "average": average,
            "minimum": self.current.low,
            "maximum": self.current.high,
            "previous_average": previous,
            "previous_change": change(against_previous, previous),
            "year_ago_average": year_ago,
            "year_ago_change": change(against_year_ago, year_ago),
            "anomaly_level": self.anomaly_level,
            "anomaly_method": self.anomaly_method,
            "days": self.current.days,
            "observations": self.current.observations,
            "sources": self.sources,
            "markets": self.markets,
        }


@dataclass
class Draft:
    period: Period
    rows: list[Row] = field(default_factory=list)


def _strongest(levels: list[tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    """The "all markets" row carries its markets' strongest warning, ranked as on the board."""
    warnings = [pair for pair in levels if pair[0] in WARNING_ORDER]
    return min(warnings, key=lambda pair: WARNING_ORDER[pair[0]]) if warnings else (None, None)


def compute(period: Period) -> Draft:
    """Every series with a price in ``period``, and one "all markets" row per commodity with
    prices at more than one market; ordered by group and commodity, Quảng Trị's markets first.

    Included by default: the "all markets" rows, and the markets in Quảng Trị (and a
    commodity's only market). The official chooses the rest on the edit page.
    """
    current = window_stats(period)
    if not current:
        return Draft(period)
    previous = window_stats(period.previous())
    year_ago = window_stats(period.year_ago())
    sources, group_sources = source_counts(period)
    commodity_ids = {key[0] for key in current}
    market_ids = {key[1] for key in current}
    anomalies = {
        (s.commodity_id, s.market_id, s.price_type, s.unit_code, s.currency): (
            s.anomaly_level,
            s.anomaly_method,
        )
        for s in db.session.execute(
            select(
                PriceSeries.commodity_id,
                PriceSeries.market_id,
                PriceSeries.price_type,
                PriceSeries.unit_code,
                PriceSeries.currency,
                PriceSeries.anomaly_level,
                PriceSeries.anomaly_method,
            ).where(PriceSeries.commodity_id.in_(commodity_ids))
        )
    }
    commodities = {
        c.id: c
        for c in db.session.scalars(select(Commodity).where(Commodity.id.in_(commodity_ids)))
    }
    markets = {m.id: m for m in db.session.scalars(select(Market).where(Market.id.in_(market_ids)))}

    groups: dict[GroupKey, list[SeriesKey]] = defaultdict(list)
    for key in current:
        groups[(key[0], key[2], key[3], key[4])].append(key)

    def home_first(key: SeriesKey) -> tuple:
        market = markets[key[1]]
        return (market.province_code != HOME_PROVINCE_CODE, market.name_folded, market.id)

    def group_order(group: GroupKey) -> tuple:
        commodity = commodities[group[0]]
        return (commodity.category, commodity.name_folded, commodity.id, *group[1:])

    draft = Draft(period)
    for group in sorted(groups, key=group_order):
        members = sorted(groups[group], key=home_first)
        if len(members) > 1:
            totals, before, last_year = Stats(), Stats(), Stats()
            matched_before, matched_last_year = Stats(), Stats()
            for key in members:
                totals.add(current[key])
                if key in previous:
                    before.add(previous[key])
                    matched_before.add(current[key])
                if key in year_ago:
                    last_year.add(year_ago[key])
                    matched_last_year.add(current[key])
            level, method = _strongest([anomalies.get(key, (None, None)) for key in members])
            draft.rows.append(
                Row(
                    commodity_id=group[0],
                    market_id=None,
                    price_type=group[1],
                    unit_code=group[2],
                    currency=group[3],
                    current=totals,
                    previous=before if before.days else None,
                    year_ago=last_year if last_year.days else None,
                    sources=group_sources.get(group, 0),
                    markets=len(members),
                    matched_previous=matched_before,
                    matched_year_ago=matched_last_year,
                    anomaly_level=level,
                    anomaly_method=method,
                )
            )
        for key in members:
            level, method = anomalies.get(key, (None, None))
            draft.rows.append(
                Row(
                    commodity_id=key[0],
                    market_id=key[1],
                    price_type=key[2],
                    unit_code=key[3],
                    currency=key[4],
                    current=current[key],
                    previous=previous.get(key),
                    year_ago=year_ago.get(key),
                    sources=sources.get(key, 0),
                    anomaly_level=level,
                    anomaly_method=method,
                    included=len(members) == 1
                    or markets[key[1]].province_code == HOME_PROVINCE_CODE,
                )
            )
    return draft
