"""Price alerts: a user's rules on a commodity, checked as prices arrive, at most one e-mail per
rule and day."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market.accounts.models import User
from market.alerts.registry import register_kind
from market.alerts.services import queue_email
from market.catalogue.models import Commodity, Market
from market.errors import DomainError
from market.extensions import db
from market.permissions import require, rule
from market.prices.models import PriceAlertRule, PriceObservation, PriceSeries
from market.prices.series import key_of, series_filter
from market.urls import absolute_url

RULE_KINDS = {
    "above": _l("rises above"),
    "below": _l("falls below"),
    "weekly_change": _l("moves in a week by more than (%)"),
    "anomaly": _l("gets an anomaly warning"),
}
register_kind(
    "price_alert",
    _l("Price alerts"),
    _l("When a price crosses a level you set, moves fast, or gets an anomaly warning."),
    order=20,
)


@rule("edit", PriceAlertRule)
def _can_edit_rule(user: User | None, alert_rule: PriceAlertRule) -> bool:
    return user is not None and user.id == alert_rule.user_id


@rule("create", "price_alert")
def _can_create(user: User | None, _subject: Any) -> bool:
    return user is not None and user.email_verified


def rules_of(user: User) -> list[PriceAlertRule]:
    return list(
        db.session.scalars(
            select(PriceAlertRule)
            .where(PriceAlertRule.user_id == user.id)
            .order_by(PriceAlertRule.id)
        )
    )


def add_rule(
    *,
    actor: User,
    commodity_id: int | None,
    market_id: int | None,
    kind: str,
    threshold: Decimal | None,
) -> PriceAlertRule:
    require(actor, "create", "price_alert")
    if commodity_id is None or db.session.get(Commodity, commodity_id) is None:
        raise DomainError(_("Choose a commodity from the list."), field="commodity_id")
    if market_id is not None and db.session.get(Market, market_id) is None:
        raise DomainError(_("Choose a market from the list."), field="market_id")
    if kind not in RULE_KINDS:
        raise DomainError(_("Choose what should trigger the alert."), field="kind")
    if kind != "anomaly" and (threshold is None or threshold <= 0):
        raise DomainError(_("Give a number above zero."), field="threshold")
    if (
        db.session.scalar(
            select(func.count(PriceAlertRule.id)).where(PriceAlertRule.user_id == actor.id)
        )
        >= 50
    ):
        raise DomainError(_("You have 50 alerts already; remove some first."))
    alert_rule = PriceAlertRule(
        user_id=actor.id,
        commodity_id=commodity_id,
        market_id=market_id,
        kind=kind,
        threshold=None if kind == "anomaly" else threshold,
    )
    db.session.add(alert_rule)
    db.session.flush()
    return alert_rule


def remove_rule(*, actor: User, alert_rule: PriceAlertRule) -> None:
    require(actor, "edit", alert_rule)
    db.session.delete(alert_rule)
    db.session.flush()


def _week_before(observation: PriceObservation) -> Decimal | None:
    """The series' price about a week before this one (the latest day 7–13 days earlier)."""
    target = observation.observed_on - timedelta(days=7)
    row = db.session.execute(
        select(PriceObservation.observed_on, func.avg(PriceObservation.price))
        .where(
            series_filter(key_of(observation)),
            PriceObservation.observed_on <= target,
            PriceObservation.observed_on > target - timedelta(days=7),
        )
        .group_by(PriceObservation.observed_on)
        .order_by(PriceObservation.observed_on.desc())
        .limit(1)
    ).first()
    return Decimal(str(row[1])) if row else None


def _matches(
    alert_rule: PriceAlertRule, observation: PriceObservation, week_before: Callable[[], Any]
) -> dict[str, Any] | None:
    if alert_rule.market_id is not None and alert_rule.market_id != observation.market_id:
        return None
    price = observation.price
    if alert_rule.kind in ("above", "below"):
        # Thresholds are đồng per the commodity's unit: a USD or per-m³ price is no match.
        commodity = observation.commodity
        if (observation.currency, observation.unit_code) != (
            "VND",
            commodity.default_unit.priced_per,
        ):
            return None
        if alert_rule.kind == "above" and price > alert_rule.threshold:
            return {"price": price}
        if alert_rule.kind == "below" and price < alert_rule.threshold:
            return {"price": price}
    if alert_rule.kind == "weekly_change":
        before = week_before()
        if before:
            change = (price - before) / before * 100
            if abs(change) > alert_rule.threshold:
                return {"price": price, "before": before, "change": change}
    return None


def check_observation(observation: PriceObservation, cache: dict[int, list[PriceAlertRule]]) -> int:
    """Queue an e-mail for each active rule this newly published price triggers."""
    if observation.commodity_id not in cache:
        cache[observation.commodity_id] = list(
            db.session.scalars(
                select(PriceAlertRule).where(
                    PriceAlertRule.commodity_id == observation.commodity_id,
                    PriceAlertRule.active.is_(True),
                    PriceAlertRule.kind != "anomaly",
                )
            )
        )
    # Looked up once per price, and only if a weekly rule asks for it.
    week_before = functools.cache(lambda: _week_before(observation))
    queued = 0
    for alert_rule in cache[observation.commodity_id]:
        found = _matches(alert_rule, observation, week_before)
        if found is not None:
            queued += _send(alert_rule, observation.observed_on, observation=observation, **found)
    return queued


def notify_anomaly(*, series: PriceSeries, today: date) -> int:
    rules = db.session.scalars(
        select(PriceAlertRule).where(
            PriceAlertRule.commodity_id == series.commodity_id,
            PriceAlertRule.kind == "anomaly",
            PriceAlertRule.active.is_(True),
            (PriceAlertRule.market_id.is_(None)) | (PriceAlertRule.market_id == series.market_id),
        )
    )
    return sum(_send(r, today, series=series, price=series.last_price) for r in rules)


def _send(alert_rule: PriceAlertRule, day: date, **context: Any) -> int:
    user = db.session.get(User, alert_rule.user_id)
    if user is None or not user.active:
        return 0
    commodity = alert_rule.commodity
    link = absolute_url("prices.commodity", code=commodity.code)
    message = queue_email(
        user=user,
        kind="price_alert",
        template="price_alert",
        # One e-mail per rule and day at most.
        dedupe_key=f"price-alert:{alert_rule.id}:{day.isoformat()}",
        alert_rule=alert_rule,
        commodity=commodity,
        link=link,
        settings_link=absolute_url("prices.alerts"),
        day=day,
        **context,
        digest_title=lambda: commodity.name(user.locale),
        digest_summary=lambda: str(RULE_KINDS[alert_rule.kind]),
        digest_link=link,
    )
    if message is None:
        return 0
    alert_rule.last_triggered_on = day
    return 1
