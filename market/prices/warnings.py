"""Anomaly warnings on every series, stored on its summary for the board and commodity pages.

The method (FAO's IPA, or the recent-median fallback for short series) is chosen and explained
in ``market.prices.anomaly``; this module feeds it each series' daily values, keeps the result,
and tells users who asked to hear about warnings.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from market.db import utcnow
from market.extensions import db
from market.prices import anomaly
from market.prices.models import PriceObservation, PriceSeries
from market.prices.series import WARNING_ORDER, SeriesKey, key_of, series_filter


def daily_points(key: SeriesKey) -> list[tuple[date, float]]:
    rows = db.session.execute(
        select(PriceObservation.observed_on, func.avg(PriceObservation.price))
        .where(series_filter(key))
        .group_by(PriceObservation.observed_on)
        .order_by(PriceObservation.observed_on)
    )
    return [(day, float(value)) for day, value in rows]


def _detail(result: anomaly.Assessment) -> dict[str, Any]:
    detail = {
        k: v for k, v in result.detail.items() if isinstance(v, (int, float, str, type(None)))
    }
    if result.month:
        detail["month"] = f"{result.month[0]}-{result.month[1]:02d}"
    if result.week:
        detail["week"] = f"{result.week[0]}-W{result.week[1]:02d}"
    detail["quality_parts"] = {
        "length": round(result.quality.length, 3),
        "gaps": round(result.quality.gaps, 3),
        "staleness": round(result.quality.staleness, 3),
    }
    detail["notes"] = list(result.quality.notes)
    return detail


def assess_series(series: PriceSeries, *, today: date) -> anomaly.Assessment | None:
    return anomaly.assess(daily_points(key_of(series)), today=today)


def compute_anomalies(*, today: date | None = None, commodity_id: int | None = None) -> int:
    """Assess every series (or one commodity's); returns how many carry a warning now."""
    from market.prices.alerts import notify_anomaly

    today = today or date.today()
    stmt = select(PriceSeries)
    if commodity_id is not None:
        stmt = stmt.where(PriceSeries.commodity_id == commodity_id)
    warned = 0
    for series in db.session.scalars(stmt).all():
        before = series.anomaly_level
        result = assess_series(series, today=today)
        if result is None:
            series.anomaly_method = series.anomaly_level = None
            series.anomaly_value = series.anomaly_quality = None
            series.anomaly_detail = None
        else:
            series.anomaly_method = result.method
            series.anomaly_level = str(result.level)
            series.anomaly_value = round(float(result.value), 4)
            series.anomaly_quality = round(float(result.quality.score), 3)
            series.anomaly_detail = _detail(result)
        series.anomaly_at = utcnow()
        if series.anomaly_level in WARNING_ORDER:
            warned += 1
            if series.anomaly_level != before:
                notify_anomaly(series=series, today=today)
    db.session.flush()
    return warned
