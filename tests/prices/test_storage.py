"""Storing prices: what is read again compares equal to what was stored."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.prices.models import PRICE, PriceRevision
from market.prices.normalise import PLACES, normalise
from market.prices.services import price_batch, record_price, save_source
from market.prices.sources.base import RawRow


def test_rounding_matches_the_price_columns() -> None:
    assert -PLACES.as_tuple().exponent == PRICE.scale


def test_a_price_in_cents_per_pound_read_twice_is_unchanged(ctx) -> None:
    source, _ = save_source(
        actor=None, name="Thế giới", kind="html_table", url="http://127.0.0.1/x", settings={}
    )
    coffee = db.session.scalar(select(Commodity).where(Commodity.code == "ca_phe_arabica_nhan"))
    world = db.session.scalar(select(Market).where(Market.code == "the-gioi"))
    raw = RawRow(commodity="Cà phê", market="Thế giới", price_text="235.55", unit_text="US cent/lb")
    day = date(2026, 4, 17)
    price = normalise(raw, defaults={"date": day.isoformat()}, today=day, thousands=",")
    outcomes = []
    for _ in range(2):
        with price_batch() as doubts:
            outcomes.append(
                record_price(
                    source=source,
                    commodity_id=coffee.id,
                    market_id=world.id,
                    price=price,
                    price_type="export",
                    doubts=doubts,
                    trust=True,
                )
            )
        db.session.expire_all()  # the second time compares with the row as the database has it
    assert outcomes == ["stored", "unchanged"]
    assert db.session.scalar(select(PriceRevision.id)) is None
