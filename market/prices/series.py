"""Price series: the per-series summary the board reads, and the time series pages draw.

A series is one commodity at one market, of one price type, in one unit and currency. Its
day's value is the mean of the sources that reported it that day (rejected and doubtful prices
left out). ``refresh_series`` recomputes a series' summary from its observations; collection,
manual entry, imports and reviews call it for the series they touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, inspect, select
from sqlalchemy.orm import contains_eager, defer, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from market.catalogue.models import HOME_PROVINCE_CODE, Commodity, Market
from market.catalogue.services import commodities_matching
from market.extensions import db
from market.prices.anomaly import WARNINGS
from market.prices.models import PriceObservation, PriceSeries

SeriesKey = tuple[int, int, str, str, str]  # commodity, market, price type, unit, currency
SPARK_DAYS = 60
PERIODS = {"7d": 7, "30d": 30, "365d": 365}
BOARD_MARKETS = 3  # markets shown per commodity on the board; the rest on its page


def key_of(row: PriceObservation | PriceSeries) -> SeriesKey:
    """The series an observation belongs to, or a series' own key."""
    return (row.commodity_id, row.market_id, row.price_type, row.unit_code, row.currency)


def series_filter(key: SeriesKey):
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
    where = series_filter(key)
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
    return _refresh(key, tuple(totals), series)


def _refresh(key: SeriesKey, totals: tuple, series: PriceSeries | None) -> PriceSeries | None:
    """``refresh_series`` once the series' first and last day, its count of published prices
    and its summary row (if any) are known."""
    where = series_filter(key)
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
    """Recompute every series from scratch (after a bulk load, or to repair).

    One pass over the published prices gives every series' first and last day and count, and
    one query its summary row; each series then reads only its last year (as
    ``refresh_series`` does after that)."""
    key_columns = (
        PriceObservation.commodity_id,
        PriceObservation.market_id,
        PriceObservation.price_type,
        PriceObservation.unit_code,
        PriceObservation.currency,
    )
    rows = db.session.execute(
        select(
            *key_columns,
            func.min(PriceObservation.observed_on),
            func.max(PriceObservation.observed_on),
            func.count(PriceObservation.id),
        )
        .where(PriceObservation.status == "ok")
        .group_by(*key_columns)
    ).all()
    totals = {tuple(row[:5]): tuple(row[5:]) for row in rows}
    existing = {}
    for series in db.session.scalars(select(PriceSeries)):
        key = key_of(series)
        if key in totals:
            existing[key] = series
        else:
            db.session.delete(series)
    for key, of_key in totals.items():
        _refresh(key, of_key, existing.get(key))
    db.session.flush()
    return len(totals)


# The board ------------------------------------------------------------------------------------


@dataclass
class BoardEntry:
    commodity: Commodity
    series: list[PriceSeries]  # the series shown, best first
    more: int = 0  # how many more series match (on the commodity's own page)
    # The series with the strongest anomaly warning among all the matching ones, if any.
    warning: PriceSeries | None = None


WARNING_ORDER = {str(level): place for place, level in enumerate(WARNINGS)}


def board(
    *,
    query: str = "",
    category: str | None = None,
    commodity_id: int | None = None,
    market_id: int | None = None,
    price_type: str | None = None,
    per_commodity: int = BOARD_MARKETS,
    sparks: bool = True,
) -> list[BoardEntry]:
    """The latest price of each commodity, per market and type, with its changes.

    The database ranks each commodity's series (Quảng Trị's own markets first, then the
    freshest and longest series, then the oldest row) and finds its strongest warning, so
    only the series shown and the warnings are read, not every series. ``sparks=False``
    leaves the trend lines unread until something asks for them (downloads do not draw them).
    """
    home = case((Market.province_code == HOME_PROVINCE_CODE, 0), else_=1)
    order = (home, PriceSeries.last_on.desc(), PriceSeries.observations.desc(), PriceSeries.id)
    level = case(WARNING_ORDER, value=PriceSeries.anomaly_level, else_=len(WARNING_ORDER))
    within = {"partition_by": PriceSeries.commodity_id}
    ranked = (
        select(
            PriceSeries.id.label("id"),
            func.row_number().over(**within, order_by=order).label("place"),
            func.count().over(**within).label("total"),
            level.label("level"),
            func.row_number().over(**within, order_by=(level, *order)).label("warning_place"),
        )
        .join(PriceSeries.commodity)
        .join(PriceSeries.market)
    )
    if query.strip():
        ranked = ranked.where(
            PriceSeries.commodity_id.in_(select(Commodity.id).where(commodities_matching(query)))
        )
    if category:
        ranked = ranked.where(Commodity.category == category)
    if commodity_id:
        ranked = ranked.where(PriceSeries.commodity_id == commodity_id)
    if market_id:
        ranked = ranked.where(PriceSeries.market_id == market_id)
    if price_type:
        ranked = ranked.where(PriceSeries.price_type == price_type)
    ranked = ranked.subquery()
    warned = (ranked.c.warning_place == 1) & (ranked.c.level < len(WARNING_ORDER))
    stmt = (
        select(PriceSeries, ranked.c.place, ranked.c.total, warned)
        .join(ranked, ranked.c.id == PriceSeries.id)
        .join(PriceSeries.commodity)
        .where((ranked.c.place <= per_commodity) | warned)
        .order_by(Commodity.category, Commodity.id, ranked.c.place)
        .options(
            contains_eager(PriceSeries.commodity),
            selectinload(PriceSeries.market),
            selectinload(PriceSeries.last_source),
            defer(PriceSeries.anomaly_detail),
            defer(PriceSeries.spark),
        )
    )
    entries: dict[int, BoardEntry] = {}
    shown: dict[int, PriceSeries] = {}
    for series, place, total, warning in db.session.execute(stmt):
        entry = entries.get(series.commodity_id)
        if entry is None:
            entry = entries[series.commodity_id] = BoardEntry(
                series.commodity, [], more=max(0, total - per_commodity)
            )
        if place <= per_commodity:
            entry.series.append(series)
            shown[series.id] = series
        if warning:
            entry.warning = series
    if sparks:
        _load_sparks(shown)
    return list(entries.values())


def _load_sparks(series: dict[int, PriceSeries]) -> None:
    """Set the trend lines of these series from their stored text: the same text decodes to
    the same points, so each distinct line is decoded once per process."""
    ids = [i for i, s in series.items() if "spark" in inspect(s).unloaded]
    for start in range(0, len(ids), 1000):
        rows = db.session.execute(
            select(PriceSeries.id, cast(PriceSeries.spark, Text)).where(
                PriceSeries.id.in_(ids[start : start + 1000])
            )
        )
        for series_id, text in rows:
            # A list of [day, price] pairs as JSON gives, but the pairs are shared tuples:
            # thousands of small lists per page would only feed the garbage collector.
            points = None if text is None else list(_spark_points(text))
            set_committed_value(series[series_id], "spark", points)


@lru_cache(maxsize=4096)
def _spark_points(text: str) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(p) for p in json.loads(text))


def warnings(*, levels: tuple[str, ...] = tuple(WARNING_ORDER)) -> list[PriceSeries]:
    return list(
        db.session.scalars(
            select(PriceSeries)
            .where(PriceSeries.anomaly_level.in_(levels))
            .order_by(PriceSeries.anomaly_value.desc())
        )
    )


def series_of(commodity_id: int) -> list[PriceSeries]:
    # The commodity page shows neither trend lines nor anomaly details: they load if asked.
    rows = list(
        db.session.scalars(
            select(PriceSeries)
            .where(PriceSeries.commodity_id == commodity_id)
            .options(
                defer(PriceSeries.spark),
                defer(PriceSeries.anomaly_detail),
                selectinload(PriceSeries.market),
                selectinload(PriceSeries.last_source),
            )
        )
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


def data_version() -> str:
    """Changes whenever a series' summary or warning changes (a row is refreshed, added or
    removed): the stamp the price pages' cache is keyed on."""
    latest, count = db.session.execute(
        select(func.max(PriceSeries.updated_at), func.count(PriceSeries.id))
    ).one()
    return f"{latest.isoformat() if latest else '-'}/{count}"
