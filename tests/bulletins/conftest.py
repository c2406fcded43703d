"""A small price history with known values around the week of 13–19 April 2026."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.prices.models import PriceObservation, PriceSeries, PriceSource
from market.prices.series import rebuild_all

MONDAY = date(2026, 4, 13)  # the bulletin's week: 13–19 April 2026
TODAY = date(2026, 4, 22)  # a Wednesday of the following week


@dataclass
class Dataset:
    coffee: int
    pepper: int
    dak_lak: int
    quang_tri: int


def _add(source, commodity, market, day, price, *, low=None, high=None, status="ok"):
    db.session.add(
        PriceObservation(
            source_id=source.id,
            commodity_id=commodity.id,
            market_id=market.id,
            price_type="wholesale",
            observed_on=day,
            price=Decimal(price),
            price_min=Decimal(low or price),
            price_max=Decimal(high or price),
            unit_code="kg",
            status=status,
            raw_text=f"{price} đ/kg",
        )
    )


@pytest.fixture
def prices(app, database) -> Dataset:
    with app.app_context():
        a = PriceSource(name="Nguồn A", kind="html_table", url="http://127.0.0.1/a", settings={})
        b = PriceSource(name="Nguồn B", kind="html_table", url="http://127.0.0.1/b", settings={})
        db.session.add_all([a, b])
        db.session.flush()
        coffee = db.session.scalar(select(Commodity).where(Commodity.code == "ca_phe_robusta_nhan"))
        pepper = db.session.scalar(select(Commodity).where(Commodity.code == "ho_tieu_den"))
        dak_lak = db.session.scalar(select(Market).where(Market.code == "tinh-66"))
        quang_tri = db.session.scalar(select(Market).where(Market.code == "tinh-44"))
        week = [MONDAY + timedelta(days=i) for i in range(7)]
        # This week, Đắk Lắk: Monday from two sources (mean 87.000), then 85.000 and 90.000.
        _add(a, coffee, dak_lak, week[0], 86000)
        _add(b, coffee, dak_lak, week[0], 88000)
        _add(a, coffee, dak_lak, week[1], 85000)
        _add(a, coffee, dak_lak, week[2], 90000, low=89000, high=91000)
        # Not published: never counted.
        _add(a, coffee, dak_lak, week[3], 999000, status="flagged")
        _add(b, coffee, dak_lak, week[4], 1000, status="rejected")
        # This week, Quảng Trị.
        _add(a, coffee, quang_tri, week[0], 84000)
        _add(a, coffee, quang_tri, week[3], 86000)
        # The week before.
        _add(a, coffee, dak_lak, MONDAY - timedelta(days=7), 80000)
        _add(a, coffee, dak_lak, MONDAY - timedelta(days=6), 82000)
        _add(a, coffee, quang_tri, MONDAY - timedelta(days=1), 80000)  # Sunday
        # 52 weeks before: only Đắk Lắk.
        _add(a, coffee, dak_lak, MONDAY - timedelta(weeks=52) + timedelta(days=2), 50000)
        # Outside every window.
        _add(a, coffee, dak_lak, MONDAY - timedelta(days=30), 10000)
        _add(a, coffee, dak_lak, MONDAY + timedelta(days=7), 10000)
        # Pepper: one market only.
        _add(a, pepper, quang_tri, week[1], 140000)
        _add(a, pepper, quang_tri, MONDAY - timedelta(days=5), 150000)
        db.session.flush()
        rebuild_all()
        series = db.session.scalar(
            select(PriceSeries).where(
                PriceSeries.commodity_id == coffee.id, PriceSeries.market_id == dak_lak.id
            )
        )
        series.anomaly_level, series.anomaly_method = "alert", "robust_z"
        db.session.commit()
        return Dataset(coffee.id, pepper.id, dak_lak.id, quang_tri.id)
