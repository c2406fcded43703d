"""What the home page shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from market.catalogue.models import HOME_PROVINCE_CODE, Commodity, Market, Ward
from market.extensions import db
from market.orgs.models import Organisation, OrganisationKind, OrganisationStatus


def home_summary() -> dict[str, Any]:
    verified = Organisation.status == OrganisationStatus.verified
    by_kind = dict.fromkeys(OrganisationKind, 0)
    by_kind.update(
        db.session.execute(
            select(Organisation.kind, func.count(Organisation.id))
            .where(verified)
            .group_by(Organisation.kind)
        ).all()
    )
    recent = db.session.scalars(
        select(Organisation)
        .where(verified)
        .order_by(Organisation.status_changed_at.desc(), Organisation.id.desc())
        .limit(6)
    ).all()
    from market.prices.anomaly import Level
    from market.prices.models import PriceSeries

    # Quảng Trị's own prices first, the biggest 30-day movers among them.
    home_series = db.session.scalars(
        select(PriceSeries)
        .join(PriceSeries.market)
        .where(Market.province_code == HOME_PROVINCE_CODE)
        .order_by(PriceSeries.last_on.desc())
        .limit(60)
    ).all()
    movers = sorted(home_series, key=lambda s: -abs(s.change(s.price_30d) or 0))[:6]
    warnings = db.session.scalars(
        select(PriceSeries)
        .where(PriceSeries.anomaly_level.in_((Level.ALERT, Level.FALL)))
        .order_by(PriceSeries.anomaly_value.desc())
        .limit(4)
    ).all()
    return {
        "price_movers": movers,
        "price_warnings": warnings,
        "organisations_by_kind": by_kind,
        "recent_organisations": recent,
        "commune_count": db.session.scalar(
            select(func.count(Ward.code)).where(Ward.province_code == HOME_PROVINCE_CODE)
        ),
        "commodity_count": db.session.scalar(select(func.count(Commodity.id))),
    }
