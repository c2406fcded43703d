"""Price series: the per-series summary the board reads, and the time series pages draw.

A series is one commodity at one market, of one price type, in one unit and currency. Its
day's value is the mean of the sources that reported it that day (rejected and doubtful prices
left out). ``refresh_series`` recomputes a series' summary from its observations; collection,
manual entry, imports and reviews call it for the series they touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select

from market.catalogue.models import HOME_PROVINCE_CODE, Commodity, CommodityAlias, Market
from market.extensions import db
from market.prices.models import PriceObservation, PriceSeries
from market.text import fold

SeriesKey = tuple[int, int, str, str, str]  # commodity, market, price type, unit, currency
SPARK_DAYS = 60
PERIODS = {"7d": 7, "30d": 30, "365d": 365}
BOARD_MARKETS = 3  # markets shown per commodity on the board; the rest on its page


def key_of(observation: PriceObservation) -> SeriesKey:
    return (
        observation.commodity_id,
        observation.market_id,
        observation.price_type,
        observation.unit_code,
        observation.currency,
    )


def _where(key: SeriesKey):
    commodity_id, market_id, price_type, unit_code, currency = key
    return and_(
        PriceObservation.commodity_id == commodity_id,
        PriceObservation.market_id == market_id,
        PriceObservation.price_type == price_type,
        PriceObservation.unit_code == unit_code,
        PriceObservation.currency == currency,
        PriceObservation.status == "ok",
    )


def _q(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def refresh_series(key: SeriesKey) -> PriceSeries | None:
    """Recompute one series' summary; removes it when no published price is left."""
    where = _where(key)
    totals = db.session.execute(
        select(
            func.min(PriceObservation.observed_on),
            func.max(PriceObservation.observed_on),
            func.count(PriceObservation.id),
        ).where(where)
    ).one()
    series = db.session.scalar(
        select(PriceSeries).where(
            PriceSeries.commodity_id == key[0],
            PriceSeries.market_id == key[1],
            PriceSeries.price_type == key[2],
            PriceSeries.unit_code == key[3],
            PriceSeries.currency == key[4],
        )
    )
    first_on, last_on, count = totals
    if not count:
        if series is not None:
            db.session.delete(series)
        return None
    days = db.session.execute(
        select(
            PriceObservation.observed_on,
            func.avg(PriceObservation.price),
            func.min(PriceObservation.price_min),
            func.max(PriceObservation.price_max),
        )
        .where(where, PriceObservation.observed_on >= last_on - timedelta(days=372))
        .group_by(PriceObservation.observed_on)
        .order_by(PriceObservation.observed_on.desc())
    ).all()
    source_id = db.session.scalar(
        select(PriceObservation.source_id)
        .where(where, PriceObservation.observed_on == last_on)
        .order_by(PriceObservation.fetched_at.desc())
        .limit(1)
    )
    if series is None:
        series = PriceSeries(
            commodity_id=key[0],
            market_id=key[1],
            price_type=key[2],
            unit_code=key[3],
            currency=key[4],
        )
        db.session.add(series)
    series.last_source_id = source_id
    latest = days[0]
    series.first_on, series.last_on, series.observations = first_on, last_on, count
    series.last_price, series.last_min, series.last_max = (
        _q(latest[1]),
        _q(latest[2]),
        _q(latest[3]),
    )
    series.prev_on = days[1][0] if len(days) > 1 else None
    series.prev_price = _q(days[1][1]) if len(days) > 1 else None
    for name, span in PERIODS.items():
        target = last_on - timedelta(days=span)
        # The most recent day on or before the target, if it is not too far from it.
        value = next((d for d in days if d[0] <= target), None)
        ok = value is not None and (target - value[0]).days <= max(7, span // 10)
        setattr(series, f"price_{name}", _q(value[1]) if ok else None)
    cutoff = last_on - timedelta(days=SPARK_DAYS)
    series.spark = [[d[0].isoformat(), float(d[1])] for d in reversed(days) if d[0] > cutoff]
    return series


def refresh_many(keys: Iterable[SeriesKey]) -> int:
    n = 0
    for key in set(keys):
        refresh_series(key)
        n += 1
    db.session.flush()
    return n


def rebuild_all() -> int:
    """Recompute every series from scratch (after a bulk load, or to repair)."""
    keys = db.session.execute(
        select(
            PriceObservation.commodity_id,
            PriceObservation.market_id,
            PriceObservation.price_type,
            PriceObservation.unit_code,
            PriceObservation.currency,
        )
        .where(PriceObservation.status == "ok")
        .distinct()
    ).all()
    wanted = {tuple(k) for k in keys}
    for series in db.session.scalars(select(PriceSeries)):
        if (
            series.commodity_id,
            series.market_id,
            series.price_type,
            series.unit_code,
            series.currency,
        ) not in wanted:
            db.session.delete(series)
    return refresh_many(wanted)


# The board ------------------------------------------------------------------------------------


@dataclass
class BoardEntry:
    commodity: Commodity
    series: list[PriceSeries]
    more: int = 0
    others: list[PriceSeries] = field(default_factory=list)

    @property
    def warning(self) -> PriceSeries | None:
        """The series with the strongest anomaly warning, if any."""
        order = {"alert": 0, "fall": 1, "watch": 2}
        flagged = [s for s in self.series + self.others if s.anomaly_level in order]
        return min(flagged, key=lambda s: order[s.anomaly_level]) if flagged else None


def matching_commodity_ids(query: str) -> Any:
    """A subquery of commodities whose name or alias contains ``query`` (accents ignored)."""
    needle = f"%{fold(query)}%"
    aliases = select(CommodityAlias.commodity_id).where(CommodityAlias.alias_folded.like(needle))
    return select(Commodity.id).where(
        Commodity.name_folded.like(needle)
        | Commodity.name_en.ilike(f"%{query.strip()}%")
        | Commodity.id.in_(aliases)
    )


def board(
    *,
    query: str = "",
    category: str | None = None,
    commodity_id: int | None = None,
    market_id: int | None = None,
    price_type: str | None = None,
    per_commodity: int = BOARD_MARKETS,
) -> list[BoardEntry]:
    """The latest price of each commodity, per market and type, with its changes."""
    stmt = select(PriceSeries).join(PriceSeries.commodity).join(PriceSeries.market)
    if query.strip():
        stmt = stmt.where(PriceSeries.commodity_id.in_(matching_commodity_ids(query)))
    if category:
        stmt = stmt.where(Commodity.category == category)
    if commodity_id:
        stmt = stmt.where(PriceSeries.commodity_id == commodity_id)
    if market_id:
        stmt = stmt.where(PriceSeries.market_id == market_id)
    if price_type:
        stmt = stmt.where(PriceSeries.price_type == price_type)
    stmt = stmt.order_by(Commodity.category, Commodity.id)
    entries: dict[int, BoardEntry] = {}
    for series in db.session.scalars(stmt):
        entries.setdefault(series.commodity_id, BoardEntry(series.commodity, [])).series.append(
            series
        )
    for entry in entries.values():
        # Quảng Trị's own markets first, then the freshest and longest series.
        entry.series.sort(
            key=lambda s: (
                s.market.province_code != HOME_PROVINCE_CODE,
                -s.last_on.toordinal(),
                -s.observations,
            )
        )
        entry.others = entry.series[per_commodity:]
        entry.more = len(entry.others)
        entry.series = entry.series[:per_commodity]
    return list(entries.values())


def warnings(*, levels: tuple[str, ...] = ("alert", "fall", "watch")) -> list[PriceSeries]:
    return list(
        db.session.scalars(
            select(PriceSeries)
            .where(PriceSeries.anomaly_level.in_(levels))
            .order_by(PriceSeries.anomaly_value.desc())
        )
    )


def series_of(commodity_id: int) -> list[PriceSeries]:
    rows = list(
        db.session.scalars(select(PriceSeries).where(PriceSeries.commodity_id == commodity_id))
    )
    rows.sort(key=lambda s: (s.market.province_code != HOME_PROVINCE_CODE, -s.observations))
    return rows


def markets_with_prices() -> list[Market]:
    ids = select(PriceSeries.market_id).distinct()
    return list(
        db.session.scalars(
            select(Market)
            .where(Market.id.in_(ids))
            .order_by(Market.kind != "retail", Market.name_folded)
        )
    )
