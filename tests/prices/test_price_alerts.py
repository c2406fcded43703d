"""Price alerts: a new price that crosses a rule queues exactly one e-mail."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.alerts.models import OutboxMessage
from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.permissions import PermissionDenied
from market.prices.alerts import add_rule, remove_rule
from market.prices.normalise import NormalisedPrice
from market.prices.services import Doubts, record_price, save_source
from tests.conftest import log_in

DAY = date(2026, 4, 17)


def _price(value: int, day: date = DAY) -> NormalisedPrice:
    return NormalisedPrice(
        commodity_name="Lợn hơi",
        market_name="Quảng Trị",
        price_type="farm_gate",
        price=Decimal(value),
        price_min=Decimal(value),
        price_max=Decimal(value),
        unit_code="kg",
        currency="VND",
        observed_on=day,
        change=None,
        raw_text=f"{value} đ/kg",
    )


def _emails() -> int:
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "price_alert")
    )


@pytest.fixture
def hog(ctx):
    source, _ = save_source(
        actor=None, name="Thử", kind="html_table", url="http://127.0.0.1/x", settings={}
    )
    commodity = db.session.scalar(select(Commodity).where(Commodity.code == "lon_hoi"))
    market = db.session.scalar(select(Market).where(Market.code == "tinh-44"))
    return source, commodity, market


def _store(hog, value: int, day: date = DAY) -> str:
    source, commodity, market = hog
    return record_price(
        source=source,
        commodity_id=commodity.id,
        market_id=market.id,
        price=_price(value, day),
        price_type="farm_gate",
        doubts=Doubts(),
        trust=True,
    )


def test_crossing_a_threshold_queues_exactly_one_email(hog, member) -> None:
    user = db.session.get(User, member.id)
    add_rule(
        actor=user, commodity_id=hog[1].id, market_id=None, kind="above", threshold=Decimal(60000)
    )
    _store(hog, 58000, DAY - timedelta(days=1))
    assert _emails() == 0
    _store(hog, 61000)
    assert _emails() == 1
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "price_alert"))
    assert message.subject == "Cảnh báo giá: Lợn hơi (heo hơi)"
    assert "61.000" in message.text_body and "60.000" in message.text_body
    # The same day again (another market's report, a re-collection): still one e-mail.
    _store(hog, 62000)
    assert _emails() == 1
    _store(hog, 62500, DAY + timedelta(days=1))
    assert _emails() == 2


def test_below_and_market_specific_rules(hog, member) -> None:
    user = db.session.get(User, member.id)
    other_market = db.session.scalar(select(Market).where(Market.code == "tinh-01"))
    add_rule(
        actor=user,
        commodity_id=hog[1].id,
        market_id=other_market.id,
        kind="below",
        threshold=Decimal(50000),
    )
    _store(hog, 40000)  # in Quảng Trị, not the rule's market
    assert _emails() == 0


def test_thresholds_in_dong_ignore_prices_in_other_currencies_and_units(hog, member) -> None:
    import dataclasses

    user = db.session.get(User, member.id)
    add_rule(
        actor=user, commodity_id=hog[1].id, market_id=None, kind="below", threshold=Decimal(50000)
    )
    source, commodity, market = hog
    for currency, unit_code in (("USD", "kg"), ("VND", "con")):
        price = dataclasses.replace(_price(2), currency=currency, unit_code=unit_code)
        record_price(
            source=source,
            commodity_id=commodity.id,
            market_id=market.id,
            price=price,
            price_type="export" if currency == "USD" else "retail",
            doubts=Doubts(),
            trust=True,
        )
    assert _emails() == 0
    _store(hog, 40000)
    assert _emails() == 1


def test_weekly_change_rule(hog, member) -> None:
    user = db.session.get(User, member.id)
    add_rule(
        actor=user,
        commodity_id=hog[1].id,
        market_id=None,
        kind="weekly_change",
        threshold=Decimal(10),
    )
    _store(hog, 50000, DAY - timedelta(days=7))
    _store(hog, 54000)  # +8 %
    assert _emails() == 0
    _store(hog, 56000, DAY + timedelta(days=1))  # vs 50.000 on 10/4 (8 days earlier): +12 %
    assert _emails() == 1


def test_rule_validation_and_ownership(hog, member, other_member) -> None:
    from market.errors import DomainError

    user = db.session.get(User, member.id)
    with pytest.raises(DomainError):
        add_rule(actor=user, commodity_id=hog[1].id, market_id=None, kind="above", threshold=None)
    rule = add_rule(
        actor=user, commodity_id=hog[1].id, market_id=None, kind="anomaly", threshold=None
    )
    with pytest.raises(PermissionDenied):
        remove_rule(actor=db.session.get(User, other_member.id), alert_rule=rule)


def test_alert_settings_page(client, member) -> None:
    log_in(client, member)
    page = client.get("/account/price-alerts?commodity=lon_hoi").get_data(as_text=True)
    assert "Cảnh báo giá của tôi" in page
    response = client.post(
        "/account/price-alerts", data={"commodity_id": "", "kind": "above", "threshold": "abc"}
    )
    page = response.get_data(as_text=True)
    assert "Hãy nhập một số" in page and 'value="abc"' in page
    with client.application.app_context():
        hog_id = db.session.scalar(select(Commodity.id).where(Commodity.code == "lon_hoi"))
    response = client.post(
        "/account/price-alerts",
        data={"commodity_id": hog_id, "market_id": "", "kind": "above", "threshold": "65.000"},
    )
    assert response.status_code == 302
    page = client.get("/account/price-alerts").get_data(as_text=True)
    assert "65.000" in page and "vượt lên trên" in page
    assert "Cảnh báo giá" in client.get("/account/email").get_data(as_text=True)
