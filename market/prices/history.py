"""A commodity's price history: daily values grouped by week or month, with min–max bands,
and the downloads of exactly what the page shows."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.prices.models import PriceObservation

PERIODS = {"3m": 92, "1y": 366, "3y": 1096, "5y": 1827, "all": None}
GRAINS = ("day", "week", "month")


def default_grain(period: str) -> str:
    days = PERIODS.get(period)
    if days is not None and days <= 120:
        return "day"
    if days is not None and days <= 400:
        return "week"
    return "month"


@dataclass
class HistoryRow:
    market: Market
    start: date
    end: date
    mean: Decimal
    low: Decimal
    high: Decimal
    days: int


def bounds(day: date, grain: str) -> tuple[date, date]:
    """The first and last day of the day, week (Monday–Sunday) or calendar month of ``day``."""
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if grain == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end
    return day, day


def history(
    *,
    commodity: Commodity,
    price_type: str,
    unit_code: str,
    currency: str,
    market_ids: list[int],
    period: str,
    grain: str,
    today: date | None = None,
) -> list[HistoryRow]:
    """Mean, min and max per market and period (day, week or month), oldest first."""
    if not market_ids:
        return []
    shown = (
        PriceObservation.commodity_id == commodity.id,
        PriceObservation.market_id.in_(market_ids),
        PriceObservation.price_type == price_type,
        PriceObservation.unit_code == unit_code,
        PriceObservation.currency == currency,
        PriceObservation.status == "ok",
    )
    stmt = (
        select(
            PriceObservation.market_id,
            PriceObservation.observed_on,
            func.avg(PriceObservation.price),
            func.min(PriceObservation.price_min),
            func.max(PriceObservation.price_max),
        )
        .where(*shown)
        .group_by(PriceObservation.market_id, PriceObservation.observed_on)
    )
    days = PERIODS.get(period)
    if days is not None:
        # The period ends at the latest price shown, not at a flagged or rejected one.
        latest = db.session.scalar(select(func.max(PriceObservation.observed_on)).where(*shown))
        end = latest or today or date.today()
        stmt = stmt.where(PriceObservation.observed_on > end - timedelta(days=days))
    buckets: dict[tuple[int, date], list] = defaultdict(lambda: [None, [], [], []])
    periods: dict[date, tuple[date, date]] = {}  # the markets share their days
    for market_id, day, mean, low, high in db.session.execute(stmt):
        period = periods.get(day)
        if period is None:
            period = periods[day] = bounds(day, grain)
        entry = buckets[(market_id, period[0])]
        entry[0] = period[1]
        entry[1].append(mean if type(mean) is Decimal else Decimal(str(mean)))
        entry[2].append(low if type(low) is Decimal else Decimal(str(low)))
        entry[3].append(high if type(high) is Decimal else Decimal(str(high)))
    markets = {m.id: m for m in db.session.scalars(select(Market).where(Market.id.in_(market_ids)))}
    rows = [
        HistoryRow(
            market=markets[market_id],
            start=start,
            end=end_day,
            mean=(sum(values) / len(values)).quantize(Decimal("0.01")),
            low=min(lows),
            high=max(highs),
            days=len(values),
        )
        for (market_id, start), (end_day, values, lows, highs) in buckets.items()
    ]
    order = {market_id: i for i, market_id in enumerate(market_ids)}
    rows.sort(key=lambda r: (order.get(r.market.id, 99), r.start))
    return rows


HISTORY_COLUMNS = [
    "commodity_code",
    "market_code",
    "market_name",
    "price_type",
    "unit",
    "currency",
    "grain",
    "period_start",
    "period_end",
    "price_mean",
    "price_min",
    "price_max",
    "days_observed",
]


def history_table(
    rows: list[HistoryRow],
    *,
    commodity: Commodity,
    price_type: str,
    unit_code: str,
    currency: str,
    grain: str,
) -> list[list]:
    return [
        [
            commodity.code,
            r.market.code,
            r.market.name,
            price_type,
            unit_code,
            currency,
            grain,
            r.start.isoformat(),
            r.end.isoformat(),
            r.mean,
            r.low,
            r.high,
            r.days,
        ]
        for r in rows
    ]


def to_csv(columns: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs show Vietnamese letters right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["" if v is None else (f"{v}" if isinstance(v, Decimal) else v) for v in row]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(columns: list[str], rows: list[list], *, sheet: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.append(columns)
    for row in rows:
        worksheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.close()
    return buffer.getvalue()
