"""Import every domain's models so that SQLAlchemy and Alembic see the whole schema."""

from market.accounts.models import User
from market.alerts.models import DigestEntry, EmailPreference, OutboxMessage
from market.audit.models import AuditEvent
from market.catalogue.models import Commodity, CommodityAlias, Province, Unit, Ward
from market.orgs.models import Certification, Membership, Organisation
from market.scheduler.models import JobRun, SchedulerLock

__all__ = [
    "AuditEvent",
    "Certification",
    "Commodity",
    "CommodityAlias",
    "DigestEntry",
    "EmailPreference",
    "JobRun",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "Province",
    "SchedulerLock",
    "Unit",
    "User",
    "Ward",
]
