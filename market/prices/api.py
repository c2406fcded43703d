"""Read-only JSON: commodities, prices and the latest price of each series.

Dates are ISO 8601; prices are numbers in the stated currency per the stated unit (a base unit:
kg, m3, con, ...). Lists are paginated with ``page`` and ``per_page`` (at most 500) and carry
a ``next`` link while more remain.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import func, select

from market.catalogue import services as catalogue
from market.catalogue.models import Market
from market.extensions import db
from market.prices.models import PriceObservation, PriceSeries
from market.prices.services import PRICE_TYPE_LABELS

bp = Blueprint("prices_api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 500


class BadRequest(ValueError):
    pass


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest):
    return jsonify({"error": {"status": 400, "message": str(error)}}), 400


def _number(value) -> float | None:
    return None if value is None else float(value)


def _date_arg(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from exc


def _page() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 100))))
    except ValueError as exc:
        raise BadRequest("page and per_page must be whole numbers") from exc
    return page, per_page


def _commodity_filter(stmt, column):
    code = request.args.get("commodity")
    if code:
        commodity = catalogue.commodity_by_code(code)
        if commodity is None:
            raise BadRequest(f"unknown commodity {code!r}; see /api/v1/commodities")
        stmt = stmt.where(column == commodity.id)
    return stmt


def _market_filter(stmt, column):
    code = request.args.get("market")
    if code:
        market_id = db.session.scalar(select(Market.id).where(Market.code == code))
        if market_id is None:
            raise BadRequest(f"unknown market {code!r}")
        stmt = stmt.where(column == market_id)
    return stmt


def _type_filter(stmt, column):
    price_type = request.args.get("price_type")
    if price_type:
        if price_type not in PRICE_TYPE_LABELS:
            raise BadRequest(f"price_type must be one of {', '.join(PRICE_TYPE_LABELS)}")
        stmt = stmt.where(column == price_type)
    return stmt


@bp.get("/prices")
def price_list():
    stmt = select(PriceObservation).where(PriceObservation.status == "ok")
    stmt = _commodity_filter(stmt, PriceObservation.commodity_id)
    stmt = _market_filter(stmt, PriceObservation.market_id)
    stmt = _type_filter(stmt, PriceObservation.price_type)
    if (start := _date_arg("from")) is not None:
        stmt = stmt.where(PriceObservation.observed_on >= start)
    if (end := _date_arg("to")) is not None:
        stmt = stmt.where(PriceObservation.observed_on <= end)
    page, per_page = _page()
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(PriceObservation.observed_on.desc(), PriceObservation.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    args = request.args.to_dict()
    args.update(page=page + 1, per_page=per_page)
    return jsonify(
        {
            "prices": [
                {
                    "date": o.observed_on.isoformat(),
                    "commodity": o.commodity.code,
                    "market": o.market.code,
                    "market_name": o.market.name,
                    "price_type": o.price_type,
                    "price": _number(o.price),
                    "price_min": _number(o.price_min),
                    "price_max": _number(o.price_max),
                    "unit": o.unit_code,
                    "currency": o.currency,
                    "source": o.source.name,
                    "source_url": o.source_url,
                    "fetched_at": o.fetched_at.isoformat(),
                }
                for o in rows
            ],
            "page": page,
            "per_page": per_page,
            "total": total,
            "next": url_for("prices_api.price_list", **args, _external=True)
            if page * per_page < total
            else None,
        }
    )


@bp.get("/prices/latest")
def latest():
    stmt = select(PriceSeries)
    stmt = _commodity_filter(stmt, PriceSeries.commodity_id)
    stmt = _market_filter(stmt, PriceSeries.market_id)
    stmt = _type_filter(stmt, PriceSeries.price_type)
    rows = db.session.scalars(stmt.order_by(PriceSeries.commodity_id, PriceSeries.market_id)).all()
    return jsonify(
        {
            "latest": [
                {
                    "commodity": s.commodity.code,
                    "market": s.market.code,
                    "market_name": s.market.name,
                    "price_type": s.price_type,
                    "date": s.last_on.isoformat(),
                    "price": _number(s.last_price),
                    "price_min": _number(s.last_min),
                    "price_max": _number(s.last_max),
                    "unit": s.unit_code,
                    "currency": s.currency,
                    "previous": {
                        "date": s.prev_on.isoformat() if s.prev_on else None,
                        "price": _number(s.prev_price),
                    },
                    "change_pct": {
                        "previous": s.change(s.prev_price),
                        "7d": s.change(s.price_7d),
                        "30d": s.change(s.price_30d),
                        "365d": s.change(s.price_365d),
                    },
                    "anomaly": {
                        "method": s.anomaly_method,
                        "level": s.anomaly_level,
                        "value": s.anomaly_value,
                        "quality": s.anomaly_quality,
                    }
                    if s.anomaly_level
                    else None,
                }
                for s in rows
            ]
        }
    )
