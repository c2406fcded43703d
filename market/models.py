"""Import every domain's models so that SQLAlchemy and Alembic see the whole schema."""

from market.accounts.models import User
from market.alerts.models import DigestEntry, EmailPreference, OutboxMessage
from market.audit.models import AuditEvent
from market.bulletins.models import Bulletin, BulletinItem
from market.catalogue.models import (
    Commodity,
    CommodityAlias,
    Market,
    MarketAlias,
    Province,
    Unit,
    Ward,
)
from market.orgs.models import Certification, Membership, Organisation
from market.prices.models import (
    CollectionRun,
    HeldPrice,
    PriceAlertRule,
    PriceObservation,
    PriceRevision,
    PriceSeries,
    PriceSource,
    UnmappedName,
)
from market.scheduler.models import JobRun, SchedulerLock

__all__ = [
    "AuditEvent",
    "Bulletin",
    "BulletinItem",
    "Certification",
    "CollectionRun",
    "Commodity",
    "CommodityAlias",
    "DigestEntry",
    "EmailPreference",
    "HeldPrice",
    "JobRun",
    "Market",
    "MarketAlias",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "PriceAlertRule",
    "PriceObservation",
    "PriceRevision",
    "PriceSeries",
    "PriceSource",
    "Province",
    "SchedulerLock",
    "Unit",
    "UnmappedName",
    "User",
    "Ward",
]
