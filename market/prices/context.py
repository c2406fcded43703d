"""Where a price stands against this week's market: the function listings and matching call
("asking price 6 % above this week's provincial median")."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from market.catalogue.models import HOME_PROVINCE_CODE, Market, Unit
from market.catalogue.services import commodity_by_code
from market.extensions import db
from market.prices.models import PriceObservation
from market.site.i18n import format_number

NEAR_KM = 150  # markets within this distance count as "near"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class PriceContext:
    commodity_code: str
    scope: str  # near | province | national
    median: Decimal
    low: Decimal
    high: Decimal
    observations: int
    markets: int
    unit_code: str
    since: date
    price: Decimal | None = None
    difference_pct: float | None = None

    def sentence(self) -> str:
        """One line for people: "asking price 6 % above this week's provincial median"."""
        scope = {
            "near": _("the median of markets near this place"),
            "province": _("this week's provincial median"),
            "national": _("this week's national median"),
        }[self.scope]
        if self.difference_pct is None:
            median = format_number(self.median, 0)
            return _(
                "This week's median: %(median)s đ/%(unit)s (%(n)d prices).",
                median=median,
                unit=self.unit_code,
                n=self.observations,
            )
        pct = abs(self.difference_pct)
        if pct < 0.5:
            return _("In line with %(scope)s.", scope=scope)
        if self.difference_pct > 0:
            return _("%(pct).0f %% above %(scope)s.", pct=pct, scope=scope)
        return _("%(pct).0f %% below %(scope)s.", pct=pct, scope=scope)


def price_context(
    *,
    commodity_code: str,
    price: Decimal | None = None,
    unit_code: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    on: date | None = None,
    price_type: str | None = None,
) -> PriceContext | None:
    """This week's published prices of a commodity near a place (else the province, else the
    country): median and range, and how ``price`` (per ``unit_code``) compares."""
    on = on or date.today()
    commodity = commodity_by_code(commodity_code)
    if commodity is None:
        return None
    since = on - timedelta(days=7)
    # Compared per the unit the commodity's prices are kept in, whatever order rows come in.
    base_unit = commodity.default_unit.priced_per
    stmt = select(PriceObservation.price, PriceObservation.market_id).where(
        PriceObservation.commodity_id == commodity.id,
        PriceObservation.status == "ok",
        PriceObservation.currency == "VND",
        PriceObservation.unit_code == base_unit,
        PriceObservation.observed_on > since,
        PriceObservation.observed_on <= on,
    )
    if price_type:
        stmt = stmt.where(PriceObservation.price_type == price_type)
    rows = db.session.execute(stmt).all()
    if not rows:
        return None
    markets = {
        m.id: m
        for m in db.session.scalars(
            select(Market).where(Market.id.in_({r.market_id for r in rows}))
        )
    }

    def pick(scope: str) -> list:
        if scope == "near":
            if lat is None or lon is None:
                return []
            return [
                r
                for r in rows
                if markets[r.market_id].lat is not None
                and haversine_km(lat, lon, markets[r.market_id].lat, markets[r.market_id].lon)
                <= NEAR_KM
            ]
        if scope == "province":
            return [r for r in rows if markets[r.market_id].province_code == HOME_PROVINCE_CODE]
        return rows

    for scope in ("near", "province", "national"):
        chosen = pick(scope)
        if len(chosen) >= 3 or (scope == "national" and chosen):
            break
    values = sorted(Decimal(str(r.price)) for r in chosen)
    median = Decimal(str(statistics.median(values)))
    difference = None
    if price is not None:
        per_base = price
        if unit_code and unit_code != base_unit:
            unit = db.session.get(Unit, unit_code)
            if unit is None or unit.factor_to_base is None or unit.base_unit != base_unit:
                return None
            per_base = price / unit.factor_to_base
        difference = float((per_base - median) / median * 100) if median else None
    return PriceContext(
        commodity_code=commodity.code,
        scope=scope,
        median=median,
        low=values[0],
        high=values[-1],
        observations=len(values),
        markets=len({r.market_id for r in chosen}),
        unit_code=base_unit,
        since=since,
        price=price,
        difference_pct=difference,
    )
