"""Demo: the real price sources the department would use, switched off (no internet here)."""

from __future__ import annotations

import tomllib

from market.config import PROJECT_ROOT
from market.demo import step
from market.prices.services import get_source, save_source

SOURCES_FILE = PROJECT_ROOT / "docs" / "sources.example.toml"


@step(30)
def price_sources() -> str | None:
    if not SOURCES_FILE.exists():
        return None
    entries = tomllib.loads(SOURCES_FILE.read_text(encoding="utf-8")).get("source", [])
    added = 0
    for entry in entries:
        entry = dict(entry)
        name = entry.pop("name")
        if get_source(name=name) is not None:
            continue
        entry["enabled"] = False
        entry["description"] = (
            (entry.get("description") or "")
            + " (Demo: switched off; switch it on where the server can reach the internet.)"
        ).strip()
        save_source(actor=None, name=name, **entry)
        added += 1
    return f"{added} price sources (switched off)" if added else None


# Three-plus years of plausible daily prices ------------------------------------------------

# (commodity, price type, [(market code, relative level)], start and end price in đồng per the
# commodity's default unit (per tonne for acacia timber), daily
#  volatility, seasonal amplitude, harvest month (the seasonal low))
HISTORY = [
    (
        "lua_kho",
        "farm_gate",
        [("tinh-44", 1.0), ("tinh-92", 0.97), ("tinh-91", 0.96), ("tinh-82", 0.98)],
        6800,
        7600,
        0.006,
        0.06,
        4,
    ),
    (
        "ca_phe_robusta_nhan",
        "wholesale",
        [("tinh-66", 1.0), ("tinh-52", 1.0), ("tinh-68", 0.99), ("tinh-44", 0.97)],
        52000,
        87000,
        0.011,
        0.03,
        12,
    ),
    (
        "ho_tieu_den",
        "wholesale",
        [("tinh-52", 1.0), ("tinh-66", 1.01), ("tinh-75", 1.0), ("tinh-44", 0.98)],
        72000,
        142000,
        0.01,
        0.03,
        3,
    ),
    (
        "san_tuoi",
        "farm_gate",
        [("tinh-44", 1.0), ("tinh-80", 1.06), ("tinh-52", 1.02)],
        2900,
        3100,
        0.008,
        0.08,
        11,
    ),
    (
        "mu_cao_su_dong",
        "farm_gate",
        [("tinh-44", 1.0), ("tinh-75", 1.05), ("tinh-80", 1.04)],
        12500,
        16000,
        0.009,
        0.05,
        2,
    ),
    (
        "lon_hoi",
        "farm_gate",
        [("tinh-44", 1.0), ("tinh-01", 1.03), ("tinh-75", 1.02), ("tinh-40", 1.01)],
        52000,
        63000,
        0.008,
        0.04,
        7,
    ),
    (
        "tom_the_chan_trang",
        "farm_gate",
        [("tinh-44", 1.0), ("tinh-96", 0.97), ("tinh-56", 1.0)],
        118000,
        124000,
        0.007,
        0.05,
        9,
    ),
    (
        "go_keo",
        "farm_gate",
        [("tinh-44", 1.0), ("tinh-46", 1.02), ("tinh-40", 0.99)],
        1_150_000,  # đồng per tonne, as acacia is sold
        1_320_000,
        0.004,
        0.04,
        1,
    ),
]
HISTORY_DAYS = 1500  # a little over four years, so the FAO indicator applies too
SPIKE = ("lon_hoi", "tinh-44", 25, 0.35)  # live hogs in Quảng Trị: +35 % over the last 25 days
DEMO_SOURCE = "Số liệu minh họa (demo, không phải số liệu thật)"


def _series_values(rng, *, days, start, end, volatility, seasonal, low_month, first_day):
    """A mean-reverting random walk around a trend, with a yearly harvest dip."""
    import math

    values = []
    level = 0.0
    # Each year's harvest weighs differently, and a few shocks a year move the market for a
    # while: real series vary from year to year, which is what the FAO indicator measures.
    strength = {year: rng.uniform(0.4, 1.6) for year in range(first_day.year, first_day.year + 6)}
    shocks = {
        first_day.toordinal() + rng.randrange(days): rng.gauss(0, 0.06) for _ in range(days // 120)
    }
    shock = 0.0
    for i in range(days):
        day = first_day.fromordinal(first_day.toordinal() + i)
        trend = start * (end / start) ** (i / (days - 1))
        shock = 0.985 * shock + shocks.get(day.toordinal(), 0.0)
        season = (
            -seasonal * strength[day.year] * math.cos(2 * math.pi * (day.month - low_month) / 12)
        )
        season += shock
        level = 0.9 * level + rng.gauss(0, volatility / 3)
        values.append(trend * (1 + season + level))
    return values


@step(40)
def price_history() -> str | None:
    """Daily prices for the province's main commodities, with one visible spike."""
    import random
    from datetime import date, timedelta
    from decimal import Decimal

    from sqlalchemy import insert, select

    from market.catalogue.models import Commodity, Market, Unit
    from market.db import utcnow
    from market.extensions import db
    from market.prices.models import PriceObservation, PriceSource
    from market.prices.series import rebuild_all
    from market.prices.warnings import compute_anomalies

    if db.session.scalar(select(PriceSource.id).where(PriceSource.name == DEMO_SOURCE)):
        return None
    source = PriceSource(
        name=DEMO_SOURCE,
        kind="demo",
        enabled=False,
        settings={},
        description="Generated for the demo: plausible, not real.",
    )
    db.session.add(source)
    db.session.flush()
    rng = random.Random(20260417)
    today = date.today()
    first_day = today - timedelta(days=HISTORY_DAYS - 1)
    commodities = {c.code: c for c in db.session.scalars(select(Commodity))}
    markets = {m.code: m for m in db.session.scalars(select(Market))}
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    now = utcnow()
    rows = []
    for code, price_type, places, start, end, vol, seasonal, low_month in HISTORY:
        commodity = commodities[code]
        unit = units[commodity.default_unit_code]
        factor = unit.factor_to_base or Decimal(1)
        base = unit.priced_per
        common = _series_values(
            rng,
            days=HISTORY_DAYS,
            start=start,
            end=end,
            volatility=vol,
            seasonal=seasonal,
            low_month=low_month,
            first_day=first_day,
        )
        for market_code, level in places:
            own = _series_values(
                rng,
                days=HISTORY_DAYS,
                start=1,
                end=1,
                volatility=vol / 3,
                seasonal=0,
                low_month=1,
                first_day=first_day,
            )
            for i, value in enumerate(common):
                day = first_day + timedelta(days=i)
                if day.weekday() == 6:  # markets report Monday to Saturday
                    continue
                price = value * level * own[i]
                if (code, market_code) == SPIKE[:2] and i >= HISTORY_DAYS - SPIKE[2]:
                    price *= 1 + SPIKE[3] * (i - (HISTORY_DAYS - SPIKE[2]) + 1) / SPIKE[2]
                step_size = 100 if start >= 10000 else 10
                printed = Decimal(round(price / step_size) * step_size)
                spread = printed * Decimal("0.02")
                per_base = (printed / factor).quantize(Decimal("0.01"))
                rows.append(
                    {
                        "source_id": source.id,
                        "commodity_id": commodity.id,
                        "market_id": markets[market_code].id,
                        "price_type": price_type,
                        "observed_on": day,
                        "price": per_base,
                        "price_min": ((printed - spread) / factor).quantize(Decimal("0.01")),
                        "price_max": ((printed + spread) / factor).quantize(Decimal("0.01")),
                        "unit_code": base,
                        "currency": "VND",
                        "status": "ok",
                        "raw_text": f"{printed:,.0f} đ/{unit.code}".replace(",", "."),
                        "fetched_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(PriceObservation), rows[chunk : chunk + 5000])
    db.session.flush()
    series = rebuild_all()
    warned = compute_anomalies(today=today)
    return f"{len(rows):,} demo prices in {series} series ({warned} with a warning)"
